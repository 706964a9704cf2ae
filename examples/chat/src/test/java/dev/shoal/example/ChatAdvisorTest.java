package dev.shoal.example;

import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.shoal.codegen.Advisor;
import dev.shoal.codegen.Finding;
import java.util.List;
import org.junit.jupiter.api.Test;

/** The example's design points, as the security advisor sees them: identities stamped from ctx.auth(), every policy reads Where.me(). */
class ChatAdvisorTest {
    @Test
    void chatAppHasNoErrorsAndTakesNoIdentityFromClients() {
        List<Finding> findings = Advisor.check(new ChatApp().app());
        assertTrue(findings.stream().noneMatch(f -> f.severity() == Finding.Severity.ERROR), findings::toString);
        for (String code : List.of("TABLE_NO_READ_POLICY", "READ_POLICY_IGNORES_IDENTITY", "AUTHOR_NOT_PINNED",
                "SHAPE_TAKES_IDENTITY", "MUTATOR_TAKES_AUTHOR", "SHAPE_SYNCS_CREDENTIAL")) {
            assertTrue(findings.stream().noneMatch(f -> f.code().equals(code)), code + " in " + findings);
        }
    }
}
