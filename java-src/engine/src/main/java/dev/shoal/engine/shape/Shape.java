package dev.shoal.engine.shape;

import dev.shoal.engine.schema.V;
import dev.shoal.engine.where.Where;
import dev.shoal.protocol.Json;
import java.util.ArrayList;
import java.util.List;

/**
 * A shape: a table, a predicate over validated args, and a column projection. The client picks the
 * partition by name and args; {@link #where} runs on the server, where {@link Where#me()} is the
 * verified identity the client cannot forge, and the table's read policy is AND-composed with it.
 * <pre>
 *   Shape.named("messagesByChannel").on("messages")
 *       .args(V.object().field("channelId", V.id("channels")))
 *       .where(args -> Where.eq("channelId", args.get("channelId").asString()))
 *       .columns("channelId", "authorId", "text", "createdAt")
 * </pre>
 */
public final class Shape {
    /**
     * Computes the shape's predicate from validated args (they have passed {@link #args()} before
     * this runs). The subscriber's identity is the symbol {@link Where#me()}, never a value: that is
     * what lets every subscriber of the same (shape, args) share one evaluation.
     */
    @FunctionalInterface
    public interface Predicate {
        Where where(Json args);
    }

    private final String name;
    private final String table;
    private final V.Obj args;
    private final Predicate where;
    private final List<String> columns;
    private final String shardKey;

    private Shape(String name, String table, V.Obj args, Predicate where, List<String> columns) {
        this(name, table, args, where, columns, null);
    }

    private Shape(String name, String table, V.Obj args, Predicate where, List<String> columns, String shardKey) {
        this.shardKey = shardKey;
        this.name = name;
        this.table = table;
        this.args = args;
        this.where = where;
        this.columns = columns;
    }

    public static Shape named(String name) {
        return new Shape(name, null, V.object(), null, List.of());
    }

    public Shape on(String tableName) {
        return new Shape(name, tableName, args, where, columns, shardKey);
    }

    public Shape args(V.Obj validator) {
        return new Shape(name, table, validator, where, columns, shardKey);
    }

    public Shape where(Predicate predicate) {
        return new Shape(name, table, args, predicate, columns, shardKey);
    }

    /** The projected columns; {@code id} is always included. Empty means every column. */
    public Shape columns(String... names) {
        List<String> list = new ArrayList<>();
        list.add("id");
        for (String n : names) {
            if (!n.equals("id")) {
                list.add(n);
            }
        }
        return new Shape(name, table, args, where, List.copyOf(list), shardKey);
    }

    /**
     * The arg whose value names the shard this shape's rows live on; required on a table sharded
     * with {@link dev.shoal.engine.schema.Table#shardBy}, e.g. {@code .shardKey("channelId")}. A
     * subscribe on another shard is answered {@code WRONG_SHARD} naming the right one.
     */
    public Shape shardKey(String argName) {
        return new Shape(name, table, args, where, columns, argName);
    }

    /** The arg that names the shard, or null (the table is unsharded or global). */
    public String shardKey() {
        return shardKey;
    }

    public String name() {
        return name;
    }

    public String table() {
        return table;
    }

    public V.Obj args() {
        return args;
    }

    public Predicate predicate() {
        return where;
    }

    public List<String> columns() {
        return columns;
    }
}
