package dev.unmask.runs;

import dev.unmask.env.UnmaskException;
import dev.unmask.heuristics.PolicySpec;

import java.util.ArrayList;
import java.util.List;

/**
 * Expands policy specs into concrete ones: {@code threshold:tau=0.5|0.9} is two specs, and the
 * word {@code baseline} is every heuristic with its parameter swept (step budgets as fractions
 * of the buffer length L, so one grid serves every L).
 */
public final class PolicyGrid {
    /**
     * What a heuristic spec runs with where it leaves a parameter out (Heuristics' defaults; a test
     * keeps the two in step), for the --policies help of eval and sweep.
     */
    public static final String DEFAULTS_HELP = "Parameters left out take these defaults: topk, margin, entropy, random: steps=64; "
            + "threshold: tau=0.9; frontier: tau=0.99, slope=12, fallback=0; factor: f=1; eb: gamma=0.1; "
            + "klass: conf=0.6, kl=0.015, history=2, steps=64.";

    private PolicyGrid() {
    }

    public static List<String> baseline(int genLength) {
        List<String> out = new ArrayList<>();
        for (int div : new int[]{1, 2, 4, 8}) out.add("topk:steps=" + genLength / div);
        for (String rule : new String[]{"margin", "entropy", "random"}) {
            out.add(rule + ":steps=" + genLength);
            out.add(rule + ":steps=" + genLength / 4);
        }
        for (String tau : new String[]{"0.5", "0.7", "0.8", "0.9", "0.95", "0.99"}) out.add("threshold:tau=" + tau);
        for (String f : new String[]{"0.25", "0.5", "1.0", "2.0"}) out.add("factor:f=" + f);
        for (String g : new String[]{"0.01", "0.1", "0.5", "1.0"}) out.add("eb:gamma=" + g);
        for (String c : new String[]{"0.6", "0.9"}) out.add("klass:conf=" + c + ",kl=0.015,history=2,steps=" + genLength);
        return out;
    }

    public static List<String> expand(List<String> specs, int genLength) {
        List<String> out = new ArrayList<>();
        for (String spec : specs) {
            if (spec.equals("baseline")) {
                out.addAll(baseline(genLength));
                continue;
            }
            int eq = spec.lastIndexOf('=');
            if (eq < 0 || !spec.substring(eq).contains("|")) {
                out.add(spec);
                continue;
            }
            String head = spec.substring(0, eq + 1);
            // -1: keep trailing empty alternatives ("tau=0.5|"), which split would drop silently
            for (String v : spec.substring(eq + 1).split("\\|", -1)) {
                if (v.isBlank()) throw new UnmaskException("empty alternative in policy spec '" + spec + "': give a value between every pair of |");
                out.add(head + v.trim());
            }
        }
        return out;
    }

    /** Whether a fixed step budget fits the block structure (a multiple of the number of blocks). */
    public static boolean fits(String spec, int genLength, int blockLength) {
        String given = PolicySpec.parse(spec).value("steps");
        if (given == null) return true;
        double steps = Double.parseDouble(given);
        int blocks = genLength / blockLength;
        return steps >= blocks && steps % blocks == 0;
    }
}
