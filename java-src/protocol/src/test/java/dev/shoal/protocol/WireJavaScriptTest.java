package dev.shoal.protocol;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;

/**
 * The wire constants of the JS packages are generated from {@link Wire} and {@link ErrorCode}: one
 * copy per published package (the client's and the Worker's), each failing this test while it
 * differs from what they say; run with {@code -Dshoal.wire.write=true} to rewrite them.
 */
class WireJavaScriptTest {
    private static final Path[] FILES = {Path.of("../../client/client/src/wire.gen.js"), Path.of("../../worker-shim/src/wire.gen.js")};

    @Test
    void wireGenJsIsUpToDate() throws IOException {
        String expected = Wire.javaScript();
        for (Path file : FILES) {
            if (Boolean.getBoolean("shoal.wire.write")) {
                Files.writeString(file, expected, StandardCharsets.UTF_8);
            }
            String actual = Files.exists(file) ? Files.readString(file, StandardCharsets.UTF_8) : "(missing)";
            assertEquals(expected, actual, file.normalize() + " is stale: regenerate it with "
                    + "mvn -q -pl java-src/protocol test -Dshoal.wire.write=true");
        }
    }

    @Test
    void closeCodesFollowTheirErrors() {
        assertEquals(4001, Wire.CLOSE_TOKEN_EXPIRED);
        assertEquals(4002, Wire.CLOSE_PROTOCOL_VERSION);
        assertEquals(4009, Wire.CLOSE_FRAME_TOO_LARGE);
        assertEquals(4029, Wire.CLOSE_RATE_LIMITED);
        assertEquals("shoal-v1", Wire.SUBPROTOCOL);
    }
}
