package dev.shoal.codegen;

import static dev.shoal.engine.where.Where.and;
import static dev.shoal.engine.where.Where.eq;
import static dev.shoal.engine.where.Where.me;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.shoal.codegen.Finding.Severity;
import dev.shoal.engine.App;
import dev.shoal.engine.mutate.Mutator;
import dev.shoal.engine.schema.Table;
import dev.shoal.engine.schema.V;
import dev.shoal.engine.shape.Shape;
import dev.shoal.engine.where.Where;
import java.util.List;
import org.junit.jupiter.api.Test;

class AdvisorTest {
    /** Notes owned by their writer: every policy reads Where.me(), the shape projects no identity. */
    private static Table notes() {
        return Table.named("notes").column("ownerId", V.string()).column("title", V.string())
                .readPolicy(eq("ownerId", me())).insertPolicy(eq("ownerId", me()))
                .updatePolicy(eq("ownerId", me())).deletePolicy(eq("ownerId", me()));
    }

    private static Shape myNotes() {
        return Shape.named("myNotes").on("notes").where(a -> Where.all()).columns("title");
    }

    private static Mutator addNote(V.Obj args) {
        return Mutator.named("addNote").args(args).server((ctx, a) -> {});
    }

    private static final V.Obj NOTE_ARGS = V.object().field("id", V.id("notes")).field("title", V.string());

    private static List<Finding> check(Table table, Shape shape, Mutator mutator) {
        return Advisor.check(App.builder().table(table).shape(shape).mutator(mutator).build());
    }

    private static Finding only(List<Finding> findings, String code) {
        List<Finding> of = findings.stream().filter(f -> f.code().equals(code)).toList();
        assertEquals(1, of.size(), () -> "one " + code + " expected in " + findings);
        return of.get(0);
    }

    private static void none(List<Finding> findings, String code) {
        assertTrue(findings.stream().noneMatch(f -> f.code().equals(code)), () -> "no " + code + " expected in " + findings);
    }

    @Test
    void aCleanAppHasNoFindings() {
        assertEquals(List.of(), check(notes(), myNotes(), addNote(NOTE_ARGS)));
    }

    @Test
    void aTableWithoutReadPolicyIsAWarning() {
        Table open = Table.named("notes").column("ownerId", V.string()).column("title", V.string())
                .insertPolicy(eq("ownerId", me())).updatePolicy(eq("ownerId", me())).deletePolicy(eq("ownerId", me()));
        Finding f = only(check(open, myNotes(), addNote(NOTE_ARGS)), "TABLE_NO_READ_POLICY");
        assertEquals(Severity.WARN, f.severity());
        assertEquals("notes", f.subject());
        assertTrue(f.message().startsWith("table notes has no read policy: "), f.message());
        assertTrue(f.message().contains(".readPolicy(...) that reads Where.me() (e.g. Where.eq(\"ownerId\", Where.me()))"), f.message());
        assertTrue(f.message().contains("requireReadPolicies()"), f.message());
    }

    @Test
    void missingWritePoliciesAreNamedInOneWarning() {
        Table t = Table.named("notes").column("ownerId", V.string()).column("title", V.string())
                .readPolicy(eq("ownerId", me())).insertPolicy(eq("ownerId", me()));
        Finding f = only(check(t, myNotes(), addNote(NOTE_ARGS)), "TABLE_NO_WRITE_POLICY");
        assertEquals(Severity.WARN, f.severity());
        assertTrue(f.message().startsWith("table notes has no update or delete policy: any mutator may update or delete"
                + " any row of it"), f.message());
        assertTrue(f.message().contains("Add .updatePolicy(...), .deletePolicy(...) saying who may"), f.message());
        assertTrue(f.message().contains("Where.or() (an empty or: matches no row)"), f.message());
        Table never = t.updatePolicy(Where.or()).deletePolicy(Where.or());
        none(check(never, myNotes(), addNote(NOTE_ARGS)), "TABLE_NO_WRITE_POLICY");
    }

    @Test
    void aReadPolicyThatIgnoresTheOwnerIsAnInfoUnlessItSaysAll() {
        Table byTitle = notes().readPolicy(eq("title", "public"));
        Finding f = only(check(byTitle, myNotes(), addNote(NOTE_ARGS)), "READ_POLICY_IGNORES_IDENTITY");
        assertEquals(Severity.INFO, f.severity());
        assertTrue(f.message().startsWith("table notes has ownerId, which names a person, but its read policy never reads Where.me()"), f.message());
        none(check(notes().readPolicy(Where.all()), myNotes(), addNote(NOTE_ARGS)), "READ_POLICY_IGNORES_IDENTITY");
        Table membership = notes().readPolicy(Where.exists("notes", "id", "id", eq("ownerId", me())));
        none(check(membership, myNotes(), addNote(NOTE_ARGS)), "READ_POLICY_IGNORES_IDENTITY");
    }

