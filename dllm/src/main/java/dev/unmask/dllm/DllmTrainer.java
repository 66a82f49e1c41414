package dev.unmask.dllm;

import dev.unmask.env.task.Example;
import dev.unmask.env.UnmaskException;
import dev.unmask.env.denoiser.Vocabulary;
import dev.unmask.env.io.CheckpointFiles;
import dev.unmask.env.io.Json;
import dev.unmask.env.io.Safetensors;
import dev.unmask.nn.Adam;
import dev.unmask.nn.FlatAdam;
import dev.unmask.nn.Quiet;
import org.nd4j.autodiff.samediff.api.OutAndGrad;
import dev.unmask.env.task.Split;
import dev.unmask.env.task.Task;
import dev.unmask.env.task.Tasks;
import org.nd4j.autodiff.samediff.SDVariable;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;

import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.*;

/**
 * Masked-diffusion training (LLaDA-style SFT): for each sequence draw t in (0, 1], mask each
 * answer token with probability t (at least one), and minimise cross-entropy on the masked
 * positions weighted by 1/t, normalised by the answer length. The prompt is never masked.
 *
 * <p>Each step's batch is a pure function of (seed, step), so a run resumed from its state folder
 * continues exactly as if it had never stopped.
 *
 * <p>Two implementations of the step compute the same loss and gradient: {@link Kind#SAMEDIFF}
 * (the graph of {@link BuiltinDllm}, with {@link Adam}) and {@link Kind#FAST} ({@link FastDllm}
 * with {@link FlatAdam}, several times faster). Their weights differ in the last bits after a
 * step, so a run is resumed only with the implementation it started with: the state records it.
 */
public final class DllmTrainer {
    public static final String STATE_DIR = "trainer-state";
    private static final double MIN_T = 1e-3;

    /** Which implementation computes the steps. */
    public enum Kind {
        FAST, SAMEDIFF;

        public String label() {
            return name().toLowerCase(Locale.ROOT);
        }

        public static Kind parse(String label) {
            for (Kind k : values()) if (k.label().equals(label)) return k;
            throw new UnmaskException("unknown trainer '" + label + "' (expected fast or samediff)");
        }
    }

    /** What one step reports to the caller (for logs and progress). */
    public record StepReport(int step, String task, double loss, double gradNorm, double learningRate, double stepMillis) {
    }

    /** One step's training batch: the noised sequences, and per flat position [row * maxLen + i] the target id and loss weight. */
    public record Batch(int[][] noisy, int[] targets, float[] weights) {
    }

    private final BuiltinDllm model;
    private final DllmTrainConfig config;
    private final Kind kind;
    private final Adam adam;
    private final FastDllm fast;
    private final FlatAdam flatAdam;
    /** FAST only: the SameDiff model's weights are behind the fast model's until {@link #model()} copies them. */
    private boolean modelStale;
    private final List<Task> tasks = new ArrayList<>();
    private final List<String> paramNames;
    private int step;

    /** Trains {@code model}'s weights in place (with FAST: in a copy, handed back by {@link #model()}). */
    public DllmTrainer(BuiltinDllm model, DllmTrainConfig config, Kind kind) {
        this.model = model;
        this.config = config;
        this.kind = Objects.requireNonNull(kind);
        for (String t : config.tasks()) tasks.add(Tasks.byName(t));
        this.paramNames = model.trainableVariables().stream().map(SDVariable::name).toList();
        if (kind == Kind.FAST) {
            fast = FastDllm.of(model);
            flatAdam = new FlatAdam(fast.slots());
            adam = null;
        } else {
            fast = null;
            flatAdam = null;
            adam = new Adam();
        }
    }

    public int step() {
        return step;
    }

    public Kind kind() {
        return kind;
    }

    /** The model with the weights of the last step. */
    public BuiltinDllm model() {
        if (modelStale) {
            model.loadWeights(fast.weights(), "fast trainer");
            modelStale = false;
        }
        return model;
    }

