package dev.shoal.engine.sync;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.shoal.engine.App;
import dev.shoal.testkit.JacksonJson;
import dev.shoal.engine.jvm.NotesApp;
import dev.shoal.testkit.Replica;
import dev.shoal.testkit.TestShard;
import dev.shoal.engine.mutate.Mutator;
import dev.shoal.engine.mutate.Row;
import dev.shoal.engine.schema.Table;
import dev.shoal.engine.schema.V;
import dev.shoal.engine.shape.Shape;
import dev.shoal.engine.where.Where;
import dev.shoal.protocol.Json;
import java.util.List;
import java.util.Set;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/** The fan-out after a commit: which views are diffed, what each socket receives, in which form. */
class FanoutTest {
    private TestShard t;
    private long nextId;

    @BeforeEach
    void setUp() {
        t = new TestShard(NotesApp.app());
        t.open("w", "writer", "wc");
    }

    private void subscribe(String conn, String user, String sub, String shape, String args) {
        t.open(conn, user, conn + "-client");
        t.send(conn, "{\"type\":\"subscribe\",\"id\":\"" + sub + "\",\"shape\":\"" + shape + "\",\"args\":" + args + "}");
    }

    private void byOwner(String conn, String owner) {
        subscribe(conn, "reader-" + conn, "s", "notesByOwner", "{\"owner\":\"" + owner + "\"}");
    }

    private void push(String name, String args) {
        t.send("w", "{\"type\":\"push\",\"mutations\":[{\"id\":" + (++nextId) + ",\"name\":\"" + name + "\",\"args\":" + args + "}]}");
    }

    private long diffQueries() {
        return (long) JacksonJson.parse(t.shard.statsJson()).get("diffQueries").asNumber();
    }

    @Test
    void aWriteDiffsOnlyTheViewsWhoseArgsMatchItsOldOrNewRow() {
        byOwner("a", "alice");
        byOwner("b", "bob");
        for (int i = 0; i < 50; i++) {
            byOwner("u" + i, "user" + i);
        }
        long before = diffQueries();
        push("put", "{\"id\":\"n1\",\"title\":\"one\",\"owner\":\"alice\"}");
        assertEquals(1, diffQueries() - before, "only alice's view is diffed, not the 51 others");
        assertEquals(Set.of("n1"), new Replica(t.peers, "a").rows("s").keySet());
        assertEquals(Set.of(), new Replica(t.peers, "b").rows("s").keySet());
        assertEquals(0, t.peers.to("u0", "pokeEnd").size() - 1, "a view of another owner is not poked (only its hydration)");

        before = diffQueries();
        push("patch", "{\"id\":\"n1\",\"fields\":{\"owner\":\"bob\"}}");
        assertEquals(2, diffQueries() - before, "the old value's view and the new value's view");
        assertEquals(Set.of(), new Replica(t.peers, "a").rows("s").keySet());
        assertEquals(Set.of("n1"), new Replica(t.peers, "b").rows("s").keySet());
    }

    private long stat(String name) {
        return (long) JacksonJson.parse(t.shard.statsJson()).get(name).asNumber();
    }

    @Test
    void aPushOfInsertsIsPokedWithoutReadingTheLogAndAnythingElseReadsIt() {
        byOwner("a", "alice");
        byOwner("b", "bob");
        long read = stat("pagesRead");
        long known = stat("pagesKnown");
        push("put", "{\"id\":\"n1\",\"title\":\"one\",\"owner\":\"alice\"}");
        assertEquals(1, stat("pagesKnown") - known, "the insert's page is known from the insert");
        assertEquals(0, stat("pagesRead") - read, "and the log is not read (in tests it is also read, to compare, uncounted)");
        assertEquals(Set.of("n1"), new Replica(t.peers, "a").rows("s").keySet());

        push("patch", "{\"id\":\"n1\",\"fields\":{\"owner\":\"bob\"}}");
        push("remove", "{\"id\":\"n1\"}");
        push("putThenFail", "{\"id\":\"n2\"}");
        assertEquals(1, stat("pagesKnown") - known, "an update, a delete and a rolled-back insert: each page is read");
        assertEquals(3, stat("pagesRead") - read);
        assertEquals(Set.of(), new Replica(t.peers, "a").rows("s").keySet());
        assertEquals(Set.of(), new Replica(t.peers, "b").rows("s").keySet(), "bob saw n1 come and go");
    }

