package dev.shoal.example;

import static org.junit.jupiter.api.Assertions.assertEquals;

import dev.shoal.testkit.Replica;
import dev.shoal.testkit.TestShard;
import dev.shoal.protocol.Json;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import org.junit.jupiter.api.Test;

/**
 * Property: after any sequence of writes (messages, edits, membership changes), what each
 * subscriber holds, built only from diffs, equals a fresh full query of its shapes; and a
 * catch-up from any earlier cursor lands on the same rows.
 */
class ViewConvergenceTest {
    private static final List<String> USERS = List.of("u0", "u1", "u2", "u3");
    /** One channel: its shard holds its members and messages (the example is sharded by channel). */
    private static final List<String> CHANNELS = List.of("c0");
    private final Map<String, Long> nextId = new HashMap<>();

    private void push(TestShard t, String user, String name, String args) {
        long id = nextId.merge(user, 1L, Long::sum);
        t.send(user, "{\"type\":\"push\",\"mutations\":[{\"id\":" + id + ",\"name\":\"" + name + "\",\"args\":" + args + "}]}");
    }

    private static String subscribe(String id, String shape, String args, String since) {
        return "{\"type\":\"subscribe\",\"id\":\"" + id + "\",\"shape\":\"" + shape + "\",\"args\":" + args
                + (since == null ? "" : ",\"since\":" + since) + "}";
    }

    @Test
    void diffsConvergeWithFreshQueriesUnderRandomWrites() {
        for (long seed = 1; seed <= 12; seed++) {
            run(seed);
        }
    }

    private void run(long seed) {
        Random random = new Random(seed);
        TestShard t = new TestShard(new ChatApp().app(), CHANNELS.get(0));
        nextId.clear();
        for (String u : USERS) {
            t.open(u, u, u + "-c");
            t.send(u, subscribe("ch", "channel", "{\"id\":\"" + CHANNELS.get(0) + "\"}", null));
            for (String c : CHANNELS) {
                t.send(u, subscribe("m-" + c, "messagesByChannel", "{\"channelId\":\"" + c + "\"}", null));
                t.send(u, subscribe("p-" + c, "membersByChannel", "{\"channelId\":\"" + c + "\"}", null));
            }
        }
        for (String c : CHANNELS) {
            push(t, USERS.get(random.nextInt(USERS.size())), "createChannel", "{\"id\":\"" + c + "\",\"name\":\"" + c + "\"}");
        }
        Map<String, Long> cursors = new HashMap<>();
        int messages = 0;
        for (int step = 0; step < 60; step++) {
            String user = USERS.get(random.nextInt(USERS.size()));
            String channel = CHANNELS.get(random.nextInt(CHANNELS.size()));
            String other = USERS.get(random.nextInt(USERS.size()));
            String pair = "{\"channelId\":\"" + channel + "\",\"userId\":\"" + other + "\"}";
            switch (random.nextInt(4)) {
                case 0 -> push(t, user, "addMember", pair);
                case 1 -> push(t, user, "removeMember", pair);
                default -> push(t, user, "sendMessage", "{\"id\":\"m" + (messages++) + "\",\"channelId\":\"" + channel + "\",\"text\":\"s" + step + "\"}");
            }
            if (step == 20) {
                for (String u : USERS) {
                    cursors.put(u, new Replica(t.peers, u).sync().seq);
                }
            }
        }
        for (String u : USERS) {
            Replica live = new Replica(t.peers, u).sync();
            // A fresh socket of the same user: full hydration is the truth to compare with.
            t.open(u + "-fresh", u, u + "-f");
            t.open(u + "-resume", u, u + "-r");
            for (String[] s : subscriptions()) {
                t.send(u + "-fresh", subscribe(s[0], s[1], s[2], null));
                t.send(u + "-resume", subscribe(s[0], s[1], s[2], "{\"seq\":" + cursors.get(u) + ",\"epoch\":\"" + live.epoch + "\"}"));
            }
            Replica fresh = new Replica(t.peers, u + "-fresh").sync();
            // The resumed socket starts from what the live one held at the cursor: replay its frames up to then.
            Replica resumed = replayUntil(t, u, cursors.get(u), u + "-resume");
            for (String[] s : subscriptions()) {
                assertEquals(fresh.rows(s[0]), live.rows(s[0]), "seed " + seed + ", " + u + ", " + s[0] + ": diffs vs fresh");
                assertEquals(fresh.rows(s[0]), resumed.rows(s[0]), "seed " + seed + ", " + u + ", " + s[0] + ": catch-up vs fresh");
            }
        }
    }

    private static List<String[]> subscriptions() {
        List<String[]> out = new ArrayList<>();
        out.add(new String[] {"ch", "channel", "{\"id\":\"" + CHANNELS.get(0) + "\"}"});
        for (String c : CHANNELS) {
            out.add(new String[] {"m-" + c, "messagesByChannel", "{\"channelId\":\"" + c + "\"}"});
            out.add(new String[] {"p-" + c, "membersByChannel", "{\"channelId\":\"" + c + "\"}"});
        }
        return out;
    }

    /** A replica holding what {@code conn} held at {@code seq}, then fed {@code resumeConn}'s catch-up. */
    private static Replica replayUntil(TestShard t, String conn, long seq, String resumeConn) {
        dev.shoal.testkit.RecordingPeers merged = new dev.shoal.testkit.RecordingPeers();
        List<Json> frames = t.peers.to(conn);
        int cut = 0;
        for (int i = 0; i < frames.size(); i++) {
            Json f = frames.get(i);
            if (f.get("type").asString().equals("pokeEnd") && f.get("seq").asNumber() <= seq) {
                cut = i + 1;
            }
        }
        for (int i = 0; i < cut; i++) {
            merged.send("x", frames.get(i).text());
        }
        for (Json f : t.peers.to(resumeConn)) {
            merged.send("x", f.text());
        }
        return new Replica(merged, "x").sync();
    }
}
