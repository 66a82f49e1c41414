package dev.unmask.dllm;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.unmask.env.denoiser.Predictions;
import dev.unmask.env.denoiser.Vocabulary;
import dev.unmask.env.task.Example;
import dev.unmask.env.task.Split;
import dev.unmask.env.task.Tasks;
import org.junit.jupiter.api.Test;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.SplittableRandom;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The fast engine's statistics as committed test vectors ({@code python/tests/data/fast-engine-vectors.json}):
 * the Python package's replica ({@code unmask_torch.java_fast}) must give the same float bits
 * (pytest {@code test_java_fast.py}), and this test keeps the file true to {@link FastDllm}, so a
 * change on either side fails one of the two. Confidence, top-1 token and entropy of every masked
 * position of a few half-written answers, on two shipped models (rotary and learned positions).
 *
 * <p>Bit for bit on the CPU model the file was made on (its {@code cpu} field: OpenBLAS picks its
 * sgemm kernels by CPU), with one BLAS thread (the test JVM's {@code OMP_NUM_THREADS=1}; OpenBLAS
 * rounds differently on several); on other CPUs within float rounding. To remake the file after a
 * deliberate change of the forward: {@code mvn -q test -pl dllm -am -Dtest=FastEngineVectorsTest
 * -Dsurefire.failIfNoSpecifiedTests=false -Dpython.tests.skip=true -Dunmask.vectors.write=true}.
 */
class FastEngineVectorsTest {
    static final List<String[]> MODELS = List.of(new String[]{"dllm-t7", "ducci"}, new String[]{"dllm-a", "sudoku"});
    static final int ROWS = 3;

    @Test
    void committedVectorsAreTheFastEnginesStatisticsBitForBit() throws IOException {
        Path file = FastDllmTest.models().getParent().resolve("python/tests/data/fast-engine-vectors.json");
        ObjectMapper json = new ObjectMapper().enable(SerializationFeature.INDENT_OUTPUT);
        if (Boolean.getBoolean("unmask.vectors.write")) {
            Files.writeString(file, json.writeValueAsString(make(json)) + "\n");
        }
        JsonNode committed = json.readTree(file.toFile());
        boolean exact = committed.path("cpu").asText().equals(cpu());
        int checked = 0;
        for (JsonNode model : committed.path("models")) {
            FastDllm dllm = FastDllm.ofCheckpoint(FastDllmTest.models().resolve(model.path("model").asText()));
            for (JsonNode row : model.path("rows")) {
                int[] tokens = ints(row.path("tokens"));
                boolean[] query = masked(tokens, dllm.vocabulary().maskId());
                Predictions p = dllm.predict(new int[][]{tokens}, new boolean[][]{query}, false);
                int k = 0;
                for (int i = 0; i < tokens.length; i++) {
                    if (!query[i]) continue;
                    String where = model.path("model").asText() + " position " + i;
                    assertEquals(row.path("top1").get(k).asInt(), p.top1()[0][i], where);
                    float conf = Float.intBitsToFloat(row.path("confidence_bits").get(k).asInt());
                    float ent = Float.intBitsToFloat(row.path("entropy_bits").get(k).asInt());
                    if (exact) {
                        assertEquals(Float.floatToRawIntBits(conf), Float.floatToRawIntBits(p.confidence()[0][i]), where + " confidence");
                        assertEquals(Float.floatToRawIntBits(ent), Float.floatToRawIntBits(p.entropy()[0][i]), where + " entropy");
                    } else {
                        assertEquals(conf, p.confidence()[0][i], 1e-5f, where + " confidence");
                        assertEquals(ent, p.entropy()[0][i], 1e-4f, where + " entropy");
                    }
                    k++;
                    checked++;
                }
            }
        }
        assertTrue(checked > 200, "the file holds too few positions: " + checked);
    }

    /** A few test prompts of each model's task with a third of the answer written (the rest masked), one row at a time. */
    private static ObjectNode make(ObjectMapper json) {
        ObjectNode root = json.createObjectNode();
        root.put("about", "FastDllm (--dllm-engine fast) statistics, one BLAS thread; written by dllm/src/test/java/dev/unmask/dllm/FastEngineVectorsTest.java");
        root.put("cpu", cpu());
        ArrayNode models = root.putArray("models");
        for (String[] m : MODELS) {
            FastDllm dllm = FastDllm.ofCheckpoint(FastDllmTest.models().resolve(m[0]));
            Vocabulary v = dllm.vocabulary();
            ObjectNode mn = models.addObject();
            mn.put("model", m[0]);
            mn.put("task", m[1]);
            ArrayNode rows = mn.putArray("rows");
            List<Example> examples = Tasks.byName(m[1]).dataset(Split.TEST, 5, ROWS);
            SplittableRandom rnd = new SplittableRandom(11);
            for (Example e : examples) {
                int[] prompt = v.encode(e.prompt()), answer = v.encode(e.answer());
                int gen = Tasks.byName(m[1]).defaultGenLength();
                int[] tokens = Arrays.copyOf(prompt, prompt.length + gen);
                for (int j = 0; j < gen; j++) tokens[prompt.length + j] = j < answer.length && rnd.nextInt(3) == 0 ? answer[j] : v.maskId();
                boolean[] query = masked(tokens, v.maskId());
                Predictions p = dllm.predict(new int[][]{tokens}, new boolean[][]{query}, false);
                ObjectNode rn = rows.addObject();
                ArrayNode t = rn.putArray("tokens"), top1 = rn.putArray("top1"), conf = rn.putArray("confidence_bits"), ent = rn.putArray("entropy_bits");
                for (int tok : tokens) t.add(tok);
                for (int i = 0; i < tokens.length; i++) {
                    if (!query[i]) continue;
                    top1.add(p.top1()[0][i]);
                    conf.add(Float.floatToRawIntBits(p.confidence()[0][i]));
                    ent.add(Float.floatToRawIntBits(p.entropy()[0][i]));
                }
            }
        }
        return root;
    }

    /** The CPU's model name and whether it has AVX-512 (what OpenBLAS's DYNAMIC_ARCH build chooses its kernels by). */
    static String cpu() {
        try {
            String info = Files.readString(Path.of("/proc/cpuinfo"));
            String model = info.lines().filter(l -> l.startsWith("model name")).findFirst().map(l -> l.substring(l.indexOf(':') + 1).trim()).orElse("?");
            return model + (info.contains(" avx512f") ? ", avx512f" : "");
        } catch (IOException e) {
            return "?";
        }
    }

    /** The positions holding the mask token: where a step queries the dLLM. */
    private static boolean[] masked(int[] tokens, int maskId) {
        boolean[] q = new boolean[tokens.length];
        for (int i = 0; i < tokens.length; i++) q[i] = tokens[i] == maskId;
        return q;
    }

    private static int[] ints(JsonNode array) {
        List<Integer> out = new ArrayList<>();
        array.forEach(n -> out.add(n.asInt()));
        return out.stream().mapToInt(Integer::intValue).toArray();
    }
}
