package dev.unmask.rollout;

import dev.unmask.env.mdp.EpisodeResult;
import dev.unmask.env.task.Example;

import java.util.ArrayList;
import java.util.List;

/**
 * One episode: its steps in order, the outcome, and what the trainer assigns per step: advantages,
 * returns, and (with a KL penalty) the reference policy's log-probability of each recorded sample.
 */
public final class Trajectory {
    public final Example example;
    public final int group;
    public final List<StepSample> steps = new ArrayList<>();
    public EpisodeResult result;
    public double reward;
    public double[] advantages;
    public double[] returns;
    public double[] refLogProbs;

    Trajectory(Example example, int group) {
        this.example = example;
        this.group = group;
    }
}
