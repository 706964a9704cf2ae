package dev.shoal.codegen;

import dev.shoal.engine.App;
import java.io.IOException;
import java.io.PrintStream;
import java.lang.reflect.InvocationTargetException;
import java.lang.reflect.Method;
import java.lang.reflect.Modifier;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Set;

/**
 * The command line: loads an App from a class with a static {@code app()}, runs the {@link Advisor}
 * and writes the TypeScript, or with {@code --check} compares it with the file on disk. Exit
 * status: 0 done, 1 the file is stale or the advisor found an ERROR, 2 bad usage or an App that
 * does not load.
 */
public final class Main {
    static final String DEFAULT_APP = "dev.shoal.example.ChatApp";
    static final String USAGE = """
            usage: java -cp <classpath> dev.shoal.codegen.Main [--app <class>] --out <file.ts> [--check] [--allow CODE:subject]...
              --app    class with a static app() returning dev.shoal.engine.App (default %s)
              --out    the TypeScript file to write, or with --check to compare
              --check  write nothing; fail when the file differs from what would be generated
              --allow  accept one advisor finding (as printed: CODE:subject), e.g. --allow SHAPE_SYNCS_CREDENTIAL:invites"""
            .formatted(DEFAULT_APP);

    private Main() {}

    public static void main(String[] args) {
        int status = run(args, System.out, System.err);
        if (status != 0) {
            System.exit(status);
        }
    }

    static int run(String[] argv, PrintStream out, PrintStream err) {
        Options options;
        App app;
        String ts;
        try {
            options = Options.parse(argv);
            if (options.help) {
                out.println(USAGE);
                return 0;
            }
            app = load(options.app);
            ts = Codegen.typescript(app, options.app);
        } catch (IllegalArgumentException e) {
            err.println("shoal-codegen: " + e.getMessage());
            return 2;
        }
        boolean failed = report(options, Advisor.check(app), out, err);
        Path file = options.out.toAbsolutePath().normalize();
        try {
            if (options.check) {
                String stale = stale(file, ts, options.app);
                if (stale != null) {
                    err.println("shoal-codegen: " + stale);
                    failed = true;
                } else {
                    out.println("shoal-codegen: " + file + " is up to date with " + options.app);
                }
            } else {
                Files.createDirectories(file.getParent());
                Files.writeString(file, ts, StandardCharsets.UTF_8);
                out.println("shoal-codegen: wrote " + file + " from " + options.app);
            }
        } catch (IOException e) {
            err.println("shoal-codegen: cannot " + (options.check ? "read " : "write ") + file + ": " + e);
            return 2;
        }
        return failed ? 1 : 0;
    }

    /** Prints every finding; true when an ERROR that is not allowed remains. */
    private static boolean report(Options options, List<Finding> findings, PrintStream out, PrintStream err) {
        int[] count = new int[Finding.Severity.values().length];
        Set<String> unused = new LinkedHashSet<>(options.allowed);
        List<String> lines = new ArrayList<>();
        int blocking = 0;
        for (Finding f : findings) {
            unused.remove(f.key());
            if (options.allowed.contains(f.key())) {
                lines.add("  allowed " + f.severity() + " " + f.key() + ": " + f.message());
                continue;
            }
            count[f.severity().ordinal()]++;
            blocking += f.severity() == Finding.Severity.ERROR ? 1 : 0;
            lines.add("  " + f.severity() + " " + f.key() + ": " + f.message());
        }
        out.println("shoal-codegen advisor on " + options.app + ": " + count[0] + " error(s), " + count[1]
                + " warning(s), " + count[2] + " info(s)" + (lines.isEmpty() ? "" : ":"));
        lines.forEach(out::println);
        for (String key : unused) {
            err.println("shoal-codegen: --allow " + key + " matched no finding: remove it");
        }
        if (blocking > 0) {
            err.println("shoal-codegen: the advisor found " + blocking + " ERROR finding(s) in " + options.app
                    + ": fix them, or accept one with --allow CODE:subject");
        }
        return blocking > 0;
    }

    /** Null when {@code file} holds exactly {@code expected} (line ends aside); else why it does not. */
    static String stale(Path file, String expected, String appName) throws IOException {
        String regenerate = " Regenerate it with `" + Codegen.REGENERATE_COMMAND + "` and commit it.";
        if (!Files.exists(file)) {
            return file + " does not exist." + regenerate;
        }
        String actual = Files.readString(file, StandardCharsets.UTF_8).replace("\r\n", "\n");
        if (actual.equals(expected)) {
            return null;
        }
        String[] want = expected.split("\n", -1);
        String[] have = actual.split("\n", -1);
        int line = 0;
        while (line < want.length && line < have.length && want[line].equals(have[line])) {
            line++;
        }
        String wantLine = line < want.length ? "`" + want[line] + "`" : "the end of the file";
        String haveLine = line < have.length ? "`" + have[line] + "`" : "the end of the file";
        return file + " is stale: it differs from what " + appName + " generates, first at line " + (line + 1)
                + " (expected " + wantLine + ", found " + haveLine + ")." + regenerate;
    }

    static App load(String className) {
        Class<?> type;
        try {
            type = Class.forName(className, true, Main.class.getClassLoader());
        } catch (ClassNotFoundException e) {
            throw new IllegalArgumentException("no class " + className + " on the classpath: pass --app with the class"
                    + " whose static app() returns your App, and put its module on the classpath");
        } catch (ExceptionInInitializerError e) {
            throw new IllegalArgumentException("loading " + className + " failed: " + e.getCause(), e);
        }
        Method factory;
        try {
            factory = type.getMethod("app");
        } catch (NoSuchMethodException e) {
            factory = null;
        }
        if (factory == null || !Modifier.isStatic(factory.getModifiers()) || !App.class.isAssignableFrom(factory.getReturnType())) {
            throw new IllegalArgumentException(className + " has no public static app() returning " + App.class.getName());
        }
        try {
            return (App) factory.invoke(null);
        } catch (InvocationTargetException e) {
            throw new IllegalArgumentException(className + ".app() failed: " + e.getCause(), e.getCause());
        } catch (IllegalAccessException e) {
            throw new IllegalArgumentException(className + ".app() is not accessible: make the class public", e);
        }
    }

    private static final class Options {
        String app = DEFAULT_APP;
        Path out;
        boolean check;
        boolean help;
        final Set<String> allowed = new LinkedHashSet<>();

        static Options parse(String[] argv) {
            Options o = new Options();
            for (int i = 0; i < argv.length; i++) {
                String a = argv[i];
                switch (a) {
                    case "--check" -> o.check = true;
                    case "--help", "-h" -> o.help = true;
                    case "--app" -> o.app = value(argv, ++i, a);
                    case "--out" -> o.out = Path.of(value(argv, ++i, a));
                    case "--allow" -> o.allowed.add(value(argv, ++i, a));
                    default -> throw new IllegalArgumentException("unknown argument " + a + "\n" + USAGE);
                }
            }
            if (o.out == null && !o.help) {
                throw new IllegalArgumentException("--out <file.ts> is required\n" + USAGE);
            }
            return o;
        }

        private static String value(String[] argv, int i, String flag) {
            if (i >= argv.length || argv[i].startsWith("--")) {
                throw new IllegalArgumentException(flag + " needs a value\n" + USAGE);
            }
            return argv[i];
        }
    }
}
