package app;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.shoal.testkit.AppShard;
import dev.shoal.testkit.TestClient;
import dev.shoal.testkit.TestKit;
import dev.shoal.testkit.TestSubscription;
import java.util.Map;
import java.util.Set;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/** The app's policies and mutators, on the real engine over SQLite (shoal-testkit), without workerd. */
class TodoPoliciesTest {
    private AppShard shard;
    private TestClient alice;
    private TestClient bob;

    @BeforeEach
    void setUp() {
        shard = TestKit.shard(new TodoApp().app());
        alice = shard.connect("alice");
        bob = shard.connect("bob");
    }

    @Test
    void aTodoReachesEveryDeviceOfItsOwnerAndNobodyElse() {
        TestClient alicePhone = shard.connect("alice");
        TestSubscription phone = alicePhone.subscribe("myTodos", "{}");
        TestSubscription bobs = bob.subscribe("myTodos", "{}");

        assertTrue(alice.push("addTodo", "{\"id\":\"t1\",\"text\":\"milk\"}").ok());

        assertEquals(Map.of("id", "t1", "text", "milk", "done", false), phone.rows().get("t1"));
        assertEquals(Map.of(), bobs.rows());
        assertEquals(Set.of(), bobs.idsEverSeen(), "not even the id of another user's todo reaches bob");
    }

    @Test
    void theOwnerIsStampedFromTheIdentityNeverFromArgs() {
        assertEquals("BAD_ARGS", bob.push("addTodo", "{\"id\":\"t1\",\"text\":\"x\",\"ownerId\":\"alice\"}").code());
        assertEquals(0, shard.count("SELECT count(*) FROM todos"));
    }

    @Test
    void onlyTheOwnerMayCompleteOrDeleteATodo() {
        assertTrue(alice.push("addTodo", "{\"id\":\"t1\",\"text\":\"milk\"}").ok());

        assertFalse(bob.push("setDone", "{\"id\":\"t1\",\"done\":true}").ok());
        assertFalse(bob.push("deleteTodo", "{\"id\":\"t1\"}").ok());
        assertEquals(1, shard.count("SELECT count(*) FROM todos WHERE done = 0"), "bob's writes changed nothing");

        assertTrue(alice.push("setDone", "{\"id\":\"t1\",\"done\":true}").ok());
        assertEquals(true, alice.subscribe("myTodos", "{}").rows().get("t1").get("done"));
        assertTrue(alice.push("deleteTodo", "{\"id\":\"t1\"}").ok());
        assertEquals(0, shard.count("SELECT count(*) FROM todos"));
    }

    @Test
    void textIsOneToAThousandCharacters() {
        assertEquals("BAD_ARGS", alice.push("addTodo", "{\"id\":\"t1\",\"text\":\"\"}").code());
        assertEquals("BAD_ARGS", alice.push("addTodo", "{\"id\":\"t2\",\"text\":\"" + "x".repeat(1001) + "\"}").code());
        assertTrue(alice.push("addTodo", "{\"id\":\"t3\",\"text\":\"" + "x".repeat(1000) + "\"}").ok());
    }
}
