package dev.unmask.runs;

import dev.unmask.env.io.Json;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.*;

class RunManifestTest {
    @Test
    void recordedCommandQuotesASweepSoAShellDoesNotPipeIt(@TempDir Path dir) {
        List<String> args = List.of("eval", "--policies", "threshold:tau=0.5|0.9,topk:steps=32", "--out", "runs/e1");
        new RunManifest("eval", args, null).write(dir, List.of());
        assertEquals("./unmask eval --policies \"threshold:tau=0.5|0.9,topk:steps=32\" --out runs/e1",
                Json.read(dir.resolve(RunManifest.FILE), Map.class).get("command"));
    }

    /** What bash makes of the recorded line is the original argument list, whatever the arguments hold. */
    @Test
    void bashReadsTheRecordedCommandBackAsTheArguments() throws Exception {
        List<String> args = List.of("eval", "--policies", "a:b=1|2", "runs/with space", "it's", "$HOME", "`id`", "say \"hi\"", "!x",
                "back\\slash", "", "~/x", "*", "semi;colon", "two\nlines", "plain-1.5,x=y:z");
        String line = RunManifest.shellCommand(args);
        assertTrue(line.startsWith("./unmask "), line);
        Process p = new ProcessBuilder("bash", "-c", "printf '%s\\0' " + line.substring("./unmask ".length())).start();
        String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        assertEquals(0, p.waitFor(), new String(p.getErrorStream().readAllBytes(), StandardCharsets.UTF_8));
        List<String> back = new ArrayList<>(List.of(out.split("\0", -1)));
        back.remove(back.size() - 1); // after the last terminator
        assertEquals(args, back, line);
    }
}