    @Test
    void anAuthorColumnTheInsertPolicyDoesNotPinIsAWarning() {
        Table loose = notes().insertPolicy(eq("title", "x"));
        Finding f = only(check(loose, myNotes(), addNote(NOTE_ARGS)), "AUTHOR_NOT_PINNED");
        assertEquals(Severity.WARN, f.severity());
        assertEquals("table notes.ownerId looks like who wrote or owns the row, but notes's insert policy does not say"
                + " ownerId = Where.me(): a mutator that copies it from args lets a client write rows in someone else's"
                + " name. Add Where.eq(\"ownerId\", Where.me()) to .insertPolicy(...) (inside Where.and(...) with what else"
                + " it checks).", f.message());
        Table pinnedInAnd = notes().insertPolicy(and(eq("title", "x"), eq("ownerId", me())));
        none(check(pinnedInAnd, myNotes(), addNote(NOTE_ARGS)), "AUTHOR_NOT_PINNED");
        Table orIsNotAPin = notes().insertPolicy(Where.or(eq("title", "x"), eq("ownerId", me())));
        only(check(orIsNotAPin, myNotes(), addNote(NOTE_ARGS)), "AUTHOR_NOT_PINNED");
    }

    @Test
    void aShapeThatSyncsACredentialIsAnError() {
        Table users = Table.named("users").column("name", V.string()).column("passwordHash", V.string())
                .column("secretary", V.string()).readPolicy(eq("id", me())).insertPolicy(eq("id", me()))
                .updatePolicy(eq("id", me())).deletePolicy(eq("id", me()));
        Shape leaky = Shape.named("me").on("users").where(a -> Where.all()).columns("name", "passwordHash");
        Finding f = only(check(users, leaky, addNote(NOTE_ARGS)), "SHAPE_SYNCS_CREDENTIAL");
        assertEquals(Severity.ERROR, f.severity());
        assertEquals("SHAPE_SYNCS_CREDENTIAL:me", f.key());
        assertTrue(f.message().startsWith("shape me syncs users.passwordHash, which looks like a credential: every"
                + " subscriber's device would store it. Leave it out of .columns(...)"), f.message());
        Shape everything = Shape.named("me").on("users").where(a -> Where.all());
        assertTrue(only(check(users, everything, addNote(NOTE_ARGS)), "SHAPE_SYNCS_CREDENTIAL").message()
                .contains("(it calls no .columns(...), so it projects every column)"));
        Shape safe = Shape.named("me").on("users").where(a -> Where.all()).columns("name", "secretary");
        none(check(users, safe, addNote(NOTE_ARGS)), "SHAPE_SYNCS_CREDENTIAL");
    }

    @Test
    void aShapeThatProjectsEverySensitiveColumnIsAWarning() {
        Shape implicit = Shape.named("myNotes").on("notes").where(a -> Where.all());
        Finding f = only(check(notes(), implicit, addNote(NOTE_ARGS)), "SHAPE_PROJECTS_ALL_COLUMNS");
        assertEquals(Severity.WARN, f.severity());
        assertEquals("shape myNotes projects every column of notes (it calls no .columns(...)), including ownerId"
                + " (a person's id): every subscriber's device stores it for each row it sees. Consider projecting only"
                + " what the client shows, e.g. .columns(\"title\"); if the client needs it (say, to show who wrote each"
                + " row), this is fine.", f.message());
        Shape explicit = Shape.named("myNotes").on("notes").where(a -> Where.all()).columns("ownerId", "title");
        assertTrue(only(check(notes(), explicit, addNote(NOTE_ARGS)), "SHAPE_PROJECTS_ALL_COLUMNS").message()
                .contains("(its .columns(...) lists them all)"));
        Table plain = Table.named("notes").column("title", V.string()).readPolicy(Where.all())
                .insertPolicy(Where.all()).updatePolicy(Where.all()).deletePolicy(Where.all());
        none(check(plain, implicit, addNote(NOTE_ARGS)), "SHAPE_PROJECTS_ALL_COLUMNS");
    }

