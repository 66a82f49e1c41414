package dev.unmask.rollout;

import dev.unmask.env.UnmaskException;
import dev.unmask.env.denoiser.Denoiser;
import dev.unmask.env.io.CheckpointFiles;
import dev.unmask.env.io.Json;
import dev.unmask.env.io.Safetensors;
import dev.unmask.env.mdp.Reward;
import dev.unmask.env.mdp.UnmaskingEnv;
import dev.unmask.env.nn.Adam;
import dev.unmask.env.nn.Quiet;
import dev.unmask.env.task.Example;
import dev.unmask.env.task.Split;
import dev.unmask.env.task.Task;
import dev.unmask.env.task.Tasks;
import dev.unmask.policy.LearnedPolicy;
import dev.unmask.policy.PolicyCheckpoint;
import dev.unmask.policy.PolicyConfig;
import dev.unmask.policy.PolicyNet;
import org.nd4j.autodiff.samediff.api.OutAndGrad;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;

import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.*;

/**
 * PPO or GRPO against a frozen dLLM. One iteration: draw prompts (seeded by iteration), roll out
 * groupSize episodes per prompt with the sampling policy, turn rewards into advantages (GRPO:
 * group-relative; PPO: GAE with the value head), then several epochs of shuffled minibatch Adam
 * updates on the clipped objective. Every iteration is a pure function of (seed, iteration,
 * weights, optimizer state), so a run resumed from its checkpoint continues exactly.
 */
public final class PolicyTrainer {
    public static final String STATE_DIR = "trainer-state";

    /** What one iteration did; one line of metrics.jsonl. */
    public record IterationReport(int iteration, double meanReward, double accuracy, double meanNfe, double entropy, double clipFraction,
                                  double approxKl, double loss, double gradNorm, double learningRate, int episodes, int steps,
                                  double rolloutSeconds, double dllmSeconds, double updateSeconds) {
    }

    private final TrainConfig config;
    private final Denoiser dllm;
    private final Task task;
    private final PolicyNet net;
    private final Adam adam = new Adam();
    private final List<String> params;
    private int iteration;

    public PolicyTrainer(TrainConfig config, Denoiser dllm) {
        this.config = config;
        this.dllm = dllm;
        this.task = Tasks.byName(config.task());
        this.net = new PolicyNet(new PolicyConfig(config.features(), config.dModel(), config.heads(), config.ffDim(), config.seed()));
        // start from a policy that unmasks a few positions per step (see TrainConfig.initUnmaskProb)
        double p0 = config.initUnmaskProb();
        net.graph().getVariable("head.bias").getArr().assign(Math.log(p0 / (1 - p0)));
        PolicyLoss.build(net, config);
        List<String> names = new ArrayList<>(net.parameterNames());
        if (!config.algorithm().equals("ppo")) names.removeIf(n -> n.startsWith("value_head")); // no critic in GRPO
        this.params = names;
    }

    public PolicyNet net() {
        return net;
    }

    public int iteration() {
        return iteration;
    }

    private double learningRate() {
        // linear decay to 10% over the run
        return config.learningRate() * (1 - 0.9 * iteration / (double) config.iterations());
    }

    public IterationReport runIteration() {
        long t0 = System.nanoTime();
        SplittableRandom rng = new SplittableRandom(config.seed() * 0x9E3779B97F4A7C15L + iteration);
        List<Example> prompts = task.dataset(Split.TRAIN, rng.nextLong(), config.promptsPerIteration());
        List<Trajectory> batch = new ArrayList<>();
        for (int p = 0; p < prompts.size(); p++) for (int g = 0; g < config.groupSize(); g++) batch.add(new Trajectory(prompts.get(p), p));
        UnmaskingEnv env = new UnmaskingEnv(dllm, task, config.genLength(), config.blockLength(), 0.0, new Reward(config.speedWeight()));
        LearnedPolicy behaviour = new LearnedPolicy(net, 1.0, true, "training");
        boolean ppo = config.algorithm().equals("ppo");
        RolloutCollector.Timing timing = RolloutCollector.collect(env, behaviour, batch, rng.nextLong(), ppo);
        if (config.shuffleRewards()) {
            double[] rewards = batch.stream().mapToDouble(t -> t.reward).toArray();
            for (int i = rewards.length - 1; i > 0; i--) {
                int j = rng.nextInt(i + 1);
                double tmp = rewards[i];
                rewards[i] = rewards[j];
                rewards[j] = tmp;
            }
            for (int i = 0; i < rewards.length; i++) batch.get(i).reward = rewards[i];
        }
        if (ppo) Advantages.gae(batch, config.gamma(), config.gaeLambda());
        else Advantages.groupRelative(batch, config.groupStdScaling());
        long t1 = System.nanoTime();

        List<int[]> index = new ArrayList<>(); // (trajectory, step)
        for (int i = 0; i < batch.size(); i++) for (int k = 0; k < batch.get(i).steps.size(); k++) index.add(new int[]{i, k});
        double lr = learningRate(), lossSum = 0, clipSum = 0, klSum = 0, entSum = 0, normSum = 0;
        int updates = 0;
        for (int epoch = 0; epoch < config.epochs(); epoch++) {
            Collections.shuffle(index, new Random(rng.nextLong()));
            for (int from = 0; from < index.size(); from += config.minibatch()) {
                List<int[]> mb = index.subList(from, Math.min(index.size(), from + config.minibatch()));
                Map<String, INDArray> ph = placeholders(batch, mb);
                OutAndGrad og = Quiet.call(() -> net.graph().calculateGradientsAndOutputs(ph,
                        List.of(PolicyLoss.LOSS, PolicyLoss.CLIP_FRACTION, PolicyLoss.APPROX_KL, PolicyLoss.ENTROPY), params));
                double loss = og.getOutputs().get(PolicyLoss.LOSS).getDouble(0);
                if (!Double.isFinite(loss)) {
                    throw new UnmaskException("policy loss is " + loss + " at iteration " + (iteration + 1) + ": training stopped, the last checkpoint is kept");
                }
                normSum += adam.update(net.graph(), og.getGradients(), lr, config.maxGradNorm());
                lossSum += loss;
                clipSum += og.getOutputs().get(PolicyLoss.CLIP_FRACTION).getDouble(0);
                klSum += og.getOutputs().get(PolicyLoss.APPROX_KL).getDouble(0);
                entSum += og.getOutputs().get(PolicyLoss.ENTROPY).getDouble(0);
                updates++;
            }
        }
        long t2 = System.nanoTime();
        iteration++;
        double acc = batch.stream().filter(t -> t.result.correct()).count() / (double) batch.size();
        double nfe = batch.stream().mapToInt(t -> t.result.nfe()).average().orElse(0);
        double reward = batch.stream().mapToDouble(t -> t.result.reward()).average().orElse(0);
        return new IterationReport(iteration, reward, acc, nfe, entSum / updates, clipSum / updates, klSum / updates, lossSum / updates,
                normSum / updates, lr, batch.size(), index.size(), (t1 - t0) / 1e9, timing.dllmNanos() / 1e9, (t2 - t1) / 1e9);
    }

