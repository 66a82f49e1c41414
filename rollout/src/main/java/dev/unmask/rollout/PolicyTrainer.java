package dev.unmask.rollout;

import dev.unmask.policy.LearnedPolicy;
import dev.unmask.policy.BernoulliDecision;
import dev.unmask.policy.PolicyCheckpoint;
import dev.unmask.policy.PolicyFeatures;
import dev.unmask.policy.PolicyWindow;
import dev.unmask.policy.graph.PolicyNet;
import dev.unmask.env.UnmaskException;
import dev.unmask.env.denoiser.Denoiser;
import dev.unmask.env.io.CheckpointFiles;
import dev.unmask.env.io.Json;
import dev.unmask.env.io.Safetensors;
import dev.unmask.env.mdp.Reward;
import dev.unmask.env.mdp.UnmaskingEnv;
import dev.unmask.nn.Adam;
import dev.unmask.nn.Quiet;
import dev.unmask.env.task.Example;
import dev.unmask.env.task.Split;
import dev.unmask.env.task.Task;
import dev.unmask.env.task.Tasks;
import com.fasterxml.jackson.annotation.JsonInclude;
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
 * weights, optimizer state, reference weights), so a run resumed from its checkpoint continues
 * exactly. With {@code klCoef > 0} the KL penalty is to a frozen copy of the policy taken before
 * the first update (the reference), kept in trainer-state/ beside the policy.
 */
public final class PolicyTrainer {
    public static final String STATE_DIR = "trainer-state";

    public static final String REFERENCE_FILE = "reference.safetensors";

    /**
     * What one iteration did; one line of metrics.jsonl. approxKl: mean of log pi_old - log pi over
     * the updates (how far one iteration moved the policy); klToReference: the KL term's estimate
     * of KL(pi || pi_ref), averaged over the updates (0 when klCoef is 0: not measured).
     */
    public record IterationReport(int iteration, double meanReward, double accuracy, double meanNfe, double entropy, double clipFraction,
                                  double approxKl, double klToReference, double loss, double gradNorm, double learningRate, int episodes,
                                  int steps, double rolloutSeconds, double dllmSeconds, double updateSeconds,
                                  @JsonInclude(JsonInclude.Include.NON_NULL) List<Double> budgetMultipliers) {
        /** A report without budget multipliers (every run whose knob is not a budget; its metrics line reads as before). */
        public IterationReport(int iteration, double meanReward, double accuracy, double meanNfe, double entropy, double clipFraction,
                               double approxKl, double klToReference, double loss, double gradNorm, double learningRate, int episodes,
                               int steps, double rolloutSeconds, double dllmSeconds, double updateSeconds) {
            this(iteration, meanReward, accuracy, meanNfe, entropy, clipFraction, approxKl, klToReference, loss, gradNorm, learningRate, episodes,
                    steps, rolloutSeconds, dllmSeconds, updateSeconds, null);
        }
    }

    private final TrainConfig config;
    private final Denoiser dllm;
    private final Task task;
    private final PolicyNet net;
    private final PolicyNet reference; // null unless klCoef > 0
    private final Adam adam = new Adam();
    private final List<String> params;
    private final FastPolicyGradients fast; // null with policyUpdate samediff
    /** The training loop's minibatch arrays by minibatch size, reused ({@link #minibatch(List, List, boolean)}). */
    private final Map<Integer, float[][]> minibatchArrays = new HashMap<>();
    private final BudgetMultipliers budget; // null unless knobReward is budget
    private int iteration;

