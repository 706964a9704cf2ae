package dev.shoal.engine.sync;

import dev.shoal.engine.App;
import dev.shoal.engine.ShoalError;
import dev.shoal.engine.mutate.Db;
import dev.shoal.engine.mutate.Mutator;
import dev.shoal.engine.mutate.MutatorContext;
import dev.shoal.engine.shard.ShardRouting;
import dev.shoal.engine.shard.ShardWrites;
import dev.shoal.engine.sql.Sql;
import dev.shoal.engine.sql.SqlException;
import dev.shoal.protocol.ClientFrame;
import dev.shoal.protocol.ErrorCode;
import dev.shoal.protocol.ServerFrames;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * Pushes, exactly once and in order (PROTOCOL.md, "Mutations"): each mutation runs in its own
 * transaction, and the (identity, client) entry of {@code __shoal_clients} advances with the
 * push's writes; the entries are cached here, one {@link Client} object per (identity, client),
 * shared by its sockets.
 *
 * <p>The entry is written once per push, in the transaction of the last mutation the push runs
 * (known from the ids before anything runs: duplicates and an out-of-order stop depend on ids
 * only); only after a storage fault stops the push early is it written on its own. That is the
 * same commit as every mutation of the push: the host commits an event's writes together
 * ({@link Sql}: a Durable Object's implicit transaction; a storage error that aborts it rolls all
 * of them back), and a push is one event. A mutation's own transaction is a savepoint inside it,
 * kept so that an application error rolls back that mutation alone.
 */
final class PushLedger {
    /** The last applied mutation id of one (identity, client); -1 until read from SQLite. */
    static final class Client {
        final String identity;
        final String client;
        /** The open sockets of this (identity, client): each is poked after its pushes (kept by {@link Connections}). */
        final List<Conn> sockets = new ArrayList<>(1);
        private long lastMutationId = -1;

        Client(String identity, String client) {
            this.identity = identity;
            this.client = client;
        }
    }

    private final App app;
    private final Sql sql;
    private final Peers peers;
    private final String shardName;
    private final Checks checks;
    private final ViewIndex views;
    /** The current push's {@code pokedNext} (see {@link #push}). */
    private boolean pokedNext;
    private final Map<String, Client> clients = new HashMap<>();
    /** Write statements built once per instance (their text depends on the schema only). */
    private final Db.Statements statements = new Db.Statements();

    /** The argument checks shared with subscriptions (size, then validators). */
    interface Checks {
        /** {@code frameChars}: the length of the push frame (see {@code Subscriptions.checkArgs}). */
        void args(dev.shoal.engine.schema.Validator validator, dev.shoal.protocol.Json args, int frameChars);
    }

    /** {@code views}: told of each mutation's inserts and of the log's seq after a push, so that its poke round need not read the log. */
    PushLedger(App app, Sql sql, Peers peers, String shardName, Checks checks, ViewIndex views) {
        this.views = views;
        this.app = app;
        this.sql = sql;
        this.peers = peers;
        this.shardName = shardName;
        this.checks = checks;
    }

    /** The shared entry of (identity, client). */
    Client client(String identity, String client) {
        // Length-prefixed, so no character of either can blur the two.
        return clients.computeIfAbsent(identity.length() + ":" + identity + client, k -> new Client(identity, client));
    }

    long lastMutationId(Client c) {
        if (c.lastMutationId < 0) {
            c.lastMutationId = sql.queryLong(0, "SELECT last_mutation_id FROM __shoal_clients WHERE identity = ? AND client = ?",
                    c.identity, c.client);
        }
        return c.lastMutationId;
    }

    /**
     * Runs a push for {@code c} and answers it with {@code pushResult}; the caller pokes after.
     * {@code now}: the time of the push in ms, the same for each of its mutations ({@code ctx.now()}).
     * {@code pokedNext}: a poke round follows this push at once, so its ledger write also reads the
     * log's seq for it ({@link ViewIndex#logSeq}); a push held back by a burst skips that.
     */
    void push(Conn c, List<ClientFrame.Mutation> mutations, int frameChars, double now, boolean pokedNext) {
        this.pokedNext = pokedNext;
        views.logSeq(-1);
        long last = lastMutationId(c.ledger);
        long recorded = last;
        ServerFrames.PushResult results = new ServerFrames.PushResult(mutations.size());
        ClientFrame.Mutation recordWith = lastToRun(mutations, last);
        for (ClientFrame.Mutation m : mutations) {
            Step step = Step.of(m.id(), last);
            if (step == Step.DUPLICATE) {
                results.entry(m.id(), "duplicate");
                continue;
            }
            if (step == Step.OUT_OF_ORDER) {
                results.entry(m.id(), "error", ErrorCode.OUT_OF_ORDER.name(),
                        "mutation " + m.id() + " arrived before " + (last + 1) + ": push in order", last + 1, null);
                break;
            }
            boolean record = m == recordWith;
            if (!runMutation(c, m, frameChars, now, record, results)) {
                results.entry(m.id(), "error", ErrorCode.INTERNAL.name(),
                        "the shard could not run mutation " + m.id() + "; nothing was applied, retry later", 0, null);
                break;
            }
            last = m.id();
            if (record) {
                recorded = last;
            }
        }
        if (recorded != last) {
            // A storage fault stopped the push before its last mutation: what ran is recorded now.
            long applied = last;
            sql.transaction(() -> recordApplied(c, applied));
        }
        c.ledger.lastMutationId = last;
        peers.send(c.id, results.frame());
    }

