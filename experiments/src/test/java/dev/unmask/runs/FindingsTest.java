package dev.unmask.runs;

import dev.unmask.env.UnmaskException;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;

import static org.junit.jupiter.api.Assertions.*;

class FindingsTest {
    static final String CSV = """
            task,mode,block_length,gen_length,policy,policy_params,n,accuracy,acc_ci_low,acc_ci_high,mean_nfe,split
            sudoku,full,32,32,threshold,threshold(tau=0.8),1000,0.8710,0.8488,0.8904,1.3740,test
            sudoku,full,32,32,learned,"learned(mode=greedy,policy=p,temp=1.0)",1000,0.9150,0.8961,0.9310,1.3820,test
            sudoku,semi-ar,8,32,threshold,threshold(tau=0.8),1000,0.9900,0.9800,0.9950,12.5000,test
            """;
    static final String YAML = """
            findings:
              - id: gain
                folder: results/run
                rows:
                  a: {task: sudoku, mode: full, policy: learned}
                  b: {mode: full, policy_params: "threshold(tau=0.8)"}
                text: >-
                  Learned {a}, {a-b} points above {b.acc} {b.ci} at {b.nfe} NFE (n={b.n}, {b.split}).
              - id: semi
                folder: results/run
                rows:
                  s: {mode: semi-ar, block_length: "8"}
                text: "Blocks of 8: {s}."
            """;

    static Path repo(Path dir, String yaml) throws IOException {
        Files.createDirectories(dir.resolve("results/run"));
        Files.writeString(dir.resolve("results/run/eval.csv"), CSV);
        Files.writeString(dir.resolve(Findings.YAML_FILE), yaml);
        Files.writeString(dir.resolve("README.md"), "# x\n\nintro\n\n" + Findings.BEGIN + "\nold\n" + Findings.END + "\n\nrest\n");
        return dir;
    }

    @Test
    void rendersTheReadmeBlockAndFindingsMarkdownExactly(@TempDir Path dir) throws IOException {
        repo(dir, YAML);
        assertEquals(2, Findings.write(dir));
        String table = """
                | finding | n | split | reproduce |
                |---|---|---|---|
                | Learned 91.5% [89.6, 93.1] at 1.38 NFE, 4.4 points above 87.1% [84.9, 89.0] at 1.37 NFE (n=1000, test). | 1000 | test | `./unmask reproduce results/run` |
                | Blocks of 8: 99.0% [98.0, 99.5] at 12.5 NFE. | 1000 | test | `./unmask reproduce results/run` |
                """;
        assertEquals("# x\n\nintro\n\n" + Findings.BEGIN + "\n\n" + table + "\n" + Findings.END + "\n\nrest\n", Files.readString(dir.resolve("README.md")));
        assertEquals("""
                # Findings

                Rendered by `./unmask findings` from `results/findings.yaml` and the committed `eval.csv` rows it names; edit those, not this file (`./unmask findings --check` fails when this file or the README's table differs from the rendering). Accuracies carry 95% Wilson intervals; NFE is the mean number of dLLM forward passes per answer.

                """ + table + """

                ## gain

                Learned 91.5% [89.6, 93.1] at 1.38 NFE, 4.4 points above 87.1% [84.9, 89.0] at 1.37 NFE (n=1000, test).

                | row | policy | mode | B | accuracy [95% CI] | mean NFE | n | split |
                |---|---|---|---|---|---|---|---|
                | a | `learned(mode=greedy,policy=p,temp=1.0)` | full | 32 | 91.5% [89.6, 93.1] | 1.38 | 1000 | test |
                | b | `threshold(tau=0.8)` | full | 32 | 87.1% [84.9, 89.0] | 1.37 | 1000 | test |

                From `results/run/eval.csv`; reproduce: `./unmask reproduce results/run`

                ## semi

                Blocks of 8: 99.0% [98.0, 99.5] at 12.5 NFE.

                | row | policy | mode | B | accuracy [95% CI] | mean NFE | n | split |
                |---|---|---|---|---|---|---|---|
                | s | `threshold(tau=0.8)` | semi-ar | 8 | 99.0% [98.0, 99.5] | 12.5 | 1000 | test |

                From `results/run/eval.csv`; reproduce: `./unmask reproduce results/run`
                """, Files.readString(dir.resolve(Findings.FINDINGS_FILE)));
        assertNull(Findings.check(dir));
    }

    @Test
    void checkNamesTheFirstDifferingLine(@TempDir Path dir) throws IOException {
        repo(dir, YAML);
        Findings.write(dir);
        Path readme = dir.resolve("README.md");
        Files.writeString(readme, Files.readString(readme).replace("99.0% [98.0", "99.1% [98.0"));
        String diff = Findings.check(dir);
        assertNotNull(diff);
        assertEquals("README.md line 10 differs from the rendering at column 19: it says \"| Blocks of 8: 99.1% [98.0, 99.5] at 12.5 NFE. | 1000 | test | `./unmask repro...\", "
                + "the data says \"| Blocks of 8: 99.0% [98.0, 99.5] at 12.5 NFE. | 1000 | test | `./unmask repro...\"", diff);
        assertFalse(diff.contains("\n"), diff);
    }

    @Test
    void badEntriesAreOneLineErrors(@TempDir Path dir) throws IOException {
        assertThrowsMessage(repo(dir, YAML.replace("{task: sudoku, mode: full, policy: learned}", "{task: sudoku, policy: threshold}")), "matches 2 rows");
        assertThrowsMessage(repo(dir, YAML.replace("policy: learned}", "policy: nothing}")), "matches 0 rows");
        assertThrowsMessage(repo(dir, YAML.replace("folder: results/run\n    rows:\n      a", "folder: results/none\n    rows:\n      a")), "results/none has no eval.csv");
        assertThrowsMessage(repo(dir, YAML.replace("{a-b}", "{a-c}")), "names row c");
        assertThrowsMessage(repo(dir, YAML.replace("policy: learned}", "polcy: learned}")), "has no column polcy");
    }

    private static void assertThrowsMessage(Path root, String part) {
        UnmaskException e = assertThrows(UnmaskException.class, () -> Findings.load(root));
        assertTrue(e.getMessage().contains(part), e.getMessage());
        assertFalse(e.getMessage().contains("\n"), e.getMessage());
    }

    @Test
    void numbersAreFormattedToAboutThreeDigits() {
        assertEquals(List.of("1.37", "33.4", "128"), List.of(Findings.nfe(1.374), Findings.nfe(33.368), Findings.nfe(128.0)));
        assertEquals("100.0%", Findings.pct(1.0));
    }
}
