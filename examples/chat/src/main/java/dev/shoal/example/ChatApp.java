package dev.shoal.example;

import static dev.shoal.engine.where.Where.and;
import static dev.shoal.engine.where.Where.eq;
import static dev.shoal.engine.where.Where.exists;
import static dev.shoal.engine.where.Where.me;
import static dev.shoal.engine.where.Where.or;

import dev.shoal.engine.App;
import dev.shoal.engine.AppSource;
import dev.shoal.engine.ShoalError;
import dev.shoal.engine.mutate.Mutator;
import dev.shoal.engine.mutate.Row;
import dev.shoal.engine.schema.Table;
import dev.shoal.engine.schema.V;
import dev.shoal.engine.shape.Shape;
import dev.shoal.engine.where.Where;

/**
 * The example app: chat with channels. Its schema, read and write policies, shapes and mutators,
 * all in Java. A user sees only the channels they belong to, their messages and their members.
 * The build finds it through src/main/resources/META-INF/services/dev.shoal.engine.AppSource.
 *
 * <p>Sharded (docs/sharding.md): channel {@code c}, its members and its messages live on shard
 * {@code c}. Two global tables (D1) span the shards: {@code profiles} (display names) and
 * {@code memberships}, the index of each user's channels that the mutators keep, so the page lists
 * a user's channels without asking every shard.
 */
public final class ChatApp implements AppSource {
    /** "The row's channel has me as a member", for a row whose channel id is in {@code column}. */
    private static Where memberOf(String column) {
        return exists("channelMembers", column, "channelId", eq("userId", me()));
    }

    /**
     * {@code founding} is true only inside {@link #CREATE_CHANNEL}, between the channel's insert and
     * its first membership: the one moment its creator may add a member without being one. No
     * mutator sets it afterwards, so a creator who was removed cannot add themselves back.
     */
    public static final Table CHANNELS = Table.named("channels")
            .column("name", V.string().min(1).max(200))
            .column("topic", V.optional(V.string().max(500)))
            .column("createdBy", V.string())
            .column("founding", V.optional(V.bool()))
            .shardBy("id")
            .readPolicy(memberOf("id"))
            .insertPolicy(eq("createdBy", me()))
            .updatePolicy(memberOf("id"))
            // Creating a channel does not make its creator a member forever: deleting needs both.
            .deletePolicy(and(eq("createdBy", me()), memberOf("id")));

    /**
     * Membership rows have the id {@code channelId + "/" + userId}, so a pair exists at most once
     * ("/" never occurs in a channel id, so the pair reads back unambiguously; user ids are free-form).
     */
    public static final Table CHANNEL_MEMBERS = Table.named("channelMembers")
            .id(V.string().min(3).max(260))
            .column("channelId", V.id("channels"))
            .column("userId", V.string().min(1).max(128))
            .index("channelId", "userId")
            .index("userId")
            .shardBy("channelId")
            .readPolicy(memberOf("channelId"))
            // Members add members; the creator of a channel adds the first one (itself), while the
            // channel is being founded (CHANNELS.founding), never later.
            .insertPolicy(or(memberOf("channelId"), and(eq("userId", me()),
                    exists("channels", "channelId", "id", and(eq("createdBy", me()), eq("founding", true))))))
            .updatePolicy(or()) // memberships are added and removed, never edited
            .deletePolicy(memberOf("channelId"));

    public static final Table MESSAGES = Table.named("messages")
            .column("channelId", V.id("channels"))
            .column("authorId", V.string())
            .column("text", V.string().min(1).max(4000))
            .column("createdAt", V.number())
            .index("channelId")
            .shardBy("channelId")
            .readPolicy(memberOf("channelId"))
            .insertPolicy(and(eq("authorId", me()), memberOf("channelId")))
            .updatePolicy(eq("authorId", me()))
            .deletePolicy(eq("authorId", me()));

