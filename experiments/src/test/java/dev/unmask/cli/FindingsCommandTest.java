package dev.unmask.cli;

import dev.unmask.runs.Findings;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import static org.junit.jupiter.api.Assertions.*;

/** The CI check that no rendered finding in README.md or results/FINDINGS.md is out of step with the committed eval rows. */
class FindingsCommandTest {
    @Test
    void theCommittedReadmeAndFindingsMatchTheirRendering() {
        CliTest.Run r = CliTest.run("findings", "--check", "--root", ReferenceRunConfigsTest.repoRoot().toString());
        assertEquals(0, r.code(), r.out() + r.err());
    }

    @Test
    void anEditedNumberInACopyOfTheReadmeFailsTheCheck(@TempDir Path dir) throws IOException {
        Path root = ReferenceRunConfigsTest.repoRoot();
        copy(root, dir, "README.md");
        copy(root, dir, Findings.FINDINGS_FILE);
        copy(root, dir, Findings.YAML_FILE);
        for (String folder : new java.util.TreeSet<>(Findings.load(root).stream().map(Findings.Finding::folder).toList())) copy(root, dir, folder + "/eval.csv");
        assertEquals(0, CliTest.run("findings", "--check", "--root", dir.toString()).code());

        Path readme = dir.resolve("README.md");
        String text = Files.readString(readme);
        int begin = text.indexOf(Findings.BEGIN);
        Matcher m = Pattern.compile("(\\d+)\\.(\\d)%").matcher(text);
        assertTrue(m.find(begin), "no percentage in the findings block");
        String edited = text.substring(0, m.start()) + (Integer.parseInt(m.group(1)) + 1) + "." + m.group(2) + "%" + text.substring(m.end());
        Files.writeString(readme, edited);
        CliTest.Run r = CliTest.run("findings", "--check", "--root", dir.toString());
        assertEquals(1, r.code(), r.out() + r.err());
        assertEquals(1, r.out().strip().lines().count(), r.out());
        assertTrue(r.out().startsWith("findings: README.md line "), r.out());

        // writing repairs it
        assertEquals(0, CliTest.run("findings", "--root", dir.toString()).code());
        assertEquals(text, Files.readString(readme));
    }

    @Test
    void aSelectorMatchingNoRowIsAUsageError(@TempDir Path dir) throws IOException {
        Files.createDirectories(dir.resolve("results/run"));
        Files.writeString(dir.resolve("results/run/eval.csv"), "task,mode,policy_params,accuracy\nsudoku,full,x,0.5\n");
        Files.writeString(dir.resolve(Findings.YAML_FILE), "findings:\n  - {id: a, folder: results/run, text: \"{r}\", rows: {r: {mode: semi-ar}}}\n");
        Files.writeString(dir.resolve("README.md"), Findings.BEGIN + "\n" + Findings.END + "\n");
        CliTest.Run r = CliTest.run("findings", "--check", "--root", dir.toString());
        assertEquals(2, r.code());
        assertEquals(List.of("unmask: error: finding a, row r: the selector {\"mode\":\"semi-ar\"} matches 0 rows of results/run/eval.csv, not one"), r.err().strip().lines().toList());
    }

    private static void copy(Path from, Path to, String rel) throws IOException {
        Files.createDirectories(to.resolve(rel).getParent() == null ? to : to.resolve(rel).getParent());
        Files.copy(from.resolve(rel), to.resolve(rel));
    }
}
