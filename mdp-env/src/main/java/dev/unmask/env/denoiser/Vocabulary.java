package dev.unmask.env.denoiser;

import com.fasterxml.jackson.annotation.JsonCreator;
import com.fasterxml.jackson.annotation.JsonProperty;
import dev.unmask.env.UnmaskException;

import java.util.*;

/**
 * A token list with the three special ids every masked dLLM needs. Tokens written in angle
 * brackets ({@code <eos>}) are single tokens; everything else is one token per character.
 */
public final class Vocabulary {
    private final List<String> tokens;
    private final Map<String, Integer> ids = new HashMap<>();
    private final int maskId, eosId, padId;

    @JsonCreator
    public Vocabulary(@JsonProperty("tokens") List<String> tokens,
                      @JsonProperty("mask") String mask,
                      @JsonProperty("eos") String eos,
                      @JsonProperty("pad") String pad) {
        this.tokens = List.copyOf(tokens);
        for (int i = 0; i < tokens.size(); i++) {
            if (ids.put(tokens.get(i), i) != null) throw new UnmaskException("vocabulary lists token '" + tokens.get(i) + "' twice");
        }
        this.maskId = required(mask, "mask");
        this.eosId = required(eos, "eos");
        this.padId = required(pad, "pad");
    }

    private int required(String token, String role) {
        Integer id = token == null ? null : ids.get(token);
        if (id == null) throw new UnmaskException("vocabulary has no " + role + " token" + (token == null ? "" : " '" + token + "'"));
        return id;
    }

    /** The vocabulary of the built-in model and tasks. */
    public static Vocabulary builtin() {
        List<String> t = new ArrayList<>(List.of("<pad>", "<mask>", "<eos>", "<arith>", "<sudoku>", "<sort>"));
        for (char c = '0'; c <= '9'; c++) t.add(String.valueOf(c));
        t.addAll(List.of("+", "-", "*", "=", ",", ">", "|", "."));
        // Appended, never inserted: a checkpoint stores its own token list (vocab.json), so models
        // trained before these existed load and decode exactly as before; ids 0..23 keep their meaning.
        t.addAll(List.of("<gcd>", "<happy>", "<revadd>"));
        t.addAll(List.of("<fib>", "<lag>"));
        t.add("<lag5>");
        t.add("<lag48>");
        t.add("<ducci>");
        t.add("<lanes>");
        t.add("<lanes-columns>");
        return new Vocabulary(t, "<mask>", "<eos>", "<pad>");
    }

    @JsonProperty("tokens")
    public List<String> tokens() {
        return tokens;
    }

    @JsonProperty("mask")
    String maskToken() {
        return tokens.get(maskId);
    }

    @JsonProperty("eos")
    String eosToken() {
        return tokens.get(eosId);
    }

    @JsonProperty("pad")
    String padToken() {
        return tokens.get(padId);
    }

    public int size() {
        return tokens.size();
    }

    /** Whether {@code wider} keeps every token of this vocabulary at its id (and the same special tokens), appending only. */
    public boolean isExtendedBy(Vocabulary wider) {
        return wider.size() >= size() && wider.tokens.subList(0, size()).equals(tokens)
                && wider.maskId == maskId && wider.eosId == eosId && wider.padId == padId;
    }

    public int maskId() {
        return maskId;
    }

    public int eosId() {
        return eosId;
    }

    public int padId() {
        return padId;
    }

    public int id(String token) {
        Integer id = ids.get(token);
        if (id == null) throw new UnmaskException("token '" + token + "' is not in the vocabulary");
        return id;
    }

    public String token(int id) {
        if (id < 0 || id >= tokens.size()) throw new UnmaskException("token id " + id + " is outside the vocabulary (size " + tokens.size() + ")");
        return tokens.get(id);
    }

    public int[] encode(String text) {
        int[] out = new int[text.length()];
        int n = 0;
        for (int i = 0; i < text.length(); ) {
            if (text.charAt(i) == '<') {
                int close = text.indexOf('>', i);
                if (close > i + 1 && ids.containsKey(text.substring(i, close + 1))) {
                    out[n++] = ids.get(text.substring(i, close + 1));
                    i = close + 1;
                    continue;
                }
            }
            Integer id = ids.get(String.valueOf(text.charAt(i)));
            if (id == null) {
                throw new UnmaskException("character '" + text.charAt(i) + "' at offset " + i + " of \"" + text + "\" is not in the vocabulary");
            }
            out[n++] = id;
            i++;
        }
        return Arrays.copyOf(out, n);
    }

    public String decode(int[] ids) {
        StringBuilder sb = new StringBuilder();
        for (int id : ids) sb.append(token(id));
        return sb.toString();
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof Vocabulary v && v.tokens.equals(tokens) && v.maskId == maskId && v.eosId == eosId && v.padId == padId;
    }

    @Override
    public int hashCode() {
        return Objects.hash(tokens, maskId, eosId, padId);
    }
}
