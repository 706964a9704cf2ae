package dev.shoal.engine.sync;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.shoal.engine.Limits;
import dev.shoal.engine.jvm.NotesApp;
import dev.shoal.protocol.Json;
import dev.shoal.testkit.JdbcSql;
import dev.shoal.testkit.TestShard;
import java.util.List;
import org.junit.jupiter.api.Test;

/**
 * What one identity can open on a shard, and what the shard holds: sockets per identity, distinct
 * views per identity and per shard, each refused with its own error while everyone else is served;
 * and a catch-up too long to be worth it answers a reset.
 */
class OpenLimitsTest {
    private static TestShard shard(Limits limits) {
        return new TestShard(NotesApp.app(), JdbcSql.memory(), limits);
    }

    private static String sub(String id, String owner) {
        return "{\"type\":\"subscribe\",\"id\":\"" + id + "\",\"shape\":\"notesByOwner\",\"args\":{\"owner\":\"" + owner + "\"}}";
    }

    /** The error answering subscription {@code id} on {@code conn}, or null. */
    private static String errorFor(TestShard t, String conn, String id) {
        for (Json f : t.peers.to(conn, "error")) {
            if (f.get("id") != null && f.get("id").asString().equals(id)) {
                return f.get("code").asString();
            }
        }
        return null;
    }

    @Test
    void anIdentityHoldsAtMostItsSocketsOnAShard() {
        TestShard t = shard(Limits.defaults().withOpenLimits(2, 1_000, 20_000));
        t.open("a1", "mallory", "m1");
        t.open("a2", "mallory", "m2");
        t.open("a3", "mallory", "m3");
        assertEquals("TOO_MANY_SOCKETS", t.peers.to("a3", "error").get(0).get("code").asString());
        assertEquals(List.of(4008), t.peers.closed.stream().filter(c -> c.conn().equals("a3")).map(c -> c.code()).toList());
        assertTrue(t.peers.to("a3", "connected").isEmpty());

        t.open("b1", "bob", "b1");
        assertEquals(1, t.peers.to("b1", "connected").size(), "another identity is served");
        t.shard.closed("a1");
        t.open("a4", "mallory", "m4");
        assertEquals(1, t.peers.to("a4", "connected").size(), "a socket closed makes room");
    }

    @Test
    void anIdentityHoldsAtMostItsDistinctViews() {
        TestShard t = shard(Limits.defaults().withOpenLimits(100, 2, 20_000));
        t.open("a1", "mallory", "m1");
        t.open("a2", "mallory", "m2");
        t.send("a1", sub("s1", "x"));
        t.send("a1", sub("s2", "y"));
        t.send("a1", sub("s3", "z"));
        assertEquals("TOO_MANY_SUBSCRIPTIONS", errorFor(t, "a1", "s3"));
        t.send("a2", sub("s1", "x"));
        assertEquals(null, errorFor(t, "a2", "s1"), "a view the identity holds already costs nothing more");
        t.open("b1", "bob", "b1");
        t.send("b1", sub("s1", "z"));
        assertEquals(null, errorFor(t, "b1", "s1"), "another identity is served");

        t.send("a1", "{\"type\":\"unsubscribe\",\"id\":\"s2\"}");
        t.send("a1", sub("s4", "z"));
        assertEquals(null, errorFor(t, "a1", "s4"), "an unsubscribed view makes room");
    }

    @Test
    void theShardHoldsAtMostItsDistinctViews() {
        TestShard t = shard(Limits.defaults().withOpenLimits(100, 1_000, 3));
        t.open("a1", "alice", "a1");
        t.open("b1", "bob", "b1");
        t.send("a1", sub("s1", "x"));
        t.send("a1", sub("s2", "y"));
        t.send("b1", sub("s1", "z"));
        t.send("b1", sub("s2", "w"));
        assertEquals("TOO_MANY_SUBSCRIPTIONS", errorFor(t, "b1", "s2"));
        t.send("b1", sub("s3", "x"));
        assertEquals(null, errorFor(t, "b1", "s3"), "a view the shard holds is shared, not counted again");
    }

    @Test
    void aCatchUpLongerThanItsBoundIsAReset() {
        TestShard t = shard(Limits.defaults().withCatchUpRowsMax(3));
        t.open("w", "writer", "wc");
        t.open("r", "reader", "rc");
        t.send("r", sub("s", "writer"));
        Json end = t.peers.to("r", "pokeEnd").get(0);
        String since = ",\"since\":{\"seq\":" + (long) end.get("seq").asNumber() + ",\"epoch\":\"" + end.get("epoch").asString() + "\"}}";
        t.shard.closed("r");
        for (int i = 1; i <= 2; i++) {
            t.send("w", "{\"type\":\"push\",\"mutations\":[{\"id\":" + i + ",\"name\":\"put\",\"args\":{\"id\":\"n" + i + "\",\"title\":\"t\"}}]}");
        }
        t.peers.clear();
        t.open("r", "reader", "rc");
        t.send("r", sub("s", "writer").replaceAll("}}$", "}") + since);
        assertFalse(t.peers.to("r", "pokePart").get(0).get("reset").asBoolean(), "2 rows behind: a catch-up");

        for (int i = 3; i <= 5; i++) {
            t.send("w", "{\"type\":\"push\",\"mutations\":[{\"id\":" + i + ",\"name\":\"put\",\"args\":{\"id\":\"n" + i + "\",\"title\":\"t\"}}]}");
        }
        t.shard.closed("r");
        t.peers.clear();
        t.open("r", "reader", "rc");
        t.send("r", sub("s", "writer").replaceAll("}}$", "}") + since);
        assertTrue(t.peers.to("r", "pokePart").get(0).get("reset").asBoolean(), "5 rows behind, over the bound of 3: a reset");
        assertEquals(5, t.peers.rowsTo("r").size(), "the reset holds every row");
    }
}
