package dev.shoal.codegen;

import dev.shoal.codegen.Finding.Severity;
import dev.shoal.engine.App;
import dev.shoal.engine.mutate.Mutator;
import dev.shoal.engine.schema.Table;
import dev.shoal.engine.schema.V;
import dev.shoal.engine.schema.Validator;
import dev.shoal.engine.shape.Shape;
import dev.shoal.engine.where.Where;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/**
 * A security review of an {@link App}'s definitions, run with codegen. It sees tables, policies,
 * shape args, projections and mutator args, but not the code inside a shape's {@code where} or a
 * mutator's server lambda, so its rules are about what the definitions declare and what their
 * names suggest. Each finding says what can go wrong and what to write instead.
 */
public final class Advisor {
    private Advisor() {}

    /** Every finding for {@code app}: errors first, then warnings, then infos, each in definition order. */
    public static List<Finding> check(App app) {
        List<Finding> out = new ArrayList<>();
        for (Table t : app.tables()) {
            readPolicy(t, out);
            writePolicies(t, out);
            authorPinned(t, out);
        }
        for (Shape s : app.shapes()) {
            Table t = app.table(s.table());
            credentials(s, t, out);
            projection(s, t, out);
            shapeIdentityArgs(s, t, out);
        }
        for (Mutator m : app.mutators()) {
            mutatorAuthorArgs(app, m, m.args(), "args", out);
        }
        sharding(app, out);
        out.sort(Comparator.comparing(Finding::severity));
        return List.copyOf(out);
    }

    /**
     * The registration's shard rules (App.build() refuses the same, so an app that builds has no
     * such error), a shard key arg that is not an id, and mutators that run on __root__ in an app
     * with sharded tables (docs/sharding.md).
     */
    private static void sharding(App app, List<Finding> out) {
        java.util.Map<String, Table> tables = new java.util.LinkedHashMap<>();
        app.tables().forEach(t -> tables.put(t.name(), t));
        for (String problem : dev.shoal.engine.shard.ShardRules.problems(tables, app.shapes(), app.mutators())) {
            out.add(new Finding(Severity.ERROR, "CROSS_SHARD", "sharding", problem));
        }
        boolean sharded = tables.values().stream().anyMatch(t -> t.shardKey() != null);
        for (Shape s : app.shapes()) {
            shardKeyArg("shape " + s.name(), s.name(), s.shardKey(), s.args(), out);
        }
        for (Mutator m : app.mutators()) {
            shardKeyArg("mutator " + m.name(), m.name(), m.shardKey(), m.args(), out);
            if (sharded && m.shardKey() == null) {
                out.add(new Finding(Severity.INFO, "MUTATOR_ON_ROOT", m.name(), "mutator " + m.name() + " declares no .shardKey(...), so it"
                        + " runs on __root__: it may write unsharded and global tables there, and any row of a sharded table fails it"
                        + " with WRONG_SHARD. If it writes a sharded table, declare the arg that names the shard."));
            }
        }
    }

    private static void shardKeyArg(String what, String subject, String key, V.Obj args, List<Finding> out) {
        if (key != null && args.fields().get(key) instanceof V.Str str && str.idOf() == null) {
            out.add(new Finding(Severity.WARN, "SHARD_KEY_NOT_AN_ID", subject, what + " names its shard with args." + key
                    + ", a plain string: a value outside 1..128 chars of [A-Za-z0-9_.:-] cannot name a shard and is refused with"
                    + " BAD_ARGS at run time. Declare it V.id(\"<table>\"), so the client's types and validators say so."));
        }
    }

