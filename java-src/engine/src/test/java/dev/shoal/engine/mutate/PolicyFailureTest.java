package dev.shoal.engine.mutate;

import static dev.shoal.engine.mutate.Pusher.m;
import static org.junit.jupiter.api.Assertions.assertEquals;

import dev.shoal.engine.App;
import dev.shoal.engine.ShoalError;
import dev.shoal.testkit.TestShard;
import dev.shoal.engine.schema.Table;
import dev.shoal.engine.schema.V;
import dev.shoal.engine.where.Where;
import java.util.List;
import org.junit.jupiter.api.Test;

/**
 * A policy refusal fails the whole mutation, even when the mutator's code catches the ShoalError
 * and carries on; and an update the policy refuses is never written, not even for the rest of the
 * mutation's own code to see.
 */
class PolicyFailureTest {
    /** Tasks: anyone may read and create; only the owner may update, and a task stays its owner's. */
    static final Table TASKS = Table.named("tasks")
            .column("owner", V.string())
            .column("title", V.string())
            .readPolicy(Where.all())
            .insertPolicy(Where.eq("owner", Where.me()))
            .updatePolicy(Where.eq("owner", Where.me()))
            .deletePolicy(Where.eq("owner", Where.me()));

    /** Runs {@code write}, swallows what it throws, then writes a task of its own: the mutation "succeeds". */
    private static Mutator swallowing(String name, Mutator.Server write) {
        return Mutator.named(name).args(V.object()).server((ctx, a) -> {
            try {
                write.run(ctx, a);
            } catch (ShoalError e) {
                // a mutator that carries on regardless
            }
            ctx.db().insert("tasks", Row.of("id", "after-" + name, "owner", ctx.auth().userId(), "title", "written after the refusal"));
        });
    }

    static App app() {
        return App.builder()
                .table(TASKS)
                .mutator(Mutator.named("put").args(V.object().field("id", V.id("tasks")))
                        .server((ctx, a) -> ctx.db().insert("tasks", Row.of("id", a.get("id").asString(), "owner", ctx.auth().userId(), "title", "t"))))
                .mutator(swallowing("stealInsert", (ctx, a) -> ctx.db().insert("tasks", Row.of("id", "fake", "owner", "bob", "title", "x"))))
                .mutator(swallowing("patchOthers", (ctx, a) -> ctx.db().patch("tasks", "bobs", Row.of("title", "hijacked"))))
                .mutator(swallowing("giveAway", (ctx, a) -> ctx.db().patch("tasks", "alices", Row.of("owner", "bob"))))
                .mutator(swallowing("deleteOthers", (ctx, a) -> ctx.db().delete("tasks", "bobs")))
                .mutator(Mutator.named("giveAwayThenLook").args(V.object()).server((ctx, a) -> {
                    try {
                        ctx.db().patch("tasks", "alices", Row.of("owner", "bob", "title", "given away"));
                    } catch (ShoalError e) {
                        throw ShoalError.custom("LOOKED", "owner is " + ctx.db().get("tasks", "alices").get("owner"));
                    }
                }))
                .build();
    }

    private final TestShard t = new TestShard(app());

    private String state() {
        return t.sql.queryString("SELECT json_group_array(json_array(id, owner, title)) FROM (SELECT * FROM tasks ORDER BY id)")
                + " log " + t.count("SELECT count(*) FROM __cdc_log");
    }

    @Test
    void aCaughtPolicyRefusalStillFailsAndRollsBackTheMutation() {
        Pusher bob = new Pusher(t, "b", "bob", "cb");
        Pusher alice = new Pusher(t, "a", "alice", "ca");
        assertEquals(List.of("1:ok"), bob.push(m(1, "put", "{\"id\":\"bobs\"}")));
        assertEquals(List.of("1:ok"), alice.push(m(1, "put", "{\"id\":\"alices\"}")));
        String before = state();
        assertEquals(List.of("2:FORBIDDEN", "3:FORBIDDEN", "4:FORBIDDEN", "5:FORBIDDEN"), alice.push(
                m(2, "stealInsert", "{}"), m(3, "patchOthers", "{}"), m(4, "giveAway", "{}"), m(5, "deleteOthers", "{}")));
        assertEquals(before, state(), "neither the refused write nor the writes after it remain");
        assertEquals(5, Pusher.stored(t, "alice", "ca"), "the ids are consumed, as for any application error");
    }

    @Test
    void anUpdateThePolicyRefusesIsNeverWritten() {
        Pusher alice = new Pusher(t, "a", "alice", "ca");
        assertEquals(List.of("1:ok", "2:LOOKED"), alice.push(m(1, "put", "{\"id\":\"alices\"}"), m(2, "giveAwayThenLook", "{}")));
        assertEquals("owner is alice", alice.entries().get(1).get("message").asString(),
                "the refused patch was checked before writing: the mutator's own code never sees it");
    }
}
