package dev.unmask.cli;

import dev.unmask.policy.PolicyProvenance;
import dev.unmask.policy.PolicyCheckpoint;
import dev.unmask.policy.PolicyFeatures;
import dev.unmask.policy.export.SafetensorsExporter;
import dev.unmask.policy.export.DecodingContract;
import dev.unmask.policy.PolicyWindow;
import dev.unmask.policy.onnx.OnnxPolicyModel;
import dev.unmask.policy.graph.PolicyNet;
import dev.unmask.policy.onnx.OnnxExporter;
import dev.unmask.env.io.CheckpointFiles;
import dev.unmask.env.io.OutputDirs;
import dev.unmask.env.UnmaskException;
import dev.unmask.env.denoiser.Predictions;
import dev.unmask.dllm.onnx.DllmOnnxExporter;
import dev.unmask.dllm.onnx.Denoisers;
import dev.unmask.dllm.onnx.OnnxDenoiser;
import dev.unmask.env.denoiser.Vocabulary;
import dev.unmask.runs.ExportTestVectors;
import dev.unmask.runs.Paths;
import dev.unmask.env.denoiser.Denoiser;
import dev.unmask.env.io.AtomicFiles;
import dev.unmask.env.task.Tasks;
import dev.unmask.env.io.Checksums;
import dev.unmask.env.io.Json;
import dev.unmask.env.io.Safetensors;
import dev.unmask.dllm.BuiltinDllm;
import dev.unmask.dllm.DllmCheckpoint;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.*;
import java.util.concurrent.Callable;

/**
 * {@code unmask export --policy DIR --format onnx|safetensors --out PATH} and
 * {@code unmask export --dllm DIR --out DIR}. Every export is checked right after writing: the
 * written file is run (ONNX Runtime) or re-read (safetensors) and compared with the in-process
 * model, and the largest difference is printed with the checksums.
 */
@Command(name = "export", mixinStandardHelpOptions = true,
        description = {"Export a trained policy for inference engines (ONNX, or safetensors + a JSON spec), "
                + "or a built-in dLLM as ONNX + descriptor.json (the bring-your-own-dLLM format).",
                "See docs/policy-format.md and docs/bring-your-own-dllm.md."})
final class ExportCommand implements Callable<Integer> {
    @Option(names = "--policy", description = "Policy checkpoint folder (e.g. runs/p1/policy).")
    Path policy;
    @Option(names = "--dllm", description = "Built-in dLLM checkpoint folder (e.g. models/dllm-a): writes model.onnx, vocab.json, descriptor.json.")
    Path dllm;
    @Option(names = "--format", defaultValue = "onnx", description = "onnx or safetensors (policy only; default: ${DEFAULT-VALUE}).")
    String format;
    @Option(names = "--out", required = true, description = "A .onnx file, or a folder (policy.onnx / policy.safetensors + policy-spec.json / the dLLM files, each with checksums.json).")
    Path out;
    @Option(names = "--max-positions", defaultValue = "" + OnnxExporter.DEFAULT_MAX_POSITIONS,
            description = "Widest active block the ONNX policy accepts (its position table; default: ${DEFAULT-VALUE}).")
    int maxPositions;
    @Option(names = "--force", description = "Replace an existing output.")
    boolean force;
    @Option(names = "--for-dllm", description = "The dLLM the exported policy will decode with (folder or descriptor.json): its mask and EOS ids "
            + "and vocabulary size go into the export. Default: the dLLM in the policy's provenance, when that path exists here and its weights match.")
    Path forDllm;
    @Option(names = "--test-vectors", defaultValue = "0", paramLabel = "N",
            description = "Also write test-vectors.safetensors (+ .sha256) beside the export: the policy's inputs at every step of N validation prompts "
                    + "of its training task, decoded with the dLLM (--for-dllm or the provenance's), and the exported ONNX model's outputs on them, "
                    + "for a re-implementation to check itself against (python/tests does). Default 0: none.")
    int testVectors;
    /** The dLLM the contract was read from (null when unknown). */
    private Path contractDllm;
    @CommandLine.Spec
    CommandLine.Model.CommandSpec spec;

