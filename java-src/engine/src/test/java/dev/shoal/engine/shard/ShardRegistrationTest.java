package dev.shoal.engine.shard;

import static dev.shoal.engine.where.Where.eq;
import static dev.shoal.engine.where.Where.exists;
import static dev.shoal.engine.where.Where.me;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.shoal.engine.App;
import dev.shoal.engine.mutate.Mutator;
import dev.shoal.engine.schema.Table;
import dev.shoal.engine.schema.V;
import dev.shoal.engine.shape.Shape;
import dev.shoal.engine.where.Where;
import org.junit.jupiter.api.Test;

/** App.build() refuses joins across shards and global reads inside a shard, naming both tables and the fix. */
class ShardRegistrationTest {
    private static String refusal(App.Builder b) {
        return assertThrows(IllegalArgumentException.class, b::build).getMessage();
    }

    private static void names(String message, String... parts) {
        for (String p : parts) {
            assertTrue(message.contains(p), "\"" + p + "\" in: " + message);
        }
    }

    @Test
    void theTestAppHoldsTogether() {
        RoomsApp.app();
    }

    @Test
    void aShapeJoiningTablesOnDifferentShardKeysIsRefused() {
        String m = refusal(RoomsApp.builder().shape(Shape.named("postsOfRoomMembers").on("posts").args(V.object().field("roomId", V.id("rooms")))
                .shardKey("roomId").where(a -> exists("members", "id", "userId", Where.all()))));
        names(m, "shape postsOfRoomMembers", "posts", "members", "Denormalize", "shard both tables by the same key");
    }

    @Test
    void aPolicyJoiningAShardedTableToAnUnshardedOneIsRefused() {
        Table notes = Table.named("notes").column("roomId", V.id("rooms")).shardBy("roomId")
                .readPolicy(exists("settings", "roomId", "id", eq("value", "open")));
        String m = refusal(RoomsApp.builder().table(notes));
        names(m, "read policy of notes", "notes (sharded by roomId)", "settings (unsharded, on __root__)", "Denormalize");
    }

    @Test
    void anExistsRelationReadingAGlobalTableInsideAShardIsRefused() {
        Table notes = Table.named("notes").column("roomId", V.id("rooms")).column("authorId", V.string()).shardBy("roomId")
                .insertPolicy(exists("profiles", "authorId", "id", eq("id", me())));
        String m = refusal(RoomsApp.builder().table(notes));
        names(m, "insert policy of notes", "global table profiles", "Denormalize");
    }

    @Test
    void aShapeOnAShardedTableMustNameItsShardKeyArg() {
        names(refusal(RoomsApp.builder().shape(Shape.named("p2").on("posts").args(V.object().field("roomId", V.id("rooms")))
                .where(a -> Where.all()))), "shape p2", "sharded by roomId", ".shardKey(\"roomId\")");
        names(refusal(RoomsApp.builder().shape(Shape.named("p3").on("posts").args(V.object().field("roomId", V.id("rooms")))
                .shardKey("room").where(a -> Where.all()))), "shape p3", "shardKey room", "not one of its args");
        names(refusal(RoomsApp.builder().mutator(Mutator.named("m").args(V.object().field("n", V.optional(V.string())))
                .shardKey("n").server((c, a) -> {}))), "mutator m", "required string");
    }

    @Test
    void aGlobalTablesWritePoliciesMayReadOnlyTheId() {
        Table g = Table.named("tags").column("owner", V.string()).global().insertPolicy(eq("owner", me()));
        names(refusal(RoomsApp.builder().table(g)), "insert policy of tags", "only id");
    }

    @Test
    void joinsThroughBothShardKeysAndBetweenGlobalTablesAreAllowed() {
        Table g = Table.named("badges").column("userId", V.string()).global()
                .readPolicy(exists("profiles", "userId", "id", Where.all()));
        RoomsApp.builder().table(g).build();
    }
}
