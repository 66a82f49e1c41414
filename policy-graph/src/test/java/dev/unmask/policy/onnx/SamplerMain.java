package dev.unmask.policy.onnx;

import java.nio.file.Path;
import java.util.Arrays;

/** For the no-ND4J test: prints the sampler's choice for comma-separated confidences (NaN = unmasked). */
public final class SamplerMain {
    public static void main(String[] args) {
        String[] parts = args[1].split(",");
        float[] conf = new float[parts.length];
        for (int i = 0; i < parts.length; i++) conf[i] = Float.parseFloat(parts[i]);
        try (PolicySampler s = PolicySampler.greedy(Path.of(args[0]))) {
            System.out.println(Arrays.toString(s.select(conf, null)));
        }
    }
}
