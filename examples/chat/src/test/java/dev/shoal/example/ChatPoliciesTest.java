package dev.shoal.example;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.shoal.testkit.Replica;
import dev.shoal.testkit.TestD1;
import dev.shoal.testkit.TestShard;
import dev.shoal.protocol.Json;
import java.util.List;
import java.util.Set;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/** Read and write policies of the example app, seen only through frames, on real SQLite. */
class ChatPoliciesTest {
    private TestShard t;
    private final java.util.Map<String, Long> nextId = new java.util.HashMap<>();

    @BeforeEach
    void setUp() {
        setUp("c1");
    }

    /** A fresh shard named {@code shard}: channel {@code shard}, its members and messages live there. */
    void setUp(String shard) {
        t = new TestShard(new ChatApp().app(), shard);
        nextId.clear();
        for (String user : List.of("alice", "bob", "carol")) {
            t.open(user, user, user + "-client");
        }
    }

    /** Pushes one mutation as {@code user} and returns "ok" or "error:CODE". */
    private String push(String user, String name, String args) {
        long id = nextId.merge(user, 1L, Long::sum);
        t.send(user, "{\"type\":\"push\",\"mutations\":[{\"id\":" + id + ",\"name\":\"" + name + "\",\"args\":" + args + "}]}");
        List<Json> results = t.peers.to(user, "pushResult");
        Json entry = results.get(results.size() - 1).get("results").at(0);
        return entry.get("status").asString() + (entry.get("code") == null ? "" : ":" + entry.get("code").asString());
    }

    private void subscribe(String user, String sub, String shape, String args) {
        t.send(user, "{\"type\":\"subscribe\",\"id\":\"" + sub + "\",\"shape\":\"" + shape + "\",\"args\":" + args + "}");
    }

    private String msg(String id, String channel) {
        return "{\"id\":\"" + id + "\",\"channelId\":\"" + channel + "\",\"text\":\"text of " + id + "\"}";
    }

    @Test
    void messagesEnterAndLeaveAsMembershipChanges() {
        assertEquals("ok", push("alice", "createChannel", "{\"id\":\"c1\",\"name\":\"one\"}"));
        assertEquals("ok", push("alice", "sendMessage", msg("m1", "c1")));
        subscribe("bob", "s", "messagesByChannel", "{\"channelId\":\"c1\"}");
        Replica bob = new Replica(t.peers, "bob");
        assertEquals(Set.of(), bob.rows("s").keySet(), "a non-member sees nothing");

        assertEquals("ok", push("alice", "addMember", "{\"channelId\":\"c1\",\"userId\":\"bob\"}"));
        assertEquals(Set.of("m1"), bob.rows("s").keySet(), "joining brings the channel's messages, though no message changed");

        assertEquals("ok", push("alice", "sendMessage", msg("m2", "c1")));
        assertEquals(Set.of("m1", "m2"), bob.rows("s").keySet());

        assertEquals("ok", push("alice", "removeMember", "{\"channelId\":\"c1\",\"userId\":\"bob\"}"));
        assertEquals(Set.of(), bob.rows("s").keySet(), "leaving takes them away");
        assertEquals("ok", push("alice", "sendMessage", msg("m3", "c1")));
        assertFalse(bob.sync().idsSeen.contains("m3"), "a message sent after leaving never reaches the ex-member, not even its id");
    }

