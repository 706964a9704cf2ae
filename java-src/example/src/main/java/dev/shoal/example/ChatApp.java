package dev.shoal.example;

import dev.shoal.engine.App;
import dev.shoal.engine.mutate.Mutator;
import dev.shoal.engine.mutate.Row;
import dev.shoal.engine.schema.Table;
import dev.shoal.engine.schema.V;
import dev.shoal.engine.shape.Shape;
import dev.shoal.engine.where.Where;

/** The example app: chat with channels. Its schema, shapes and mutators, all in Java. */
public final class ChatApp {
    private ChatApp() {}

    public static final Table CHANNELS = Table.named("channels")
            .column("name", V.string().min(1).max(200))
            .column("createdBy", V.string());

    public static final Table MESSAGES = Table.named("messages")
            .column("channelId", V.id("channels"))
            .column("authorId", V.string())
            .column("text", V.string().min(1).max(4000))
            .column("createdAt", V.number());

    public static final Shape MESSAGES_BY_CHANNEL = Shape.named("messagesByChannel").on("messages")
            .args(V.object().field("channelId", V.id("channels")))
            .where((auth, args) -> Where.eq("channelId", args.get("channelId").asString()))
            .columns("id", "channelId", "authorId", "text", "createdAt");

    public static final Mutator CREATE_CHANNEL = Mutator.named("createChannel")
            .args(V.object().field("id", V.id("channels")).field("name", V.string().min(1).max(200)))
            .server((ctx, args) -> ctx.db().insert("channels", Row.of(
                    "id", args.get("id").asString(),
                    "name", args.get("name").asString(),
                    "createdBy", ctx.auth().userId())));

    /** The client picks the id, so its optimistic row and the server's row share a key. */
    public static final Mutator SEND_MESSAGE = Mutator.named("sendMessage")
            .args(V.object().field("id", V.id("messages")).field("channelId", V.id("channels"))
                    .field("text", V.string().min(1).max(4000)))
            .server((ctx, args) -> ctx.db().insert("messages", Row.of(
                    "id", args.get("id").asString(),
                    "channelId", args.get("channelId").asString(),
                    // stamped from the verified identity, never from args
                    "authorId", ctx.auth().userId(),
                    "text", args.get("text").asString(),
                    "createdAt", ctx.now())));

    public static App app() {
        return App.builder()
                .table(CHANNELS)
                .table(MESSAGES)
                .shape(MESSAGES_BY_CHANNEL)
                .mutator(CREATE_CHANNEL)
                .mutator(SEND_MESSAGE)
                .build();
    }
}
