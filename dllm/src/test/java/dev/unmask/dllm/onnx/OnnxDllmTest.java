package dev.unmask.dllm.onnx;

import dev.unmask.dllm.DllmCheckpoint;
import dev.unmask.env.io.Json;
import dev.unmask.env.UnmaskException;
import dev.unmask.env.denoiser.Predictions;
import dev.unmask.env.denoiser.Vocabulary;
import dev.unmask.dllm.onnx.DllmDescriptor;
import dev.unmask.dllm.onnx.DllmOnnxExporter;
import dev.unmask.dllm.onnx.HfTokenizer;
import dev.unmask.dllm.onnx.OnnxDenoiser;
import dev.unmask.env.io.Safetensors;
import dev.unmask.env.mdp.*;
import dev.unmask.dllm.BuiltinDllm;
import dev.unmask.dllm.DllmConfig;
import dev.unmask.env.task.*;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.*;

import static org.junit.jupiter.api.Assertions.*;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

/** The built-in dLLM exported to ONNX and run through ONNX Runtime gives what the ND4J path gives. */
class OnnxDllmTest {
    /**
     * A small built-in model whose weights are redrawn with a large spread, so its logits are far
     * apart (a freshly initialised model is near-uniform and top-1 near-ties would test nothing).
     */
    static BuiltinDllm sharpModel(long seed) {
        return sharpModel(new DllmConfig(32, 2, 4, 64, 96, seed));
    }

    static BuiltinDllm sharpModel(DllmConfig config) {
        long seed = config.initSeed();
        BuiltinDllm m = new BuiltinDllm(config, Vocabulary.builtin());
        Random rng = new Random(seed);
        Map<String, Safetensors.Tensor> w = new TreeMap<>();
        m.weights().forEach((name, t) -> {
            float[] data = new float[t.data().length];
            for (int i = 0; i < data.length; i++) {
                data[i] = name.endsWith(".gain") ? (float) (1 + 0.2 * rng.nextGaussian()) : (float) (0.5 * rng.nextGaussian());
            }
            w.put(name, new Safetensors.Tensor(t.shape(), data));
        });
        // like a trained model, never predict the mask or padding token (writing the mask id back
        // would leave a position masked for ever)
        float[] headBias = w.get("head.bias").data();
        headBias[m.vocabulary().maskId()] = -100;
        headBias[m.vocabulary().padId()] = -100;
        m.loadWeights(w, "test");
        return m;
    }

    /** Unmasks the single most confident eligible position (lowest on ties). */
    static final class Top1 implements UnmaskPolicy {
        public String name() {
            return "top1";
        }

        public Map<String, Object> params() {
            return Map.of();
        }

        public boolean[][] select(StepObservation o) {
            boolean[][] a = new boolean[o.rows()][o.genLength()];
            for (int r = 0; r < o.rows(); r++) {
                int best = -1;
                for (int i = 0; i < o.genLength(); i++) {
                    if (o.eligible()[r][i] && (best < 0 || o.confidence()[r][i] > o.confidence()[r][best])) best = i;
                }
                a[r][best] = true;
            }
            return a;
        }
    }

    /** Random-length rows of random tokens with some masks: a mixed-length (padded) batch. */
    static int[][] randomBatch(Vocabulary v, int rows, long seed) {
        SplittableRandom r = new SplittableRandom(seed);
        int[][] out = new int[rows][];
        for (int b = 0; b < rows; b++) {
            out[b] = new int[5 + r.nextInt(60)];
            for (int i = 0; i < out[b].length; i++) out[b][i] = r.nextInt(4) == 0 ? v.maskId() : 3 + r.nextInt(v.size() - 3);
        }
        return out;
    }

    static boolean[][] all(int[][] s) {
        boolean[][] q = new boolean[s.length][];
        for (int b = 0; b < s.length; b++) {
            q[b] = new boolean[s[b].length];
            Arrays.fill(q[b], true);
        }
        return q;
    }

