package dev.unmask.env.denoiser;

import dev.unmask.env.UnmaskException;

import java.util.Locale;

/**
 * Fast-dLLM's approximate key/value caches for semi-AR decoding (Wu et al. 2025). At the first
 * step of a block the model runs over the whole sequence and keeps every layer's keys and values.
 * At the block's later steps:
 * <ul>
 *   <li>{@link #PREFIX}: only the active block and everything after it are recomputed; the
 *   prefix (prompt and finished blocks) answers from the cache;</li>
 *   <li>{@link #DUAL}: only the active block is recomputed; the prefix and the still-masked suffix
 *   answer from the cache, and the suffix's predictions are those of the block's first step.</li>
 * </ul>
 * Approximate because the cached keys and values do not see what the block has unmasked since
 * (attention is bidirectional: a prompt token's keys above the first layer depend on the answer).
 * In full diffusion (one block) both cache the prompt only.
 */
public enum KvCache {
    NONE, PREFIX, DUAL;

    public String label() {
        return name().toLowerCase(Locale.ROOT);
    }

    public static KvCache parse(String s) {
        for (KvCache c : values()) if (c.label().equalsIgnoreCase(s.trim())) return c;
        throw new UnmaskException("cache '" + s + "' is not one of none, prefix, dual");
    }
}
