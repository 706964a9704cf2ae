package dev.shoal.engine.log;

import static org.junit.jupiter.api.Assertions.assertEquals;

import dev.shoal.engine.App;
import dev.shoal.engine.Limits;
import dev.shoal.testkit.JdbcSql;
import dev.shoal.testkit.TestShard;
import dev.shoal.engine.schema.Table;
import dev.shoal.engine.schema.V;
import dev.shoal.engine.shape.Shape;
import dev.shoal.engine.where.Where;
import org.junit.jupiter.api.Test;

/** A database created by an older version of the app keeps working when a column is added. */
class SchemaEvolutionTest {
    @Test
    void aNewOptionalColumnIsAddedToAnExistingTable() {
        JdbcSql sql = JdbcSql.memory();
        Table v1 = Table.named("notes").column("title", V.string());
        new TestShard(App.builder().table(v1).build(), sql, Limits.defaults());
        sql.exec("INSERT INTO notes (id, title) VALUES ('n1', 'old row')");

        Table v2 = v1.column("topic", V.optional(V.string()));
        App app = App.builder().table(v2)
                .shape(Shape.named("all").on("notes").where(args -> Where.all()).columns("title", "topic")).build();
        TestShard t = new TestShard(app, sql, Limits.defaults());
        t.open("c", "u", "cl");
        t.send("c", "{\"type\":\"subscribe\",\"id\":\"s\",\"shape\":\"all\",\"args\":{}}");
        assertEquals("{\"id\":\"n1\",\"title\":\"old row\",\"topic\":null}", t.peers.rowsTo("c").get(0).get("doc").text());
        sql.exec("UPDATE notes SET topic = 'new' WHERE id = 'n1'");
        assertEquals("new", dev.shoal.testkit.JacksonJson.parse(
                sql.queryString("SELECT doc FROM __cdc_log ORDER BY seq DESC LIMIT 1")).get("topic").asString(),
                "the log triggers were rebuilt with the new column");
    }
}
