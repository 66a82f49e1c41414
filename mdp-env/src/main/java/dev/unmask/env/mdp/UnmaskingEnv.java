package dev.unmask.env.mdp;

import dev.unmask.env.UnmaskException;
import dev.unmask.env.denoiser.BlockAwareDenoiser;
import dev.unmask.env.denoiser.Denoiser;
import dev.unmask.env.denoiser.HiddenFeatures;
import dev.unmask.env.denoiser.Predictions;
import dev.unmask.env.denoiser.Vocabulary;
import dev.unmask.env.task.Example;
import dev.unmask.env.task.Task;

import java.util.*;

/**
 * The unmasking MDP over a batch of prompts. Each {@link #observe()} is one dLLM forward pass for
 * all running episodes; {@link #step(boolean[][])} applies the policy's decisions. Episodes whose
 * buffer is full drop out of the batch; the others go on.
 *
 * <p>Semi-AR: the buffer of length L is split into blocks of length B, decoded left to right; only
 * masked positions of the active block are eligible, later blocks stay masked but visible.
 * Full diffusion is B = L.
 */
public final class UnmaskingEnv {
    private final Denoiser denoiser;
    private final Task task;
    private final int genLength, blockLength, numBlocks;
    private final double temperature;
    private final Reward reward;
    private final Vocabulary vocab;

    private Example[] examples;
    private int[][] sequences;
    private int[] promptLength, blockIndex, stepInBlock, maskedAtBlockStart, steps, fallbacks;
    private int[][] unmaskedAtStep; // per episode and buffer position: the step (1-based) that wrote it
    private SplittableRandom[] rngs;
    private EpisodeResult[] results;
    private int[] active = new int[0];
    private Predictions pending;
    private StepObservation observed; // what the policy was shown for the pending step (it may report fallbacks on it)
    // KL tracking (KLASS): per episode and buffer position, the last observed distribution and recent KL values
    private int klHistory;
    private boolean withHidden;
    private float[][][] lastDistribution;
    private float[][][] recentKl;
    private long forwardNanos, forwardPasses;
    private boolean allowEmptySteps;

    public UnmaskingEnv(Denoiser denoiser, Task task, int genLength, int blockLength, double temperature, Reward reward) {
        if (genLength <= 0) throw new UnmaskException("buffer length must be positive, got " + genLength);
        if (blockLength <= 0 || blockLength > genLength || genLength % blockLength != 0) {
            throw new UnmaskException("block length " + blockLength + " does not divide the buffer length " + genLength);
        }
        if (temperature < 0 || !Double.isFinite(temperature)) throw new UnmaskException("temperature must be >= 0, got " + temperature);
        this.denoiser = denoiser;
        this.task = task;
        this.genLength = genLength;
        this.blockLength = blockLength;
        this.numBlocks = genLength / blockLength;
        this.temperature = temperature;
        this.reward = reward;
        this.vocab = denoiser.vocabulary();
    }

    public int genLength() {
        return genLength;
    }

    public int blockLength() {
        return blockLength;
    }

    public Task task() {
        return task;
    }

    /**
     * Keeps the last {@code steps} per-position KL divergences between consecutive predictive
     * distributions and hands them to the policy (0 = off). Takes effect at the next reset.
     */
    public void trackKl(int steps) {
        if (steps < 0) throw new UnmaskException("KL history must be >= 0 steps, got " + steps);
        this.klHistory = steps;
    }

    /** Hands the dLLM's hidden-state features to the policy at every step (off by default; a dLLM that has none refuses). */
    public void trackHidden(boolean on) {
        this.withHidden = on;
    }

