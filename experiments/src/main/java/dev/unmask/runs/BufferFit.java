package dev.unmask.runs;

import dev.unmask.env.UnmaskException;
import dev.unmask.env.denoiser.Vocabulary;
import dev.unmask.env.task.Example;
import dev.unmask.env.task.Split;
import dev.unmask.env.task.Task;

/**
 * A buffer shorter than an answer cannot be decoded correctly: every such episode would be scored
 * wrong and the table would read like a bad policy. Checked before any work, naming the flag.
 */
public final class BufferFit {
    private BufferFit() {
    }

    /** @param setting what set the length, for the message (e.g. "--gen-length", "config key genLength") */
    public static void check(Vocabulary vocab, Task task, int genLength, Split split, long seed, int n, String setting) {
        int longest = 0;
        Example worst = null;
        for (Example e : task.dataset(split, seed, n)) {
            int len = vocab.encode(e.answer()).length;
            if (len > longest) {
                longest = len;
                worst = e;
            }
        }
        if (longest > genLength) {
            throw new UnmaskException(setting + " " + genLength + " is shorter than the answers of task " + task.name()
                    + " (instance " + worst.key() + " needs " + longest + " tokens)");
        }
    }
}
