package dev.shoal.engine.shard;

import static dev.shoal.engine.where.Where.eq;
import static dev.shoal.engine.where.Where.exists;
import static dev.shoal.engine.where.Where.me;

import dev.shoal.engine.App;
import dev.shoal.engine.mutate.Mutator;
import dev.shoal.engine.mutate.Row;
import dev.shoal.engine.schema.Table;
import dev.shoal.engine.schema.V;
import dev.shoal.engine.shape.Shape;
import dev.shoal.engine.where.Where;

/** A sharded app for engine tests: rooms sharded by id, their posts by roomId, a root table, a global one. */
final class RoomsApp {
    private RoomsApp() {}

    static final Table ROOMS = Table.named("rooms").column("name", V.string()).shardBy("id");
    static final Table MEMBERS = Table.named("members").id(V.string().max(300)).column("roomId", V.id("rooms"))
            .column("userId", V.string()).shardBy("roomId");
    static final Table POSTS = Table.named("posts").column("roomId", V.id("rooms")).column("text", V.string())
            .shardBy("roomId").readPolicy(exists("members", "roomId", "roomId", eq("userId", me())));
    static final Table SETTINGS = Table.named("settings").column("value", V.string());
    static final Table PROFILES = Table.named("profiles").id(V.string().min(1).max(128))
            .column("displayName", V.string().min(1).max(100)).column("flag", V.optional(V.bool()))
            .global().readPolicy(Where.all()).insertPolicy(eq("id", me())).updatePolicy(eq("id", me())).deletePolicy(eq("id", me()));

    static App.Builder builder() {
        return App.builder().table(ROOMS).table(MEMBERS).table(POSTS).table(SETTINGS).table(PROFILES)
                .shape(Shape.named("posts").on("posts").args(V.object().field("roomId", V.id("rooms"))).shardKey("roomId")
                        .where(a -> eq("roomId", a.get("roomId").asString())))
                .shape(Shape.named("settings").on("settings").where(a -> Where.all()))
                .shape(Shape.named("profiles").on("profiles").where(a -> Where.all()))
                .mutator(Mutator.named("createRoom").args(V.object().field("id", V.id("rooms"))).shardKey("id")
                        .server((ctx, a) -> {
                            String id = a.get("id").asString();
                            ctx.db().insert("rooms", Row.of("id", id, "name", id));
                            ctx.db().insert("members", Row.of("id", id + "/" + ctx.auth().userId(), "roomId", id, "userId", ctx.auth().userId()));
                        }))
                .mutator(Mutator.named("post").args(V.object().field("id", V.id("posts")).field("roomId", V.id("rooms"))
                                .field("text", V.string())).shardKey("roomId")
                        .server((ctx, a) -> ctx.db().insert("posts", Row.of("id", a.get("id").asString(),
                                "roomId", a.get("roomId").asString(), "text", a.get("text").asString()))))
                // Writes a post of its own room, then one of another room: the second write fails the whole mutation.
                .mutator(Mutator.named("crossPost").args(V.object().field("roomId", V.id("rooms")).field("other", V.id("rooms")))
                        .shardKey("roomId")
                        .server((ctx, a) -> {
                            ctx.db().insert("posts", Row.of("id", "here", "roomId", a.get("roomId").asString(), "text", "x"));
                            ctx.db().insert("posts", Row.of("id", "there", "roomId", a.get("other").asString(), "text", "x"));
                        }))
                .mutator(Mutator.named("setSetting").args(V.object().field("id", V.id("settings")).field("value", V.string()))
                        .server((ctx, a) -> ctx.db().insert("settings", Row.of("id", a.get("id").asString(), "value", a.get("value").asString()))))
                // Writes the global profile and a post of its room, in one mutation on the room's shard.
                .mutator(Mutator.named("postAs").args(V.object().field("roomId", V.id("rooms")).field("id", V.id("posts"))
                                .field("displayName", V.string().min(1).max(100))).shardKey("roomId")
                        .server((ctx, a) -> {
                            ctx.db().insert("profiles", Row.of("id", ctx.auth().userId(), "displayName", a.get("displayName").asString()));
                            ctx.db().insert("posts", Row.of("id", a.get("id").asString(), "roomId", a.get("roomId").asString(), "text", "hi"));
                        }))
                .mutator(Mutator.named("renameSomeone").args(V.object().field("userId", V.string()).field("displayName", V.string()))
                        .server((ctx, a) -> ctx.db().patch("profiles", a.get("userId").asString(),
                                Row.of("displayName", a.get("displayName").asString()))))
                .mutator(Mutator.named("setDisplayName").args(V.object().field("displayName", V.string().min(1).max(100)))
                        .server((ctx, a) -> ctx.db().insert("profiles", Row.of("id", ctx.auth().userId(),
                                "displayName", a.get("displayName").asString()))))
                .mutator(Mutator.named("readProfile").args(V.object())
                        .server((ctx, a) -> ctx.db().get("profiles", ctx.auth().userId())));
    }

    static App app() {
        return builder().build();
    }
}
