package dev.shoal.engine.schema;

import dev.shoal.protocol.Json;
import dev.shoal.protocol.JsonText;
import java.util.ArrayList;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * The validators ({@code v.*} of the design): immutable, composable, shared by args and columns.
 * <pre>
 *   V.object().field("channelId", V.id("channels")).field("text", V.string().max(4000))
 * </pre>
 */
public final class V {
    private V() {}

    public static Str string() {
        return new Str(0, Integer.MAX_VALUE, null);
    }

    /** An id of a row of {@code table}: 1..128 characters of {@code [A-Za-z0-9_.:-]}. */
    public static Str id(String table) {
        return new Str(1, 128, table);
    }

    public static Num number() {
        return new Num(false, Double.NEGATIVE_INFINITY, Double.POSITIVE_INFINITY);
    }

    public static Num integer() {
        return new Num(true, -9.007199254740991E15, 9.007199254740991E15);
    }

    public static Validator bool() {
        return new Bool();
    }

    /** Exactly this string, number or boolean. */
    public static Validator literal(Object value) {
        return new Literal(value);
    }

    public static Validator optional(Validator inner) {
        return new Optional(inner);
    }

    public static Validator nullable(Validator inner) {
        return new Nullable(inner);
    }

    public static Arr array(Validator element) {
        return new Arr(element, 0, Integer.MAX_VALUE);
    }

    public static Obj object() {
        return new Obj(Collections.emptyMap());
    }

    /** An object with any keys (1..128 chars each) whose values all fit {@code value}. */
    public static Validator record(Validator value) {
        return new Rec(value);
    }

    /** The first alternative that fits wins. */
    public static Validator union(Validator... alternatives) {
        return new Union(List.of(alternatives));
    }

    /** Any JSON value, stored as JSON text. */
    public static Validator json() {
        return new AnyJson();
    }

    public static final class Str extends Validator {
        final int min;
        final int max;
        final String idOf;

        Str(int min, int max, String idOf) {
            this.min = min;
            this.max = max;
            this.idOf = idOf;
        }

        public Str min(int chars) {
            return new Str(chars, max, idOf);
        }

        public Str max(int chars) {
            return new Str(min, chars, idOf);
        }

        /** The table whose ids this string names, or null for a plain string. */
        public String idOf() {
            return idOf;
        }

        @Override
        public void check(Json value, String path) {
            if (value == null || !value.isString()) {
                throw fail(path, describe(), value);
            }
            checkString(value.asString(), path, true);
        }

        @Override
        public void checkValue(Object value, String path) {
            if (!(value instanceof String s)) {
                throw failValue(path, describe(), value);
            }
            checkString(s, path, false);
        }

        private void checkString(String s, String path, boolean args) {
            boolean ok = s.length() >= min && s.length() <= max && (idOf == null || isIdText(s));
            if (!ok) {
                String msg = path + ": expected " + describe() + ", got " + JsonText.quote(s.length() > 40 ? s.substring(0, 40) + "..." : s);
                throw args ? dev.shoal.engine.ShoalError.badArgs(msg) : dev.shoal.engine.ShoalError.validation(msg);
            }
        }

        static boolean isIdText(String s) {
            for (int i = 0; i < s.length(); i++) {
                char c = s.charAt(i);
                boolean ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9')
                        || c == '_' || c == '-' || c == '.' || c == ':';
                if (!ok) {
                    return false;
                }
            }
            return true;
        }

        @Override
        public String typeScript() {
            return "string";
        }

        @Override
        public ColumnType columnType() {
            return ColumnType.TEXT;
        }

        @Override
        public String describe() {
            if (idOf != null) {
                return "an id of " + idOf + " (1..128 chars of A-Z a-z 0-9 _ . : -)";
            }
            if (min == 0 && max == Integer.MAX_VALUE) {
                return "a string";
            }
            return "a string of " + min + ".." + (max == Integer.MAX_VALUE ? "" : Integer.toString(max)) + " characters";
        }
    }

    public static final class Num extends Validator {
        final boolean integral;
        final double min;
        final double max;

