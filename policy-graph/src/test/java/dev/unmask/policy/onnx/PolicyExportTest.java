package dev.unmask.policy.onnx;

import dev.unmask.policy.LearnedPolicy;
import dev.unmask.policy.BernoulliDecision;
import dev.unmask.policy.PolicyInputs;
import dev.unmask.policy.PolicyProvenance;
import dev.unmask.policy.PolicyFeatures;
import dev.unmask.policy.export.SafetensorsExporter;
import dev.unmask.policy.export.DecodingContract;
import dev.unmask.policy.PolicyWindow;
import dev.unmask.policy.graph.PolicyNet;

import ai.onnxruntime.OrtSession;
import ai.onnxruntime.TensorInfo;
import com.fasterxml.jackson.databind.JsonNode;
import dev.unmask.env.UnmaskException;
import dev.unmask.env.denoiser.Vocabulary;
import dev.unmask.nn.onnx.Ort;
import dev.unmask.env.io.CheckpointFiles;
import dev.unmask.env.io.Checksums;
import dev.unmask.env.io.Json;
import dev.unmask.env.io.Safetensors;
import dev.unmask.env.mdp.*;
import dev.unmask.dllm.BuiltinDllm;
import dev.unmask.dllm.DllmConfig;
import dev.unmask.env.task.*;
import dev.unmask.policy.PolicyConfig;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.File;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.*;

import static org.junit.jupiter.api.Assertions.*;

/** Exported policies compute what the in-process SameDiff policy computes, and decide the same. */
class PolicyExportTest {
    /** The paper's view: the whole buffer, with the mask bit and the step fraction. */
    static final PolicyConfig WHOLE_BUFFER = new PolicyConfig(List.of("confidence", "mask_bit", "buffer_step_fraction", "margin"), 32, 2, 64, 5, PolicyConfig.BUFFER);
    static final PolicyConfig RICH = new PolicyConfig(List.of("confidence", "margin", "entropy", "masked_fraction", "step_fraction"), 32, 4, 64, 3);

    /** Weights redrawn with a wide spread, so probabilities cover (0, 1) instead of hugging 0.5. */
    static PolicyNet sharp(PolicyConfig c, long seed) {
        PolicyNet net = new PolicyNet(c);
        Random rng = new Random(seed);
        Map<String, Safetensors.Tensor> w = new TreeMap<>();
        net.weights().forEach((name, t) -> {
            float[] data = new float[t.data().length];
            for (int i = 0; i < data.length; i++) {
                data[i] = name.endsWith(".gain") ? (float) (1 + 0.2 * rng.nextGaussian()) : (float) (0.3 * rng.nextGaussian());
            }
            w.put(name, new Safetensors.Tensor(t.shape(), data));
        });
        net.loadWeights(w, "test");
        return net;
    }

    /** A small built-in dLLM with spread-out logits that never predicts mask or padding. */
    static BuiltinDllm sharpDllm(long seed) {
        BuiltinDllm m = new BuiltinDllm(new DllmConfig(32, 1, 2, 64, 96, seed), Vocabulary.builtin());
        Random rng = new Random(seed);
        Map<String, Safetensors.Tensor> w = new TreeMap<>();
        m.weights().forEach((name, t) -> {
            float[] data = new float[t.data().length];
            for (int i = 0; i < data.length; i++) data[i] = name.endsWith(".gain") ? 1f : (float) (0.3 * rng.nextGaussian());
            w.put(name, new Safetensors.Tensor(t.shape(), data));
        });
        w.get("head.bias").data()[m.vocabulary().maskId()] = -100;
        w.get("head.bias").data()[m.vocabulary().padId()] = -100;
        m.loadWeights(w, "test");
        return m;
    }

    /** A random window in PolicyNet's layout: rows x width, random eligibility (at least one per row), random features. */
    static PolicyWindow randomWindow(int rows, int width, int f, SplittableRandom r) {
        float[] feats = new float[rows * width * f], bias = new float[rows * width];
        boolean[][] elig = new boolean[rows][width];
        for (int b = 0; b < rows; b++) {
            int forced = r.nextInt(width);
            double pe = r.nextDouble();
            for (int j = 0; j < width; j++) {
                elig[b][j] = j == forced || r.nextDouble() < pe;
                if (!elig[b][j]) {
                    bias[b * width + j] = -1e9f;
                    continue;
                }
                for (int k = 0; k < f; k++) feats[(b * width + j) * f + k] = (float) r.nextDouble();
            }
        }
        return new PolicyWindow(feats, bias, elig, new int[rows], rows, width);
    }

