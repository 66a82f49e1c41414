package dev.unmask.env.task;

/**
 * Train and test sets are disjoint by construction: every instance has a canonical key, and a
 * salted hash of the key decides once and for all which split it belongs to (1 in 5 held out).
 */
public enum Split {
    TRAIN, TEST;

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
        return Math.floorMod(h, 5) == 0 ? TEST : TRAIN;
    }
}
