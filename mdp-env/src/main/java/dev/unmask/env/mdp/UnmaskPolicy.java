package dev.unmask.env.mdp;

import java.util.Map;

/**
 * Decides, at each step, which eligible positions of each episode to unmask. Heuristics and
 * learned policies implement this one interface, so the evaluation harness cannot tell them apart.
 *
 * <p>An implementation may return an empty selection for a row; the environment then unmasks
 * its deterministic fallback (the most confident eligible position) and records that it did. A
 * policy that falls back by itself (its rule chose nothing, so it picks a position) says so with
 * {@link StepObservation#fallbacks()}, and the step is counted the same way.
 */
public interface UnmaskPolicy {
    /** A short stable name, e.g. "threshold". */
    String name();

    /** Its parameters, for result tables (e.g. {tau: 0.9}). */
    Map<String, Object> params();

    /** @return actions[row][position in buffer]; only eligible positions may be true */
    boolean[][] select(StepObservation obs);

    /**
     * How many past steps of per-position KL divergence this policy reads from
     * {@link StepObservation#recentKl()}; 0 (the default) lets the environment skip computing full
     * distributions at every step.
     */
    default int klHistory() {
        return 0;
    }

    /**
     * Whether this policy reads the dLLM's hidden-state features ({@link StepObservation#hidden()});
     * false (the default) lets the environment skip them.
     */
    default boolean readsHidden() {
        return false;
    }

    /** "name(k=v,...)" as used in tables. */
    default String label() {
        if (params().isEmpty()) return name();
        StringBuilder sb = new StringBuilder(name()).append('(');
        new java.util.TreeMap<>(params()).forEach((k, v) -> sb.append(sb.charAt(sb.length() - 1) == '(' ? "" : ",").append(k).append('=').append(v));
        return sb.append(')').toString();
    }
}
