package dev.shoal.engine.sync;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.shoal.engine.App;
import dev.shoal.engine.Limits;
import dev.shoal.testkit.JdbcSql;
import dev.shoal.engine.jvm.NotesApp;
import dev.shoal.testkit.Replica;
import dev.shoal.testkit.TestShard;
import dev.shoal.engine.schema.Table;
import dev.shoal.engine.schema.V;
import dev.shoal.engine.shape.Shape;
import dev.shoal.engine.where.Where;
import dev.shoal.protocol.Json;
import java.util.List;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.Test;

/** Subscription refusals and limits, in PROTOCOL.md's order: envelope, name, args, then policies. */
class LimitsTest {
    private static Json lastError(TestShard t, String conn) {
        List<Json> errors = t.peers.to(conn, "error");
        return errors.get(errors.size() - 1);
    }

    @Test
    void badArgsAreRefusedBeforeAnyWhereRuns() {
        AtomicInteger whereRuns = new AtomicInteger();
        App app = App.builder().table(NotesApp.NOTES)
                .shape(Shape.named("byOwner").on("notes").args(V.object().field("owner", V.string().max(10)))
                        .where(args -> {
                            whereRuns.incrementAndGet();
                            return Where.eq("owner", args.get("owner").asString());
                        }))
                .build();
        whereRuns.set(0); // registration ran it once with sample args, to check the tables it joins (docs/sharding.md)
        TestShard t = new TestShard(app);
        t.open("c", "u", "cl");
        for (String args : List.of("", ",\"args\":5", ",\"args\":{}", ",\"args\":{\"owner\":7}", ",\"args\":{\"owner\":\"x\",\"more\":1}",
                ",\"args\":{\"owner\":\"much too long\"}")) {
            t.send("c", "{\"type\":\"subscribe\",\"id\":\"s\",\"shape\":\"byOwner\"" + args + "}");
            Json e = lastError(t, "c");
            assertEquals("BAD_ARGS", e.get("code").asString(), args);
            assertEquals("s", e.get("id").asString());
            assertTrue(e.get("message").asString().startsWith("args"), e.get("message").asString());
        }
        assertEquals(0, whereRuns.get());
        assertTrue(lastError(t, "c").get("message").asString().contains("args.owner"), "the message names the field");
        t.send("c", "{\"type\":\"subscribe\",\"id\":\"s\",\"shape\":\"byOwner\",\"args\":{\"owner\":\"x\"}}");
        assertEquals(1, whereRuns.get());
    }

    @Test
    void unknownShapeAndBadEnvelopes() {
        TestShard t = new TestShard(NotesApp.app());
        t.open("c", "u", "cl");
        t.send("c", "{\"type\":\"subscribe\",\"id\":\"s\",\"shape\":\"nope\",\"args\":{}}");
        assertEquals("UNKNOWN_SHAPE", lastError(t, "c").get("code").asString());
        for (String frame : List.of("not json", "[]", "{}", "{\"type\":\"what\"}", "{\"type\":\"subscribe\",\"id\":\"\",\"shape\":\"x\"}",
                "{\"type\":\"subscribe\",\"id\":\"s\",\"shape\":\"notesByOwner\",\"args\":{\"owner\":\"a\"},\"since\":{\"seq\":-1,\"epoch\":\"e\"}}",
                "{\"type\":\"push\",\"mutations\":[]}")) {
            t.send("c", frame);
            assertEquals("BAD_FRAME", lastError(t, "c").get("code").asString(), frame);
        }
    }

    @Test
    void tooManySubscriptionsKeepsTheOthers() {
        TestShard t = new TestShard(NotesApp.app(), JdbcSql.memory(), Limits.defaults().withSubscriptionsPerSocketMax(2));
        t.open("c", "u", "cl");
        for (String id : List.of("a", "b", "c")) {
            t.send("c", "{\"type\":\"subscribe\",\"id\":\"" + id + "\",\"shape\":\"notesByOwner\",\"args\":{\"owner\":\"u\"}}");
        }
        assertEquals("TOO_MANY_SUBSCRIPTIONS", lastError(t, "c").get("code").asString());
        t.send("c", "{\"type\":\"subscribe\",\"id\":\"a\",\"shape\":\"notesByOwner\",\"args\":{\"owner\":\"v\"}}");
        assertEquals(1, t.peers.to("c", "error").size(), "replacing an active id is not a new subscription");
    }

