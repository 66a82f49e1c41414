package dev.unmask.runs;

import dev.unmask.dllm.onnx.Denoisers;
import dev.unmask.env.io.Checksums;
import dev.unmask.env.mdp.Reward;
import dev.unmask.policy.PolicyProvenance;
import dev.unmask.rollout.TrainConfig;

import java.nio.file.Path;
import java.util.Map;

/** The provenance {@code unmask train} stores with the policy it writes. */
public final class TrainingProvenance {
    private TrainingProvenance() {
    }

    /**
     * @param dllm           the dLLM path as given (checkpoint folder, ONNX export folder or descriptor)
     * @param iterationsDone iterations the policy has been trained for
     */
    public static PolicyProvenance of(TrainConfig config, Path dllm, int iterationsDone) {
        Map<String, Object> code = RunManifest.codeVersion();
        return new PolicyProvenance(Checksums.sha256(Denoisers.weightsFile(dllm)), dllm.toString(), config.task(), config.genLength(),
                config.blockLength(), rewardAsTrained(config), config.knobRange().isEmpty() ? null : config.knobRange(), config.features(),
                config.algorithm(), config.seed(), iterationsDone, (String) code.get("git_commit"), (Boolean) code.get("git_dirty"), null, null);
    }

    /**
     * The reward a run with this config trains with: the config's reward, or with a knob range the
     * alpha form with each prompt's alpha drawn from it (or, when the knob is a budget, the budget form
     * with its multipliers' settings); a control run says its rewards are shuffled.
     */
    public static String rewardAsTrained(TrainConfig config) {
        String reward = config.knobRange().isEmpty() ? config.reward().formula()
                : config.knobIsBudget() ? Reward.budgetFormula(config.budgetOf(config.knobRange().get(0)), config.budgetOf(config.knobRange().get(1)),
                (config.budgetCentre() == 0 ? "" : "the knob is B - " + config.budgetCentre() + "; ") + config.budgetBins()
                + " bin(s) over the range, each starting at " + config.budgetMultiplier() + " and moved after every iteration by "
                + config.budgetDualStep() + " * its rollouts' mean (nfe - B) / B, floored at 0")
                : Reward.knobFormula(config.knobRange().get(0), config.knobRange().get(1));
        // a control run learns from permuted rewards: its policy must not pass for a real one
        if (config.shuffleRewards()) reward += PolicyProvenance.SHUFFLED_REWARD;
        return reward;
    }
}