    /** Max |a - b| over every queried position; asserts the same top-1 everywhere. */
    static double maxConfidenceDiff(Predictions a, Predictions b) {
        double max = 0;
        for (int r = 0; r < a.confidence().length; r++) {
            assertArrayEquals(a.top1()[r], b.top1()[r], "top-1 tokens of row " + r);
            for (int i = 0; i < a.confidence()[r].length; i++) {
                assertEquals(Float.isNaN(a.confidence()[r][i]), Float.isNaN(b.confidence()[r][i]), "the same positions are reported");
                if (Float.isNaN(a.confidence()[r][i])) continue; // not queried
                max = Math.max(max, Math.abs(a.confidence()[r][i] - b.confidence()[r][i]));
                max = Math.max(max, Math.abs(a.entropy()[r][i] - b.entropy()[r][i]));
                max = Math.max(max, Math.abs(a.top2Prob()[r][i] - b.top2Prob()[r][i]));
            }
        }
        return max;
    }

    @Test
    void exportedDllmGivesTheSameConfidencesAndAnswersAsNd4j(@TempDir Path dir) {
        BuiltinDllm nd4j = sharpModel(7);
        DllmOnnxExporter.export(nd4j, dir.resolve("onnx"));
        for (String f : List.of("model.onnx", "descriptor.json", "vocab.json", "checksums.json")) assertTrue(Files.isRegularFile(dir.resolve("onnx").resolve(f)), f);
        try (OnnxDenoiser ort = OnnxDenoiser.load(dir.resolve("onnx/descriptor.json"))) {
            assertEquals(nd4j.vocabulary(), ort.vocabulary());
            try (var viaFolder = Denoisers.load(dir.resolve("onnx"))) {
                assertInstanceOf(OnnxDenoiser.class, viaFolder, "a folder with descriptor.json opens through ONNX Runtime");
            }
            assertEquals(96, ort.maxLength());
            assertTrue(ort.describe().startsWith("onnx:exported from builtin:d32-l2-h4 sha256="), ort.describe());

            int[][] batch = randomBatch(nd4j.vocabulary(), 12, 3);
            double diff = maxConfidenceDiff(nd4j.predict(batch, all(batch), false), ort.predict(batch, all(batch), false));
            System.err.printf("dLLM ONNX parity: max |confidence/top2/entropy diff| on a padded batch = %.3g%n", diff);
            assertTrue(diff <= 1e-4, "max diff " + diff);

            // whole held-out episodes through the environment: the same buffers, answers and NFE
            Task arith = Tasks.byName("arith");
            List<Example> heldOut = arith.dataset(Split.TEST, 11, 12);
            double stepDiff = 0;
            for (int block : new int[]{8, 64}) {
                UnmaskingEnv a = new UnmaskingEnv(nd4j, arith, 64, block, 0, Reward.DEFAULT);
                UnmaskingEnv b = new UnmaskingEnv(ort, arith, 64, block, 0, Reward.DEFAULT);
                a.reset(heldOut, 5);
                b.reset(heldOut, 5);
                Top1 policy = new Top1();
                while (!a.done()) {
                    assertFalse(b.done());
                    StepObservation oa = a.observe(), ob = b.observe();
                    for (int r = 0; r < oa.rows(); r++) {
                        for (int i = 0; i < oa.genLength(); i++) {
                            if (oa.masked()[r][i]) stepDiff = Math.max(stepDiff, Math.abs(oa.confidence()[r][i] - ob.confidence()[r][i]));
                        }
                    }
                    boolean[][] act = policy.select(oa);
                    assertArrayEquals(act, policy.select(ob));
                    a.step(act);
                    b.step(act);
                }
                assertTrue(b.done());
                List<EpisodeResult> ra = a.results(), rb = b.results();
                for (int i = 0; i < ra.size(); i++) {
                    assertArrayEquals(ra.get(i).buffer(), rb.get(i).buffer(), "episode " + i);
                    assertEquals(ra.get(i).answerText(), rb.get(i).answerText());
                    assertEquals(ra.get(i).nfe(), rb.get(i).nfe());
                }
            }
            System.err.printf("dLLM ONNX parity: max |confidence diff| over held-out episodes = %.3g%n", stepDiff);
            assertTrue(stepDiff <= 1e-4, "max diff " + stepDiff);
        }
    }

