package dev.shoal.testkit;

/**
 * One entry of a {@code pushResult} frame (PROTOCOL.md, "Mutations: exactly once, in order").
 *
 * @param id the mutation id it answers
 * @param status {@code "ok"}, {@code "duplicate"} (an id already applied: not run again) or
 *     {@code "error"}
 * @param code with {@code "error"}: e.g. {@code FORBIDDEN}, {@code BAD_ARGS}, {@code VALIDATION},
 *     {@code CONFLICT}, {@code UNKNOWN_MUTATOR}, {@code MUTATOR_FAILED}, an app's own code; else null
 * @param message with {@code "error"}: the message a developer can act on; else null
 */
public record PushResult(long id, String status, String code, String message) {
    /** True when the mutation ran and committed (status {@code "ok"}). */
    public boolean ok() {
        return "ok".equals(status);
    }
}
