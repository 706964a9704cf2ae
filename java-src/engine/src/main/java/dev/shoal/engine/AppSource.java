package dev.shoal.engine;

/**
 * How a build names its app. The app's class implements this, has a public no-argument
 * constructor, and is the one line of {@code src/main/resources/META-INF/services/dev.shoal.engine.AppSource}.
 * The Durable Object ({@code shoal-do}, through TeaVM's build-time {@link java.util.ServiceLoader})
 * and the codegen tool both find it there, so neither Shoal nor the app's build names it twice.
 */
public interface AppSource {
    /** The app's definitions; called once per shard instance, so it may build them anew each time. */
    App app();

    /** The path of the service file that names the app, for error messages. */
    String SERVICE_FILE = "src/main/resources/META-INF/services/" + AppSource.class.getName();
}
