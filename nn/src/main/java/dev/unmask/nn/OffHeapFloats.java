package dev.unmask.nn;

import org.bytedeco.javacpp.FloatPointer;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.FloatBuffer;

/**
 * A float array outside the Java heap, readable from Java (bulk row copies through a direct
 * {@link FloatBuffer}) and passable to OpenBLAS without a copy ({@link Blas}). Allocated once and
 * reused: a fresh off-heap buffer costs a page fault per 4 KiB on first touch.
 *
 * <p>Java loops over it copy a row into a heap scratch array, work there (where the JIT
 * vectorizes) and copy back; a bulk copy of an L1-resident row costs far less than the work.
 */
public final class OffHeapFloats {
    private final ByteBuffer bytes;
    private final FloatBuffer floats;
    /**
     * One cursor per gemm operand slot, so one buffer may be two operands of a call at different
     * offsets; one set per thread, so two threads may pass the same buffer to concurrent calls.
     */
    private final ThreadLocal<FloatPointer[]> cursors;
    private final int size;

    public OffHeapFloats(int size) {
        if (size < 0) throw new IllegalArgumentException("negative size " + size);
        this.size = size;
        this.bytes = ByteBuffer.allocateDirect(Math.max(1, size) * Float.BYTES).order(ByteOrder.nativeOrder());
        this.floats = bytes.asFloatBuffer();
        this.cursors = ThreadLocal.withInitial(() -> new FloatPointer[]{new FloatPointer(floats), new FloatPointer(floats), new FloatPointer(floats)});
    }

    public int size() {
        return size;
    }

    public float get(int index) {
        return floats.get(index);
    }

    public void set(int index, float value) {
        floats.put(index, value);
    }

    /** Copies {@code length} floats starting at {@code from} into {@code dst[dstOffset..]}. */
    public void get(int from, float[] dst, int dstOffset, int length) {
        floats.get(from, dst, dstOffset, length);
    }

    /** Copies {@code src[srcOffset..srcOffset+length)} to {@code [to, to+length)}. */
    public void put(int to, float[] src, int srcOffset, int length) {
        floats.put(to, src, srcOffset, length);
    }

    public void fill(int from, int length, float value) {
        for (int i = from; i < from + length; i++) floats.put(i, value);
    }

    /** The whole contents as a heap array (tests, checkpoints). */
    public float[] toArray() {
        float[] out = new float[size];
        floats.get(0, out, 0, size);
        return out;
    }

    /** A native pointer to element {@code offset} for operand slot {@code slot} (0..2) of a BLAS call. */
    FloatPointer at(int slot, int offset) {
        if (offset < 0 || offset > size) throw new IndexOutOfBoundsException("offset " + offset + " outside [0, " + size + "]");
        return cursors.get()[slot].position(offset);
    }
}
