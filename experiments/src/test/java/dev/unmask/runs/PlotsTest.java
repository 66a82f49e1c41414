package dev.unmask.runs;

import dev.unmask.env.eval.EvalRow;
import org.junit.jupiter.api.Test;

import java.util.List;

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

    /** The knob plot needs a knob curve (two knob settings or more) and the threshold sweep to read it against. */
    @Test
    void theKnobPlotNeedsTwoKnobPointsAndTheThresholdSweep() {
        EvalRow knob2 = row("learned", "learned(knob=2.0,mode=greedy,policy=runs/k/policy,temp=1.0)");
        EvalRow knob8 = row("learned", "learned(knob=8.0,mode=greedy,policy=runs/k/policy,temp=1.0)");
        EvalRow lone = row("learned", "learned(knob=6.0,mode=greedy,policy=runs/other/policy,temp=1.0)");
        EvalRow t5 = row("threshold", "threshold(tau=0.5)"), t9 = row("threshold", "threshold(tau=0.9)");
        EvalRow plain = row("learned", "learned(mode=greedy,policy=runs/p/policy,temp=1.0)");
        assertEquals(List.of(), Plots.knobComparison(List.of(knob2, t5, t9)), "one knob point is no curve");
        assertEquals(List.of(), Plots.knobComparison(List.of(knob2, knob8)), "no threshold sweep to compare with");
        assertEquals(List.of(), Plots.knobComparison(List.of(knob2, knob8, t9)), "one threshold point is no sweep");
        assertEquals(List.of(knob2, knob8, t5, t9), Plots.knobComparison(List.of(knob2, knob8, lone, t5, t9, plain)),
                "the curve and the sweep; a knob policy seen at one point and other policies are left out");
    }
}