    @Test
    void aNonMemberReceivesNoTraceOfAChannel() {
        push("alice", "createChannel", "{\"id\":\"c1\",\"name\":\"secret\"}");
        subscribe("carol", "s", "messagesByChannel", "{\"channelId\":\"c1\"}");
        subscribe("carol", "ch", "channel", "{\"id\":\"c1\"}");
        subscribe("carol", "mem", "membersByChannel", "{\"channelId\":\"c1\"}");
        push("alice", "sendMessage", msg("m1", "c1"));
        push("alice", "addMember", "{\"channelId\":\"c1\",\"userId\":\"bob\"}");
        push("alice", "sendMessage", msg("m2", "c1"));
        Replica carol = new Replica(t.peers, "carol").sync();
        assertEquals(List.of(), carol.idsSeen);
        for (Json f : t.peers.to("carol", "pokePart")) {
            // Only row payloads: pokeIds and epochs are random text that may contain anything.
            String text = f.get("rows").text();
            assertFalse(text.contains("m1") || text.contains("secret") || text.contains("c1/"), "leaked: " + text);
        }
    }

    @Test
    void myChannelsListsMyChannelsAcrossShardsAndFollowsMembership() {
        dev.shoal.engine.App app = new ChatApp().app();
        TestD1 d1 = new TestD1(app);
        TestShard global = new TestShard(app, "__global__");
        global.open("bob", "bob", "bob-g");
        global.send("bob", "{\"type\":\"subscribe\",\"id\":\"ch\",\"shape\":\"myChannels\",\"args\":{}}");
        TestShard c2 = new TestShard(app, "c2");
        c2.open("bob", "bob", "bob-client");
        c2.send("bob", "{\"type\":\"push\",\"mutations\":[{\"id\":1,\"name\":\"createChannel\",\"args\":{\"id\":\"c2\",\"name\":\"two\"}}]}");
        push("alice", "createChannel", "{\"id\":\"c1\",\"name\":\"one\"}");
        d1.apply(c2, global);
        d1.apply(t, global);
        Replica bob = new Replica(global.peers, "bob");
        assertEquals(Set.of("c2/bob"), bob.rows("ch").keySet(), "alice's channel is not in bob's list");
        assertEquals("{\"id\":\"c2/bob\",\"channelId\":\"c2\",\"channelName\":\"two\"}", bob.rows("ch").get("c2/bob"));
        push("alice", "addMember", "{\"channelId\":\"c1\",\"userId\":\"bob\"}");
        push("alice", "renameChannel", "{\"id\":\"c1\",\"name\":\"uno\"}");
        d1.apply(t, global);
        assertEquals(Set.of("c1/bob", "c2/bob"), bob.rows("ch").keySet());
        assertTrue(bob.rows("ch").get("c1/bob").contains("\"channelName\":\"uno\""), "a rename reaches every member's entry");
        push("alice", "removeMember", "{\"channelId\":\"c1\",\"userId\":\"bob\"}");
        d1.apply(t, global);
        assertEquals(Set.of("c2/bob"), bob.rows("ch").keySet());
    }

    @Test
    void aUserWritesOnlyTheirOwnDisplayNameAndEveryoneReadsIt() {
        dev.shoal.engine.App app = new ChatApp().app();
        TestD1 d1 = new TestD1(app);
        TestShard root = new TestShard(app);
        TestShard global = new TestShard(app, "__global__");
        global.open("carol", "carol", "carol-g");
        global.send("carol", "{\"type\":\"subscribe\",\"id\":\"p\",\"shape\":\"profiles\",\"args\":{}}");
        root.open("alice", "alice", "alice-client");
        root.send("alice", "{\"type\":\"push\",\"mutations\":[{\"id\":1,\"name\":\"setDisplayName\",\"args\":{\"displayName\":\"Alice\"}},"
                + "{\"id\":2,\"name\":\"setDisplayName\",\"args\":{\"displayName\":\"\"}}]}");
        d1.apply(root, global);
        assertEquals("{\"id\":\"alice\",\"displayName\":\"Alice\"}", new Replica(global.peers, "carol").rows("p").get("alice"));
        Json results = root.peers.to("alice", "pushResult").get(0).get("results");
        assertEquals("BAD_ARGS", results.at(1).get("code").asString(), "1..100 characters");
    }

