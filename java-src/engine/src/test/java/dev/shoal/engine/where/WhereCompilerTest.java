package dev.shoal.engine.where;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.shoal.testkit.JdbcSql;
import dev.shoal.engine.schema.Table;
import dev.shoal.engine.schema.V;
import dev.shoal.engine.sql.Rows;
import dev.shoal.engine.sql.SqlException;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.stream.IntStream;
import org.junit.jupiter.api.Test;

/** Every operator of the one compiler, run by real SQLite over rows that include NULLs. */
class WhereCompilerTest {
    static final Table T = Table.named("t").column("n", V.nullable(V.number())).column("s", V.nullable(V.string()))
            .column("b", V.nullable(V.bool())).column("owner", V.string());
    static final Table MEMBERS = Table.named("members").column("groupId", V.string()).column("userId", V.string());
    static final Table GROUPED = Table.named("grouped").column("groupId", V.string());

    private final JdbcSql sql = JdbcSql.memory();
    private final WhereCompiler compiler = new WhereCompiler(Map.of("t", T, "members", MEMBERS, "grouped", GROUPED)::get);

    WhereCompilerTest() {
        sql.exec("CREATE TABLE t (id TEXT PRIMARY KEY, n REAL, s TEXT, b INTEGER, owner TEXT)");
        sql.exec("INSERT INTO t VALUES ('a', 1, 'Hello', 1, 'alice'), ('b', 2, '50% off_now', 0, 'bob'),"
                + " ('c', NULL, NULL, NULL, 'alice'), ('d', 3, 'hello world', 1, 'carol')");
        sql.exec("CREATE TABLE members (id TEXT PRIMARY KEY, groupId TEXT, userId TEXT)");
        sql.exec("CREATE TABLE grouped (id TEXT PRIMARY KEY, groupId TEXT)");
        sql.exec("INSERT INTO members VALUES ('m1', 'g1', 'alice'), ('m2', 'g2', 'bob')");
        sql.exec("INSERT INTO grouped VALUES ('x1', 'g1'), ('x2', 'g2'), ('x3', 'g3')");
    }

    private List<String> ids(Table table, Where w, String me) {
        List<Object> params = new ArrayList<>();
        String predicate = compiler.compile(w, table, WhereCompiler.liveFor("cur", me), params);
        Rows rows = sql.query("SELECT id FROM " + table.name() + " AS cur WHERE " + predicate + " ORDER BY id", params.toArray());
        List<String> out = new ArrayList<>();
        while (rows.next()) {
            out.add(rows.getString(0));
        }
        return out;
    }

    private List<String> ids(Where w) {
        return ids(T, w, "alice");
    }

    @Test
    void comparisonsFollowSqlNullSemantics() {
        assertEquals(List.of("b"), ids(Where.eq("n", 2)));
        assertEquals(List.of("a", "d"), ids(Where.ne("n", 2)), "NULL is neither equal nor unequal");
        assertEquals(List.of("a"), ids(Where.lt("n", 2)));
        assertEquals(List.of("a", "b"), ids(Where.lte("n", 2)));
        assertEquals(List.of("d"), ids(Where.gt("n", 2)));
        assertEquals(List.of("b", "d"), ids(Where.gte("n", 2)));
        assertEquals(List.of("a", "d"), ids(Where.not(Where.eq("n", 2))), "not keeps NULL rows out too");
        assertEquals(List.of("c"), ids(Where.isNull("n")));
        assertEquals(List.of("a", "b", "d"), ids(Where.isNotNull("s")));
        assertEquals(List.of("a", "d"), ids(Where.eq("b", true)), "booleans bind as 1/0");
        assertThrows(IllegalArgumentException.class, () -> Where.eq("n", null), "eq null never matches: refused");
    }

    @Test
    void inAndNotInBindOneParameterHoweverLong() {
        assertEquals(List.of("a", "d"), ids(Where.in("n", List.of(1, 3))));
        assertEquals(List.of("b"), ids(Where.notIn("n", List.of(1, 3))));
        assertEquals(List.of(), ids(Where.in("n", List.of())), "an empty in matches nothing");
        assertEquals(List.of("a", "b", "c", "d"), ids(Where.notIn("n", List.of())));
        List<Object> many = new ArrayList<>();
        IntStream.range(0, 5000).forEach(i -> many.add("user" + i));
        many.add("bob");
        List<Object> params = new ArrayList<>();
        compiler.compile(Where.in("owner", many), T, WhereCompiler.liveFor("cur", "x"), params);
        assertEquals(1, params.size());
        assertEquals(List.of("b"), ids(Where.in("owner", many)));
    }

    @Test
    void containsIsCaseInsensitiveAndTakesWildcardsLiterally() {
        assertEquals(List.of("a", "d"), ids(Where.contains("s", "HELLO")));
        assertEquals(List.of("b"), ids(Where.contains("s", "50%")));
        assertEquals(List.of("b"), ids(Where.contains("s", "f_n")));
        assertEquals(List.of("b"), ids(Where.contains("s", "%")), "% is a plain character");
        assertEquals(List.of(), ids(Where.contains("s", "_x")));
    }

    @Test
    void andOrNotAndTheirEmptyForms() {
        assertEquals(List.of("a", "b", "c", "d"), ids(Where.and()), "an empty and matches everything");
        assertEquals(List.of(), ids(Where.or()), "an empty or matches nothing");
        assertEquals(List.of("a", "c"), ids(Where.and(Where.eq("owner", "alice"))));
        assertEquals(List.of("a", "b"), ids(Where.or(Where.eq("n", 1), Where.eq("owner", "bob"))));
        assertTrue(Where.everythingByAccident(Where.and()));
        assertTrue(Where.everythingByAccident(Where.not(Where.or())));
        assertTrue(!Where.everythingByAccident(Where.all()), "all() says it on purpose");
    }

    @Test
    void theIdentityIsASymbolBoundAtEvaluation() {
        assertEquals(List.of("a", "c"), ids(T, Where.eq("owner", Where.me()), "alice"));
        assertEquals(List.of("b"), ids(T, Where.eq("owner", Where.me()), "bob"));
    }

    @Test
    void existsCompilesRelationsOverTheSameShard() {
        Where mine = Where.exists("members", "groupId", "groupId", Where.eq("userId", Where.me()));
        assertEquals(List.of("x1"), ids(GROUPED, mine, "alice"));
        assertEquals(List.of("x2"), ids(GROUPED, mine, "bob"));
        assertEquals(List.of(), ids(GROUPED, mine, "carol"));
    }

    @Test
    void unknownColumnsAndTablesFailLoudly() {
        assertThrows(IllegalArgumentException.class, () -> ids(Where.eq("nope", 1)));
        assertThrows(IllegalArgumentException.class, () -> ids(Where.exists("nope", "n", "id", Where.all())));
    }

    @Test
    void theJvmSqlRefusesWhatTheDurableObjectWould() {
        Object[] tooMany = new Object[101];
        java.util.Arrays.fill(tooMany, 1);
        assertThrows(SqlException.class, () -> sql.query("SELECT 1", tooMany));
        assertThrows(SqlException.class, () -> sql.query("SELECT '" + "x".repeat(100_001) + "'"));
    }
}
