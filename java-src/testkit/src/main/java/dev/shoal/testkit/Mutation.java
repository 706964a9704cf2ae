package dev.shoal.testkit;

/**
 * One mutation for {@link TestClient#push(java.util.List)}: a mutator's name and its args as JSON
 * text (an object, e.g. {@code {"id":"t1","title":"milk"}}). The client gives it its next mutation id.
 */
public record Mutation(String name, String argsJson) {}
