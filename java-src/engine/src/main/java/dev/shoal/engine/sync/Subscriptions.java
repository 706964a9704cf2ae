package dev.shoal.engine.sync;

import dev.shoal.engine.App;
import dev.shoal.engine.Limits;
import dev.shoal.engine.ShoalError;
import dev.shoal.engine.shape.Shape;
import dev.shoal.engine.shard.ShardRouting;
import dev.shoal.engine.shape.Subscription;
import dev.shoal.engine.shape.View;
import dev.shoal.engine.sql.Sql;
import dev.shoal.engine.where.Where;
import dev.shoal.engine.where.WhereCompiler;
import dev.shoal.protocol.ClientFrame;
import dev.shoal.protocol.ErrorCode;
import dev.shoal.protocol.Json;
import dev.shoal.protocol.ServerFrames;
import java.util.List;
import java.util.Map;

/**
 * Subscriptions: validated and compiled once per (shape, args) into a shared {@link View},
 * persisted in {@code __shoal_subs} so that they survive eviction, answered with a reset or a
 * catch-up, then kept up to date by {@link Pokes}.
 */
final class Subscriptions {
    private final App app;
    private final Sql sql;
    private final Json.Parser json;
    private final Peers peers;
    private final Limits limits;
    private final String epoch;
    private final WhereCompiler compiler;
    private final ViewIndex views;
    private final java.util.function.LongSupplier floor;
    /** Statement texts shared by views (see View). */
    private final java.util.Map<String, String> texts = new java.util.HashMap<>();

    /** Per identity: the views it subscribes to, with how many of its subscriptions hold each. */
    private final Map<String, Map<String, Integer>> viewsOf = new java.util.HashMap<>();
    /** This shard's name: a shape whose args name another shard is refused with WRONG_SHARD. */
    private final String shardName;

    Subscriptions(App app, Sql sql, Json.Parser json, Peers peers, Limits limits, String epoch, ViewIndex views, java.util.function.LongSupplier floor,
            String shardName) {
        this.shardName = shardName;
        this.app = app;
        this.sql = sql;
        this.json = json;
        this.peers = peers;
        this.limits = limits;
        this.epoch = epoch;
        this.compiler = new WhereCompiler(app::table);
        this.views = views;
        this.floor = floor;
    }

    void subscribe(Conn c, ClientFrame.Subscribe s, Pokes pokes) {
        View view;
        try {
            view = resolve(s.shape(), s.args());
            if (!c.subs.containsKey(s.id()) && c.subs.size() >= limits.subscriptionsPerSocketMax()) {
                throw ShoalError.of(ErrorCode.TOO_MANY_SUBSCRIPTIONS,
                        "a socket may hold at most " + limits.subscriptionsPerSocketMax() + " subscriptions: unsubscribe one first");
            }
            // What one identity can make every write of the shard look at: distinct views, bounded.
            boolean newView = views.get(view.key) == null;
            if (newView && views.size() >= limits.viewsPerShardMax()) {
                throw ShoalError.of(ErrorCode.TOO_MANY_SUBSCRIPTIONS,
                        "the shard holds " + limits.viewsPerShardMax() + " distinct subscriptions (shape and args), its most: subscribe to one already held");
            }
            Map<String, Integer> mine = viewsOf.get(c.userId());
            if ((mine == null || !mine.containsKey(view.key)) && mine != null && mine.size() >= limits.viewsPerIdentityMax()) {
                throw ShoalError.of(ErrorCode.TOO_MANY_SUBSCRIPTIONS,
                        "an identity may hold at most " + limits.viewsPerIdentityMax() + " distinct subscriptions (shape and args) on a shard: unsubscribe one first");
            }
        } catch (ShoalError e) {
            peers.send(c.id, ServerFrames.error(ErrorCode.valueOf(e.code), e.getMessage(), s.id(), e.shard));
            return;
        }
        Subscription old = c.subs.get(s.id());
        if (old != null) {
            detach(old);
        }
        Subscription sub = attach(c, s.id(), view);
        sql.exec("INSERT OR REPLACE INTO __shoal_subs (conn, sub, shape, args) VALUES (?, ?, ?, ?)",
                c.id, s.id(), s.shape(), s.args().text());
        long at = pokes.pokedSeq();
        // A catch-up over more than catchUpRowsMax log rows would cost more than the reset it replaces.
        boolean catchUp = s.since() != null && s.since().epoch().equals(epoch) && s.since().seq() <= at
                && s.since().seq() >= floor.getAsLong() && at - s.since().seq() <= limits.catchUpRowsMax();
        List<String> parts = catchUp
                ? sub.view().diffFor(sql, c.userId(), s.since().seq(), at, limits.pokePartBytesMax())
                : sub.view().hydrate(sql, c.userId(), limits.pokePartBytesMax());
        pokes.answer(c, sub.id(), parts, !catchUp);
    }

