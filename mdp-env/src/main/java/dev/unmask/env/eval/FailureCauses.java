package dev.unmask.env.eval;

import dev.unmask.env.denoiser.Vocabulary;
import dev.unmask.env.mdp.EpisodeResult;
import dev.unmask.env.task.Task;

import java.util.List;

/**
 * Why a decoded answer is wrong, judged at its first token that differs from the reference
 * (padded with EOS to the buffer):
 * <ul>
 *   <li>{@link Cause#EARLY_EOS}: that token is an EOS, so the answer was cut short;</li>
 *   <li>{@link Cause#BEFORE_ITS_DEPENDENCY}: it was written no later than some token of the step
 *   before it (in the same forward pass or earlier), so the model wrote it without seeing what it
 *   is computed from;</li>
 *   <li>{@link Cause#OTHER}: every token of the step before was already written: a plain error
 *   (or a first step, which depends on the prompt only).</li>
 * </ul>
 * A missing EOS after a right trace counts as a wrong token at the reference's end, whose step
 * before is the trace's last.
 */
public final class FailureCauses {
    public enum Cause { EARLY_EOS, BEFORE_ITS_DEPENDENCY, OTHER }

    public record Counts(int n, int wrong, int earlyEos, int beforeItsDependency, int other) {
    }

    private FailureCauses() {
    }

    /** The cause of a wrong episode; null for a right one. */
    public static Cause of(EpisodeResult e, Task task, Vocabulary vocab) {
        if (e.correct()) return null;
        int[] ref = vocab.encode(e.example().answer());
        int[] buffer = e.buffer();
        int first = -1;
        for (int i = 0; i < buffer.length && first < 0; i++) {
            int want = i < ref.length ? ref[i] : vocab.eosId();
            if (buffer[i] != want) first = i;
        }
        if (first < 0) return Cause.OTHER; // the tokens match but the verifier disagrees (cannot happen for unique traces)
        if (first < ref.length && buffer[first] == vocab.eosId()) return Cause.EARLY_EOS;
        int[] stepOf = task.stepOfEachToken(e.example().answer());
        if (stepOf.length != ref.length) return Cause.OTHER; // multi-character tokens: no token-level steps
        int step = first < ref.length ? stepOf[first] : stepOf[ref.length - 1] + 1;
        if (step == 0) return Cause.OTHER;
        int[] at = e.unmaskedAtStep();
        for (int j = 0; j < ref.length; j++) {
            if (stepOf[j] == step - 1 && at[j] >= at[first]) return Cause.BEFORE_ITS_DEPENDENCY;
        }
        return Cause.OTHER;
    }

    public static Counts count(List<EpisodeResult> episodes, Task task, Vocabulary vocab) {
        int wrong = 0, eos = 0, before = 0, other = 0;
        for (EpisodeResult e : episodes) {
            Cause c = of(e, task, vocab);
            if (c == null) continue;
            wrong++;
            switch (c) {
                case EARLY_EOS -> eos++;
                case BEFORE_ITS_DEPENDENCY -> before++;
                case OTHER -> other++;
            }
        }
        return new Counts(episodes.size(), wrong, eos, before, other);
    }
}
