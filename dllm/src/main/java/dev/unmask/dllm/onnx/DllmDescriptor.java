package dev.unmask.dllm.onnx;

import dev.unmask.env.io.PathKinds;
import dev.unmask.nn.onnx.Ort;
import com.fasterxml.jackson.databind.JsonNode;
import dev.unmask.env.UnmaskException;
import dev.unmask.env.denoiser.Vocabulary;
import dev.unmask.env.io.Json;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.*;

/**
 * The small JSON file that turns an ONNX masked dLLM into an environment. Paths are relative to
 * the descriptor's folder.
 * <pre>
 * {
 *   "onnx": "model.onnx",                 required: the model file
 *   "input_ids": "input_ids",             required: name of the token-id input, INT64 or INT32 [batch, length]
 *   "attention_mask": "attention_mask",   optional: name of a [batch, length] 1/0 input; without it, rows of
 *                                         different lengths are run as separate equal-length batches
 *   "logits": "logits",                   required: name of the FLOAT [batch, length, vocab] output
 *   "vocab": "vocab.json"                 one of: our vocabulary file (tokens + mask/eos/pad names),
 *   "tokens": ["&lt;pad&gt;", ...]              the token list inline,
 *   "tokenizer": "tokenizer.json"         or a HuggingFace tokenizer.json (its vocabulary; also used for text)
 *   "vocab_size": 126464,                 optional: the logits' last axis when the model pads its vocabulary
 *   "mask_id": 126336, "eos_id": 126081, "pad_id": 126081,   required
 *   "max_length": 4096,                   required: longest sequence the model accepts
 *   "provider": "cpu",                    optional: "cpu" (default) or "cuda"; "device_id": 0; "threads": 1
 *   "max_logits_mb": 1024,                optional: split a step's rows into ORT calls whose logits tensor
 *                                         (rows x length x vocab float32) stays under this many MiB (default: one call)
 *   "hidden": "last_hidden_state",        optional: name of a FLOAT [batch, length, H] output, the last hidden layer,
 *                                         for policies that read hidden-state features (projected to 8 numbers in Java)
 *   "description": "...", "format": "unmask-onnx-dllm-v1"   optional
 * }
 * </pre>
 * Every problem is one line naming the descriptor and the field.
 */