    /** A user's display name: the row's id is the user id, and only that user writes it. */
    public static final Table PROFILES = Table.named("profiles")
            .id(V.string().min(1).max(128))
            .column("displayName", V.string().min(1).max(100))
            .global()
            .readPolicy(Where.all()) // every signed-in user sees every display name
            .insertPolicy(eq("id", me()))
            .updatePolicy(eq("id", me()))
            .deletePolicy(or()); // never deleted through Shoal

    /**
     * The index of each user's channels across shards, kept by the channel mutators on the
     * channel's shard (written through that shard's outbox to D1): {@code channelId + "/" + userId}
     * as in {@link #CHANNEL_MEMBERS}, with the channel's name copied in so the list needs no join.
     */
    public static final Table MEMBERSHIPS = Table.named("memberships")
            .id(V.string().min(3).max(260))
            .column("channelId", V.id("channels"))
            .column("userId", V.string().min(1).max(128))
            .column("channelName", V.string().min(1).max(200))
            .global()
            .readPolicy(eq("userId", me()));

    public static final Shape MESSAGES_BY_CHANNEL = Shape.named("messagesByChannel").on("messages")
            .args(V.object().field("channelId", V.id("channels")))
            .shardKey("channelId")
            .where(args -> eq("channelId", args.get("channelId").asString()))
            .columns("id", "channelId", "authorId", "text", "createdAt");

    /** Every channel I belong to, on every shard: my rows of the global index (the read policy chooses). */
    public static final Shape MY_CHANNELS = Shape.named("myChannels").on("memberships")
            .where(args -> Where.all())
            .columns("id", "channelId", "channelName");

    /** One channel's row (its topic). {@code createdBy} is not synced. */
    public static final Shape CHANNEL = Shape.named("channel").on("channels")
            .args(V.object().field("id", V.id("channels")))
            .shardKey("id")
            .where(args -> eq("id", args.get("id").asString()))
            .columns("id", "name", "topic");

    /** Every display name, for every signed-in user. */
    public static final Shape PROFILES_SHAPE = Shape.named("profiles").on("profiles")
            .where(args -> Where.all())
            .columns("id", "displayName");

    public static final Shape MEMBERS_BY_CHANNEL = Shape.named("membersByChannel").on("channelMembers")
            .args(V.object().field("channelId", V.id("channels")))
            .shardKey("channelId")
            .where(args -> eq("channelId", args.get("channelId").asString()))
            .columns("id", "channelId", "userId");

    /** Runs on the new channel's shard (its id names it). */
    public static final Mutator CREATE_CHANNEL = Mutator.named("createChannel")
            .args(V.object().field("id", V.id("channels")).field("name", V.string().min(1).max(200)))
            .shardKey("id")
            .server((ctx, args) -> {
                String id = args.get("id").asString();
                String name = args.get("name").asString();
                String me = ctx.auth().userId();
                ctx.db().insert("channels", Row.of("id", id, "name", name, "createdBy", me, "founding", true));
                ctx.db().insert("channelMembers", Row.of("id", memberId(id, me), "channelId", id, "userId", me));
                ctx.db().patch("channels", id, Row.of("founding", false));
                ctx.db().insert("memberships", Row.of("id", memberId(id, me), "channelId", id, "userId", me, "channelName", name));
            });

    /**
     * Patches only {@code name}: a concurrent {@link #SET_TOPIC} of the same channel survives. The
     * name copied into each member's index row follows.
     */
    public static final Mutator RENAME_CHANNEL = Mutator.named("renameChannel")
            .args(V.object().field("id", V.id("channels")).field("name", V.string().min(1).max(200)))
            .shardKey("id")
            .server((ctx, args) -> {
                String id = args.get("id").asString();
                String name = args.get("name").asString();
                ctx.db().patch("channels", id, Row.of("name", name));
                for (java.util.Map<String, Object> member : ctx.db().query("channelMembers", eq("channelId", id))) {
                    ctx.db().patch("memberships", (String) member.get("id"), Row.of("channelName", name));
                }
            });

