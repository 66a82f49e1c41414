package dev.unmask.heuristics;

import dev.unmask.env.UnmaskException;

import java.util.ArrayList;
import java.util.List;

/**
 * A policy spec as written on the command line and in result tables, {@code name[:key=value,...]}:
 * {@code threshold:tau=0.9}, {@code topk:steps=64}, {@code learned:path=runs/p1/policy,mode=sample}.
 * This is the syntax only, the one parser for every policy; what a key means belongs to the policy
 * ({@link Heuristics#parse} for the heuristics, experiments' {@code Policies} for learned ones).
 *
 * @param name   the text before the first ':'
 * @param params the pieces after it, cut at ',', in order (none when nothing but blanks follows ':')
 */
public record PolicySpec(String name, List<Param> params) {
    /**
     * One piece of a spec as written.
     *
     * @param text     the piece, e.g. {@code tau=0.9}
     * @param rawKey   the text before its first '=' (the whole piece when it has none)
     * @param rawValue the text after its first '=', or null when it has none
     */
    public record Param(String text, String rawKey, String rawValue) {
        /** Whether the piece is a {@code key=value} pair. */
        public boolean isPair() {
            return rawValue != null;
        }

        public String key() {
            return rawKey.trim();
        }

        public String value() {
            return rawValue.trim();
        }

        /**
         * The value as a number; otherwise a one-line error that starts with {@code prefix} (which
         * names the policy) and names the key and the value as written.
         */
        public double number(String prefix) {
            try {
                return Double.parseDouble(value());
            } catch (NumberFormatException e) {
                throw new UnmaskException(prefix + key() + " must be a number, got '" + rawValue + "'");
            }
        }
    }

    /** Cuts a spec (trimmed) at its first ':', the rest at ',' and each piece at its first '='. Never fails: the policy checks the keys. */
    public static PolicySpec parse(String spec) {
        String[] parts = spec.trim().split(":", 2);
        List<Param> params = new ArrayList<>();
        if (parts.length == 2 && !parts[1].isBlank()) {
            for (String piece : parts[1].split(",")) {
                String[] kv = piece.split("=", 2);
                params.add(new Param(piece, kv[0], kv.length == 2 ? kv[1] : null));
            }
        }
        return new PolicySpec(parts[0], List.copyOf(params));
    }

    /** The value given for {@code key} (trimmed), the last one if it is given twice, or null if it is not given. */
    public String value(String key) {
        String found = null;
        for (Param p : params) if (p.isPair() && p.key().equals(key)) found = p.value();
        return found;
    }
}
