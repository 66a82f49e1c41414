package dev.unmask.dllm.onnx;

import dev.unmask.env.io.PathKinds;
import dev.unmask.nn.onnx.Ort;
import ai.djl.huggingface.tokenizers.Encoding;
import ai.djl.huggingface.tokenizers.HuggingFaceTokenizer;
import dev.unmask.env.UnmaskException;

import java.nio.file.Path;
import java.util.Map;

/**
 * A dLLM's own tokeniser, from its HuggingFace {@code tokenizer.json}, through DJL's binding of the
 * HuggingFace tokenizers library (its native library ships inside the jar; nothing is downloaded).
 * Prompts in natural text become the token ids the model was trained on.
 */
public final class HfTokenizer implements AutoCloseable {
    private final HuggingFaceTokenizer tok;
    private final Path file;

    private HfTokenizer(HuggingFaceTokenizer tok, Path file) {
        this.tok = tok;
        this.file = file;
    }

    public static HfTokenizer load(Path tokenizerJson) {
        PathKinds.requireFile(tokenizerJson, "tokenizer", "a Hugging Face tokenizer.json file");
        try {
            // no padding or truncation: a prompt is encoded as it is
            return new HfTokenizer(HuggingFaceTokenizer.newInstance(tokenizerJson, Map.of("padding", "false", "truncation", "false")), tokenizerJson);
        } catch (java.io.IOException | RuntimeException e) {
            throw new UnmaskException("cannot load tokenizer " + tokenizerJson + ": " + Ort.firstLine(String.valueOf(e.getMessage())));
        } catch (UnsatisfiedLinkError e) {
            throw new UnmaskException("cannot load the HuggingFace tokenizers native library for " + tokenizerJson + ": " + Ort.firstLine(e.getMessage()));
        }
    }

    /** Token ids of text, without the tokenizer's special tokens (BOS etc.). */
    public int[] encode(String text) {
        return encode(text, false);
    }

    public int[] encode(String text, boolean addSpecialTokens) {
        Encoding e = tok.encode(text, addSpecialTokens, false);
        long[] ids = e.getIds();
        int[] out = new int[ids.length];
        for (int i = 0; i < ids.length; i++) out[i] = Math.toIntExact(ids[i]);
        return out;
    }

    /** The tokens' surface strings (as the tokenizer names them), for display. */
    public String[] tokens(String text) {
        return tok.encode(text, false, false).getTokens();
    }

    public String decode(int[] ids) {
        return decode(ids, true);
    }

    public String decode(int[] ids, boolean skipSpecialTokens) {
        long[] l = new long[ids.length];
        for (int i = 0; i < ids.length; i++) l[i] = ids[i];
        return tok.decode(l, skipSpecialTokens);
    }

    public Path file() {
        return file;
    }

    @Override
    public void close() {
        tok.close();
    }
}