    @Test
    void aShapeThatTakesTheIdentityFromArgsIsAWarningWhenNoPolicyChecksIt() {
        Table open = notes().readPolicy(Where.all());
        Shape byUser = Shape.named("notesOf").on("notes").args(V.object().field("userId", V.string()))
                .where(a -> eq("ownerId", a.get("userId").asString())).columns("title");
        Finding f = only(check(open, byUser, addNote(NOTE_ARGS)), "SHAPE_TAKES_IDENTITY");
        assertEquals(Severity.WARN, f.severity());
        assertTrue(f.message().startsWith("shape notesOf takes args.userId, which looks like a user's id, and table"
                + " notes's read policy never reads Where.me(): a client can put anyone's id there and read their rows."), f.message());
        none(check(notes(), byUser, addNote(NOTE_ARGS)), "SHAPE_TAKES_IDENTITY");
    }

    @Test
    void aMutatorThatTakesTheAuthorFromArgsIsAWarning() {
        V.Obj forged = NOTE_ARGS.field("meta", V.object().field("createdBy", V.string()));
        Finding f = only(check(notes(), myNotes(), addNote(forged)), "MUTATOR_TAKES_AUTHOR");
        assertEquals(Severity.WARN, f.severity());
        assertEquals("MUTATOR_TAKES_AUTHOR:addNote", f.key());
        assertEquals("mutator addNote takes args.meta.createdBy, which looks like who wrote or owns a row: a client can"
                + " send anyone's id there. Stamp it from ctx.auth().userId() instead of taking it from args, and pin the"
                + " column with Where.eq(\"createdBy\", Where.me()) in its table's insert policy.", f.message());
    }

    @Test
    void anAuthorArgThatEveryInsertPolicyPinsIsOnlyRedundant() {
        Finding f = only(check(notes(), myNotes(), addNote(NOTE_ARGS.field("ownerId", V.string()))), "MUTATOR_TAKES_AUTHOR");
        assertEquals(Severity.INFO, f.severity());
        assertTrue(f.message().contains("so a forged value is refused, but the arg is redundant"), f.message());
        none(check(notes(), myNotes(), addNote(NOTE_ARGS.field("userId", V.string()))), "MUTATOR_TAKES_AUTHOR");
    }

    @Test
    void errorsComeFirstThenWarningsThenInfos() {
        Table users = Table.named("users").column("token", V.string()).column("ownerId", V.string())
                .readPolicy(eq("token", "x"));
        List<Finding> findings = check(users, Shape.named("all").on("users").where(a -> Where.all()), addNote(NOTE_ARGS));
        List<Severity> severities = findings.stream().map(Finding::severity).toList();
        assertEquals(Severity.ERROR, severities.get(0));
        assertEquals(Severity.INFO, severities.get(severities.size() - 1));
        assertTrue(severities.contains(Severity.WARN));
    }

    @Test
    void namesAreReadWordByWord() {
        assertEquals(List.of("api", "key", "id"), Advisor.Names.words("apiKeyID"));
        assertEquals(List.of("password", "hash"), Advisor.Names.words("password_hash"));
        assertTrue(Advisor.Names.author("createdBy"));
        assertTrue(Advisor.Names.author("OWNER_ID"));
        assertTrue(!Advisor.Names.author("authorized"));
        assertTrue(Advisor.Names.identity("userId"));
        assertTrue(!Advisor.Names.identity("userName"));
        assertTrue(Advisor.Names.personal("emailAddress"));
        assertTrue(Advisor.Names.credential("refreshToken"));
        assertTrue(Advisor.Names.credential("apiKey"));
        assertTrue(!Advisor.Names.credential("secretary"));
        assertTrue(!Advisor.Names.credential("keyboard"));
    }

    @Test
    void shardingLintsAShardKeyThatIsNoIdAndMutatorsOnRoot() {
        App app = App.builder()
                .table(Table.named("rooms").column("name", V.string()).shardBy("id").readPolicy(Where.all()))
                .shape(Shape.named("room").on("rooms").args(V.object().field("id", V.string())).shardKey("id").where(a -> Where.all()))
                .mutator(Mutator.named("hello").server((c, a) -> {}))
                .build();
        List<Finding> findings = Advisor.check(app);
        assertTrue(findings.stream().anyMatch(f -> f.key().equals("SHARD_KEY_NOT_AN_ID:room")), findings.toString());
        assertTrue(findings.stream().anyMatch(f -> f.key().equals("MUTATOR_ON_ROOT:hello")), findings.toString());
        assertTrue(findings.stream().noneMatch(f -> f.code().equals("CROSS_SHARD")), "a built app has no cross-shard join");
    }
}