    void unsubscribe(Conn c, String id) {
        Subscription old = c.subs.remove(id);
        if (old != null) {
            detach(old);
            sql.exec("DELETE FROM __shoal_subs WHERE conn = ? AND sub = ?", c.id, id);
        }
    }

    /** Forgets every subscription of a closed socket. */
    void closed(Conn c) {
        for (Subscription s : c.subs.values()) {
            detach(s);
        }
        sql.exec("DELETE FROM __shoal_subs WHERE conn = ?", c.id);
    }

    /** A subscription read back from SQLite after eviction (validated when it was made; checked again). */
    void restore(Conn c, String id, String shape, String argsText) {
        try {
            attach(c, id, resolve(shape, json.parse(argsText)));
        } catch (ShoalError e) {
            // The app changed under a hibernating subscription: tell the client, keep the rest.
            peers.send(c.id, ServerFrames.error(ErrorCode.valueOf(e.code), e.getMessage(), id));
        }
    }

    /** Validates and compiles a subscription: name, then args, then the predicate (PROTOCOL.md order). */
    private View resolve(String shapeName, Json args) {
        Shape shape = app.shape(shapeName);
        if (shape == null) {
            throw ShoalError.of(ErrorCode.UNKNOWN_SHAPE, "no shape named " + shapeName);
        }
        checkArgs(shape.args(), args);
        ShardRouting.checkShape(app, shardName, shape, args);
        View known = views.get(shape.name() + "\u0000" + args.text());
        if (known != null) {
            return known;
        }
        Where where = shape.predicate().where(args);
        if (where == null || Where.everythingByAccident(where)) {
            throw new IllegalStateException("shape " + shapeName + " returned " + (where == null ? "no predicate" : "a predicate that matches every row")
                    + ": return Where.all() if every row is meant");
        }
        // Registration checked the joins of the where it got from sample args; a where that
        // branches on its args is checked again for these.
        List<String> joins = dev.shoal.engine.shard.ShardRules.joinProblems(app.tablesByName(), app.table(shape.table()), where, "shape " + shapeName);
        if (!joins.isEmpty()) {
            throw new IllegalStateException(joins.get(0));
        }
        return View.of(compiler, shape, app.table(shape.table()), where, args.text(), texts);
    }

    /** Args checks shared by shapes and mutators: the size first, then the declared validators. */
    void checkArgs(dev.shoal.engine.schema.Validator validator, Json args) {
        checkArgs(validator, args, Integer.MAX_VALUE);
    }

    /**
     * {@code frameChars}: the length of the frame that carried {@code args}. A frame whose every
     * character could be 3 bytes and still fit in the limit holds no args over it, so the args are
     * not serialized to be measured (the common case: one JSON.stringify less per mutation).
     */
    void checkArgs(dev.shoal.engine.schema.Validator validator, Json args, int frameChars) {
        boolean mayBeOver = (long) frameChars * 3 > limits.argsBytesMax();
        if (args != null && mayBeOver && Shard.utf8Over(args.text(), limits.argsBytesMax())) {
            throw ShoalError.badArgs("args: at most " + limits.argsBytesMax() + " bytes of JSON");
        }
        validator.check(args, "args");
    }

    private Subscription attach(Conn c, String id, View view) {
        View shared = views.intern(view);
        Subscription sub = new Subscription(c, id, shared);
        shared.add(sub);
        c.subs.put(id, sub);
        viewsOf.computeIfAbsent(c.userId(), k -> new java.util.HashMap<>()).merge(shared.key, 1, Integer::sum);
        return sub;
    }

    private void detach(Subscription sub) {
        sub.view().remove(sub);
        Map<String, Integer> mine = viewsOf.get(sub.socket().userId());
        if (mine != null && mine.merge(sub.view().key, -1, Integer::sum) <= 0) {
            mine.remove(sub.view().key);
            if (mine.isEmpty()) {
                viewsOf.remove(sub.socket().userId());
            }
        }
        if (sub.view().isEmpty()) {
            views.remove(sub.view());
        }
    }
}
