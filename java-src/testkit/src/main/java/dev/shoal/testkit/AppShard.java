package dev.shoal.testkit;

import dev.shoal.testkit.RecordingPeers.Closed;
import java.util.HashMap;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * One shard of an app, hosted as the Durable Object hosts it, for unit tests: {@link #connect}
 * opens a socket with a verified identity (what the Worker would take from the token), and every
 * {@link TestClient} talks to the engine only in protocol frames. Made by {@link TestKit#shard}.
 *
 * <p>It plays the host's part too: a socket the server closes (a fatal error, a refused shard)
 * is forgotten by the engine as the Durable Object's close handler does, and {@link #restart}
 * hands the new engine instance the sockets still open. Not thread-safe, like the object itself:
 * one event at a time.
 */
public final class AppShard implements AutoCloseable {
    private final TestShard shard;
    private final Map<String, TestClient> open = new LinkedHashMap<>();
    private final Map<String, Integer> autoClients = new HashMap<>();
    private final Set<String> clientsUsed = new HashSet<>();
    private int sockets;
    private int closesRead;

    AppShard(TestShard shard) {
        this.shard = shard;
    }

    /**
     * A new socket of {@code userId} with a new client id {@code "<userId>-<n>"} (n = 1, 2, ...,
     * skipping ids this shard has seen for the user): a new device, or a new tab, with an empty
     * outbox. The client has received {@code connected} when this returns.
     */
    public TestClient connect(String userId) {
        String clientId;
        do {
            clientId = userId + "-" + autoClients.merge(userId, 1, Integer::sum);
        } while (clientsUsed.contains(key(userId, clientId)));
        return connect(userId, clientId);
    }

    /**
     * A new socket of {@code userId} with the client id {@code clientId}: another client id is
     * another device (its own mutation counter); the same client id is the same outbox on a new
     * socket, e.g. a reconnect. The new client numbers its mutations from the
     * {@code lastMutationId} that {@code connected} carries (the shard's record for
     * (userId, clientId)), so while two clients of one client id are open at once they reuse ids
     * and the later pushes are answered {@code duplicate}, as PROTOCOL.md allows one writer per
     * client id. If the app refuses the shard to this user ({@code App.Builder.shardAccess}), the
     * client comes back closed ({@link TestClient#closeCode()} 4003) with the error frame received.
     */
    public TestClient connect(String userId, String clientId) {
        clientsUsed.add(key(userId, clientId));
        String conn = userId + "/" + clientId + "#" + (++sockets);
        TestClient client = new TestClient(this, conn, userId, clientId);
        open.put(conn, client);
        shard.open(conn, userId, clientId);
        settle();
        client.opened();
        return client;
    }

    /**
     * A new engine instance over the same database, as after the Durable Object was evicted
     * (hibernation): no in-memory state survives, data, mutation ids and the open sockets'
     * subscriptions are reloaded from SQLite. Open clients stay connected and keep receiving pokes.
     */
    public void restart() {
        shard.restart();
        shard.shard.retain(open.keySet().toArray(new String[0]));
        settle();
    }

    /** The number a counting SQL query returns, e.g. {@code count("SELECT count(*) FROM todos")}. */
    public long count(String sql) {
        return shard.count(sql);
    }

    /** The shard's database, for checks beyond {@link #count} (it also holds the engine's own {@code __} tables). */
    public JdbcSql sql() {
        return (JdbcSql) shard.sql; // TestKit builds every AppShard on JdbcSql
    }

    /** Closes the database (needed for a file database; an in-memory one is simply dropped). */
    @Override
    public void close() {
        sql().close();
    }

    // ---- for TestClient ----

    RecordingPeers peers() {
        return shard.peers;
    }

    void send(String conn, String frame) {
        shard.send(conn, frame);
        settle();
    }

    void closedByClient(String conn) {
        if (open.remove(conn) != null) {
            shard.shard.closed(conn);
            settle();
        }
    }

    /** As the host: a socket the engine closed is gone, and the engine is told so. */
    private void settle() {
        List<Closed> closed = shard.peers.closed;
        for (; closesRead < closed.size(); closesRead++) {
            Closed c = closed.get(closesRead);
            TestClient client = open.remove(c.conn());
            if (client != null) {
                client.closedByServer(c.code());
                shard.shard.closed(c.conn());
            }
        }
    }

    private static String key(String userId, String clientId) {
        return userId.length() + ":" + userId + clientId;
    }
}
