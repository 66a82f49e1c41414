package dev.unmask.nn;

import org.junit.jupiter.api.Test;
import org.nd4j.autodiff.samediff.SameDiff;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;

import java.util.Map;

import static org.junit.jupiter.api.Assertions.*;

class AdamTest {
    private static SameDiff graph(float... values) {
        SameDiff sd = SameDiff.create();
        sd.var("w", Nd4j.createFromArray(values).castTo(DataType.FLOAT));
        return sd;
    }

    @Test
    void weightDecayShrinksEachParameterByLrTimesDecayBeforeTheAdamStep() {
        // a zero gradient: Adam moves nothing, so only the decay acts
        SameDiff sd = graph(1f, -2f);
        Map<String, INDArray> zero = Map.of("w", Nd4j.zeros(DataType.FLOAT, 2));
        new Adam().update(sd, zero, 0.5, 0, 0.1);
        assertArrayEquals(new float[]{0.95f, -1.9f}, sd.getVariable("w").getArr().toFloatVector(), 1e-7f);
        new Adam().update(sd, zero, 0.5, 0, 0);
        assertArrayEquals(new float[]{0.95f, -1.9f}, sd.getVariable("w").getArr().toFloatVector(), 1e-7f, "no decay: plain Adam");
        // with a gradient: decay, then the first Adam step (-lr * sign(g) after bias correction)
        SameDiff sd2 = graph(1f, -2f);
        new Adam().update(sd2, Map.of("w", Nd4j.createFromArray(0.3f, -0.7f)), 0.5, 0, 0.1);
        assertArrayEquals(new float[]{0.95f - 0.5f, -1.9f + 0.5f}, sd2.getVariable("w").getArr().toFloatVector(), 1e-5f);
    }
}
