package dev.unmask.nn;

import java.io.OutputStream;
import java.io.PrintStream;
import java.util.function.Supplier;

/**
 * SameDiff prints "Added differentiated op ..." with System.out.println, once per op, the first
 * time it builds a gradient graph; logging config cannot silence it. This swallows stdout around
 * such calls (it is only ever called from the training thread).
 */
public final class Quiet {
    private Quiet() {
    }

    public static synchronized <T> T call(Supplier<T> body) {
        PrintStream original = System.out;
        System.setOut(new PrintStream(OutputStream.nullOutputStream()));
        try {
            return body.get();
        } finally {
            System.setOut(original);
        }
    }
}
