package dev.shoal.durable;

import dev.shoal.engine.sql.Rows;
import dev.shoal.engine.sql.Sql;
import dev.shoal.engine.sql.SqlException;
import org.teavm.jso.JSBody;
import org.teavm.jso.JSFunctor;
import org.teavm.jso.JSObject;

/** {@link Sql} over the Durable Object's {@code ctx.storage.sql} and {@code transactionSync}. */
final class JsSql implements Sql {
    private final JSObject storage;
    private int depth;
    private RuntimeException pending;
    /** The body of the running transaction. */
    private Runnable body;
    /** One JS function for every transaction: TeaVM wraps each new lambda in new JS closures. */
    private final Body runBody = this::runBody;

    JsSql(JSObject storage) {
        this.storage = storage;
    }

    @Override
    public Rows query(String sql, Object... args) {
        return new JsRows(checked(exec(storage, sql, binds(args))));
    }

    @Override
    public long write(String sql, Object... args) {
        return (long) writtenOf(checked(write(storage, sql, binds(args))));
    }

    /** As a write whose count is not needed: no row iterator is made (its rows, if any, are read and dropped). */
    @Override
    public void exec(String sql, Object... args) {
        checked(write(storage, sql, binds(args)));
    }

    /** {@code result}, unless it is the statement's error (a string): then that, thrown. */
    private static JSObject checked(JSObject result) {
        String error = errorOf(result);
        if (error != null) {
            throw new SqlException(error);
        }
        return result;
    }

    private static JSObject binds(Object[] args) {
        JSObject binds = newArray();
        for (Object a : args) {
            if (a == null) {
                pushNull(binds);
            } else if (a instanceof String s) {
                pushString(binds, s);
            } else if (a instanceof Boolean b) {
                pushNumber(binds, b ? 1 : 0);
            } else {
                pushNumber(binds, ((Number) a).doubleValue());
            }
        }
        return binds;
    }

    @Override
    public void transaction(Runnable body) {
        if (depth > 0) {
            body.run();
            return;
        }
        depth++;
        pending = null;
        this.body = body;
        try {
            // A throw inside transactionSync rolls back; the Java exception is carried across by hand,
            // since it cannot travel through the JS frame as itself.
            boolean ok = transactionSync(storage, runBody);
            if (!ok && pending == null) {
                throw new SqlException("transaction failed");
            }
        } finally {
            depth--;
            this.body = null;
        }
        if (pending != null) {
            RuntimeException e = pending;
            pending = null;
            throw e;
        }
    }

    private boolean runBody() {
        try {
            body.run();
            return true;
        } catch (RuntimeException e) {
            pending = e;
            return false;
        }
    }

    @JSFunctor
    interface Body extends JSObject {
        boolean run();
    }

    @JSBody(params = {"storage", "body"}, script = "try { storage.transactionSync(() => { if (!body()) throw new Error('rollback'); });"
            + " return true; } catch (e) { return false; }")
    private static native boolean transactionSync(JSObject storage, Body body);

    /**
     * Runs a statement and reads every row (so writes complete): the rows as arrays, or the error's
     * message as a string. (No wrapper object: one allocation less per statement.)
     */
    @JSBody(params = {"storage", "q", "binds"}, script = "try { return storage.sql.exec(q, ...binds).raw().toArray(); }"
            + " catch (e) { return String(e && e.message || e); }")
    private static native JSObject exec(JSObject storage, String q, JSObject binds);

    /** Runs a write to its end: workerd's rowsWritten (triggers included), or the error's message as a string. */
    @JSBody(params = {"storage", "q", "binds"}, script = "try { const c = storage.sql.exec(q, ...binds); c.toArray();"
            + " return c.rowsWritten; } catch (e) { return String(e && e.message || e); }")
    private static native JSObject write(JSObject storage, String q, JSObject binds);

    @JSBody(params = "r", script = "return r;")
    private static native double writtenOf(JSObject r);

    @JSBody(params = "r", script = "return typeof r === 'string' ? r : null;")
    private static native String errorOf(JSObject r);

    @JSBody(script = "return [];")
    private static native JSObject newArray();

    @JSBody(params = "a", script = "a.push(null);")
    private static native void pushNull(JSObject a);

    @JSBody(params = {"a", "s"}, script = "a.push(s);")
    private static native void pushString(JSObject a, String s);

    @JSBody(params = {"a", "n"}, script = "a.push(n);")
    private static native void pushNumber(JSObject a, double n);

    private static final class JsRows implements Rows {
        private final JSObject rows;
        private final int count;
        private int index = -1;

        JsRows(JSObject rows) {
            this.rows = rows;
            this.count = length(rows);
        }

        @Override
        public boolean next() {
            return ++index < count;
        }

        @Override
        public boolean isNull(int column) {
            return cellType(rows, index, column) == 0;
        }

        @Override
        public String getString(int column) {
            int type = cellType(rows, index, column);
            return type == 0 ? null : type == 2 ? textCell(rows, index, column) : stringCell(rows, index, column);
        }

        @Override
        public long getLong(int column) {
            return (long) numberCell(rows, index, column);
        }

        @Override
        public double getDouble(int column) {
            return numberCell(rows, index, column);
        }

        @Override
        public Object get(int column) {
            int type = cellType(rows, index, column);
            if (type == 0) {
                return null;
            }
            if (type == 2) {
                return textCell(rows, index, column);
            }
            double d = numberCell(rows, index, column);
            return d == Math.rint(d) && Math.abs(d) < 9.007199254740992E15 ? (Object) (long) d : (Object) d;
        }

        @JSBody(params = "a", script = "return a.length;")
        private static native int length(JSObject a);

        /** 0 null, 1 number, 2 string, 3 other (blob). */
        @JSBody(params = {"rows", "r", "c"}, script = "const v = rows[r][c]; return v === null || v === undefined ? 0"
                + " : typeof v === 'number' ? 1 : typeof v === 'string' ? 2 : 3;")
        private static native int cellType(JSObject rows, int r, int c);

        @JSBody(params = {"rows", "r", "c"}, script = "return rows[r][c];")
        private static native String textCell(JSObject rows, int r, int c);

        @JSBody(params = {"rows", "r", "c"}, script = "return String(rows[r][c]);")
        private static native String stringCell(JSObject rows, int r, int c);

        @JSBody(params = {"rows", "r", "c"}, script = "return Number(rows[r][c]);")
        private static native double numberCell(JSObject rows, int r, int c);
    }
}