    private static void readPolicy(Table t, List<Finding> out) {
        Where policy = t.readPolicy();
        if (policy == null) {
            out.add(new Finding(Severity.WARN, "TABLE_NO_READ_POLICY", t.name(), "table " + t.name()
                    + " has no read policy: a client that subscribes to a shape on it gets every row the shape's where"
                    + " matches, whoever the row belongs to. Add .readPolicy(...) that reads Where.me() (e.g. "
                    + example(t) + "), or .readPolicy(Where.all()) if every signed-in user may read all of it;"
                    + " App.builder().requireReadPolicies() makes a missing read policy a build error."));
            return;
        }
        List<String> identity = columns(t, Names::identity);
        if (!identity.isEmpty() && !(policy instanceof Where.All) && !Where.readsMe(policy)) {
            out.add(new Finding(Severity.INFO, "READ_POLICY_IGNORES_IDENTITY", t.name(), "table " + t.name()
                    + " has " + list(identity) + ", which " + (identity.size() == 1 ? "names" : "name")
                    + " a person, but its read policy never reads Where.me(): whoever it admits sees every"
                    + " such row, whoever it belongs to. Fine for shared data; otherwise compare the column to"
                    + " Where.me(), or use Where.exists(...) over a membership table with Where.me() inside."));
        }
    }

    private static void writePolicies(Table t, List<Finding> out) {
        List<String> missing = new ArrayList<>();
        if (t.insertPolicy() == null) {
            missing.add("insert");
        }
        if (t.updatePolicy() == null) {
            missing.add("update");
        }
        if (t.deletePolicy() == null) {
            missing.add("delete");
        }
        if (missing.isEmpty()) {
            return;
        }
        List<String> calls = new ArrayList<>();
        missing.forEach(k -> calls.add("." + k + "Policy(...)"));
        String kinds = or(missing);
        out.add(new Finding(Severity.WARN, "TABLE_NO_WRITE_POLICY", t.name(), "table " + t.name() + " has no "
                + kinds + " policy: any mutator may " + kinds + " any row of it, so each mutator's own code is all"
                + " that decides whose rows change. Add " + String.join(", ", calls) + " saying who may (e.g. "
                + example(t) + "), or Where.or() (an empty or: matches no row) for a kind of write no mutator makes."));
    }

    /** An author-like column that the insert policy does not tie to the writer can be forged. */
    private static void authorPinned(Table t, List<Finding> out) {
        for (String c : columns(t, Names::author)) {
            if (!pins(t.insertPolicy(), c)) {
                out.add(new Finding(Severity.WARN, "AUTHOR_NOT_PINNED", t.name(), "table " + t.name() + "."
                        + c + " looks like who wrote or owns the row, but " + t.name() + "'s insert policy "
                        + (t.insertPolicy() == null ? "is missing" : "does not say " + c + " = Where.me()")
                        + ": a mutator that copies it from args lets a client write rows in someone else's name."
                        + " Add Where.eq(\"" + c + "\", Where.me()) to .insertPolicy(...) (inside Where.and(...) with"
                        + " what else it checks)."));
            }
        }
    }

    private static void credentials(Shape s, Table t, List<Finding> out) {
        List<String> secret = new ArrayList<>();
        for (String c : Codegen.projected(s, t)) {
            if (Names.credential(c)) {
                secret.add(c);
            }
        }
        if (secret.isEmpty()) {
            return;
        }
        String which = secret.size() == 1 ? "it" : "them";
        out.add(new Finding(Severity.ERROR, "SHAPE_SYNCS_CREDENTIAL", s.name(), "shape " + s.name() + " syncs "
                + t.name() + "." + String.join(", " + t.name() + ".", secret) + (s.columns().isEmpty() ? " (it calls no"
                + " .columns(...), so it projects every column)" : "") + ", which "
                + (secret.size() == 1 ? "looks" : "look") + " like a credential: every subscriber's device would store "
                + which + ". Leave " + which + " out of .columns(...): server code still reads " + which
                + " through ctx.db(). If it is not a credential, pass --allow SHAPE_SYNCS_CREDENTIAL:" + s.name()
                + " to the tool."));
    }