    static float[] eligibleOf(PolicyWindow w) {
        float[] e = new float[w.rows() * w.width()];
        for (int b = 0; b < w.rows(); b++) for (int j = 0; j < w.width(); j++) e[b * w.width() + j] = w.eligible()[b][j] ? 1 : 0;
        return e;
    }

    /** max |p_samediff - p_onnx| over every position (ineligible: ONNX must give exactly 0). */
    static double maxProbDiff(PolicyNet net, OnnxPolicyModel onnx, PolicyWindow w) {
        float[][] logits = net.logits(w);
        float[][] pl = onnx.probabilitiesAndLogits(w.features(), eligibleOf(w), w.rows(), w.width());
        double max = 0;
        for (int b = 0; b < w.rows(); b++) {
            for (int j = 0; j < w.width(); j++) {
                int i = b * w.width() + j;
                if (!w.eligible()[b][j]) {
                    assertEquals(0f, pl[0][i], "ineligible probability");
                    assertEquals(Float.NEGATIVE_INFINITY, pl[1][i], "ineligible logit");
                    continue;
                }
                double p = 1 / (1 + Math.exp(-logits[b][j]));
                max = Math.max(max, Math.abs(p - pl[0][i]));
                max = Math.max(max, Math.abs(p - 1 / (1 + Math.exp(-pl[1][i]))));
            }
        }
        return max;
    }

    @Test
    void onnxMatchesSameDiffOnRandomInputsWithDynamicAxes(@TempDir Path dir) throws Exception {
        double worst = 0;
        double spreadLow = 1, spreadHigh = 0;
        for (PolicyConfig c : List.of(PolicyConfig.defaults(1), RICH)) {
            PolicyNet net = sharp(c, 11);
            Path file = OnnxExporter.write(net, dir.resolve(c.features().size() + "/policy.onnx"), 256);
            assertEquals(Checksums.sha256(file) + "  policy.onnx\n", Files.readString(dir.resolve(c.features().size() + "/policy.onnx.sha256")));
            try (OnnxPolicyModel onnx = OnnxPolicyModel.load(file)) {
                assertEquals(c.parsedFeatures(), onnx.features());
                SplittableRandom r = new SplittableRandom(5);
                for (int width : new int[]{1, 3, 8, 16, 64, 256}) {
                    for (int rows : new int[]{1, 5}) {
                        PolicyWindow w = randomWindow(rows, width, c.features().size(), r);
                        worst = Math.max(worst, maxProbDiff(net, onnx, w));
                        for (float[] row : net.logits(w)) {
                            for (float l : row) {
                                if (l == Float.NEGATIVE_INFINITY) continue;
                                spreadLow = Math.min(spreadLow, 1 / (1 + Math.exp(-l)));
                                spreadHigh = Math.max(spreadHigh, 1 / (1 + Math.exp(-l)));
                            }
                        }
                    }
                }
                UnmaskException e = assertThrows(UnmaskException.class, () -> onnx.logits(new float[257 * c.features().size()], new float[257], 1, 257));
                assertTrue(e.getMessage().contains("exceeds the exported maximum 256"), e.getMessage());
            }
            // named inputs and outputs with named dynamic axes
            try (OrtSession s = Ort.open(file, "cpu", 0, 1, "test")) {
                TensorInfo in = (TensorInfo) s.getInputInfo().get("features").getInfo();
                assertArrayEquals(new long[]{-1, -1, c.features().size()}, in.getShape());
                assertArrayEquals(new String[]{"batch", "positions", ""}, in.getDimensionNames());
                assertArrayEquals(new String[]{"batch", "positions"}, ((TensorInfo) s.getInputInfo().get("eligible").getInfo()).getDimensionNames());
                assertEquals(Set.of("unmask_prob", "logits"), s.getOutputNames());
                assertArrayEquals(new String[]{"batch", "positions"}, ((TensorInfo) s.getOutputInfo().get("unmask_prob").getInfo()).getDimensionNames());
            }
        }
        System.err.printf("policy ONNX parity (random inputs): max |p diff| = %.3g, p spread [%.3f, %.3f]%n", worst, spreadLow, spreadHigh);
        assertTrue(spreadLow < 0.1 && spreadHigh > 0.8, "the test weights must give decisive probabilities");
        assertTrue(worst <= 1e-5, "max |p diff| " + worst);
    }

    /** Runs whole episodes under a policy and records every observation and action. */
    record Trace(List<StepObservation> observations, List<boolean[][]> actions, List<EpisodeResult> results) {
    }