    @Override
    public Integer call() {
        if ((policy == null) == (dllm == null)) throw new CommandLine.ParameterException(spec.commandLine(), "give exactly one of --policy or --dllm");
        String fmt = format.toLowerCase(Locale.ROOT);
        if (!fmt.equals("onnx") && !fmt.equals("safetensors")) {
            throw new CommandLine.ParameterException(spec.commandLine(), "unknown --format '" + format + "' (known: onnx, safetensors)");
        }
        if (dllm != null && !fmt.equals("onnx")) throw new UnmaskException("a dLLM exports to ONNX only (--format onnx)");
        if (testVectors < 0) throw new UnmaskException("--test-vectors must be >= 0 prompts, got " + testVectors);
        if (dllm != null && (testVectors > 0 || forDllm != null)) throw new UnmaskException("--test-vectors and --for-dllm go with --policy, not --dllm");
        if (Files.exists(out) && !force && !(Files.isDirectory(out) && isEmpty(out))) {
            throw new UnmaskException(out + " already exists; pass --force to replace it or choose another --out");
        }
        // a policy exported as one .onnx file is written beside it; anything else into the folder --out
        boolean oneFile = dllm == null && fmt.equals("onnx") && out.getFileName().toString().endsWith(".onnx");
        OutputDirs.requireWritable(oneFile ? out.toAbsolutePath().getParent() : out, "--out");
        Map<String, Object> report = new LinkedHashMap<>();
        if (dllm != null) exportDllm(report);
        else if (fmt.equals("onnx")) exportPolicyOnnx(report);
        else exportPolicySafetensors(report);
        System.out.println(Json.write(report));
        return 0;
    }

    private static boolean isEmpty(Path dir) {
        try (var s = Files.list(dir)) {
            return s.findAny().isEmpty();
        } catch (IOException e) {
            return false;
        }
    }

    private void exportPolicyOnnx(Map<String, Object> report) {
        PolicyNet net = PolicyNet.load(policy);
        Optional<PolicyProvenance> provenance = PolicyCheckpoint.provenance(policy);
        DecodingContract contract = contract(net, provenance, report);
        Path file = OnnxExporter.write(net, out, maxPositions, provenance.orElse(null), contract);
        double diff;
        Optional<PolicyProvenance> written;
        try (OnnxPolicyModel onnx = OnnxPolicyModel.load(file)) {
            diff = policyParity(net, onnx, Math.min(maxPositions, 64));
            written = onnx.provenance();
            if (!onnx.contract().equals(contract)) throw new UnmaskException("the decoding contract read back from " + file + " differs from the one written");
        }
        if (diff > 1e-4) throw new UnmaskException("exported policy disagrees with the checkpoint: max |p diff| " + diff + " on random inputs");
        writeTestVectors(net, provenance, file, file.resolveSibling(ExportTestVectors.FILE), report);
        if (!written.equals(provenance)) throw new UnmaskException("the provenance read back from " + file + " differs from the checkpoint's");
        reportProvenance(report, provenance);
        report.put("written", file.toString());
        report.put("sha256", Checksums.sha256(file));
        report.put("features", net.config().features());
        report.put("inputs", "features [batch, positions, " + net.config().features().size() + "] float, eligible [batch, positions] float 1/0");
        report.put("outputs", "unmask_prob [batch, positions], logits [batch, positions]");
        report.put("max_positions", maxPositions);
        report.put("check_max_abs_diff_probability", diff);
    }

    private void exportPolicySafetensors(Map<String, Object> report) {
        PolicyNet net = PolicyNet.load(policy);
        Optional<PolicyProvenance> provenance = PolicyCheckpoint.provenance(policy);
        DecodingContract contract = contract(net, provenance, report);
        SafetensorsExporter.write(net, out, provenance.orElse(null), contract);
        var back = CheckpointFiles.readVerified(out, SafetensorsExporter.WEIGHTS, SafetensorsExporter.SPEC);
        var tensors = Safetensors.decode(back.get(SafetensorsExporter.WEIGHTS), out.toString());
        var expected = SafetensorsExporter.inferenceWeights(net.weights());
        if (!tensors.keySet().equals(expected.keySet())) throw new UnmaskException("re-reading " + out + " gave other tensors than were written");
        for (var e : expected.entrySet()) {
            if (!Arrays.equals(e.getValue().data(), tensors.get(e.getKey()).data())) throw new UnmaskException("re-reading " + out + ": tensor " + e.getKey() + " differs");
        }
        report.put("written", List.of(out.resolve(SafetensorsExporter.WEIGHTS).toString(), out.resolve(SafetensorsExporter.SPEC).toString()));
        report.put("sha256", Map.of(SafetensorsExporter.WEIGHTS, Checksums.sha256(back.get(SafetensorsExporter.WEIGHTS)),
                SafetensorsExporter.SPEC, Checksums.sha256(back.get(SafetensorsExporter.SPEC))));
        Optional<PolicyProvenance> written = Optional.ofNullable(PolicyProvenance.fromMetadata(
                Safetensors.metadata(back.get(SafetensorsExporter.WEIGHTS), out.toString()), SafetensorsExporter.META_PROVENANCE, out.toString()));
        if (!written.equals(provenance)) throw new UnmaskException("the provenance read back from " + out + " differs from the checkpoint's");
        reportProvenance(report, provenance);
        report.put("tensors", tensors.size());
        report.put("check", "weights re-read bit for bit");
        if (testVectors > 0) {
            Path onnxFile = null;
            try {
                onnxFile = Files.createTempFile("unmask-policy", ".onnx");
                Files.write(onnxFile, OnnxExporter.onnxBytes(net.config(), net.weights(), OnnxExporter.DEFAULT_MAX_POSITIONS, provenance.orElse(null), contract));
                writeTestVectors(net, provenance, onnxFile, out.resolve(ExportTestVectors.FILE), report);
            } catch (IOException e) {
                throw new UnmaskException("test vectors: " + e.getMessage());
            } finally {
                if (onnxFile != null) onnxFile.toFile().delete();
            }
        }
    }

