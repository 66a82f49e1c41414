package dev.unmask.env;

import dev.unmask.env.denoiser.Predictions;
import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.*;

class PredictionsTest {
    @Test
    void theMaskTokenIsNeverPredictedButStaysInTheDistribution() {
        // one position, vocabulary of 4: [MASK] (id 1) has the largest logit, then id 3, then id 0
        float[] logits = {1f, 5f, 0f, 2f};
        boolean[][] query = {{true}};
        Predictions plain = Predictions.fromLogits(logits, 1, 4, query, true);
        assertEquals(1, plain.top1()[0][0], "without the exclusion the mask wins");
        Predictions p = Predictions.fromLogits(logits, 1, 4, query, true, 1);
        double z = Math.exp(1) + Math.exp(5) + Math.exp(0) + Math.exp(2);
        assertEquals(3, p.top1()[0][0]);
        assertEquals(Math.exp(2) / z, p.confidence()[0][0], 1e-6, "confidence = probability of the best real token");
        assertEquals(Math.exp(1) / z, p.top2Prob()[0][0], 1e-6);
        assertEquals(Math.exp(5) / z, p.distributions()[0][0][1], 1e-6, "distribution unchanged");
        assertEquals(plain.entropy()[0][0], p.entropy()[0][0], 1e-6);
    }
}