    static Trace run(UnmaskingEnv env, List<Example> prompts, long seed, UnmaskPolicy policy) {
        List<StepObservation> obs = new ArrayList<>();
        List<boolean[][]> acts = new ArrayList<>();
        env.reset(prompts, seed);
        while (!env.done()) {
            StepObservation o = env.observe();
            boolean[][] a = policy.select(o);
            obs.add(o);
            acts.add(a);
            env.step(a);
        }
        return new Trace(obs, acts, env.results());
    }

    @Test
    void onnxPolicyMatchesOnRolloutInputsAndDecidesTheSameOnWholeEpisodes(@TempDir Path dir) {
        BuiltinDllm dllm = sharpDllm(4);
        Task arith = Tasks.byName("arith");
        List<Example> prompts = arith.dataset(Split.TEST, 21, 6);
        double worstProb = 0;
        int steps = 0, multi = 0;
        for (PolicyConfig c : List.of(PolicyConfig.defaults(2), RICH, WHOLE_BUFFER)) {
            PolicyNet net = sharp(c, 12);
            Path file = OnnxExporter.write(net, dir.resolve("p" + c.features().size()), OnnxExporter.DEFAULT_MAX_POSITIONS);
            assertEquals(dir.resolve("p" + c.features().size()).resolve("policy.onnx"), file);
            try (OnnxPolicyModel model = OnnxPolicyModel.load(file)) {
                for (int block : new int[]{8, 64}) {
                    for (boolean sample : new boolean[]{false, true}) {
                        UnmaskingEnv env = new UnmaskingEnv(dllm, arith, 64, block, 0, Reward.DEFAULT);
                        Trace ref = run(env, prompts, 9, new LearnedPolicy(net, 1.0, sample, "ref"));
                        Trace ort = run(env, prompts, 9, new OnnxPolicy(model, 1.0, sample, "onnx"));
                        assertEquals(ref.actions().size(), ort.actions().size(), "same number of steps");
                        for (int s = 0; s < ref.actions().size(); s++) {
                            assertArrayEquals(ref.actions().get(s), ort.actions().get(s), "step " + s + " block " + block + " sample " + sample);
                        }
                        for (int i = 0; i < prompts.size(); i++) {
                            assertArrayEquals(ref.results().get(i).buffer(), ort.results().get(i).buffer());
                            assertEquals(ref.results().get(i).nfe(), ort.results().get(i).nfe());
                            assertEquals(ref.results().get(i).fallbacks(), ort.results().get(i).fallbacks(), "both runtimes report their own fallbacks");
                        }
                        // the same inputs, laid out without ND4J, and the same probabilities on every real step
                        for (StepObservation o : ref.observations()) {
                            PolicyWindow w = net.window(o);
                            PolicyInputs in = PolicyInputs.of(model.features(), o, null, model.seesWholeBuffer());
                            assertArrayEquals(w.features(), in.features(), 0f);
                            assertArrayEquals(eligibleOf(w), in.eligible(), 0f);
                            worstProb = Math.max(worstProb, maxProbDiff(net, model, w));
                        }
                        steps += ref.actions().size();
                        for (boolean[][] a : ref.actions()) for (boolean[] row : a) {
                            int n = 0;
                            for (boolean x : row) if (x) n++;
                            if (n > 1) multi++;
                        }
                    }
                }
            }
        }
        System.err.printf("policy ONNX parity (rollout inputs, %d steps): max |p diff| = %.3g; rows unmasking >1 position: %d%n", steps, worstProb, multi);
        assertTrue(multi > 0, "the test policy must take several positions at once sometimes");
        assertTrue(worstProb <= 1e-5, "max |p diff| " + worstProb);
    }