    /** Starts one episode per example; episode i draws its randomness from (seed, i). */
    public void reset(List<Example> batch, long seed) {
        int n = batch.size();
        if (n == 0) throw new UnmaskException("reset needs at least one prompt");
        examples = batch.toArray(new Example[0]);
        sequences = new int[n][];
        promptLength = new int[n];
        blockIndex = new int[n];
        stepInBlock = new int[n];
        maskedAtBlockStart = new int[n];
        steps = new int[n];
        fallbacks = new int[n];
        unmaskedAtStep = new int[n][genLength];
        rngs = new SplittableRandom[n];
        results = new EpisodeResult[n];
        for (int i = 0; i < n; i++) {
            int[] prompt = vocab.encode(examples[i].prompt());
            if (prompt.length + genLength > denoiser.maxLength()) {
                throw new UnmaskException("prompt of " + prompt.length + " tokens plus a buffer of " + genLength
                        + " exceeds the model's maximum length " + denoiser.maxLength());
            }
            promptLength[i] = prompt.length;
            sequences[i] = Arrays.copyOf(prompt, prompt.length + genLength);
            Arrays.fill(sequences[i], prompt.length, sequences[i].length, vocab.maskId());
            maskedAtBlockStart[i] = blockLength;
            rngs[i] = new SplittableRandom(seed * 0x9E3779B97F4A7C15L + i);
        }
        if (denoiser instanceof BlockAwareDenoiser cached) cached.startEpisodes(n);
        active = new int[n];
        for (int i = 0; i < n; i++) active[i] = i;
        pending = null;
        lastDistribution = klHistory > 0 ? new float[n][genLength][] : null;
        recentKl = null;
        if (klHistory > 0) {
            recentKl = new float[n][genLength][klHistory];
            for (float[][] rows : recentKl) for (float[] h : rows) Arrays.fill(h, Float.NaN);
        }
    }

    public boolean done() {
        return active.length == 0;
    }

    public int activeCount() {
        return active.length;
    }

    /** One forward pass over every running episode; returns what the policy sees. */
    public StepObservation observe() {
        if (done()) throw new IllegalStateException("all episodes are finished");
        int k = active.length;
        int[][] batch = new int[k][];
        boolean[][] query = new boolean[k][];
        for (int r = 0; r < k; r++) {
            int e = active[r];
            batch[r] = sequences[e];
            query[r] = new boolean[sequences[e].length];
            for (int i = promptLength[e]; i < sequences[e].length; i++) query[r][i] = sequences[e][i] == vocab.maskId();
        }
        long t0 = System.nanoTime();
        boolean withDistributions = temperature > 0 || recentKl != null;
        if (withHidden) {
            if (denoiser instanceof BlockAwareDenoiser) throw new UnmaskException("hidden-state features are not kept by the key/value cache: run without --cache");
            pending = denoiser.predictWithHidden(batch, query, withDistributions);
        } else if (denoiser instanceof BlockAwareDenoiser cached) {
            int[] from = new int[k], to = new int[k];
            for (int r = 0; r < k; r++) {
                from[r] = promptLength[active[r]] + blockIndex[active[r]] * blockLength;
                to[r] = from[r] + blockLength;
            }
            pending = cached.predictInBlocks(active.clone(), batch, query, from, to, withDistributions);
        } else {
            pending = denoiser.predict(batch, query, withDistributions);
        }
        forwardNanos += System.nanoTime() - t0;
        forwardPasses++;

        float[][] conf = new float[k][genLength], margin = new float[k][genLength], ent = new float[k][genLength];
        boolean[][] masked = new boolean[k][genLength], eligible = new boolean[k][genLength], topIsEos = new boolean[k][genLength];
        int[] bStart = new int[k], bIdx = new int[k], sib = new int[k], mabs = new int[k], st = new int[k], ids = new int[k];
        SplittableRandom[] rr = new SplittableRandom[k];
        for (int r = 0; r < k; r++) {
            int e = active[r], p = promptLength[e];
            bIdx[r] = blockIndex[e];
            bStart[r] = blockIndex[e] * blockLength;
            for (int i = 0; i < genLength; i++) {
                masked[r][i] = sequences[e][p + i] == vocab.maskId();
                eligible[r][i] = masked[r][i] && i >= bStart[r] && i < bStart[r] + blockLength;
                conf[r][i] = pending.confidence()[r][p + i];
                margin[r][i] = masked[r][i] ? pending.margin(r, p + i) : Float.NaN;
                ent[r][i] = pending.entropy()[r][p + i];
                topIsEos[r][i] = pending.top1()[r][p + i] == vocab.eosId();
            }
            sib[r] = stepInBlock[e];
            mabs[r] = maskedAtBlockStart[e];
            st[r] = steps[e];
            rr[r] = rngs[e];
            ids[r] = e;
        }
        float[][][] kl = recentKl != null ? updateKl(masked) : null;
        float[][] hidden = null;
        if (withHidden) {
            hidden = new float[k][];
            int w = HiddenFeatures.WIDTH;
            for (int r = 0; r < k; r++) {
                float[] h = pending.hidden()[r];
                hidden[r] = Arrays.copyOfRange(h, promptLength[active[r]] * w, (promptLength[active[r]] + genLength) * w);
            }
        }
        observed = StepObservation.builder(genLength, blockLength).statistics(conf, margin, ent).masks(masked, eligible)
                .blocks(bStart, bIdx, sib, mabs).episodes(st, rr, ids).recentKl(kl).topIsEos(topIsEos).hidden(hidden).vocabularySize(vocab.size()).build();
        return observed;
    }

