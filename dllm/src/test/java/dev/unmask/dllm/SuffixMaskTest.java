package dev.unmask.dllm;

import dev.unmask.env.UnmaskException;
import dev.unmask.env.denoiser.Vocabulary;
import org.junit.jupiter.api.Test;

import java.util.List;

import static org.junit.jupiter.api.Assertions.*;

class SuffixMaskTest {
    private static final BuiltinDllm MODEL = new BuiltinDllm(new DllmConfig(16, 1, 2, 32, 176, 3), Vocabulary.builtin());

    private static DllmTrainer trainer(double suffixMaskProb) {
        return new DllmTrainer(MODEL, new DllmTrainConfig(List.of("ducci"), 10, 16, 1e-3, 1, 1.0, 5, 10, 0.1, 1, suffixMaskProb), DllmTrainer.Kind.FAST);
    }

    @Test
    void withoutSuffixMasksTheBatchesAreThoseOfRunsMadeBeforeTheOption() {
        DllmTrainer before = new DllmTrainer(MODEL, new DllmTrainConfig(List.of("ducci"), 10, 16, 1e-3, 1, 1.0, 5, 10, 0.1, 1), DllmTrainer.Kind.FAST);
        DllmTrainer now = trainer(0.0);
        for (int step = 0; step < 5; step++) {
            var a = before.batch(step);
            var b = now.batch(step);
            assertArrayEquals(a.noisy(), b.noisy());
            assertArrayEquals(a.targets(), b.targets());
            assertArrayEquals(a.weights(), b.weights());
        }
    }

    @Test
    void everySuffixMaskedExampleHidesItsAnswerFromACutToTheEnd() {
        Vocabulary v = MODEL.vocabulary();
        int promptLen = v.encode("<ducci>12345678,").length;
        int firstHalf = 0, secondHalf = 0, answerVisibleBeforeTheCut = 0;
        for (int step = 0; step < 8; step++) {
            var batch = trainer(1.0).batch(step);
            int width = batch.targets().length / batch.noisy().length;
            for (int b = 0; b < batch.noisy().length; b++) {
                int[] noisy = batch.noisy()[b];
                // the cut: where the final run of masks begins
                int cut = noisy.length;
                while (cut > promptLen && noisy[cut - 1] == v.maskId()) cut--;
                assertTrue(cut < noisy.length, "the last answer position is always masked");
                int answerLen = noisy.length - promptLen;
                if (cut - promptLen < answerLen / 2) firstHalf++; else secondHalf++;
                for (int i = promptLen; i < cut; i++) if (noisy[i] != v.maskId()) answerVisibleBeforeTheCut++;
                for (int i = promptLen; i < noisy.length; i++) {
                    boolean masked = noisy[i] == v.maskId();
                    assertEquals(masked, batch.weights()[b * width + i] > 0, "a masked position, and only one, is a target");
                }
            }
        }
        // cuts fall all over the answer, and the text before a cut is shown (masked only at the usual rate)
        assertTrue(firstHalf > 20 && secondHalf > 20, firstHalf + " / " + secondHalf);
        assertTrue(answerVisibleBeforeTheCut > 500, "visible tokens before the cuts: " + answerVisibleBeforeTheCut);
    }

    @Test
    void aShareOutsideZeroToOneIsRejected() {
        for (double bad : new double[]{-0.1, 1.5, Double.NaN}) {
            assertThrows(UnmaskException.class, () -> new DllmTrainConfig(List.of("sort"), 4, 4, 1e-3, 1, 1.0, 3, 10, 0.0, 1, bad));
        }
    }
}