        Num(boolean integral, double min, double max) {
            this.integral = integral;
            this.min = min;
            this.max = max;
        }

        public Num min(double v) {
            return new Num(integral, v, max);
        }

        public Num max(double v) {
            return new Num(integral, min, v);
        }

        @Override
        public void check(Json value, String path) {
            if (value == null || !value.isNumber() || !fits(value.asNumber())) {
                throw fail(path, describe(), value);
            }
        }

        @Override
        public void checkValue(Object value, String path) {
            if (!(value instanceof Number n) || !fits(n.doubleValue())) {
                throw failValue(path, describe(), value);
            }
        }

        private boolean fits(double d) {
            return !Double.isNaN(d) && d >= min && d <= max && (!integral || d == Math.floor(d));
        }

        @Override
        public String typeScript() {
            return "number";
        }

        @Override
        public ColumnType columnType() {
            return integral ? ColumnType.INTEGER : ColumnType.REAL;
        }

        @Override
        public String describe() {
            String kind = integral ? "an integer" : "a number";
            boolean lo = min > -9.007199254740991E15 && min != Double.NEGATIVE_INFINITY;
            boolean hi = max < 9.007199254740991E15 && max != Double.POSITIVE_INFINITY;
            if (!lo && !hi) {
                return kind;
            }
            return kind + " in " + (lo ? JsonText.number(min) : "") + ".." + (hi ? JsonText.number(max) : "");
        }
    }

    static final class Bool extends Validator {
        @Override
        public void check(Json value, String path) {
            if (value == null || value.kind() != Json.Kind.BOOLEAN) {
                throw fail(path, describe(), value);
            }
        }

        @Override
        public void checkValue(Object value, String path) {
            if (!(value instanceof Boolean)) {
                throw failValue(path, describe(), value);
            }
        }

        @Override
        public String typeScript() {
            return "boolean";
        }

        @Override
        public ColumnType columnType() {
            return ColumnType.BOOLEAN;
        }

        @Override
        public String describe() {
            return "a boolean";
        }
    }

    static final class Literal extends Validator {
        final Object value;

        Literal(Object value) {
            if (!(value instanceof String || value instanceof Number || value instanceof Boolean)) {
                throw new IllegalArgumentException("a literal is a string, number or boolean");
            }
            this.value = value instanceof Number n ? (Object) n.doubleValue() : value;
        }

        @Override
        public void check(Json v, String path) {
            boolean ok = v != null && switch (v.kind()) {
                case STRING -> value.equals(v.asString());
                case NUMBER -> value.equals(v.asNumber());
                case BOOLEAN -> value.equals(v.asBoolean());
                default -> false;
            };
            if (!ok) {
                throw fail(path, describe(), v);
            }
        }

        @Override
        public void checkValue(Object v, String path) {
            Object norm = v instanceof Number n ? (Object) n.doubleValue() : v;
            if (!value.equals(norm)) {
                throw failValue(path, describe(), v);
            }
        }

        @Override
        public String typeScript() {
            return render();
        }

        private String render() {
            return value instanceof String s ? JsonText.quote(s) : value instanceof Double d ? JsonText.number(d) : value.toString();
        }

        @Override
        public ColumnType columnType() {
            return value instanceof String ? ColumnType.TEXT : value instanceof Boolean ? ColumnType.BOOLEAN : ColumnType.REAL;
        }

        @Override
        public String describe() {
            return "exactly " + render();
        }
    }

    static final class Optional extends Validator {
        final Validator inner;

        Optional(Validator inner) {
            this.inner = inner;
        }

        @Override
        public void check(Json value, String path) {
            if (value != null) {
                inner.check(value, path);
            }
        }

        @Override
        public void checkValue(Object value, String path) {
            if (value != null) {
                inner.checkValue(value, path);
            }
        }

        @Override
        public boolean acceptsAbsent() {
            return true;
        }

        @Override
        public boolean acceptsNull() {
            return inner.acceptsNull();
        }

        @Override
        public String typeScript() {
            return inner.typeScript();
        }

        @Override
        public ColumnType columnType() {
            return inner.columnType();
        }

