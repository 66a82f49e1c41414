package dev.unmask.cli;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;

import static dev.unmask.cli.CliTest.assertOneLineError;
import static dev.unmask.cli.CliTest.run;
import static org.junit.jupiter.api.Assertions.*;

class FigureCommandTest {
    private static final Path ROOT = ReferenceRunConfigsTest.repoRoot();
    private static final String FULL = ROOT.resolve("results/frontier/test-lag48-dllm-t4-full").toString(),
            B32 = ROOT.resolve("results/frontier/test-lag48-dllm-t4-b32").toString();

    /** The README's figure is drawn from the committed folders (its series: PlotsTest). */
    @Test
    void drawsFullDiffusionBesideBlocksFromTwoFolders(@TempDir Path dir) throws Exception {
        CliTest.Run r = run("figure", "--full", FULL, "--blocks", B32, "--task", "lag48", "--out", dir.resolve("fig").toString());
        assertEquals(0, r.code(), r.err());
        assertTrue(r.out().contains("30 full-diffusion rows, 23 rows in blocks of 32"), r.out());
        assertTrue(Files.size(dir.resolve("fig.png")) > 10_000);
        assertTrue(Files.size(dir.resolve("fig.svg")) > 10_000);
    }

    @Test
    void badInputIsOneLine(@TempDir Path dir) {
        assertOneLineError(run("figure", "--full", dir.toString(), "--blocks", B32, "--task", "lag48", "--out", dir.resolve("f").toString()), "has no eval.json");
        assertOneLineError(run("figure", "--full", FULL, "--blocks", FULL, "--task", "lag48", "--out", dir.resolve("f").toString()), "has no semi-AR rows of task lag48");
        assertOneLineError(run("figure", "--full", FULL, "--blocks", B32, "--task", "ducci", "--out", dir.resolve("f").toString()), "has no full-diffusion rows of task ducci");
        assertFalse(Files.exists(dir.resolve("f.png")));
    }
}
