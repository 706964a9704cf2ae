package dev.shoal.engine.shape;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.shoal.engine.jvm.NotesApp;
import dev.shoal.testkit.Replica;
import dev.shoal.testkit.TestShard;
import dev.shoal.protocol.Json;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * The membership transitions of a row for a subscriber of notesByOwner(alice), each in one commit
 * range (one push): what reaches the socket, and that nothing of an invisible row does.
 */
class MembershipDiffTest {
    private TestShard t;
    private long next;

    @BeforeEach
    void setUp() {
        t = new TestShard(NotesApp.app());
        t.open("writer", "w", "wc");
        t.open("sub", "s", "sc");
        t.send("sub", "{\"type\":\"subscribe\",\"id\":\"a\",\"shape\":\"notesByOwner\",\"args\":{\"owner\":\"alice\"}}");
    }

    private String m(String name, String args) {
        return "{\"id\":" + (++next) + ",\"name\":\"" + name + "\",\"args\":" + args + "}";
    }

    private String put(String id, String owner) {
        return m("put", "{\"id\":\"" + id + "\",\"title\":\"t-" + id + "\",\"owner\":\"" + owner + "\"}");
    }

    private String owner(String id, String owner) {
        return m("patch", "{\"id\":\"" + id + "\",\"fields\":{\"owner\":\"" + owner + "\"}}");
    }

    private String title(String id, String title) {
        return m("patch", "{\"id\":\"" + id + "\",\"fields\":{\"title\":\"" + title + "\"}}");
    }

    private String remove(String id) {
        return m("remove", "{\"id\":\"" + id + "\"}");
    }

    /** Pushes the mutations in one frame and returns the row ops the subscriber got for it. */
    private List<String> range(String... mutations) {
        t.peers.clear();
        t.send("writer", "{\"type\":\"push\",\"mutations\":[" + String.join(",", mutations) + "]}");
        Json results = t.peers.to("writer", "pushResult").get(0).get("results");
        for (int i = 0; i < results.size(); i++) {
            assertEquals("ok", results.at(i).get("status").asString(), results.at(i).text());
        }
        List<String> ops = new ArrayList<>();
        for (Json op : t.peers.rowsTo("sub")) {
            ops.add(op.get("op").asString() + " " + op.get("id").asString()
                    + (op.get("doc") == null ? "" : " " + op.get("doc").get("title").asString()));
        }
        return ops;
    }

    @Test
    void enter() {
        assertEquals(List.of("put n1 t-n1"), range(put("n1", "alice")));
    }

    @Test
    void leave() {
        range(put("n1", "alice"));
        assertEquals(List.of("del n1"), range(owner("n1", "bob")));
    }

    @Test
    void aRowLeavesWhileAnotherEntersInOneRange() {
        range(put("n1", "alice"));
        assertEquals(List.of("del n1", "put n2 t-n2"), range(owner("n1", "bob"), put("n2", "alice")));
        assertEquals(List.of("del n2", "put n3 t-n3"), range(put("n3", "alice"), remove("n2")));
    }

    /**
     * Property: ranges of 1 to 5 random writes to 4 notes, each range one push: what the subscriber
     * holds, built only from diffs, is what a fresh subscription hydrates (the one-identity
     * statements: one row, a range of rows, several changes of one row).
     */
    @Test
    void rangesOfRandomWritesConvergeWithAFreshQuery() {
        java.util.Random random = new java.util.Random(7);
        java.util.Set<String> exists = new java.util.HashSet<>();
        for (int r = 0; r < 150; r++) {
            List<String> writes = new ArrayList<>();
            for (int k = 1 + random.nextInt(5); k > 0; k--) {
                String id = "n" + random.nextInt(4);
                String who = random.nextBoolean() ? "alice" : "bob";
                if (!exists.contains(id)) {
                    writes.add(put(id, who));
                    exists.add(id);
                } else {
                    switch (random.nextInt(3)) {
                        case 0 -> writes.add(owner(id, who));
                        case 1 -> writes.add(title(id, "r" + r));
                        default -> {
                            writes.add(remove(id));
                            exists.remove(id);
                        }
                    }
                }
            }
            // Not range(): it clears the recorded frames, and the replica is built from all of them.
            int answered = t.peers.to("writer", "pushResult").size();
            t.send("writer", "{\"type\":\"push\",\"mutations\":[" + String.join(",", writes) + "]}");
            Json results = t.peers.to("writer", "pushResult").get(answered).get("results");
            for (int i = 0; i < results.size(); i++) {
                assertEquals("ok", results.at(i).get("status").asString(), results.at(i).text());
            }
        }
        java.util.Map<String, String> live = new Replica(t.peers, "sub").sync().rows("a");
        t.open("fresh", "f", "fc");
        t.send("fresh", "{\"type\":\"subscribe\",\"id\":\"a\",\"shape\":\"notesByOwner\",\"args\":{\"owner\":\"alice\"}}");
        assertEquals(new Replica(t.peers, "fresh").sync().rows("a"), live);
    }

    @Test
    void changeWhileVisible() {
        range(put("n1", "alice"));
        assertEquals(List.of("put n1 new"), range(title("n1", "new")));
    }

    @Test
    void changeWhileInvisibleSendsNothing() {
        range(put("n1", "bob"));
        assertEquals(List.of(), range(title("n1", "new")));
        assertTrue(t.peers.to("sub").isEmpty(), "not even an empty poke: nothing it may see changed");
    }

    @Test
    void deleteVisible() {
        range(put("n1", "alice"));
        assertEquals(List.of("del n1"), range(remove("n1")));
    }

    @Test
    void deleteInvisibleSendsNothing() {
        range(put("n1", "bob"));
        assertEquals(List.of(), range(remove("n1")));
    }

    @Test
    void leaveAndReturnInOneRangeEndsInTheFinalState() {
        range(put("n1", "alice"));
        assertEquals(List.of("put n1 back"), range(owner("n1", "bob"), title("n1", "back"), owner("n1", "alice")));
    }

    @Test
    void enterAndLeaveInOneRangeLeavesNoTrace() {
        assertEquals(List.of(), range(put("n1", "alice"), owner("n1", "bob")));
        assertEquals(List.of(), range(put("n2", "bob"), owner("n2", "alice"), remove("n2")));
    }

    @Test
    void insertDeleteReinsertEndsVisible() {
        range(put("n1", "alice"));
        assertEquals(List.of("put n1 t-n1"), range(remove("n1"), put("n1", "alice")));
    }

    @Test
    void projectionSendsOnlyTheShapesColumnsAndAlwaysId() {
        range(put("n1", "alice"));
        t.peers.clear();
        t.send("sub", "{\"type\":\"subscribe\",\"id\":\"b\",\"shape\":\"notesByOwner\",\"args\":{\"owner\":\"alice\"}}");
        Json doc = t.peers.rowsTo("sub").get(0).get("doc");
        assertEquals(List.of("id", "title", "done", "owner"), List.of(doc.keys()));
        assertEquals(Json.Kind.BOOLEAN, doc.get("done").kind());
        assertFalse(new Replica(t.peers, "sub").rows("b").isEmpty());
    }
}