    @Test
    void aWholeBufferPolicyExportsAndItsSamplerTakesTheWholeBuffer(@TempDir Path dir) {
        PolicyNet net = sharp(new PolicyConfig(List.of("confidence", "mask_bit", "buffer_step_fraction"), 32, 2, 64, 7, PolicyConfig.BUFFER), 14);
        Path file = OnnxExporter.write(net, dir.resolve("policy.onnx"), 64);
        SafetensorsExporter.write(net, dir.resolve("st"));
        try (PolicySampler sampler = PolicySampler.greedy(file)) {
            assertEquals(List.of("mask_bit", "buffer_step_fraction"), sampler.extraFeatureNames());
            UnmaskException e = assertThrows(UnmaskException.class, () -> sampler.select(new float[]{0.5f}, new float[][]{{1f, 0f}}));
            assertTrue(e.getMessage().contains("selectInBuffer"), e.getMessage());
            SplittableRandom r = new SplittableRandom(5);
            int agreed = 0;
            for (int t = 0; t < 30; t++) {
                int len = 32, block = 8, from = block * r.nextInt(4), steps = r.nextInt(20);
                float[] conf = new float[len];
                float[][] extra = new float[len][];
                for (int j = 0; j < len; j++) {
                    boolean masked = j >= from && r.nextInt(3) > 0 || j >= from + block;
                    conf[j] = masked ? (float) r.nextDouble() : Float.NaN;
                    extra[j] = new float[]{masked ? 1f : 0f, steps / (float) len};
                }
                conf[from] = 0.42f; // at least one masked position in the active block
                extra[from][0] = 1f;
                int[] chosen = sampler.selectInBuffer(conf, from, from + block, extra);
                // the same decision through the SameDiff network, on the observation these inputs describe
                boolean[] masked = new boolean[len], eligible = new boolean[len];
                float[] margin = new float[len], entropy = new float[len];
                for (int j = 0; j < len; j++) {
                    masked[j] = !Float.isNaN(conf[j]);
                    eligible[j] = masked[j] && j >= from && j < from + block;
                }
                StepObservation o = StepObservation.builder(len, block).statistics(new float[][]{conf}, new float[][]{margin}, new float[][]{entropy})
                        .masks(new boolean[][]{masked}, new boolean[][]{eligible}).blocks(new int[]{from}, new int[]{from / block}, new int[]{0}, new int[]{block})
                        .episodes(new int[]{steps}, new SplittableRandom[]{new SplittableRandom(1)}, new int[]{0}).build();
                boolean[] ref = new LearnedPolicy(net, 1.0, false, "ref").select(o)[0];
                List<Integer> expected = new ArrayList<>();
                for (int j = 0; j < len; j++) if (ref[j]) expected.add(j);
                for (int j : chosen) assertTrue(j >= from && j < from + block && !Float.isNaN(conf[j]), "chose " + j);
                if (expected.equals(java.util.Arrays.stream(chosen).boxed().toList())) agreed++;
            }
            assertEquals(30, agreed, "every draw decided as the SameDiff policy decides");
        }
    }

    @Test
    void samplerGivesTheEngineTheSameChoicesAsThePolicy(@TempDir Path dir) {
        PolicyNet net = sharp(PolicyConfig.defaults(3), 13);
        Path file = OnnxExporter.write(net, dir.resolve("policy.onnx"), 64);
        try (PolicySampler sampler = PolicySampler.greedy(file)) {
            assertEquals(List.of("confidence"), sampler.featureNames());
            assertEquals(List.of(), sampler.extraFeatureNames());
            SplittableRandom r = new SplittableRandom(3);
            for (int t = 0; t < 30; t++) {
                int width = 1 + r.nextInt(32);
                PolicyWindow w = randomWindow(1, width, 1, r);
                float[] conf = new float[width];
                List<Integer> idx = new ArrayList<>();
                for (int j = 0; j < width; j++) {
                    conf[j] = w.eligible()[0][j] ? w.features()[j] : Float.NaN;
                    if (w.eligible()[0][j]) idx.add(j);
                }
                float[] logits = net.logits(w)[0];
                List<Integer> expected = new ArrayList<>();
                int best = -1;
                for (int j : idx) {
                    if (1 / (1 + Math.exp(-logits[j])) >= 0.5) expected.add(j);
                    if (best < 0 || logits[j] > logits[best]) best = j;
                }
                if (expected.isEmpty()) expected.add(best);
                int[] got = sampler.select(conf, null);
                assertEquals(expected, Arrays.stream(got).boxed().toList());
                float[] masked = new float[idx.size()];
                for (int m = 0; m < masked.length; m++) masked[m] = conf[idx.get(m)];
                assertArrayEquals(got, sampler.select(width, idx.stream().mapToInt(Integer::intValue).toArray(), masked, null));
            }
            UnmaskException e = assertThrows(UnmaskException.class, () -> sampler.select(new float[]{Float.NaN, Float.NaN}, null));
            assertEquals("no masked position in the block: nothing to choose from", e.getMessage());
        }
        PolicyNet rich = sharp(RICH, 14);
        Path richFile = OnnxExporter.write(rich, dir.resolve("rich.onnx"), 64);
        try (PolicySampler sampler = PolicySampler.sampling(richFile, 1.0, 7)) {
            assertEquals(List.of("margin", "entropy", "masked_fraction", "step_fraction"), sampler.extraFeatureNames());
            UnmaskException e = assertThrows(UnmaskException.class, () -> sampler.select(new float[]{0.5f, 0.9f}, null));
            assertTrue(e.getMessage().startsWith("this policy also reads [margin, entropy, masked_fraction, step_fraction]"), e.getMessage());
            int[] got = sampler.select(new float[]{0.5f, Float.NaN, 0.9f}, new float[][]{{0.1f, 0.5f, 0.66f, 0f}, null, {0.8f, 0.1f, 0.66f, 0f}});
            assertTrue(got.length >= 1 && Arrays.stream(got).allMatch(j -> j == 0 || j == 2), Arrays.toString(got));
        }
    }

