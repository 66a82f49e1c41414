package dev.unmask.rollout;

import java.util.*;

/** How each algorithm turns episode rewards into per-step advantages. */
public final class Advantages {
    private Advantages() {
    }

    /**
     * GRPO: within each group of rollouts of the same prompt, A = (R - mean) / (std + 1e-6);
     * every step of an episode gets its episode's advantage. A group whose rewards are all equal
     * teaches nothing and gets A = 0.
     */
    public static void groupRelative(List<Trajectory> batch) {
        groupRelative(batch, true);
    }

    /** @param scaleByStd divide by the group's reward standard deviation (original GRPO) or only centre */
    public static void groupRelative(List<Trajectory> batch, boolean scaleByStd) {
        Map<Integer, List<Trajectory>> groups = new TreeMap<>();
        for (Trajectory t : batch) groups.computeIfAbsent(t.group, g -> new ArrayList<>()).add(t);
        for (List<Trajectory> g : groups.values()) {
            double mean = g.stream().mapToDouble(t -> t.reward).average().orElse(0);
            double var = g.stream().mapToDouble(t -> (t.reward - mean) * (t.reward - mean)).average().orElse(0);
            double std = Math.sqrt(var);
            for (Trajectory t : g) {
                double a = std < 1e-9 ? 0 : scaleByStd ? (t.reward - mean) / (std + 1e-6) : t.reward - mean;
                t.advantages = new double[t.steps.size()];
                Arrays.fill(t.advantages, a);
                t.returns = new double[t.steps.size()];
                Arrays.fill(t.returns, t.reward);
            }
        }
    }

    /**
     * PPO: generalised advantage estimation over the steps of each episode, the reward arriving at
     * the last step, V(terminal) = 0; returns = advantages + values (the critic's targets).
     * Advantages are then normalised over the whole batch.
     */
    public static void gae(List<Trajectory> batch, double gamma, double lambda) {
        List<Double> all = new ArrayList<>();
        for (Trajectory t : batch) {
            int n = t.steps.size();
            t.advantages = new double[n];
            t.returns = new double[n];
            double next = 0, running = 0;
            for (int k = n - 1; k >= 0; k--) {
                double v = t.steps.get(k).value();
                double r = k == n - 1 ? t.reward : 0;
                double delta = r + gamma * next - v;
                running = delta + gamma * lambda * running;
                t.advantages[k] = running;
                t.returns[k] = running + v;
                next = v;
            }
            for (double a : t.advantages) all.add(a);
        }
        double mean = all.stream().mapToDouble(Double::doubleValue).average().orElse(0);
        double std = Math.sqrt(all.stream().mapToDouble(a -> (a - mean) * (a - mean)).average().orElse(0));
        for (Trajectory t : batch) for (int k = 0; k < t.advantages.length; k++) t.advantages[k] = (t.advantages[k] - mean) / (std + 1e-8);
    }
}
