package dev.shoal.engine;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.io.IOException;
import java.lang.reflect.Field;
import java.lang.reflect.Modifier;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.Paths;
import java.util.ArrayList;
import java.util.Collection;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.function.BiConsumer;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;

/**
 * Build checks that keep the engine portable, per-object and app-free: no TeaVM import outside the
 * do module; protocol, engine and do name no app (an app names itself through
 * {@link AppSource}'s service file, so adding one changes no file of Shoal); and no mutable static
 * state (TeaVM statics are shared by every Durable Object in the isolate and survive eviction, so
 * a hibernation test could not catch them).
 */
class EngineBoundaryTest {
    private static final Path JAVA_SRC = Paths.get("..").toAbsolutePath().normalize();
    /** The packages of Shoal's runtime modules; nothing else named dev.shoal.* may appear in them. */
    private static final Pattern SHOAL_NAME = Pattern.compile("dev\\.shoal\\.(?!protocol\\b|engine\\b|durable\\b)[a-z]\\w*");
    private static final Set<String> DO_DEPENDENCIES = Set.of("shoal-engine", "teavm-classlib", "teavm-jso", "teavm-jso-apis");

    @Test
    void onlyTheDoModuleImportsTeaVm() throws IOException {
        List<String> offenders = new ArrayList<>();
        for (String module : List.of("protocol", "engine", "testkit", "codegen")) {
            forEachSource(module, (p, text) -> {
                if (text.contains("import org.teavm")) {
                    offenders.add(JAVA_SRC.relativize(p).toString());
                }
            });
        }
        assertEquals(List.of(), offenders);
    }

    @Test
    void protocolEngineAndDoNameNoApp() throws IOException {
        List<String> offenders = new ArrayList<>();
        for (String module : List.of("protocol", "engine", "do")) {
            forEachSource(module, (p, text) -> {
                Matcher m = SHOAL_NAME.matcher(text);
                while (m.find()) {
                    offenders.add(JAVA_SRC.relativize(p) + ": " + m.group());
                }
            });
        }
        assertEquals(List.of(), offenders, "the runtime modules may name only dev.shoal.protocol, dev.shoal.engine and dev.shoal.durable");
        String pom = Files.readString(JAVA_SRC.resolve("do/pom.xml"));
        Matcher artifact = Pattern.compile("<dependency>.*?<artifactId>([^<]+)</artifactId>", Pattern.DOTALL).matcher(pom);
        List<String> extra = new ArrayList<>();
        while (artifact.find()) {
            if (!DO_DEPENDENCIES.contains(artifact.group(1))) {
                extra.add(artifact.group(1));
            }
        }
        assertEquals(List.of(), extra, "shoal-do depends on the engine and TeaVM only: an app depends on shoal-do, never the reverse");
    }

    private static void forEachSource(String module, BiConsumer<Path, String> check) throws IOException {
        try (Stream<Path> files = Files.walk(JAVA_SRC.resolve(module).resolve("src/main"))) {
            for (Path p : (Iterable<Path>) files.filter(f -> f.toString().endsWith(".java"))::iterator) {
                check.accept(p, Files.readString(p));
            }
        }
    }

    @Test
    void noMutableStaticState() throws Exception {
        List<String> offenders = new ArrayList<>();
        for (String module : List.of("protocol", "engine")) {
            Path classes = JAVA_SRC.resolve(module).resolve("target/classes");
            try (Stream<Path> files = Files.walk(classes)) {
                for (Path p : (Iterable<Path>) files.filter(f -> f.toString().endsWith(".class"))::iterator) {
                    String name = classes.relativize(p).toString().replace('/', '.').replaceAll("\\.class$", "");
                    for (Field f : Class.forName(name, false, getClass().getClassLoader()).getDeclaredFields()) {
                        if (Modifier.isStatic(f.getModifiers()) && !f.isSynthetic() && !f.isEnumConstant() && mutable(f)) {
                            offenders.add(name + "." + f.getName());
                        }
                    }
                }
            }
        }
        assertEquals(List.of(), offenders, "static fields must be final and hold immutable values");
    }

    private static boolean mutable(Field f) {
        Class<?> type = f.getType();
        return !Modifier.isFinal(f.getModifiers()) || type.isArray() || Collection.class.isAssignableFrom(type)
                || Map.class.isAssignableFrom(type) || StringBuilder.class == type || type.getName().startsWith("java.util.concurrent.atomic");
    }
}
