package dev.shoal.durable;

import dev.shoal.protocol.Json;
import org.teavm.jso.JSBody;
import org.teavm.jso.JSObject;

/**
 * {@link Json} over a value from the runtime's native {@code JSON.parse}: walking it from Java
 * costs the same as walking it in JS, and nothing is copied.
 */
final class JsJson implements Json {
    static final Json.Parser PARSER = text -> {
        JSObject box = parseBoxed(text);
        if (box == null) {
            throw new IllegalArgumentException("not JSON");
        }
        return new JsJson(unbox(box));
    };

    /** {@code Kind.values()} copies its array on every call: read it once. */
    private static final Kind[] KINDS = Kind.values();

    private final JSObject value;
    private final Kind kind;

    JsJson(JSObject value) {
        this.value = value;
        this.kind = KINDS[kindOf(value)];
    }

    @Override
    public Kind kind() {
        return kind;
    }

    @Override
    public boolean asBoolean() {
        return kind == Kind.BOOLEAN && asBool(value);
    }

    @Override
    public double asNumber() {
        return kind == Kind.NUMBER ? asDouble(value) : Double.NaN;
    }

    @Override
    public String asString() {
        return kind == Kind.STRING ? asText(value) : null;
    }

    @Override
    public int size() {
        return kind == Kind.ARRAY ? length(value) : 0;
    }

    @Override
    public Json at(int index) {
        return new JsJson(item(value, index));
    }

    @Override
    public Json get(String key) {
        return kind == Kind.OBJECT && has(value, key) ? new JsJson(member(value, key)) : null;
    }

    @Override
    public String[] keys() {
        if (kind != Kind.OBJECT) {
            return new String[0];
        }
        JSObject names = keysOf(value);
        String[] out = new String[length(names)];
        for (int i = 0; i < out.length; i++) {
            out[i] = asText(item(names, i));
        }
        return out;
    }

    @Override
    public String text() {
        return stringify(value);
    }

    /** Kind ordinals: NULL, BOOLEAN, NUMBER, STRING, ARRAY, OBJECT. */
    @JSBody(params = "v", script = "return v === null || v === undefined ? 0 : typeof v === 'boolean' ? 1"
            + " : typeof v === 'number' ? 2 : typeof v === 'string' ? 3 : Array.isArray(v) ? 4 : 5;")
    private static native int kindOf(JSObject v);

    /** Wraps the parse result so that a JSON null is not confused with a failure. */
    @JSBody(params = "t", script = "try { return { v: JSON.parse(t) }; } catch (e) { return null; }")
    private static native JSObject parseBoxed(String t);

    @JSBody(params = "b", script = "return b.v;")
    private static native JSObject unbox(JSObject b);

    @JSBody(params = "v", script = "return v;")
    private static native boolean asBool(JSObject v);

    @JSBody(params = "v", script = "return v;")
    private static native double asDouble(JSObject v);

    @JSBody(params = "v", script = "return v;")
    private static native String asText(JSObject v);

    @JSBody(params = "v", script = "return v.length;")
    private static native int length(JSObject v);

    @JSBody(params = {"v", "i"}, script = "return v[i];")
    private static native JSObject item(JSObject v, int i);

    @JSBody(params = {"v", "k"}, script = "return Object.prototype.hasOwnProperty.call(v, k);")
    private static native boolean has(JSObject v, String k);

    @JSBody(params = {"v", "k"}, script = "return v[k];")
    private static native JSObject member(JSObject v, String k);

    @JSBody(params = "v", script = "return Object.keys(v);")
    private static native JSObject keysOf(JSObject v);

    @JSBody(params = "v", script = "return JSON.stringify(v);")
    private static native String stringify(JSObject v);
}