    private static void projection(Shape s, Table t, List<Finding> out) {
        if (!s.columns().isEmpty() && !s.columns().containsAll(t.columns().keySet())) {
            return;
        }
        List<String> sensitive = new ArrayList<>();
        List<String> rest = new ArrayList<>();
        for (String c : t.columns().keySet()) {
            if (c.equals("id")) {
                continue;
            }
            String why = Names.credential(c) ? "a credential" : Names.personal(c) ? "personal data"
                    : Names.identity(c) ? "a person's id" : null;
            if (why != null) {
                sensitive.add(c + " (" + why + ")");
            } else {
                rest.add("\"" + c + "\"");
            }
        }
        if (sensitive.isEmpty()) {
            return;
        }
        String how = s.columns().isEmpty() ? "it calls no .columns(...)" : "its .columns(...) lists them all";
        out.add(new Finding(Severity.WARN, "SHAPE_PROJECTS_ALL_COLUMNS", s.name(), "shape " + s.name()
                + " projects every column of " + t.name() + " (" + how + "), including " + list(sensitive)
                + ": every subscriber's device stores " + (sensitive.size() == 1 ? "it" : "them") + " for each row it"
                + " sees. Consider projecting only what the client shows" + (rest.isEmpty() ? "" : ", e.g. .columns("
                + String.join(", ", rest) + ")") + "; if the client needs " + (sensitive.size() == 1 ? "it" : "them")
                + " (say, to show who wrote each row), this is fine."));
    }

    /** An identity taken from args, on a table whose read policy does not check the identity, reads anyone's rows. */
    private static void shapeIdentityArgs(Shape s, Table t, List<Finding> out) {
        if (t.readPolicy() != null && Where.readsMe(t.readPolicy())) {
            return;
        }
        for (String path : fields(s.args(), "args", Names::identity)) {
            out.add(new Finding(Severity.WARN, "SHAPE_TAKES_IDENTITY", s.name(), "shape " + s.name() + " takes "
                    + path + ", which looks like a user's id, and table " + t.name() + (t.readPolicy() == null
                    ? " has no read policy" : "'s read policy never reads Where.me()")
                    + ": a client can put anyone's id there and read their rows. Compare the column to Where.me()"
                    + " (the identity the token proved) in the shape's where instead of taking it from args, or give "
                    + t.name() + " a read policy that reads Where.me()."));
        }
    }

    private static void mutatorAuthorArgs(App app, Mutator m, V.Obj args, String at, List<Finding> out) {
        for (String path : fields(args, at, Names::author)) {
            String field = path.substring(path.lastIndexOf('.') + 1);
            boolean someTable = false;
            boolean allPinned = true;
            for (Table t : app.tables()) {
                if (t.hasColumn(field)) {
                    someTable = true;
                    allPinned &= pins(t.insertPolicy(), field);
                }
            }
            if (someTable && allPinned) {
                out.add(new Finding(Severity.INFO, "MUTATOR_TAKES_AUTHOR", m.name(), "mutator " + m.name() + " takes "
                        + path + ". Every table with a column " + field + " pins it to Where.me() in its insert policy,"
                        + " so a forged value is refused, but the arg is redundant: stamp it from ctx.auth().userId()"
                        + " instead of taking it from args, and drop it from the args."));
            } else {
                out.add(new Finding(Severity.WARN, "MUTATOR_TAKES_AUTHOR", m.name(), "mutator " + m.name() + " takes "
                        + path + ", which looks like who wrote or owns a row: a client can send anyone's id there."
                        + " Stamp it from ctx.auth().userId() instead of taking it from args, and pin the column with"
                        + " Where.eq(\"" + field + "\", Where.me()) in its table's insert policy."));
            }
        }
    }

    /** True when {@code policy} requires {@code column = me()} (alone or as a conjunct). */
    static boolean pins(Where policy, String column) {
        if (policy instanceof Where.Compare c) {
            return c.column().equals(column) && c.op() == Where.Op.EQ && c.value() instanceof Where.Operand.Me;
        }
        if (policy instanceof Where.And a) {
            return a.all().stream().anyMatch(p -> pins(p, column));
        }
        return false;
    }

