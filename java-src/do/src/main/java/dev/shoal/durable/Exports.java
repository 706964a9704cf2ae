package dev.shoal.durable;

import org.teavm.jso.JSExport;
import org.teavm.jso.JSExportClasses;

@JSExportClasses({Probe.class})
public final class Exports {
    private Exports() {}
    public static void main(String[] args) {}
}
