package dev.unmask.runs;

import dev.unmask.env.UnmaskException;

import java.util.ArrayList;
import java.util.List;

/**
 * A static share of a sweep's cells, for machines that share no folder: shard I of N (I from 0)
 * runs the cells at positions I, I + N, I + 2N, ... of the planned order, so every shard gets a
 * mix of tasks, block lengths and policies; the N shards together run every cell once.
 */
public record Shard(int index, int count) {
    public static final Shard ALL = new Shard(0, 1);

    /** "I/N", I in 0..N-1 (a Slurm array's task id and count). */
    public static Shard parse(String spec) {
        String[] parts = spec.trim().split("/");
        int i, n;
        try {
            if (parts.length != 2) throw new NumberFormatException();
            i = Integer.parseInt(parts[0].trim());
            n = Integer.parseInt(parts[1].trim());
        } catch (NumberFormatException e) {
            throw new UnmaskException("--shard " + spec + ": expected I/N, shard I (from 0) of N, e.g. 0/4");
        }
        if (n < 1) throw new UnmaskException("--shard " + spec + ": N must be at least 1");
        if (i < 0 || i >= n) throw new UnmaskException("--shard " + spec + ": I must be in 0.." + (n - 1) + " (shards count from 0)");
        return new Shard(i, n);
    }

    public <T> List<T> select(List<T> planned) {
        List<T> out = new ArrayList<>();
        for (int k = index; k < planned.size(); k += count) out.add(planned.get(k));
        return out;
    }

    public boolean isAll() {
        return count == 1;
    }

    @Override
    public String toString() {
        return index + "/" + count;
    }
}
