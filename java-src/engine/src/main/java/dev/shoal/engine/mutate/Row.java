package dev.shoal.engine.mutate;

import java.util.LinkedHashMap;
import java.util.Map;

/** Column values a mutator writes: String, Number, Boolean, {@link dev.shoal.protocol.Json} or null. */
public final class Row {
    private Row() {}

    /** {@code Row.of("id", id, "text", text)}: alternating names and values, in order. */
    public static Map<String, Object> of(Object... namesAndValues) {
        if (namesAndValues.length % 2 != 0) {
            throw new IllegalArgumentException("Row.of takes name, value pairs");
        }
        Map<String, Object> row = new LinkedHashMap<>();
        for (int i = 0; i < namesAndValues.length; i += 2) {
            row.put((String) namesAndValues[i], namesAndValues[i + 1]);
        }
        return row;
    }
}
