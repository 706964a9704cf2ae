package dev.shoal.engine.shard;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.shoal.engine.App;
import dev.shoal.protocol.Json;
import dev.shoal.testkit.JacksonJson;
import dev.shoal.testkit.JdbcSql;
import dev.shoal.testkit.TestD1;
import dev.shoal.testkit.TestShard;
import java.util.List;
import org.junit.jupiter.api.Test;

/**
 * Writes of global tables: recorded in the shard's own transaction, applied to "D1" (here a second
 * SQLite database, run as the shim runs the batch: in one transaction) exactly once, also when the
 * shard dies between the D1 apply and marking the entries applied.
 */
class GlobalOutboxTest {
    private final App app = RoomsApp.app();

    private static void push(TestShard t, String conn, long id, String name, String args) {
        t.send(conn, "{\"type\":\"push\",\"mutations\":[{\"id\":" + id + ",\"name\":\"" + name + "\",\"args\":" + args + "}]}");
    }

    private static String lastStatus(TestShard t, String conn) {
        List<Json> results = t.peers.to(conn, "pushResult");
        Json r = results.get(results.size() - 1).get("results").at(0);
        return r.get("status").asString().equals("ok") ? "ok" : r.get("code").asString();
    }

    /** A D1 with the app's global tables, made as the host makes it. */
    private JdbcSql d1() {
        return new TestD1(app).sql;
    }

    /** Runs a pending batch in D1 as the shim does (one D1 batch is one transaction); returns upTo. */
    private long applyToD1(TestShard t, JdbcSql d1) {
        return applyToD1(t, d1, 50);
    }

    /** {@link #applyToD1} with at most {@code entries} outbox entries in the batch. */
    private long applyToD1(TestShard t, JdbcSql d1, int entries) {
        Json batch = JacksonJson.parse(GlobalOutbox.batchJson(t.sql, app, JacksonJson.PARSER, t.name, entries));
        TestD1.runBatch(d1, batch.get("statements"));
        return (long) batch.get("upTo").asNumber();
    }

    private static String name(JdbcSql d1, String user) {
        return d1.queryString("SELECT displayName FROM profiles WHERE id = ?", user);
    }

    @Test
    void aGlobalWriteIsRecordedInTheMutationsTransactionAndRolledBackWithIt() {
        TestShard t = new TestShard(app, "r1");
        t.open("a", "alice", "c1");
        push(t, "a", 1, "postAs", "{\"roomId\":\"r1\",\"id\":\"p1\",\"displayName\":\"Alice\"}");
        assertEquals("ok", lastStatus(t, "a"));
        push(t, "a", 2, "postAs", "{\"roomId\":\"r1\",\"id\":\"p1\",\"displayName\":\"Not me\"}");
        assertEquals("CONFLICT", lastStatus(t, "a"), "the post exists: the mutation fails after its global write");
        assertEquals(1, t.count("SELECT count(*) FROM __shoal_global_outbox"), "the failed mutation's global write rolled back");
        assertEquals(0, t.count("SELECT count(*) FROM profiles"), "a shard keeps no copy of a global table");
        assertTrue(GlobalOutbox.pending(t.sql));
    }

    /** A D1 table made by an earlier version of the app, without a column declared since: the host adds it, and writes land. */
    @Test
    void aColumnDeclaredLaterIsAddedToD1AndItsWritesLand() {
        JdbcSql older = JdbcSql.memory();
        older.exec("CREATE TABLE profiles (id TEXT PRIMARY KEY NOT NULL, \"displayName\" TEXT)");
        older.exec("INSERT INTO profiles (id, \"displayName\") VALUES ('bob', 'Bob')");
        TestD1 d1 = new TestD1(app, older);
        assertEquals(1, d1.sql.queryLong(0, "SELECT count(*) FROM pragma_table_info('profiles') WHERE name = 'flag'"), "flag was added");
        assertEquals("Bob", d1.sql.queryString("SELECT \"displayName\" FROM profiles WHERE id = 'bob'"), "the rows stay");
        assertEquals("[]", GlobalOutbox.migrationJson(app, JacksonJson.PARSER, "{\"profiles\":[\"id\",\"displayName\",\"flag\"]}"),
                "nothing to add once every column is there");

        TestShard t = new TestShard(app, "r1");
        t.open("a", "alice", "c1");
        push(t, "a", 1, "postAs", "{\"roomId\":\"r1\",\"id\":\"p1\",\"displayName\":\"Alice\"}");
        assertEquals("ok", lastStatus(t, "a"));
        d1.apply(t, null);
        assertEquals("Alice", d1.sql.queryString("SELECT \"displayName\" FROM profiles WHERE id = 'alice'"));
    }

    @Test
    void aGlobalWriteChecksItsPolicyAndValues() {
        TestShard t = new TestShard(app);
        t.open("a", "alice", "c1");
        push(t, "a", 1, "renameSomeone", "{\"userId\":\"bob\",\"displayName\":\"B\"}");
        assertEquals("FORBIDDEN", lastStatus(t, "a"));
        push(t, "a", 2, "setDisplayName", "{\"displayName\":\"\"}");
        assertEquals("BAD_ARGS", lastStatus(t, "a"));
        assertEquals(0, t.count("SELECT count(*) FROM __shoal_global_outbox"));
    }

