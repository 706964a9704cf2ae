package dev.shoal.durable;

import org.teavm.jso.JSExportClasses;

/** TeaVM's entry point: exports {@link ShardObject} as a JS class of the ES module. */
@JSExportClasses({ShardObject.class})
public final class Exports {
    private Exports() {}

    public static void main(String[] args) {
        // Nothing runs at import: all state lives in ShardObject instances (statics are isolate-wide).
    }
}