    @Test
    void aRowLoggedOutsideAPushIsPokedByTheNextPushsRound() {
        byOwner("a", "alice");
        // Written behind the engine's back (as a D1 mirror apply writes): its log row is not one of
        // the push's noted inserts, so the push's round must read the log to find it.
        t.sql.exec("INSERT INTO notes (id, owner, title, done) VALUES ('outside', 'alice', 'o', 0)");
        long known = stat("pagesKnown");
        push("put", "{\"id\":\"n1\",\"title\":\"one\",\"owner\":\"alice\"}");
        assertEquals(0, stat("pagesKnown") - known, "two log rows after the last round, one insert noted: read");
        assertEquals(Set.of("outside", "n1"), new Replica(t.peers, "a").rows("s").keySet());
    }

    @Test
    void aViewWithoutATextEqualityIsDiffedOnEveryWriteOfItsTable() {
        subscribe("m", "alice", "mine", "myNotes", "{}");
        byOwner("b", "bob");
        long before = diffQueries();
        push("put", "{\"id\":\"n1\",\"title\":\"one\",\"owner\":\"carol\"}");
        assertEquals(1, diffQueries() - before, "myNotes (owner = me) has no literal to index by; bob's view is skipped");
        assertEquals(List.of(), new Replica(t.peers, "m").sync().idsSeen, "and it shows nothing of carol's note");
    }

    @Test
    void aSocketGetsOnePokeFrameWhoseRowsAreTheSameTextForEverySubscriber() {
        byOwner("a", "alice");
        byOwner("a2", "alice");
        t.peers.clear();
        push("put", "{\"id\":\"n1\",\"title\":\"one\",\"owner\":\"alice\"}");
        for (String conn : List.of("a", "a2")) {
            assertEquals(List.of("poke"), t.peers.wire.stream().filter(s -> s.conn().equals(conn)).map(s -> s.frame().get("type").asString()).toList());
        }
        Json a = t.peers.wireTo("a", "poke").get(0);
        Json a2 = t.peers.wireTo("a2", "poke").get(0);
        assertEquals(a.get("parts").text(), a2.get("parts").text());
        assertEquals(a.get("pokeId").asString(), a2.get("pokeId").asString(), "one id per round: unique per socket");
        assertEquals(t.shard.seq(), (long) a.get("seq").asNumber());
        assertEquals(List.of("poke"), t.peers.wire.stream().filter(s -> s.conn().equals("w")).map(s -> s.frame().get("type").asString())
                .filter(x -> !x.equals("pushResult")).toList(), "the writer's confirmation is one frame too");
        assertEquals(1, (long) t.peers.wireTo("w", "poke").get(0).get("lastMutationId").asNumber());
    }

    @Test
    void aPokeOverOnePartsLimitIsSentInThreeFrames() {
        t = new TestShard(NotesApp.app(), dev.shoal.testkit.JdbcSql.memory(), dev.shoal.engine.Limits.defaults().withPokePartBytesMax(2048, 1024));
        t.open("w", "writer", "wc");
        for (int i = 0; i < 40; i++) {
            push("put", "{\"id\":\"n" + i + "\",\"title\":\"a title long enough to need several parts " + i + "\",\"owner\":\"alice\"}");
        }
        byOwner("a", "alice");
        List<String> types = t.peers.wire.stream().filter(s -> s.conn().equals("a")).map(s -> s.frame().get("type").asString()).toList();
        assertEquals("pokeStart", types.get(1), "the hydration spans several parts: " + types);
        assertTrue(t.peers.wireTo("a", "pokePart").size() > 1);
        assertEquals(40, new Replica(t.peers, "a").rows("s").size());
    }

