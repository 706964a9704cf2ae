package dev.shoal.testkit;

import static dev.shoal.engine.where.Where.eq;
import static dev.shoal.engine.where.Where.me;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.shoal.engine.App;
import dev.shoal.engine.Limits;
import dev.shoal.engine.mutate.Mutator;
import dev.shoal.engine.mutate.Row;
import dev.shoal.engine.schema.Table;
import dev.shoal.engine.schema.V;
import dev.shoal.engine.shape.Shape;
import dev.shoal.engine.where.Where;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The test kit's API, on a small todo app defined here, as an app author would test theirs. */
class TestKitTest {
    /** Todos: each belongs to its owner, stamped from the verified identity; only the owner reads or writes one. */
    static final Table TODOS = Table.named("todos")
            .column("ownerId", V.string())
            .column("title", V.string().min(1).max(200))
            .column("done", V.bool())
            .column("rank", V.optional(V.integer()))
            .column("createdAt", V.number())
            .readPolicy(eq("ownerId", me()))
            .insertPolicy(eq("ownerId", me()))
            .updatePolicy(eq("ownerId", me()))
            .deletePolicy(eq("ownerId", me()));

    static App app() {
        return App.builder()
                .requireReadPolicies()
                .table(TODOS)
                .shape(Shape.named("myTodos").on("todos").where(args -> Where.all())
                        .columns("id", "title", "done", "rank", "createdAt"))
                .mutator(Mutator.named("addTodo")
                        .args(V.object().field("id", V.id("todos")).field("title", V.string().min(1).max(200)))
                        .server((ctx, a) -> ctx.db().insert("todos", Row.of("id", a.get("id").asString(),
                                "ownerId", ctx.auth().userId(), "title", a.get("title").asString(), "done", false,
                                "createdAt", ctx.now()))))
                .mutator(Mutator.named("setDone")
                        .args(V.object().field("id", V.id("todos")).field("done", V.bool()))
                        .server((ctx, a) -> ctx.db().patch("todos", a.get("id").asString(),
                                Row.of("done", a.get("done").asBoolean()))))
                .mutator(Mutator.named("setRank")
                        .args(V.object().field("id", V.id("todos")).field("rank", V.integer()))
                        .server((ctx, a) -> ctx.db().patch("todos", a.get("id").asString(),
                                Row.of("rank", (long) a.get("rank").asNumber()))))
                .mutator(Mutator.named("deleteTodo")
                        .args(V.object().field("id", V.id("todos")))
                        .server((ctx, a) -> ctx.db().delete("todos", a.get("id").asString())))
                .build();
    }

    private AppShard shard;

    @BeforeEach
    void setUp() {
        shard = TestKit.shard(app());
    }

    private static String todo(String id, String title) {
        return "{\"id\":\"" + id + "\",\"title\":\"" + title + "\"}";
    }

    @Test
    void twoClientsOfOneUserBothSeeARowPushedByOne() {
        TestClient phone = shard.connect("alice");
        TestClient laptop = shard.connect("alice");
        assertEquals("alice-1", phone.clientId());
        assertEquals("alice-2", laptop.clientId());
        assertEquals("alice", laptop.userId());
        TestSubscription onPhone = phone.subscribe("myTodos", "{}");
        TestSubscription onLaptop = laptop.subscribe("myTodos", "{}");
        assertNull(onPhone.errorCode());
        assertEquals(Map.of(), onLaptop.rows(), "hydrated, empty");

        PushResult r = phone.push("addTodo", todo("t1", "milk"));
        assertTrue(r.ok(), r.toString());
        assertEquals(new PushResult(1, "ok", null, null), r);

        Map<String, Object> row = onLaptop.rows().get("t1");
        assertEquals("milk", row.get("title"));
        assertEquals(Boolean.FALSE, row.get("done"));
        assertTrue(row.containsKey("rank") && row.get("rank") == null, "a null column is there, as null: " + row);
        assertFalse(row.containsKey("ownerId"), "only the shape's columns are synced");
        assertTrue(row.get("createdAt") instanceof Double, "a REAL column reads as a Double: " + row);
        assertEquals(onLaptop.rows(), onPhone.rows());

        PushResult rank = laptop.push("setRank", "{\"id\":\"t1\",\"rank\":3}");
        assertEquals(new PushResult(1, "ok", null, null), rank, "each client id counts its own mutations");
        assertEquals(3L, onPhone.rows().get("t1").get("rank"), "an INTEGER column reads as a Long");
        assertTrue(laptop.push("deleteTodo", "{\"id\":\"t1\"}").ok());
        assertEquals(Map.of(), onPhone.rows());
        assertEquals(Set.of("t1"), onPhone.idsEverSeen());
    }

