package dev.unmask.rollout;

import org.junit.jupiter.api.Test;
import org.nd4j.linalg.api.ndarray.INDArray;

import java.util.*;
import java.util.concurrent.atomic.AtomicInteger;

import static org.junit.jupiter.api.Assertions.*;

/**
 * The policy update gives bit for bit the same objective and gradients with 1, 2 or 3 threads, on
 * both update paths, with minibatches large enough that every threaded part really splits
 * (attention rows, row-wise passes in several chunks, fast-eligible's steps in several groups);
 * and {@code fast} with threads still equals the one-method update it replaced
 * ({@link ReferencePolicyGradients}), so threaded training keeps the trained weights.
 */
class UpdateThreadsBitIdentityTest {
    private static final int[] THREADS = {1, 2, 3};

    @Test
    void grpoOnTheActiveBlock() {
        for (String update : List.of("fast", "fast-eligible")) {
            compare(update, false, new int[]{7, 300}, "algorithm", "grpo", "policyContext", "block", "entropyCoef", 0.02, "lossNormalisation", "episode");
        }
    }

    @Test
    void grpoOnTheWholeBuffer() {
        for (String update : List.of("fast", "fast-eligible")) {
            // no entropy bonus: steps without a gradient skip their backward pass, so segments differ in work
            compare(update, true, new int[]{12, 100}, "algorithm", "grpo", "policyContext", "buffer", "entropyCoef", 0.0, "lossNormalisation", "episode");
        }
    }

    @Test
    void ppoWithTheCriticAndKl() {
        for (String update : List.of("fast", "fast-eligible")) {
            compare(update, true, new int[]{100, 5}, "algorithm", "ppo", "policyContext", "buffer", "entropyCoef", 0.01, "klCoef", 0.3,
                    "valueCoef", 0.7, "lossNormalisation", "step", "clipEpsilon", 0.1);
        }
    }

    private static void compare(String update, boolean wholeBuffer, int[] sizes, Object... settings) {
        Random rng = new Random(11);
        GradientFixture fx = GradientFixture.of(wholeBuffer, update, rng, settings);
        int width = fx.width();
        List<FastPolicyGradients> byThreads = new ArrayList<>();
        for (int t : THREADS) byThreads.add(new FastPolicyGradients(fx.trainer().net().config(), fx.config(), t));
        ReferencePolicyGradients reference = fx.reference();
        assertTrue(Arrays.stream(sizes).anyMatch(rows -> rows * width > FastPolicyGradients.GROUP_POSITIONS),
                "a minibatch large enough to split into several groups (fast-eligible) and row-wise chunks (fast)");
        for (int rows : sizes) {
            FastPolicyGradients.Minibatch mb = ReducedRowsBitIdentityTest.minibatch(fx.config(), rows, width, wholeBuffer, rng);
            FastPolicyGradients.Result one = byThreads.get(0).compute(fx.weights(), mb, fx.wanted());
            assertTrue(Double.isFinite(one.loss()), "a finite loss to compare");
            for (int i = 1; i < THREADS.length; i++) {
                assertSame(one, byThreads.get(i).compute(fx.weights(), mb, fx.wanted()), update + ", " + THREADS[i] + " threads against 1, " + rows + " steps");
            }
            if (update.equals("fast")) {
                assertSame(reference.compute(fx.weights(), mb, fx.wanted()), byThreads.get(1).compute(fx.weights(), mb, fx.wanted()),
                        "fast with 2 threads against the one-method update, " + rows + " steps");
            }
            for (String name : fx.wanted()) { // move the weights a little for the next minibatch
                INDArray g = one.gradients().get(name), w = fx.weights().get(name);
                w.subi(g.mul(0.05 / (g.amaxNumber().doubleValue() + 1e-6)));
            }
        }
    }

    /** Every term and every gradient entry bit for bit (an exact zero may differ in sign, which no sum or Adam step can see). */
    private static void assertSame(FastPolicyGradients.Result want, FastPolicyGradients.Result got, String what) {
        assertEquals(want.loss(), got.loss(), 0.0, what + ": loss");
        assertEquals(want.clipFraction(), got.clipFraction(), 0.0, what + ": clip fraction");
        assertEquals(want.approxKl(), got.approxKl(), 0.0, what + ": approximate KL");
        assertEquals(want.entropy(), got.entropy(), 0.0, what + ": entropy");
        assertEquals(want.klToReference(), got.klToReference(), 0.0, what + ": KL to the reference");
        assertEquals(want.gradients().keySet(), got.gradients().keySet());
        for (String name : want.gradients().keySet()) {
            float[] x = want.gradients().get(name).dup('c').data().asFloat(), y = got.gradients().get(name).dup('c').data().asFloat();
            for (int i = 0; i < x.length; i++) {
                boolean same = Float.floatToRawIntBits(x[i]) == Float.floatToRawIntBits(y[i]) || (x[i] == 0f && y[i] == 0f);
                assertTrue(same, what + ": " + name + "[" + i + "] " + x[i] + " vs " + y[i]);
            }
        }
    }

    @Test
    void workersCoverEveryRangeAndTaskOnceAndNestWithoutWaiting() {
        UpdateWorkers workers = UpdateWorkers.of(3);
        int[] hits = new int[1000];
        workers.forRanges(hits.length, 7, (wk, from, to) -> {
            assertTrue(wk >= 0 && wk < 3, "worker index");
            for (int i = from; i < to; i++) hits[i]++;
        });
        assertTrue(Arrays.stream(hits).allMatch(h -> h == 1), "every index exactly once");
        AtomicInteger ran = new AtomicInteger();
        UpdateWorkers.Task nested = wk -> workers.forRanges(100, 10, (w2, from, to) -> {
            assertEquals(wk, w2, "nested work stays on the piece's thread");
            ran.addAndGet(to - from);
        });
        workers.all(nested, nested, nested, nested);
        assertEquals(400, ran.get());
        IllegalStateException e = assertThrows(IllegalStateException.class, () -> workers.forRanges(50, 5, (wk, from, to) -> {
            if (from == 25) throw new IllegalStateException("boom");
        }));
        assertEquals("boom", e.getMessage());
    }
}
