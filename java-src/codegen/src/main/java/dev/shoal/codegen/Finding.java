package dev.shoal.codegen;

/**
 * One thing the {@link Advisor} found. {@code subject} is the table, shape or mutator it is about;
 * {@code message} names it too, says what can go wrong and what to write instead.
 */
public record Finding(Severity severity, String code, String subject, String message) {
    public enum Severity {
        /** Fails the build: data that must never reach a client would reach one. */
        ERROR,
        /** Probably a hole: someone can read or write what they should not. */
        WARN,
        /** Worth a look; often intended. */
        INFO
    }

    /** How {@code --allow} names this finding: {@code CODE:subject}. */
    public String key() {
        return code + ":" + subject;
    }

    @Override
    public String toString() {
        return severity + " " + code + " " + message;
    }
}
