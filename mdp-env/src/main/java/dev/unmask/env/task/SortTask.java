package dev.unmask.env.task;

import java.util.Arrays;
import java.util.SplittableRandom;
import java.util.stream.Collectors;

/**
 * Sort 3 to 7 two-digit numbers ascending. Prompt {@code <sort>42,07,93=}, answer
 * {@code 07,42,93}. Every output position depends on the whole input and on its neighbours
 * (no number may be skipped or repeated), so unmasking many positions at once is risky.
 */
public final class SortTask implements Task {
    @Override
    public String name() {
        return "sort";
    }

    @Override
    public int defaultGenLength() {
        return 32;
    }

    @Override
    public Example sample(Split split, SplittableRandom rng) {
        return Task.inSplit(split, rng, r -> {
            int[] v = new int[3 + r.nextInt(5)];
            for (int i = 0; i < v.length; i++) v[i] = r.nextInt(100);
            String in = Arrays.stream(v).mapToObj(x -> String.format("%02d", x)).collect(Collectors.joining(","));
            int[] s = v.clone();
            Arrays.sort(s);
            String out = Arrays.stream(s).mapToObj(x -> String.format("%02d", x)).collect(Collectors.joining(","));
            return new Example(name(), in, "<sort>" + in + "=", out);
        });
    }

    @Override
    public boolean isCorrect(Example example, String answerText) {
        return answerText.equals(example.answer());
    }
}
