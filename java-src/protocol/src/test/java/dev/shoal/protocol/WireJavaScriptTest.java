package dev.shoal.protocol;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;

/**
 * The JS client's wire constants are generated from {@link Wire} and {@link ErrorCode}: this test
 * fails while client/client/src/wire.gen.js differs from what they say, and rewrites it when run
 * with {@code -Dshoal.wire.write=true}.
 */
class WireJavaScriptTest {
    private static final Path FILE = Path.of("../../client/client/src/wire.gen.js");

    @Test
    void wireGenJsIsUpToDate() throws IOException {
        String expected = Wire.javaScript();
        if (Boolean.getBoolean("shoal.wire.write")) {
            Files.writeString(FILE, expected, StandardCharsets.UTF_8);
        }
        String actual = Files.exists(FILE) ? Files.readString(FILE, StandardCharsets.UTF_8) : "(missing)";
        assertEquals(expected, actual, FILE.normalize() + " is stale: regenerate it with "
                + "mvn -q -pl java-src/protocol test -Dshoal.wire.write=true");
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
