package dev.shoal.engine.mutate;

import static dev.shoal.engine.mutate.Pusher.m;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.shoal.engine.App;
import dev.shoal.engine.Limits;
import dev.shoal.engine.ShoalError;
import dev.shoal.testkit.JdbcSql;
import dev.shoal.engine.jvm.NotesApp;
import dev.shoal.testkit.TestShard;
import dev.shoal.engine.schema.V;
import dev.shoal.protocol.ErrorCode;
import dev.shoal.protocol.Json;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/**
 * Each mutation is its own transaction: an application error rolls back data and log together and
 * still consumes its id; a fault outside the mutator's code consumes nothing and stops the push,
 * keeping what came before it; a mutation whose commit fails is not applied.
 */
class PushRollbackTest {
    /**
     * The notes app plus {@code writeThenFail}: it inserts a note and patches an existing one, then
     * fails the way {@code how} names, so every error class is seen after real writes.
     */
    static App app() {
        App.Builder b = App.builder().table(NotesApp.NOTES);
        for (Mutator mutator : NotesApp.app().mutators()) {
            b.mutator(mutator);
        }
        return b.mutator(Mutator.named("writeThenFail")
                        .args(V.object().field("id", V.id("notes")).field("how", V.string()))
                        .server((ctx, a) -> {
                            String id = a.get("id").asString();
                            ctx.db().insert("notes", Row.of("id", id, "owner", "w", "title", "written", "done", false));
                            ctx.db().patch("notes", "existing", Row.of("title", "changed by a failed mutation"));
                            switch (a.get("how").asString()) {
                                case "validation" -> throw ShoalError.validation("the mutator's own check refused it");
                                case "forbidden" -> throw ShoalError.forbidden("not yours");
                                case "custom" -> throw ShoalError.custom("NOTE_LOCKED", "the note is locked");
                                case "insertExisting" -> ctx.db().insert("notes", Row.of("id", "existing", "owner", "w", "title", "t", "done", false));
                                case "patchMissing" -> ctx.db().patch("notes", "missing", Row.of("title", "t"));
                                case "deleteMissing" -> ctx.db().delete("notes", "missing");
                                case "bug" -> throw new IllegalStateException("a bug in the app");
                                case "nullBug" -> a.get("absent").asString();
                                case "assertion" -> throw new AssertionError("an assert in the app failed");
                                default -> { }
                            }
                        }))
                .build();
    }

    private final TestShard t = new TestShard(app());
    private final Pusher p = new Pusher(t, "c", "alice", "cl");

    /** Rows and log, all but note {@code except}: what a failed mutation must leave as it found it. */
    private String stateExcept(String except) {
        return t.sql.queryString("SELECT json_group_array(json_array(id, owner, title, done, rank, tags)) FROM"
                + " (SELECT * FROM notes WHERE id != ? ORDER BY id)", except)
                + " log " + t.sql.queryString("SELECT json_group_array(json_array(seq, \"table\", id, op, doc)) FROM"
                + " (SELECT * FROM __cdc_log WHERE id != ? ORDER BY seq)", except);
    }

    private String state() {
        return stateExcept("") + " seq " + t.shard.seq();
    }

    private void seed() {
        assertEquals(List.of("1:ok"), p.push(m(1, "put", "{\"id\":\"existing\",\"title\":\"original\"}")));
    }

    @ParameterizedTest(name = "{0} -> {1}")
    @CsvSource({
        "validation, VALIDATION",
        "forbidden, FORBIDDEN",
        "custom, NOTE_LOCKED",
        "insertExisting, CONFLICT",
        "patchMissing, CONFLICT",
        "deleteMissing, CONFLICT",
        "bug, MUTATOR_FAILED",
        "nullBug, MUTATOR_FAILED",
    })
    void anApplicationErrorRollsBackDataAndLogAndConsumesTheId(String how, String code) {
        seed();
        String before = stateExcept("n3");
        assertEquals(List.of("2:" + code, "3:ok"),
                p.push(m(2, "writeThenFail", "{\"id\":\"n2\",\"how\":\"" + how + "\"}"), m(3, "put", "{\"id\":\"n3\",\"title\":\"after\"}")),
                "an application error does not stop the push");
        Json entry = p.entries().get(0);
        assertFalse(entry.get("message").asString().isBlank(), "a message a developer can act on");
        assertEquals(3, Pusher.stored(t, "alice", "cl"), "the failed id is consumed");
        assertEquals(3, p.confirmed());
        assertEquals("original", t.sql.queryString("SELECT title FROM notes WHERE id = 'existing'"), "the patch is rolled back");
        assertEquals(0, t.count("SELECT count(*) FROM notes WHERE id = 'n2'"), "the insert is rolled back");
        assertEquals(before, stateExcept("n3"), "rows and log are as before, but for the next mutation's note");
        assertEquals(List.of("2:duplicate"), p.push(m(2, "writeThenFail", "{\"id\":\"n2\",\"how\":\"none\"}")), "a retry is a duplicate");
    }