public record DllmDescriptor(Path file, Path onnx, String inputIds, String attentionMask, String logits,
                             Vocabulary vocabulary, Path tokenizer, int maxLength, String provider, int deviceId,
                             int threads, String description, int maxLogitsMb, String hidden) {
    /** Without a hidden output. */
    public DllmDescriptor(Path file, Path onnx, String inputIds, String attentionMask, String logits, Vocabulary vocabulary, Path tokenizer,
                          int maxLength, String provider, int deviceId, int threads, String description, int maxLogitsMb) {
        this(file, onnx, inputIds, attentionMask, logits, vocabulary, tokenizer, maxLength, provider, deviceId, threads, description, maxLogitsMb, null);
    }

    /** Without a logits budget: every step's rows in one call (with an attention mask). */
    public DllmDescriptor(Path file, Path onnx, String inputIds, String attentionMask, String logits, Vocabulary vocabulary, Path tokenizer,
                          int maxLength, String provider, int deviceId, int threads, String description) {
        this(file, onnx, inputIds, attentionMask, logits, vocabulary, tokenizer, maxLength, provider, deviceId, threads, description, 0);
    }

    public static final String FORMAT = "unmask-onnx-dllm-v1";
    private static final Set<String> KNOWN = new TreeSet<>(List.of("format", "description", "onnx", "input_ids", "attention_mask", "logits",
            "vocab", "tokens", "tokenizer", "vocab_size", "mask_id", "eos_id", "pad_id", "max_length", "provider", "device_id", "threads", "max_logits_mb", "hidden"));

    public static DllmDescriptor load(Path file) {
        String where = "descriptor " + file;
        PathKinds.requireFile(file, "descriptor", "a dLLM descriptor.json file");
        JsonNode root;
        try {
            root = Json.MAPPER.readTree(Files.readString(file, StandardCharsets.UTF_8));
        } catch (IOException e) {
            throw new UnmaskException(where + ": not valid JSON: " + Ort.firstLine(e.getMessage()));
        }
        if (root == null || !root.isObject()) throw new UnmaskException(where + ": expected a JSON object");
        for (Iterator<String> it = root.fieldNames(); it.hasNext(); ) {
            String f = it.next();
            if (!KNOWN.contains(f)) throw new UnmaskException(where + ": unknown field '" + f + "' (known: " + String.join(", ", KNOWN) + ")");
        }
        if (root.has("format") && !FORMAT.equals(root.get("format").asText())) {
            throw new UnmaskException(where + ": format is '" + root.get("format").asText() + "', expected '" + FORMAT + "'");
        }
        Path dir = file.toAbsolutePath().getParent();
        Path onnx = dir.resolve(text(root, "onnx", where, true));
        String inputIds = text(root, "input_ids", where, true);
        String mask = text(root, "attention_mask", where, false);
        String logits = text(root, "logits", where, true);
        int maskId = integer(root, "mask_id", where, true, -1);
        int eosId = integer(root, "eos_id", where, true, -1);
        int padId = integer(root, "pad_id", where, true, -1);
        int maxLength = integer(root, "max_length", where, true, -1);
        if (maxLength <= 0) throw new UnmaskException(where + ": max_length must be positive, got " + maxLength);
        String tokenizerName = text(root, "tokenizer", where, false);
        Path tokenizer = tokenizerName == null ? null : dir.resolve(tokenizerName);
        if (tokenizer != null) PathKinds.requireFile(tokenizer, where + ": tokenizer file", "a Hugging Face tokenizer.json file");

        int sources = (root.has("vocab") ? 1 : 0) + (root.has("tokens") ? 1 : 0);
        if (sources > 1) throw new UnmaskException(where + ": give the vocabulary once, as 'vocab' or 'tokens', not both");
        List<String> tokens;
        Vocabulary named = null;
        if (root.has("vocab")) {
            Path vf = dir.resolve(text(root, "vocab", where, true));
            named = Json.read(vf, Vocabulary.class);
            tokens = new ArrayList<>(named.tokens());
        } else if (root.has("tokens")) {
            JsonNode arr = root.get("tokens");
            if (!arr.isArray() || arr.isEmpty()) throw new UnmaskException(where + ": 'tokens' must be a non-empty array of strings");
            tokens = new ArrayList<>();
            arr.forEach(t -> tokens.add(t.asText()));
        } else if (tokenizer != null) {
            tokens = tokenizerVocabulary(tokenizer, where);
        } else {
            throw new UnmaskException(where + ": missing required field 'vocab' (or 'tokens', or 'tokenizer')");
        }
        int vocabSize = integer(root, "vocab_size", where, false, tokens.size());
        if (vocabSize < tokens.size()) {
            throw new UnmaskException(where + ": vocab_size " + vocabSize + " is smaller than the " + tokens.size() + " tokens of the vocabulary");
        }
        for (int i = tokens.size(); i < vocabSize; i++) tokens.add("<|unused:" + i + "|>");
        for (var e : Map.of("mask_id", maskId, "eos_id", eosId, "pad_id", padId).entrySet()) {
            if (e.getValue() < 0 || e.getValue() >= vocabSize) {
                throw new UnmaskException(where + ": " + e.getKey() + " " + e.getValue() + " is outside the vocabulary 0.." + (vocabSize - 1));
            }
        }
        if (named != null) {
            if (named.maskId() != maskId || named.eosId() != eosId || named.padId() != padId) {
                throw new UnmaskException(where + ": mask_id/eos_id/pad_id " + maskId + "/" + eosId + "/" + padId + " disagree with the vocab file's "
                        + named.maskId() + "/" + named.eosId() + "/" + named.padId());
            }
        }
        Vocabulary vocab = new Vocabulary(tokens, tokens.get(maskId), tokens.get(eosId), tokens.get(padId));
        String provider = Optional.ofNullable(text(root, "provider", where, false)).orElse("cpu");
        if (!provider.equalsIgnoreCase("cpu") && !provider.equalsIgnoreCase("cuda")) {
            throw new UnmaskException(where + ": provider must be 'cpu' or 'cuda', got '" + provider + "'");
        }
        int maxLogitsMb = integer(root, "max_logits_mb", where, false, 0);
        if (root.has("max_logits_mb") && maxLogitsMb <= 0) throw new UnmaskException(where + ": max_logits_mb must be positive, got " + maxLogitsMb);
        return new DllmDescriptor(file, onnx, inputIds, mask, logits, vocab, tokenizer, maxLength, provider.toLowerCase(Locale.ROOT),
                integer(root, "device_id", where, false, 0), integer(root, "threads", where, false, 1),
                Optional.ofNullable(text(root, "description", where, false)).orElse(onnx.getFileName().toString()), maxLogitsMb,
                text(root, "hidden", where, false));
    }

    private static String text(JsonNode root, String field, String where, boolean required) {
        JsonNode n = root.get(field);
        if (n == null || n.isNull()) {
            if (required) throw new UnmaskException(where + ": missing required field '" + field + "'");
            return null;
        }
        if (!n.isTextual() || n.asText().isBlank()) throw new UnmaskException(where + ": field '" + field + "' must be a non-empty string");
        return n.asText();
    }

    private static int integer(JsonNode root, String field, String where, boolean required, int dflt) {
        JsonNode n = root.get(field);
        if (n == null || n.isNull()) {
            if (required) throw new UnmaskException(where + ": missing required field '" + field + "'");
            return dflt;
        }
        if (!n.isIntegralNumber() || !n.canConvertToInt()) throw new UnmaskException(where + ": field '" + field + "' must be an integer, got " + n);
        return n.asInt();
    }

    /**
     * The id -> token list of a HuggingFace tokenizer.json: model.vocab (a map for BPE / WordPiece /
     * WordLevel, a list of [token, score] for Unigram) plus added_tokens; ids nobody names become
     * {@code <|unused:ID|>}. Plain JSON reading, no native library.
     */
    static List<String> tokenizerVocabulary(Path tokenizer, String where) {
        JsonNode root;
        try {
            root = Json.MAPPER.readTree(Files.readString(tokenizer, StandardCharsets.UTF_8));
        } catch (IOException e) {
            throw new UnmaskException(where + ": cannot read tokenizer " + tokenizer + ": " + Ort.firstLine(e.getMessage()));
        }
        TreeMap<Integer, String> byId = new TreeMap<>();
        JsonNode vocab = root.path("model").path("vocab");
        if (vocab.isObject()) {
            vocab.fields().forEachRemaining(e -> byId.put(e.getValue().asInt(), e.getKey()));
        } else if (vocab.isArray()) {
            for (int i = 0; i < vocab.size(); i++) byId.put(i, vocab.get(i).path(0).asText());
        } else {
            throw new UnmaskException(where + ": tokenizer " + tokenizer + " has no model.vocab");
        }
        root.path("added_tokens").forEach(t -> byId.put(t.path("id").asInt(), t.path("content").asText()));
        if (byId.isEmpty()) throw new UnmaskException(where + ": tokenizer " + tokenizer + " has an empty vocabulary");
        List<String> tokens = new ArrayList<>();
        Set<String> seen = new HashSet<>();
        for (int id = 0; id <= byId.lastKey(); id++) {
            String t = byId.get(id);
            if (t == null || !seen.add(t)) t = "<|unused:" + id + "|>";
            tokens.add(t);
        }
        return tokens;
    }
}
