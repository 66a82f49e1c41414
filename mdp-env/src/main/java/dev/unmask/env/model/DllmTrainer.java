package dev.unmask.env.model;

import dev.unmask.env.UnmaskException;
import dev.unmask.env.denoiser.Vocabulary;
import dev.unmask.env.io.CheckpointFiles;
import dev.unmask.env.io.Json;
import dev.unmask.env.io.Safetensors;
import dev.unmask.env.nn.Adam;
import dev.unmask.env.nn.Quiet;
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
 */
public final class DllmTrainer {
    public static final String STATE_DIR = "trainer-state";
    private static final double MIN_T = 1e-3;

    /** What one step reports to the caller (for logs and progress). */
    public record StepReport(int step, String task, double loss, double gradNorm, double learningRate, long stepMillis) {
    }

    private final BuiltinDllm model;
    private final DllmTrainConfig config;
    private final Adam adam = new Adam();
    private final List<Task> tasks = new ArrayList<>();
    private final List<String> paramNames;
    private int step;

    public DllmTrainer(BuiltinDllm model, DllmTrainConfig config) {
        this.model = model;
        this.config = config;
        for (String t : config.tasks()) tasks.add(Tasks.byName(t));
        this.paramNames = model.trainableVariables().stream().map(SDVariable::name).toList();
    }

    public int step() {
        return step;
    }

    /** Batch for a step: deterministic in (seed, step). Package-private for tests. */
    Map<String, INDArray> batch(int step) {
        SplittableRandom rng = new SplittableRandom(config.seed() * 0x9E3779B97F4A7C15L + step);
        Task task = tasks.get(step % tasks.size());
        Vocabulary vocab = model.vocabulary();
        int genLength = task.defaultGenLength();
        if (rng.nextDouble() < config.longBufferProb()) genLength += 16 * (1 + rng.nextInt(2));
        int[][] clean = new int[config.batchSize()][];
        int[] promptLen = new int[clean.length];
        for (int b = 0; b < clean.length; b++) {
            var ex = task.sample(Split.TRAIN, rng);
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
            for (int i = promptLen[b]; i < clean[b].length; i++) {
                if (rng.nextDouble() < t) {
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
        Map<String, INDArray> ph = BuiltinDllm.inputs(noisy, vocab.padId());
        ph.put(BuiltinDllm.TARGETS, Nd4j.createFromArray(targets));
        ph.put(BuiltinDllm.WEIGHTS, Nd4j.createFromArray(weights));
        return ph;
    }

    public StepReport trainStep() {
        long start = System.nanoTime();
        Map<String, INDArray> ph = batch(step);
        double lr = config.learningRateAt(step);
        OutAndGrad og = Quiet.call(() -> model.graph().calculateGradientsAndOutputs(ph, List.of(BuiltinDllm.LOSS), paramNames));
        Map<String, INDArray> grads = og.getGradients();
        double loss = og.getOutputs().get(BuiltinDllm.LOSS).getDouble(0);
        if (!Double.isFinite(loss)) {
            throw new UnmaskException("loss is " + loss + " at step " + (step + 1) + ": training diverged; the last checkpoint is kept");
        }
        double norm = adam.update(model.graph(), grads, lr, config.clipNorm());
        String task = tasks.get(step % tasks.size()).name();
        step++;
        return new StepReport(step, task, loss, norm, lr, (System.nanoTime() - start) / 1_000_000);
    }

    /** Saves weights, optimizer state and the step counter so a killed run can resume; the folder is replaced as a whole. */
    public void saveState(Path runDir) {
        Map<String, byte[]> files = new LinkedHashMap<>();
        files.put("weights.safetensors", Safetensors.encode(model.weights(), Map.of()));
        files.put("adam.safetensors", Safetensors.encode(adam.state(), Map.of()));
        files.put("state.json", Json.write(Map.of("step", step, "config", config)).getBytes(StandardCharsets.UTF_8));
        CheckpointFiles.write(runDir.resolve(STATE_DIR), files);
    }

    /** Returns true when a saved state was found and restored. */
    public boolean resume(Path runDir) {
        Path dir = runDir.resolve(STATE_DIR);
        if (!CheckpointFiles.exists(dir)) return false;
        Map<String, byte[]> files = CheckpointFiles.readVerified(dir, "weights.safetensors", "adam.safetensors", "state.json");
        model.loadWeights(Safetensors.decode(files.get("weights.safetensors"), dir + "/weights.safetensors"), "trainer state " + dir);
        adam.restore(Safetensors.decode(files.get("adam.safetensors"), dir + "/adam.safetensors"));
        try {
            step = Json.MAPPER.readTree(files.get("state.json")).path("step").asInt();
        } catch (java.io.IOException e) {
            throw new UnmaskException("trainer state " + dir + ": cannot parse state.json");
        }
        return true;
    }
}