    public PolicyTrainer(TrainConfig config, Denoiser dllm) {
        this.config = config;
        this.dllm = dllm;
        this.task = Tasks.byName(config.task());
        this.net = new PolicyNet(config.policyConfig());
        // start from a policy that unmasks a few positions per step (see TrainConfig.initUnmaskProb)
        double p0 = config.initUnmaskProb();
        net.graph().getVariable("head.bias").getArr().assign(Math.log(p0 / (1 - p0)));
        if (config.initThreshold() > 0) startAsThreshold(net, config.initThreshold(), config.initFrontierSlope(), config.initKnobGain());
        PolicyLoss.build(net.graph(), net.graph().getVariable(PolicyNet.LOGITS), net.graph().getVariable(PolicyNet.VALUE), config);
        if (config.klCoef() > 0) {
            reference = new PolicyNet(net.config());
            reference.loadWeights(net.weights(), "the initial policy");
        } else {
            reference = null;
        }
        List<String> names = new ArrayList<>(net.parameterNames());
        if (!config.algorithm().equals("ppo")) names.removeIf(n -> n.startsWith("value_head")); // no critic in GRPO
        this.params = names;
        this.fast = config.policyUpdate().equals(TrainConfig.SAMEDIFF_UPDATE) ? null : new FastPolicyGradients(net.config(), config);
        this.budget = config.knobIsBudget() ? BudgetMultipliers.of(config) : null;
    }

    /** The Lagrange multipliers of a knob-as-budget run (one per knob bin), or null for any other run. */
    public List<Double> budgetMultipliers() {
        return budget == null ? null : budget.values();
    }

    /**
     * Weights that make a fresh policy a soft confidence threshold at tau, without a new graph (so it
     * exports as every policy does): embedding column 0 carries only inputScale * (logodds(confidence)
     * - logodds(tau)), and the head reads only that column after the final LayerNorm. Far from tau
     * that column dominates the LayerNorm, so the logit is about +-headScale sqrt(dModel) on either
     * side of the threshold; near it, the positional and random residual parts blur the edge. headScale 3:
     * with +-sqrt(32) a sampled rollout over a 128-token buffer still unmasked a few positions
     * below tau at every step (0.3-0.8% each), and solved 12% of lag5 where the rule solves 66%.
     * A frontier slope s > 0 puts -inputScale * s * masked_before into the same column, so the bar
     * becomes logodds(tau) + s * masked_before; a knob gain g > 0 puts +inputScale * g * knob there, so
     * the bar falls by g per unit of knob.
     */
    static void startAsThreshold(PolicyNet net, double tau, double frontierSlope, double knobGain) {
        final double inputScale = 4.0, headScale = 3.0;
        int feature = net.config().parsedFeatures().indexOf(PolicyFeatures.CONFIDENCE_LOGODDS);
        int maskedBefore = net.config().parsedFeatures().indexOf(PolicyFeatures.MASKED_BEFORE);
        int knob = net.config().parsedFeatures().indexOf(PolicyFeatures.KNOB);
        var sd = net.graph();
        var embedW = sd.getVariable("embed.weight").getArr();   // [features, d]
        var headW = sd.getVariable("head.weight").getArr();     // [d, 1]
        for (int i = 0; i < embedW.rows(); i++) {
            double w = i == feature ? inputScale : i == maskedBefore ? -inputScale * frontierSlope : i == knob ? inputScale * knobGain : 0.0;
            embedW.putScalar(new long[]{i, 0}, w);
        }
        sd.getVariable("embed.bias").getArr().putScalar(0, -inputScale * Math.log(tau / (1 - tau)));
        headW.assign(0.0);
        headW.putScalar(new long[]{0, 0}, headScale);
        sd.getVariable("head.bias").getArr().assign(0.0);
    }

    public PolicyNet net() {
        return net;
    }

    public int iteration() {
        return iteration;
    }

    /** The frozen policy the KL term measures against, or null when klCoef is 0. */
    public PolicyNet reference() {
        return reference;
    }

    private double learningRate() {
        return config.learningRateAt(iteration);
    }

