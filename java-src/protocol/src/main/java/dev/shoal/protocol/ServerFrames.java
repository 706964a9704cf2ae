package dev.shoal.protocol;

/**
 * Encodes the frames the server sends (PROTOCOL.md, "Server -> client"). Row lists arrive as
 * JSON text built by SQLite and are spliced in unchanged.
 */
public final class ServerFrames {
    private ServerFrames() {}

    public static String connected(String shard, String epoch, long seq, long lastMutationId) {
        return "{\"type\":\"connected\",\"shard\":" + JsonText.quote(shard) + ",\"epoch\":" + JsonText.quote(epoch)
                + ",\"seq\":" + seq + ",\"lastMutationId\":" + lastMutationId + "}";
    }

    /**
     * {@code connected} with {@code limits}: the effective limits a client must respect, in UTF-8
     * bytes and counts (PROTOCOL.md: at least frameBytesMax and mutationsPerPushMax).
     */
    public static String connected(String shard, String epoch, long seq, long lastMutationId,
            int frameBytesMax, int mutationsPerPushMax, int argsBytesMax, int subscriptionsPerSocketMax) {
        String head = connected(shard, epoch, seq, lastMutationId);
        return head.substring(0, head.length() - 1) + ",\"limits\":{\"frameBytesMax\":" + frameBytesMax
                + ",\"mutationsPerPushMax\":" + mutationsPerPushMax + ",\"argsBytesMax\":" + argsBytesMax
                + ",\"subscriptionsPerSocketMax\":" + subscriptionsPerSocketMax + "}}";
    }

    public static String pokeStart(String pokeId) {
        return "{\"type\":\"pokeStart\",\"pokeId\":" + JsonText.quote(pokeId) + "}";
    }

    /**
     * A pokePart frame is this head, the rows (a JSON array of row ops, built by SQLite), and
     * {@link #POKE_PART_TAIL}; the host joins them, so the rows are never copied by the engine.
     */
    public static String pokePartHead(String pokeId, String sub, boolean reset) {
        return "{\"type\":\"pokePart\",\"pokeId\":" + JsonText.quote(pokeId) + ",\"sub\":" + JsonText.quote(sub)
                + ",\"reset\":" + reset + ",\"rows\":";
    }

    public static final String POKE_PART_TAIL = "}";

    public static String pokeEnd(String pokeId, long seq, String epoch, long lastMutationId) {
        return "{\"type\":\"pokeEnd\",\"pokeId\":" + JsonText.quote(pokeId) + ",\"seq\":" + seq + ",\"epoch\":"
                + JsonText.quote(epoch) + ",\"lastMutationId\":" + lastMutationId + "}";
    }

    public static String error(ErrorCode code, String message, String subscriptionId) {
        return error(code, message, subscriptionId, null);
    }

    /** {@code shard}: with {@code WRONG_SHARD}, the shard to use instead (omitted when null). */
    public static String error(ErrorCode code, String message, String subscriptionId, String shard) {
        return "{\"type\":\"error\",\"code\":\"" + code.name() + "\",\"message\":" + JsonText.quote(message)
                + (subscriptionId == null ? "" : ",\"id\":" + JsonText.quote(subscriptionId))
                + (shard == null ? "" : ",\"shard\":" + JsonText.quote(shard)) + "}";
    }

    /**
     * One entry of a pushResult. {@code code} is null for "ok" and "duplicate"; it is a protocol code
     * or a mutator's own code. {@code expected} is written only when positive.
     */
    public static String pushResultEntry(long id, String status, String code, String message, long expected) {
        return pushResultEntry(id, status, code, message, expected, null);
    }

    /** {@code shard}: with {@code WRONG_SHARD}, the shard the mutation belongs on (omitted when null). */
    public static String pushResultEntry(long id, String status, String code, String message, long expected, String shard) {
        if (code == null && expected <= 0 && shard == null) {
            // The common answer, in one concatenation ("ok" or "duplicate").
            return "{\"id\":" + JsonText.integer(id) + ",\"status\":\"" + status + "\"}";
        }
        String entry = "{\"id\":" + id + ",\"status\":\"" + status + "\"";
        if (code != null) {
            entry += ",\"code\":" + JsonText.quote(code) + ",\"message\":" + JsonText.quote(message);
        }
        if (expected > 0) {
            entry += ",\"expected\":" + expected;
        }
        if (shard != null) {
            entry += ",\"shard\":" + JsonText.quote(shard);
        }
        return entry + "}";
    }

    public static String pushResult(String entriesJoined) {
        return "{\"type\":\"pushResult\",\"results\":[" + entriesJoined + "]}";
    }
}