    @Test
    void aBuiltinCheckpointRunsInOnnxRuntimeByDefaultWithTheSameStatistics(@TempDir Path dir) {
        BuiltinDllm nd4j = sharpModel(new DllmConfig(32, 2, 4, 64, 96, 9, true, false));
        DllmCheckpoint.save(dir.resolve("ck"), nd4j);
        try (var byDefault = Denoisers.load(dir.resolve("ck"));
             var sameDiff = Denoisers.load(dir.resolve("ck"), Denoisers.Engine.SAMEDIFF)) {
            assertInstanceOf(OnnxDenoiser.class, byDefault, "a built-in checkpoint runs in ONNX Runtime unless samediff is asked for");
            assertInstanceOf(BuiltinDllm.class, sameDiff);
            assertTrue(byDefault.describe().startsWith("builtin:d32-l2-h4-rope ck weights-sha256="), byDefault.describe());
            int[][] batch = randomBatch(nd4j.vocabulary(), 16, 4);
            boolean[][] query = all(batch);
            for (int b = 0; b < batch.length; b++) query[b][b % batch[b].length] = false; // unqueried positions stay empty
            Predictions a = sameDiff.predict(batch, query, true), o = byDefault.predict(batch, query, true);
            // this random model's large activations amplify float rounding; the shipped models agree to 1e-5 (ShippedModelsTest)
            double diff = maxConfidenceDiff(a, o);
            assertTrue(diff <= 1e-4, "max diff " + diff);
            for (int b = 0; b < batch.length; b++) {
                int skipped = b % batch[b].length;
                assertEquals(-1, o.top1()[b][skipped]);
                assertTrue(Float.isNaN(o.confidence()[b][skipped]) && o.distributions()[b][skipped] == null);
                int at = (skipped + 1) % batch[b].length;
                float[] pa = a.distributions()[b][at], po = o.distributions()[b][at];
                for (int v = 0; v < pa.length; v++) assertEquals(pa[v], po[v], 1e-4, "distribution of row " + b);
            }
        }
    }

    @Test
    void statisticsComputedInOnnxRuntimeMatchTheJavaDefinitionsOnALargeVocabulary(@TempDir Path dir) {
        // a synthetic head of 5,000 tokens with sharp logits and exact ties between the top two
        int vocab = 5000, d = 16;
        List<String> tokens = new ArrayList<>();
        for (int i = 0; i < vocab; i++) tokens.add("t" + i);
        Vocabulary v = new Vocabulary(tokens, "t0", "t1", "t2");
        DllmConfig c = new DllmConfig(d, 1, 2, 32, 40, 1);
        Random rng = new Random(3);
        Map<String, Safetensors.Tensor> w = new TreeMap<>();
        new BuiltinDllm(new DllmConfig(d, 1, 2, 32, 40, 1), Vocabulary.builtin()).weights().forEach((name, t) -> {
            long[] shape = t.shape().clone();
            if (name.equals("embed.tokens")) shape[0] = vocab;
            if (name.startsWith("head.")) shape[shape.length - 1] = vocab;
            int size = 1;
            for (long s2 : shape) size *= (int) s2;
            float[] data = new float[size];
            for (int i = 0; i < size; i++) data[i] = name.endsWith(".gain") ? 1f : (float) (rng.nextGaussian() * (name.startsWith("head.") ? 2 : 0.5));
            w.put(name, new Safetensors.Tensor(shape, data));
        });
        // the mask token gets the largest logit: it must still be neither top-1 nor top-2, and still count in the entropy
        w.get("head.bias").data()[v.maskId()] = 50;
        DllmOnnxExporter.export(c, v, w, "synthetic", dir.resolve("big"));
        int[][] batch = new int[3][];
        SplittableRandom r = new SplittableRandom(5);
        for (int b = 0; b < 3; b++) {
            batch[b] = new int[10 + 7 * b];
            for (int i = 0; i < batch[b].length; i++) batch[b][i] = i % 3 == 0 ? v.maskId() : 3 + r.nextInt(vocab - 3);
        }
        Predictions inOrt, inJava;
        try (OnnxDenoiser ort = OnnxDenoiser.load(dir.resolve("big/descriptor.json"))) {
            inOrt = ort.predict(batch, all(batch), false);
        }
        System.setProperty(OnnxDenoiser.JAVA_STATISTICS_PROPERTY, "true");
        try (OnnxDenoiser java = OnnxDenoiser.load(dir.resolve("big/descriptor.json"))) {
            inJava = java.predict(batch, all(batch), false);
        } finally {
            System.clearProperty(OnnxDenoiser.JAVA_STATISTICS_PROPERTY);
        }
        assertTrue(maxConfidenceDiff(inJava, inOrt) <= 1e-5);
        for (int[] row : inOrt.top1()) for (int id : row) assertNotEquals(v.maskId(), id, "the mask is never predicted");
        assertTrue(inOrt.entropy()[0][0] < 1, "the mask's mass (almost all of it) counts in the entropy");
    }

