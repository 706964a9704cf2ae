package app;

import static dev.shoal.engine.where.Where.eq;
import static dev.shoal.engine.where.Where.me;

import dev.shoal.engine.App;
import dev.shoal.engine.AppSource;
import dev.shoal.engine.mutate.Mutator;
import dev.shoal.engine.mutate.Row;
import dev.shoal.engine.schema.Table;
import dev.shoal.engine.schema.V;
import dev.shoal.engine.shape.Shape;
import dev.shoal.engine.where.Where;

/**
 * A todo list with per-user privacy: each user reads and writes only their own todos. The schema,
 * the policies, the shape and the mutators are all here; the build finds this class through
 * src/main/resources/META-INF/services/dev.shoal.engine.AppSource.
 */
public final class TodoApp implements AppSource {
    /** {@code ownerId} is stamped from the verified identity by the mutators, never taken from args. */
    public static final Table TODOS = Table.named("todos")
            .column("text", V.string().min(1).max(1000))
            .column("done", V.bool())
            .column("ownerId", V.string())
            .index("ownerId")
            .readPolicy(eq("ownerId", me()))
            .insertPolicy(eq("ownerId", me()))
            .updatePolicy(eq("ownerId", me()))
            .deletePolicy(eq("ownerId", me()));

    /** My todos: the read policy does the choosing. {@code ownerId} is not synced. */
    public static final Shape MY_TODOS = Shape.named("myTodos").on("todos")
            .where(args -> Where.all())
            .columns("id", "text", "done");

    /** The client picks the id, so its optimistic row and the server's row share a key. */
    public static final Mutator ADD_TODO = Mutator.named("addTodo")
            .args(V.object().field("id", V.id("todos")).field("text", V.string().min(1).max(1000)))
            .server((ctx, args) -> ctx.db().insert("todos", Row.of(
                    "id", args.get("id").asString(),
                    "text", args.get("text").asString(),
                    "done", false,
                    "ownerId", ctx.auth().userId())));

    /** Patches only {@code done}; the update policy refuses another user's todo. */
    public static final Mutator SET_DONE = Mutator.named("setDone")
            .args(V.object().field("id", V.id("todos")).field("done", V.bool()))
            .server((ctx, args) -> ctx.db().patch("todos", args.get("id").asString(), Row.of("done", args.get("done").asBoolean())));

    public static final Mutator DELETE_TODO = Mutator.named("deleteTodo")
            .args(V.object().field("id", V.id("todos")))
            .server((ctx, args) -> ctx.db().delete("todos", args.get("id").asString()));

    @Override
    public App app() {
        return App.builder()
                .requireReadPolicies()
                .table(TODOS)
                .shape(MY_TODOS)
                .mutator(ADD_TODO)
                .mutator(SET_DONE)
                .mutator(DELETE_TODO)
                .build();
    }
}