    @Test
    void samplerComputesLogOddsFromTheConfidencesItIsGiven(@TempDir Path dir) {
        PolicyNet net = sharp(new PolicyConfig(List.of("confidence_logodds"), 32, 2, 64, 4), 18);
        Path file = OnnxExporter.write(net, dir.resolve("logodds.onnx"), 64);
        try (PolicySampler sampler = PolicySampler.greedy(file)) {
            assertEquals(List.of("confidence_logodds"), sampler.featureNames());
            assertEquals(List.of(), sampler.extraFeatureNames(), "log-odds come from the confidences: nothing extra to pass");
            SplittableRandom r = new SplittableRandom(4);
            for (int t = 0; t < 20; t++) {
                int width = 1 + r.nextInt(24);
                PolicyWindow w = randomWindow(1, width, 1, r);
                float[] conf = new float[width], logOdds = new float[width];
                for (int j = 0; j < width; j++) {
                    conf[j] = w.eligible()[0][j] ? w.features()[j] : Float.NaN;
                    if (w.eligible()[0][j]) logOdds[j] = PolicyFeatures.logOdds(conf[j]);
                }
                float[] logits = net.logits(new PolicyWindow(logOdds, w.keyBias(), w.eligible(), new int[1], 1, width))[0];
                List<Integer> expected = new ArrayList<>();
                int best = -1;
                for (int j = 0; j < width; j++) {
                    if (!w.eligible()[0][j]) continue;
                    if (1 / (1 + Math.exp(-logits[j])) >= 0.5) expected.add(j);
                    if (best < 0 || logits[j] > logits[best]) best = j;
                }
                if (expected.isEmpty()) expected.add(best);
                assertEquals(expected, Arrays.stream(sampler.select(conf, null)).boxed().toList());
            }
        }
        // with a feature the sampler cannot derive, only that one is asked for
        PolicyNet mixed = sharp(new PolicyConfig(List.of("confidence", "confidence_logodds", "margin"), 32, 2, 64, 5), 19);
        try (PolicySampler sampler = PolicySampler.greedy(OnnxExporter.write(mixed, dir.resolve("mixed.onnx"), 64))) {
            assertEquals(List.of("margin"), sampler.extraFeatureNames());
            UnmaskException e = assertThrows(UnmaskException.class, () -> sampler.select(new float[]{0.5f, 0.9f}, null));
            assertTrue(e.getMessage().startsWith("this policy also reads [margin]"), e.getMessage());
            assertTrue(sampler.select(new float[]{0.5f, 0.9f}, new float[][]{{0.1f}, {0.7f}}).length >= 1);
        }
    }

    /** The sampler path needs no ND4J: it runs in a JVM whose classpath has none of ND4J's jars. */
    @Test
    void samplerRunsWithoutNd4jOnTheClasspath(@TempDir Path dir) throws Exception {
        PolicyNet net = sharp(PolicyConfig.defaults(5), 15);
        Path file = OnnxExporter.write(net, dir.resolve("policy.onnx"), 64);
        float[] conf = {0.2f, Float.NaN, 0.9f, 0.6f, 0.1f, 0.95f, Float.NaN, 0.4f};
        int[] expected;
        try (PolicySampler s = PolicySampler.greedy(file)) {
            expected = s.select(conf, null);
        }
        String cp = Arrays.stream(System.getProperty("java.class.path").split(File.pathSeparator))
                .filter(p -> !p.matches(".*(nd4j|bytedeco|deeplearning4j|openblas).*")).reduce((a, b) -> a + File.pathSeparator + b).orElseThrow();
        assertFalse(cp.contains("nd4j"));
        Process p = new ProcessBuilder(Path.of(System.getProperty("java.home"), "bin", "java").toString(), "-cp", cp,
                SamplerMain.class.getName(), file.toString(), "0.2,NaN,0.9,0.6,0.1,0.95,NaN,0.4").redirectErrorStream(true).start();
        String out = new String(p.getInputStream().readAllBytes()).strip();
        assertEquals(0, p.waitFor(), out);
        String[] lines = out.split("\n");
        assertEquals(Arrays.toString(expected), lines[lines.length - 1].strip(), out);
    }

