package dev.shoal.durable;

import org.teavm.jso.JSExport;
import org.teavm.jso.JSObject;
import org.teavm.jso.JSBody;
import org.teavm.jso.JSFunctor;

public final class Probe {
    sealed interface Node permits Leaf, Pair {}
    record Leaf(String v) implements Node {}
    record Pair(Node a, Node b) implements Node {}
    @JSFunctor interface Fn extends JSObject { void run(); }
    @JSBody(params = {"storage", "fn"}, script = "return storage.transactionSync(fn);")
    static native void tx(JSObject storage, Fn fn);

    private RuntimeException caught;
    @JSExport public Probe() {}
    @JSExport public String render(String x) {
        Node n = new Pair(new Leaf(x), new Leaf("y"));
        return show(n);
    }
    static String show(Node n) {
        if (n instanceof Leaf l) return l.v();
        Pair p = (Pair) n;
        return "(" + show(p.a()) + " " + show(p.b()) + ")";
    }
    @JSExport public String txThrow(JSObject storage) {
        caught = null;
        try {
            tx(storage, () -> { try { throw new IllegalStateException("boom"); } catch (RuntimeException e) { caught = e; throwJs("rollback"); } });
        } catch (Throwable t) {
            return "caught " + (caught != null ? caught.getMessage() : "?") + " / " + t;
        }
        return "no";
    }
    @JSBody(params = "m", script = "throw new Error(m);")
    static native void throwJs(String m);
}
