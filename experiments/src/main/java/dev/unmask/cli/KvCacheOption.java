package dev.unmask.cli;

import dev.unmask.env.UnmaskException;
import dev.unmask.env.denoiser.KvCache;
import picocli.CommandLine;
import picocli.CommandLine.Option;

/** {@code --cache}: Fast-dLLM's approximate key/value cache, for the commands that decode in blocks. */
final class KvCacheOption {
    @Option(names = "--cache", defaultValue = "none", converter = Converter.class,
            description = "Fast-dLLM's approximate key/value cache for semi-AR decoding: none (default), prefix (recompute the active block "
                    + "and what follows it) or dual (the active block only); needs --dllm-engine fast.")
    KvCache cache = KvCache.NONE;

    /** The engine label that sweep cells and rows carry: a cached run is another cell. */
    String engineLabel(String engine) {
        return cache == KvCache.NONE ? engine : engine + "+cache=" + cache.label();
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