    @Test
    void safetensorsExportIsEnoughToReimplementThePolicy(@TempDir Path dir) throws Exception {
        PolicyNet net = sharp(RICH, 16);
        SafetensorsExporter.write(net, dir.resolve("st"));
        Map<String, byte[]> files = CheckpointFiles.readVerified(dir.resolve("st"), SafetensorsExporter.WEIGHTS, SafetensorsExporter.SPEC);
        Map<String, Safetensors.Tensor> w = Safetensors.decode(files.get(SafetensorsExporter.WEIGHTS), "export");
        assertFalse(w.keySet().stream().anyMatch(k -> k.startsWith("value_head")), "no critic in an inference export");
        JsonNode spec = Json.MAPPER.readTree(files.get(SafetensorsExporter.SPEC));
        assertEquals("unmask-policy-export-v1", spec.get("format").asText());
        assertEquals(1e-5, spec.get("layer_norm_epsilon").asDouble());
        for (String k : w.keySet()) assertTrue(spec.get("tensors").has(k), k);

        ReferencePolicy ref = new ReferencePolicy(spec, w);
        SplittableRandom r = new SplittableRandom(8);
        double worst = 0;
        for (int width : new int[]{1, 5, 8, 32}) {
            PolicyWindow win = randomWindow(1, width, RICH.features().size(), r);
            float[] expected = net.logits(win)[0];
            double[] got = ref.logits(win.features(), eligibleOf(win), width);
            for (int j = 0; j < width; j++) {
                if (!win.eligible()[0][j]) continue;
                worst = Math.max(worst, Math.abs(1 / (1 + Math.exp(-expected[j])) - 1 / (1 + Math.exp(-got[j]))));
            }
        }
        System.err.printf("policy re-implemented from policy-spec.json + safetensors: max |p diff| = %.3g%n", worst);
        assertTrue(worst <= 1e-5, "max |p diff| " + worst);
    }

    @Test
    void provenanceTravelsInOnnxMetadataAndTheSafetensorsHeader(@TempDir Path dir) throws Exception {
        PolicyNet net = sharp(PolicyConfig.defaults(7), 20);
        PolicyProvenance provenance = new PolicyProvenance("ef".repeat(32), "models/dllm-a", "sudoku", 32, 32,
                "correct * (1 - 0.5 * (nfe - 1) / max(1, L - 1))", List.of("confidence"), "grpo", 1, 60, "c0ffee".repeat(6) + "c0ff", true);
        Path file = OnnxExporter.write(net, dir.resolve("policy.onnx"), 64, provenance);
        // read with ONNX Runtime's own metadata API, as any engine would
        try (OrtSession session = Ort.env().createSession(file.toString(), new OrtSession.SessionOptions())) {
            Map<String, String> meta = session.getMetadata().getCustomMetadata();
            assertEquals("ef".repeat(32), meta.get("unmask.provenance.dllm_sha256"));
            assertEquals("sudoku", meta.get("unmask.provenance.task"));
            assertEquals("32", meta.get("unmask.provenance.block_length"));
            assertEquals("60", meta.get("unmask.provenance.iterations"));
            assertEquals(provenance.reward(), meta.get("unmask.provenance.reward"));
            assertEquals("true", meta.get("unmask.provenance.git_dirty"));
            assertEquals("confidence", meta.get(OnnxExporter.META_FEATURES), "the existing keys stay");
        }
        try (OnnxPolicyModel model = OnnxPolicyModel.load(file)) {
            assertEquals(Optional.of(provenance), model.provenance());
        }
        try (OnnxPolicyModel model = OnnxPolicyModel.load(OnnxExporter.write(net, dir.resolve("bare.onnx"), 64))) {
            assertEquals(Optional.empty(), model.provenance());
        }

        SafetensorsExporter.write(net, dir.resolve("st"), provenance);
        byte[] raw = Files.readAllBytes(dir.resolve("st").resolve(SafetensorsExporter.WEIGHTS));
        long headerLength = java.nio.ByteBuffer.wrap(raw, 0, 8).order(java.nio.ByteOrder.LITTLE_ENDIAN).getLong();
        JsonNode meta = Json.MAPPER.readTree(new String(raw, 8, (int) headerLength, java.nio.charset.StandardCharsets.UTF_8)).get("__metadata__");
        assertEquals("ef".repeat(32), meta.get("provenance.dllm_sha256").asText());
        assertEquals("models/dllm-a", meta.get("provenance.dllm_path").asText());
        assertEquals("confidence", meta.get("provenance.features").asText());
        assertEquals(SafetensorsExporter.FORMAT, meta.get("format").asText());
        meta.fields().forEachRemaining(e -> assertTrue(e.getValue().isTextual(), "safetensors metadata values are strings: " + e.getKey()));
        assertEquals(provenance, PolicyProvenance.fromMetadata(Safetensors.metadata(raw, "st"), SafetensorsExporter.META_PROVENANCE, "st"));
    }