    @Test
    void aRotaryModelExportsToTheSameConfidences(@TempDir Path dir) {
        BuiltinDllm nd4j = sharpModel(new DllmConfig(32, 2, 4, 64, 96, 9, true, false));
        DllmOnnxExporter.export(nd4j, dir.resolve("onnx"));
        try (OnnxDenoiser ort = OnnxDenoiser.load(dir.resolve("onnx/descriptor.json"))) {
            assertTrue(ort.describe().startsWith("onnx:exported from builtin:d32-l2-h4-rope "), ort.describe());
            int[][] batch = randomBatch(nd4j.vocabulary(), 12, 5);
            double diff = maxConfidenceDiff(nd4j.predict(batch, all(batch), false), ort.predict(batch, all(batch), false));
            System.err.printf("rotary dLLM ONNX parity: max |confidence/top2/entropy diff| on a padded batch = %.3g%n", diff);
            assertTrue(diff <= 1e-4, "max diff " + diff);
        }
    }

    @Test
    void aRotaryOnlyModelHasNoPositionTableAndExportsToTheSameConfidences(@TempDir Path dir) {
        BuiltinDllm nd4j = sharpModel(new DllmConfig(32, 2, 4, 64, 96, 10, true, false, true));
        assertFalse(nd4j.weights().containsKey("embed.positions"));
        DllmOnnxExporter.export(nd4j, dir.resolve("onnx"));
        try (OnnxDenoiser ort = OnnxDenoiser.load(dir.resolve("onnx/descriptor.json"))) {
            int[][] batch = randomBatch(nd4j.vocabulary(), 12, 6);
            double diff = maxConfidenceDiff(nd4j.predict(batch, all(batch), false), ort.predict(batch, all(batch), false));
            assertTrue(diff <= 1e-4, "max diff " + diff);
        }
    }

    @Test
    void aModelWithoutAttentionMaskRunsEqualLengthGroups(@TempDir Path dir) throws Exception {
        BuiltinDllm nd4j = sharpModel(8);
        Files.write(dir.resolve("m.onnx"), DllmOnnxExporter.onnxBytes(nd4j.config(), nd4j.vocabulary().size(), nd4j.weights(), "t", false));
        Files.writeString(dir.resolve("vocab.json"), Json.write(nd4j.vocabulary()));
        Vocabulary v = nd4j.vocabulary();
        Files.writeString(dir.resolve("d.json"), """
                {"onnx": "m.onnx", "input_ids": "input_ids", "logits": "logits", "vocab": "vocab.json",
                 "mask_id": %d, "eos_id": %d, "pad_id": %d, "max_length": 96}""".formatted(v.maskId(), v.eosId(), v.padId()));
        try (OnnxDenoiser ort = OnnxDenoiser.load(dir.resolve("d.json"))) {
            int[][] batch = randomBatch(v, 8, 4);
            batch[3] = batch[1].clone(); // two rows of one length share a call
            double diff = maxConfidenceDiff(nd4j.predict(batch, all(batch), false), ort.predict(batch, all(batch), false));
            assertTrue(diff <= 1e-4, "max diff " + diff);
        }
    }

