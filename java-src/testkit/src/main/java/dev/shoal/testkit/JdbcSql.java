package dev.shoal.testkit;

import dev.shoal.engine.sql.Rows;
import dev.shoal.engine.sql.Sql;
import dev.shoal.engine.sql.SqlException;
import java.nio.charset.StandardCharsets;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Types;
import java.util.ArrayList;
import java.util.List;

/**
 * {@link Sql} over sqlite-jdbc for JVM tests. Enforces the Durable Object's limits (100 bound
 * parameters, 100 KB statements) so a statement workerd would refuse fails here too.
 */
public final class JdbcSql implements Sql, AutoCloseable {
    private final Connection connection;
    private int depth;

    public JdbcSql(String path) {
        try {
            connection = DriverManager.getConnection("jdbc:sqlite:" + path);
            connection.setAutoCommit(true);
        } catch (SQLException e) {
            throw new IllegalStateException(e);
        }
    }

    /** A fresh in-memory database. */
    public static JdbcSql memory() {
        return new JdbcSql(":memory:");
    }

    @Override
    public Rows query(String sql, Object... args) {
        if (args.length > PARAMS_MAX) {
            throw new SqlException("too many SQL variables: " + args.length + " > " + PARAMS_MAX);
        }
        if (sql.getBytes(StandardCharsets.UTF_8).length > STATEMENT_BYTES_MAX) {
            throw new SqlException("statement too long");
        }
        try {
            PreparedStatement st = connection.prepareStatement(sql);
            for (int i = 0; i < args.length; i++) {
                bind(st, i + 1, args[i]);
            }
            // Every row is read before the statement closes, as a Durable Object's exec().toArray()
            // does: a write with RETURNING is then complete, and no statement stays in progress.
            List<Object[]> out = new ArrayList<>();
            try (st) {
                if (st.execute()) {
                    ResultSet rs = st.getResultSet();
                    int columns = rs.getMetaData().getColumnCount();
                    while (rs.next()) {
                        Object[] row = new Object[columns];
                        for (int i = 0; i < columns; i++) {
                            Object v = rs.getObject(i + 1);
                            row[i] = v instanceof Integer n ? (Object) (long) n : v;
                        }
                        out.add(row);
                    }
                }
            }
            return new JdbcRows(out);
        } catch (SQLException e) {
            throw new SqlException(e.getMessage());
        }
    }

    @Override
    public long write(String sql, Object... args) {
        query(sql, args); // runs it to its end (every row is read)
        try (java.sql.Statement st = connection.createStatement(); ResultSet rs = st.executeQuery("SELECT changes()")) {
            return rs.next() ? rs.getLong(1) : 0;
        } catch (SQLException e) {
            throw new SqlException(e.getMessage());
        }
    }

    private static void bind(PreparedStatement st, int i, Object v) throws SQLException {
        if (v == null) {
            st.setNull(i, Types.NULL);
        } else if (v instanceof String s) {
            st.setString(i, s);
        } else if (v instanceof Long || v instanceof Integer) {
            st.setLong(i, ((Number) v).longValue());
        } else if (v instanceof Double d) {
            st.setDouble(i, d);
        } else if (v instanceof Boolean b) {
            st.setLong(i, b ? 1 : 0);
        } else {
            throw new IllegalArgumentException("cannot bind " + v.getClass());
        }
    }

    @Override
    public void transaction(Runnable body) {
        if (depth > 0) {
            body.run();
            return;
        }
        try {
            connection.setAutoCommit(false);
            depth++;
            try {
                body.run();
                connection.commit();
            } catch (RuntimeException | Error e) {
                connection.rollback();
                throw e;
            } finally {
                depth--;
                connection.setAutoCommit(true);
            }
        } catch (SQLException e) {
            throw new SqlException(e.getMessage());
        }
    }

    @Override
    public void close() {
        try {
            connection.close();
        } catch (SQLException e) {
            throw new IllegalStateException(e);
        }
    }

    private static final class JdbcRows implements Rows {
        private final List<Object[]> rows;
        private int at = -1;

        JdbcRows(List<Object[]> rows) {
            this.rows = rows;
        }

        @Override
        public boolean next() {
            return ++at < rows.size();
        }

        @Override
        public boolean isNull(int column) {
            return get(column) == null;
        }

        @Override
        public String getString(int column) {
            Object v = get(column);
            return v == null ? null : v.toString();
        }

        @Override
        public long getLong(int column) {
            Object v = get(column);
            return v == null ? 0 : ((Number) v).longValue();
        }

        @Override
        public double getDouble(int column) {
            Object v = get(column);
            return v == null ? 0 : ((Number) v).doubleValue();
        }

        @Override
        public Object get(int column) {
            return rows.get(at)[column];
        }
    }
}
