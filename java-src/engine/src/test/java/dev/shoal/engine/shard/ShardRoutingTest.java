package dev.shoal.engine.shard;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.shoal.engine.App;
import dev.shoal.engine.schema.V;
import dev.shoal.engine.shape.Shape;
import dev.shoal.engine.where.Where;
import dev.shoal.protocol.Json;
import dev.shoal.testkit.TestShard;
import java.util.List;
import org.junit.jupiter.api.Test;

/** A row lives on the shard its key names: WRONG_SHARD for subscribe, push and cross-shard writes. */
class ShardRoutingTest {
    private static Json last(TestShard t, String conn, String type) {
        List<Json> frames = t.peers.to(conn, type);
        return frames.get(frames.size() - 1);
    }

    private static Json lastResult(TestShard t, String conn) {
        Json results = last(t, conn, "pushResult").get("results");
        return results.at(results.size() - 1);
    }

    private static void push(TestShard t, String conn, long id, String name, String args) {
        t.send(conn, "{\"type\":\"push\",\"mutations\":[{\"id\":" + id + ",\"name\":\"" + name + "\",\"args\":" + args + "}]}");
    }

    @Test
    void aSubscribeOnTheWrongShardNamesTheRightOneAndRunsNothing() {
        TestShard t = new TestShard(RoomsApp.app(), "r1");
        t.open("a", "alice", "c1");
        t.send("a", "{\"type\":\"subscribe\",\"id\":\"s1\",\"shape\":\"posts\",\"args\":{\"roomId\":\"r2\"}}");
        Json e = last(t, "a", "error");
        assertEquals("WRONG_SHARD", e.get("code").asString());
        assertEquals("s1", e.get("id").asString());
        assertEquals("r2", e.get("shard").asString());
        assertTrue(t.peers.to("a", "pokeStart").isEmpty(), "nothing ran");
        assertEquals(0, t.count("SELECT count(*) FROM __shoal_subs"));

        t.send("a", "{\"type\":\"subscribe\",\"id\":\"s2\",\"shape\":\"posts\",\"args\":{\"roomId\":\"r1\"}}");
        assertEquals(1, t.peers.to("a", "pokeStart").size(), "the right shard serves it");
    }

    /**
     * Registration checks the joins of a shape's where built from sample args (here, byProfile
     * false); a where that joins across shards only for other args is refused when it is built,
     * at subscribe, and nothing of it runs.
     */
    @Test
    void aWhereThatJoinsAcrossShardsOnlyForSomeArgsIsRefusedAtSubscribe() {
        App app = RoomsApp.builder().shape(Shape.named("postsMaybeProfiled").on("posts")
                .args(V.object().field("roomId", V.id("rooms"))
                        .field("byProfile", V.bool()))
                .shardKey("roomId")
                .where(a -> a.get("byProfile").asBoolean()
                        ? Where.and(Where.eq("roomId", a.get("roomId").asString()),
                                Where.exists("profiles", "text", "id", Where.all()))
                        : Where.eq("roomId", a.get("roomId").asString())))
                .build();
        TestShard t = new TestShard(app, "r1");
        t.open("a", "alice", "c1");
        t.send("a", "{\"type\":\"subscribe\",\"id\":\"s1\",\"shape\":\"postsMaybeProfiled\",\"args\":{\"roomId\":\"r1\",\"byProfile\":false}}");
        assertTrue(t.peers.to("a", "error").isEmpty(), "the where registration saw is served");
        t.send("a", "{\"type\":\"subscribe\",\"id\":\"s2\",\"shape\":\"postsMaybeProfiled\",\"args\":{\"roomId\":\"r1\",\"byProfile\":true}}");
        Json e = last(t, "a", "error");
        assertEquals("INTERNAL", e.get("code").asString(), "an app bug, reported as such");
        assertTrue(e.get("message").asString().contains("global table profiles"), e.get("message").asString());
        assertEquals(1, t.count("SELECT count(*) FROM __shoal_subs"), "only s1 is held");
    }

