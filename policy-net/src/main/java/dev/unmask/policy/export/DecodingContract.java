package dev.unmask.policy.export;

import dev.unmask.env.UnmaskException;
import dev.unmask.env.denoiser.Vocabulary;
import dev.unmask.policy.PolicyConfig;
import dev.unmask.policy.PolicyProvenance;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * What an engine must know to feed an exported policy and act on it, carried in every export so
 * that nothing has to be read from the Java source: the dLLM's mask and EOS ids and vocabulary size
 * (confidence excludes the mask token; {@code top_is_eos} compares with the EOS id; {@code entropy} is
 * divided by ln of the vocabulary size), the features in order, the knob range of a knob policy, and
 * the block and buffer lengths the policy was trained with. Fields that are not known are left out
 * (null), never guessed.
 *
 * <p>Keys, after a prefix ({@code unmask.} in ONNX {@code metadata_props}, none in the safetensors
 * {@code __metadata__}): {@code features}, {@code dllm.mask_id}, {@code dllm.eos_id},
 * {@code dllm.vocab_size}, {@code trained_block_length}, {@code trained_gen_length}, {@code knob_range}
 * ({@code lo,hi}).
 */
public record DecodingContract(List<String> features, Integer maskId, Integer eosId, Integer vocabSize, Integer trainedBlockLength,
                               Integer trainedGenLength, List<Double> knobRange) {
    public static final String FEATURES = "features", MASK_ID = "dllm.mask_id", EOS_ID = "dllm.eos_id", VOCAB_SIZE = "dllm.vocab_size",
            TRAINED_BLOCK_LENGTH = "trained_block_length", TRAINED_GEN_LENGTH = "trained_gen_length", KNOB_RANGE = "knob_range";

    public DecodingContract {
        features = List.copyOf(features);
        knobRange = knobRange == null ? null : List.copyOf(knobRange);
    }

    /**
     * The contract of a policy: its features, the lengths and knob range its provenance records (null
     * for none), and the ids of the dLLM it will decode with (null when not known).
     */
    public static DecodingContract of(PolicyConfig config, PolicyProvenance provenance, Vocabulary dllmVocabulary) {
        return new DecodingContract(config.features(),
                dllmVocabulary == null ? null : dllmVocabulary.maskId(),
                dllmVocabulary == null ? null : dllmVocabulary.eosId(),
                dllmVocabulary == null ? null : dllmVocabulary.size(),
                provenance == null || provenance.blockLength() <= 0 ? null : provenance.blockLength(),
                provenance == null || provenance.genLength() <= 0 ? null : provenance.genLength(),
                provenance == null ? null : provenance.knobRange());
    }

    /** Whether the dLLM's ids are known. */
    public boolean knowsDllm() {
        return maskId != null;
    }

    /** The entries under {@code prefix}, values as strings; unknown fields are left out. */
    public Map<String, String> toMetadata(String prefix) {
        Map<String, String> m = new LinkedHashMap<>();
        m.put(prefix + FEATURES, String.join(",", features));
        if (maskId != null) m.put(prefix + MASK_ID, Integer.toString(maskId));
        if (eosId != null) m.put(prefix + EOS_ID, Integer.toString(eosId));
        if (vocabSize != null) m.put(prefix + VOCAB_SIZE, Integer.toString(vocabSize));
        if (trainedBlockLength != null) m.put(prefix + TRAINED_BLOCK_LENGTH, Integer.toString(trainedBlockLength));
        if (trainedGenLength != null) m.put(prefix + TRAINED_GEN_LENGTH, Integer.toString(trainedGenLength));
        if (knobRange != null) m.put(prefix + KNOB_RANGE, knobRange.get(0) + "," + knobRange.get(1));
        return m;
    }

    /** Reads what {@link #toMetadata} wrote; {@code source} names the file in errors. */
    public static DecodingContract fromMetadata(Map<String, String> m, String prefix, String source) {
        String f = m.get(prefix + FEATURES);
        if (f == null) throw new UnmaskException(source + ": no " + prefix + FEATURES + " in the metadata (not an unmask policy export)");
        List<Double> knob = null;
        String k = m.get(prefix + KNOB_RANGE);
        if (k != null) {
            knob = new ArrayList<>();
            for (String part : k.split(",")) knob.add(Double.parseDouble(part.trim()));
        }
        return new DecodingContract(Arrays.asList(f.split(",")), integer(m, prefix + MASK_ID, source), integer(m, prefix + EOS_ID, source),
                integer(m, prefix + VOCAB_SIZE, source), integer(m, prefix + TRAINED_BLOCK_LENGTH, source), integer(m, prefix + TRAINED_GEN_LENGTH, source), knob);
    }

    private static Integer integer(Map<String, String> m, String key, String source) {
        String v = m.get(key);
        if (v == null) return null;
        try {
            return Integer.parseInt(v.trim());
        } catch (NumberFormatException e) {
            throw new UnmaskException(source + ": metadata " + key + " = '" + v + "' is not a whole number");
        }
    }

    /** The contract as policy-spec.json states it: {@code dllm} {mask_id, eos_id, vocab_size}, trained lengths, knob range (nulls where unknown). */
    public Map<String, Object> toSpec() {
        Map<String, Object> dllm = new LinkedHashMap<>();
        dllm.put("mask_id", maskId);
        dllm.put("eos_id", eosId);
        dllm.put("vocab_size", vocabSize);
        Map<String, Object> s = new LinkedHashMap<>();
        s.put("dllm", dllm);
        s.put("trained_block_length", trainedBlockLength);
        s.put("trained_gen_length", trainedGenLength);
        return s;
    }
}