    private Map<String, INDArray> placeholders(List<Trajectory> batch, List<int[]> mb) {
        int m = mb.size();
        StepSample first = batch.get(mb.get(0)[0]).steps.get(mb.get(0)[1]);
        int w = first.eligible().length, f = first.features().length / w;
        float[] feats = new float[m * w * f], bias = new float[m * w], actions = new float[m * w], elig = new float[m * w];
        float[] oldLogp = new float[m], adv = new float[m], ret = new float[m];
        boolean[][] eligible = new boolean[m][];
        for (int i = 0; i < m; i++) {
            Trajectory t = batch.get(mb.get(i)[0]);
            int k = mb.get(i)[1];
            StepSample s = t.steps.get(k);
            System.arraycopy(s.features(), 0, feats, i * w * f, w * f);
            System.arraycopy(s.keyBias(), 0, bias, i * w, w);
            for (int j = 0; j < w; j++) {
                actions[i * w + j] = s.sampled()[j] ? 1f : 0f;
                elig[i * w + j] = s.eligible()[j] ? 1f : 0f;
            }
            eligible[i] = s.eligible();
            oldLogp[i] = (float) s.logProb();
            adv[i] = (float) t.advantages[k];
            ret[i] = (float) t.returns[k];
        }
        Map<String, INDArray> ph = net.placeholders(new PolicyNet.Window(feats, bias, eligible, new int[m], m, w));
        ph.put(PolicyLoss.ACTIONS, Nd4j.create(actions, new long[]{m, w}, 'c'));
        ph.put(PolicyLoss.ELIGIBLE, Nd4j.create(elig, new long[]{m, w}, 'c'));
        ph.put(PolicyLoss.OLD_LOGP, Nd4j.createFromArray(oldLogp));
        ph.put(PolicyLoss.ADVANTAGES, Nd4j.createFromArray(adv));
        if (config.algorithm().equals("ppo")) ph.put(PolicyLoss.RETURNS, Nd4j.createFromArray(ret));
        if (config.klCoef() > 0) ph.put(PolicyLoss.REF_LOGP, Nd4j.createFromArray(oldLogp)); // reference = behaviour policy of this iteration
        return ph;
    }

    /** Policy checkpoint + optimizer state + iteration counter, one folder replaced as a whole (a kill leaves the old or the new state). */
    public void saveState(Path runDir) {
        // one folder, one checksum list: the policy, optimizer and counter are always from the same iteration
        Map<String, byte[]> files = new LinkedHashMap<>(PolicyCheckpoint.files(net));
        files.put("adam.safetensors", Safetensors.encode(adam.state(), Map.of()));
        files.put("state.json", Json.write(Map.of("iteration", iteration)).getBytes(StandardCharsets.UTF_8));
        CheckpointFiles.write(runDir.resolve(STATE_DIR), files);
    }

    public boolean resume(Path runDir) {
        Path dir = runDir.resolve(STATE_DIR);
        if (!CheckpointFiles.exists(dir)) return false;
        Map<String, byte[]> files = CheckpointFiles.readVerified(dir, "adam.safetensors", "state.json");
        PolicyNet saved = PolicyCheckpoint.load(dir);
        if (!saved.config().equals(net.config())) throw new UnmaskException("trainer state " + dir + " was made with another policy config");
        net.loadWeights(saved.weights(), "trainer state " + dir);
        adam.restore(Safetensors.decode(files.get("adam.safetensors"), dir + "/adam.safetensors"));
        try {
            iteration = Json.MAPPER.readTree(files.get("state.json")).path("iteration").asInt();
        } catch (java.io.IOException e) {
            throw new UnmaskException("trainer state " + dir + ": cannot parse state.json");
        }
        return true;
    }
}