    /** Rooms: a post is visible to the members of its room (a relation joined on the watched column). */
    private static App rooms() {
        return App.builder()
                .table(Table.named("members").column("room", V.string()).column("user", V.string())
                        .readPolicy(Where.eq("user", Where.me())))
                .table(Table.named("posts").column("room", V.string()).column("text", V.string())
                        .readPolicy(Where.exists("members", "room", "room", Where.eq("user", Where.me()))))
                .shape(Shape.named("postsByRoom").on("posts")
                        .args(V.object().field("room", V.string()))
                        .where(args -> Where.eq("room", args.get("room").asString())))
                .mutator(Mutator.named("join")
                        .args(V.object().field("room", V.string()).field("user", V.string()))
                        .server((ctx, a) -> ctx.db().insert("members", Row.of("id", a.get("room").asString() + "." + a.get("user").asString(),
                                "room", a.get("room").asString(), "user", a.get("user").asString()))))
                .mutator(Mutator.named("post")
                        .args(V.object().field("id", V.string()).field("room", V.string()))
                        .server((ctx, a) -> ctx.db().insert("posts", Row.of("id", a.get("id").asString(), "room", a.get("room").asString(),
                                "text", "hi"))))
                .build();
    }

    @Test
    void aMembershipChangeDiffsOnlyTheViewsOfItsRoom() {
        t = new TestShard(rooms());
        t.open("w", "writer", "wc");
        push("join", "{\"room\":\"r1\",\"user\":\"alice\"}");
        push("post", "{\"id\":\"p1\",\"room\":\"r2\"}");
        subscribe("a", "alice", "s", "postsByRoom", "{\"room\":\"r1\"}");
        subscribe("c", "carol", "s", "postsByRoom", "{\"room\":\"r2\"}");
        for (int i = 0; i < 20; i++) {
            subscribe("u" + i, "user" + i, "s", "postsByRoom", "{\"room\":\"other" + i + "\"}");
        }
        assertEquals(Set.of(), new Replica(t.peers, "c").rows("s").keySet(), "carol is not a member of r2 yet");

        long before = diffQueries();
        push("join", "{\"room\":\"r2\",\"user\":\"carol\"}");
        assertEquals(1, diffQueries() - before, "only the view of r2 (watching members.room = r2)");
        assertEquals(Set.of("p1"), new Replica(t.peers, "c").rows("s").keySet(), "p1 entered carol's view through the relation");
        assertEquals(List.of(), new Replica(t.peers, "a").sync().idsSeen, "alice saw nothing of r2");

        before = diffQueries();
        push("post", "{\"id\":\"p2\",\"room\":\"r1\"}");
        assertEquals(1, diffQueries() - before);
        assertEquals(Set.of("p2"), new Replica(t.peers, "a").rows("s").keySet());
    }

    /**
     * One view, three identities: a write some of them may see reaches exactly those (a group
     * smaller than the view's identities), one all may see reaches all (the whole view as one
     * group), and an identity alone in a group gets its own rows.
     */
    @Test
    void eachIdentityOfAViewGetsExactlyWhatItMaySee() {
        t = new TestShard(rooms());
        t.open("w", "writer", "wc");
        push("join", "{\"room\":\"r1\",\"user\":\"alice\"}");
        push("join", "{\"room\":\"r1\",\"user\":\"bob\"}");
        for (String user : List.of("alice", "bob", "carol")) {
            subscribe(user, user, "s", "postsByRoom", "{\"room\":\"r1\"}");
        }
        push("post", "{\"id\":\"p1\",\"room\":\"r1\"}");
        assertEquals(Set.of("p1"), new Replica(t.peers, "alice").rows("s").keySet());
        assertEquals(Set.of("p1"), new Replica(t.peers, "bob").rows("s").keySet());
        assertEquals(List.of(), new Replica(t.peers, "carol").sync().idsSeen, "carol is not a member: not even the id");

        push("join", "{\"room\":\"r1\",\"user\":\"carol\"}");
        assertEquals(Set.of("p1"), new Replica(t.peers, "carol").rows("s").keySet(), "p1 entered carol's view alone");
        assertEquals(List.of("p1"), new Replica(t.peers, "alice").sync().idsSeen, "alice got nothing new");

        push("post", "{\"id\":\"p2\",\"room\":\"r1\"}");
        for (String user : List.of("alice", "bob", "carol")) {
            assertEquals(Set.of("p1", "p2"), new Replica(t.peers, user).rows("s").keySet(), user);
        }
    }
}
