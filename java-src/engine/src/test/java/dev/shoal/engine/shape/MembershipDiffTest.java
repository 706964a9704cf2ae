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