    /** The shortest-answer example of {@code draws} training draws; with 1, exactly one draw from the stream (runs before the option existed). */
    static Example drawExample(Task task, SplittableRandom rng, int draws) {
        var ex = task.sample(Split.TRAIN, rng);
        for (int k = 1; k < draws; k++) {
            var other = task.sample(Split.TRAIN, rng);
            if (other.answer().length() < ex.answer().length()) ex = other;
        }
        return ex;
    }

    /** Batch for a step: deterministic in (seed, step). */
    public Batch batch(int step) {
        SplittableRandom rng = new SplittableRandom(config.seed() * 0x9E3779B97F4A7C15L + step);
        Task task = tasks.get(step % tasks.size());
        Vocabulary vocab = model.vocabulary();
        int genLength = task.defaultGenLength();
        if (rng.nextDouble() < config.longBufferProb()) genLength += 16 * (1 + rng.nextInt(2));
        int[][] clean = new int[config.batchSize()][];
        int[] promptLen = new int[clean.length];
        for (int b = 0; b < clean.length; b++) {
            var ex = drawExample(task, rng, config.shortestOfDraws());
            promptLen[b] = vocab.encode(ex.prompt()).length;
            int len = Math.min(genLength, model.maxLength() - promptLen[b]);
            clean[b] = Task.targetSequence(vocab, ex, len);
        }
        int[][] noisy = new int[clean.length][];
        int maxLen = Arrays.stream(clean).mapToInt(s -> s.length).max().orElseThrow();
        int[] targets = new int[clean.length * maxLen];
        float[] weights = new float[targets.length];
        Arrays.fill(targets, vocab.padId());
        for (int b = 0; b < clean.length; b++) {
            double t = MIN_T + (1 - MIN_T) * rng.nextDouble();
            int answerLen = clean[b].length - promptLen[b];
            noisy[b] = clean[b].clone();
            int masked = 0;
            // a suffix mask: everything from the cut on is hidden, the text before it masked as usual; the hidden
            // suffix keeps the example's 1/t weight, so the loss printed with suffix masks runs higher than without
            int cut = clean[b].length;
            if (config.suffixMaskProb() > 0 && rng.nextDouble() < config.suffixMaskProb()) cut = promptLen[b] + rng.nextInt(answerLen);
            for (int i = promptLen[b]; i < clean[b].length; i++) {
                if (i >= cut) {
                    noisy[b][i] = vocab.maskId();
                    masked++;
                } else if (rng.nextDouble() < t) {
                    noisy[b][i] = vocab.maskId();
                    masked++;
                }
            }
            if (masked == 0) noisy[b][promptLen[b] + rng.nextInt(answerLen)] = vocab.maskId();
            for (int i = promptLen[b]; i < clean[b].length; i++) {
                if (noisy[b][i] == vocab.maskId()) {
                    targets[b * maxLen + i] = clean[b][i];
                    weights[b * maxLen + i] = (float) (1.0 / t / answerLen / clean.length);
                }
            }
        }
        return new Batch(noisy, targets, weights);
    }

    /** The SameDiff graph's placeholders for a batch. Package-private for tests. */
    Map<String, INDArray> placeholders(Batch batch) {
        Map<String, INDArray> ph = BuiltinDllm.inputs(batch.noisy(), model.vocabulary().padId());
        ph.put(BuiltinDllm.TARGETS, Nd4j.createFromArray(batch.targets()));
        ph.put(BuiltinDllm.WEIGHTS, Nd4j.createFromArray(batch.weights()));
        return ph;
    }

