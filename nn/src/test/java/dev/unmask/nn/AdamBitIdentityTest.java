package dev.unmask.nn;

import dev.unmask.env.io.Safetensors;
import org.junit.jupiter.api.Test;
import org.nd4j.autodiff.samediff.SameDiff;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;

import java.util.*;

import static org.junit.jupiter.api.Assertions.*;

/**
 * {@link Adam}'s Java loop moves every parameter and its moments bit for bit as the ND4J operations
 * it replaced ({@link Nd4jAdamReference}), over several steps with gradients of very different
 * sizes, with and without clipping (the clip scale changing step to step) and weight decay; and its
 * checkpointed state restores into the same next step.
 */
class AdamBitIdentityTest {
    private static final Map<String, long[]> SHAPES = new LinkedHashMap<>();

    static {
        SHAPES.put("embed.weight", new long[]{5, 32});
        SHAPES.put("mlp.in.weight", new long[]{32, 64});
        SHAPES.put("mlp.in.bias", new long[]{64});
        SHAPES.put("head.bias", new long[]{1});
    }

    private static SameDiff graph(Random rng) {
        SameDiff sd = SameDiff.create();
        SHAPES.forEach((name, shape) -> sd.var(name, Nd4j.randn(rng.nextLong(), shape).castTo(DataType.FLOAT).muli(0.3)));
        return sd;
    }

    private static Map<String, INDArray> gradients(Random rng, double size) {
        Map<String, INDArray> g = new TreeMap<>();
        SHAPES.forEach((name, shape) -> {
            INDArray x = Nd4j.randn(rng.nextLong(), shape).castTo(DataType.FLOAT).muli(size);
            x.putScalar(0, 0f); // an exact zero: the moments' first step from 0
            g.put(name, x);
        });
        return g;
    }

    @Test
    void theJavaStepEqualsTheNd4jOperationsBitForBit() {
        for (double decay : new double[]{0, 0.01}) {
            for (double clip : new double[]{0, 1.0}) {
                Random rng = new Random(7);
                SameDiff a = graph(new Random(3)), b = graph(new Random(3));
                Adam adam = new Adam();
                Nd4jAdamReference reference = new Nd4jAdamReference();
                double[] sizes = {1e-3, 0.5, 3.0, 1e-6, 2.0, 0.05};
                for (int stepNo = 0; stepNo < sizes.length; stepNo++) {
                    Map<String, INDArray> g = gradients(rng, sizes[stepNo]);
                    double na = adam.update(a, g, 1e-3, clip, decay), nb = reference.update(b, g, 1e-3, clip, decay);
                    assertEquals(nb, na, 0.0, "gradient norm");
                    assertSameBits(b, a, "decay " + decay + ", clip " + clip + ", step " + (stepNo + 1));
                }
                for (var e : reference.state().entrySet()) {
                    assertArrayEquals(bits(e.getValue().data()), bits(adam.state().get(e.getKey()).data()), "state " + e.getKey());
                    assertArrayEquals(e.getValue().shape(), adam.state().get(e.getKey()).shape(), "shape of " + e.getKey());
                }
            }
        }
    }

    @Test
    void aRestoredStateTakesTheSameNextStep() {
        Random rng = new Random(9);
        SameDiff a = graph(new Random(4));
        Adam adam = new Adam();
        for (int i = 0; i < 3; i++) adam.update(a, gradients(rng, 0.2), 1e-3, 1.0, 0.01);
        Map<String, Safetensors.Tensor> saved = Safetensors.decode(Safetensors.encode(adam.state(), Map.of()), "adam");
        SameDiff c = SameDiff.create();
        SHAPES.keySet().forEach(name -> c.var(name, a.getVariable(name).getArr().dup()));
        Adam resumed = new Adam();
        resumed.restore(saved);
        assertEquals(adam.step(), resumed.step());
        Map<String, INDArray> g = gradients(rng, 0.2);
        adam.update(a, g, 1e-3, 1.0, 0.01);
        resumed.update(c, g, 1e-3, 1.0, 0.01);
        assertSameBits(a, c, "after resuming");
    }

    @Test
    void theFlatOptimizerTakesTheSameStep() {
        // FlatAdam sums the norm in Java, so clipping may scale differently; unclipped, the steps are the same
        Random rng = new Random(13);
        SameDiff a = graph(new Random(5));
        List<ParameterSlot> slots = new ArrayList<>();
        int offset = 0;
        for (var e : SHAPES.entrySet()) {
            int size = (int) Arrays.stream(e.getValue()).reduce(1, (x, y) -> x * y);
            slots.add(new ParameterSlot(e.getKey(), e.getValue(), offset, size));
            offset += size;
        }
        OffHeapFloats params = new OffHeapFloats(offset), grads = new OffHeapFloats(offset);
        for (ParameterSlot sl : slots) params.put(sl.offset(), a.getVariable(sl.name()).getArr().dup('c').data().asFloat(), 0, sl.size());
        Adam adam = new Adam();
        FlatAdam flat = new FlatAdam(slots);
        for (int stepNo = 0; stepNo < 4; stepNo++) {
            Map<String, INDArray> g = gradients(rng, stepNo % 2 == 0 ? 0.5 : 1e-4);
            for (ParameterSlot sl : slots) grads.put(sl.offset(), g.get(sl.name()).dup('c').data().asFloat(), 0, sl.size());
            adam.update(a, g, 1e-3, 0, 0);
            flat.update(params, grads, 1e-3, 0);
            for (ParameterSlot sl : slots) {
                float[] got = new float[sl.size()];
                params.get(sl.offset(), got, 0, sl.size());
                assertArrayEquals(bits(a.getVariable(sl.name()).getArr().dup('c').data().asFloat()), bits(got), "step " + (stepNo + 1) + ": " + sl.name());
            }
        }
    }

    private static void assertSameBits(SameDiff want, SameDiff got, String what) {
        for (String name : SHAPES.keySet()) {
            assertArrayEquals(bits(want.getVariable(name).getArr().dup('c').data().asFloat()), bits(got.getVariable(name).getArr().dup('c').data().asFloat()),
                    what + ": " + name);
        }
    }

    private static int[] bits(float[] x) {
        int[] out = new int[x.length];
        for (int i = 0; i < x.length; i++) out[i] = Float.floatToRawIntBits(x[i]);
        return out;
    }
}
