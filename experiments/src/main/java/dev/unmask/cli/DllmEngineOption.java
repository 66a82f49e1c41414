package dev.unmask.cli;

import dev.unmask.env.UnmaskException;
import dev.unmask.dllm.onnx.Denoisers;
import picocli.CommandLine;
import picocli.CommandLine.Option;

/** --dllm-engine: what runs a built-in dLLM checkpoint; recorded in the manifest so reproduce can pin it. */
final class DllmEngineOption {
    @Option(names = "--dllm-engine", defaultValue = "onnxruntime", converter = EngineConverter.class,
            description = "What runs a built-in dLLM: onnxruntime (default, fastest), samediff (replays runs recorded before onnxruntime was the default) or fast (the hand-written Java forward; the engine with --cache).")
    Denoisers.Engine engine = Denoisers.Engine.ONNXRUNTIME;

    static final class EngineConverter implements CommandLine.ITypeConverter<Denoisers.Engine> {
        @Override
        public Denoisers.Engine convert(String value) {
            try {
                return Denoisers.Engine.parse(value);
            } catch (UnmaskException e) {
                throw new CommandLine.TypeConversionException(e.getMessage());
            }
        }
    }
}
