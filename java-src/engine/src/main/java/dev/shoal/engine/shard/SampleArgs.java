package dev.shoal.engine.shard;

import dev.shoal.engine.schema.ColumnType;
import dev.shoal.engine.schema.V;
import dev.shoal.engine.schema.Validator;
import dev.shoal.protocol.Json;
import dev.shoal.protocol.JsonText;
import java.util.Map;

/**
 * Stand-in args for calling a shape's predicate at registration, so the tables it joins can be
 * checked before any client subscribes: every declared field present, strings "sample", numbers
 * 0, booleans false, arrays empty, objects by their own fields. A predicate that cannot run on
 * them is checked again with real args at subscribe.
 */
final class SampleArgs implements Json {
    private final Validator type;

    SampleArgs(Validator type) {
        this.type = type;
    }

    @Override
    public Kind kind() {
        if (type instanceof V.Obj) {
            return Kind.OBJECT;
        }
        if (type instanceof V.Arr) {
            return Kind.ARRAY;
        }
        return switch (type.columnType()) {
            case TEXT -> Kind.STRING;
            case INTEGER, REAL -> Kind.NUMBER;
            case BOOLEAN -> Kind.BOOLEAN;
            case JSON -> Kind.NULL;
        };
    }

    @Override
    public boolean asBoolean() {
        return false;
    }

    @Override
    public double asNumber() {
        return 0;
    }

    @Override
    public String asString() {
        return "sample";
    }

    @Override
    public int size() {
        return 0;
    }

    @Override
    public Json at(int index) {
        throw new IndexOutOfBoundsException("sample arrays are empty");
    }

    @Override
    public Json get(String key) {
        if (!(type instanceof V.Obj obj)) {
            return null;
        }
        Validator field = obj.fields().get(key);
        return field == null ? null : new SampleArgs(field);
    }

    @Override
    public String[] keys() {
        return type instanceof V.Obj obj ? obj.fields().keySet().toArray(new String[0]) : new String[0];
    }

    @Override
    public String text() {
        return switch (kind()) {
            case OBJECT -> {
                String out = "";
                for (Map.Entry<String, Validator> f : ((V.Obj) type).fields().entrySet()) {
                    out += (out.isEmpty() ? "" : ",") + JsonText.quote(f.getKey()) + ":" + new SampleArgs(f.getValue()).text();
                }
                yield "{" + out + "}";
            }
            case ARRAY -> "[]";
            case STRING -> "\"sample\"";
            case NUMBER -> "0";
            case BOOLEAN -> "false";
            case NULL -> "null";
        };
    }
}