    /** Paths ({@code args.owner.userId}) of the fields, nested objects included, whose names match. */
    private static List<String> fields(V.Obj obj, String at, java.util.function.Predicate<String> match) {
        List<String> paths = new ArrayList<>();
        for (Map.Entry<String, Validator> f : obj.fields().entrySet()) {
            String path = at + "." + f.getKey();
            if (match.test(f.getKey())) {
                paths.add(path);
            }
            if (f.getValue() instanceof V.Obj nested) {
                paths.addAll(fields(nested, path, match));
            }
        }
        return paths;
    }

    private static List<String> columns(Table t, java.util.function.Predicate<String> match) {
        List<String> out = new ArrayList<>();
        for (String c : t.columns().keySet()) {
            if (!c.equals("id") && match.test(c)) {
                out.add(c);
            }
        }
        return out;
    }

    /** A policy that fits the table: its own person column if it has one. */
    private static String example(Table t) {
        List<String> author = columns(t, Names::author);
        List<String> identity = columns(t, Names::identity);
        String column = !author.isEmpty() ? author.get(0) : !identity.isEmpty() ? identity.get(0) : "ownerId";
        return "Where.eq(\"" + column + "\", Where.me())";
    }

    private static String list(List<String> names) {
        return names.size() == 1 ? names.get(0) : String.join(", ", names.subList(0, names.size() - 1)) + " and "
                + names.get(names.size() - 1);
    }

    private static String or(List<String> words) {
        return words.size() == 1 ? words.get(0) : String.join(", ", words.subList(0, words.size() - 1)) + " or "
                + words.get(words.size() - 1);
    }

    /**
     * What a column or field name suggests, word by word ({@code createdBy} is "created by",
     * {@code user_id} is "user id"), so {@code authorized} is not an author and {@code secretary}
     * is not a secret.
     */
    static final class Names {
        private Names() {}

        /** Who wrote or owns a row: author, owner, creator, created/updated by. */
        static boolean author(String name) {
            List<String> w = words(name);
            return w.contains("author") || w.contains("owner") || w.contains("creator")
                    || pair(w, "created", "by") || pair(w, "updated", "by") || pair(w, "modified", "by");
        }

        /** A person's id: an author-like name, or user id. */
        static boolean identity(String name) {
            List<String> w = words(name);
            return author(name) || pair(w, "user", "id") || w.equals(List.of("user")) || w.equals(List.of("uid"));
        }

        static boolean personal(String name) {
            List<String> w = words(name);
            return w.contains("email") || w.contains("phone");
        }

        static boolean credential(String name) {
            List<String> w = words(name);
            return w.contains("password") || w.contains("passwd") || w.contains("secret") || w.contains("token")
                    || pair(w, "api", "key") || pair(w, "private", "key");
        }

        static boolean sensitive(String name) {
            return identity(name) || personal(name) || credential(name);
        }

        private static boolean pair(List<String> w, String first, String second) {
            for (int i = 0; i + 1 < w.size(); i++) {
                if (w.get(i).equals(first) && w.get(i + 1).equals(second)) {
                    return true;
                }
            }
            return false;
        }

        /** {@code apiKeyID} -> [api, key, id]; {@code password_hash} -> [password, hash]. */
        static List<String> words(String name) {
            List<String> out = new ArrayList<>();
            StringBuilder word = new StringBuilder();
            for (int i = 0; i < name.length(); i++) {
                char c = name.charAt(i);
                boolean boundary = !Character.isLetterOrDigit(c);
                boolean startsWord = Character.isUpperCase(c) && i > 0 && (Character.isLowerCase(name.charAt(i - 1))
                        || (i + 1 < name.length() && Character.isLowerCase(name.charAt(i + 1)) && Character.isUpperCase(name.charAt(i - 1))));
                if ((boundary || startsWord) && word.length() > 0) {
                    out.add(word.toString().toLowerCase(Locale.ROOT));
                    word.setLength(0);
                }
                if (!boundary) {
                    word.append(c);
                }
            }
            if (word.length() > 0) {
                out.add(word.toString().toLowerCase(Locale.ROOT));
            }
            return out;
        }
    }
}
