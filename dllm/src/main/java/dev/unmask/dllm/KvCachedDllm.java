package dev.unmask.dllm;

import dev.unmask.env.UnmaskException;
import dev.unmask.env.denoiser.BlockAwareDenoiser;
import dev.unmask.env.denoiser.Denoiser;
import dev.unmask.env.denoiser.KvCache;
import dev.unmask.env.denoiser.Predictions;
import dev.unmask.env.denoiser.Vocabulary;

import java.util.ArrayList;
import java.util.List;

/**
 * The built-in dLLM ({@link FastDllm}) with Fast-dLLM's prefix or dual key/value cache. A row
 * whose active block has moved since its cache was filled (or that has none) gets a full forward
 * pass that refills it; the other rows recompute only what {@link KvCache} says. Both kinds of row
 * go in the same call, which is one NFE.
 *
 * <p>Not thread-safe; one instance per thread, like {@link FastDllm}.
 */
public final class KvCachedDllm implements BlockAwareDenoiser {
    private final FastDllm model;
    private final KvCache mode;
    private FastDllm.SequenceCache[] caches = new FastDllm.SequenceCache[0];
    private long positionsComputed;

    public KvCachedDllm(FastDllm model, KvCache mode) {
        if (mode == KvCache.NONE) throw new IllegalArgumentException("a cache mode other than none");
        this.model = model;
        this.mode = mode;
    }

    public KvCache mode() {
        return mode;
    }

    @Override
    public Vocabulary vocabulary() {
        return model.vocabulary();
    }

    @Override
    public int maxLength() {
        return model.maxLength();
    }

    @Override
    public String describe() {
        return model.describe() + " cache=" + mode.label();
    }

    /** Without block positions there is nothing to reuse: a plain forward pass. */
    @Override
    public Predictions predict(int[][] sequences, boolean[][] query, boolean withDistributions) {
        return model.predict(sequences, query, withDistributions);
    }

    @Override
    public void startEpisodes(int count) {
        caches = new FastDllm.SequenceCache[count];
    }

    @Override
    public Predictions predictInBlocks(int[] episodes, int[][] sequences, boolean[][] query, int[] blockStart, int[] blockEnd,
                                       boolean withDistributions) {
        Denoiser.validate(this, sequences, query);
        int rows = sequences.length;
        List<Integer> refresh = new ArrayList<>(), reuse = new ArrayList<>();
        for (int r = 0; r < rows; r++) {
            int e = episodes[r], len = sequences[r].length;
            if (e < 0 || e >= caches.length) throw new UnmaskException("episode " + e + " was not started (startEpisodes(" + caches.length + "))");
            if (blockStart[r] < 0 || blockStart[r] >= blockEnd[r] || blockEnd[r] > len) {
                throw new IllegalArgumentException("row " + r + ": block [" + blockStart[r] + ", " + blockEnd[r] + ") in a sequence of " + len);
            }
            FastDllm.SequenceCache c = caches[e];
            if (c == null || c.length != len || c.blockStart != blockStart[r]) {
                if (c == null || c.length != len) caches[e] = model.newSequenceCache(len);
                refresh.add(r);
            } else {
                reuse.add(r);
            }
        }
        if (!refresh.isEmpty()) {
            run(refresh, sequences, episodes, blockStart, blockEnd, true);
        }
        if (!reuse.isEmpty()) {
            run(reuse, sequences, episodes, blockStart, blockEnd, false);
        }
        int maxLen = 0, vocab = vocabulary().size();
        for (int[] s : sequences) maxLen = Math.max(maxLen, s.length);
        float[] logits = new float[rows * maxLen * vocab];
        for (int r = 0; r < rows; r++) {
            FastDllm.SequenceCache c = caches[episodes[r]];
            System.arraycopy(c.logits, 0, logits, r * maxLen * vocab, c.length * vocab);
        }
        return Predictions.fromLogits(logits, maxLen, vocab, query, withDistributions, vocabulary().maskId());
    }

    private void run(List<Integer> rows, int[][] sequences, int[] episodes, int[] blockStart, int[] blockEnd, boolean full) {
        int k = rows.size();
        int[][] seqs = new int[k][];
        int[] from = new int[k], to = new int[k];
        FastDllm.SequenceCache[] cs = new FastDllm.SequenceCache[k];
        for (int i = 0; i < k; i++) {
            int r = rows.get(i);
            seqs[i] = sequences[r];
            cs[i] = caches[episodes[r]];
            from[i] = full ? 0 : blockStart[r];
            to[i] = full || mode == KvCache.PREFIX ? sequences[r].length : blockEnd[r];
            positionsComputed += to[i] - from[i];
        }
        model.forwardRanges(seqs, from, to, cs, full);
        if (full) for (int i = 0; i < k; i++) cs[i].blockStart = blockStart[rows.get(i)];
    }

    /** Positions run through the model so far: the work the cache saves shows against a full pass per step. */
    public long positionsComputed() {
        return positionsComputed;
    }
}
