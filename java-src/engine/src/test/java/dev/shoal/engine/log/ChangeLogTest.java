package dev.shoal.engine.log;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.shoal.testkit.JacksonJson;
import dev.shoal.engine.jvm.NotesApp;
import dev.shoal.testkit.TestShard;
import dev.shoal.protocol.Json;
import org.junit.jupiter.api.Test;

class ChangeLogTest {
    private final TestShard t = new TestShard(NotesApp.app());

    private String push(long id, String name, String args) {
        t.send("c1", "{\"type\":\"push\",\"mutations\":[{\"id\":" + id + ",\"name\":\"" + name + "\",\"args\":" + args + "}]}");
        Json result = t.peers.to("c1", "pushResult").get(t.peers.to("c1", "pushResult").size() - 1);
        Json entry = result.get("results").at(0);
        return entry.get("status").asString() + (entry.get("code") == null ? "" : ":" + entry.get("code").asString());
    }

    @Test
    void everyWriteAppendsExactlyOneLogRowInItsTransaction() {
        t.open("c1", "alice", "cl1");
        assertEquals("ok", push(1, "put", "{\"id\":\"n1\",\"title\":\"a\"}"));
        assertEquals(1, t.count("SELECT count(*) FROM __cdc_log"));
        assertEquals("ok", push(2, "patch", "{\"id\":\"n1\",\"fields\":{\"title\":\"b\",\"done\":true}}"));
        assertEquals(2, t.count("SELECT count(*) FROM __cdc_log"));
        assertEquals("ok", push(3, "replace", "{\"id\":\"n1\",\"title\":\"c\"}"));
        assertEquals(3, t.count("SELECT count(*) FROM __cdc_log"));
        assertEquals("ok", push(4, "remove", "{\"id\":\"n1\"}"));
        assertEquals(4, t.count("SELECT count(*) FROM __cdc_log"));

        Json insert = JacksonJson.parse(t.sql.queryString("SELECT doc FROM __cdc_log WHERE seq = 1"));
        assertEquals("a", insert.get("title").asString());
        assertEquals(Json.Kind.BOOLEAN, insert.get("done").kind(), "booleans are typed in the doc");
        assertEquals("insert", t.sql.queryString("SELECT op FROM __cdc_log WHERE seq = 1"));
        assertEquals("update", t.sql.queryString("SELECT op FROM __cdc_log WHERE seq = 2"));
        assertTrue(JacksonJson.parse(t.sql.queryString("SELECT doc FROM __cdc_log WHERE seq = 2")).get("done").asBoolean());
        assertEquals("a", JacksonJson.parse(t.sql.queryString("SELECT pre FROM __cdc_log WHERE seq = 2")).get("title").asString());
        assertEquals("delete", t.sql.queryString("SELECT op FROM __cdc_log WHERE seq = 4"));
        assertEquals(null, t.sql.queryString("SELECT doc FROM __cdc_log WHERE seq = 4"));
        assertTrue(t.count("SELECT count(*) FROM __cdc_log WHERE ts > 1.7e12") == 4, "ts is milliseconds since the epoch");
    }

    @Test
    void aMutatorThatThrowsLeavesNoRowAndNoLogEntry() {
        t.open("c1", "alice", "cl1");
        assertEquals("error:VALIDATION", push(1, "putThenFail", "{\"id\":\"n1\"}"));
        assertEquals("error:MUTATOR_FAILED", push(2, "putThenCrash", "{\"id\":\"n2\"}"));
        assertEquals(0, t.count("SELECT count(*) FROM notes"));
        assertEquals(0, t.count("SELECT count(*) FROM __cdc_log"));
        assertEquals(2, t.count("SELECT last_mutation_id FROM __shoal_clients"), "failed mutations still consume their ids");
    }

    @Test
    void seqOnlyGrowsEvenAcrossRollbacksAndRestarts() {
        t.open("c1", "alice", "cl1");
        long before = t.shard.seq();
        push(1, "put", "{\"id\":\"n1\",\"title\":\"a\"}");
        long afterOne = t.shard.seq();
        push(2, "putThenFail", "{\"id\":\"n2\"}");
        assertEquals(afterOne, t.shard.seq(), "a rolled-back write takes no seq");
        push(3, "put", "{\"id\":\"n3\",\"title\":\"c\"}");
        t.restart();
        assertTrue(before < afterOne && afterOne < t.shard.seq());
        assertEquals(2, t.shard.seq());
    }
}