    /** Patches only {@code topic}. */
    public static final Mutator SET_TOPIC = Mutator.named("setTopic")
            .args(V.object().field("id", V.id("channels")).field("topic", V.string().max(500)))
            .shardKey("id")
            .server((ctx, args) -> ctx.db().patch("channels", args.get("id").asString(), Row.of("topic", args.get("topic").asString())));

    public static final Mutator ADD_MEMBER = Mutator.named("addMember")
            .args(V.object().field("channelId", V.id("channels")).field("userId", V.string().min(1).max(128)))
            .shardKey("channelId")
            .server((ctx, args) -> {
                String channel = args.get("channelId").asString();
                String user = args.get("userId").asString();
                ctx.db().insert("channelMembers", Row.of("id", memberId(channel, user), "channelId", channel, "userId", user));
                // The insert policy admitted a member, so the channel is here and may be read.
                String name = (String) ctx.db().get("channels", channel).get("name");
                ctx.db().insert("memberships", Row.of("id", memberId(channel, user), "channelId", channel, "userId", user, "channelName", name));
            });

    public static final Mutator REMOVE_MEMBER = Mutator.named("removeMember")
            .args(V.object().field("channelId", V.id("channels")).field("userId", V.string().min(1).max(128)))
            .shardKey("channelId")
            .server((ctx, args) -> {
                String channel = args.get("channelId").asString();
                // Checked first, so a non-member learns nothing about who is in the channel.
                if (!ctx.db().exists("channelMembers", and(eq("channelId", channel), eq("userId", me())))) {
                    throw ShoalError.forbidden("only members of " + channel + " may remove members");
                }
                String member = memberId(channel, args.get("userId").asString());
                ctx.db().delete("channelMembers", member);
                ctx.db().delete("memberships", member);
            });

    /** A user names only themself: the row's id is the writer's verified id. Runs on __root__. */
    public static final Mutator SET_DISPLAY_NAME = Mutator.named("setDisplayName")
            .args(V.object().field("displayName", V.string().min(1).max(100)))
            .server((ctx, args) -> ctx.db().insert("profiles", Row.of("id", ctx.auth().userId(),
                    "displayName", args.get("displayName").asString())));

    /** The client picks the id, so its optimistic row and the server's row share a key. */
    public static final Mutator SEND_MESSAGE = Mutator.named("sendMessage")
            .args(V.object().field("id", V.id("messages")).field("channelId", V.id("channels"))
                    .field("text", V.string().min(1).max(4000)))
            .shardKey("channelId")
            .server((ctx, args) -> ctx.db().insert("messages", Row.of(
                    "id", args.get("id").asString(),
                    "channelId", args.get("channelId").asString(),
                    // stamped from the verified identity, never from args
                    "authorId", ctx.auth().userId(),
                    "text", args.get("text").asString(),
                    "createdAt", ctx.now())));

    static String memberId(String channelId, String userId) {
        return channelId + "/" + userId;
    }

    @Override
    public App app() {
        return App.builder()
                .requireReadPolicies()
                // A shard named "user:<id>" is that user's private space; every other shard is shared.
                .shardAccess((auth, shard) -> !shard.startsWith("user:") || shard.equals("user:" + auth.userId()))
                .table(CHANNELS)
                .table(CHANNEL_MEMBERS)
                .table(MESSAGES)
                .table(PROFILES)
                .table(MEMBERSHIPS)
                .shape(MESSAGES_BY_CHANNEL)
                .shape(MY_CHANNELS)
                .shape(CHANNEL)
                .shape(MEMBERS_BY_CHANNEL)
                .shape(PROFILES_SHAPE)
                .mutator(CREATE_CHANNEL)
                .mutator(RENAME_CHANNEL)
                .mutator(SET_TOPIC)
                .mutator(ADD_MEMBER)
                .mutator(REMOVE_MEMBER)
                .mutator(SEND_MESSAGE)
                .mutator(SET_DISPLAY_NAME)
                .build();
    }
}