    @Test
    void refusalsBeforeTheMutatorRunsConsumeTheIdToo() {
        seed();
        String before = state();
        assertEquals(List.of("2:UNKNOWN_MUTATOR", "3:BAD_ARGS", "4:BAD_ARGS", "5:BAD_ARGS", "6:BAD_ARGS"), p.push(
                m(2, "noSuchMutator", "{}"),
                m(3, "put", "{\"id\":\"n3\"}"),
                m(4, "put", "{\"id\":\"n4\",\"title\":\"t\",\"owner\":\"x\",\"extra\":1}"),
                m(5, "put", "\"not an object\""),
                "{\"id\":6,\"name\":\"put\"}"));
        assertTrue(p.entries().get(1).get("message").asString().contains("title"), "BAD_ARGS names the field");
        assertTrue(p.entries().get(2).get("message").asString().contains("extra"));
        assertEquals(before, state());
        assertEquals(6, Pusher.stored(t, "alice", "cl"));
    }

    @Test
    void aCustomCodeReachesTheClientAsTheMutatorWroteIt() {
        seed();
        p.push(m(2, "writeThenFail", "{\"id\":\"n2\",\"how\":\"custom\"}"));
        Json e = p.entries().get(0);
        assertEquals("error", e.get("status").asString());
        assertEquals("NOTE_LOCKED", e.get("code").asString());
        assertEquals("the note is locked", e.get("message").asString());
    }

    // ---- faults outside the mutator's code: nothing consumed ----

    /**
     * SQLite itself refuses every write ({@code PRAGMA query_only}, SQLITE_READONLY), as when the
     * storage cannot be written: a real refusal by the real database, not a mock. The mutator's code
     * is correct; retrying once storage is back must apply the same id.
     */
    @Test
    void storageThatRefusesWritesIsInternalAndConsumesNothing() {
        seed();
        String before = state();
        t.sql.exec("PRAGMA query_only = ON");
        assertEquals(List.of("2:INTERNAL"), p.push(m(2, "put", "{\"id\":\"n2\",\"title\":\"t\"}"), m(3, "put", "{\"id\":\"n3\",\"title\":\"t\"}")),
                "INTERNAL stops the push: 3 gets no entry");
        assertTrue(p.entries().get(0).get("message").asString().contains("retry"));
        assertEquals(1, Pusher.stored(t, "alice", "cl"));
        assertEquals(1, p.confirmed(), "the poke does not cover the failed id");
        t.sql.exec("PRAGMA query_only = OFF");
        assertEquals(before, state());
        assertEquals(List.of("2:ok", "3:ok"), p.push(m(2, "put", "{\"id\":\"n2\",\"title\":\"t\"}"), m(3, "put", "{\"id\":\"n3\",\"title\":\"t\"}")));
    }

    /**
     * The database connection is gone (closed under the engine): every statement fails. The push is
     * answered INTERNAL and nothing is consumed, as a fresh connection to the same file shows.
     */
    @Test
    void aLostConnectionIsInternalAndConsumesNothing(@TempDir Path dir) {
        String file = dir.resolve("shard.sqlite").toString();
        JdbcSql sql = new JdbcSql(file);
        TestShard lost = new TestShard(app(), sql, Limits.defaults());
        Pusher q = new Pusher(lost, "c", "alice", "cl");
        assertEquals(List.of("1:ok"), q.push(m(1, "put", "{\"id\":\"n1\",\"title\":\"t\"}")));
        sql.close();
        assertEquals(List.of("2:INTERNAL"), q.push(m(2, "put", "{\"id\":\"n2\",\"title\":\"t\"}"), m(3, "put", "{\"id\":\"n3\",\"title\":\"t\"}")));

        TestShard back = new TestShard(app(), new JdbcSql(file), Limits.defaults());
        Pusher r = new Pusher(back, "c", "alice", "cl");
        assertEquals(1, (long) back.peers.to("c", "connected").get(0).get("lastMutationId").asNumber());
        assertEquals(List.of("2:ok", "3:ok"), r.push(m(2, "put", "{\"id\":\"n2\",\"title\":\"t\"}"), m(3, "put", "{\"id\":\"n3\",\"title\":\"t\"}")));
        assertEquals(3, back.count("SELECT count(*) FROM notes"));
    }

    /**
     * Storage that fails one statement, or each commit: a MOCK of a storage fault, since SQLite
     * cannot be made to fail a chosen statement of a push, or a commit alone, for real.
     * Everything else reaches the real database.
     */
    private static final class FaultySql extends ForwardingSql {
        /** A statement bound with this value fails; null: none does. */
        String failOn;
        /** Each transaction fails after its body ran, as a commit that fails does. */
        boolean failCommit;

