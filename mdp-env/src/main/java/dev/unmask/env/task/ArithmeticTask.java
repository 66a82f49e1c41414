package dev.unmask.env.task;

import java.util.SplittableRandom;

/**
 * Multi-step addition/subtraction with a worked trace, evaluated left to right, in fixed-width
 * numbers (operands two digits, results three) so every digit has a fixed place.
 * Prompt {@code <arith>47+08-15=}, answer {@code 47+08=055,055-15=040>040}; 2 or 3 operands in
 * 0..99, every running total kept in 0..199. Answers are 13 or 24 tokens; the rest of the
 * 64-token buffer is EOS, which is where early end-of-sequence filling shows up.
 */
public final class ArithmeticTask implements Task {
    @Override
    public String name() {
        return "arith";
    }

    @Override
    public int defaultGenLength() {
        return 64;
    }

    @Override
    public Example sample(Split split, SplittableRandom rng) {
        return Task.inSplit(split, rng, this::draw);
    }

    private Example draw(SplittableRandom rng) {
        while (true) {
            int n = 2 + rng.nextInt(2);
            int total = rng.nextInt(100);
            StringBuilder expr = new StringBuilder(two(total));
            StringBuilder trace = new StringBuilder();
            boolean ok = true;
            for (int i = 1; i < n; i++) {
                int v = rng.nextInt(100);
                boolean plus = rng.nextBoolean();
                int next = plus ? total + v : total - v;
                if (next < 0 || next > 199) {
                    ok = false;
                    break;
                }
                expr.append(plus ? '+' : '-').append(two(v));
                if (trace.length() > 0) trace.append(',');
                trace.append(i == 1 ? two(total) : three(total)).append(plus ? '+' : '-').append(two(v)).append('=').append(three(next));
                total = next;
            }
            if (!ok) continue;
            return new Example(name(), expr.toString(), "<arith>" + expr + "=", trace + ">" + three(total));
        }
    }

    private static String two(int v) {
        return String.format("%02d", v);
    }

    private static String three(int v) {
        return String.format("%03d", v);
    }

    @Override
    public boolean isCorrect(Example example, String answerText) {
        int gt = example.answer().lastIndexOf('>');
        String expected = example.answer().substring(gt + 1);
        int at = answerText.lastIndexOf('>');
        return at >= 0 && answerText.substring(at + 1).equals(expected);
    }
}
