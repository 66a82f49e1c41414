package dev.unmask.runs;

import dev.unmask.env.eval.EvalRow;
import org.junit.jupiter.api.Test;

import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;

class QuickstartSummaryTest {
    private static EvalRow row(String policy, String params, int block, double acc, double lo, double hi, double nfe) {
        return new EvalRow("lag48", block == 128 ? "full" : "semi-ar", block, 128, policy, params, 150, acc, lo, hi, nfe,
                nfe, nfe, nfe, 128 / nfe, 0, 0, 0, "d", 1, "test", null);
    }

    @Test
    void opensWithWhatWasComparedWhatWonAndWhereTheGainComesFrom() {
        List<EvalRow> rows = List.of(
                row("threshold", "threshold(tau=0.99)", 32, 0.807, 0.736, 0.862, 33.46),
                row("eb", "eb(gamma=0.1)", 32, 0.0, 0.0, 0.025, 20.0),
                row("learned", "learned(policy=p)", 32, 0.867, 0.803, 0.912, 34.9),
                row("threshold", "threshold(tau=0.99)", 128, 0.600, 0.520, 0.675, 28.21),
                row("threshold", "threshold(tau=0.998)", 128, 0.747, 0.672, 0.810, 33.77), // dearer than learned: not compared
                row("eb", "eb(gamma=0.1)", 128, 0.020, 0.007, 0.057, 19.4),
                row("frontier", "frontier(slope=24.0,tau=0.99)", 128, 0.847, 0.780, 0.896, 33.69),
                row("learned", "learned(policy=p)", 128, 0.853, 0.788, 0.901, 33.49));
        assertEquals("This run compared a policy trained with GRPO (3 iterations) against the published rules (threshold, eb, 3 settings) "
                + "on 150 held-out test prompts of lag48 (L = 128), in full diffusion and in semi-AR blocks of 32, counting NFE (dLLM forward passes per answer). "
                + "In full diffusion the learned policy beat the best published rule at no more NFE, 85.3% [78.8, 90.1] at 33.5 NFE against "
                + "threshold(tau=0.99) 60.0% [52.0, 67.5] at 28.2 NFE, +25.3 points (95% interval +15.4 to +34.6); and the published rules lose accuracy "
                + "in full diffusion: the largest gap is threshold(tau=0.99), 80.7% [73.6, 86.2] at 33.5 NFE with blocks of 32 against 60.0% [52.0, 67.5] "
                + "at 28.2 NFE in full diffusion, +20.7 points (95% interval +10.4 to +30.4). "
                + "The learned policy started as this project's frontier rule (frontier(slope=24.0,tau=0.99)), which alone reaches 84.7% [78.0, 89.6] "
                + "at 33.7 NFE here, and this run's 3 GRPO iterations moved it by +0.6 points (95% interval -7.5 to +8.8) and -0.2 NFE: "
                + "the gain comes from the policy's start, not from this run's training.",
                QuickstartSummary.sentences(rows, 32, "frontier(slope=24.0,tau=0.99)", 3));
    }

    @Test
    void creditsTrainingWhenItsIntervalIsAboveTheStart() {
        List<EvalRow> rows = List.of(
                row("frontier", "frontier(slope=24.0,tau=0.99)", 128, 0.50, 0.42, 0.58, 30),
                row("threshold", "threshold(tau=0.9)", 128, 0.20, 0.14, 0.27, 22),
                row("learned", "learned(policy=p)", 128, 0.80, 0.73, 0.86, 30));
        String s = QuickstartSummary.sentences(rows, 32, "frontier(slope=24.0,tau=0.99)", 1);
        assertEquals(true, s.endsWith("moved it by +30.0 points (95% interval +19.4 to +40.0) and +0.0 NFE: part of the gain comes from this run's training."), s);
    }
}