    @Test
    void aCrashBetweenTheD1ApplyAndMarkingItAppliedAppliesNothingTwice() {
        JdbcSql d1 = d1();
        TestShard root = new TestShard(app);
        root.open("a", "alice", "c1");
        push(root, "a", 1, "setDisplayName", "{\"displayName\":\"A1\"}");
        long upTo = applyToD1(root, d1);
        assertEquals(1, upTo);
        assertEquals("A1", name(d1, "alice"));
        // The shard dies here: D1 has the write, the outbox still holds it.
        root.restart();

        // Meanwhile alice renames herself from a room's shard, and that reaches D1.
        TestShard room = new TestShard(app, "r1");
        room.open("a", "alice", "c2");
        push(room, "a", 1, "postAs", "{\"roomId\":\"r1\",\"id\":\"p1\",\"displayName\":\"A2\"}");
        GlobalOutbox.applied(room.sql, applyToD1(room, d1));
        assertEquals("A2", name(d1, "alice"));

        // The restarted root shard retries its pending entry, plus a new one.
        push(root, "a", 2, "setDisplayName", "{\"displayName\":\"A3\"}");
        assertEquals(2, root.count("SELECT count(*) FROM __shoal_global_outbox"));
        Json batch = JacksonJson.parse(GlobalOutbox.batchJson(root.sql, app, JacksonJson.PARSER, root.name, 1));
        assertEquals(1, (long) batch.get("upTo").asNumber(), "the replay of entry 1 alone");
        GlobalOutbox.applied(root.sql, applyToD1(root, d1, 1));
        assertEquals("A2", name(d1, "alice"), "the replayed entry 1 did not overwrite the newer A2");
        GlobalOutbox.applied(root.sql, applyToD1(root, d1));
        assertEquals("A3", name(d1, "alice"));
        assertEquals(0, root.count("SELECT count(*) FROM __shoal_global_outbox"));
        assertEquals(3, d1.queryLong(-1, "SELECT count(*) FROM __shoal_applied"), "(root,1), (r1,1), (root,2)");
        // Applying an emptied outbox is a no-op batch.
        assertEquals(0, applyToD1(root, d1));
    }

    @Test
    void aShardWhoseStorageWasWipedIsNotMistakenForItsFormerSelf() {
        JdbcSql d1 = d1();
        TestShard root = new TestShard(app);
        root.open("a", "alice", "c1");
        push(root, "a", 1, "setDisplayName", "{\"displayName\":\"Old\"}");
        GlobalOutbox.applied(root.sql, applyToD1(root, d1));
        // A wiped development database: the same shard name, outbox ids from 1 again, a new epoch.
        TestShard wiped = new TestShard(app);
        wiped.open("a", "alice", "c2");
        push(wiped, "a", 1, "setDisplayName", "{\"displayName\":\"New\"}");
        GlobalOutbox.applied(wiped.sql, applyToD1(wiped, d1));
        assertEquals("New", name(d1, "alice"), "its entry 1 is not the old entry 1");
    }

    @Test
    void theGlobalShardMirrorsD1AndPokesOnlyWhatChanged() {
        JdbcSql d1 = d1();
        TestShard root = new TestShard(app);
        root.open("a", "alice", "c1");
        push(root, "a", 1, "setDisplayName", "{\"displayName\":\"Alice\"}");
        GlobalOutbox.applied(root.sql, applyToD1(root, d1));

        TestShard global = new TestShard(app, ShardRouting.GLOBAL);
        global.open("b", "bob", "c9");
        global.send("b", "{\"type\":\"subscribe\",\"id\":\"p\",\"shape\":\"profiles\",\"args\":{}}");
        assertEquals(1, global.peers.to("b", "pokeStart").size());
        global.shard.mirrorGlobal("profiles", rows(d1), null);
        assertEquals(List.of("put alice Alice"), ops(global, "b"));
        global.shard.mirrorGlobal("profiles", rows(d1), null);
        assertEquals(2, global.peers.to("b", "pokeStart").size(), "an unchanged refresh pokes nobody");

        d1.exec("UPDATE profiles SET displayName = 'Al' WHERE id = 'alice'"); // behind Shoal's back
        d1.exec("INSERT INTO profiles (id, displayName) VALUES ('carol', 'Carol')");
        global.shard.mirrorGlobal("profiles", rows(d1), null);
        assertEquals(List.of("put alice Al", "put alice Alice", "put carol Carol"), ops(global, "b"));
        d1.exec("DELETE FROM profiles WHERE id = 'carol'");
        global.shard.mirrorGlobal("profiles", "[]", "[\"carol\"]");
        assertTrue(ops(global, "b").contains("del carol"));
    }

    private static String rows(JdbcSql d1) {
        return d1.queryString("SELECT coalesce(json_group_array(json_object('id', id, 'displayName', displayName, 'flag', flag)), '[]') FROM profiles");
    }

    private static List<String> ops(TestShard t, String conn) {
        return t.peers.rowsTo(conn).stream().map(r -> r.get("op").asString() + " " + r.get("id").asString()
                + (r.get("doc") == null ? "" : " " + r.get("doc").get("displayName").asString())).sorted().toList();
    }
}