    @Test
    void anotherUserSeesNothingAndNeverAnId() {
        TestClient alice = shard.connect("alice");
        TestClient bob = shard.connect("bob");
        TestSubscription bobs = bob.subscribe("myTodos", "{}");
        List<PushResult> results = alice.push(List.of(new Mutation("addTodo", todo("secret1", "a")),
                new Mutation("addTodo", todo("secret2", "b")), new Mutation("setDone", "{\"id\":\"secret1\",\"done\":true}"),
                new Mutation("deleteTodo", "{\"id\":\"secret2\"}")));
        assertEquals(List.of(1L, 2L, 3L, 4L), results.stream().map(PushResult::id).toList());
        assertTrue(results.stream().allMatch(PushResult::ok), results.toString());
        assertEquals(1, shard.count("SELECT count(*) FROM todos"));

        assertEquals(Map.of(), bobs.rows());
        assertEquals(Set.of(), bobs.idsEverSeen());
        for (String frame : bob.framesReceived()) {
            assertFalse(frame.contains("secret"), "leaked to bob: " + frame);
        }
        // A fresh subscription of bob's hydrates to nothing as well.
        assertEquals(Map.of(), bob.subscribe("myTodos", "{}").rows());
    }

    @Test
    void aWriteToAnotherUsersRowIsRefusedWithItsCodeAndChangesNothing() {
        TestClient alice = shard.connect("alice");
        TestClient bob = shard.connect("bob");
        TestSubscription alices = alice.subscribe("myTodos", "{}");
        assertTrue(alice.push("addTodo", todo("t1", "milk")).ok());
        String before = shard.sql().queryString("SELECT json_group_array(json_array(id, ownerId, title, done, rank)) FROM todos");
        int aliceFrames = alice.framesReceived().size();

        PushResult patch = bob.push("setDone", "{\"id\":\"t1\",\"done\":true}");
        assertEquals("error", patch.status());
        // A row bob cannot read answers as a missing one would: no existence oracle (docs/mutators.md).
        assertEquals("CONFLICT", patch.code());
        assertFalse(patch.ok());
        assertTrue(patch.message().contains("no such row among those you can read"), patch.message());
        assertEquals("CONFLICT", bob.push("deleteTodo", "{\"id\":\"t1\"}").code());
        assertEquals("CONFLICT", bob.push("addTodo", todo("t1", "mine now")).code(), "the id is taken, whoever holds it");

        assertEquals(before, shard.sql().queryString("SELECT json_group_array(json_array(id, ownerId, title, done, rank)) FROM todos"));
        assertEquals(aliceFrames, alice.framesReceived().size(), "nothing changed, so alice is not poked");
        assertEquals(Boolean.FALSE, alices.rows().get("t1").get("done"));
        assertEquals(4, bob.push("addTodo", todo("t2", "bread")).id(), "refused mutations still consume their ids");
    }

    @Test
    void duplicateMutationIdsAreAppliedOnce() {
        TestClient first = shard.connect("alice", "phone");
        TestClient sameOutbox = shard.connect("alice", "phone");
        TestSubscription todos = first.subscribe("myTodos", "{}");
        assertEquals("ok", first.push("addTodo", todo("t1", "milk")).status());
        // The same outbox on a second socket, opened before that push: it numbers from 0 too.
        PushResult again = sameOutbox.push("addTodo", todo("t1", "milk"));
        assertEquals(new PushResult(1, "duplicate", null, null), again);
        assertEquals("duplicate", first.push(1, "deleteTodo", "{\"id\":\"t1\"}").status(), "not even a different mutation runs");
        assertEquals(1, shard.count("SELECT count(*) FROM todos"));
        assertEquals(1, shard.count("SELECT count(*) FROM __cdc_log"), "one write in the log");
        assertEquals(Set.of("t1"), todos.rows().keySet());

        assertEquals("OUT_OF_ORDER", first.push(5, "deleteTodo", "{\"id\":\"t1\"}").code());
        assertEquals(2, first.push("addTodo", todo("t2", "bread")).id(), "a gap consumes nothing");

        // A socket opened later with the same client id continues from the shard's record.
        TestClient reconnected = shard.connect("alice", "phone");
        assertEquals(3, reconnected.push("addTodo", todo("t3", "eggs")).id());
        assertEquals(3, shard.count("SELECT count(*) FROM todos"));
    }