        @Override
        public String describe() {
            return "optionally " + inner.describe();
        }
    }

    static final class Nullable extends Validator {
        final Validator inner;

        Nullable(Validator inner) {
            this.inner = inner;
        }

        @Override
        public void check(Json value, String path) {
            if (value == null || !value.isNull()) {
                inner.check(value, path);
            }
        }

        @Override
        public void checkValue(Object value, String path) {
            if (value != null) {
                inner.checkValue(value, path);
            }
        }

        @Override
        public boolean acceptsNull() {
            return true;
        }

        @Override
        public String typeScript() {
            return inner.typeScript() + " | null";
        }

        @Override
        public ColumnType columnType() {
            return inner.columnType();
        }

        @Override
        public String describe() {
            return inner.describe() + " or null";
        }
    }

    public static final class Arr extends Validator {
        final Validator element;
        final int min;
        final int max;

        Arr(Validator element, int min, int max) {
            this.element = element;
            this.min = min;
            this.max = max;
        }

        public Arr min(int n) {
            return new Arr(element, n, max);
        }

        public Arr max(int n) {
            return new Arr(element, min, n);
        }

        @Override
        public void check(Json value, String path) {
            if (value == null || value.kind() != Json.Kind.ARRAY || value.size() < min || value.size() > max) {
                throw fail(path, describe(), value);
            }
            for (int i = 0; i < value.size(); i++) {
                element.check(value.at(i), path + "[" + i + "]");
            }
        }

        @Override
        public void checkValue(Object value, String path) {
            if (!(value instanceof Json j) || j.kind() != Json.Kind.ARRAY) {
                throw failValue(path, describe(), value);
            }
        }

        @Override
        public String typeScript() {
            return "Array<" + element.typeScript() + ">";
        }

        @Override
        public ColumnType columnType() {
            return ColumnType.JSON;
        }

        @Override
        public String describe() {
            String n = min == 0 && max == Integer.MAX_VALUE ? "" : " of " + min + ".." + (max == Integer.MAX_VALUE ? "" : Integer.toString(max)) + " elements";
            return "an array" + n + " of " + element.describe();
        }
    }

    public static final class Obj extends Validator {
        final Map<String, Validator> fields;
        /** The fields' paths under the last path checked ({@link #pathsUnder}): args are checked under the same path every time. */
        private String pathsOf;
        private String[] paths;

        Obj(Map<String, Validator> fields) {
            this.fields = fields;
        }

        /** "path.field" for each field, in order, built once per distinct path (TeaVM's string building is slow). */
        private String[] pathsUnder(String path) {
            if (!path.equals(pathsOf)) {
                String[] out = new String[fields.size()];
                int i = 0;
                for (String name : fields.keySet()) {
                    out[i++] = path + "." + name;
                }
                paths = out;
                pathsOf = path;
            }
            return paths;
        }

        /** A new object validator with one more field. */
        public Obj field(String name, Validator validator) {
            Map<String, Validator> next = new LinkedHashMap<>(fields);
            if (next.put(name, validator) != null) {
                throw new IllegalArgumentException("field " + name + " declared twice");
            }
            return new Obj(Collections.unmodifiableMap(next));
        }

        public Map<String, Validator> fields() {
            return fields;
        }

        @Override
        public void check(Json value, String path) {
            if (value == null || !value.isObject()) {
                throw fail(path, describe(), value);
            }
            for (String key : value.keys()) {
                if (!fields.containsKey(key)) {
                    throw dev.shoal.engine.ShoalError.badArgs(path + "." + key + ": unknown field (expected one of " + String.join(", ", fields.keySet()) + ")");
                }
            }
            String[] at = pathsUnder(path);
            int i = 0;
            for (Map.Entry<String, Validator> f : fields.entrySet()) {
                Json member = value.get(f.getKey());
                String fieldPath = at[i++];
                if (member == null && !f.getValue().acceptsAbsent()) {
                    throw dev.shoal.engine.ShoalError.badArgs(fieldPath + ": missing, expected " + f.getValue().describe());
                }
                f.getValue().check(member, fieldPath);
            }
        }