    @Test
    void largeHydrationsSpanSeveralPartsOfOnePoke() {
        TestShard t = new TestShard(NotesApp.app(), JdbcSql.memory(), Limits.defaults().withPokePartBytesMax(4096, 1024));
        t.open("w", "u", "cl");
        StringBuilder push = new StringBuilder("{\"type\":\"push\",\"mutations\":[");
        for (int i = 1; i <= 60; i++) {
            push.append(i > 1 ? "," : "").append("{\"id\":").append(i).append(",\"name\":\"put\",\"args\":{\"id\":\"n").append(i)
                    .append("\",\"title\":\"").append("x".repeat(150)).append("\"}}");
        }
        t.send("w", push.append("]}").toString());
        t.open("r", "u", "cl2");
        t.send("r", "{\"type\":\"subscribe\",\"id\":\"s\",\"shape\":\"myNotes\",\"args\":{}}");
        List<Json> parts = t.peers.to("r", "pokePart");
        assertTrue(parts.size() > 2, "parts: " + parts.size());
        assertEquals(1, t.peers.to("r", "pokeStart").size());
        assertTrue(parts.get(0).get("reset").asBoolean());
        for (int i = 1; i < parts.size(); i++) {
            assertTrue(!parts.get(i).get("reset").asBoolean(), "only the first part resets");
        }
        for (Json p : parts) {
            assertTrue(p.text().length() <= 4096, "part of " + p.text().length() + " bytes");
        }
        assertEquals(60, new Replica(t.peers, "r").rows("s").size());
    }

    @Test
    void theFrameLimitCountsUtf8Bytes() {
        Limits limits = Limits.fromJson(dev.shoal.testkit.JacksonJson.parse("{\"frameBytesMax\": 1000}"));
        TestShard t = new TestShard(NotesApp.app(), JdbcSql.memory(), limits);
        t.open("ascii", "u", "c1");
        t.open("wide", "u", "c2");
        String frame = "{\"type\":\"unsubscribe\",\"id\":\"%s\"}";
        t.send("ascii", String.format(frame, "x".repeat(900)));
        assertEquals("BAD_FRAME", lastError(t, "ascii").get("code").asString(), "900 ASCII characters pass the size gate (the id is then too long)");
        assertTrue(t.peers.closed.isEmpty());
        t.send("wide", String.format(frame, "é".repeat(490)));
        assertEquals("FRAME_TOO_LARGE", lastError(t, "wide").get("code").asString(), "490 two-byte characters do not");
        assertTrue(t.peers.closed.stream().anyMatch(c -> c.conn().equals("wide") && c.code() == 4009));
    }

    @Test
    void rowsOverTheRowLimitAreRefused() {
        TestShard t = new TestShard(NotesApp.app(), JdbcSql.memory(), Limits.defaults().withPokePartBytesMax(4096, 1024));
        t.open("w", "u", "cl");
        t.send("w", "{\"type\":\"push\",\"mutations\":[{\"id\":1,\"name\":\"put\",\"args\":{\"id\":\"n\",\"title\":\"" + "x".repeat(2000) + "\"}}]}");
        Json r = t.peers.to("w", "pushResult").get(0).get("results").at(0);
        assertEquals("VALIDATION", r.get("code").asString());
        assertEquals(0, t.count("SELECT count(*) FROM notes"));
    }

    @Test
    void registrationRefusesPoliciesThatMatchEverythingByAccidentAndMissingReadPolicies() {
        Table t = Table.named("x").column("a", V.string());
        org.junit.jupiter.api.Assertions.assertThrows(IllegalArgumentException.class, () -> t.readPolicy(Where.and()));
        org.junit.jupiter.api.Assertions.assertThrows(IllegalArgumentException.class, () -> t.readPolicy(Where.not(Where.or())));
        org.junit.jupiter.api.Assertions.assertThrows(IllegalArgumentException.class, () -> App.builder().requireReadPolicies().table(t).build());
        org.junit.jupiter.api.Assertions.assertThrows(IllegalArgumentException.class,
                () -> App.builder().table(t.readPolicy(Where.eq("nope", 1))).build(), "unknown column named at registration");
        App.builder().requireReadPolicies().table(t.readPolicy(Where.all())).build();
    }
}
