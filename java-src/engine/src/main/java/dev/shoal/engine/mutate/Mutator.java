package dev.shoal.engine.mutate;

import dev.shoal.engine.schema.V;
import dev.shoal.protocol.Json;

/**
 * A named write with validated args and an authoritative server implementation that runs inside
 * the shard's Durable Object, in one storage transaction, exactly once per (identity, client, id).
 * <pre>
 *   Mutator.named("sendMessage")
 *       .args(V.object().field("id", V.id("messages")).field("text", V.string().max(4000)))
 *       .server((ctx, args) -> ctx.db().insert("messages", Row.of("id", ..., "authorId", ctx.auth().userId())))
 * </pre>
 */
public final class Mutator {
    @FunctionalInterface
    public interface Server {
        /** Throw {@link dev.shoal.engine.ShoalError} for an expected failure; any write is rolled back. */
        void run(MutatorContext ctx, Json args);
    }

    private final String name;
    private final V.Obj args;
    private final Server server;
    private final String shardKey;

    private Mutator(String name, V.Obj args, Server server, String shardKey) {
        this.shardKey = shardKey;
        this.name = name;
        this.args = args;
        this.server = server;
    }

    public static Mutator named(String name) {
        return new Mutator(name, V.object(), null, null);
    }

    public Mutator args(V.Obj validator) {
        return new Mutator(name, validator, server, shardKey);
    }

    /**
     * The server implementation. A write that a table policy refused fails the mutation (rolled
     * back, {@code FORBIDDEN}) even when {@code impl} catches the error and returns normally.
     */
    public Mutator server(Server impl) {
        return new Mutator(name, args, impl == null ? null : (ctx, a) -> {
            impl.run(ctx, a);
            if (ctx.db() != null) {
                ctx.db().rethrowPolicyFailure();
            }
        }, shardKey);
    }

    /**
     * The arg whose value names the shard this mutator runs on, e.g. {@code .shardKey("channelId")};
     * without one it runs on {@code __root__}. A push on another shard is answered
     * {@code WRONG_SHARD} naming the right one, and a write of a row that lives on another shard
     * fails the mutation with {@code WRONG_SHARD}.
     */
    public Mutator shardKey(String argName) {
        return new Mutator(name, args, server, argName);
    }

    /** The arg that names the shard, or null: the mutator runs on {@code __root__}. */
    public String shardKey() {
        return shardKey;
    }

    public String name() {
        return name;
    }

    public V.Obj args() {
        return args;
    }

    public Server server() {
        return server;
    }
}