    /** A knob policy's exports say which knob values it was trained for, and the reward it was trained with. */
    @Test
    void aKnobPolicysRangeTravelsInOnnxMetadataTheSafetensorsHeaderAndTheSpec(@TempDir Path dir) throws Exception {
        PolicyNet net = new PolicyNet(new PolicyConfig(List.of("confidence_logodds", "knob"), 32, 2, 64, 5));
        String reward = "correct * ((L - min(nfe, L) + 1) / L) ^ alpha, alpha = the knob, drawn per prompt uniformly from [0.0, 12.0]";
        PolicyProvenance provenance = new PolicyProvenance("ef".repeat(32), "models/dllm-t4", "lag48", 128, 128, reward, List.of(0.0, 12.0),
                List.of("confidence_logodds", "knob"), "grpo", 1, 40, null, null, null, null);
        Path file = OnnxExporter.write(net, dir.resolve("policy.onnx"), 64, provenance);
        try (OrtSession session = Ort.env().createSession(file.toString(), new OrtSession.SessionOptions())) {
            Map<String, String> meta = session.getMetadata().getCustomMetadata();
            assertEquals("0.0,12.0", meta.get("unmask.provenance.knob_range"));
            assertEquals(reward, meta.get("unmask.provenance.reward"));
        }
        try (OnnxPolicyModel model = OnnxPolicyModel.load(file)) {
            assertEquals(List.of(0.0, 12.0), model.provenance().orElseThrow().knobRange());
        }
        SafetensorsExporter.write(net, dir.resolve("st"), provenance);
        byte[] raw = Files.readAllBytes(dir.resolve("st").resolve(SafetensorsExporter.WEIGHTS));
        Map<String, String> header = Safetensors.metadata(raw, "st");
        assertEquals("0.0,12.0", header.get("provenance.knob_range"));
        assertEquals(reward, header.get("provenance.reward"));
        JsonNode spec = Json.MAPPER.readTree(dir.resolve("st").resolve(SafetensorsExporter.SPEC).toFile());
        assertEquals(List.of(0.0, 12.0), Json.MAPPER.convertValue(spec.get("knob_range"), List.class));
        assertEquals(reward, spec.path("provenance").path("reward").asText());
        // a policy that reads no knob has no knob range in its spec
        SafetensorsExporter.write(sharp(PolicyConfig.defaults(7), 20), dir.resolve("plain"), null);
        assertFalse(Json.MAPPER.readTree(dir.resolve("plain").resolve(SafetensorsExporter.SPEC).toFile()).has("knob_range"));
    }

