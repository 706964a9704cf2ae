package dev.shoal.engine.mutate;

import static dev.shoal.engine.mutate.Pusher.m;
import static org.junit.jupiter.api.Assertions.assertEquals;

import dev.shoal.testkit.JacksonJson;
import dev.shoal.engine.jvm.NotesApp;
import dev.shoal.testkit.Replica;
import dev.shoal.testkit.TestShard;
import dev.shoal.protocol.Json;
import java.util.List;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * {@code ctx.db().patch} writes only the columns it names, so two clients that patch different
 * fields of one row both win, whichever push arrives first; on the same field the later arrival
 * wins. A subscriber's replica ends with the same doc as the table.
 */
class PatchConvergenceTest {
    private static final String TITLE = m(1, "patch", "{\"id\":\"n1\",\"fields\":{\"title\":\"renamed by alice\"}}");
    private static final String DONE = m(1, "patch", "{\"id\":\"n1\",\"fields\":{\"done\":true}}");

    /** Runs the two patches in the given order and returns the row (title, done) and what the subscriber holds. */
    private static String[] run(boolean aliceFirst) {
        TestShard t = new TestShard(NotesApp.app());
        Pusher owner = new Pusher(t, "o", "owner", "o1");
        assertEquals(List.of("1:ok"), owner.push(m(1, "put", "{\"id\":\"n1\",\"title\":\"original\",\"owner\":\"owner\"}")));
        t.send("o", "{\"type\":\"subscribe\",\"id\":\"s\",\"shape\":\"notesByOwner\",\"args\":{\"owner\":\"owner\"}}");
        Pusher alice = new Pusher(t, "a", "alice", "a1");
        Pusher bob = new Pusher(t, "b", "bob", "b1");
        // Both clients patched the row they last saw ("original", not done), offline, concurrently.
        Runnable a = () -> assertEquals(List.of("1:ok"), alice.push(TITLE));
        Runnable b = () -> assertEquals(List.of("1:ok"), bob.push(DONE));
        if (aliceFirst) {
            a.run();
            b.run();
        } else {
            b.run();
            a.run();
        }
        Json replica = JacksonJson.parse(new Replica(t.peers, "o").rows("s").get("n1"));
        return new String[] {
            t.sql.queryString("SELECT title || '|' || done || '|' || owner FROM notes WHERE id = 'n1'"),
            replica.get("title").asString() + "|" + (replica.get("done").asBoolean() ? 1 : 0) + "|" + replica.get("owner").asString(),
        };
    }

    @ParameterizedTest(name = "alice first: {0}")
    @ValueSource(booleans = {true, false})
    void patchesOfDifferentFieldsBothSurviveInEitherOrder(boolean aliceFirst) {
        String[] result = run(aliceFirst);
        assertEquals("renamed by alice|1|owner", result[0], "the table");
        assertEquals(result[0], result[1], "the subscriber's replica");
    }

    @ParameterizedTest(name = "alice first: {0}")
    @ValueSource(booleans = {true, false})
    void patchesOfTheSameFieldEndWithTheLaterArrival(boolean aliceFirst) {
        TestShard t = new TestShard(NotesApp.app());
        Pusher alice = new Pusher(t, "a", "alice", "a1");
        Pusher bob = new Pusher(t, "b", "bob", "b1");
        alice.push(m(1, "put", "{\"id\":\"n1\",\"title\":\"original\"}"));
        String byAlice = m(2, "patch", "{\"id\":\"n1\",\"fields\":{\"title\":\"alice\"}}");
        String byBob = m(1, "patch", "{\"id\":\"n1\",\"fields\":{\"title\":\"bob\"}}");
        if (aliceFirst) {
            alice.push(byAlice);
            bob.push(byBob);
        } else {
            bob.push(byBob);
            alice.push(byAlice);
        }
        assertEquals(aliceFirst ? "bob" : "alice", t.sql.queryString("SELECT title FROM notes WHERE id = 'n1'"));
        assertEquals(0, t.count("SELECT count(*) FROM notes WHERE done != 0"), "a field nobody patched keeps its value");
    }

    @ParameterizedTest(name = "patch first: {0}")
    @ValueSource(booleans = {true, false})
    void replaceWritesEveryColumnSoItIsNotAPatch(boolean patchFirst) {
        // The contrast that makes patch the right default: replace resets what it does not name.
        TestShard t = new TestShard(NotesApp.app());
        Pusher alice = new Pusher(t, "a", "alice", "a1");
        Pusher bob = new Pusher(t, "b", "bob", "b1");
        alice.push(m(1, "put", "{\"id\":\"n1\",\"title\":\"original\"}"));
        String tag = m(2, "patch", "{\"id\":\"n1\",\"fields\":{\"tags\":[\"red\"]}}");
        String replace = m(1, "replace", "{\"id\":\"n1\",\"title\":\"replaced\"}");
        if (patchFirst) {
            alice.push(tag);
            bob.push(replace);
        } else {
            bob.push(replace);
            alice.push(tag);
        }
        assertEquals(patchFirst ? null : "[\"red\"]", t.sql.queryString("SELECT tags FROM notes WHERE id = 'n1'"));
        assertEquals("replaced", t.sql.queryString("SELECT title FROM notes WHERE id = 'n1'"));
    }
}
