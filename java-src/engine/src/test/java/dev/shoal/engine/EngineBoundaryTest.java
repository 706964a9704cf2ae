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
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;

/**
 * Build checks that keep the engine portable and per-object: no TeaVM import outside the do
 * module, and no mutable static state (TeaVM statics are shared by every Durable Object in the
 * isolate and survive eviction, so a hibernation test could not catch them).
 */
class EngineBoundaryTest {
    private static final Path JAVA_SRC = Paths.get("..").toAbsolutePath().normalize();

    @Test
    void onlyTheDoModuleImportsTeaVm() throws IOException {
        List<String> offenders = new ArrayList<>();
        for (String module : List.of("protocol", "engine", "example")) {
            try (Stream<Path> files = Files.walk(JAVA_SRC.resolve(module).resolve("src/main"))) {
                files.filter(p -> p.toString().endsWith(".java")).forEach(p -> {
                    try {
                        if (Files.readString(p).contains("import org.teavm")) {
                            offenders.add(JAVA_SRC.relativize(p).toString());
                        }
                    } catch (IOException e) {
                        throw new RuntimeException(e);
                    }
                });
            }
        }
        assertEquals(List.of(), offenders);
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