    public StepReport trainStep() {
        long start = System.nanoTime();
        Batch batch = batch(step);
        double lr = config.learningRateAt(step);
        double loss, norm;
        if (kind == Kind.FAST) {
            loss = fast.lossAndGradients(batch.noisy(), batch.targets(), batch.weights());
            checkLoss(loss);
            norm = flatAdam.update(fast.parameters(), fast.gradients(), lr, config.clipNorm());
            modelStale = true;
        } else {
            Map<String, INDArray> ph = placeholders(batch);
            OutAndGrad og = Quiet.call(() -> model.graph().calculateGradientsAndOutputs(ph, List.of(BuiltinDllm.LOSS), paramNames));
            loss = og.getOutputs().get(BuiltinDllm.LOSS).getDouble(0);
            checkLoss(loss);
            norm = adam.update(model.graph(), og.getGradients(), lr, config.clipNorm());
        }
        String task = tasks.get(step % tasks.size()).name();
        step++;
        // to 0.01 ms: a step of a small model with the fast trainer takes well under a millisecond
        return new StepReport(step, task, loss, norm, lr, Math.round((System.nanoTime() - start) / 1e4) / 100.0);
    }

    private void checkLoss(double loss) {
        if (!Double.isFinite(loss)) {
            throw new UnmaskException("loss is " + loss + " at step " + (step + 1) + ": training diverged; the last checkpoint is kept");
        }
    }

    /** Saves weights, optimizer state and the step counter so a killed run can resume; the folder is replaced as a whole. */
    public void saveState(Path runDir) {
        Map<String, byte[]> files = new LinkedHashMap<>();
        files.put("weights.safetensors", Safetensors.encode(model().weights(), Map.of()));
        files.put("adam.safetensors", Safetensors.encode(kind == Kind.FAST ? flatAdam.state() : adam.state(), Map.of()));
        files.put("state.json", Json.write(Map.of("step", step, "config", config, "trainer", kind.label())).getBytes(StandardCharsets.UTF_8));
        CheckpointFiles.write(runDir.resolve(STATE_DIR), files);
    }

    /**
     * The implementation a saved run was trained with, or null when {@code runDir} holds no state;
     * a state written before the fast trainer existed has no record and was trained with SameDiff.
     */
    public static Kind savedKind(Path runDir) {
        Path dir = runDir.resolve(STATE_DIR);
        if (!CheckpointFiles.exists(dir)) return null;
        Map<String, byte[]> files = CheckpointFiles.readVerified(dir, "state.json");
        try {
            var trainer = Json.MAPPER.readTree(files.get("state.json")).path("trainer");
            return trainer.isMissingNode() ? Kind.SAMEDIFF : Kind.parse(trainer.asText());
        } catch (java.io.IOException e) {
            throw new UnmaskException("trainer state " + dir + ": cannot parse state.json");
        }
    }

    /**
     * Returns true when a saved state was found and restored. Refuses a state written by the other
     * implementation: continuing it would not be the run it claims to be.
     */
    public boolean resume(Path runDir) {
        Path dir = runDir.resolve(STATE_DIR);
        if (!CheckpointFiles.exists(dir)) return false;
        Kind saved = savedKind(runDir);
        if (saved != kind) {
            throw new UnmaskException("trainer state " + dir + " was written by the " + saved.label() + " trainer; resume it with --trainer "
                    + saved.label() + " (the two differ in the last bits, so switching would not continue the same run)");
        }
        Map<String, byte[]> files = CheckpointFiles.readVerified(dir, "weights.safetensors", "adam.safetensors", "state.json");
        Map<String, Safetensors.Tensor> weights = Safetensors.decode(files.get("weights.safetensors"), dir + "/weights.safetensors");
        model.loadWeights(weights, "trainer state " + dir);
        Map<String, Safetensors.Tensor> optimizer = Safetensors.decode(files.get("adam.safetensors"), dir + "/adam.safetensors");
        if (kind == Kind.FAST) {
            fast.loadWeights(weights, "trainer state " + dir);
            flatAdam.restore(optimizer);
            modelStale = false;
        } else {
            adam.restore(optimizer);
        }
        try {
            step = Json.MAPPER.readTree(files.get("state.json")).path("step").asInt();
        } catch (java.io.IOException e) {
            throw new UnmaskException("trainer state " + dir + ": cannot parse state.json");
        }
        return true;
    }
}
