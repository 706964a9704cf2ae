package dev.shoal.engine.mutate;

import dev.shoal.testkit.TestShard;
import dev.shoal.protocol.Json;
import dev.shoal.protocol.JsonText;
import java.util.ArrayList;
import java.util.List;

/** One socket of a {@link TestShard} that pushes as a client does, and reads back what the shard answered. */
final class Pusher {
    final TestShard t;
    final String conn;

    Pusher(TestShard t, String conn, String user, String client) {
        this.t = t;
        this.conn = conn;
        t.open(conn, user, client);
    }

    /** One mutation as push-frame JSON; {@code args} is JSON text. */
    static String m(long id, String name, String args) {
        return "{\"id\":" + id + ",\"name\":" + JsonText.quote(name) + ",\"args\":" + args + "}";
    }

    /** Mutation {@code id}: NotesApp's put of a note whose id and title are {@code note}. */
    static String put(long id, String note) {
        return m(id, "put", "{\"id\":\"" + note + "\",\"title\":\"" + note + "\"}");
    }

    /** Sends one push frame and returns its results as {@code "id:status"}, or {@code "id:CODE"} for an error. */
    List<String> push(String... mutations) {
        int before = t.peers.to(conn, "pushResult").size();
        t.send(conn, "{\"type\":\"push\",\"mutations\":[" + String.join(",", mutations) + "]}");
        List<Json> results = t.peers.to(conn, "pushResult");
        if (results.size() != before + 1) {
            throw new AssertionError("no pushResult; frames: " + t.peers.to(conn));
        }
        List<String> out = new ArrayList<>();
        for (Json r : entries()) {
            String status = r.get("status").asString();
            out.add((long) r.get("id").asNumber() + ":" + (status.equals("error") ? r.get("code").asString() : status));
        }
        return out;
    }

    /** The entries of the last pushResult. */
    List<Json> entries() {
        List<Json> results = t.peers.to(conn, "pushResult");
        Json list = results.get(results.size() - 1).get("results");
        List<Json> out = new ArrayList<>();
        for (int i = 0; i < list.size(); i++) {
            out.add(list.at(i));
        }
        return out;
    }

    /** {@code lastMutationId} of the last poke this socket received. */
    long confirmed() {
        List<Json> ends = t.peers.to(conn, "pokeEnd");
        return (long) ends.get(ends.size() - 1).get("lastMutationId").asNumber();
    }

    /** What the shard has stored as this (identity, client)'s last applied mutation id. */
    static long stored(TestShard t, String user, String client) {
        return t.sql.queryLong(0, "SELECT last_mutation_id FROM __shoal_clients WHERE identity = ? AND client = ?", user, client);
    }

    /** Every note as JSON text, ordered by id: compares whole table states. */
    static String notes(TestShard t) {
        return t.sql.queryString("SELECT coalesce(json_group_array(json_array(id, owner, title, done, rank, tags)), '[]')"
                + " FROM (SELECT * FROM notes ORDER BY id)");
    }
}
