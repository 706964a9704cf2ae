package dev.shoal.engine.shape;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.shoal.engine.Limits;
import dev.shoal.testkit.JdbcSql;
import dev.shoal.engine.jvm.NotesApp;
import dev.shoal.testkit.TestShard;
import dev.shoal.protocol.Json;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/** The resume matrix: a subscribe with {@code since} catches up when it can and resets otherwise. */
class CatchUpTest {
    private TestShard t;
    private long next;
    private long cursor;
    private String epoch;

    @BeforeEach
    void setUp() {
        // Retention: keep the newest 3 rows, whatever their age, so compaction is easy to reach.
        t = new TestShard(NotesApp.app(), JdbcSql.memory(), Limits.defaults().withRetention(3, 0, 2));
        t.open("w", "writer", "wc");
        push(put("keep", "alice"), put("gone", "alice"), put("other", "bob"));
        t.open("r", "reader", "rc");
        t.send("r", sub(null));
        Json end = t.peers.to("r", "pokeEnd").get(0);
        cursor = (long) end.get("seq").asNumber();
        epoch = end.get("epoch").asString();
        t.shard.closed("r");
        // While the reader is away: one row changes, one leaves, one enters, one invisible row changes.
        push(patch("keep", "title", "changed"), patch("gone", "owner", "bob"), put("new", "alice"), patch("other", "title", "x"));
        t.peers.clear();
        t.open("r", "reader", "rc");
    }

    private String put(String id, String owner) {
        return "{\"id\":" + (++next) + ",\"name\":\"put\",\"args\":{\"id\":\"" + id + "\",\"title\":\"t\",\"owner\":\"" + owner + "\"}}";
    }

    private String patch(String id, String field, String value) {
        return "{\"id\":" + (++next) + ",\"name\":\"patch\",\"args\":{\"id\":\"" + id + "\",\"fields\":{\"" + field + "\":\"" + value + "\"}}}";
    }

    private void push(String... mutations) {
        t.send("w", "{\"type\":\"push\",\"mutations\":[" + String.join(",", mutations) + "]}");
    }

    private String sub(String since) {
        return "{\"type\":\"subscribe\",\"id\":\"s\",\"shape\":\"notesByOwner\",\"args\":{\"owner\":\"alice\"}"
                + (since == null ? "" : ",\"since\":" + since) + "}";
    }

    private List<String> ops() {
        List<String> out = new ArrayList<>();
        for (Json op : t.peers.rowsTo("r")) {
            out.add(op.get("op").asString() + " " + op.get("id").asString());
        }
        return out;
    }

    private boolean reset() {
        return t.peers.to("r", "pokePart").get(0).get("reset").asBoolean();
    }

    @Test
    void aUsableCursorGetsTheDifferenceOnly() {
        t.send("r", sub("{\"seq\":" + cursor + ",\"epoch\":\"" + epoch + "\"}"));
        assertFalse(reset());
        assertEquals(List.of("del gone", "put keep", "put new"), ops(), "nothing of the invisible row 'other'");
        assertEquals(t.shard.seq(), (long) t.peers.to("r", "pokeEnd").get(0).get("seq").asNumber());
    }

    @Test
    void anUpToDateCursorGetsAnEmptyCatchUpPart() {
        t.send("r", sub("{\"seq\":" + t.shard.seq() + ",\"epoch\":\"" + epoch + "\"}"));
        assertFalse(reset());
        assertEquals(List.of(), ops());
        assertEquals(1, t.peers.to("r", "pokePart").size(), "sent even when empty");
    }

    @Test
    void noSinceIsAReset() {
        t.send("r", sub(null));
        assertTrue(reset());
        assertEquals(List.of("put keep", "put new"), ops());
    }

    @Test
    void anotherEpochIsAReset() {
        t.send("r", sub("{\"seq\":" + cursor + ",\"epoch\":\"not-" + epoch + "\"}"));
        assertTrue(reset());
        assertEquals(List.of("put keep", "put new"), ops());
    }

    @Test
    void aCursorAheadOfTheShardIsAReset() {
        t.send("r", sub("{\"seq\":" + (t.shard.seq() + 5) + ",\"epoch\":\"" + epoch + "\"}"));
        assertTrue(reset());
        assertEquals(List.of("put keep", "put new"), ops());
    }

    @Test
    void aCompactedRangeIsAResetAndSeqNeverMovesBack() {
        long seq = t.shard.seq();
        assertTrue(t.shard.compactionDue(System.currentTimeMillis()));
        while (t.shard.compact(System.currentTimeMillis())) {
            // bounded batches of 2 rows, as an alarm would run them
        }
        assertEquals(seq, t.shard.seq());
        assertEquals(seq - 3, t.shard.floor());
        assertEquals(3, t.count("SELECT count(*) FROM __cdc_log"));
        assertFalse(t.shard.compactionDue(System.currentTimeMillis()));
        t.send("r", sub("{\"seq\":" + cursor + ",\"epoch\":\"" + epoch + "\"}"));
        assertTrue(reset(), "the cursor is below the floor");
        assertEquals(List.of("put keep", "put new"), ops());
        t.restart();
        assertEquals(seq, t.shard.seq(), "seq survives compaction and restart");
    }
}
