package dev.shoal.engine.sync;

import dev.shoal.engine.Auth;
import dev.shoal.engine.shape.Subscription;
import java.util.LinkedHashMap;
import java.util.Map;

/** One open socket: its verified identity and client id, its client's ledger entry, and its subscriptions by id. */
final class Conn implements Subscription.Subscriber {
    final String id;
    final Auth auth;
    final String client;
    /** When the token expires (seconds since the epoch, skew included); 0: never. */
    final double expSec;
    /** The (identity, client) entry of the push ledger, shared by every socket of that client. */
    final PushLedger.Client ledger;
    final Map<String, Subscription> subs = new LinkedHashMap<>();

    Conn(String id, Auth auth, String client, double expSec, PushLedger.Client ledger) {
        this.id = id;
        this.auth = auth;
        this.client = client;
        this.expSec = expSec;
        this.ledger = ledger;
    }

    @Override
    public String conn() {
        return id;
    }

    @Override
    public String userId() {
        return auth.userId();
    }

    boolean expiredAt(double nowSec) {
        return expSec > 0 && nowSec > expSec;
    }
}
