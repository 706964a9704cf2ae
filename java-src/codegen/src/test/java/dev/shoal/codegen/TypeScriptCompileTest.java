package dev.shoal.codegen;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The generated modules compile under {@code tsc --strict}, and their types are as precise as
 * the usage files below claim: each {@code @ts-expect-error} line must be an error. Runs the
 * repository's own TypeScript ({@code npm ci} at the root installs it); skipped without it.
 */
class TypeScriptCompileTest {
    private static final String KITCHEN_USAGE = """
            import type { Shapes, Tables } from "./kitchen.gen";

            const row: Tables["things"] = {
              id: "t1", label: "x", ownerId: "u1", count: 1, score: 0.5, done: false, kind: "task", due: null,
              tags: ["a"], meta: { a: 1 }, counts: { x: 1 }, state: 2, extra: { any: ["thing"] }, maybeDue: null,
            };
            const synced: Tables["things"] = { ...row, note: null, maybeExtra: null };
            // @ts-expect-error kind is exactly "task"
            const otherKind: Tables["things"] = { ...row, kind: "chore" };
            // @ts-expect-error due is required (nullable, not optional)
            const noDue: Tables["things"] = { ...row, due: undefined };
            const args: Shapes["openThings"]["args"] = { state: "open", "odd-key": "k" };
            // @ts-expect-error an optional arg is absent, never null
            const nullLimit: Shapes["openThings"]["args"] = { state: "open", "odd-key": "k", limit: null };
            const open: Shapes["openThings"]["row"] = { id: "t1", label: "x", done: true };
            export { row, synced, otherKind, noDue, args, nullLimit, open };
            """;

    @Test
    void generatedModulesCompileStrictly(@TempDir Path dir) throws Exception {
        Path tsc = Path.of(System.getProperty("shoal.root", "../..")).toAbsolutePath().normalize().resolve("node_modules/.bin/tsc");
        Assumptions.assumeTrue(Files.isExecutable(tsc), "skipped: no TypeScript compiler at " + tsc
                + " (run `npm ci` at the repository root to compile the generated TypeScript in this test)");
        write(dir, "kitchen.gen.ts", Codegen.typescript(new KitchenApp().app(), KitchenApp.class.getName()));
        write(dir, "kitchen.use.ts", KITCHEN_USAGE);
        List<String> command = new ArrayList<>(List.of(tsc.toString(), "--noEmit", "--strict", "--exactOptionalPropertyTypes",
                "--target", "es2022", "--module", "esnext", "--moduleResolution", "bundler", "--pretty", "false"));
        for (String f : List.of("kitchen.gen.ts", "kitchen.use.ts")) {
            command.add(dir.resolve(f).toString());
        }
        Process p = new ProcessBuilder(command).redirectErrorStream(true).start();
        String output = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        if (!p.waitFor(120, TimeUnit.SECONDS)) {
            p.destroyForcibly();
        }
        assertEquals(0, p.exitValue(), () -> "tsc failed:\n" + output);
    }

    private static void write(Path dir, String name, String text) throws IOException {
        Files.writeString(dir.resolve(name), text, StandardCharsets.UTF_8);
    }
}
