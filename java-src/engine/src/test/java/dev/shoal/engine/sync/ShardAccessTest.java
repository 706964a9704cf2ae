package dev.shoal.engine.sync;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.shoal.engine.App;
import dev.shoal.engine.jvm.NotesApp;
import dev.shoal.testkit.TestShard;
import org.junit.jupiter.api.Test;

class ShardAccessTest {
    @Test
    void aRefusedIdentityGetsForbiddenAndClose4003AndNothingElse() {
        App app = App.builder().table(NotesApp.NOTES)
                .shardAccess((auth, shard) -> auth.userId().startsWith("staff-")).build();
        TestShard t = new TestShard(app);
        t.open("in", "staff-1", "c1");
        t.open("out", "guest", "c2");
        assertEquals("connected", t.peers.to("in").get(0).get("type").asString());
        assertEquals("FORBIDDEN", t.peers.to("out").get(0).get("code").asString());
        assertEquals(1, t.peers.to("out").size());
        assertTrue(t.peers.closed.stream().anyMatch(c -> c.conn().equals("out") && c.code() == 4003));
        assertEquals(1, t.count("SELECT count(*) FROM __shoal_conns"), "the refused socket left no state");
    }
}
