package dev.shoal.codegen;

import static org.junit.jupiter.api.Assertions.assertNull;

import dev.shoal.example.ChatApp;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;

/** The same check the build's verify phase runs, failing already at {@code mvn test}. */
class CommittedFileTest {
    static Path root() {
        return Path.of(System.getProperty("shoal.root", "../..")).toAbsolutePath().normalize();
    }

    @Test
    void theCommittedChatTypesAreUpToDate() throws Exception {
        String app = ChatApp.class.getName();
        assertNull(Main.stale(root().resolve("examples/chat/src/shoal.gen.ts"), Codegen.typescript(ChatApp.app(), app), app));
    }
}
