package dev.unmask.env.task;

import dev.unmask.env.UnmaskException;

import java.util.Locale;

/**
 * Train, validation and test sets are disjoint by construction: every instance has a canonical
 * key, and a salted hash of the key decides once and for all which split it belongs to: 1 in 10
 * test, 1 in 10 validation, the rest train.
 *
 * <p>The validation split was carved out of what used to be a 1-in-5 test split, so the train
 * split (and every dLLM and policy trained on it) is unchanged and no shipped model has seen a
 * validation or test instance. Tune on {@link #VALIDATION}, report on {@link #TEST} once.
 */
public enum Split {
    TRAIN, VALIDATION, TEST;

    private static final long SALT = 0x5DEECE66DL;

    public static Split of(String key) {
        long h = SALT;
        for (int i = 0; i < key.length(); i++) {
            h ^= key.charAt(i);
            h *= 0x100000001B3L; // FNV-1a style mixing
        }
        h ^= h >>> 29;
        h *= 0xBF58476D1CE4E5B9L;
        h ^= h >>> 32;
        int bucket = Math.floorMod(h, 10);
        return bucket == 0 ? TEST : bucket == 5 ? VALIDATION : TRAIN;
    }

    /** The lower-case name used on the command line and in result tables. */
    public String label() {
        return name().toLowerCase(Locale.ROOT);
    }

    /** Parses a command-line value: train, validation (or val) or test. */
    public static Split parse(String s) {
        String v = s == null ? "" : s.trim().toLowerCase(Locale.ROOT);
        return switch (v) {
            case "train" -> TRAIN;
            case "validation", "val" -> VALIDATION;
            case "test" -> TEST;
            default -> throw new UnmaskException("split '" + s + "' is not one of train, validation, test");
        };
    }
}