        @Override
        void beforeStatement(String sql, Object[] args, boolean inTransaction) {
            if (failOn != null && java.util.Arrays.asList(args).contains(failOn)) {
                throw new dev.shoal.engine.sql.SqlException("disk I/O error");
            }
        }

        @Override
        void beforeCommit() {
            if (failCommit) {
                throw new dev.shoal.engine.sql.SqlException("disk I/O error at commit");
            }
        }
    }

    @Test
    void aFaultMidPushKeepsTheMutationsBeforeItAndConsumesNothingAfter() {
        FaultySql sql = new FaultySql();
        TestShard f = new TestShard(app(), sql, Limits.defaults());
        Pusher q = new Pusher(f, "c", "alice", "cl");
        sql.failOn = "n3";
        assertEquals(List.of("1:ok", "2:ok", "3:INTERNAL"), q.push(Pusher.put(1, "n1"), Pusher.put(2, "n2"), Pusher.put(3, "n3"), Pusher.put(4, "n4")),
                "the fault stops the push: 4 gets no entry");
        assertEquals(2, Pusher.stored(f, "alice", "cl"), "the ledger holds the last mutation that ran");
        assertEquals(2, q.confirmed());
        assertEquals(2, f.count("SELECT count(*) FROM notes"));
        assertEquals(2, f.count("SELECT count(*) FROM __cdc_log"), "the log holds what committed, no more");
        sql.failOn = null;
        assertEquals(List.of("2:duplicate", "3:ok", "4:ok"), q.push(Pusher.put(2, "n2"), Pusher.put(3, "n3"), Pusher.put(4, "n4")));
    }

    @Test
    void aMutationWhoseCommitFailsIsNotApplied() {
        FaultySql sql = new FaultySql();
        TestShard f = new TestShard(app(), sql, Limits.defaults());
        Pusher q = new Pusher(f, "c", "alice", "cl");
        assertEquals(List.of("1:ok"), q.push(Pusher.put(1, "n1")));
        sql.failCommit = true;
        assertEquals(List.of("1:duplicate", "2:INTERNAL"), q.push(Pusher.put(1, "n1"), Pusher.put(2, "n2"), Pusher.put(3, "n3")),
                "the mutation whose commit failed is answered as not applied, and the push stops");
        assertTrue(q.entries().get(1).get("message").asString().contains("nothing was applied"));
        assertEquals(1, Pusher.stored(f, "alice", "cl"));
        assertEquals(1, q.confirmed());
        assertEquals(1, f.count("SELECT count(*) FROM notes"));
        sql.failCommit = false;
        assertEquals(List.of("2:ok", "3:ok"), q.push(Pusher.put(2, "n2"), Pusher.put(3, "n3")), "the retry applies them");
    }

    // ---- regressions: both failed before 19851d0 ----

    /**
     * A mutator that throws an {@link Error} (a failed {@code assert}, a StackOverflowError from
     * runaway recursion) is a bug in the app like any other exception escaping its code:
     * MUTATOR_FAILED, rolled back, id consumed. The engine used to catch only RuntimeException: on
     * the JVM the Error escaped {@code Shard.message} with no pushResult; under TeaVM, JsSql's
     * transaction body let it through transactionSync, which made it INTERNAL, so the id was never
     * consumed and the client retried the poisoned mutation forever.
     */
    @Test
    void anErrorThrownByTheMutatorIsMutatorFailedAndConsumesTheId() {
        seed();
        assertEquals(List.of("2:MUTATOR_FAILED", "3:ok"),
                p.push(m(2, "writeThenFail", "{\"id\":\"n2\",\"how\":\"assertion\"}"), m(3, "put", "{\"id\":\"n3\",\"title\":\"t\"}")));
        assertTrue(p.entries().get(0).get("message").asString().contains("AssertionError"));
        assertEquals(3, Pusher.stored(t, "alice", "cl"));
        assertEquals("original", t.sql.queryString("SELECT title FROM notes WHERE id = 'existing'"));
        assertEquals(0, t.count("SELECT count(*) FROM notes WHERE id = 'n2'"));
    }

    /**
     * A mutator's own code must not be a protocol code the client acts on: an id answered
     * {@code INTERNAL} tells the client "nothing consumed, retry", but a mutator's error did consume
     * it, so the retry would come back {@code duplicate} and the failure never surface; a custom
     * {@code OUT_OF_ORDER} without {@code expected} would send the client renumbering.
     */
    @Test
    void aCustomCodeCannotImpersonateAProtocolCode() {
        for (ErrorCode reserved : ErrorCode.values()) {
            assertThrows(IllegalArgumentException.class, () -> ShoalError.custom(reserved.name(), "x"), reserved.name());
        }
        assertEquals("NOTE_LOCKED", ShoalError.custom("NOTE_LOCKED", "x").code);
    }
}