    @Test
    void writePoliciesRefuseWithTypedErrors() {
        assertEquals("ok", push("alice", "createChannel", "{\"id\":\"c1\",\"name\":\"one\"}"));
        assertEquals("error:FORBIDDEN", push("bob", "sendMessage", msg("m1", "c1")), "a non-member cannot post");
        assertEquals("error:FORBIDDEN", push("bob", "addMember", "{\"channelId\":\"c1\",\"userId\":\"bob\"}"), "nor add himself");
        assertEquals("error:FORBIDDEN", push("bob", "removeMember", "{\"channelId\":\"c1\",\"userId\":\"alice\"}"));
        assertEquals("ok", push("alice", "addMember", "{\"channelId\":\"c1\",\"userId\":\"bob\"}"));
        assertEquals("error:CONFLICT", push("alice", "addMember", "{\"channelId\":\"c1\",\"userId\":\"bob\"}"), "already a member");
        assertEquals("error:CONFLICT", push("alice", "removeMember", "{\"channelId\":\"c1\",\"userId\":\"carol\"}"), "not a member");
        assertEquals("ok", push("bob", "sendMessage", msg("m1", "c1")));
        assertEquals(1, t.count("SELECT count(*) FROM messages"));
        assertEquals("bob", t.sql.queryString("SELECT authorId FROM messages"));
    }

    @Test
    void aCreatorRemovedFromTheirChannelCannotAddThemselvesBack() {
        assertEquals("ok", push("alice", "createChannel", "{\"id\":\"c1\",\"name\":\"one\"}"));
        assertEquals("ok", push("alice", "addMember", "{\"channelId\":\"c1\",\"userId\":\"bob\"}"));
        assertEquals("ok", push("bob", "removeMember", "{\"channelId\":\"c1\",\"userId\":\"alice\"}"));
        assertEquals("error:FORBIDDEN", push("alice", "addMember", "{\"channelId\":\"c1\",\"userId\":\"alice\"}"),
                "the creator clause held only while the channel was being created");
        assertEquals("error:FORBIDDEN", push("alice", "addMember", "{\"channelId\":\"c1\",\"userId\":\"carol\"}"));

        assertEquals(1, t.count("SELECT count(*) FROM channelMembers"), "only bob, in c1");

        // Nor when the channel has emptied: alice leaves her own channel (on its own shard), then tries to come back.
        setUp("c2");
        assertEquals("ok", push("alice", "createChannel", "{\"id\":\"c2\",\"name\":\"two\"}"));
        assertEquals("ok", push("alice", "removeMember", "{\"channelId\":\"c2\",\"userId\":\"alice\"}"));
        assertEquals("error:FORBIDDEN", push("alice", "addMember", "{\"channelId\":\"c2\",\"userId\":\"alice\"}"));
        assertEquals(0, t.count("SELECT count(*) FROM channelMembers"), "nobody in c2");
    }

    /** Pushes one mutation as {@code user} and returns "CODE message", the channel id replaced by {@code <id>}. */
    private String answer(String user, String name, String channel, String args) {
        push(user, name, args);
        List<Json> results = t.peers.to(user, "pushResult");
        Json entry = results.get(results.size() - 1).get("results").at(0);
        return entry.get("code").asString() + " " + entry.get("message").asString().replace(channel, "<id>");
    }

