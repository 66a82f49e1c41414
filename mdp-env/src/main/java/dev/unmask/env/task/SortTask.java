package dev.unmask.env.task;

import java.util.Arrays;
import java.util.SplittableRandom;
import java.util.stream.Collectors;

/**
 * Sort 3 to 8 digits ascending. Prompt {@code <sort>7,2,9,2=}, answer {@code 2,2,7,9}. Every output position depends on the whole input and on its neighbours
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
            int[] v = new int[3 + r.nextInt(6)];
            for (int i = 0; i < v.length; i++) v[i] = r.nextInt(10);
            String in = Arrays.stream(v).mapToObj(Integer::toString).collect(Collectors.joining(","));
            int[] s = v.clone();
            Arrays.sort(s);
            String out = Arrays.stream(s).mapToObj(Integer::toString).collect(Collectors.joining(","));
            return new Example(name(), in, "<sort>" + in + "=", out);
        });
    }

    @Override
    public boolean isCorrect(Example example, String answerText) {
        return answerText.equals(example.answer());
    }
}