    private static Path descriptor(Path dir, String json) throws Exception {
        Path f = dir.resolve("bad-" + Math.abs(json.hashCode()) + ".json");
        Files.writeString(f, json);
        return f;
    }

    private static String oneLineError(Path descriptor) {
        UnmaskException e = assertThrows(UnmaskException.class, () -> OnnxDenoiser.load(descriptor).close());
        assertFalse(e.getMessage().contains("\n"), "one line: " + e.getMessage());
        return e.getMessage();
    }

    @Test
    void badDescriptorsAreOneClearLine(@TempDir Path dir) throws Exception {
        BuiltinDllm m = new BuiltinDllm(new DllmConfig(16, 1, 2, 32, 64, 1), Vocabulary.builtin());
        Path ex = dir.resolve("ex");
        DllmOnnxExporter.export(m, ex);
        String good = Files.readString(ex.resolve("descriptor.json"));

        Path missing = descriptor(ex, good.replaceAll("\"mask_id\" : \\d+,", ""));
        assertEquals("descriptor " + missing + ": missing required field 'mask_id'", oneLineError(missing));

        // a 20-token inline vocabulary for a model with one logit per built-in token
        List<String> twenty = Vocabulary.builtin().tokens().subList(0, 20);
        Path small = descriptor(ex, good.replace("\"vocab\" : \"vocab.json\"", "\"tokens\" : " + Json.writeLine(twenty)));
        String msg = oneLineError(small);
        assertTrue(msg.startsWith("vocabulary mismatch: ONNX output 'logits' of model.onnx has " + Vocabulary.builtin().size()
                + " entries on its vocab axis but descriptor " + small + " gives 20 tokens"), msg);

        Path wrongInput = descriptor(ex, good.replace("\"input_ids\" : \"input_ids\"", "\"input_ids\" : \"tokens\""));
        msg = oneLineError(wrongInput);
        assertTrue(msg.endsWith("the descriptor's input_ids names input 'tokens', but the model's inputs are [attention_mask, input_ids]")
                || msg.endsWith("the descriptor's input_ids names input 'tokens', but the model's inputs are [input_ids, attention_mask]"), msg);

        Path wrongOutput = descriptor(ex, good.replace("\"logits\" : \"logits\"", "\"logits\" : \"scores\""));
        assertTrue(oneLineError(wrongOutput).endsWith("the descriptor's logits names output 'scores', but the model's outputs are [logits]"));

        Path noMask = descriptor(ex, good.replace("\"attention_mask\" : \"attention_mask\",", ""));
        assertTrue(oneLineError(noMask).contains("the model needs input 'attention_mask' that the descriptor does not name"));

        Path badId = descriptor(ex, good.replaceAll("\"mask_id\" : \\d+", "\"mask_id\" : 99").replace("\"vocab\" : \"vocab.json\"", "\"tokens\" : " + Json.writeLine(Vocabulary.builtin().tokens())));
        assertEquals("descriptor " + badId + ": mask_id 99 is outside the vocabulary 0.." + (Vocabulary.builtin().size() - 1), oneLineError(badId));

        Path typo = descriptor(ex, good.replace("\"provider\"", "\"providr\""));
        assertTrue(oneLineError(typo).startsWith("descriptor " + typo + ": unknown field 'providr'"));

        Path gpu = descriptor(ex, good.replace("\"provider\" : \"cpu\"", "\"provider\" : \"tpu\""));
        assertEquals("descriptor " + gpu + ": provider must be 'cpu' or 'cuda', got 'tpu'", oneLineError(gpu));

        Files.write(ex.resolve("garbage.onnx"), new byte[]{1, 2, 3, 4});
        Path garbage = descriptor(ex, good.replace("\"model.onnx\"", "\"garbage.onnx\""));
        assertTrue(oneLineError(garbage).contains("ONNX Runtime cannot load"));

        // too long for the model, through the Denoiser contract
        try (OnnxDenoiser d = OnnxDenoiser.load(ex.resolve("descriptor.json"))) {
            UnmaskException e = assertThrows(UnmaskException.class, () -> d.predict(new int[][]{new int[65]}, new boolean[][]{new boolean[65]}, false));
            assertEquals("sequence 0 has 65 tokens; the model allows 1..64", e.getMessage());
        }
    }

