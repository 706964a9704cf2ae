package dev.shoal.engine.sync;

import dev.shoal.engine.Auth;
import dev.shoal.engine.sql.Rows;
import dev.shoal.engine.sql.Sql;
import dev.shoal.protocol.Json;

/**
 * State after eviction: a new engine instance reads the sockets and subscriptions that SQLite
 * kept ({@code __shoal_conns}, {@code __shoal_subs}) on its first event. Nothing else is needed to
 * go on: views are compiled again, and a client's last mutation id is read when first needed.
 */
final class Reload {
    private Reload() {}

    static void restore(Sql sql, Json.Parser json, Connections conns, Subscriptions subs, PushLedger ledger) {
        Rows rows = sql.query("SELECT conn, identity, client, claims, exp FROM __shoal_conns");
        while (rows.next()) {
            String identity = rows.getString(1);
            String client = rows.getString(2);
            conns.add(rows.getString(0), new Auth(identity, json.parse(rows.getString(3))), client, null, rows.getDouble(4),
                    ledger.client(identity, client), true);
        }
        Rows saved = sql.query("SELECT conn, sub, shape, args FROM __shoal_subs ORDER BY rowid");
        while (saved.next()) {
            Conn c = conns.get(saved.getString(0));
            if (c != null) {
                subs.restore(c, saved.getString(1), saved.getString(2), saved.getString(3));
            }
        }
    }
}
