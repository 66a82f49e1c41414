package dev.unmask.runs.bench;

import dev.unmask.env.denoiser.Vocabulary;
import dev.unmask.dllm.onnx.OnnxDenoiser;
import dev.unmask.env.io.Safetensors;
import dev.unmask.dllm.BuiltinDllm;
import dev.unmask.dllm.DllmConfig;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Random;
import java.util.TreeMap;

/**
 * One environment step's dLLM call (forward + per-position statistics of 8 masked positions
 * per row, what {@code UnmaskingEnv} asks for) on a random model of architecture {@code arch} whose
 * head has {@code vocab} tokens: statistics computed in ONNX Runtime against logits copied to Java
 * and reduced there.
 */
public record SyntheticVocabBench(DllmConfig arch, int vocab, int length, int reps) {
    public void run() {
        List<String> tokens = new ArrayList<>();
        for (int i = 0; i < vocab; i++) tokens.add("t" + i);
        Vocabulary v = new Vocabulary(tokens, "t0", "t1", "t2");
        Random rng = new Random(11);
        Map<String, Safetensors.Tensor> w = new TreeMap<>();
        new BuiltinDllm(arch, Vocabulary.builtin()).weights().forEach((name, t) -> {
            long[] shape = t.shape().clone();
            if (name.equals("embed.tokens")) shape[0] = vocab;
            if (name.startsWith("head.")) shape[shape.length - 1] = vocab;
            int size = 1;
            for (long x : shape) size *= (int) x;
            float[] data = new float[size];
            for (int i = 0; i < size; i++) data[i] = name.endsWith(".gain") ? 1f : (float) (0.05 * rng.nextGaussian());
            w.put(name, new Safetensors.Tensor(shape, data));
        });

        System.out.println();
        System.out.printf(Locale.ROOT, "synthetic model: %s with a %,d-token vocabulary; one environment step = forward + statistics of 8 masked positions per row%n", arch.label(), vocab);
        System.out.println("| what | shape | median ms | tokens/s | GFLOP/s | % of peak |");
        System.out.println("|---|---|---|---|---|---|");
        for (boolean inJava : new boolean[]{true, false}) {
            if (inJava) System.setProperty(OnnxDenoiser.JAVA_STATISTICS_PROPERTY, "true");
            try (OnnxDenoiser d = OnnxDenoiser.ofBuiltin(arch, v, w, "synthetic head " + vocab, Path.of("synthetic-head"))) {
                for (int b : List.of(1, 8)) {
                    int[][] seqs = new int[b][length];
                    boolean[][] query = new boolean[b][length];
                    for (int r = 0; r < b; r++) {
                        for (int i = 0; i < length; i++) seqs[r][i] = 3 + rng.nextInt(vocab - 3);
                        for (int i = length - 8; i < length; i++) {
                            seqs[r][i] = v.maskId();
                            query[r][i] = true;
                        }
                    }
                    double ms = Timing.warmThenMedian(reps, () -> d.predict(seqs, query, false));
                    System.out.printf(Locale.ROOT, "| dLLM step, statistics in %s | %dx%d | %.2f | %.0f | | |%n", inJava ? "Java (logits copied)" : "ONNX Runtime",
                            b, length, ms, b * length / ms * 1e3);
                }
            } finally {
                System.clearProperty(OnnxDenoiser.JAVA_STATISTICS_PROPERTY);
            }
        }
    }
}
