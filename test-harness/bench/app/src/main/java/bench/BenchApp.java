package bench;

import static dev.shoal.engine.where.Where.and;
import static dev.shoal.engine.where.Where.eq;
import static dev.shoal.engine.where.Where.exists;
import static dev.shoal.engine.where.Where.me;
import static dev.shoal.engine.where.Where.or;

import dev.shoal.engine.App;
import dev.shoal.engine.AppSource;
import dev.shoal.engine.mutate.Mutator;
import dev.shoal.engine.mutate.Row;
import dev.shoal.engine.schema.Table;
import dev.shoal.engine.schema.V;
import dev.shoal.engine.shape.Shape;
import dev.shoal.engine.where.Where;

/**
 * The benchmarks' scenario (docs/benchmarks.md): every channel of the shard on one Durable Object,
 * messages readable by the channel's members only. The example chat shards each channel onto its
 * own object; this app keeps them together, so that a benchmark can put thousands of unrelated
 * channels' subscriptions beside the one it writes to.
 */
public final class BenchApp implements AppSource {
    private static Where memberOf(String column) {
        return exists("members", column, "channelId", eq("userId", me()));
    }

    @Override
    public App app() {
        return App.builder()
                .table(Table.named("channels").column("createdBy", V.string())
                        .readPolicy(memberOf("id")).insertPolicy(eq("createdBy", me())).updatePolicy(or()).deletePolicy(or()))
                .table(Table.named("members").column("channelId", V.id("channels")).column("userId", V.string())
                        .index("channelId", "userId")
                        .readPolicy(memberOf("channelId"))
                        .insertPolicy(exists("channels", "channelId", "id", eq("createdBy", me()))).updatePolicy(or()).deletePolicy(or()))
                .table(Table.named("messages").column("channelId", V.id("channels")).column("authorId", V.string())
                        .column("text", V.string().min(1).max(4000)).column("createdAt", V.number()).index("channelId")
                        .readPolicy(memberOf("channelId"))
                        .insertPolicy(and(eq("authorId", me()), memberOf("channelId"))).updatePolicy(or()).deletePolicy(or()))
                .shape(Shape.named("messagesByChannel").on("messages")
                        .args(V.object().field("channelId", V.id("channels")))
                        .where(args -> eq("channelId", args.get("channelId").asString()))
                        .columns("id", "channelId", "authorId", "text", "createdAt"))
                // The creator is the channel's first member.
                .mutator(Mutator.named("createChannel").args(V.object().field("id", V.id("channels")).field("name", V.string()))
                        .server((ctx, a) -> {
                            String id = a.get("id").asString();
                            String me = ctx.auth().userId();
                            ctx.db().insert("channels", Row.of("id", id, "createdBy", me));
                            ctx.db().insert("members", Row.of("id", id + ":" + me, "channelId", id, "userId", me));
                        }))
                .mutator(Mutator.named("addMember").args(V.object().field("channelId", V.id("channels")).field("userId", V.string()))
                        .server((ctx, a) -> ctx.db().insert("members", Row.of("id", a.get("channelId").asString() + ":" + a.get("userId").asString(),
                                "channelId", a.get("channelId").asString(), "userId", a.get("userId").asString()))))
                .mutator(Mutator.named("sendMessage")
                        .args(V.object().field("id", V.id("messages")).field("channelId", V.id("channels")).field("text", V.string().min(1).max(4000)))
                        .server((ctx, a) -> ctx.db().insert("messages", Row.of("id", a.get("id").asString(), "channelId", a.get("channelId").asString(),
                                "authorId", ctx.auth().userId(), "text", a.get("text").asString(), "createdAt", ctx.now()))))
                .build();
    }
}