    /** An engine needs the dLLM's ids, the features, the knob range and the trained lengths: every export carries them, and reads them back. */
    @Test
    void theDecodingContractTravelsInOnnxMetadataTheSafetensorsHeaderAndTheSpec(@TempDir Path dir) throws Exception {
        PolicyNet net = new PolicyNet(new PolicyConfig(List.of("confidence_logodds", "top_is_eos", "knob"), 32, 2, 64, 5));
        PolicyProvenance provenance = new PolicyProvenance("ef".repeat(32), "models/dllm-t4", "lag48", 128, 32, "r", List.of(0.0, 12.0),
                List.of("confidence_logodds", "top_is_eos", "knob"), "grpo", 1, 40, null, null, null, null);
        Vocabulary llada = new Vocabulary(List.of("<pad>", "a", "<eos>", "b", "<mask>"), "<mask>", "<eos>", "<pad>");
        DecodingContract contract = DecodingContract.of(net.config(), provenance, llada);
        assertEquals(new DecodingContract(List.of("confidence_logodds", "top_is_eos", "knob"), 4, 2, 5, 32, 128, List.of(0.0, 12.0)), contract);

        Path file = OnnxExporter.write(net, dir.resolve("policy.onnx"), 64, provenance, contract);
        try (OrtSession session = Ort.env().createSession(file.toString(), new OrtSession.SessionOptions())) {
            Map<String, String> meta = session.getMetadata().getCustomMetadata();
            assertEquals("4", meta.get("unmask.dllm.mask_id"));
            assertEquals("2", meta.get("unmask.dllm.eos_id"));
            assertEquals("5", meta.get("unmask.dllm.vocab_size"));
            assertEquals("32", meta.get("unmask.trained_block_length"));
            assertEquals("128", meta.get("unmask.trained_gen_length"));
            assertEquals("0.0,12.0", meta.get("unmask.knob_range"));
            assertEquals("confidence_logodds,top_is_eos,knob", meta.get("unmask.features"));
        }
        try (OnnxPolicyModel model = OnnxPolicyModel.load(file)) {
            assertEquals(contract, model.contract());
        }
        SafetensorsExporter.write(net, dir.resolve("st"), provenance, contract);
        Map<String, String> header = Safetensors.metadata(Files.readAllBytes(dir.resolve("st").resolve(SafetensorsExporter.WEIGHTS)), "st");
        assertEquals(contract, DecodingContract.fromMetadata(header, "", "st"));
        JsonNode spec = Json.MAPPER.readTree(dir.resolve("st").resolve(SafetensorsExporter.SPEC).toFile());
        assertEquals(4, spec.path("dllm").path("mask_id").asInt());
        assertEquals(2, spec.path("dllm").path("eos_id").asInt());
        assertEquals(5, spec.path("dllm").path("vocab_size").asInt());
        assertEquals(32, spec.path("trained_block_length").asInt());
        assertTrue(spec.path("confidence_definition").asText().contains("other than the mask token"));
        assertTrue(spec.path("decision").asText().contains("highest logit"));

        // without the dLLM: its ids are left out (null in the spec), never guessed
        SafetensorsExporter.write(net, dir.resolve("bare"), null);
        JsonNode bare = Json.MAPPER.readTree(dir.resolve("bare").resolve(SafetensorsExporter.SPEC).toFile());
        assertTrue(bare.path("dllm").path("mask_id").isNull());
        assertTrue(bare.path("trained_block_length").isNull());
        assertFalse(Safetensors.metadata(Files.readAllBytes(dir.resolve("bare").resolve(SafetensorsExporter.WEIGHTS)), "bare").containsKey("dllm.mask_id"));
    }

    /**
     * The fallback compares logits, not probabilities: where the sigmoid rounds two logits to the same
     * p (here both underflow to 0 at a tiny temperature; in float32 runtimes much sooner), the higher
     * logit still wins, and equal logits go to the lower index, in every runtime.
     */
    @Test
    void theFallbackTakesTheHighestLogitAndTheLowerIndexOnTies() {
        float[] logits = {-1.0f, -0.9f, Float.NEGATIVE_INFINITY, -0.9f};
        BernoulliDecision d = BernoulliDecision.decide(logits, 0, 4, j -> j != 2, 0.001, false, null);
        assertEquals(1, d.fallback(), "p is 0 for both in double at T = 0.001; the logit tells them apart");
        BernoulliDecision tie = BernoulliDecision.decide(new float[]{-2f, -0.5f, -0.5f}, 0, 3, j -> true, 1.0, false, null);
        assertEquals(1, tie.fallback());
        BernoulliDecision first = BernoulliDecision.decide(new float[]{-3f, -3f}, 0, 2, j -> j == 1, 1.0, false, null);
        assertEquals(1, first.fallback(), "only eligible positions are candidates");
    }

    @Test
    void reportsPolicyForwardTimeInBothRuntimes(@TempDir Path dir) {
        PolicyNet net = sharp(PolicyConfig.defaults(6), 17);
        Path file = OnnxExporter.write(net, dir.resolve("policy.onnx"), 64);
        PolicyWindow w = randomWindow(8, 64, 1, new SplittableRandom(1));
        float[] elig = eligibleOf(w);
        try (OnnxPolicyModel onnx = OnnxPolicyModel.load(file)) {
            for (int i = 0; i < 5; i++) {
                net.logits(w);
                onnx.logits(w.features(), elig, 8, 64);
            }
            int n = 20;
            long t0 = System.nanoTime();
            for (int i = 0; i < n; i++) net.logits(w);
            long t1 = System.nanoTime();
            for (int i = 0; i < n; i++) onnx.logits(w.features(), elig, 8, 64);
            long t2 = System.nanoTime();
            System.err.printf("policy forward, batch 8 x 64 positions, d=32: SameDiff %.2f ms, ONNX Runtime %.2f ms (mean of %d)%n",
                    (t1 - t0) / 1e6 / n, (t2 - t1) / 1e6 / n, n);
        }
    }
}