    /** What a push does with a mutation, from its id and the last applied id alone (PROTOCOL.md, "Mutations"). */
    private enum Step {
        DUPLICATE, RUN, OUT_OF_ORDER;

        static Step of(long id, long last) {
            return id <= last ? DUPLICATE : id == last + 1 ? RUN : OUT_OF_ORDER;
        }
    }

    /**
     * The last mutation of the push that will run after {@code last}, by the same {@link Step}s as
     * {@link #push} (no fault assumed); null when none will.
     */
    private static ClientFrame.Mutation lastToRun(List<ClientFrame.Mutation> mutations, long last) {
        ClientFrame.Mutation out = null;
        for (ClientFrame.Mutation m : mutations) {
            Step step = Step.of(m.id(), last);
            if (step == Step.OUT_OF_ORDER) {
                break;
            }
            if (step == Step.RUN) {
                out = m;
                last = m.id();
            }
        }
        return out;
    }

    /**
     * Runs one mutation in its own transaction and adds its pushResult entry to {@code results}: "ok",
     * or an application error (writes rolled back, id consumed). Returns false, adding nothing, for a
     * fault outside the mutator's code, which consumes nothing. With {@code record}, its id is
     * recorded as the last applied in the same transaction (see the class comment).
     */
    private boolean runMutation(Conn c, ClientFrame.Mutation m, int frameChars, double now, boolean record,
            ServerFrames.PushResult results) {
        ShoalError[] appError = new ShoalError[1];
        try {
            sql.transaction(() -> {
                try {
                    apply(c, m, frameChars, now);
                } catch (ShoalError e) {
                    appError[0] = e;
                    throw e;
                }
                if (record) {
                    recordApplied(c, m.id());
                }
            });
            results.entry(m.id(), "ok");
            return true;
        } catch (RuntimeException e) {
            views.insertsLost(); // rolled back
            if (appError[0] == null) {
                return false;
            }
        }
        if (record) {
            try {
                sql.transaction(() -> recordApplied(c, m.id()));
            } catch (RuntimeException e) {
                return false;
            }
        }
        results.entry(m.id(), "error", appError[0].code, appError[0].getMessage(), 0, appError[0].shard);
        return true;
    }

    private void apply(Conn c, ClientFrame.Mutation m, int frameChars, double now) {
        Mutator mutator = app.mutator(m.name());
        if (mutator == null) {
            throw ShoalError.of(ErrorCode.UNKNOWN_MUTATOR, "no mutator named " + m.name());
        }
        checks.args(mutator.args(), m.args(), frameChars);
        ShardRouting.checkMutation(shardName, mutator, m.args());
        Db db = new Db(sql, app::table, c.auth.userId(), statements).placement(new ShardWrites(sql, shardName, c.auth.userId()))
                .inserts(views::inserted);
        MutatorContext ctx = new MutatorContext(db, c.auth, shardName, now);
        try {
            mutator.server().run(ctx, m.args());
        } catch (ShoalError e) {
            throw e;
        } catch (SqlException e) {
            // A statement SQLite refused for a reason other than a constraint: a storage fault.
            throw e;
        } catch (Throwable e) {
            // Anything else escaping the app's code (an exception, a failed assert) is a bug in the
            // app: reported, rolled back, and its id consumed, so the client does not retry it forever.
            throw ShoalError.of(ErrorCode.MUTATOR_FAILED, "mutator " + m.name() + " threw " + e.getClass().getSimpleName()
                    + (e.getMessage() == null ? "" : ": " + e.getMessage()));
        }
    }

    private static final String RECORD_APPLIED = "INSERT INTO __shoal_clients (identity, client, last_mutation_id) VALUES (?, ?, ?)"
            + " ON CONFLICT (identity, client) DO UPDATE SET last_mutation_id = excluded.last_mutation_id";
    private static final String RECORD_APPLIED_AND_READ_SEQ = RECORD_APPLIED + " RETURNING (" + dev.shoal.engine.log.ChangeLog.SEQ_QUERY + ")";

    /**
     * When a poke round follows the push, also reads the log's last seq for it ({@link
     * ViewIndex#logSeq}): the push's writes are done.
     */
    private void recordApplied(Conn c, long id) {
        if (pokedNext) {
            views.logSeq(sql.queryLong(-1, RECORD_APPLIED_AND_READ_SEQ, c.auth.userId(), c.client, id));
        } else {
            sql.exec(RECORD_APPLIED, c.auth.userId(), c.client, id);
        }
    }
}
