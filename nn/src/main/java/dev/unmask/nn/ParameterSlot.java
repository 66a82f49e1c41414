package dev.unmask.nn;

/** One named parameter tensor (row-major, {@code shape}) stored at {@code offset} in a flat buffer of all parameters. */
public record ParameterSlot(String name, long[] shape, int offset, int size) {
}
