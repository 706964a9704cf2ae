package dev.shoal.engine.schema;

import dev.shoal.engine.ShoalError;
import dev.shoal.protocol.Json;

/**
 * Checks one JSON value against a declared type. Validators describe shape args, mutator args and
 * table columns alike; build them with {@link V}. A failure is {@code BAD_ARGS} naming the field
 * (a path such as {@code args.members[2].userId}) and what was expected.
 */
public abstract class Validator {
    Validator() {}

    /** @throws ShoalError BAD_ARGS when {@code value} (null when absent) does not fit */
    public abstract void check(Json value, String path);

    /** True when an absent value is accepted (only {@link V#optional}). */
    public boolean acceptsAbsent() {
        return false;
    }

    /** True when JSON null is accepted. */
    public boolean acceptsNull() {
        return false;
    }

    /** The TypeScript type this validator accepts, for codegen. */
    public abstract String typeScript();

    /** The SQLite column type a column of this type is stored as. */
    public abstract ColumnType columnType();

    /** A human phrase for messages: "a string of 1..200 characters". */
    public abstract String describe();

    /** Checks a plain Java value that a mutator writes to a column ({@code VALIDATION} on failure). */
    public abstract void checkValue(Object value, String path);

    static ShoalError fail(String path, String expected, Json got) {
        String what = got == null ? "nothing" : switch (got.kind()) {
            case NULL -> "null";
            case BOOLEAN -> "a boolean";
            case NUMBER -> "a number";
            case STRING -> "a string";
            case ARRAY -> "an array";
            case OBJECT -> "an object";
        };
        return ShoalError.badArgs(path + ": expected " + expected + ", got " + what);
    }

    static ShoalError failValue(String path, String expected, Object got) {
        String what = got == null ? "null" : got instanceof String ? "a string"
                : got instanceof Boolean ? "a boolean" : got instanceof Number ? "a number" : "a " + got.getClass().getSimpleName();
        return ShoalError.validation(path + ": expected " + expected + ", got " + what);
    }
}
