package dev.unmask.dllm;

import dev.unmask.env.UnmaskException;
import dev.unmask.env.denoiser.KvCache;
import dev.unmask.env.denoiser.Predictions;
import dev.unmask.env.denoiser.Vocabulary;
import dev.unmask.dllm.onnx.Denoisers;
import org.junit.jupiter.api.Test;

import java.util.Arrays;
import java.util.SplittableRandom;

import static org.junit.jupiter.api.Assertions.*;

/**
 * Fast-dLLM's prefix and dual caches ({@link KvCachedDllm}): a full pass fills the cache with what
 * the plain forward pass computes; with one layer both caches are exact (a cached key depends on
 * its own token only, and the cached tokens do not change inside a block); with more layers they
 * are approximations that compute fewer positions.
 */
class KvCachedDllmTest {
    private static final Vocabulary V = Vocabulary.builtin();

    private static FastDllm model(int layers, boolean rotary) {
        return FastDllm.of(FastDllmTest.sharp(new DllmConfig(32, layers, 4, 64, 48, 11, rotary, false)));
    }

    @Test
    void aFullPassFillsTheCacheWithThePlainForwardPassLogits() {
        for (boolean rotary : new boolean[]{false, true}) {
            FastDllm m = model(2, rotary);
            int[][] batch = FastDllmTest.mixedBatch(V, 5, 48, 3);
            int maxLen = Arrays.stream(batch).mapToInt(r -> r.length).max().orElseThrow(), vocab = V.size();
            float[] expected = m.logits(batch);
            FastDllm.SequenceCache[] caches = new FastDllm.SequenceCache[batch.length];
            int[] from = new int[batch.length], to = new int[batch.length];
            for (int b = 0; b < batch.length; b++) {
                caches[b] = m.newSequenceCache(batch[b].length);
                to[b] = batch[b].length;
            }
            m.forwardRanges(batch, from, to, caches, true);
            double scale = FastDllmTest.maxAbs(expected);
            for (int b = 0; b < batch.length; b++) {
                float[] row = Arrays.copyOfRange(expected, b * maxLen * vocab, (b * maxLen + batch[b].length) * vocab);
                assertTrue(FastDllmTest.maxAbsDiff(row, caches[b].logits) <= 1e-5 * scale, "rotary=" + rotary + " row " + b);
            }
        }
    }

    /** Decodes 3 blocks of 8 after a prompt, unmasking two random positions per step, and compares each step's predictions. */
    private static double worstGapInsideTheBlock(FastDllm m, KvCache mode, long[] positions, boolean exactCache) {
        KvCachedDllm cached = new KvCachedDllm(m, mode);
        SplittableRandom rng = new SplittableRandom(5);
        int rows = 3, prompt = 6, blocks = 3, block = 8;
        int[][] seq = new int[rows][prompt + blocks * block];
        for (int[] s : seq) {
            for (int i = 0; i < s.length; i++) s[i] = i < prompt ? 3 + rng.nextInt(V.size() - 3) : V.maskId();
        }
        cached.startEpisodes(rows);
        double worst = 0;
        for (int k = 0; k < blocks; k++) {
            int start = prompt + k * block;
            for (int step = 0; step < 4; step++) {
                boolean[][] query = new boolean[rows][];
                for (int r = 0; r < rows; r++) {
                    query[r] = new boolean[seq[r].length];
                    for (int i = 0; i < seq[r].length; i++) query[r][i] = seq[r][i] == V.maskId();
                }
                int[] from = new int[rows], to = new int[rows];
                Arrays.fill(from, start);
                Arrays.fill(to, start + block);
                Predictions got = cached.predictInBlocks(new int[]{0, 1, 2}, seq, query, from, to, false);
                Predictions exact = m.predict(seq, query, false);
                for (int r = 0; r < rows; r++) {
                    for (int i = start; i < start + block; i++) {
                        if (!query[r][i]) continue;
                        worst = Math.max(worst, Math.abs(got.confidence()[r][i] - exact.confidence()[r][i]));
                        // an exact cache picks the same token; an approximate one may move another token to the top
                        // while the top probability barely changes (0.15513 to 0.15523, a different token), so only the
                        // confidences are compared there
                        if (exactCache) assertEquals(exact.top1()[r][i], got.top1()[r][i]);
                    }
                    // unmask two masked positions of the block
                    for (int u = 0; u < 2; u++) {
                        int i = start + rng.nextInt(block);
                        if (seq[r][i] == V.maskId()) seq[r][i] = 6 + rng.nextInt(10);
                    }
                }
            }
        }
        positions[0] = cached.positionsComputed();
        return worst;
    }

    @Test
    void withOneLayerBothCachesAreExactAndComputeFewerPositions() {
        for (boolean rotary : new boolean[]{false, true}) {
            FastDllm m = model(1, rotary);
            long[] prefix = new long[1], dual = new long[1];
            assertTrue(worstGapInsideTheBlock(m, KvCache.PREFIX, prefix, true) < 1e-5, "prefix, rotary=" + rotary);
            assertTrue(worstGapInsideTheBlock(m, KvCache.DUAL, dual, true) < 1e-5, "dual, rotary=" + rotary);
            long full = 3L * 3 * 4 * 30; // rows x blocks x steps x tokens
            // per block: one full pass (30 tokens) and three cached ones over the block and its suffix (prefix) or the block (dual)
            assertEquals(3L * (3 * 30 + 3 * (24 + 16 + 8)), prefix[0]);
            assertEquals(3L * (3 * 30 + 3 * 3 * 8), dual[0]);
            assertTrue(dual[0] < prefix[0] && prefix[0] < full);
        }
    }

    @Test
    void withMoreLayersTheCachesAreApproximate() {
        FastDllm m = model(2, true);
        long[] computed = new long[1];
        double prefixGap = worstGapInsideTheBlock(m, KvCache.PREFIX, computed, false);
        double dualGap = worstGapInsideTheBlock(m, KvCache.DUAL, computed, false);
        // the cached keys above the first layer miss what the block unmasked: the predictions move, but stay probabilities
        assertTrue(prefixGap > 1e-4 && prefixGap <= 1, "prefix gap " + prefixGap);
        assertTrue(dualGap > 1e-4 && dualGap <= 1, "dual gap " + dualGap);
    }

    @Test
    void aCacheNeedsTheFastEngine() {
        java.nio.file.Path dllmA = FastDllmTest.models().resolve("dllm-a");
        UnmaskException e = assertThrows(UnmaskException.class, () -> Denoisers.load(dllmA, Denoisers.Engine.ONNXRUNTIME, KvCache.PREFIX));
        assertTrue(e.getMessage().startsWith("--cache prefix needs --dllm-engine fast"), e.getMessage());
        try (var d = Denoisers.load(dllmA, Denoisers.Engine.FAST, KvCache.DUAL)) {
            assertTrue(d.describe().endsWith("cache=dual"), d.describe());
        }
        assertEquals("cache 'full' is not one of none, prefix, dual", assertThrows(UnmaskException.class, () -> KvCache.parse("full")).getMessage());
    }
}
