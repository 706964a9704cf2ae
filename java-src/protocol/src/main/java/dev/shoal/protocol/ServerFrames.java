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
     * A {@code pushResult} frame, built entry by entry in one buffer (a push of 50 would otherwise
     * build some 50 strings and join them: TeaVM's string building is slow).
     */
    public static final class PushResult {
        private final StringBuilder frame;
        private boolean empty = true;

        public PushResult(int entries) {
            frame = new StringBuilder(40 + 28 * entries).append("{\"type\":\"pushResult\",\"results\":[");
        }

        /** An entry without a code: "ok" or "duplicate". */
        public PushResult entry(long id, String status) {
            return entry(id, status, null, null, 0, null);
        }

        /**
         * One entry. {@code code} is null for "ok" and "duplicate"; it is a protocol code or a
         * mutator's own code. {@code expected} is written only when positive; {@code shard}, with
         * {@code WRONG_SHARD}, names the shard the mutation belongs on (omitted when null).
         */
        public PushResult entry(long id, String status, String code, String message, long expected, String shard) {
            frame.append(empty ? "{\"id\":" : ",{\"id\":");
            empty = false;
            if (id == (int) id) {
                frame.append((int) id); // int digits: TeaVM's long is a BigInt
            } else {
                frame.append(id);
            }
            frame.append(",\"status\":\"").append(status).append('"');
            if (code != null) {
                frame.append(",\"code\":").append(JsonText.quote(code)).append(",\"message\":").append(JsonText.quote(message));
            }
            if (expected > 0) {
                frame.append(",\"expected\":").append(expected);
            }
            if (shard != null) {
                frame.append(",\"shard\":").append(JsonText.quote(shard));
            }
            frame.append('}');
            return this;
        }

        public String frame() {
            return frame.append("]}").toString();
        }
    }
}
