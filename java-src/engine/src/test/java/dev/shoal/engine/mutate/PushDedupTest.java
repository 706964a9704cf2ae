package dev.shoal.engine.mutate;

import static dev.shoal.engine.mutate.Pusher.m;
import static dev.shoal.engine.mutate.Pusher.put;
import static org.junit.jupiter.api.Assertions.assertEquals;

import dev.shoal.engine.Limits;
import dev.shoal.testkit.JdbcSql;
import dev.shoal.engine.jvm.NotesApp;
import dev.shoal.testkit.TestShard;
import dev.shoal.protocol.Json;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The dedup table (PROTOCOL.md, "Mutations: exactly once, in order"): duplicate, next, gap. */
class PushDedupTest {
    @Test
    void theNextIdRunsAnOldOneIsADuplicateAGapStopsThePush() {
        TestShard t = new TestShard(NotesApp.app());
        Pusher p = new Pusher(t, "c", "alice", "cl");
        assertEquals(List.of("1:ok", "2:ok"), p.push(put(1, "n1"), put(2, "n2")));
        assertEquals(2, p.confirmed());
        long log = t.count("SELECT count(*) FROM __cdc_log");

        assertEquals(List.of("1:duplicate", "2:duplicate", "3:ok"), p.push(put(1, "n1"), put(2, "n2"), put(3, "n3")));
        assertEquals(log + 1, t.count("SELECT count(*) FROM __cdc_log"), "a duplicate writes nothing, not even to the log");

        assertEquals(List.of("5:OUT_OF_ORDER"), p.push(put(5, "n5"), put(4, "n4")), "no entry after the stop");
        assertEquals(4, (long) p.entries().get(0).get("expected").asNumber());
        assertEquals(3, Pusher.stored(t, "alice", "cl"), "a gap consumes nothing");
        assertEquals(3, p.confirmed(), "the poke after a refused push still confirms what was applied");

        assertEquals(List.of("4:ok", "6:OUT_OF_ORDER"), p.push(put(4, "n4"), put(6, "n6"), put(5, "n5")));
        assertEquals(5, (long) p.entries().get(1).get("expected").asNumber());
        assertEquals(4, p.confirmed());
        assertEquals(4, t.count("SELECT count(*) FROM notes"));
        assertEquals(0, t.count("SELECT count(*) FROM notes WHERE id IN ('n5', 'n6')"));
    }

    @Test
    void aDuplicateIsNotRunAgainEvenWithDifferentArgs() {
        TestShard t = new TestShard(NotesApp.app());
        Pusher p = new Pusher(t, "c", "alice", "cl");
        p.push(m(1, "put", "{\"id\":\"n1\",\"title\":\"first\"}"));
        assertEquals(List.of("1:duplicate"), p.push(m(1, "put", "{\"id\":\"n1\",\"title\":\"second\"}")));
        assertEquals(List.of("1:duplicate"), p.push(m(1, "noSuchMutator", "{}")), "a duplicate is not even looked up");
        assertEquals("first", t.sql.queryString("SELECT title FROM notes WHERE id = 'n1'"));
    }

    @Test
    void theTableSurvivesANewEngineInstanceOnTheSameDatabase() {
        TestShard t = new TestShard(NotesApp.app());
        Pusher p = new Pusher(t, "c", "alice", "cl");
        assertEquals(List.of("1:ok", "2:VALIDATION", "3:ok"),
                p.push(put(1, "n1"), m(2, "putThenFail", "{\"id\":\"x\"}"), put(3, "n3")));

        t.restart(); // the object was evicted: no cache survives
        t.peers.clear();
        Pusher again = new Pusher(t, "c2", "alice", "cl");
        assertEquals(3, (long) t.peers.to("c2", "connected").get(0).get("lastMutationId").asNumber());
        assertEquals(List.of("2:duplicate", "3:duplicate", "4:ok"), again.push(m(2, "putThenFail", "{\"id\":\"x\"}"), put(3, "n3"), put(4, "n4")));
        assertEquals(List.of("6:OUT_OF_ORDER"), again.push(put(6, "n6")));
        assertEquals(5, (long) again.entries().get(0).get("expected").asNumber());
    }

    @Test
    void theTableSurvivesReopeningTheDatabaseFile(@TempDir Path dir) throws Exception {
        String file = dir.resolve("shard.sqlite").toString();
        JdbcSql first = new JdbcSql(file);
        TestShard t = new TestShard(NotesApp.app(), first, Limits.defaults());
        Pusher p = new Pusher(t, "c", "alice", "cl");
        assertEquals(List.of("1:ok", "2:ok"), p.push(put(1, "n1"), put(2, "n2")));
        first.close();
        assertEquals(true, Files.size(Path.of(file)) > 0);

        TestShard reopened = new TestShard(NotesApp.app(), new JdbcSql(file), Limits.defaults());
        Pusher q = new Pusher(reopened, "c", "alice", "cl");
        Json connected = reopened.peers.to("c", "connected").get(0);
        assertEquals(2, (long) connected.get("lastMutationId").asNumber());
        assertEquals(List.of("1:duplicate", "2:duplicate", "3:ok"), q.push(put(1, "n1"), put(2, "n2"), put(3, "n3")));
        assertEquals(3, reopened.count("SELECT count(*) FROM notes"));
    }

    @Test
    void everySocketOfTheClientIsConfirmedAndOnlyThePusherGetsTheResult() {
        TestShard t = new TestShard(NotesApp.app());
        Pusher old = new Pusher(t, "old", "alice", "cl");
        Pusher fresh = new Pusher(t, "fresh", "alice", "cl");
        new Pusher(t, "otherClient", "alice", "cl2");
        fresh.push(put(1, "n1"));
        assertEquals(1, old.confirmed());
        assertEquals(0, t.peers.to("old", "pushResult").size());
        assertEquals(0, t.peers.to("otherClient", "pokeEnd").size(), "another client of the same user is not confirmed");
        List<String> types = t.peers.to("fresh").stream().map(f -> f.get("type").asString()).toList();
        assertEquals(List.of("connected", "pushResult", "pokeStart", "pokeEnd"), types, "the result, then the poke");
    }
}