    public IterationReport runIteration() {
        long t0 = System.nanoTime();
        SplittableRandom rng = new SplittableRandom(config.seed() * 0x9E3779B97F4A7C15L + iteration);
        List<Example> prompts = task.dataset(Split.TRAIN, rng.nextLong(), config.promptsPerIteration());
        List<Trajectory> batch = new ArrayList<>();
        for (int p = 0; p < prompts.size(); p++) for (int g = 0; g < config.groupSize(); g++) batch.add(new Trajectory(prompts.get(p), p));
        UnmaskingEnv env = new UnmaskingEnv(dllm, task, config.genLength(), config.blockLength(), 0.0, config.reward());
        LearnedPolicy behaviour = new LearnedPolicy(net, 1.0, true, "training").allowEmptySteps(config.emptySteps());
        env.allowEmptySteps(config.emptySteps());
        float[] knobs = null;
        if (!config.knobRange().isEmpty()) {
            // one knob per prompt, shared by its group, so group-relative advantages compare rollouts rewarded alike
            double lo = config.knobRange().get(0), hi = config.knobRange().get(1);
            SplittableRandom knobRng = new SplittableRandom(config.seed() * 0x632BE59BD9B4E019L + iteration);
            float[] byPrompt = new float[prompts.size()];
            for (int p = 0; p < byPrompt.length; p++) byPrompt[p] = (float) (lo + (hi - lo) * knobRng.nextDouble());
            knobs = new float[batch.size()];
            for (int i = 0; i < batch.size(); i++) knobs[i] = byPrompt[batch.get(i).group];
            behaviour.withEpisodeKnobs(knobs);
        }
        boolean ppo = config.algorithm().equals("ppo");
        RolloutCollector.Timing timing = RolloutCollector.collect(env, behaviour, batch, rng.nextLong(), ppo);
        if (budget != null) {
            // the knob is each prompt's NFE budget: rewards under this iteration's multipliers, then one dual-ascent step
            boolean[] correct = new boolean[batch.size()];
            int[] nfes = new int[batch.size()];
            for (int i = 0; i < batch.size(); i++) {
                correct[i] = batch.get(i).result.correct();
                nfes[i] = batch.get(i).result.nfe();
            }
            float[] budgets = new float[batch.size()];
            for (int i = 0; i < batch.size(); i++) budgets[i] = (float) config.budgetOf(knobs[i]);
            double[] rewards = budget.rewards(correct, nfes, budgets);
            for (int i = 0; i < batch.size(); i++) batch.get(i).reward = rewards[i];
            budget.update(nfes, budgets);
        } else if (knobs != null) {
            for (int i = 0; i < batch.size(); i++) {
                Trajectory t = batch.get(i);
                t.reward = Reward.alpha(knobs[i]).of(t.result.correct(), t.result.nfe(), config.genLength());
            }
        }
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
        if (reference != null) referenceLogProbs(batch);
        long t1 = System.nanoTime();

        List<int[]> index = new ArrayList<>(); // (trajectory, step)
        for (int i = 0; i < batch.size(); i++) for (int k = 0; k < batch.get(i).steps.size(); k++) index.add(new int[]{i, k});
        double lr = learningRate(), lossSum = 0, clipSum = 0, klSum = 0, refKlSum = 0, entSum = 0, normSum = 0;
        int updates = 0;
        for (int epoch = 0; epoch < config.epochs(); epoch++) {
            Collections.shuffle(index, new Random(rng.nextLong()));
            for (int from = 0; from < index.size(); from += config.minibatch()) {
                List<int[]> mb = index.subList(from, Math.min(index.size(), from + config.minibatch()));
                FastPolicyGradients.Result r = gradients(minibatch(batch, mb, true));
                if (!Double.isFinite(r.loss())) {
                    throw new UnmaskException("policy loss is " + r.loss() + " at iteration " + (iteration + 1) + ": training stopped, the last checkpoint is kept");
                }
                normSum += adam.update(net.graph(), r.gradients(), lr, config.maxGradNorm(), config.weightDecay());
                lossSum += r.loss();
                clipSum += r.clipFraction();
                klSum += r.approxKl();
                entSum += r.entropy();
                refKlSum += r.klToReference();
                updates++;
            }
        }
        long t2 = System.nanoTime();
        iteration++;
        double acc = batch.stream().filter(t -> t.result.correct()).count() / (double) batch.size();
        double nfe = batch.stream().mapToInt(t -> t.result.nfe()).average().orElse(0);
        // with a knob range the rollouts' rewards are their knobs' (t.reward); otherwise the environment's, as always
        boolean knobbed = !config.knobRange().isEmpty();
        double reward = batch.stream().mapToDouble(t -> knobbed ? t.reward : t.result.reward()).average().orElse(0);
        return new IterationReport(iteration, reward, acc, nfe, entSum / updates, clipSum / updates, klSum / updates, refKlSum / updates,
                lossSum / updates, normSum / updates, lr, batch.size(), index.size(), (t1 - t0) / 1e9, timing.dllmNanos() / 1e9, (t2 - t1) / 1e9,
                budgetMultipliers());
    }

