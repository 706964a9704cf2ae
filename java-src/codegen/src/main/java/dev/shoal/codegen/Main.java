package dev.shoal.codegen;

import dev.shoal.engine.App;
import dev.shoal.engine.AppSource;
import java.io.IOException;
import java.io.PrintStream;
import java.lang.reflect.InvocationTargetException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.ServiceConfigurationError;
import java.util.ServiceLoader;
import java.util.Set;

/**
 * The command line: loads the app (the {@link AppSource} that {@code --app} names, or else the one
 * the classpath's service file lists), runs the {@link Advisor} and writes the TypeScript, or with
 * {@code --check} compares it with the file on disk. Exit status: 0 done, 1 the file is stale or
 * the advisor found an ERROR, 2 bad usage or an App that does not load.
 */
public final class Main {
    static final String USAGE = """
            usage: java -cp <classpath> dev.shoal.codegen.Main [--app <class>] --out <file.ts> [--check] [--allow CODE:subject]...
              --app    your app's class, implementing dev.shoal.engine.AppSource (default: the one listed in
                       META-INF/services/dev.shoal.engine.AppSource on the classpath)
              --out    the TypeScript file to write, or with --check to compare
              --check  write nothing; fail when the file differs from what would be generated
              --allow  accept one advisor finding (as printed: CODE:subject), e.g. --allow SHAPE_SYNCS_CREDENTIAL:invites
              --allow-list=A,B  the same for several findings at once""";

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
        String name;
        String ts;
        try {
            options = Options.parse(argv);
            if (options.help) {
                out.println(USAGE);
                return 0;
            }
            Loaded loaded = load(options.app, Main.class.getClassLoader());
            app = loaded.app();
            name = loaded.name();
            ts = Codegen.typescript(app, name);
        } catch (IllegalArgumentException e) {
            err.println("shoal-codegen: " + e.getMessage());
            return 2;
        }
        boolean failed = report(options, name, Advisor.check(app), out, err);
        Path file = options.out.toAbsolutePath().normalize();
        try {
            if (options.check) {
                String stale = stale(file, ts, name);
                if (stale != null) {
                    err.println("shoal-codegen: " + stale);
                    failed = true;
                } else {
                    out.println("shoal-codegen: " + file + " is up to date with " + name);
                }
            } else {
                Files.createDirectories(file.getParent());
                Files.writeString(file, ts, StandardCharsets.UTF_8);
                out.println("shoal-codegen: wrote " + file + " from " + name);
            }
        } catch (IOException e) {
            err.println("shoal-codegen: cannot " + (options.check ? "read " : "write ") + file + ": " + e);
            return 2;
        }
        return failed ? 1 : 0;
    }

    /** Prints every finding; true when an ERROR that is not allowed remains. */
    private static boolean report(Options options, String name, List<Finding> findings, PrintStream out, PrintStream err) {
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
        out.println("shoal-codegen advisor on " + name + ": " + count[0] + " error(s), " + count[1]
                + " warning(s), " + count[2] + " info(s)" + (lines.isEmpty() ? "" : ":"));
        lines.forEach(out::println);
        for (String key : unused) {
            err.println("shoal-codegen: --allow " + key + " matched no finding: remove it");
        }
        if (blocking > 0) {
            err.println("shoal-codegen: the advisor found " + blocking + " ERROR finding(s) in " + name
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

    /**
     * The app {@code className} names (a public {@link AppSource} with a no-argument constructor), or
     * with null the one the classpath's service file lists, as the Durable Object finds it.
     */
    static Loaded load(String className, ClassLoader loader) {
        if (className == null) {
            List<String> found = new ArrayList<>();
            AppSource source = null;
            try {
                for (AppSource s : ServiceLoader.load(AppSource.class, loader)) {
                    found.add(s.getClass().getName());
                    source = s;
                }
            } catch (ServiceConfigurationError e) {
                throw new IllegalArgumentException("the app listed in " + AppSource.SERVICE_FILE + " does not load: " + e.getMessage(), e);
            }
            if (found.size() != 1) {
                throw new IllegalArgumentException((found.isEmpty() ? "no app found: " : "more than one app found " + found + ": ")
                        + "list your app's class (it implements " + AppSource.class.getName() + ") as the one line of " + AppSource.SERVICE_FILE
                        + ", or pass --app <class>");
            }
            return new Loaded(found.get(0), build(source, found.get(0)));
        }
        Class<?> type;
        try {
            type = Class.forName(className, true, loader);
        } catch (ClassNotFoundException e) {
            throw new IllegalArgumentException("no class " + className + " on the classpath: pass --app with your app's class"
                    + " (it implements " + AppSource.class.getName() + ") and put its module on the classpath");
        } catch (ExceptionInInitializerError e) {
            throw new IllegalArgumentException("loading " + className + " failed: " + e.getCause(), e);
        }
        if (!AppSource.class.isAssignableFrom(type)) {
            throw new IllegalArgumentException(className + " does not implement " + AppSource.class.getName());
        }
        AppSource source;
        try {
            source = (AppSource) type.getConstructor().newInstance();
        } catch (NoSuchMethodException | IllegalAccessException e) {
            throw new IllegalArgumentException(className + " needs a public no-argument constructor (and a public class)", e);
        } catch (InvocationTargetException e) {
            throw new IllegalArgumentException("new " + className + "() failed: " + e.getCause(), e.getCause());
        } catch (InstantiationException e) {
            throw new IllegalArgumentException(className + " cannot be instantiated: make it a concrete class", e);
        }
        return new Loaded(className, build(source, className));
    }

    /** An app and the class that defined it. */
    record Loaded(String name, App app) {}

    private static App build(AppSource source, String name) {
        try {
            App app = source.app();
            if (app == null) {
                throw new IllegalArgumentException(name + ".app() returned null");
            }
            return app;
        } catch (IllegalArgumentException e) {
            throw new IllegalArgumentException(name + ".app() refused its definitions: " + e.getMessage(), e);
        } catch (RuntimeException e) {
            throw new IllegalArgumentException(name + ".app() failed: " + e, e);
        }
    }

    private static final class Options {
        String app;
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
                    default -> {
                        if (!a.startsWith("--allow-list=")) {
                            throw new IllegalArgumentException("unknown argument " + a + "\n" + USAGE);
                        }
                        for (String key : a.substring("--allow-list=".length()).split(",")) {
                            if (!key.isBlank()) {
                                o.allowed.add(key.trim());
                            }
                        }
                    }
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
