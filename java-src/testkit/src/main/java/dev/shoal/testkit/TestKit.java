package dev.shoal.testkit;

import dev.shoal.engine.App;
import dev.shoal.engine.Limits;
import java.nio.file.Path;

/**
 * Unit tests of an app's policies, shapes and mutators in plain JUnit, without workerd: the
 * engine runs on real SQLite (sqlite-jdbc, held to the Durable Object's statement limits) and
 * is driven only through protocol frames, as the Durable Object drives it.
 * <pre>
 *   AppShard shard = TestKit.shard(new TodoApp().app());
 *   TestClient alice = shard.connect("alice");
 *   TestSubscription todos = alice.subscribe("myTodos", "{}");
 *   assertTrue(alice.push("addTodo", "{\"id\":\"t1\",\"title\":\"milk\"}").ok());
 *   assertEquals(Set.of("t1"), todos.rows().keySet());
 * </pre>
 * See docs/testing.md.
 */
public final class TestKit {
    private TestKit() {}

    /** A fresh shard of {@code app} on an in-memory database, with the protocol's default limits. */
    public static AppShard shard(App app) {
        return shard(app, Limits.defaults());
    }

    /** A fresh shard of {@code app} on an in-memory database, with {@code limits}. */
    public static AppShard shard(App app, Limits limits) {
        return new AppShard(new TestShard(app, JdbcSql.memory(), limits));
    }

    /**
     * A shard of {@code app} on the SQLite database file {@code file} (created when missing; an
     * existing one is opened with its data, as a Durable Object finds its storage). Close the
     * shard to release the file.
     */
    public static AppShard shard(App app, Limits limits, Path file) {
        return new AppShard(new TestShard(app, new JdbcSql(file.toString()), limits));
    }
}
