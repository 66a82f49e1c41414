package dev.unmask.runs;

import dev.unmask.policy.PolicyProvenance;
import dev.unmask.policy.PolicyCheckpoint;
import dev.unmask.policy.graph.PolicyNet;
import dev.unmask.env.UnmaskException;
import dev.unmask.env.io.Checksums;
import dev.unmask.env.mdp.UnmaskPolicy;
import dev.unmask.heuristics.Heuristics;
import dev.unmask.heuristics.PolicySpec;
import dev.unmask.policy.JavaPolicyNet;
import dev.unmask.policy.LearnedPolicy;
import dev.unmask.policy.PolicyModel;
import dev.unmask.policy.PolicyFeatures;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;

/**
 * Any policy from a spec ({@link PolicySpec}): a heuristic ({@code threshold:tau=0.9}) or a trained checkpoint
 * ({@code learned:path=runs/p1/policy,temp=1.0,mode=greedy}). Learned policies run greedy
 * (unmask where p >= 0.5) unless mode=sample; temp divides the logits; runtime=java runs the
 * plain-Java network instead of the SameDiff graph (its rows' labels then say runtime=java).
 */
public final class Policies {
    private Policies() {
    }

    public static UnmaskPolicy parse(String spec) {
        if (!spec.startsWith("learned")) return Heuristics.parse(spec);
        String path = null, mode = "greedy", runtime = "samediff";
        double temp = 1.0, knob = Double.NaN;
        for (PolicySpec.Param p : PolicySpec.parse(spec).params()) {
            if (!p.isPair()) throw new UnmaskException("learned policy spec: expected key=value, got '" + p.text() + "'");
            switch (p.key()) {
                case "path" -> path = p.value();
                case "temp" -> temp = p.number("learned policy spec: ");
                case "mode" -> mode = p.value();
                case "knob" -> knob = p.number("learned policy spec: ");
                case "runtime" -> runtime = p.value();
                default -> throw new UnmaskException("learned policy spec: unknown key '" + p.rawKey() + "' (known: path, temp, mode, knob, runtime)");
            }
        }
        if (path == null) throw new UnmaskException("learned policy spec needs path=CHECKPOINT, e.g. learned:path=runs/p1/policy");
        if (!mode.equals("greedy") && !mode.equals("sample")) throw new UnmaskException("learned policy mode must be greedy or sample, got '" + mode + "'");
        if (!runtime.equals("samediff") && !runtime.equals("java")) {
            throw new UnmaskException("learned policy runtime must be samediff (the default: the graph committed rows ran on) or java (the plain-Java network), got '" + runtime + "'");
        }
        PolicyModel net = runtime.equals("java") ? JavaPolicyNet.load(Path.of(path)) : PolicyNet.load(Path.of(path));
        boolean readsKnob = net.config().parsedFeatures().contains(PolicyFeatures.KNOB);
        if (readsKnob && Double.isNaN(knob)) throw new UnmaskException("learned policy " + path + " is conditioned on a knob: give it one, e.g. learned:path=" + path + ",knob=1.0");
        if (!readsKnob && !Double.isNaN(knob)) throw new UnmaskException("learned policy " + path + " reads no knob (its features: " + net.config().features() + "); drop knob=");
        LearnedPolicy policy = new LearnedPolicy(net, temp, mode.equals("sample"), Path.of(path).toString());
        if (!readsKnob) return policy;
        policy = policy.withKnob(knob);
        // a grid parses a spec once per cell: say it once
        knobOutsideRange(Path.of(path), knob).filter(WARNED::add).ifPresent(System.err::println);
        return policy;
    }

    private static final java.util.Set<String> WARNED = java.util.concurrent.ConcurrentHashMap.newKeySet();

    /**
     * A warning line when {@code knob} lies outside the knob range the policy at {@code checkpoint}
     * was trained on (its provenance's knob_range), or empty when it lies inside or no range is recorded.
     */
    public static java.util.Optional<String> knobOutsideRange(Path checkpoint, double knob) {
        return PolicyCheckpoint.provenance(checkpoint).filter(p -> p.knobOutsideRange(knob)).map(p -> "warning: knob=" + knob + " lies outside ["
                + p.knobRange().get(0) + ", " + p.knobRange().get(1) + "], the knob range " + checkpoint
                + " was trained on: its behaviour there is an extrapolation, not a trade-off it learned");
    }

    /** SHA-256 over a learned spec's checkpoint (weights, then config), or null for a heuristic. */
    public static String checksum(String spec) {
        Path dir = checkpointOf(spec);
        if (dir == null) return null;
        String both = Checksums.sha256(dir.resolve(PolicyCheckpoint.WEIGHTS)) + Checksums.sha256(dir.resolve(PolicyCheckpoint.CONFIG));
        return Checksums.sha256(both.getBytes(java.nio.charset.StandardCharsets.UTF_8));
    }

    /**
     * The dLLM a learned spec's policy was trained against, as its provenance records it (path and
     * weights SHA-256 prefix, the form of a row's dllm column), "unrecorded" for a checkpoint saved
     * without provenance, or null for a heuristic.
     */
    public static String trainedOn(String spec) {
        Path dir = checkpointOf(spec);
        if (dir == null) return null;
        return PolicyCheckpoint.provenance(dir)
                .map(p -> p.dllmPath() + " weights-sha256=" + p.dllmSha256().substring(0, Math.min(16, p.dllmSha256().length())))
                .orElse("unrecorded");
    }

    /**
     * One line saying how a learned policy's training differs from the evaluation it is used in
     * (dLLM, task, buffer length), or null when it does not or the spec is a heuristic. A transfer is
     * allowed; it must not pass unnoticed.
     */
    public static String mismatch(String spec, Path dllm, String dllmSha256, String task, int genLength) {
        Path dir = checkpointOf(spec);
        if (dir == null) return null;
        PolicyProvenance p = PolicyCheckpoint.provenance(dir).orElse(null);
        if (p == null) {
            return "policy " + dir + " records no provenance: the dLLM, task and buffer length it was trained on cannot be checked against this evaluation's";
        }
        boolean sameDllm = dllmSha256.equals(p.dllmSha256()), sameTask = task.equals(p.task()), sameLength = genLength == p.genLength();
        if (sameDllm && sameTask && sameLength) return null;
        List<String> differs = new ArrayList<>();
        if (!sameDllm) differs.add("dLLM");
        if (!sameTask) differs.add("task");
        if (!sameLength) differs.add("buffer length");
        return String.format(Locale.ROOT, "policy %s was trained on dLLM %s (weights sha256 %s), task %s, L=%d; this evaluation runs dLLM %s (weights sha256 %s), task %s, L=%d (%s)",
                dir, p.dllmPath(), abbreviate(p.dllmSha256()), p.task(), p.genLength(), dllm, abbreviate(dllmSha256), task, genLength,
                String.join(" and ", differs) + (differs.size() == 1 ? " differs" : " differ"));
    }

    private static String abbreviate(String sha) {
        return sha == null ? "unknown" : sha.substring(0, Math.min(12, sha.length()));
    }

    /** The checkpoint folder named by a learned spec, or null for a heuristic. */
    public static Path checkpointOf(String spec) {
        PolicySpec parsed = PolicySpec.parse(spec);
        if (!parsed.name().equals("learned")) return null;
        String path = parsed.value("path");
        return path == null ? null : Path.of(path);
    }
}
