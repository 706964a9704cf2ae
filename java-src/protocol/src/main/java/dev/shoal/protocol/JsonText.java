package dev.shoal.protocol;

/** Writes the small JSON pieces the engine builds itself. Row documents are built by SQLite. */
public final class JsonText {
    private JsonText() {}

    /** {@code s} as a JSON string literal, or {@code null}. */
    public static String quote(String s) {
        if (s == null) {
            return "null";
        }
        boolean plain = true;
        for (int i = 0; i < s.length() && plain; i++) {
            char c = s.charAt(i);
            plain = c >= 0x20 && c != '"' && c != '\\' && c < 0x7f;
        }
        if (plain) {
            return "\"" + s + "\"";
        }
        StringBuilder out = new StringBuilder(s.length() + 8).append('"');
        for (int i = 0; i < s.length(); i++) {
            char c = s.charAt(i);
            switch (c) {
                case '"' -> out.append("\\\"");
                case '\\' -> out.append("\\\\");
                case '\n' -> out.append("\\n");
                case '\r' -> out.append("\\r");
                case '\t' -> out.append("\\t");
                default -> {
                    if (c < 0x20 || (c >= 0xd800 && c <= 0xdfff && !pairedSurrogate(s, i))) {
                        String hex = Integer.toHexString(c);
                        out.append("\\u").append("0000", hex.length(), 4).append(hex);
                    } else {
                        out.append(c);
                    }
                }
            }
        }
        return out.append('"').toString();
    }

    private static boolean pairedSurrogate(String s, int i) {
        char c = s.charAt(i);
        if (Character.isHighSurrogate(c)) {
            return i + 1 < s.length() && Character.isLowSurrogate(s.charAt(i + 1));
        }
        return i > 0 && Character.isHighSurrogate(s.charAt(i - 1));
    }

    /** A JSON number: integral values without a fraction, as JSON.stringify writes them. */
    public static String number(double d) {
        if (d == Math.rint(d) && Math.abs(d) < 9.007199254740992E15) {
            return Long.toString((long) d);
        }
        return Double.toString(d);
    }
}
