package dev.shoal.protocol;

import java.util.ArrayList;
import java.util.List;

/**
 * Parses client frames once, at the edge. A malformed envelope is a {@link ProtocolException}
 * with {@link ErrorCode#BAD_FRAME}; the content of {@code args} is left to validators.
 */
public final class FrameCodec {
    private final int mutationsPerPushMax;

    public FrameCodec(int mutationsPerPushMax) {
        this.mutationsPerPushMax = mutationsPerPushMax;
    }

    public ClientFrame decode(Json frame) {
        if (frame == null || !frame.isObject()) {
            throw bad("a frame must be a JSON object");
        }
        String type = string(frame, "type");
        return switch (type) {
            case "subscribe" -> subscribe(frame);
            case "unsubscribe" -> new ClientFrame.Unsubscribe(subscriptionId(frame));
            case "push" -> push(frame);
            default -> throw bad("unknown frame type " + JsonText.quote(type));
        };
    }

    private ClientFrame.Subscribe subscribe(Json frame) {
        String id = subscriptionId(frame);
        String shape = string(frame, "shape");
        Json since = frame.get("since");
        Cursor cursor = null;
        if (since != null && !since.isNull()) {
            if (!since.isObject()) {
                throw bad("since must be an object {seq, epoch}");
            }
            Json seq = since.get("seq");
            if (seq == null || !seq.isNumber() || seq.asNumber() < 0 || seq.asNumber() != Math.floor(seq.asNumber())) {
                throw bad("since.seq must be a non-negative integer");
            }
            cursor = new Cursor((long) seq.asNumber(), string(since, "epoch", "since.epoch"));
        }
        return new ClientFrame.Subscribe(id, shape, frame.get("args"), cursor);
    }

    private ClientFrame.Push push(Json frame) {
        Json list = frame.get("mutations");
        if (list == null || list.kind() != Json.Kind.ARRAY) {
            throw bad("push.mutations must be an array");
        }
        if (list.size() == 0 || list.size() > mutationsPerPushMax) {
            throw bad("push.mutations must hold 1.." + mutationsPerPushMax + " entries, got " + list.size());
        }
        List<ClientFrame.Mutation> out = new ArrayList<>(list.size());
        for (int i = 0; i < list.size(); i++) {
            Json m = list.at(i);
            // Labels are built only for an error: string building is slow on the hot path.
            if (m == null || !m.isObject()) {
                throw bad(mutationAt(i) + " must be an object {id, name, args}");
            }
            Json id = m.get("id");
            if (id == null || !id.isNumber() || id.asNumber() < 1 || id.asNumber() != Math.floor(id.asNumber())
                    || id.asNumber() > 9.007199254740991E15) {
                throw bad(mutationAt(i) + ".id must be a positive integer");
            }
            Json name = m.get("name");
            if (name == null || !name.isString()) {
                throw bad(mutationAt(i) + ".name must be a string");
            }
            out.add(new ClientFrame.Mutation((long) id.asNumber(), name.asString(), m.get("args")));
        }
        return new ClientFrame.Push(out);
    }

    private static String mutationAt(int i) {
        return "mutations[" + i + "]";
    }

    private static String subscriptionId(Json frame) {
        String id = string(frame, "id");
        if (id.isEmpty() || id.length() > 64) {
            throw bad("id must be a string of 1..64 characters");
        }
        return id;
    }

    private static String string(Json obj, String key) {
        return string(obj, key, key);
    }

    private static String string(Json obj, String key, String label) {
        Json v = obj.get(key);
        if (v == null || !v.isString()) {
            throw bad(label + " must be a string");
        }
        return v.asString();
    }

    private static ProtocolException bad(String message) {
        return new ProtocolException(ErrorCode.BAD_FRAME, message);
    }
}