    /**
     * The threads the fast policy update runs on ({@code UNMASK_UPDATE_THREADS}, by default the
     * available processors up to 4); its result is the same for any count. Throws a one-line
     * error for a bad value.
     */
    public static int updateThreads() {
        return UpdateWorkers.configuredThreads();
    }

    /** The objective's terms and the gradients of the trained parameters on one minibatch, by the config's policyUpdate. */
    FastPolicyGradients.Result gradients(FastPolicyGradients.Minibatch mb) {
        if (fast != null) return gradients(fast, mb);
        Map<String, INDArray> ph = placeholders(mb);
        OutAndGrad og = Quiet.call(() -> net.graph().calculateGradientsAndOutputs(ph, outputs(), params));
        Map<String, INDArray> o = og.getOutputs();
        return new FastPolicyGradients.Result(o.get(PolicyLoss.LOSS).getDouble(0), o.get(PolicyLoss.CLIP_FRACTION).getDouble(0),
                o.get(PolicyLoss.APPROX_KL).getDouble(0), o.get(PolicyLoss.ENTROPY).getDouble(0),
                reference != null ? o.get(PolicyLoss.KL_TO_REFERENCE).getDouble(0) : 0, og.getGradients());
    }

    /** The gradients of the trained parameters on one minibatch by {@code update}, on the network's current weights. */
    FastPolicyGradients.Result gradients(FastPolicyGradients update, FastPolicyGradients.Minibatch mb) {
        Map<String, INDArray> weights = new HashMap<>();
        for (String name : update.parameterNames()) weights.put(name, net.graph().getVariable(name).getArr());
        return update.compute(weights, mb, params);
    }

    private List<String> outputs() {
        List<String> out = new ArrayList<>(List.of(PolicyLoss.LOSS, PolicyLoss.CLIP_FRACTION, PolicyLoss.APPROX_KL, PolicyLoss.ENTROPY));
        if (reference != null) out.add(PolicyLoss.KL_TO_REFERENCE);
        return out;
    }

    /** The loss graph's outputs on one minibatch, without an update (tests read the objective's terms). */
    Map<String, Double> lossTerms(List<Trajectory> batch, List<int[]> minibatch) {
        Map<String, INDArray> out = Quiet.call(() -> net.graph().output(placeholders(minibatch(batch, minibatch)), outputs().toArray(new String[0])));
        Map<String, Double> terms = new TreeMap<>();
        out.forEach((k, v) -> terms.put(k, v.getDouble(0)));
        return terms;
    }

    /** log pi_ref of every recorded sample; fixed for the iteration, like the behaviour log-probabilities. */
    void referenceLogProbs(List<Trajectory> batch) {
        List<int[]> all = new ArrayList<>();
        for (int i = 0; i < batch.size(); i++) {
            batch.get(i).refLogProbs = new double[batch.get(i).steps.size()];
            for (int k = 0; k < batch.get(i).steps.size(); k++) all.add(new int[]{i, k});
        }
        for (int from = 0; from < all.size(); from += config.minibatch()) {
            List<int[]> chunk = all.subList(from, Math.min(all.size(), from + config.minibatch()));
            float[][] logits = reference.logits(window(batch, chunk));
            for (int r = 0; r < chunk.size(); r++) {
                StepSample s = batch.get(chunk.get(r)[0]).steps.get(chunk.get(r)[1]);
                batch.get(chunk.get(r)[0]).refLogProbs[chunk.get(r)[1]] = BernoulliDecision.logProbability(logits[r], s.eligible(), s.sampled());
            }
        }
    }

