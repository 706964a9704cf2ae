package dev.shoal.engine.sync;

import dev.shoal.engine.Auth;
import dev.shoal.engine.sql.Sql;
import dev.shoal.protocol.ErrorCode;
import dev.shoal.protocol.ServerFrames;
import java.util.Collection;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * The open sockets of the shard, persisted in {@code __shoal_conns} so that they survive eviction,
 * and cached here. A socket's token is checked against its expiry on every frame and before every
 * poke; the earliest expiry is kept so that a poke round checks no socket while none can have expired.
 */
final class Connections {
    private final Sql sql;
    private final Peers peers;
    private final Map<String, Conn> conns = new LinkedHashMap<>();
    /** Open sockets per identity, for {@code socketsPerIdentityMax}. */
    private final Map<String, Integer> perIdentity = new java.util.HashMap<>();
    /** The earliest expiry among the sockets (seconds), or +infinity; only ever too early, never too late. */
    private double earliestExpSec = Double.POSITIVE_INFINITY;

    Connections(Sql sql, Peers peers) {
        this.sql = sql;
        this.peers = peers;
    }

    /** Remembers a socket (persisted unless {@code restoring}, i.e. read back from SQLite after eviction). */
    Conn add(String conn, Auth auth, String client, String claimsJson, double expSec, PushLedger.Client ledger, boolean restoring) {
        if (!restoring) {
            sql.exec("INSERT OR REPLACE INTO __shoal_conns (conn, identity, client, claims, exp) VALUES (?, ?, ?, ?, ?)",
                    conn, auth.userId(), client, claimsJson, expSec);
        }
        Conn c = new Conn(conn, auth, client, expSec, ledger);
        Conn replaced = conns.put(conn, c);
        if (replaced != null) {
            replaced.ledger.sockets.remove(replaced);
            perIdentity.merge(replaced.auth.userId(), -1, Integer::sum);
        }
        perIdentity.merge(auth.userId(), 1, Integer::sum);
        ledger.sockets.add(c);
        if (expSec > 0 && expSec < earliestExpSec) {
            earliestExpSec = expSec;
        }
        return c;
    }

    Conn get(String conn) {
        return conns.get(conn);
    }

    Conn remove(String conn) {
        sql.exec("DELETE FROM __shoal_conns WHERE conn = ?", conn);
        Conn c = conns.remove(conn);
        if (c != null) {
            c.ledger.sockets.remove(c);
            if (perIdentity.merge(c.auth.userId(), -1, Integer::sum) <= 0) {
                perIdentity.remove(c.auth.userId());
            }
        }
        return c;
    }

    /** How many sockets {@code userId} holds open on this shard. */
    int socketsOf(String userId) {
        return perIdentity.getOrDefault(userId, 0);
    }

    Collection<Conn> all() {
        return conns.values();
    }

    int size() {
        return conns.size();
    }

    static double nowSec() {
        return System.currentTimeMillis() / 1000.0;
    }

    /** False while no socket's token can have expired at {@code nowSec}: a poke round then checks none. */
    boolean anyMayExpire(double nowSec) {
        return nowSec > earliestExpSec;
    }

    /** True (and the socket is told and closed) when its token has expired. */
    boolean expired(Conn c, double nowSec) {
        if (c.expiredAt(nowSec)) {
            peers.send(c.id, ServerFrames.error(ErrorCode.TOKEN_EXPIRED, "the token expired: reconnect with a fresh one", null));
            peers.close(c.id, ErrorCode.TOKEN_EXPIRED.closeCode, "token expired");
            return true;
        }
        return false;
    }
}
