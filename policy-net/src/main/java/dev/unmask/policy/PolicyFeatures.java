package dev.unmask.policy;

import dev.unmask.env.UnmaskException;
import dev.unmask.env.denoiser.HiddenFeatures;
import dev.unmask.env.mdp.StepObservation;

import java.util.List;

/**
 * The per-position inputs a policy can be given. Confidence comes first and is the paper's only
 * dLLM-derived input (what lets one policy transfer across dLLMs); the others are optional.
 * Positions that are not eligible get zeros (they are masked out of attention and never chosen).
 */
public enum PolicyFeatures {
    /** p(top-1) of the dLLM at the position. */
    CONFIDENCE,
    /**
     * ln(c / (1 - c)) of the confidence c, with 1 - c floored at 1e-6. Confidences of a good dLLM
     * crowd near 1 (0.9, 0.99, 0.999 are very different bets); log-odds spread them out so a
     * linear embedding can tell them apart. Still a function of confidence only.
     */
    CONFIDENCE_LOGODDS,
    /** p(top-1) - p(top-2). */
    MARGIN,
    /** entropy of the dLLM's distribution, divided by ln(V), V the dLLM's vocabulary size, to stay in [0, 1]. */
    ENTROPY,
    /** fraction of the active block still masked. */
    MASKED_FRACTION,
    /** steps spent in the active block / block length. */
    STEP_FRACTION,
    /** 1 where the position is still masked, 0 where it holds a token (for policies that see the whole buffer). */
    MASK_BIT,
    /** steps taken in the whole episode / buffer length L: the paper's step fraction t. */
    BUFFER_STEP_FRACTION,
    /**
     * Masked positions of the generation buffer before this one / L: 0 at the leftmost masked
     * position (where the answer is being written), growing to the right. The mask bits of the
     * buffer say as much, but a single attention layer has to learn to count them; for tasks
     * written left to right (each step needs the one before) it is the distance to the frontier.
     */
    MASKED_BEFORE,
    /**
     * The speed/accuracy knob the policy is asked to serve: the exponent alpha of the reward
     * correct * ((L - min(NFE, L) + 1) / L)^alpha (0 = only correctness counts, larger = faster).
     * Drawn per prompt in training; set per evaluation by the policy spec ({@code knob=VALUE}).
     * The same value at every position.
     */
    KNOB,
    /**
     * 1 where the dLLM's most probable token at the position is the end-of-sequence token, else 0.
     * Not a function of confidence: it lets a policy treat "the answer ends here" apart from a
     * digit (in full diffusion the confidence rules' main failure is an early EOS run).
     */
    TOP_IS_EOS,
    /**
     * The dLLM's last hidden layer at the position, projected to {@link HiddenFeatures#WIDTH}
     * numbers ({@link HiddenFeatures}); HIDDEN_k is the k-th. Given at every position, written or
     * not (a written token's state is context). Only dLLMs that offer hidden states can serve a
     * policy that reads them: the built-in dLLM on the onnxruntime and fast engines, a foreign ONNX
     * dLLM whose descriptor names its hidden output (not the samediff engine, not the key/value cache).
     */
    HIDDEN_0, HIDDEN_1, HIDDEN_2, HIDDEN_3, HIDDEN_4, HIDDEN_5, HIDDEN_6, HIDDEN_7;

    public static List<PolicyFeatures> parse(List<String> names) {
        if (names.isEmpty()) throw new UnmaskException("a policy needs at least one feature");
        return names.stream().map(n -> {
            try {
                return valueOf(n.trim().toUpperCase());
            } catch (IllegalArgumentException e) {
                throw new UnmaskException("unknown policy feature '" + n + "' (known: confidence, confidence_logodds, margin, entropy, masked_fraction, step_fraction, mask_bit, buffer_step_fraction, masked_before, knob, top_is_eos, hidden_0 ... hidden_7)");
            }
        }).toList();
    }

    /**
     * The feature's value at buffer position {@code pos} of a row, given how many positions of the
     * active block are eligible. Public so ND4J-free runners (ONNX export) build the same inputs.
     */
    public float value(StepObservation o, int row, int pos, int maskedInBlock) {
        return value(o, row, pos, maskedInBlock, Float.NaN);
    }

    /** As above, with the row's knob (NaN when none was given: then {@link #KNOB} is an error). */
    public float value(StepObservation o, int row, int pos, int maskedInBlock, float knob) {
        return switch (this) {
            case KNOB -> {
                if (Float.isNaN(knob)) throw new UnmaskException("the policy reads the knob feature but no knob was given (set knob=VALUE in the policy spec)");
                yield knob;
            }
            case CONFIDENCE, CONFIDENCE_LOGODDS -> ofConfidence(o.confidence()[row][pos]);
            case MARGIN -> o.margin()[row][pos];
            case ENTROPY -> {
                if (o.vocabularySize() < 2) throw new UnmaskException("the policy reads entropy but the observation does not say the dLLM's vocabulary size");
                yield (float) (o.entropy()[row][pos] / Math.log(o.vocabularySize()));
            }
            case MASKED_FRACTION -> (float) maskedInBlock / o.blockLength();
            case STEP_FRACTION -> (float) o.stepInBlock()[row] / o.blockLength();
            case MASK_BIT -> o.masked()[row][pos] ? 1f : 0f;
            case TOP_IS_EOS -> {
                if (o.topIsEos() == null) throw new UnmaskException("the policy reads top_is_eos but the observation does not say where the top token is EOS");
                yield o.topIsEos()[row][pos] ? 1f : 0f;
            }
            case BUFFER_STEP_FRACTION -> (float) o.step()[row] / o.genLength();
            case MASKED_BEFORE -> {
                int before = 0;
                for (int i = 0; i < pos; i++) if (o.masked()[row][i]) before++;
                yield (float) before / o.genLength();
            }
            case HIDDEN_0, HIDDEN_1, HIDDEN_2, HIDDEN_3, HIDDEN_4, HIDDEN_5, HIDDEN_6, HIDDEN_7 -> {
                if (o.hidden() == null) throw new UnmaskException("the policy reads " + name().toLowerCase() + " but the observation carries no hidden-state features");
                yield o.hidden()[row][pos * HiddenFeatures.WIDTH + (ordinal() - HIDDEN_0.ordinal())];
            }
        };
    }

    /** Whether the feature is one of the dLLM's hidden-state features. */
    public boolean isHidden() {
        return ordinal() >= HIDDEN_0.ordinal();
    }

    /** Whether the feature is one of the dLLM's statistics at the position, defined only where it is masked (0 elsewhere). */
    public boolean isDllmStatistic() {
        return this == CONFIDENCE || this == CONFIDENCE_LOGODDS || this == MARGIN || this == ENTROPY || this == TOP_IS_EOS;
    }

    /** Whether the feature is a function of the position's confidence alone, so a caller that has only confidences can supply it. */
    public boolean derivesFromConfidence() {
        return this == CONFIDENCE || this == CONFIDENCE_LOGODDS;
    }

    /** The value of a feature that {@link #derivesFromConfidence()}, given the confidence c. */
    public float ofConfidence(float c) {
        return switch (this) {
            case CONFIDENCE -> c;
            case CONFIDENCE_LOGODDS -> logOdds(c);
            default -> throw new IllegalStateException(this + " is not a function of the confidence alone");
        };
    }

    /** ln(c / (1 - c)) with 1 - c floored at 1e-6 (so c = 1 gives about 13.8). */
    public static float logOdds(float c) {
        double q = Math.max(1e-6, 1.0 - c);
        return (float) Math.log(c / q);
    }
}