    /**
     * Each step's weight in the minibatch's average, summing to 1 (see
     * {@link TrainConfig#lossNormalisation()}); null for the plain mean over steps.
     */
    static double[] stepWeights(String normalisation, List<Trajectory> batch, List<int[]> mb) {
        if (normalisation.equals(TrainConfig.PER_STEP)) return null;
        double[] w = new double[mb.size()];
        double sum = 0;
        for (int i = 0; i < w.length; i++) {
            Trajectory t = batch.get(mb.get(i)[0]);
            w[i] = normalisation.equals(TrainConfig.PER_EPISODE) ? 1.0 / t.steps.size() : unmaskedAt(t.steps.get(mb.get(i)[1]));
            sum += w[i];
        }
        for (int i = 0; i < w.length; i++) w[i] /= sum;
        return w;
    }

    /** Positions the step unmasked: its sample, or the one fallback position when it drew nothing. */
    static int unmaskedAt(StepSample s) {
        int n = 0;
        for (boolean x : s.sampled()) if (x) n++;
        return Math.max(1, n);
    }

    private PolicyWindow window(List<Trajectory> batch, List<int[]> mb) {
        int m = mb.size();
        StepSample first = batch.get(mb.get(0)[0]).steps.get(mb.get(0)[1]);
        int w = first.eligible().length, f = first.features().length / w;
        float[] feats = new float[m * w * f], bias = new float[m * w];
        boolean[][] eligible = new boolean[m][];
        for (int i = 0; i < m; i++) {
            StepSample s = batch.get(mb.get(i)[0]).steps.get(mb.get(i)[1]);
            System.arraycopy(s.features(), 0, feats, i * w * f, w * f);
            System.arraycopy(s.keyBias(), 0, bias, i * w, w);
            eligible[i] = s.eligible();
        }
        return new PolicyWindow(feats, bias, eligible, new int[m], m, w);
    }

    /** One minibatch's inputs and recorded samples as flat arrays, in the layout of the graph's placeholders. */
    FastPolicyGradients.Minibatch minibatch(List<Trajectory> batch, List<int[]> mb) {
        return minibatch(batch, mb, false);
    }