    static final String TOKENIZER_JSON = """
            {
              "version": "1.0",
              "truncation": null,
              "padding": null,
              "added_tokens": [
                {"id": 0, "content": "[UNK]", "single_word": false, "lstrip": false, "rstrip": false, "normalized": false, "special": true},
                {"id": 1, "content": "[MASK]", "single_word": false, "lstrip": false, "rstrip": false, "normalized": false, "special": true},
                {"id": 2, "content": "[EOS]", "single_word": false, "lstrip": false, "rstrip": false, "normalized": false, "special": true}
              ],
              "normalizer": {"type": "Lowercase"},
              "pre_tokenizer": {"type": "Whitespace"},
              "post_processor": null,
              "decoder": null,
              "model": {"type": "WordLevel", "unk_token": "[UNK]",
                        "vocab": {"[UNK]": 0, "[MASK]": 1, "[EOS]": 2, "the": 3, "cat": 4, "sat": 5, "on": 6, "mat": 7, ".": 8}}
            }
            """;

    @Test
    void huggingFaceTokenizerRoundTrips(@TempDir Path dir) throws Exception {
        Path file = dir.resolve("tokenizer.json");
        Files.writeString(file, TOKENIZER_JSON);
        HfTokenizer tok;
        try {
            tok = HfTokenizer.load(file);
        } catch (UnmaskException e) {
            assumeTrue(!e.getMessage().contains("native library"), "the tokenizers native library cannot be loaded here: " + e.getMessage());
            throw e;
        }
        try (tok) {
            assertArrayEquals(new int[]{3, 4, 5, 6, 3, 7, 8}, tok.encode("The cat sat on the mat."));
            assertArrayEquals(new int[]{3, 0, 5}, tok.encode("the dog sat"), "unknown words map to [UNK]");
            assertEquals("the cat sat on the mat .", tok.decode(new int[]{3, 4, 5, 6, 3, 7, 8}));
            assertEquals("the cat", tok.decode(new int[]{3, 1, 4, 2}), "special tokens are skipped");
        }
        // a descriptor can take its vocabulary from the same file
        List<String> vocab = DllmDescriptorAccess.tokenizerVocabulary(file);
        assertEquals(List.of("[UNK]", "[MASK]", "[EOS]", "the", "cat", "sat", "on", "mat", "."), vocab);
        UnmaskException e = assertThrows(UnmaskException.class, () -> HfTokenizer.load(dir.resolve("nope.json")));
        assertEquals("tokenizer " + dir.resolve("nope.json") + " does not exist", e.getMessage());
    }

    /** DllmDescriptor reads a tokenizer.json's vocabulary without the native library. */
    static final class DllmDescriptorAccess {
        static List<String> tokenizerVocabulary(Path tokenizer) throws Exception {
            Path d = tokenizer.resolveSibling("tok-descriptor.json");
            Files.writeString(d, """
                    {"onnx": "x.onnx", "input_ids": "input_ids", "logits": "logits", "tokenizer": "tokenizer.json",
                     "mask_id": 1, "eos_id": 2, "pad_id": 2, "max_length": 16}""");
            DllmDescriptor desc = DllmDescriptor.load(d);
            assertEquals(tokenizer.toAbsolutePath(), desc.tokenizer().toAbsolutePath());
            assertEquals(1, desc.vocabulary().maskId());
            return desc.vocabulary().tokens();
        }
    }
}
