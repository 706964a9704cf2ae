package dev.shoal.engine.jvm;

import dev.shoal.engine.App;
import dev.shoal.engine.ShoalError;
import dev.shoal.engine.mutate.Mutator;
import dev.shoal.engine.mutate.Row;
import dev.shoal.engine.schema.Table;
import dev.shoal.engine.schema.V;
import dev.shoal.engine.shape.Shape;
import dev.shoal.engine.where.Where;
import dev.shoal.protocol.Json;
import java.util.LinkedHashMap;
import java.util.Map;

/** A small app for engine tests: notes with every column type, and mutators for every write. */
public final class NotesApp {
    private NotesApp() {}

    public static final Table NOTES = Table.named("notes")
            .column("owner", V.string())
            .column("title", V.string().max(200))
            .column("done", V.bool())
            .column("rank", V.optional(V.integer()))
            .column("tags", V.optional(V.json()));

    public static App app() {
        return App.builder()
                .table(NOTES)
                .shape(Shape.named("notesByOwner").on("notes")
                        .args(V.object().field("owner", V.string()))
                        .where(args -> Where.eq("owner", args.get("owner").asString()))
                        .columns("title", "done", "owner"))
                .shape(Shape.named("myNotes").on("notes")
                        .where(args -> Where.eq("owner", Where.me())))
                .mutator(Mutator.named("put")
                        .args(V.object().field("id", V.id("notes")).field("title", V.string()).field("owner", V.optional(V.string())))
                        .server((ctx, a) -> ctx.db().insert("notes", Row.of("id", a.get("id").asString(),
                                "owner", a.get("owner") == null ? ctx.auth().userId() : a.get("owner").asString(),
                                "title", a.get("title").asString(), "done", false))))
                .mutator(Mutator.named("patch")
                        .args(V.object().field("id", V.id("notes")).field("fields", V.record(V.json())))
                        .server((ctx, a) -> ctx.db().patch("notes", a.get("id").asString(), fields(a.get("fields")))))
                .mutator(Mutator.named("replace")
                        .args(V.object().field("id", V.id("notes")).field("title", V.string()))
                        .server((ctx, a) -> ctx.db().replace("notes", a.get("id").asString(), Row.of(
                                "owner", ctx.auth().userId(), "title", a.get("title").asString(), "done", true))))
                .mutator(Mutator.named("remove")
                        .args(V.object().field("id", V.id("notes")))
                        .server((ctx, a) -> ctx.db().delete("notes", a.get("id").asString())))
                .mutator(Mutator.named("putThenFail")
                        .args(V.object().field("id", V.id("notes")))
                        .server((ctx, a) -> {
                            ctx.db().insert("notes", Row.of("id", a.get("id").asString(), "owner", "x", "title", "t", "done", false));
                            throw ShoalError.validation("refused after writing");
                        }))
                .mutator(Mutator.named("putThenCrash")
                        .args(V.object().field("id", V.id("notes")))
                        .server((ctx, a) -> {
                            ctx.db().insert("notes", Row.of("id", a.get("id").asString(), "owner", "x", "title", "t", "done", false));
                            throw new IllegalStateException("bug in app");
                        }))
                .build();
    }

    private static Map<String, Object> fields(Json obj) {
        Map<String, Object> out = new LinkedHashMap<>();
        for (String k : obj.keys()) {
            Json v = obj.get(k);
            out.put(k, switch (v.kind()) {
                case STRING -> v.asString();
                case NUMBER -> v.asNumber();
                case BOOLEAN -> v.asBoolean();
                case NULL -> null;
                default -> v;
            });
        }
        return out;
    }
}
