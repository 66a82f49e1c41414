package dev.unmask.nn.onnx;

import dev.unmask.env.io.PathKinds;
import ai.onnxruntime.*;
import dev.unmask.env.UnmaskException;

import java.nio.file.Path;
import java.util.Locale;

/**
 * ONNX Runtime sessions for the project: one shared environment (errors-only logging), one
 * intra-op thread by default (the machines this runs on are small and ND4J shares them), the CPU
 * execution provider by default and CUDA when asked for and present. Every failure is a one-line
 * {@link UnmaskException}. Uses no ND4J.
 */
public final class Ort {
    private Ort() {
    }

    public static OrtEnvironment env() {
        return OrtEnvironment.getEnvironment(OrtLoggingLevel.ORT_LOGGING_LEVEL_ERROR, "unmask");
    }

    /**
     * @param provider "cpu" or "cuda" (case-insensitive)
     * @param what     how to name the model in messages
     */
    public static OrtSession open(Path model, String provider, int deviceId, int threads, String what) {
        return open(model, provider, deviceId, threads, what, true);
    }

    /**
     * @param memoryPattern ONNX Runtime's memory-pattern planning (its default): after a first run at
     *                      a shape it allocates that shape's intermediates as one block. Off, they come
     *                      one by one from the same arena, which then reuses one region for them and
     *                      the outputs; on, a model whose output dwarfs its intermediates (a dLLM's
     *                      [batch, length, vocab] logits at a large vocabulary) ends up holding
     *                      two regions of the output's size.
     */
    public static OrtSession open(Path model, String provider, int deviceId, int threads, String what, boolean memoryPattern) {
        PathKinds.requireFile(model, what + ": ONNX file", "an .onnx file");
        try {
            OrtSession.SessionOptions opts = options(provider, deviceId, threads, what);
            opts.setMemoryPatternOptimization(memoryPattern);
            return env().createSession(model.toString(), opts);
        } catch (OrtException e) {
            throw new UnmaskException(what + ": ONNX Runtime cannot load " + model + ": " + firstLine(e.getMessage()));
        }
    }

    public static OrtSession open(byte[] model, String provider, int deviceId, int threads, String what) {
        return open(model, provider, deviceId, threads, what, true);
    }

    /** @param memoryPattern see {@link #open(Path, String, int, int, String, boolean)} */
    public static OrtSession open(byte[] model, String provider, int deviceId, int threads, String what, boolean memoryPattern) {
        try {
            OrtSession.SessionOptions opts = options(provider, deviceId, threads, what);
            opts.setMemoryPatternOptimization(memoryPattern);
            return env().createSession(model, opts);
        } catch (OrtException e) {
            throw new UnmaskException(what + ": ONNX Runtime cannot load the model: " + firstLine(e.getMessage()));
        }
    }

    public static OrtSession.SessionOptions options(String provider, int deviceId, int threads, String what) throws OrtException {
        OrtSession.SessionOptions opts = new OrtSession.SessionOptions();
        opts.setIntraOpNumThreads(Math.max(1, threads));
        opts.setInterOpNumThreads(1);
        opts.setSessionLogLevel(OrtLoggingLevel.ORT_LOGGING_LEVEL_ERROR);
        String p = provider == null ? "cpu" : provider.toLowerCase(Locale.ROOT);
        switch (p) {
            case "cpu" -> {
            }
            case "cuda" -> {
                if (!OrtEnvironment.getAvailableProviders().contains(OrtProvider.CUDA)) {
                    throw new UnmaskException(what + ": provider 'cuda' is not in this ONNX Runtime build (available: "
                            + OrtEnvironment.getAvailableProviders() + "); put com.microsoft.onnxruntime:onnxruntime_gpu on the classpath of a CUDA machine, or use provider 'cpu'");
                }
                try {
                    opts.addCUDA(deviceId);
                } catch (OrtException e) {
                    throw new UnmaskException(what + ": cannot start the CUDA provider on device " + deviceId + ": " + firstLine(e.getMessage()));
                }
            }
            default -> throw new UnmaskException(what + ": unknown provider '" + provider + "' (known: cpu, cuda)");
        }
        return opts;
    }

    public static String firstLine(String s) {
        if (s == null) return "unknown error";
        int nl = s.indexOf('\n');
        return (nl < 0 ? s : s.substring(0, nl)).strip();
    }
}