    /**
     * The ids of the dLLM the policy will decode with (--for-dllm, else the provenance's dLLM when it
     * is here with the recorded weights), the trained lengths and knob range; what is not known is
     * left out with a note on stderr.
     */
    private DecodingContract contract(PolicyNet net, Optional<PolicyProvenance> provenance, Map<String, Object> report) {
        if (testVectors > 0 && (provenance.isEmpty() || provenance.get().task() == null || provenance.get().genLength() <= 0 || provenance.get().blockLength() <= 0)) {
            throw new UnmaskException("--test-vectors needs the policy's task and lengths, which its provenance does not record");
        }
        if (testVectors > 0 && net.config().parsedFeatures().contains(PolicyFeatures.KNOB) && provenance.get().knobRange() == null) {
            throw new UnmaskException("--test-vectors: the policy reads the knob but records no knob range");
        }
        Path target = forDllm;
        String recordedSha = provenance.map(PolicyProvenance::dllmSha256).orElse(null);
        if (target == null && provenance.isPresent() && provenance.get().dllmPath() != null) {
            // the recorded path, as given or under the project, or a shipped model of the same name: only with the recorded weights
            Path recorded = Path.of(provenance.get().dllmPath());
            List<Path> candidates = new ArrayList<>(List.of(recorded, Paths.home().resolve(recorded)));
            if (recorded.getFileName() != null) candidates.add(Paths.home().resolve("models").resolve(recorded.getFileName()));
            for (Path c : candidates) {
                if (target != null || !Files.exists(c)) continue;
                if (Checksums.sha256(Denoisers.weightsFile(c)).equals(recordedSha)) target = c;
                else System.err.println("note: " + c + " is not the dLLM the policy was trained on (other weights); pass --for-dllm to name the dLLM it will decode with");
            }
        } else if (target != null && recordedSha != null && !Checksums.sha256(Denoisers.weightsFile(target)).equals(recordedSha)) {
            System.err.println("warning: the policy was trained on another dLLM (" + provenance.get().dllmPath() + "); the export carries the ids of " + target);
        }
        if (target == null && testVectors > 0) throw new UnmaskException("--test-vectors needs the dLLM to decode with: pass --for-dllm PATH");
        contractDllm = target;
        Vocabulary vocab = target == null ? null : Denoisers.vocabulary(target);
        if (vocab == null) System.err.println("note: the dLLM's mask and EOS ids are not known here (pass --for-dllm PATH); the export leaves them out");
        DecodingContract contract = DecodingContract.of(net.config(), provenance.orElse(null), vocab);
        report.put("contract", contract.toMetadata(""));
        return contract;
    }

    /**
     * The policy's inputs and the ONNX model's outputs at every step of --test-vectors validation prompts of its
     * training task, decoded with the contract's dLLM at its trained lengths (a knob policy at the middle of its range).
     */
    private void writeTestVectors(PolicyNet net, Optional<PolicyProvenance> provenance, Path onnxFile, Path file, Map<String, Object> report) {
        if (testVectors <= 0) return;
        PolicyProvenance p = provenance.orElseThrow(); // checked with the contract, before anything was written
        Double knob = p.knobRange() == null ? null : (p.knobRange().get(0) + p.knobRange().get(1)) / 2;
        ExportTestVectors.Recorded rec;
        try (Denoiser dllm = Denoisers.load(contractDllm); OnnxPolicyModel onnx = OnnxPolicyModel.load(onnxFile)) {
            rec = ExportTestVectors.record(net, onnx, dllm, Tasks.byName(p.task()), p.genLength(), p.blockLength(), knob, testVectors, 1);
        }
        AtomicFiles.write(file, rec.bytes());
        AtomicFiles.writeString(file.resolveSibling(file.getFileName() + ".sha256"), Checksums.sha256(rec.bytes()) + "  " + file.getFileName() + "\n");
        report.put("test_vectors", Map.of("file", file.toString(), "windows", rec.windows(), "width", rec.width(), "prompts", rec.prompts(),
                "task", p.task(), "split", "validation"));
    }