    @Test
    void unshardedTablesLiveOnRootAndGlobalShapesOnGlobal() {
        TestShard t = new TestShard(RoomsApp.app(), "r1");
        t.open("a", "alice", "c1");
        t.send("a", "{\"type\":\"subscribe\",\"id\":\"s\",\"shape\":\"settings\",\"args\":{}}");
        assertEquals(ShardRouting.ROOT, last(t, "a", "error").get("shard").asString());
        t.send("a", "{\"type\":\"subscribe\",\"id\":\"p\",\"shape\":\"profiles\",\"args\":{}}");
        assertEquals(ShardRouting.GLOBAL, last(t, "a", "error").get("shard").asString());

        TestShard root = new TestShard(RoomsApp.app());
        root.open("a", "alice", "c1");
        root.send("a", "{\"type\":\"subscribe\",\"id\":\"s\",\"shape\":\"settings\",\"args\":{}}");
        assertTrue(root.peers.to("a", "error").isEmpty());
    }

    @Test
    void aMutationPushedToTheWrongShardIsRefusedWithTheRightShardAndConsumesItsId() {
        TestShard t = new TestShard(RoomsApp.app(), "r1");
        t.open("a", "alice", "c1");
        push(t, "a", 1, "createRoom", "{\"id\":\"r2\"}");
        Json r = lastResult(t, "a");
        assertEquals("error", r.get("status").asString());
        assertEquals("WRONG_SHARD", r.get("code").asString());
        assertEquals("r2", r.get("shard").asString());
        assertEquals(0, t.count("SELECT count(*) FROM rooms"));
        push(t, "a", 2, "createRoom", "{\"id\":\"r1\"}");
        assertEquals("ok", lastResult(t, "a").get("status").asString(), "the refused id was consumed; the next one runs");
        push(t, "a", 3, "setSetting", "{\"id\":\"x\",\"value\":\"v\"}");
        assertEquals(ShardRouting.ROOT, lastResult(t, "a").get("shard").asString(), "a mutator without a shard key runs on __root__");
    }

    @Test
    void aShardKeyThatCannotNameAShardIsBadArgs() {
        TestShard t = new TestShard(RoomsApp.app(), "r1");
        t.open("a", "alice", "c1");
        t.send("a", "{\"type\":\"subscribe\",\"id\":\"s\",\"shape\":\"posts\",\"args\":{\"roomId\":\"__global__\"}}");
        assertEquals("BAD_ARGS", last(t, "a", "error").get("code").asString());
    }

    @Test
    void aMutatorThatWritesARowOfAnotherShardFailsWithWrongShardAndNothingCommits() {
        TestShard t = new TestShard(RoomsApp.app(), "r1");
        t.open("a", "alice", "c1");
        push(t, "a", 1, "crossPost", "{\"roomId\":\"r1\",\"other\":\"r9\"}");
        Json r = lastResult(t, "a");
        assertEquals("WRONG_SHARD", r.get("code").asString());
        assertEquals("r9", r.get("shard").asString());
        assertEquals(0, t.count("SELECT count(*) FROM posts"), "the first write rolled back with the second");
        assertEquals(0, t.count("SELECT count(*) FROM __cdc_log"));

        push(t, "a", 2, "renameSomeone", "{\"userId\":\"bob\",\"displayName\":\"B\"}");
        assertEquals("WRONG_SHARD", lastResult(t, "a").get("code").asString(), "renameSomeone runs on __root__");
        TestShard root = new TestShard(RoomsApp.app());
        root.open("a", "alice", "c1");
        push(root, "a", 1, "setSetting", "{\"id\":\"x\",\"value\":\"v\"}");
        assertEquals("ok", lastResult(root, "a").get("status").asString());
    }

    @Test
    void aGlobalTableCannotBeReadInsideAShardsTransaction() {
        TestShard root = new TestShard(RoomsApp.app());
        root.open("a", "alice", "c1");
        push(root, "a", 1, "readProfile", "{}");
        Json r = lastResult(root, "a");
        assertEquals("MUTATOR_FAILED", r.get("code").asString());
        assertTrue(r.get("message").asString().contains("global table profiles"), r.get("message").asString());
        assertNull(r.get("shard"));
    }
}
