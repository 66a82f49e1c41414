package dev.unmask.rollout;

import dev.unmask.policy.PolicyWindow;
import dev.unmask.env.mdp.StepObservation;
import dev.unmask.env.mdp.UnmaskingEnv;
import dev.unmask.env.task.Example;
import dev.unmask.policy.LearnedPolicy;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

/**
 * Runs a batch of episodes under the sampling policy and records every decision. The whole batch
 * shares each dLLM forward pass and each policy forward pass; finished episodes drop out.
 */
public final class RolloutCollector {
    private RolloutCollector() {
    }

    /** Timing of one collection, to say what dominates training. */
    public record Timing(long dllmNanos, long totalNanos) {
    }

    public static Timing collect(UnmaskingEnv env, LearnedPolicy policy, List<Trajectory> trajectories, long seed, boolean withValues) {
        long t0 = System.nanoTime(), dllm0 = env.forwardNanos();
        List<Example> prompts = new ArrayList<>();
        for (Trajectory t : trajectories) prompts.add(t.example);
        env.trackHidden(policy.readsHidden());
        env.reset(prompts, seed);
        while (!env.done()) {
            StepObservation obs = env.observe();
            LearnedPolicy.StepDecisions sd = policy.decideAll(obs, withValues);
            PolicyWindow win = sd.window();
            int w = win.width(), f = win.features().length / (win.rows() * w);
            boolean[][] actions = new boolean[obs.rows()][];
            for (int r = 0; r < obs.rows(); r++) {
                LearnedPolicy.Decision d = sd.decisions()[r];
                actions[r] = d.action();
                trajectories.get(obs.episodeIds()[r]).steps.add(new StepSample(
                        Arrays.copyOfRange(win.features(), r * w * f, (r + 1) * w * f),
                        Arrays.copyOfRange(win.keyBias(), r * w, (r + 1) * w),
                        win.eligible()[r].clone(), d.sampled(), d.logProb(), withValues ? sd.values()[r] : 0f));
            }
            env.step(actions);
        }
        var results = env.results();
        for (int i = 0; i < trajectories.size(); i++) {
            trajectories.get(i).result = results.get(i);
            trajectories.get(i).reward = results.get(i).reward();
        }
        return new Timing(env.forwardNanos() - dllm0, System.nanoTime() - t0);
    }
}