    /** Under "provenance", one line per field in the printed report; a note on stderr when the checkpoint has none. */
    private void reportProvenance(Map<String, Object> report, Optional<PolicyProvenance> provenance) {
        if (provenance.isPresent()) report.put("provenance", provenance.get());
        else System.err.println("note: " + policy + " records no provenance (saved before unmask recorded it); the export carries none");
    }

    private void exportDllm(Map<String, Object> report) {
        System.err.println(DllmLine.of(dllm, DllmCheckpoint.weightsSha256(dllm), "built-in checkpoint, exported to ONNX"));
        BuiltinDllm model = DllmCheckpoint.load(dllm);
        DllmOnnxExporter.export(model, out);
        double diff;
        try (OnnxDenoiser ort = OnnxDenoiser.load(out.resolve(DllmOnnxExporter.DESCRIPTOR))) {
            diff = dllmParity(model, ort);
        }
        if (diff > 1e-3) throw new UnmaskException("exported dLLM disagrees with the checkpoint: max |confidence diff| " + diff);
        report.put("written", List.of(out.resolve(DllmOnnxExporter.MODEL).toString(), out.resolve(DllmOnnxExporter.DESCRIPTOR).toString(),
                out.resolve(DllmOnnxExporter.VOCAB).toString()));
        report.put("sha256", Checksums.sha256(out.resolve(DllmOnnxExporter.MODEL)));
        report.put("inputs", "input_ids [batch, length] int64, attention_mask [batch, length] int64 1/0");
        report.put("outputs", "logits [batch, length, " + model.vocabulary().size() + "] float");
        report.put("check_max_abs_diff_confidence", diff);
    }

    /** Random windows (rows x width, random eligibility and features), max |p_samediff - p_onnx|. */
    static double policyParity(PolicyNet net, OnnxPolicyModel onnx, int width) {
        SplittableRandom r = new SplittableRandom(1);
        int rows = 4, f = net.config().features().size();
        float[] feats = new float[rows * width * f], bias = new float[rows * width], elig = new float[rows * width];
        boolean[][] e = new boolean[rows][width];
        for (int b = 0; b < rows; b++) {
            for (int j = 0; j < width; j++) {
                e[b][j] = j == b % width || r.nextDouble() < 0.6;
                elig[b * width + j] = e[b][j] ? 1 : 0;
                bias[b * width + j] = e[b][j] ? 0 : -1e9f;
                if (e[b][j]) for (int k = 0; k < f; k++) feats[(b * width + j) * f + k] = (float) r.nextDouble();
            }
        }
        float[][] logits = net.logits(new PolicyWindow(feats, bias, e, new int[rows], rows, width));
        float[][] pl = onnx.probabilitiesAndLogits(feats, elig, rows, width);
        double max = 0;
        for (int b = 0; b < rows; b++) {
            for (int j = 0; j < width; j++) if (e[b][j]) max = Math.max(max, Math.abs(1 / (1 + Math.exp(-logits[b][j])) - pl[0][b * width + j]));
        }
        return max;
    }

    /** One padded batch of random tokens with masks, max |confidence diff| between the two paths. */
    static double dllmParity(BuiltinDllm model, OnnxDenoiser ort) {
        SplittableRandom r = new SplittableRandom(2);
        int v = model.vocabulary().size();
        int[][] seqs = new int[4][];
        boolean[][] q = new boolean[4][];
        for (int b = 0; b < seqs.length; b++) {
            seqs[b] = new int[Math.max(2, model.maxLength() - 7 * b)];
            q[b] = new boolean[seqs[b].length];
            for (int i = 0; i < seqs[b].length; i++) {
                q[b][i] = r.nextInt(3) == 0;
                seqs[b][i] = q[b][i] ? model.vocabulary().maskId() : 3 + r.nextInt(v - 3);
            }
            q[b][0] = true;
        }
        Predictions a = model.predict(seqs, q, false), b = ort.predict(seqs, q, false);
        double max = 0;
        for (int i = 0; i < seqs.length; i++) {
            for (int t = 0; t < seqs[i].length; t++) if (q[i][t]) max = Math.max(max, Math.abs(a.confidence()[i][t] - b.confidence()[i][t]));
        }
        return max;
    }
}
