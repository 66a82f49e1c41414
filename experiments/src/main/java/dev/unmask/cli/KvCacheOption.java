package dev.unmask.cli;

import dev.unmask.env.UnmaskException;
import dev.unmask.env.denoiser.KvCache;
import dev.unmask.env.task.Tasks;
import picocli.CommandLine;
import picocli.CommandLine.Option;

import java.util.List;

/** {@code --cache}: Fast-dLLM's approximate key/value cache, for the commands that decode in blocks. */
final class KvCacheOption {
    @Option(names = "--cache", defaultValue = "none", converter = Converter.class,
            description = "Fast-dLLM's approximate key/value cache for semi-AR decoding: none (default), prefix (recompute the active block "
                    + "and what follows it) or dual (the active block only); needs --dllm-engine fast and block lengths below L "
                    + "(full diffusion has no block boundary, and is refused with a cache).")
    KvCache cache = KvCache.NONE;

    /** The engine label that sweep cells and rows carry: a cached run is another cell. */
    String engineLabel(String engine) {
        return cache == KvCache.NONE ? engine : engine + "+cache=" + cache.label();
    }

    /**
     * The cache approximates semi-AR decoding (keys and values of what lies outside the active block are
     * reused until the block moves); full diffusion (B = L) has no block boundary, so a cache there
     * changes the results without meaning anything. One line naming the first full-diffusion block
     * length, before any work.
     *
     * @param genLength    --gen-length, or null for each task's own buffer length
     * @param blockLengths as given: numbers or "full" (anything else is left to the caller's own check)
     */
    static void refuseFullDiffusion(KvCache cache, List<String> tasks, Integer genLength, List<String> blockLengths) {
        if (cache == KvCache.NONE) return;
        for (String t : tasks) {
            int len = genLength != null ? genLength : Tasks.byName(t).defaultGenLength();
            for (String b : blockLengths) {
                boolean full = b.trim().equals("full") || b.trim().equals(Integer.toString(len));
                if (full) refuse(cache, "--block-lengths " + b.trim() + " is full diffusion (B = L = " + len + " for task " + t + ")");
            }
        }
    }

    /** As {@link #refuseFullDiffusion(KvCache, List, Integer, List)} for one buffer and block length (a training config's). */
    static void refuseFullDiffusion(KvCache cache, int genLength, int blockLength, String where) {
        if (cache != KvCache.NONE && blockLength == genLength) refuse(cache, where + " is full diffusion (B = L = " + genLength + ")");
    }

    private static void refuse(KvCache cache, String what) {
        throw new UnmaskException("--cache " + cache.label() + " approximates semi-AR decoding and has no meaning in full diffusion, which has no block boundary; "
                + what + ": use --cache none there, or block lengths below L");
    }

    static final class Converter implements CommandLine.ITypeConverter<KvCache> {
        @Override
        public KvCache convert(String value) {
            try {
                return KvCache.parse(value);
            } catch (UnmaskException e) {
                throw new CommandLine.TypeConversionException(e.getMessage());
            }
        }
    }
}
