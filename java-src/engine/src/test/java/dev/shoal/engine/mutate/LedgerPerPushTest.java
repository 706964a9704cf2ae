package dev.shoal.engine.mutate;

import static dev.shoal.engine.mutate.Pusher.put;
import static org.junit.jupiter.api.Assertions.assertEquals;

import dev.shoal.engine.Limits;
import dev.shoal.engine.jvm.NotesApp;
import dev.shoal.engine.sql.SqlException;
import dev.shoal.testkit.TestShard;
import java.util.List;
import org.junit.jupiter.api.Test;

/**
 * The last applied mutation id is written once per push, with the last mutation the push runs: a
 * push that ends with a duplicate or stops out of order records the mutation before that (a fault
 * mid-push: PushRollbackTest). Each test reads the stored id from SQLite and then from a new
 * instance (as after an eviction), so an id kept only in memory fails them.
 */
class LedgerPerPushTest {
    private final TestShard t = new TestShard(NotesApp.app());
    private final Pusher p = new Pusher(t, "c", "alice", "cl");

    /** What a new instance answers for mutations 1..{@code upTo} pushed again: every one a duplicate. */
    private void assertDurable(long upTo) {
        assertEquals(upTo, Pusher.stored(t, "alice", "cl"), "stored in SQLite");
        t.restart();
        Pusher again = new Pusher(t, "c2", "alice", "cl");
        String[] all = new String[(int) upTo];
        List<String> expected = new java.util.ArrayList<>();
        for (int i = 1; i <= upTo; i++) {
            all[i - 1] = put(i, "n" + i);
            expected.add(i + ":duplicate");
        }
        assertEquals(expected, again.push(all), "a new instance reads the ledger back");
    }

    @Test
    void aPushOfSeveralMutationsRecordsItsLastOne() {
        assertEquals(List.of("1:ok", "2:ok", "3:ok"), p.push(put(1, "n1"), put(2, "n2"), put(3, "n3")));
        assertDurable(3);
        assertEquals(3, t.count("SELECT count(*) FROM notes"), "each ran once");
    }

    @Test
    void aPushThatEndsWithADuplicateRecordsWhatRanBeforeIt() {
        assertEquals(List.of("1:ok"), p.push(put(1, "n1")));
        assertEquals(List.of("2:ok", "3:ok", "1:duplicate"), p.push(put(2, "n2"), put(3, "n3"), put(1, "n1")));
        assertDurable(3);
    }

    @Test
    void aPushStoppedOutOfOrderRecordsWhatRanBeforeTheStop() {
        assertEquals(List.of("1:ok", "2:ok", "4:OUT_OF_ORDER"), p.push(put(1, "n1"), put(2, "n2"), put(4, "n4")));
        assertDurable(2);
        assertEquals(2, t.count("SELECT count(*) FROM notes"));
    }

    @Test
    void anApplicationErrorInTheMiddleIsConsumedWithThePush() {
        assertEquals(List.of("1:ok", "2:BAD_ARGS", "3:ok"), p.push(put(1, "n1"), Pusher.m(2, "put", "{}"), put(3, "n3")));
        assertDurable(3);
    }

    /**
     * Storage on which a transaction that writes the ledger and nothing else fails: a MOCK of a
     * host that stops between two transactions (on the JVM each commits on its own), which cannot be
     * produced for real here. Everything else reaches the real database.
     */
    private static final class NoLedgerOnlyCommit extends ForwardingSql {
        private boolean ledger;
        private boolean other;

        @Override
        void onBegin() {
            ledger = false;
            other = false;
        }

        @Override
        void beforeStatement(String sql, Object[] args, boolean inTransaction) {
            if (!inTransaction) {
                return;
            }
            if (sql.startsWith("INSERT INTO __shoal_clients")) {
                ledger = true;
            } else if (!sql.startsWith("SELECT") && (!sql.startsWith("WITH") || sql.contains(" INSERT INTO "))) {
                other = true; // a write (a WITH statement writes when it is an insert checked by its policy)
            }
        }

        @Override
        void beforeCommit() {
            if (ledger && !other) {
                throw new SqlException("stopped before committing a ledger-only transaction");
            }
        }
    }

    @Test
    void theLedgerCommitsWithTheLastMutationThatRanNotAfterIt() {
        NoLedgerOnlyCommit sql = new NoLedgerOnlyCommit();
        TestShard f = new TestShard(NotesApp.app(), sql, Limits.defaults());
        Pusher q = new Pusher(f, "c", "alice", "cl");
        assertEquals(List.of("1:ok"), q.push(put(1, "n1")));
        assertEquals(List.of("2:ok", "3:ok", "1:duplicate"), q.push(put(2, "n2"), put(3, "n3"), put(1, "n1")),
                "a push that ends with a duplicate needs no transaction of its own for the ledger");
        assertEquals(List.of("4:ok", "6:OUT_OF_ORDER"), q.push(put(4, "n4"), put(6, "n6")));
        assertEquals(4, Pusher.stored(f, "alice", "cl"));
    }

    @Test
    void anApplicationErrorLastIsRecordedWithItsOwnId() {
        assertEquals(List.of("1:ok", "2:UNKNOWN_MUTATOR"), p.push(put(1, "n1"), Pusher.m(2, "noSuchMutator", "{}")));
        assertDurable(2);
    }
}