    @Test
    void restartKeepsDataAndSubscriptionsWorkAfterIt() {
        TestClient alice = shard.connect("alice");
        TestSubscription live = alice.subscribe("myTodos", "{}");
        assertTrue(alice.push("addTodo", todo("t1", "milk")).ok());

        shard.restart();
        assertEquals(1, shard.count("SELECT count(*) FROM todos"));
        assertEquals(2, alice.push("addTodo", todo("t2", "bread")).id());
        assertEquals(Set.of("t1", "t2"), live.rows().keySet(), "the subscription survived the restart");
        assertNull(live.errorCode());

        TestClient other = shard.connect("alice");
        assertEquals(Set.of("t1", "t2"), other.subscribe("myTodos", "{}").rows().keySet());
        assertTrue(other.push("deleteTodo", "{\"id\":\"t1\"}").ok());
        assertEquals(Set.of("t2"), live.rows().keySet());

        shard.restart();
        TestClient sameOutbox = shard.connect("alice", alice.clientId());
        assertEquals(3, sameOutbox.push("setDone", "{\"id\":\"t2\",\"done\":true}").id(), "mutation ids survive a restart");
        assertEquals(Boolean.TRUE, live.rows().get("t2").get("done"));
    }

    @Test
    void badArgsComeBackForBadArgs() {
        TestClient alice = shard.connect("alice");
        PushResult missing = alice.push("addTodo", "{\"id\":\"t1\"}");
        assertEquals("BAD_ARGS", missing.code());
        assertTrue(missing.message().contains("title"), missing.message());
        assertEquals("BAD_ARGS", alice.push("setDone", "{\"id\":\"t1\",\"done\":\"yes\"}").code());
        assertEquals("BAD_ARGS", alice.push("addTodo", "[]").code());
        assertEquals("UNKNOWN_MUTATOR", alice.push("nope", "{}").code());
        assertEquals(0, shard.count("SELECT count(*) FROM todos"));

        TestSubscription bad = alice.subscribe("myTodos", "{\"unexpected\":1}");
        assertEquals("BAD_ARGS", bad.errorCode());
        assertEquals(Map.of(), bad.rows());
        assertEquals("UNKNOWN_SHAPE", alice.subscribe("noSuchShape", "{}").errorCode());
        assertNull(alice.subscribe("myTodos", "{}").errorCode(), "an error of another subscription is not this one's");
        assertThrows(IllegalArgumentException.class, () -> alice.push("addTodo", "{not json"));
    }

    @Test
    void aPushWithoutAResultFailsWithTheFramesReceived() {
        TestClient alice = shard.connect("alice");
        alice.close();
        AssertionError closed = assertThrows(AssertionError.class, () -> alice.push("addTodo", todo("t1", "milk")));
        assertTrue(closed.getMessage().contains("closed"), closed.getMessage());

        AppShard tiny = TestKit.shard(app(), new Limits(300, 100, 64 << 10, 100, 256 << 10, 64 << 10, 100_000, 1e9, 64L << 20, 1_000, 100, 1_000, 20_000, 20_000, 8));
        TestClient bob = tiny.connect("bob");
        AssertionError tooLarge = assertThrows(AssertionError.class, () -> bob.push("addTodo", todo("t1", "x".repeat(300))));
        assertTrue(tooLarge.getMessage().contains("FRAME_TOO_LARGE"), tooLarge.getMessage());
        assertEquals(4009, bob.closeCode());
        assertEquals(0, tiny.count("SELECT count(*) FROM __shoal_conns"), "the host forgot the socket the server closed");
    }

    @Test
    void aShardRefusedToTheUserComesBackClosed() {
        App privateShard = App.builder().table(TODOS).shardAccess((auth, name) -> auth.userId().equals("owner")).build();
        AppShard s = TestKit.shard(privateShard);
        TestClient stranger = s.connect("stranger");
        assertEquals(4003, stranger.closeCode());
        assertTrue(stranger.framesReceived().get(0).contains("\"FORBIDDEN\""), stranger.framesReceived().toString());
        assertNull(s.connect("owner").closeCode());
    }

    @Test
    void aFileDatabaseKeepsItsDataWhenReopened(@TempDir Path dir) {
        Path file = dir.resolve("shard.sqlite");
        try (AppShard first = TestKit.shard(app(), Limits.defaults(), file)) {
            assertTrue(first.connect("alice", "c").push("addTodo", todo("t1", "milk")).ok());
        }
        try (AppShard reopened = TestKit.shard(app(), Limits.defaults(), file)) {
            TestClient alice = reopened.connect("alice", "c");
            assertEquals("milk", alice.subscribe("myTodos", "{}").rows().get("t1").get("title"));
            assertEquals(2, alice.push("addTodo", todo("t2", "bread")).id());
        }
    }
}
