package dev.unmask.env.task;

import java.util.SplittableRandom;

/**
 * A chain of single-digit additions and subtractions with a worked trace, evaluated left to right;
 * running totals are written with two digits; 3 to 5 operands, every running total in 0..99. Each
 * step depends on the one before, so unmasking a later total before the earlier ones are settled
 * is a gamble. The rest of the 64-token buffer is EOS, which is where early end-of-sequence
 * filling shows up. Two trace formats, same prompt {@code <arith>3+5-2+7=}:
 * <ul>
 *   <li>{@code arith} restates each total before adding to it: {@code 3+5=08,08-2=06,06+7=13>13}
 *       (17, 25 or 33 tokens). Every total then appears twice, and a small model learns to copy
 *       one occurrence from the other instead of adding, which careful decoding cannot use: both
 *       are masked at first (the shipped dllm-a reaches 11% on it).</li>
 *   <li>{@code arith-running} writes only each new total: {@code 3+5=08,-2=06,+7=13>13} (15, 21
 *       or 27 tokens). The only copy left is the final answer after the marker.</li>
 *   <li>{@code arith-chain} starts from the first operand as a two-digit total and then writes
 *       every step alike: {@code 03,+5=08,-2=06,+7=13>13} (17, 23 or 29 tokens). Each new total
 *       sits at the same offsets from the total, sign and digit it is computed from, so a model
 *       that reads the trace by offsets (rotary positions) could use one rule for every step. In
 *       the other two formats the first step is laid out differently from the rest. Measured
 *       (results/dllm-probe/arith-chain): the units digit of each total, a sum modulo 10, is what
 *       small models learn slowly and step by step; on this trace the later totals then rose
 *       together, and the shipped dllm-c (rotary, 32,000 steps) solves 94% of held-out prompts.</li>
 * </ul>
 */
public final class ArithmeticTask implements Task {
    /** How the worked trace is written (same prompts, same instances). */
    public enum Trace {
        RESTATE("arith"), RUNNING("arith-running"), CHAIN("arith-chain");

        final String taskName;

        Trace(String taskName) {
            this.taskName = taskName;
        }
    }

    private final Trace trace;

    /** The original {@code arith} format, which restates each running total. */
    public ArithmeticTask() {
        this(Trace.RESTATE);
    }

    public ArithmeticTask(Trace trace) {
        this.trace = trace;
    }

    @Override
    public String name() {
        return trace.taskName;
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
            int n = 3 + rng.nextInt(3);
            int total = rng.nextInt(10);
            StringBuilder expr = new StringBuilder().append(total);
            StringBuilder trace = new StringBuilder();
            boolean ok = true;
            for (int i = 1; i < n; i++) {
                int v = rng.nextInt(10);
                boolean plus = rng.nextBoolean();
                int next = plus ? total + v : total - v;
                if (next < 0 || next > 99) {
                    ok = false;
                    break;
                }
                expr.append(plus ? '+' : '-').append(v);
                if (this.trace == Trace.CHAIN) {
                    if (i == 1) trace.append(two(total));
                    trace.append(',');
                } else {
                    if (trace.length() > 0) trace.append(',');
                    if (i == 1) trace.append(total);
                    else if (this.trace == Trace.RESTATE) trace.append(two(total));
                }
                trace.append(plus ? '+' : '-').append(v).append('=').append(two(next));
                total = next;
            }
            if (!ok) continue;
            return new Example(name(), expr.toString(), "<arith>" + expr + "=", trace + ">" + two(total));
        }
    }

    private static String two(int v) {
        return String.format("%02d", v);
    }

    @Override
    public boolean isCorrect(Example example, String answerText) {
        int gt = example.answer().lastIndexOf('>');
        String expected = example.answer().substring(gt + 1);
        int at = answerText.lastIndexOf('>');
        return at >= 0 && answerText.substring(at + 1).equals(expected);
    }
}