    /** Shifts each masked position's KL history by one step and returns a copy for the observation. */
    private float[][][] updateKl(boolean[][] masked) {
        float[][][] out = new float[active.length][genLength][];
        for (int r = 0; r < active.length; r++) {
            int e = active[r], p = promptLength[e];
            for (int i = 0; i < genLength; i++) {
                if (masked[r][i]) {
                    float[] now = pending.distributions()[r][p + i];
                    float[] before = lastDistribution[e][i];
                    if (before != null) {
                        float[] h = recentKl[e][i];
                        System.arraycopy(h, 0, h, 1, h.length - 1);
                        h[0] = (float) klDivergence(now, before);
                    }
                    lastDistribution[e][i] = now.clone();
                }
                out[r][i] = recentKl[e][i].clone();
            }
        }
        return out;
    }

    /** KL(p || q) in nats; q is floored at 1e-12 so a token the previous step ruled out gives a large, finite value. */
    static double klDivergence(float[] p, float[] q) {
        double kl = 0;
        for (int v = 0; v < p.length; v++) {
            if (p[v] > 0) kl += p[v] * Math.log(p[v] / Math.max(q[v], 1e-12));
        }
        return Math.max(0, kl);
    }

    /** What one step did, per running row. */
    public record StepRecord(int[] episodeIds, int[] unmasked, boolean[] fallback, boolean[][] applied) {
    }

    /**
     * Applies the decisions for the rows of the last observation. A selected position that is not
     * eligible is an error; an empty selection unmasks the most confident eligible position
     * (lowest position on ties) and is recorded as a fallback, as is a row the policy reported as
     * its own fallback on the observation ({@link StepObservation#fallbacks()}). With
     * {@link #allowEmptySteps} an empty selection may stay empty.
     */
    public StepRecord step(boolean[][] actions) {
        if (pending == null) throw new IllegalStateException("call observe() before step()");
        int k = active.length;
        if (actions.length != k) throw new UnmaskException("policy returned " + actions.length + " rows for " + k + " running episodes");
        int[] unmasked = new int[k];
        boolean[] fallback = new boolean[k];
        boolean[][] applied = new boolean[k][];
        List<Integer> stillRunning = new ArrayList<>();
        for (int r = 0; r < k; r++) {
            int e = active[r], p = promptLength[e];
            int bStart = blockIndex[e] * blockLength;
            if (actions[r].length != genLength) throw new UnmaskException("policy returned " + actions[r].length + " positions for a buffer of " + genLength);
            applied[r] = actions[r].clone();
            int best = -1;
            for (int i = 0; i < genLength; i++) {
                boolean eligible = sequences[e][p + i] == vocab.maskId() && i >= bStart && i < bStart + blockLength;
                if (actions[r][i] && !eligible) {
                    String why = sequences[e][p + i] != vocab.maskId() ? "already unmasked" : "outside the active block [" + bStart + ", " + (bStart + blockLength) + ")";
                    throw new UnmaskException("episode " + e + " step " + (steps[e] + 1) + ": the action selects buffer position " + i + ", which is not eligible (" + why + ")");
                }
                if (actions[r][i]) unmasked[r]++;
                if (eligible && (best < 0 || pending.confidence()[r][p + i] > pending.confidence()[r][p + best])) best = i;
            }
            boolean mayStayEmpty = allowEmptySteps && steps[e] + maskedLeft(e) < 2 * genLength;
            if (unmasked[r] == 0 && mayStayEmpty) {
                // the step is spent (one NFE) and nothing is written
            } else if (unmasked[r] == 0) {
                applied[r][best] = true;
                unmasked[r] = 1;
                fallback[r] = true;
            } else if (observed.fallbacks().reported(r)) {
                fallback[r] = true;
            }
            if (fallback[r]) fallbacks[e]++;
            for (int i = 0; i < genLength; i++) {
                if (!applied[r][i]) continue;
                sequences[e][p + i] = chooseToken(r, p + i, rngs[e]);
                unmaskedAtStep[e][i] = steps[e] + 1;
            }
            steps[e]++;
            stepInBlock[e]++;
            advanceBlock(e);
            if (blockIndex[e] >= numBlocks) finish(e);
            else stillRunning.add(e);
        }
        int[] ids = active.clone();
        active = stillRunning.stream().mapToInt(Integer::intValue).toArray();
        pending = null;
        observed = null;
        return new StepRecord(ids, unmasked, fallback, applied);
    }

