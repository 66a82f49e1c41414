package dev.unmask.rollout;

import com.fasterxml.jackson.annotation.JsonInclude;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.unmask.env.UnmaskException;
import dev.unmask.env.mdp.Reward;
import dev.unmask.env.io.Json;
import dev.unmask.policy.PolicyConfig;
import dev.unmask.policy.PolicyFeatures;

import java.nio.file.Path;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Everything a policy-training run depends on. Each key's default sits next to it in
 * {@link #DEFAULTS} ({@link #defaults()} is that config); every field can be set from a config
 * file or the command line. Every field is checked here, so a bad value from a
 * file or {@code --set} fails with one line naming the key before anything is written.
 *
 * @param algorithm          "grpo" (group-relative advantages, no critic) or "ppo" (value head + GAE)
 * @param promptsPerIteration distinct training prompts per iteration
 * @param groupSize          rollouts per prompt (GRPO's group; PPO gets the same number of episodes)
 * @param shuffleRewards     control run: rewards are permuted across the batch before computing
 *                           advantages, so any gain cannot come from learning the task
 * @param initUnmaskProb     the untrained policy's unmask probability per position (sets the output
 *                           bias). At 0.5 a fresh policy unmasks half the buffer in one step, every
 *                           rollout is wrong, all rewards are 0 and GRPO has no signal to start from
 * @param groupStdScaling    GRPO: divide group-relative advantages by the group's reward spread (the
 *                           original GRPO). Off by default: when a whole group is correct, the spread
 *                           is only the small speed term, and dividing by it makes "be faster" as loud
 *                           as "be right"; measured here, the policy then trades accuracy for speed
 *                           until about one answer in seven is wrong (see results/README.md)
 * @param maxGradNorm        global gradient-norm clip; 0 turns clipping off
 * @param checkpointEvery    save trainer-state/ every this many iterations (and after the last)
 * @param klCoef             weight of the KL penalty to the reference policy: a frozen copy of the
 *                           policy as it was before the first update (saved in trainer-state/)
 * @param lossNormalisation  how each step's loss terms are averaged over a minibatch:
 *                           <ul>
 *                           <li>{@code "episode"} (default): each step weighs 1 / (its episode's
 *                           NFE), so every episode counts once however many steps it took; over one
 *                           minibatch holding the whole batch this is the mean over episodes of each
 *                           episode's mean over its steps, GRPO's per-sequence normalisation
 *                           (Shao et al. 2024, DeepSeekMath, eq. 3: 1/G sum_i 1/|o_i| sum_t; TRL's
 *                           GRPOTrainer loss_type "grpo"), with the step of a dLLM episode in the
 *                           role of a token</li>
 *                           <li>{@code "token"}: each step weighs the number of positions it
 *                           unmasked, so every unmasked token counts once (DAPO's token-level
 *                           loss, Yu et al. 2025)</li>
 *                           <li>{@code "step"}: a plain mean over steps, so an episode weighs in
 *                           proportion to its NFE and slow episodes dominate; what every run before
 *                           this option used, and what a recorded config.json without the key means
 *                           ({@link #readRecorded})</li>
 *                           </ul>
 *                           Weighted modes normalise the weights within each minibatch.
 * @param rewardForm         "linear" (default): correct * (1 - speedWeight * (NFE - 1) / (L - 1));
 *                           "alpha": the paper's correct * ((L - min(NFE, L) + 1) / L)^rewardAlpha
 *                           ({@link Reward})
 * @param rewardAlpha        the exponent of the "alpha" form (0 = plain correctness); unused by "linear"
 * @param lrSchedule         "linear" (default): from learningRate down to a tenth of it over the run;
 *                           "cosine": cosine decay to a tenth, the paper's schedule
 * @param warmupIterations   iterations of linear warm-up from learningRate / warmupIterations, before the schedule
 * @param weightDecay        AdamW's decoupled weight decay (the paper: 0.1); 0 is plain Adam
 * @param policyContext      what the policy sees: "block" (default: the active block) or "buffer"
 *                           (the whole generation buffer, as in the paper; {@link PolicyConfig})
 * @param knobRange          empty (default), or [lo, hi]: train one policy for a range of speed/accuracy
 *                           trade-offs. Each prompt draws a knob alpha uniformly from [lo, hi]; its
 *                           rollouts are rewarded correct * ((L - min(NFE, L) + 1) / L)^alpha and the
 *                           policy reads alpha as the feature "knob" (which features must then list).
 *                           Evaluate with {@code learned:path=...,knob=VALUE}.
 * @param emptySteps         training rollouts may unmask nothing at a step (it still costs its NFE),
 *                           as in the paper's code, while the episode can still end within 2L steps
 *                           (pair it with rewardForm alpha, which counts steps past L as L);
 *                           false (default): an empty sample takes its most probable position.
 *                           Evaluation always takes the fallback.
 * @param initThreshold      0 (default): a fresh policy unmasks each position with initUnmaskProb, in
 *                           no particular order. tau in (0, 1): a fresh policy starts as a soft
 *                           confidence threshold at tau (unmask where the confidence is above it), which
 *                           GRPO then changes; needs the feature confidence_logodds and replaces
 *                           initUnmaskProb. For tasks where random order solves almost nothing, so that
 *                           a fresh policy's rollouts are all wrong and give no gradient
 *                           (results/frontier/README.md)
 * @param initFrontierSlope  0 (default), or s > 0 with initThreshold: the fresh threshold rises with the
 *                           feature masked_before, to log-odds(tau) + s * masked_before, so that it starts
 *                           by committing near the left-most masked positions (where the answer is
 *                           being written) and holds back confident tokens further right (in full
 *                           diffusion: the EOS run and digits written before their dependencies);
 *                           needs the feature masked_before
 * @param initKnobGain       0 (default), or g > 0 with initThreshold and a knobRange: the fresh threshold
 *                           falls by g log-odds per unit of knob, to log-odds(tau) + s * masked_before - g * knob,
 *                           so that a fresh conditioned policy already runs faster at larger alphas (a
 *                           knob that starts unread has to be discovered by GRPO, and in 25 iterations
 *                           it was not: results/frontier/README.md); training then moves each knob's
 *                           operating point. Needs the feature knob
 * @param policyUpdate       how the policy's gradient is computed: "fast" (default: the forward and
 *                           backward written out by hand, {@link FastPolicyGradients}, several times
 *                           faster), "fast-eligible" (the same, with the query side of the network,
 *                           from the query projection to the head, computed only at the positions
 *                           whose outputs enter the loss, and the minibatch computed in fixed
 *                           groups of steps side by side on the update's threads; equal to fast up
 *                           to float rounding) or
 *                           "samediff" (the SameDiff graph). They agree to float
 *                           rounding, not bit for bit, so every run keeps the one it started with; runs
 *                           recorded before the key existed, and the shipped configs that made
 *                           committed results, used samediff
 * @param knobReward         what the knob of a knobRange run means: "alpha" (default: the reward's
 *                           speed exponent, {@link Reward#alpha}) or "budget": the knob is a target NFE B,
 *                           drawn per prompt from knobRange (lo > 0), and a rollout earns
 *                           {@link Reward#budget} = correct - lambda (NFE - B) / B, lambda a Lagrange
 *                           multiplier per knob bin updated by dual ascent ({@link BudgetMultipliers}),
 *                           so that the policy learns "as accurate as it can within B steps on average";
 *                           unlike alpha, the knob's pull grows until the budget is met, which is what
 *                           a knob that starts unread (initKnobGain 0) needs to be discovered
 * @param budgetBins         knobReward budget: the knob range is cut into this many equal bins, one
 *                           multiplier each (1, the default: one for the whole range)
 * @param budgetMultiplier   knobReward budget: every bin's multiplier at the start (default 0)
 * @param budgetDualStep     knobReward budget: the dual-ascent step; after each iteration each bin's
 *                           multiplier moves by this times its rollouts' mean (NFE - B) / B, floored at
 *                           0 (default 0: the multipliers stay at budgetMultiplier)
 * @param budgetCentre       knobReward budget: the target NFE is budgetCentre + knob (default 0: the
 *                           knob is the target NFE itself). A centre in the middle of the budgets makes
 *                           the knob the policy reads straddle 0, so that its weight learns only how
 *                           the budgets differ, not their mean (which the bias already carries). The five
 *                           budget keys are left out of a config's JSON while they hold their defaults,
 *                           so the configs and manifests of every run without them read as before
 */
public record TrainConfig(String algorithm, String task, int genLength, int blockLength, int iterations, int promptsPerIteration,
                          int groupSize, int epochs, int minibatch, double learningRate, double clipEpsilon, double entropyCoef,
                          double valueCoef, double gamma, double gaeLambda, double klCoef, double maxGradNorm, double speedWeight,
                          long seed, int checkpointEvery, boolean shuffleRewards, int dModel, int heads, int ffDim,
                          List<String> features, double initUnmaskProb, boolean groupStdScaling, String lossNormalisation,
                          String rewardForm, double rewardAlpha, String lrSchedule, int warmupIterations, double weightDecay,
                          String policyContext, List<Double> knobRange, boolean emptySteps, double initThreshold,
                          double initFrontierSlope, double initKnobGain, String policyUpdate,
                          @JsonInclude(value = JsonInclude.Include.CUSTOM, valueFilter = OmitAlpha.class) String knobReward,
                          @JsonInclude(value = JsonInclude.Include.CUSTOM, valueFilter = OmitOne.class) Integer budgetBins,
                          @JsonInclude(value = JsonInclude.Include.CUSTOM, valueFilter = OmitZero.class) double budgetMultiplier,
                          @JsonInclude(value = JsonInclude.Include.CUSTOM, valueFilter = OmitZero.class) double budgetDualStep,
                          @JsonInclude(value = JsonInclude.Include.CUSTOM, valueFilter = OmitZero.class) double budgetCentre) {
    public static final String PER_STEP = "step", PER_EPISODE = "episode", PER_TOKEN = "token";
    public static final String KNOB_ALPHA = "alpha", KNOB_BUDGET = "budget";
    public static final String FAST_UPDATE = "fast", FAST_ELIGIBLE_UPDATE = "fast-eligible", SAMEDIFF_UPDATE = "samediff";
    /** Keys whose default changed, with the value a recorded config that lacks them was run with. */
    private static final Map<String, Object> BEFORE_THE_KEY_EXISTED = Map.of("lossNormalisation", PER_STEP, "policyUpdate", SAMEDIFF_UPDATE);

    /** Every key's default, in the order of the record's components (a config file or --set overrides them). */
    public static final Map<String, Object> DEFAULTS = defaultsByKey();

    private static Map<String, Object> defaultsByKey() {
        Map<String, Object> d = new LinkedHashMap<>();
        d.put("algorithm", "grpo");
        d.put("task", "sudoku");
        d.put("genLength", 32);
        d.put("blockLength", 32);
        d.put("iterations", 60);
        d.put("promptsPerIteration", 16);
        d.put("groupSize", 8);
        d.put("epochs", 2);
        d.put("minibatch", 256);
        d.put("learningRate", 3e-3);
        d.put("clipEpsilon", 0.2);
        d.put("entropyCoef", 0.001);
        d.put("valueCoef", 0.5);
        d.put("gamma", 1.0);
        d.put("gaeLambda", 0.95);
        d.put("klCoef", 0.0);
        d.put("maxGradNorm", 1.0);
        d.put("speedWeight", 0.5);
        d.put("seed", 1L);
        d.put("checkpointEvery", 10);
        d.put("shuffleRewards", false);
        d.put("dModel", 32);
        d.put("heads", 2);
        d.put("ffDim", 64);
        d.put("features", List.of("confidence"));
        d.put("initUnmaskProb", 0.1);
        d.put("groupStdScaling", false);
        d.put("lossNormalisation", PER_EPISODE);
        d.put("rewardForm", "linear");
        d.put("rewardAlpha", 1.0);
        d.put("lrSchedule", "linear");
        d.put("warmupIterations", 0);
        d.put("weightDecay", 0.0);
        d.put("policyContext", "block");
        d.put("knobRange", List.of());
        d.put("emptySteps", false);
        d.put("initThreshold", 0.0);
        d.put("initFrontierSlope", 0.0);
        d.put("initKnobGain", 0.0);
        d.put("policyUpdate", FAST_UPDATE);
        d.put("knobReward", KNOB_ALPHA);
        d.put("budgetBins", 1);
        d.put("budgetMultiplier", 0.0);
        d.put("budgetDualStep", 0.0);
        d.put("budgetCentre", 0.0);
        List<String> keys = java.util.Arrays.stream(TrainConfig.class.getRecordComponents()).map(java.lang.reflect.RecordComponent::getName).toList();
        if (!keys.equals(List.copyOf(d.keySet()))) throw new IllegalStateException("TrainConfig.DEFAULTS must list every key once, in order: " + keys);
        return Collections.unmodifiableMap(d);
    }

    private static final TrainConfig DEFAULT = Json.MAPPER.convertValue(DEFAULTS, TrainConfig.class);

    public TrainConfig {
        if (!"grpo".equals(algorithm) && !"ppo".equals(algorithm)) throw new UnmaskException("algorithm must be grpo or ppo, got '" + algorithm + "'");
        if (task == null || task.isBlank()) throw new UnmaskException("task must be set");
        atLeast("genLength", genLength, 1);
        atLeast("blockLength", blockLength, 1);
        if (genLength % blockLength != 0) throw new UnmaskException("block length " + blockLength + " does not divide the buffer length " + genLength);
        atLeast("iterations", iterations, 1);
        atLeast("promptsPerIteration", promptsPerIteration, 1);
        atLeast("groupSize", groupSize, 1);
        if (algorithm.equals("grpo") && groupSize < 2) throw new UnmaskException("GRPO needs groupSize >= 2 (advantages are relative within a group), got " + groupSize);
        atLeast("epochs", epochs, 1);
        atLeast("minibatch", minibatch, 1);
        positive("learningRate", learningRate);
        openUnit("clipEpsilon", clipEpsilon);
        nonNegative("entropyCoef", entropyCoef);
        nonNegative("valueCoef", valueCoef);
        closedUnit("gamma", gamma);
        closedUnit("gaeLambda", gaeLambda);
        nonNegative("klCoef", klCoef);
        nonNegative("maxGradNorm", maxGradNorm);
        closedUnit("speedWeight", speedWeight);
        atLeast("checkpointEvery", checkpointEvery, 1);
        List<PolicyFeatures> parsedFeatures = PolicyConfig.checkShape(features, dModel, heads, ffDim);
        features = List.copyOf(features);
        openUnit("initUnmaskProb", initUnmaskProb);
        if (!List.of(PER_STEP, PER_EPISODE, PER_TOKEN).contains(lossNormalisation)) {
            throw new UnmaskException("lossNormalisation must be step, episode or token, got '" + lossNormalisation + "'");
        }
        if (!List.of("linear", "alpha").contains(rewardForm)) throw new UnmaskException("rewardForm must be linear or alpha, got '" + rewardForm + "'");
        nonNegative("rewardAlpha", rewardAlpha);
        if (!List.of("linear", "cosine").contains(lrSchedule)) throw new UnmaskException("lrSchedule must be linear or cosine, got '" + lrSchedule + "'");
        atLeast("warmupIterations", warmupIterations, 0);
        nonNegative("weightDecay", weightDecay);
        if (!(initThreshold >= 0 && initThreshold < 1)) throw new UnmaskException("initThreshold must be 0 (off) or a confidence in (0, 1), got " + initThreshold);
        if (initThreshold > 0 && !parsedFeatures.contains(PolicyFeatures.CONFIDENCE_LOGODDS)) {
            throw new UnmaskException("initThreshold needs the feature confidence_logodds: the fresh policy's threshold is drawn on it");
        }
        nonNegative("initFrontierSlope", initFrontierSlope);
        if (initFrontierSlope > 0 && initThreshold == 0) throw new UnmaskException("initFrontierSlope needs initThreshold: the slope raises the fresh policy's threshold");
        if (initFrontierSlope > 0 && !parsedFeatures.contains(PolicyFeatures.MASKED_BEFORE)) {
            throw new UnmaskException("initFrontierSlope needs the feature masked_before: the threshold rises with it");
        }
        nonNegative("initKnobGain", initKnobGain);
        if (initKnobGain > 0 && initThreshold == 0) throw new UnmaskException("initKnobGain needs initThreshold: the knob lowers the fresh policy's threshold");
        if (initKnobGain > 0 && !parsedFeatures.contains(PolicyFeatures.KNOB)) {
            throw new UnmaskException("initKnobGain needs the feature knob (and a knobRange): the threshold falls with it");
        }
        if (!List.of(FAST_UPDATE, FAST_ELIGIBLE_UPDATE, SAMEDIFF_UPDATE).contains(policyUpdate)) {
            throw new UnmaskException("policyUpdate must be fast, fast-eligible or samediff, got '" + policyUpdate + "'");
        }
        if (!List.of("block", "buffer").contains(policyContext)) throw new UnmaskException("policyContext must be block or buffer, got '" + policyContext + "'");
        if (knobRange == null) knobRange = List.of();
        knobRange = List.copyOf(knobRange);
        boolean readsKnob = parsedFeatures.contains(PolicyFeatures.KNOB);
        if (!knobRange.isEmpty()) {
            // an alpha is >= 0; a budget's knob is an offset from budgetCentre and may be negative (checked below)
            boolean offset = KNOB_BUDGET.equals(knobReward);
            if (knobRange.size() != 2 || !(offset ? Double.isFinite(knobRange.get(0)) : knobRange.get(0) >= 0) || !(knobRange.get(1) >= knobRange.get(0))
                    || !Double.isFinite(knobRange.get(1))) {
                throw new UnmaskException("knobRange must be [lo, hi] with " + (offset ? "" : "0 <= ") + "lo <= hi, got " + knobRange);
            }
            if (!readsKnob) throw new UnmaskException("knobRange is set but features do not list knob: the policy could not see the trade-off it is asked for");
        } else if (readsKnob) {
            throw new UnmaskException("features list knob but knobRange is empty: set knobRange: [lo, hi] (alphas to train for)");
        }
        // JSON without the budget keys (every config written before they existed, and any config at their defaults) reads as their defaults
        if (knobReward == null) knobReward = KNOB_ALPHA;
        if (budgetBins == null) budgetBins = 1;
        if (!List.of(KNOB_ALPHA, KNOB_BUDGET).contains(knobReward)) throw new UnmaskException("knobReward must be alpha or budget, got '" + knobReward + "'");
        atLeast("budgetBins", budgetBins, 1);
        nonNegative("budgetMultiplier", budgetMultiplier);
        nonNegative("budgetDualStep", budgetDualStep);
        if (!Double.isFinite(budgetCentre)) throw new UnmaskException("budgetCentre must be a finite number, got " + budgetCentre);
        if (knobReward.equals(KNOB_BUDGET)) {
            if (knobRange.isEmpty()) throw new UnmaskException("knobReward budget needs a knobRange: [lo, hi], the target NFEs to train for");
            if (!(budgetCentre + knobRange.get(0) > 0)) {
                throw new UnmaskException("knobReward budget needs budgetCentre + knobRange lo > 0 (the smallest target NFE), got " + budgetCentre + " + " + knobRange);
            }
            if (budgetMultiplier == 0 && budgetDualStep == 0) {
                throw new UnmaskException("knobReward budget needs budgetDualStep > 0 or budgetMultiplier > 0: with both 0 the budget is never enforced");
            }
        } else {
            for (Object[] kv : new Object[][]{{"budgetBins", budgetBins != 1}, {"budgetMultiplier", budgetMultiplier != 0}, {"budgetDualStep", budgetDualStep != 0},
                    {"budgetCentre", budgetCentre != 0}}) {
                if ((boolean) kv[1]) throw new UnmaskException(kv[0] + " is set but knobReward is " + knobReward + ": it only applies to knobReward budget");
            }
        }
    }

    /** Whether the knob is a target NFE ({@code knobReward: budget}) rather than the reward's alpha. */
    public boolean knobIsBudget() {
        return knobReward.equals(KNOB_BUDGET);
    }

    /** The target NFE a knob stands for under knobReward budget: budgetCentre + knob. */
    public double budgetOf(double knob) {
        return budgetCentre + knob;
    }

    /** JSON leaves out knobReward at its default, so configs written before the key existed read the same. */
    static final class OmitAlpha {
        @Override
        public boolean equals(Object o) {
            return KNOB_ALPHA.equals(o);
        }

        @Override
        public int hashCode() {
            return 0;
        }
    }

    /** JSON leaves out budgetBins at its default (boxed, so that JSON without it reads as 1, not 0). */
    static final class OmitOne {
        @Override
        public boolean equals(Object o) {
            return o instanceof Integer i && i == 1;
        }

        @Override
        public int hashCode() {
            return 0;
        }
    }

    /** JSON leaves out budgetMultiplier, budgetDualStep and budgetCentre at their default. */
    static final class OmitZero {
        @Override
        public boolean equals(Object o) {
            return o instanceof Double d && d == 0.0;
        }

        @Override
        public int hashCode() {
            return 0;
        }
    }

    private static void atLeast(String key, int value, int min) {
        if (value < min) throw new UnmaskException(key + " must be >= " + min + ", got " + value);
    }

    private static void positive(String key, double value) {
        if (!(value > 0) || !Double.isFinite(value)) throw new UnmaskException(key + " must be a finite number > 0, got " + value);
    }

    private static void nonNegative(String key, double value) {
        if (!(value >= 0) || !Double.isFinite(value)) throw new UnmaskException(key + " must be a finite number >= 0, got " + value);
    }

    private static void openUnit(String key, double value) {
        if (!(value > 0 && value < 1)) throw new UnmaskException(key + " must lie in (0, 1), got " + value);
    }

    private static void closedUnit(String key, double value) {
        if (!(value >= 0 && value <= 1)) throw new UnmaskException(key + " must lie in [0, 1], got " + value);
    }

    /** The config of {@link #DEFAULTS}. */
    public static TrainConfig defaults() {
        return DEFAULT;
    }

    /** The policy this config trains: its features, shape and context, initialised from the seed. */
    public PolicyConfig policyConfig() {
        return new PolicyConfig(features, dModel, heads, ffDim, seed, policyContext);
    }

    /**
     * The reward this config trains with (with a knob range, each prompt's rollouts use {@link Reward#alpha} of its knob instead,
     * or with knobReward budget {@link Reward#budget}).
     */
    public Reward reward() {
        return rewardForm.equals("alpha") ? Reward.alpha(rewardAlpha) : new Reward(speedWeight);
    }

    /**
     * The learning rate at an iteration: linear warm-up over warmupIterations, then the schedule
     * from learningRate down to a tenth of it at the last iteration.
     */
    public double learningRateAt(int iteration) {
        if (iteration < warmupIterations) return learningRate * (iteration + 1) / warmupIterations;
        int span = Math.max(1, iterations - warmupIterations);
        if (lrSchedule.equals("cosine")) {
            double progress = (double) (iteration - warmupIterations) / span;
            return learningRate * (0.1 + 0.9 * 0.5 * (1 + Math.cos(Math.PI * Math.min(1, progress))));
        }
        // the expression (and so the rounding) of every run before schedules existed, when warmupIterations is 0
        return learningRate * (1 - 0.9 * (iteration - warmupIterations) / (double) span);
    }

    /**
     * What would make continuing a run recorded with {@code recorded} under this config give other
     * results than the run itself would have: every key that differs, as "key (recorded -> this)".
     * Not counted: {@code checkpointEvery} (only when states are saved), {@code iterations} when it
     * grows (extending a run; the learning rate's linear decay is then spread over the new total),
     * and PPO's critic keys when both configs are GRPO.
     */
    public List<String> differencesThatChangeResults(TrainConfig recorded) {
        List<String> out = new java.util.ArrayList<>();
        boolean bothGrpo = algorithm.equals("grpo") && recorded.algorithm().equals("grpo");
        for (java.lang.reflect.RecordComponent c : TrainConfig.class.getRecordComponents()) {
            String key = c.getName();
            if (key.equals("checkpointEvery") || bothGrpo && List.of("valueCoef", "gamma", "gaeLambda").contains(key)) continue;
            Object was, now;
            try {
                was = c.getAccessor().invoke(recorded);
                now = c.getAccessor().invoke(this);
            } catch (ReflectiveOperationException e) {
                throw new IllegalStateException(e);
            }
            if (was.equals(now) || key.equals("iterations") && iterations > recorded.iterations()) continue;
            out.add(key + " (" + was + " -> " + now + (key.equals("iterations") ? ": may only grow" : "") + ")");
        }
        return out;
    }

    /**
     * The config a run recorded in its config.json. A key the file lacks takes the value runs had
     * before the key existed (lossNormalisation: step), not today's default, so old runs still
     * mean what they meant.
     */
    public static TrainConfig readRecorded(Path configJson) {
        try {
            JsonNode recorded = Json.MAPPER.readTree(configJson.toFile());
            if (recorded == null || !recorded.isObject()) throw new UnmaskException(configJson + " does not hold a training config");
            ObjectNode node = Json.MAPPER.valueToTree(defaults());
            BEFORE_THE_KEY_EXISTED.forEach((k, v) -> node.set(k, Json.MAPPER.valueToTree(v)));
            node.setAll((ObjectNode) recorded);
            return Json.MAPPER.treeToValue(node, TrainConfig.class);
        } catch (java.io.IOException e) {
            throw new UnmaskException("cannot read the recorded config " + configJson + ": " + e.getMessage().split("\n")[0]);
        }
    }
}
