package dev.unmask.env.task;

import dev.unmask.env.UnmaskException;
import dev.unmask.env.denoiser.Vocabulary;

import java.util.*;

/** A verifiable task family: a seeded generator, an answer parser and an exact verifier. */
public interface Task {
    String name();

    /** Generation buffer length L used unless the user sets another. */
    int defaultGenLength();

    /** Draws one instance from the given split. */
    Example sample(Split split, SplittableRandom rng);

    /** The steps of a worked answer, as {@link LengthStats#steps} counts them (one per ','-separated part before '>'). */
    default int steps(String answer) {
        return LengthStats.steps(answer);
    }

    /**
     * For each character of a worked answer, the index of the step it belongs to: a step starts at
     * the beginning and at every ',' or '>' (as {@code dllm probe} cuts answers). Step k is the one
     * step k + 1 is computed from.
     */
    default int[] stepOfEachToken(String answer) {
        int[] out = new int[answer.length()];
        int step = 0;
        for (int i = 0; i < answer.length(); i++) {
            if (i > 0 && (answer.charAt(i) == ',' || answer.charAt(i) == '>')) step++;
            out[i] = step;
        }
        return out;
    }

    /** Whether the decoded answer text (the buffer up to its first EOS) solves the instance. */
    boolean isCorrect(Example example, String answerText);

    /** n distinct instances of a split, the same for the same seed. */
    default List<Example> dataset(Split split, long seed, int n) {
        SplittableRandom rng = new SplittableRandom(seed);
        Map<String, Example> seen = new LinkedHashMap<>();
        int tries = 0;
        while (seen.size() < n) {
            if (++tries > 1000L * n + 10000) throw new UnmaskException("task " + name() + " cannot produce " + n + " distinct " + split + " instances");
            Example e = sample(split, rng);
            seen.putIfAbsent(e.key(), e);
        }
        return new ArrayList<>(seen.values());
    }

    /** Draws until the instance falls in the wanted split. */
    static Example inSplit(Split split, SplittableRandom rng, java.util.function.Function<SplittableRandom, Example> draw) {
        while (true) {
            Example e = draw.apply(rng);
            if (Split.of(e.key()) == split) return e;
        }
    }

    /** Prompt tokens followed by the reference answer padded with EOS to genLength. */
    static int[] targetSequence(Vocabulary vocab, Example e, int genLength) {
        int[] prompt = vocab.encode(e.prompt());
        int[] answer = vocab.encode(e.answer());
        if (answer.length > genLength) {
            throw new UnmaskException("answer of " + e.task() + " instance " + e.key() + " needs " + answer.length + " tokens; buffer length " + genLength + " is too short");
        }
        int[] out = new int[prompt.length + genLength];
        System.arraycopy(prompt, 0, out, 0, prompt.length);
        System.arraycopy(answer, 0, out, prompt.length, answer.length);
        Arrays.fill(out, prompt.length + answer.length, out.length, vocab.eosId());
        return out;
    }

    /** The answer text of a decoded buffer: its tokens up to the first EOS. */
    static String answerText(Vocabulary vocab, int[] buffer) {
        StringBuilder sb = new StringBuilder();
        for (int id : buffer) {
            if (id == vocab.eosId()) break;
            sb.append(vocab.token(id));
        }
        return sb.toString();
    }
}