    private int chooseToken(int row, int pos, SplittableRandom rng) {
        if (temperature == 0) return pending.top1()[row][pos];
        float[] p = pending.distributions()[row][pos];
        double[] w = new double[p.length];
        double sum = 0;
        for (int v = 0; v < p.length; v++) {
            w[v] = v == vocab.maskId() ? 0 : Math.pow(p[v], 1.0 / temperature); // never write [MASK] back
            sum += w[v];
        }
        double u = rng.nextDouble() * sum;
        for (int v = 0; v < p.length; v++) {
            u -= w[v];
            if (u <= 0) return v;
        }
        return pending.top1()[row][pos];
    }

    private int maskedLeft(int e) {
        int n = 0;
        for (int i = promptLength[e]; i < sequences[e].length; i++) if (sequences[e][i] == vocab.maskId()) n++;
        return n;
    }

    /**
     * Lets a step unmask nothing (it still costs its NFE), as the paper's training rollouts do,
     * while the episode can still finish within 2L steps: once the steps left to 2L equal the
     * masked positions left, an empty step gets the usual fallback. (The paper stops at L steps and
     * leaves what is still masked; here every episode ends complete, and the alpha reward counts
     * every step past L as L.) Off by default (every step unmasks at least one position). Takes
     * effect at the next step.
     */
    public void allowEmptySteps(boolean allow) {
        this.allowEmptySteps = allow;
    }

    /** Moves past every block that has no masked position left. */
    private void advanceBlock(int e) {
        int p = promptLength[e];
        while (blockIndex[e] < numBlocks) {
            int start = p + blockIndex[e] * blockLength, masked = 0;
            for (int i = start; i < start + blockLength; i++) if (sequences[e][i] == vocab.maskId()) masked++;
            if (masked > 0) {
                if (stepInBlock[e] == 0) maskedAtBlockStart[e] = masked;
                return;
            }
            blockIndex[e]++;
            stepInBlock[e] = 0;
        }
    }

    private void finish(int e) {
        int[] buffer = Arrays.copyOfRange(sequences[e], promptLength[e], sequences[e].length);
        String answer = Task.answerText(vocab, buffer);
        boolean correct = task.isCorrect(examples[e], answer);
        results[e] = new EpisodeResult(examples[e], buffer, answer, correct, steps[e], fallbacks[e], reward.of(correct, steps[e], genLength), unmaskedAtStep[e].clone());
    }

    /** Results in the order of the prompts given to reset; null for episodes still running. */
    public List<EpisodeResult> results() {
        return Arrays.asList(results.clone());
    }

    public long forwardNanos() {
        return forwardNanos;
    }

    public long forwardPasses() {
        return forwardPasses;
    }

    /** Runs every episode to the end under a policy. */
    public List<EpisodeResult> run(List<Example> batch, long seed, UnmaskPolicy policy) {
        trackKl(policy.klHistory());
        trackHidden(policy.readsHidden());
        reset(batch, seed);
        while (!done()) step(policy.select(observe()));
        return results();
    }
}
