package dev.shoal.protocol;

/**
 * A read-only view of one parsed JSON value. Inside the Durable Object it is backed by the
 * runtime's native {@code JSON.parse} result; on the JVM by jackson-core. The engine never sees
 * which one.
 */
public interface Json {
    enum Kind { NULL, BOOLEAN, NUMBER, STRING, ARRAY, OBJECT }

    Kind kind();

    boolean asBoolean();

    double asNumber();

    String asString();

    /** Number of elements of an array. */
    int size();

    Json at(int index);

    /** The member named {@code key} of an object, or {@code null} when absent. */
    Json get(String key);

    /** The member names of an object, in document order. */
    String[] keys();

    /** This value serialized as JSON text. */
    String text();

    default boolean isObject() {
        return kind() == Kind.OBJECT;
    }

    default boolean isString() {
        return kind() == Kind.STRING;
    }

    default boolean isNumber() {
        return kind() == Kind.NUMBER;
    }

    default boolean isNull() {
        return kind() == Kind.NULL;
    }

    /** Parses JSON text; implemented by the runtime the engine runs on. */
    interface Parser {
        /** @throws IllegalArgumentException when the text is not JSON */
        Json parse(String text);
    }
}
