package dev.unmask.env.task;

import java.util.SplittableRandom;

/**
 * Multi-step addition/subtraction with a worked trace, evaluated left to right.
 * Prompt {@code <arith>47+8-15=}, answer {@code 47+8=55,55-15=40>40}; 2 or 3 operands in 0..99,
 * every running total kept in 0..199. Answers vary in length (7 to 24 tokens), the rest of the
 * 64-token buffer is EOS: this is where early end-of-sequence filling shows up.
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
            StringBuilder expr = new StringBuilder().append(total);
            StringBuilder trace = new StringBuilder();
            boolean ok = true;
            for (int i = 1; i < n && ok; i++) {
                int v = rng.nextInt(100);
                boolean plus = rng.nextBoolean();
                int next = plus ? total + v : total - v;
                if (next < 0 || next > 199) {
                    ok = false;
                    break;
                }
                expr.append(plus ? '+' : '-').append(v);
                if (trace.length() > 0) trace.append(',');
                trace.append(total).append(plus ? '+' : '-').append(v).append('=').append(next);
                total = next;
            }
            if (!ok) continue;
            return new Example(name(), expr.toString(), "<arith>" + expr + "=", trace + ">" + total);
        }
    }

    @Override
    public boolean isCorrect(Example example, String answerText) {
        int gt = example.answer().lastIndexOf('>');
        String expected = example.answer().substring(gt + 1);
        int at = answerText.lastIndexOf('>');
        return at >= 0 && answerText.substring(at + 1).equals(expected);
    }
}