    /**
     * @param reuse fill arrays kept from an earlier minibatch of the same size (valid until the next
     *              call): fresh ones cost a page fault per 4 KB on these machines, about a tenth of a
     *              fast update's time
     */
    private FastPolicyGradients.Minibatch minibatch(List<Trajectory> batch, List<int[]> mb, boolean reuse) {
        int m = mb.size();
        StepSample first = batch.get(mb.get(0)[0]).steps.get(mb.get(0)[1]);
        int w = first.eligible().length, f = first.features().length / w;
        float[][] a = reuse ? minibatchArrays.get(m) : null;
        if (a == null || a[0].length != m * w * f || a[2].length != m * w) {
            a = newMinibatchArrays(m, w, f);
            if (reuse) minibatchArrays.put(m, a);
        }
        float[] feats = a[0], bias = a[1], actions = a[2], elig = a[3], oldLogp = a[4], adv = a[5], ret = a[6], ref = a[7];
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
            oldLogp[i] = (float) s.logProb();
            adv[i] = (float) t.advantages[k];
            ret[i] = (float) t.returns[k];
            ref[i] = reference != null ? (float) t.refLogProbs[k] : 0f;
        }
        double[] weights = stepWeights(config.lossNormalisation(), batch, mb);
        float[] wf = null;
        if (weights != null) {
            wf = a[8];
            for (int i = 0; i < m; i++) wf[i] = (float) weights[i];
        }
        return new FastPolicyGradients.Minibatch(m, w, feats, bias, actions, elig, oldLogp, adv,
                config.algorithm().equals("ppo") ? ret : null, reference != null ? ref : null, wf);
    }

    /** features, key bias, actions, eligible, old log-probabilities, advantages, returns, reference log-probabilities, step weights. */
    private static float[][] newMinibatchArrays(int m, int w, int f) {
        return new float[][]{new float[m * w * f], new float[m * w], new float[m * w], new float[m * w], new float[m], new float[m], new float[m], new float[m], new float[m]};
    }

    private Map<String, INDArray> placeholders(FastPolicyGradients.Minibatch mb) {
        int m = mb.rows(), w = mb.width();
        Map<String, INDArray> ph = net.placeholders(new PolicyWindow(mb.features(), mb.keyBias(), null, new int[m], m, w));
        ph.put(PolicyLoss.ACTIONS, Nd4j.create(mb.actions(), new long[]{m, w}, 'c'));
        ph.put(PolicyLoss.ELIGIBLE, Nd4j.create(mb.eligible(), new long[]{m, w}, 'c'));
        ph.put(PolicyLoss.OLD_LOGP, Nd4j.createFromArray(mb.oldLogProb()));
        ph.put(PolicyLoss.ADVANTAGES, Nd4j.createFromArray(mb.advantages()));
        if (mb.returns() != null) ph.put(PolicyLoss.RETURNS, Nd4j.createFromArray(mb.returns()));
        if (mb.refLogProb() != null) ph.put(PolicyLoss.REF_LOGP, Nd4j.createFromArray(mb.refLogProb()));
        if (mb.stepWeights() != null) ph.put(PolicyLoss.STEP_WEIGHTS, Nd4j.createFromArray(mb.stepWeights()));
        return ph;
    }

    /** Policy checkpoint + optimizer state + iteration counter, one folder replaced as a whole (a kill leaves the old or the new state). */
    public void saveState(Path runDir) {
        // one folder, one checksum list: the policy, optimizer and counter are always from the same iteration
        Map<String, byte[]> files = new LinkedHashMap<>(PolicyCheckpoint.files(net));
        files.put("adam.safetensors", Safetensors.encode(adam.state(), Map.of()));
        if (reference != null) files.put(REFERENCE_FILE, Safetensors.encode(reference.weights(), Map.of("format", "unmask-policy-v1")));
        // the budget multipliers are state like Adam's moments; other runs' state.json reads as before
        Map<String, Object> state = budget == null ? Map.of("iteration", iteration) : Map.of("iteration", iteration, "budget_multipliers", budget.values());
        files.put("state.json", Json.write(state).getBytes(StandardCharsets.UTF_8));
        CheckpointFiles.write(runDir.resolve(STATE_DIR), files);
    }

    public boolean resume(Path runDir) {
        Path dir = runDir.resolve(STATE_DIR);
        if (!CheckpointFiles.exists(dir)) return false;
        List<String> required = new ArrayList<>(List.of("adam.safetensors", "state.json"));
        if (reference != null) required.add(REFERENCE_FILE);
        Map<String, byte[]> files = CheckpointFiles.readVerified(dir, required.toArray(new String[0]));
        PolicyNet saved = PolicyNet.load(dir);
        if (!saved.config().equals(net.config())) throw new UnmaskException("trainer state " + dir + " was made with another policy config");
        net.loadWeights(saved.weights(), "trainer state " + dir);
        adam.restore(Safetensors.decode(files.get("adam.safetensors"), dir + "/adam.safetensors"));
        if (reference != null) reference.loadWeights(Safetensors.decode(files.get(REFERENCE_FILE), dir + "/" + REFERENCE_FILE), "reference policy in " + dir);
        try {
            var state = Json.MAPPER.readTree(files.get("state.json"));
            iteration = state.path("iteration").asInt();
            if (budget != null) {
                if (!state.has("budget_multipliers")) throw new UnmaskException("trainer state " + dir + " has no budget_multipliers: it was not made by a knobReward budget run");
                List<Double> multipliers = new ArrayList<>();
                state.get("budget_multipliers").forEach(v -> multipliers.add(v.asDouble()));
                budget.restore(multipliers);
            }
        } catch (java.io.IOException e) {
            throw new UnmaskException("trainer state " + dir + ": cannot parse state.json");
        }
        return true;
    }
}
