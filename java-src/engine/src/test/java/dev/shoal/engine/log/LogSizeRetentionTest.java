package dev.shoal.engine.log;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.shoal.engine.Limits;
import dev.shoal.engine.jvm.NotesApp;
import dev.shoal.protocol.Json;
import dev.shoal.testkit.JdbcSql;
import dev.shoal.testkit.TestShard;
import org.junit.jupiter.api.Test;

/**
 * Retention by size: whatever their age and count, the log keeps only the newest rows whose
 * documents and pre-images fit in {@code logBytesMax}; a cursor below the new floor resets.
 */
class LogSizeRetentionTest {
    private static final long CAP = 4_000;

    @Test
    void theLogNeverKeepsMoreThanItsSizeCap() {
        // Count and age alone would keep everything (a million rows, a year); the size cap does not.
        Limits limits = Limits.defaults().withRetention(1_000_000, 365 * 24 * 3600_000.0, 5).withLogBytesMax(CAP);
        TestShard t = new TestShard(NotesApp.app(), JdbcSql.memory(), limits);
        t.open("w", "writer", "wc");
        t.open("r", "reader", "rc");
        t.send("r", "{\"type\":\"subscribe\",\"id\":\"s\",\"shape\":\"notesByOwner\",\"args\":{\"owner\":\"writer\"}}");
        Json first = t.peers.to("r", "pokeEnd").get(0);
        t.shard.closed("r");
        String title = "x".repeat(150);
        boolean due = false;
        for (int i = 1; i <= 60; i++) {
            t.send("w", "{\"type\":\"push\",\"mutations\":[{\"id\":" + i + ",\"name\":\"put\",\"args\":{\"id\":\"n" + i + "\",\"title\":\"" + title + "\"}}]}");
            due |= t.shard.compactionDue(System.currentTimeMillis());
        }
        assertTrue(t.count("SELECT sum(length(coalesce(doc,'')) + length(coalesce(pre,''))) FROM __cdc_log") > CAP, "the log grew past the cap");
        assertTrue(due, "the size is measured as rows are written, and compaction becomes due");

        long seq = t.shard.seq();
        while (t.shard.compact(System.currentTimeMillis())) {
            // bounded batches, as the alarm runs them
        }
        long kept = t.count("SELECT sum(length(coalesce(doc,'')) + length(coalesce(pre,''))) FROM __cdc_log");
        assertTrue(kept <= CAP, "kept " + kept + " bytes");
        long newest = t.count("SELECT length(doc) FROM __cdc_log ORDER BY seq DESC LIMIT 1");
        assertTrue(kept > CAP - newest, "only what had to go went: " + kept + " bytes kept");
        assertEquals(seq, t.shard.seq(), "seq never moves");
        assertEquals(t.shard.floor(), t.count("SELECT min(seq) FROM __cdc_log") - 1, "every row above the floor is present");
        assertFalse(t.shard.compactionDue(System.currentTimeMillis()));

        t.open("r", "reader", "rc");
        t.peers.clear();
        t.send("r", "{\"type\":\"subscribe\",\"id\":\"s\",\"shape\":\"notesByOwner\",\"args\":{\"owner\":\"writer\"},\"since\":{\"seq\":"
                + (long) first.get("seq").asNumber() + ",\"epoch\":\"" + first.get("epoch").asString() + "\"}}");
        assertTrue(t.peers.to("r", "pokePart").get(0).get("reset").asBoolean(), "a cursor below the floor resets");
    }

    @Test
    void theSizeIsKeptAcrossCompactionsWithoutSummingTheWholeLog() {
        // The size is counted as rows come and as batches go: after a compaction, new rows make
        // compaction due again only when they pass the cap again, and each run keeps the cap.
        Limits limits = Limits.defaults().withRetention(1_000_000, 365 * 24 * 3600_000.0, 5).withLogBytesMax(CAP);
        TestShard t = new TestShard(NotesApp.app(), JdbcSql.memory(), limits);
        t.open("w", "writer", "wc");
        String title = "x".repeat(150);
        int id = 0;
        for (int round = 0; round < 3; round++) {
            boolean due = false;
            int written = 0;
            while (!due) {
                id++;
                written++;
                t.send("w", "{\"type\":\"push\",\"mutations\":[{\"id\":" + id + ",\"name\":\"put\",\"args\":{\"id\":\"n" + id + "\",\"title\":\"" + title + "\"}}]}");
                due = t.shard.compactionDue(System.currentTimeMillis());
                assertTrue(written < 100, "compaction became due within 100 rows of about 200 bytes (round " + round + ")");
            }
            long size = t.count("SELECT sum(length(coalesce(doc,'')) + length(coalesce(pre,''))) FROM __cdc_log");
            assertTrue(size > CAP, "due only once the log is over the cap: " + size + " bytes (round " + round + ")");
            while (t.shard.compact(System.currentTimeMillis())) {
                // bounded batches
            }
            assertTrue(t.count("SELECT sum(length(coalesce(doc,'')) + length(coalesce(pre,''))) FROM __cdc_log") <= CAP);
            assertFalse(t.shard.compactionDue(System.currentTimeMillis()), "not due right after a compaction (round " + round + ")");
        }
    }
}
