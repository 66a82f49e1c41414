package dev.unmask.dllm;

import dev.unmask.env.io.Json;
import dev.unmask.env.task.Split;
import dev.unmask.env.UnmaskException;
import dev.unmask.env.denoiser.Vocabulary;
import dev.unmask.env.task.Tasks;
import org.junit.jupiter.api.Test;

import java.util.List;
import java.util.SplittableRandom;

import static org.junit.jupiter.api.Assertions.*;

class ShortestOfDrawsTest {
    @Test
    void oneDrawIsTheOldStreamAndMoreDrawsTrainOnShorterAnswers() {
        var task = Tasks.byName("lag48");
        double one = 0, three = 0;
        for (int i = 0; i < 300; i++) {
            var plain = task.sample(Split.TRAIN, new SplittableRandom(i));
            var drawn = DllmTrainer.drawExample(task, new SplittableRandom(i), 1);
            assertEquals(plain, drawn, "one draw consumes the stream exactly as before the option existed");
            var shortest = DllmTrainer.drawExample(task, new SplittableRandom(i), 3);
            assertTrue(shortest.answer().length() <= plain.answer().length(), "the first draw is among the three");
            one += plain.answer().length();
            three += shortest.answer().length();
        }
        // lag48's answers run 48 + a tail of median ~11 digits; the shortest of three has a tail of ~3-4
        assertTrue(one / 300 - three / 300 > 5, "mean length " + one / 300 + " against " + three / 300);
    }

    @Test
    void theShortestOfThreeShiftsLag48sEndEarly() {
        // what models/README.md and results/testbed/README.md say of dllm-t4's training answers
        // (2,000 draws; the task's own: median 59, 51% ended by position 60)
        var task = Tasks.byName("lag48");
        int n = 2000, endedBy60 = 0;
        int[] lengths = new int[n];
        for (int i = 0; i < n; i++) {
            lengths[i] = DllmTrainer.drawExample(task, new SplittableRandom(1000L + i), 3).answer().length();
            if (lengths[i] < 60) endedBy60++;
        }
        java.util.Arrays.sort(lengths);
        System.out.println("lag48, shortest of 3 draws: median " + lengths[n / 2] + ", ended by position 60: " + 100.0 * endedBy60 / n + "%");
        assertTrue(lengths[n / 2] >= 50 && lengths[n / 2] <= 52, "median " + lengths[n / 2]);
        assertTrue(endedBy60 >= 0.86 * n && endedBy60 <= 0.92 * n, "ended by 60: " + endedBy60);
    }

    @Test
    void aConfigWithoutTheKeyDrawsOnceAndABadValueIsRejected() throws Exception {
        var cfg = new DllmTrainConfig(List.of("sort"), 4, 4, 1e-3, 1, 1.0, 3, 10, 0.0);
        assertEquals(1, cfg.shortestOfDraws());
        String json = Json.write(cfg).replace(",\n  \"shortestOfDraws\" : 1", "").replace("\"shortestOfDraws\" : 1,", "");
        assertFalse(json.contains("shortestOfDraws"), json);
        assertEquals(cfg, Json.MAPPER.readValue(json, DllmTrainConfig.class), "configs recorded before the key read as one draw");
        assertThrows(UnmaskException.class, () -> new DllmTrainConfig(List.of("sort"), 4, 4, 1e-3, 1, 1.0, 3, 10, 0.0, -1));
        var model = new BuiltinDllm(new DllmConfig(16, 1, 2, 32, 64, 3), Vocabulary.builtin());
        var a = new DllmTrainer(model, cfg, DllmTrainer.Kind.FAST).batch(2);
        var b = new DllmTrainer(model, new DllmTrainConfig(List.of("sort"), 4, 4, 1e-3, 1, 1.0, 3, 10, 0.0, 1), DllmTrainer.Kind.FAST).batch(2);
        assertArrayEquals(a.targets(), b.targets());
    }
}