        @Override
        public void checkValue(Object value, String path) {
            if (!(value instanceof Json j) || !j.isObject()) {
                throw failValue(path, describe(), value);
            }
        }

        @Override
        public String typeScript() {
            List<String> parts = new ArrayList<>();
            for (Map.Entry<String, Validator> f : fields.entrySet()) {
                parts.add(f.getKey() + (f.getValue().acceptsAbsent() ? "?" : "") + ": " + f.getValue().typeScript());
            }
            return parts.isEmpty() ? "Record<string, never>" : "{ " + String.join("; ", parts) + " }";
        }

        @Override
        public ColumnType columnType() {
            return ColumnType.JSON;
        }

        @Override
        public String describe() {
            return fields.isEmpty() ? "an empty object" : "an object {" + String.join(", ", fields.keySet()) + "}";
        }
    }

    static final class Rec extends Validator {
        final Validator value;

        Rec(Validator value) {
            this.value = value;
        }

        @Override
        public void check(Json v, String path) {
            if (v == null || !v.isObject()) {
                throw fail(path, describe(), v);
            }
            for (String key : v.keys()) {
                if (key.isEmpty() || key.length() > 128) {
                    throw dev.shoal.engine.ShoalError.badArgs(path + ": keys must have 1..128 characters");
                }
                value.check(v.get(key), path + "." + key);
            }
        }

        @Override
        public void checkValue(Object v, String path) {
            if (!(v instanceof Json j) || !j.isObject()) {
                throw failValue(path, describe(), v);
            }
        }

        @Override
        public String typeScript() {
            return "Record<string, " + value.typeScript() + ">";
        }

        @Override
        public ColumnType columnType() {
            return ColumnType.JSON;
        }

        @Override
        public String describe() {
            return "an object whose values are " + value.describe();
        }
    }

    static final class Union extends Validator {
        final List<Validator> alternatives;

        Union(List<Validator> alternatives) {
            if (alternatives.isEmpty()) {
                throw new IllegalArgumentException("a union needs at least one alternative");
            }
            this.alternatives = alternatives;
        }

        @Override
        public void check(Json value, String path) {
            for (Validator alternative : alternatives) {
                try {
                    alternative.check(value, path);
                    return;
                } catch (dev.shoal.engine.ShoalError ignored) {
                    // try the next alternative
                }
            }
            throw fail(path, describe(), value);
        }

        @Override
        public void checkValue(Object value, String path) {
            for (Validator alternative : alternatives) {
                try {
                    alternative.checkValue(value, path);
                    return;
                } catch (dev.shoal.engine.ShoalError ignored) {
                    // try the next alternative
                }
            }
            throw failValue(path, describe(), value);
        }

        @Override
        public boolean acceptsNull() {
            return alternatives.stream().anyMatch(Validator::acceptsNull);
        }

        @Override
        public String typeScript() {
            List<String> ts = new ArrayList<>();
            alternatives.forEach(a -> ts.add(a.typeScript()));
            return String.join(" | ", ts);
        }

        @Override
        public ColumnType columnType() {
            ColumnType first = alternatives.get(0).columnType();
            return alternatives.stream().allMatch(a -> a.columnType() == first) ? first : ColumnType.JSON;
        }

        @Override
        public String describe() {
            List<String> d = new ArrayList<>();
            alternatives.forEach(a -> d.add(a.describe()));
            return "one of (" + String.join("; ", d) + ")";
        }
    }

    static final class AnyJson extends Validator {
        @Override
        public void check(Json value, String path) {
            if (value == null) {
                throw fail(path, describe(), null);
            }
        }

        @Override
        public void checkValue(Object value, String path) {
            if (!(value instanceof Json)) {
                throw failValue(path, describe(), value);
            }
        }

        @Override
        public boolean acceptsNull() {
            return true;
        }

        @Override
        public String typeScript() {
            return "unknown";
        }

        @Override
        public ColumnType columnType() {
            return ColumnType.JSON;
        }

        @Override
        public String describe() {
            return "any JSON value";
        }
    }
}
