package dev.unmask.env.eval;

import com.fasterxml.jackson.annotation.JsonProperty;
import com.fasterxml.jackson.annotation.JsonPropertyOrder;

import java.util.List;
import java.util.Locale;

/**
 * One configuration's result: the columns of results tables (CSV, JSON, Markdown).
 * accuracy's 95% interval is Wilson's score interval; split says which prompts (validation or test) it was measured on.
 * policy_dllm names the dLLM a learned policy was trained against (its path and weights checksum
 * as the policy recorded them), so a transferred policy shows as one; null for the rules.
 */
@JsonPropertyOrder({"task", "mode", "block_length", "gen_length", "policy", "policy_params", "n", "accuracy", "acc_ci_low",
        "acc_ci_high", "mean_nfe", "nfe_p10", "nfe_p50", "nfe_p90", "tokens_per_step", "mean_reward", "fallback_steps", "wall_ms", "dllm", "seed", "split", "policy_dllm"})
public record EvalRow(@JsonProperty("task") String task, @JsonProperty("mode") String mode,
                      @JsonProperty("block_length") int blockLength, @JsonProperty("gen_length") int genLength,
                      @JsonProperty("policy") String policy, @JsonProperty("policy_params") String policyParams,
                      @JsonProperty("n") int n, @JsonProperty("accuracy") double accuracy,
                      @JsonProperty("acc_ci_low") double accCiLow, @JsonProperty("acc_ci_high") double accCiHigh,
                      @JsonProperty("mean_nfe") double meanNfe, @JsonProperty("nfe_p10") double nfeP10,
                      @JsonProperty("nfe_p50") double nfeP50, @JsonProperty("nfe_p90") double nfeP90,
                      @JsonProperty("tokens_per_step") double tokensPerStep, @JsonProperty("mean_reward") double meanReward,
                      @JsonProperty("fallback_steps") long fallbackSteps, @JsonProperty("wall_ms") long wallMs,
                      @JsonProperty("dllm") String dllm, @JsonProperty("seed") long seed,
                      @JsonProperty("split") String split,
                      @JsonProperty("policy_dllm") String policyDllm) {

    /** Rows written before the validation split existed carry no split: they were all measured on test prompts. */
    public EvalRow {
        if (split == null) split = "test";
    }

    public static final List<String> COLUMNS = List.of("task", "mode", "block_length", "gen_length", "policy", "policy_params", "n",
            "accuracy", "acc_ci_low", "acc_ci_high", "mean_nfe", "nfe_p10", "nfe_p50", "nfe_p90", "tokens_per_step", "mean_reward",
            "fallback_steps", "wall_ms", "dllm", "seed", "split", "policy_dllm");

    public List<String> csvValues() {
        return List.of(task, mode, Integer.toString(blockLength), Integer.toString(genLength), policy, policyParams, Integer.toString(n),
                f(accuracy), f(accCiLow), f(accCiHigh), f(meanNfe), f(nfeP10), f(nfeP50), f(nfeP90), f(tokensPerStep), f(meanReward),
                Long.toString(fallbackSteps), Long.toString(wallMs), dllm, Long.toString(seed), split, policyDllm == null ? "" : policyDllm);
    }

    /** This row with the dLLM its (learned) policy was trained against. */
    public EvalRow withPolicyDllm(String trainedOn) {
        return new EvalRow(task, mode, blockLength, genLength, policy, policyParams, n, accuracy, accCiLow, accCiHigh, meanNfe, nfeP10,
                nfeP50, nfeP90, tokensPerStep, meanReward, fallbackSteps, wallMs, dllm, seed, split, trainedOn);
    }

    private static String f(double v) {
        return String.format(Locale.ROOT, "%.4f", v);
    }

    /** Wilson score interval for k successes out of n at 95%. */
    public static double[] wilson(int k, int n) {
        if (n == 0) return new double[]{0, 1};
        double z = 1.959963984540054, p = (double) k / n;
        double denom = 1 + z * z / n;
        double centre = (p + z * z / (2 * n)) / denom;
        double half = z * Math.sqrt(p * (1 - p) / n + z * z / (4.0 * n * n)) / denom;
        return new double[]{Math.max(0, centre - half), Math.min(1, centre + half)};
    }
}
