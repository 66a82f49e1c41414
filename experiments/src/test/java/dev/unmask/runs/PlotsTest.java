package dev.unmask.runs;

import dev.unmask.env.eval.EvalRow;
import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.assertEquals;

class PlotsTest {
    private static EvalRow row(String policy, String params) {
        return new EvalRow("lag48", "full", 128, 128, policy, params, 100, 0.5, 0.4, 0.6, 30, 30, 30, 30, 4, 0, 0, 0, "d", 1, "test", null);
    }

    @Test
    void aKnobSweepIsACurveOfItsOwnAndOtherLearnedPointsShareOne() {
        assertEquals("threshold", Plots.seriesName(row("threshold", "threshold(tau=0.9)")));
        assertEquals("frontier", Plots.seriesName(row("frontier", "frontier(slope=48.0,tau=0.9)")));
        assertEquals("frontier fallback=1", Plots.seriesName(row("frontier", "frontier(fallback=1.0,slope=48.0,tau=0.9)")));
        assertEquals("learned", Plots.seriesName(row("learned", "learned(mode=greedy,policy=results/frontier/attempt-lag48-g/policy,temp=1.0)")));
        assertEquals("learned knob: attempt-knob2",
                Plots.seriesName(row("learned", "learned(knob=2.0,mode=greedy,policy=results/frontier/attempt-knob2/policy,temp=1.0)")));
        assertEquals("learned knob: exported",
                Plots.seriesName(row("learned", "learned(mode=greedy,policy=runs/exported,temp=1.0,knob=8.0)")));
    }
}
