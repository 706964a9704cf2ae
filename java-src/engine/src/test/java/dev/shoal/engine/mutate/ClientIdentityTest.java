package dev.shoal.engine.mutate;

import static dev.shoal.engine.mutate.Pusher.m;
import static dev.shoal.engine.mutate.Pusher.put;
import static org.junit.jupiter.api.Assertions.assertEquals;

import dev.shoal.engine.jvm.NotesApp;
import dev.shoal.testkit.TestShard;
import java.util.List;
import org.junit.jupiter.api.Test;

/**
 * A client id names one outbox of one identity: another identity using the same client id has its
 * own counter, so it can neither confirm (mark applied) nor block (consume, or gap) the first's
 * mutations, and what a mutator writes carries the socket's identity, never one from args.
 */
class ClientIdentityTest {
    @Test
    void theSameClientIdUnderAnotherIdentityHasItsOwnCounter() {
        TestShard t = new TestShard(NotesApp.app());
        Pusher alice = new Pusher(t, "a", "alice", "shared");
        assertEquals(List.of("1:ok", "2:ok"), alice.push(put(1, "a1"), put(2, "a2")));

        Pusher mallory = new Pusher(t, "m", "mallory", "shared");
        assertEquals(0, (long) t.peers.to("m", "connected").get(0).get("lastMutationId").asNumber());
        // Mallory pushes alice's next ids first: they run as mallory's own, and confirm nothing of alice's.
        assertEquals(List.of("1:ok", "2:ok", "3:ok"), mallory.push(put(1, "m1"), put(2, "m2"), put(3, "m3")));
        assertEquals(List.of("5:OUT_OF_ORDER"), mallory.push(put(5, "m5")));
        assertEquals(4, (long) mallory.entries().get(0).get("expected").asNumber());
        assertEquals(1, t.peers.to("a", "pokeEnd").size(), "alice's socket got no poke from mallory's pushes, only her own");

        // Alice's id 3 is not a duplicate of mallory's 3: it runs.
        assertEquals(List.of("3:ok"), alice.push(put(3, "a3")));
        assertEquals(3, alice.confirmed());
        assertEquals(3, Pusher.stored(t, "alice", "shared"));
        assertEquals(3, Pusher.stored(t, "mallory", "shared"));
        assertEquals("alice,alice,alice", t.sql.queryString("SELECT group_concat(owner) FROM (SELECT owner FROM notes WHERE id LIKE 'a%' ORDER BY id)"));
        assertEquals("mallory,mallory,mallory", t.sql.queryString("SELECT group_concat(owner) FROM (SELECT owner FROM notes WHERE id LIKE 'm%' ORDER BY id)"));

        t.restart();
        new Pusher(t, "a2", "alice", "shared");
        new Pusher(t, "m2", "mallory", "shared");
        assertEquals(3, (long) t.peers.to("a2", "connected").get(0).get("lastMutationId").asNumber());
        assertEquals(3, (long) t.peers.to("m2", "connected").get(0).get("lastMutationId").asNumber());
    }

    @Test
    void anIdentityIsNeverTakenFromArgs() {
        TestShard t = new TestShard(NotesApp.app());
        Pusher p = new Pusher(t, "c", "alice", "cl");
        // "put" stamps the owner from the identity unless args name one; its args do not declare an author.
        assertEquals(List.of("1:BAD_ARGS"), p.push(m(1, "put", "{\"id\":\"n1\",\"title\":\"t\",\"userId\":\"bob\"}")));
        assertEquals(List.of("2:ok"), p.push(m(2, "put", "{\"id\":\"n1\",\"title\":\"t\"}")));
        assertEquals("alice", t.sql.queryString("SELECT owner FROM notes WHERE id = 'n1'"));
    }

    /**
     * Regression (failed before 19851d0): the shard cached last mutation ids under
     * {@code userId + "\0" + client} and, on a cache miss, split that key at the first NUL to query
     * __shoal_clients. A token's {@code sub} may contain U+0000 (JSON allows it), so after an
     * eviction the shard read the counter of the wrong (identity, client), found 0, and ran
     * mutation 1 again. The Worker now also refuses a sub with control characters.
     */
    @Test
    void dedupHoldsAcrossARestartForAnIdentityContainingNul() {
        TestShard t = new TestShard(NotesApp.app());
        Pusher p = new Pusher(t, "c", "bob\u0000x", "cl");
        assertEquals(List.of("1:ok"), p.push(put(1, "n1")));
        t.restart();
        Pusher again = new Pusher(t, "c2", "bob\u0000x", "cl");
        assertEquals(1, (long) t.peers.to("c2", "connected").get(0).get("lastMutationId").asNumber(),
                "the counter of an identity containing U+0000 survives a restart");
        assertEquals(List.of("1:duplicate"), again.push(put(1, "n1")));
    }
}
