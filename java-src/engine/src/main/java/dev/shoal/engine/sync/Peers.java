package dev.shoal.engine.sync;

/**
 * The sockets of a shard, addressed by connection id. Implemented by the host: the Durable Object's
 * JS shim, or {@link FramingPeers} on the JVM.
 *
 * <p>Pokes are assembled by the host, not built per socket by the engine: the engine names, for
 * each socket, the parts it gets ({@link #poke}), then ends the round ({@link #flushPokes}); the
 * host sends every socket named in the round exactly one poke with that round's {@code pokeId}
 * (unique per socket, as PROTOCOL.md asks), {@code seq} and {@code epoch}. Its form:
 * <ul>
 *   <li>one {@code poke} frame when the socket's parts fit one part's limit: at most one part, or
 *       rows whose UTF-16 length times 3 is at most {@code partBytesMax};</li>
 *   <li>otherwise {@code pokeStart}, one {@code pokePart} per part in the order given, {@code pokeEnd}.</li>
 * </ul>
 * The rows of a part are the same string for every socket that receives them (a JSON array built
 * once by SQLite), so a host can build each distinct frame once and send it to many sockets.
 */
public interface Peers {
    void send(String conn, String frame);

    void close(String conn, int code, String reason);

    /**
     * Adds a part for {@code sub} ({@code rows}: a JSON array of row ops) to the poke {@code conn}
     * gets at the end of the round; with {@code sub} null, adds no part but still pokes the socket
     * (an empty poke confirms {@code lastMutationId}). Every call for one socket in one round passes
     * the same {@code lastMutationId}.
     */
    void poke(String conn, String sub, boolean reset, String rows, double lastMutationId);

    /**
     * Sends the pokes of the round, in the order their sockets were first named, starts a new
     * round, and returns the number of pokes sent.
     */
    int flushPokes(String pokeId, double seq, String epoch, int partBytesMax);

    /** Forgets the parts named since the last flush, sending nothing: the round failed. */
    void abandonPokes();
}
