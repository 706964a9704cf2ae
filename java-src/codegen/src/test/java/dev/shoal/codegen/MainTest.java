package dev.shoal.codegen;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.shoal.engine.App;
import dev.shoal.engine.AppSource;
import dev.shoal.engine.schema.Table;
import dev.shoal.engine.schema.V;
import dev.shoal.engine.shape.Shape;
import dev.shoal.engine.where.Where;
import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class MainTest {
    /** An app whose only shape syncs a password: the advisor's ERROR. */
    public static final class LeakyApp implements AppSource {
        @Override
        public App app() {
            return App.builder().table(Table.named("users").column("password", V.string()).readPolicy(Where.eq("id", Where.me())))
                    .shape(Shape.named("everyone").on("users").where(a -> Where.all())).build();
        }
    }

    public static final class BrokenApp implements AppSource {
        @Override
        public App app() {
            return App.builder().shape(Shape.named("s").on("nowhere").where(a -> Where.all())).build();
        }
    }

    record Run(int status, String out, String err) {}

    private static Run run(String... args) {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        ByteArrayOutputStream err = new ByteArrayOutputStream();
        int status = Main.run(args, new PrintStream(out, true, StandardCharsets.UTF_8), new PrintStream(err, true, StandardCharsets.UTF_8));
        return new Run(status, out.toString(StandardCharsets.UTF_8), err.toString(StandardCharsets.UTF_8));
    }

    private static final String KITCHEN = KitchenApp.class.getName();

    @Test
    void writesTheFileThenTheCheckPasses(@TempDir Path dir) throws Exception {
        Path file = dir.resolve("sub/dir/app.gen.ts");
        Run write = run("--app", KITCHEN, "--out", file.toString());
        assertEquals(0, write.status(), write.err());
        assertTrue(write.out().contains("wrote " + file), write.out());
        assertEquals(Codegen.typescript(new KitchenApp().app(), KITCHEN), Files.readString(file));
        Run check = run("--app", KITCHEN, "--out", file.toString(), "--check");
        assertEquals(0, check.status(), check.err());
        assertTrue(check.out().contains("is up to date with " + KITCHEN), check.out());
    }

    @Test
    void theCheckFailsOnAStaleFileAndSaysWhere(@TempDir Path dir) throws Exception {
        Path file = dir.resolve("app.gen.ts");
        assertEquals(0, run("--app", KITCHEN, "--out", file.toString()).status());
        Files.writeString(file, Files.readString(file).replace("  done: boolean;", "  done: string;"));
        Run check = run("--app", KITCHEN, "--out", file.toString(), "--check");
        assertEquals(1, check.status());
        assertTrue(check.err().contains(file + " is stale: it differs from what " + KITCHEN + " generates, first at line"), check.err());
        assertTrue(check.err().contains("(expected `  done: boolean;`, found `  done: string;`)"), check.err());
        assertTrue(check.err().contains("Regenerate it with `mvn -Pregenerate -DskipTests package` and commit it."), check.err());
        assertTrue(Files.readString(file).contains("  done: string;"), "--check writes nothing");
    }

    @Test
    void theCheckFailsWhenTheFileIsMissingOrTruncated(@TempDir Path dir) throws Exception {
        Path file = dir.resolve("app.gen.ts");
        Run missing = run("--app", KITCHEN, "--out", file.toString(), "--check");
        assertEquals(1, missing.status());
        assertTrue(missing.err().contains(file + " does not exist."), missing.err());
        String full = Codegen.typescript(new KitchenApp().app(), KITCHEN);
        Files.writeString(file, full.substring(0, full.length() - 20));
        Run truncated = run("--app", KITCHEN, "--out", file.toString(), "--check");
        assertEquals(1, truncated.status());
        assertTrue(truncated.err().contains("is stale"), truncated.err());
    }

    @Test
    void windowsLineEndsAreNotStaleness(@TempDir Path dir) throws Exception {
        Path file = dir.resolve("app.gen.ts");
        Files.writeString(file, Codegen.typescript(new KitchenApp().app(), KITCHEN).replace("\n", "\r\n"));
        assertEquals(0, run("--app", KITCHEN, "--out", file.toString(), "--check").status());
    }

    @Test
    void anErrorFindingFailsUnlessAllowed(@TempDir Path dir) {
        Path file = dir.resolve("leaky.gen.ts");
        String leaky = LeakyApp.class.getName();
        Run failed = run("--app", leaky, "--out", file.toString());
        assertEquals(1, failed.status());
        assertTrue(failed.out().contains("  ERROR SHAPE_SYNCS_CREDENTIAL:everyone: shape everyone syncs users.password"), failed.out());
        assertTrue(failed.err().contains("the advisor found 1 ERROR finding(s) in " + leaky), failed.err());
        Run allowed = run("--app", leaky, "--out", file.toString(), "--allow", "SHAPE_SYNCS_CREDENTIAL:everyone");
        assertEquals(0, allowed.status(), allowed.err());
        assertTrue(allowed.out().contains("  allowed ERROR SHAPE_SYNCS_CREDENTIAL:everyone"), allowed.out());
        Run unused = run("--app", KITCHEN, "--out", file.toString(), "--allow", "NOPE:x");
        assertTrue(unused.err().contains("--allow NOPE:x matched no finding: remove it"), unused.err());
    }

    @Test
    void badUsageAndBadAppsExitTwoWithAReason(@TempDir Path dir) {
        String out = dir.resolve("x.ts").toString();
        Run noOut = run("--app", KITCHEN);
        assertEquals(2, noOut.status());
        assertTrue(noOut.err().contains("--out <file.ts> is required"), noOut.err());
        Run unknown = run("--out", out, "--frobnicate");
        assertEquals(2, unknown.status());
        assertTrue(unknown.err().contains("unknown argument --frobnicate"), unknown.err());
        Run noClass = run("--app", "com.example.Nope", "--out", out);
        assertEquals(2, noClass.status());
        assertTrue(noClass.err().contains("no class com.example.Nope on the classpath"), noClass.err());
        Run noFactory = run("--app", MainTest.class.getName(), "--out", out);
        assertEquals(2, noFactory.status());
        assertTrue(noFactory.err().contains(MainTest.class.getName() + " does not implement dev.shoal.engine.AppSource"), noFactory.err());
        Run broken = run("--app", BrokenApp.class.getName(), "--out", out);
        assertEquals(2, broken.status());
        assertTrue(broken.err().contains(".app() refused its definitions: shape s is on unknown table nowhere"), broken.err());
        assertTrue(!Files.exists(Path.of(out)));
    }

    /** src/test/resources/META-INF/services names KitchenApp, as an app's build names its app. */
    @Test
    void withoutAppTheServiceFileNamesIt(@TempDir Path dir) throws Exception {
        Path file = dir.resolve("kitchen.ts");
        Run run = run("--out", file.toString());
        assertEquals(0, run.status(), run.err());
        assertEquals(Codegen.typescript(new KitchenApp().app(), KITCHEN), Files.readString(file));
        assertTrue(run.out().contains("wrote " + file + " from " + KITCHEN), run.out());
    }

    /** A build whose classpath names no app (or two) fails, naming the file to fix. */
    @Test
    void noServiceFileOrTwoIsAClearError(@TempDir Path dir) throws Exception {
        // Only the platform's classes and this one's: no META-INF/services file for AppSource.
        ClassLoader bare = new java.net.URLClassLoader(new java.net.URL[0], AppSource.class.getClassLoader().getParent()) {
            @Override
            protected Class<?> loadClass(String name, boolean resolve) throws ClassNotFoundException {
                return name.equals(AppSource.class.getName()) ? AppSource.class : super.loadClass(name, resolve);
            }
        };
        IllegalArgumentException none = org.junit.jupiter.api.Assertions.assertThrows(IllegalArgumentException.class, () -> Main.load(null, bare));
        assertTrue(none.getMessage().startsWith("no app found: list your app's class (it implements dev.shoal.engine.AppSource) as the one line of "
                + "src/main/resources/META-INF/services/dev.shoal.engine.AppSource"), none.getMessage());

        Path services = dir.resolve("META-INF/services");
        Files.createDirectories(services);
        Files.writeString(services.resolve(AppSource.class.getName()), KITCHEN + "\n" + LeakyApp.class.getName() + "\n");
        ClassLoader two = new java.net.URLClassLoader(new java.net.URL[] {dir.toUri().toURL()}, Main.class.getClassLoader());
        IllegalArgumentException both = org.junit.jupiter.api.Assertions.assertThrows(IllegalArgumentException.class, () -> Main.load(null, two));
        assertTrue(both.getMessage().startsWith("more than one app found"), both.getMessage());
    }

    @Test
    void anAllowListAcceptsSeveralFindings(@TempDir Path dir) {
        Path file = dir.resolve("leaky.gen.ts");
        Run allowed = run("--app", LeakyApp.class.getName(), "--out", file.toString(), "--allow-list=SHAPE_SYNCS_CREDENTIAL:everyone,");
        assertEquals(0, allowed.status(), allowed.err());
        Run empty = run("--app", LeakyApp.class.getName(), "--out", file.toString(), "--allow-list=");
        assertEquals(1, empty.status(), "an empty list (the parent POM's default) accepts nothing");
    }
}
