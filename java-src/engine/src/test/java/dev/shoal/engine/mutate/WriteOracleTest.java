package dev.shoal.engine.mutate;

import static dev.shoal.engine.mutate.Pusher.m;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.shoal.engine.App;
import dev.shoal.engine.ShoalError;
import dev.shoal.testkit.TestShard;
import dev.shoal.engine.schema.Table;
import dev.shoal.engine.schema.V;
import dev.shoal.engine.where.Where;
import dev.shoal.protocol.Json;
import java.util.List;
import org.junit.jupiter.api.Test;

/**
 * A writer learns nothing about a row it cannot read: a patch, replace or delete of a row hidden by
 * the read policy answers exactly as for a missing row, and an insert of a taken id answers the same
 * whether the writer can read the row or not. {@code ctx.db().readable()} reads as the writer sees.
 */
class WriteOracleTest {
    /** Secrets: each readable and writable by its owner only; deletes are not policed at all. */
    static final Table SECRETS = Table.named("secrets")
            .column("owner", V.string())
            .column("text", V.string())
            .readPolicy(Where.eq("owner", Where.me()))
            .insertPolicy(Where.eq("owner", Where.me()))
            .updatePolicy(Where.eq("owner", Where.me()));

    static App app() {
        return App.builder()
                .table(SECRETS)
                .mutator(Mutator.named("put")
                        .args(V.object().field("id", V.id("secrets")).field("text", V.string()))
                        .server((ctx, a) -> ctx.db().insert("secrets", Row.of("id", a.get("id").asString(),
                                "owner", ctx.auth().userId(), "text", a.get("text").asString()))))
                .mutator(Mutator.named("patch")
                        .args(V.object().field("id", V.id("secrets")))
                        .server((ctx, a) -> ctx.db().patch("secrets", a.get("id").asString(), Row.of("text", "patched"))))
                .mutator(Mutator.named("replace")
                        .args(V.object().field("id", V.id("secrets")))
                        .server((ctx, a) -> ctx.db().replace("secrets", a.get("id").asString(),
                                Row.of("owner", ctx.auth().userId(), "text", "replaced"))))
                .mutator(Mutator.named("remove")
                        .args(V.object().field("id", V.id("secrets")))
                        .server((ctx, a) -> ctx.db().delete("secrets", a.get("id").asString())))
                .mutator(Mutator.named("peek")
                        .args(V.object().field("id", V.id("secrets")))
                        .server((ctx, a) -> {
                            String id = a.get("id").asString();
                            Db.Readable mine = ctx.db().readable();
                            throw ShoalError.custom("SEEN", "get=" + (ctx.db().get("secrets", id) != null)
                                    + " readable.get=" + (mine.get("secrets", id) != null)
                                    + " readable.query=" + mine.query("secrets", Where.eq("id", id)).size()
                                    + " readable.exists=" + mine.exists("secrets", Where.eq("id", id)));
                        }))
                .build();
    }

    private final TestShard t = new TestShard(app());
    private final Pusher bob = new Pusher(t, "b", "bob", "cb");
    private final Pusher alice = new Pusher(t, "a", "alice", "ca");
    private long next = 1;

    WriteOracleTest() {
        assertEquals(List.of("1:ok", "2:ok"), bob.push(
                m(1, "put", "{\"id\":\"bobs\",\"text\":\"bob's secret\"}"),
                m(2, "put", "{\"id\":\"shared-name\",\"text\":\"bob's too\"}")));
        assertEquals(List.of("1:ok"), alice.push(m(next++, "put", "{\"id\":\"alices\",\"text\":\"alice's\"}")));
    }

    /** Alice's answer to one mutation as "CODE message", with the row id replaced by {@code <id>}. */
    private String answer(String name, String id, String extraArgs) {
        List<String> r = alice.push(m(next, name, "{\"id\":\"" + id + "\"" + extraArgs + "}"));
        assertEquals(1, r.size());
        Json entry = alice.entries().get(0);
        next++;
        if (entry.get("status").asString().equals("ok")) {
            return "ok";
        }
        return entry.get("code").asString() + " " + entry.get("message").asString().replace(id, "<id>");
    }

    private String bobsRow() {
        return t.sql.queryString("SELECT json_array(owner, text) FROM secrets WHERE id = 'bobs'");
    }

    @Test
    void patchReplaceAndDeleteOfAnUnreadableRowAnswerAsForAMissingOne() {
        for (String verb : List.of("patch", "replace", "remove")) {
            String missing = answer(verb, "nothing-here", "");
            String hidden = answer(verb, "bobs", "");
            assertTrue(missing.startsWith("CONFLICT "), verb + ": " + missing);
            assertEquals(missing, hidden, verb + ": a hidden row and a missing one must look alike");
            assertFalse(hidden.contains("bob"), "the answer names no one: " + hidden);
        }
        assertEquals("[\"bob\",\"bob's secret\"]", bobsRow(), "nothing was written to the hidden row, and it was not deleted");
    }

    @Test
    void insertOfATakenIdAnswersTheSameWhetherTheRowIsReadableOrNot() {
        String readable = answer("put", "alices", ",\"text\":\"again\"");
        String hidden = answer("put", "bobs", ",\"text\":\"mine now\"");
        assertTrue(readable.startsWith("CONFLICT "), readable);
        assertEquals(readable, hidden);
        assertFalse(hidden.contains("exists"), "the words do not say the row exists: " + hidden);
        assertEquals("[\"bob\",\"bob's secret\"]", bobsRow());
    }

    @Test
    void theOwnerOfAReadableRowStillWritesIt() {
        // Alice reads and owns this row: the checks that hide rows do not get in her way.
        assertEquals("ok", answer("patch", "alices", ""));
        assertEquals("[\"alice\",\"patched\"]", t.sql.queryString("SELECT json_array(owner, text) FROM secrets WHERE id = 'alices'"));
    }

    @Test
    void readableReadsApplyTheReadPolicyAndPlainReadsDoNot() {
        assertEquals("SEEN get=true readable.get=false readable.query=0 readable.exists=false", answer("peek", "bobs", ""));
        assertEquals("SEEN get=true readable.get=true readable.query=1 readable.exists=true", answer("peek", "alices", ""));
        assertEquals("SEEN get=false readable.get=false readable.query=0 readable.exists=false", answer("peek", "nothing-here", ""));
    }
}
