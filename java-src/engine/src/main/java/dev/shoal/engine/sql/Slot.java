package dev.shoal.engine.sql;

import java.util.List;

/**
 * A named hole in a prepared parameter list. Statements whose text depends only on the schema are
 * built once with slots in their parameters and bound per call, which keeps TeaVM's slow string
 * building off the write and poke paths.
 */
public final class Slot {
    private final String name;

    public Slot(String name) {
        this.name = name;
    }

    /** {@code template} with each slot replaced by the value after it in {@code slotsAndValues}. */
    public static Object[] bind(List<Object> template, Object... slotsAndValues) {
        Object[] out = template.toArray();
        for (int i = 0; i < out.length; i++) {
            if (out[i] instanceof Slot) {
                out[i] = valueOf((Slot) out[i], slotsAndValues);
            }
        }
        return out;
    }

    private static Object valueOf(Slot slot, Object[] slotsAndValues) {
        for (int i = 0; i < slotsAndValues.length; i += 2) {
            if (slotsAndValues[i] == slot) {
                return slotsAndValues[i + 1];
            }
        }
        throw new IllegalStateException("no value bound for slot " + slot.name);
    }

    @Override
    public String toString() {
        return "<" + name + ">";
    }
}
