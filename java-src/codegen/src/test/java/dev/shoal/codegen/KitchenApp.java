package dev.shoal.codegen;

import dev.shoal.engine.App;
import dev.shoal.engine.AppSource;
import dev.shoal.engine.mutate.Mutator;
import dev.shoal.engine.schema.Table;
import dev.shoal.engine.schema.V;
import dev.shoal.engine.shape.Shape;
import dev.shoal.engine.where.Where;

/** A small app with a column of every validator kind, for the TypeScript tests. */
public final class KitchenApp implements AppSource {

    static Table things() {
        return Table.named("things")
                .column("label", V.string().max(80))
                .column("ownerId", V.id("users"))
                .column("count", V.integer().min(0))
                .column("score", V.number())
                .column("done", V.bool())
                .column("kind", V.literal("task"))
                .column("note", V.optional(V.string()))
                .column("due", V.nullable(V.number()))
                .column("tags", V.array(V.string()).max(10))
                .column("meta", V.object().field("a", V.integer()).field("b", V.optional(V.bool())))
                .column("counts", V.record(V.integer()))
                .column("state", V.union(V.literal("open"), V.literal(2), V.literal(true)))
                .column("extra", V.json())
                .column("maybeExtra", V.optional(V.json()))
                .column("maybeDue", V.optional(V.nullable(V.integer())));
    }

    static Shape openThings() {
        return Shape.named("openThings").on("things")
                .args(V.object().field("state", V.union(V.literal("open"), V.literal(2)))
                        .field("limit", V.optional(V.integer())).field("odd-key", V.string()))
                .where(args -> Where.eq("done", false))
                .columns("label", "done");
    }

    static Shape allThings() {
        return Shape.named("allThings").on("things").where(args -> Where.all());
    }

    static Mutator addThing() {
        return Mutator.named("addThing")
                .args(V.object().field("id", V.id("things")).field("label", V.string()).field("tags", V.array(V.string())))
                .server((ctx, args) -> {});
    }

    static Mutator ping() {
        return Mutator.named("ping").server((ctx, args) -> {});
    }

    @Override
    public App app() {
        return App.builder().table(things()).shape(openThings()).shape(allThings()).mutator(addThing()).mutator(ping()).build();
    }
}
