package dev.shoal.testkit;

import com.fasterxml.jackson.core.JsonFactory;
import com.fasterxml.jackson.core.JsonParser;
import com.fasterxml.jackson.core.JsonToken;
import dev.shoal.protocol.Json;
import dev.shoal.protocol.JsonText;
import java.io.IOException;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * {@link Json} on the JVM: jackson-core's streaming parser builds a small immutable tree. A number
 * remembers whether it was written as an integer, so {@link #toJava} can tell {@code 3} from
 * {@code 3.0}; to the engine every number is a double, as in JavaScript.
 */
public final class JacksonJson implements Json {
    private static final JsonFactory FACTORY = new JsonFactory();
    public static final Json.Parser PARSER = JacksonJson::parse;

    private final Kind kind;
    private final Object value;

    private JacksonJson(Kind kind, Object value) {
        this.kind = kind;
        this.value = value;
    }

    public static Json parse(String text) {
        try (JsonParser p = FACTORY.createParser(text)) {
            JsonToken t = p.nextToken();
            if (t == null) {
                throw new IllegalArgumentException("empty JSON text");
            }
            Json out = read(p, t);
            if (p.nextToken() != null) {
                throw new IllegalArgumentException("trailing content after JSON value");
            }
            return out;
        } catch (IOException e) {
            throw new IllegalArgumentException("not JSON: " + e.getMessage());
        }
    }

    private static Json read(JsonParser p, JsonToken t) throws IOException {
        switch (t) {
            case START_OBJECT: {
                Map<String, Json> members = new LinkedHashMap<>();
                for (JsonToken k = p.nextToken(); k != JsonToken.END_OBJECT; k = p.nextToken()) {
                    String name = p.currentName();
                    members.put(name, read(p, p.nextToken()));
                }
                return new JacksonJson(Kind.OBJECT, members);
            }
            case START_ARRAY: {
                List<Json> items = new ArrayList<>();
                for (JsonToken e = p.nextToken(); e != JsonToken.END_ARRAY; e = p.nextToken()) {
                    items.add(read(p, e));
                }
                return new JacksonJson(Kind.ARRAY, items);
            }
            case VALUE_STRING:
                return new JacksonJson(Kind.STRING, p.getText());
            case VALUE_NUMBER_INT:
                // An integer beyond a long's range is kept as a double, as JavaScript would.
                return new JacksonJson(Kind.NUMBER, p.getNumberType() == JsonParser.NumberType.BIG_INTEGER
                        ? (Object) p.getDoubleValue() : (Object) p.getLongValue());
            case VALUE_NUMBER_FLOAT:
                return new JacksonJson(Kind.NUMBER, p.getDoubleValue());
            case VALUE_TRUE:
                return new JacksonJson(Kind.BOOLEAN, true);
            case VALUE_FALSE:
                return new JacksonJson(Kind.BOOLEAN, false);
            case VALUE_NULL:
                return new JacksonJson(Kind.NULL, null);
            default:
                throw new IllegalArgumentException("unexpected JSON token " + t);
        }
    }

    @Override
    public Kind kind() {
        return kind;
    }

    @Override
    public boolean asBoolean() {
        return kind == Kind.BOOLEAN && (Boolean) value;
    }

    @Override
    public double asNumber() {
        return kind == Kind.NUMBER ? ((Number) value).doubleValue() : Double.NaN;
    }

    @Override
    public String asString() {
        return kind == Kind.STRING ? (String) value : null;
    }

    @Override
    @SuppressWarnings("unchecked")
    public int size() {
        return kind == Kind.ARRAY ? ((List<Json>) value).size() : 0;
    }

    @Override
    @SuppressWarnings("unchecked")
    public Json at(int index) {
        return ((List<Json>) value).get(index);
    }

    @Override
    @SuppressWarnings("unchecked")
    public Json get(String key) {
        return kind == Kind.OBJECT ? ((Map<String, Json>) value).get(key) : null;
    }

    @Override
    @SuppressWarnings("unchecked")
    public String[] keys() {
        return kind == Kind.OBJECT ? ((Map<String, Json>) value).keySet().toArray(new String[0]) : new String[0];
    }

    @Override
    @SuppressWarnings("unchecked")
    public String text() {
        return switch (kind) {
            case NULL -> "null";
            case BOOLEAN -> value.toString();
            // A number written with a fraction or exponent (a Double) stays one when written back.
            case NUMBER -> value instanceof Double d && d == Math.rint(d) && !Double.isInfinite(d) && !JsonText.number(d).contains(".")
                    && !JsonText.number(d).contains("e") && !JsonText.number(d).contains("E") ? JsonText.number(d) + ".0" : JsonText.number(asNumber());
            case STRING -> JsonText.quote((String) value);
            case ARRAY -> {
                List<String> parts = new ArrayList<>();
                for (Json j : (List<Json>) value) {
                    parts.add(j.text());
                }
                yield "[" + String.join(",", parts) + "]";
            }
            case OBJECT -> {
                List<String> parts = new ArrayList<>();
                for (Map.Entry<String, Json> e : ((Map<String, Json>) value).entrySet()) {
                    parts.add(JsonText.quote(e.getKey()) + ":" + e.getValue().text());
                }
                yield "{" + String.join(",", parts) + "}";
            }
        };
    }

    /**
     * {@code json} as plain Java values: {@code null}, {@link String}, {@link Boolean}, {@link Long}
     * for a number written as an integer (e.g. an INTEGER column), {@link Double} for any other
     * number (e.g. a REAL column, which SQLite writes as {@code 1.0}), an unmodifiable {@link List}
     * for an array and an unmodifiable {@link Map} (members in their order) for an object. A number
     * of a {@link Json} not parsed here is a Long when it is integral, a Double otherwise.
     */
    @SuppressWarnings("unchecked")
    public static Object toJava(Json json) {
        if (json == null) {
            return null;
        }
        switch (json.kind()) {
            case NULL:
                return null;
            case BOOLEAN:
                return json.asBoolean();
            case STRING:
                return json.asString();
            case NUMBER: {
                if (json instanceof JacksonJson j) {
                    return j.value;
                }
                double d = json.asNumber();
                return d == Math.rint(d) && Math.abs(d) < 9.007199254740992E15 ? (Object) (long) d : (Object) d;
            }
            case ARRAY: {
                List<Object> out = new ArrayList<>();
                for (int i = 0; i < json.size(); i++) {
                    out.add(toJava(json.at(i)));
                }
                return java.util.Collections.unmodifiableList(out);
            }
            default: {
                Map<String, Object> out = new LinkedHashMap<>();
                for (String k : json.keys()) {
                    out.put(k, toJava(json.get(k)));
                }
                return java.util.Collections.unmodifiableMap(out);
            }
        }
    }

    @Override
    public String toString() {
        return text();
    }
}
