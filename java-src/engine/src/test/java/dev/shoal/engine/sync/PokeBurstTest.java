package dev.shoal.engine.sync;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.shoal.engine.jvm.NotesApp;
import dev.shoal.protocol.Json;
import dev.shoal.testkit.JdbcSql;
import dev.shoal.testkit.TestShard;
import dev.shoal.engine.Limits;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * Pushes that arrive together (a burst: the host's event loop has not turned between them) share
 * poke rounds: the first is poked at once, the others every {@link Limits#burstPushesMax} pushes
 * and when the burst ends. Nothing is lost or reordered, and nothing is held back across a frame
 * that reads the shard as poked, nor across the end of the engine instance.
 */
class PokeBurstTest {
    private final JdbcSql sql = JdbcSql.memory();
    private TestShard t;
    private long nextId;

    @BeforeEach
    void setUp() {
        t = new TestShard(NotesApp.app(), sql, Limits.defaults());
        t.open("w", "writer", "wc");
        t.open("r", "reader", "rc");
        t.send("r", "{\"type\":\"subscribe\",\"id\":\"s\",\"shape\":\"notesByOwner\",\"args\":{\"owner\":\"alice\"}}");
        t.peers.clear();
    }

    private String[] put(String note) {
        return new String[] {"w", "{\"type\":\"push\",\"mutations\":[{\"id\":" + (++nextId) + ",\"name\":\"put\",\"args\":{\"id\":\""
                + note + "\",\"title\":\"" + note + "\",\"owner\":\"alice\"}}]}"};
    }

    private String[][] puts(int n) {
        String[][] out = new String[n][];
        for (int i = 0; i < n; i++) {
            out[i] = put("n" + (nextId + 1));
        }
        return out;
    }

    private List<String> rowIds(String conn) {
        List<String> out = new ArrayList<>();
        for (Json op : t.peers.rowsTo(conn)) {
            out.add(op.get("id").asString());
        }
        return out;
    }

    private List<Long> pokeSeqs(String conn) {
        List<Long> out = new ArrayList<>();
        for (Json end : t.peers.to(conn, "pokeEnd")) {
            out.add((long) end.get("seq").asNumber());
        }
        return out;
    }

    @Test
    void aBurstSharesPokeRoundsAndLosesNothing() {
        int n = 2 * Limits.defaults().burstPushesMax() + 3;
        t.sendBurst(puts(n));
        List<String> expected = new ArrayList<>();
        for (int i = 1; i <= n; i++) {
            expected.add("n" + i);
        }
        assertEquals(expected, rowIds("r"), "every row, once, in commit order");
        List<Long> seqs = pokeSeqs("r");
        // The first push alone, then one round per burstPushesMax pushes, then the burst's end.
        assertEquals(1 + (n - 1) / Limits.defaults().burstPushesMax() + ((n - 1) % Limits.defaults().burstPushesMax() == 0 ? 0 : 1), seqs.size(),
                "rounds shared by the burst's pushes: " + seqs);
        for (int i = 1; i < seqs.size(); i++) {
            assertTrue(seqs.get(i) > seqs.get(i - 1), "poke seqs only grow: " + seqs);
        }
        assertEquals(t.shard.seq(), seqs.get(seqs.size() - 1), "the last round reaches the shard's seq");
        List<Json> confirms = t.peers.to("w", "pokeEnd");
        assertEquals(n, (long) confirms.get(confirms.size() - 1).get("lastMutationId").asNumber(), "every push is confirmed");
        assertEquals(n, t.peers.to("w", "pushResult").size(), "each push is answered at once, whatever its poke waits for");
        assertEquals(0, t.count("SELECT count(*) FROM __shoal_meta WHERE key = 'poked'"), "no mark once the burst is poked");
        // Each round run by a push knows its page from the push's inserts (the pushes held back
        // before it noted theirs); the round at the burst's end, run by no push, reads the log.
        Json stats = dev.shoal.testkit.JacksonJson.parse(t.shard.statsJson());
        assertEquals(seqs.size() - 1, (long) stats.get("pagesKnown").asNumber(), "rounds known without the log: " + t.shard.statsJson());
        assertEquals(1, (long) stats.get("pagesRead").asNumber(), "the burst's end reads it");
    }

    @Test
    void aBoundOfOnePokesEveryPushAtOnce() {
        t = new TestShard(NotesApp.app(), JdbcSql.memory(), Limits.defaults().withBurstPushesMax(1));
        t.open("w", "writer", "wc");
        t.open("r", "reader", "rc");
        t.send("r", "{\"type\":\"subscribe\",\"id\":\"s\",\"shape\":\"notesByOwner\",\"args\":{\"owner\":\"alice\"}}");
        t.peers.clear();
        t.sendBurst(puts(5));
        assertEquals(5, pokeSeqs("r").size(), "one round per push");
        assertEquals(List.of("n1", "n2", "n3", "n4", "n5"), rowIds("r"));
    }

    @Test
    void aLonePushIsPokedAtOnce() {
        String[] f = put("n1");
        t.send(f[0], f[1]);
        assertEquals(List.of("n1"), rowIds("r"));
        assertEquals(0, t.count("SELECT count(*) FROM __shoal_meta WHERE key = 'poked'"), "nothing held back, nothing written");
    }

    @Test
    void aQuietShardPokesEachPushAtOnceAndStartsABurstOnlyEveryBurstPushesMax() {
        int max = Limits.defaults().burstPushesMax();
        String[] lone = put("n1");
        t.send(lone[0], lone[1]); // its burst holds nothing back: the shard is quiet from here
        assertFalse(t.shard.inBurst(), "the lone push's burst ended");
        List<String> expected = new ArrayList<>(List.of("n1"));
        for (int i = 2; i <= 3 * max + 1; i++) {
            String[] f = put("n" + i);
            t.shard.message(f[0], f[1]);
            expected.add("n" + i);
            assertEquals(expected, rowIds("r"), "push " + i + " is poked at once");
            assertEquals((i - 1) % max == 0, t.shard.inBurst(), "push " + i + ": only every " + max + "th starts a burst (the host's timer)");
            if (t.shard.inBurst()) {
                t.shard.endBurst(); // the host's timer: nothing was held back, the shard stays quiet
            }
        }
        assertEquals(3 * max + 1, pokeSeqs("r").size(), "one round per push");
        assertEquals(0, t.count("SELECT count(*) FROM __shoal_meta WHERE key = 'poked'"), "nothing held back, nothing written");
    }

    @Test
    void aBurstReachingAQuietShardIsFoundWithinBurstPushesMaxPushesAndMakesItBusy() {
        int max = Limits.defaults().burstPushesMax();
        String[] lone = put("n1");
        t.send(lone[0], lone[1]); // quiet
        t.peers.clear();
        int n = 3 * max;
        t.sendBurst(puts(n));
        // max - 1 pushes poked one by one, the max-th starts the burst (poked at once), the rest
        // share a round every max pushes and at the burst's end.
        assertEquals(max + (n - max + max - 1) / max, pokeSeqs("r").size(), "rounds: " + pokeSeqs("r"));
        List<String> expected = new ArrayList<>();
        for (int i = 2; i <= n + 1; i++) {
            expected.add("n" + i);
        }
        assertEquals(expected, rowIds("r"), "every row, once, in commit order");

        // The burst held pushes back: the shard is busy, and the next burst shares rounds at once.
        t.peers.clear();
        int m = 2 * max + 3;
        t.sendBurst(puts(m));
        assertEquals(1 + (m - 1 + max - 1) / max, pokeSeqs("r").size(), "the first push alone, then shared rounds: " + pokeSeqs("r"));
        assertEquals(n + m + 1, (long) t.peers.to("w", "pokeEnd").get(t.peers.to("w", "pokeEnd").size() - 1).get("lastMutationId").asNumber(),
                "every push is confirmed");
    }

    @Test
    void aSubscribeInABurstStartsAfterTheCommitsHeldBack() {
        String[][] burst = puts(3);
        t.sendBurst(burst[0], burst[1], burst[2],
                new String[] {"r", "{\"type\":\"subscribe\",\"id\":\"t\",\"shape\":\"notesByOwner\",\"args\":{\"owner\":\"alice\"}}"});
        List<Json> parts = t.peers.to("r", "pokePart");
        Json last = parts.get(parts.size() - 1);
        assertEquals("t", last.get("sub").asString(), "the new subscription's answer comes after every held-back commit's poke");
        assertEquals(List.of("n1", "n2", "n3"), rowIds("r").subList(0, 3), "s got n2 and n3 before t was answered");
        assertEquals(3, last.get("rows").size(), "t starts from the shard with all three");
    }

    @Test
    void compactionPokesWhatABurstHeldBackBeforeTrimmingTheLog() {
        // A log that keeps 2 rows, trimmed 5 at a time: an alarm in the middle of a burst.
        TestShard small = new TestShard(NotesApp.app(), JdbcSql.memory(), Limits.defaults().withRetention(2, 0, 5));
        small.open("w", "writer", "wc");
        small.open("r", "reader", "rc");
        small.send("r", "{\"type\":\"subscribe\",\"id\":\"s\",\"shape\":\"notesByOwner\",\"args\":{\"owner\":\"alice\"}}");
        small.peers.clear();
        t = small;
        for (String[] f : puts(5)) {
            small.shard.message(f[0], f[1]); // the burst has not ended when the alarm runs
        }
        while (small.shard.compact(System.currentTimeMillis() + 1000)) {
            // bounded batches
        }
        assertTrue(small.shard.floor() > 0, "the alarm trimmed the log");
        assertEquals(List.of("n1", "n2", "n3", "n4", "n5"), rowIds("r"), "every commit was poked before its log rows went");
    }

    @Test
    void commitsHeldBackWhenTheInstanceStopsArePokedByTheNextOne() {
        String[][] burst = puts(4);
        for (String[] f : burst) {
            t.shard.message(f[0], f[1]); // the burst never ends: the instance stops first
        }
        assertEquals(List.of("n1"), rowIds("r"), "only the first push was poked");
        assertEquals(1, t.count("SELECT count(*) FROM __shoal_meta WHERE key = 'poked'"), "the mark of what was poked");

        t.restart(); // a new instance over the same database; the sockets outlived the old one
        t.send("w", "{\"type\":\"unsubscribe\",\"id\":\"nothing\"}");
        assertEquals(List.of("n1", "n2", "n3", "n4"), rowIds("r"), "the next instance pokes from the mark on its first event");
        assertEquals(0, t.count("SELECT count(*) FROM __shoal_meta WHERE key = 'poked'"));
    }
}