    /** Hidden on its shard, or missing on its own (empty) shard: bob gets the same answer. */
    @Test
    void aNonMemberCannotTellAHiddenChannelFromAMissingOne() {
        setUp("secret-plans");
        assertEquals("ok", push("alice", "createChannel", "{\"id\":\"secret-plans\",\"name\":\"one\"}"));
        String hiddenRename = answer("bob", "renameChannel", "secret-plans", "{\"id\":\"secret-plans\",\"name\":\"mine\"}");
        String hiddenTopic = answer("bob", "setTopic", "secret-plans", "{\"id\":\"secret-plans\",\"topic\":\"t\"}");
        String taken = answer("bob", "createChannel", "secret-plans", "{\"id\":\"secret-plans\",\"name\":\"mine\"}");
        assertFalse(taken.contains("exists"), "createChannel of a taken id does not say it exists: " + taken);
        assertEquals(taken, answer("alice", "createChannel", "secret-plans", "{\"id\":\"secret-plans\",\"name\":\"again\"}"),
                "the same answer to the member, who can see the channel, as to bob, who cannot");
        assertEquals("one", t.sql.queryString("SELECT name FROM channels WHERE id = 'secret-plans'"));

        setUp("no-such");
        assertEquals(answer("bob", "renameChannel", "no-such", "{\"id\":\"no-such\",\"name\":\"mine\"}"), hiddenRename, "renameChannel");
        assertEquals(answer("bob", "setTopic", "no-such", "{\"id\":\"no-such\",\"topic\":\"t\"}"), hiddenTopic, "setTopic");
    }

    @Test
    void editsOfDifferentFieldsOfOneRowBothSurviveInEitherOrder() {
        for (boolean renameFirst : new boolean[] {true, false}) {
            setUp("c");
            push("alice", "createChannel", "{\"id\":\"c\",\"name\":\"old\"}");
            push("alice", "addMember", "{\"channelId\":\"c\",\"userId\":\"bob\"}");
            subscribe("carol", "ch", "channel", "{\"id\":\"c\"}");
            push("alice", "addMember", "{\"channelId\":\"c\",\"userId\":\"carol\"}");
            // Both edits were made offline against the same row; they arrive in either order.
            String rename = "{\"id\":\"c\",\"name\":\"new name\"}";
            String topic = "{\"id\":\"c\",\"topic\":\"new topic\"}";
            if (renameFirst) {
                assertEquals("ok", push("alice", "renameChannel", rename));
                assertEquals("ok", push("bob", "setTopic", topic));
            } else {
                assertEquals("ok", push("bob", "setTopic", topic));
                assertEquals("ok", push("alice", "renameChannel", rename));
            }
            assertEquals("{\"id\":\"c\",\"name\":\"new name\",\"topic\":\"new topic\"}",
                    new Replica(t.peers, "carol").rows("ch").get("c"));
        }
    }

    @Test
    void userIdsAreFreeForm() {
        t.open("odd", "auth0|zoë 用户", "odd-client");
        assertEquals("ok", push("odd", "createChannel", "{\"id\":\"c1\",\"name\":\"one\"}"));
        assertEquals("ok", push("odd", "addMember", "{\"channelId\":\"c1\",\"userId\":\"someone@example.com\"}"));
        assertEquals(2, t.count("SELECT count(*) FROM channelMembers"));
    }

    private long diffQueries() {
        return (long) dev.shoal.testkit.JacksonJson.parse(t.shard.statsJson()).get("diffQueries").asNumber();
    }

    @Test
    void oneViewServesEveryMemberInOneQuery() {
        push("alice", "createChannel", "{\"id\":\"c1\",\"name\":\"one\"}");
        push("alice", "addMember", "{\"channelId\":\"c1\",\"userId\":\"bob\"}");
        subscribe("alice", "s", "messagesByChannel", "{\"channelId\":\"c1\"}");
        subscribe("bob", "s", "messagesByChannel", "{\"channelId\":\"c1\"}");
        subscribe("carol", "s", "messagesByChannel", "{\"channelId\":\"c1\"}");
        long before = diffQueries();
        push("alice", "sendMessage", msg("m1", "c1"));
        assertEquals(1, diffQueries() - before, "three identities, one view, one query");
        assertEquals(Set.of("m1"), new Replica(t.peers, "alice").rows("s").keySet());
        assertEquals(Set.of("m1"), new Replica(t.peers, "bob").rows("s").keySet());
        assertTrue(new Replica(t.peers, "carol").rows("s").isEmpty());
    }
}
