package dev.shoal.engine.sync;

import static org.junit.jupiter.api.Assertions.assertEquals;

import dev.shoal.engine.Limits;
import dev.shoal.testkit.JdbcSql;
import dev.shoal.engine.jvm.NotesApp;
import dev.shoal.protocol.Json;
import dev.shoal.testkit.TestShard;
import org.junit.jupiter.api.Test;

/** {@code connected} tells the client the limits this shard enforces, so that it never sends past them. */
class ConnectedLimitsTest {
    @Test
    void connectedCarriesTheEffectiveLimits() {
        Limits d = Limits.defaults();
        Limits lowered = new Limits(4096, 3, d.argsBytesMax(), 7, d.pokePartBytesMax(), d.rowBytesMax(),
                d.logRowsMax(), d.logAgeMsMax(), d.logBytesMax(), d.compactBatchRows(), d.socketsPerIdentityMax(), d.viewsPerIdentityMax(),
                d.viewsPerShardMax(), d.catchUpRowsMax(), d.burstPushesMax());
        TestShard t = new TestShard(NotesApp.app(), JdbcSql.memory(), lowered);
        t.open("c", "alice", "cl");
        Json limits = t.peers.to("c", "connected").get(0).get("limits");
        assertEquals(4096, (int) limits.get("frameBytesMax").asNumber());
        assertEquals(3, (int) limits.get("mutationsPerPushMax").asNumber());
        assertEquals(d.argsBytesMax(), (int) limits.get("argsBytesMax").asNumber());
        assertEquals(7, (int) limits.get("subscriptionsPerSocketMax").asNumber());
    }
}
