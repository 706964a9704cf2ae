package dev.shoal.engine.log;

import dev.shoal.engine.Limits;
import dev.shoal.engine.sql.Rows;
import dev.shoal.engine.sql.Sql;

/**
 * Log retention: keeps the newest {@code logRowsMax} rows or those younger than
 * {@code logAgeMsMax}, whichever keeps more, but never more than {@code logBytesMax} bytes of row
 * documents and pre-images (the newest rows that fit), and trims the rest in bounded batches,
 * recording the floor (the highest trimmed seq) in the same transaction. Seq never moves: SQLite's AUTOINCREMENT
 * counter survives the deletes. Log rows are contiguous in seq (a rolled-back write takes none) and
 * age in seq order, which keeps every check here to a row or two.
 */
public final class Compaction {
    private final Sql sql;
    private final Limits limits;
    /** The floor as last read or written; -1 until read. */
    private long floor = -1;
    /** The seq up to which {@link #logBytes} counts: new rows are added once per {@code compactBatchRows} of them. */
    private long sizeCheckedAt = -1;
    /** The size of the log rows in (floor, {@link #sizeCheckedAt}]; -1 until measured (once per instance, then kept by adding and trimming). */
    private long logBytes = -1;
    /** The time of the oldest row above {@link #oldestAtFloor}: rows above the floor only go when the floor moves. */
    private double oldestTs;
    private long oldestAtFloor = -1;
    /**
     * A log row's size in bytes: its document and pre-image (the part that grows with the app's
     * data). {@code octet_length} reads the size from the record header, not the text.
     */
    private static final String ROW_BYTES = "coalesce(octet_length(doc), 0) + coalesce(octet_length(pre), 0)";

    public Compaction(Sql sql, Limits limits) {
        this.sql = sql;
        this.limits = limits;
    }

    /** Every log row above the floor is present; a cursor below it cannot catch up. */
    public long floor() {
        if (floor < 0) {
            floor = sql.queryLong(0, "SELECT CAST(value AS INTEGER) FROM __shoal_meta WHERE key = 'floor'");
        }
        return floor;
    }

    /**
     * Cheap enough for every event: one comparison, plus the oldest row's time once per floor once
     * the log is long, plus a sum over the {@code compactBatchRows} rows written since the last
     * measure (the whole log is summed once per instance, at its first measure).
     */
    public boolean due(long seq, double nowMs) {
        if (sizeCheckedAt < 0) {
            sizeCheckedAt = seq; // not on a wake's first event: the first measure comes with new rows
        }
        if (seq - sizeCheckedAt >= limits.compactBatchRows()) {
            long from = logBytes < 0 ? floor() : sizeCheckedAt;
            logBytes = Math.max(0, logBytes) + bytes(from, seq);
            sizeCheckedAt = seq;
            if (logBytes > limits.logBytesMax()) {
                return true;
            }
        }
        if (seq - floor() <= limits.logRowsMax()) {
            return false;
        }
        if (oldestAtFloor != floor()) {
            Rows oldest = sql.query("SELECT ts FROM __cdc_log WHERE seq > ? ORDER BY seq LIMIT 1", floor());
            if (!oldest.next()) {
                return false;
            }
            oldestTs = oldest.getDouble(0);
            oldestAtFloor = floor();
        }
        return oldestTs < nowMs - limits.logAgeMsMax();
    }

    /** Trims at most one batch; returns true when more remains (run again soon). */
    public boolean run(long seq, double nowMs) {
        long upTo = trimmable(seq, nowMs);
        long from = floor();
        if (upTo <= from) {
            return false;
        }
        long batchEnd = Math.min(upTo, from + limits.compactBatchRows());
        // The rows that go stop counting toward the size (those above sizeCheckedAt were never counted).
        long trimmed = logBytes < 0 ? 0 : bytes(from, Math.min(batchEnd, sizeCheckedAt));
        sql.transaction(() -> {
            sql.exec("DELETE FROM __cdc_log WHERE seq <= ?", batchEnd);
            sql.exec("INSERT INTO __shoal_meta (key, value) VALUES ('floor', ?) ON CONFLICT (key) DO UPDATE SET value = excluded.value",
                    Long.toString(batchEnd));
        });
        floor = batchEnd;
        if (logBytes >= 0) {
            logBytes -= trimmed;
        }
        return batchEnd < upTo;
    }

    /** The size of the log rows in (from, to]. */
    private long bytes(long from, long to) {
        return to <= from ? 0 : sql.queryLong(0, "SELECT coalesce(sum(" + ROW_BYTES + "), 0) FROM __cdc_log WHERE seq > ? AND seq <= ?", from, to);
    }

    /**
     * The highest seq retention lets go: older than the age limit and not among the newest rows, or
     * beyond the newest rows that fit in the size cap.
     */
    private long trimmable(long seq, double nowMs) {
        long byRows = seq - limits.logRowsMax();
        long byAge = byRows <= floor() ? floor()
                : sql.queryLong(floor(), "SELECT max(seq) FROM __cdc_log WHERE seq > ? AND seq <= ? AND ts < ?",
                        floor(), byRows, nowMs - limits.logAgeMsMax());
        // Sizes summed from the newest row down: every row whose running sum passes the cap goes.
        long bySize = sql.queryLong(floor(), "SELECT coalesce(max(seq), ?) FROM (SELECT seq, sum(" + ROW_BYTES
                + ") OVER (ORDER BY seq DESC) AS kept FROM __cdc_log WHERE seq > ?) WHERE kept > ?", floor(), floor(), limits.logBytesMax());
        return Math.max(byAge, bySize);
    }
}
