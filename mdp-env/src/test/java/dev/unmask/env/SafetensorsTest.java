package dev.unmask.env;

import dev.unmask.env.io.Safetensors;
import org.junit.jupiter.api.Test;

import java.util.Map;

import static org.junit.jupiter.api.Assertions.*;

class SafetensorsTest {
    @Test
    void roundTripsBitForBitAndEncodesDeterministically() {
        Map<String, Safetensors.Tensor> t = Map.of(
                "b", new Safetensors.Tensor(new long[]{2, 3}, new float[]{1, -2, 3.5f, Float.MIN_VALUE, -0f, 1e30f}),
                "a", new Safetensors.Tensor(new long[]{1}, new float[]{Float.intBitsToFloat(0x7fc00001)}));
        byte[] bytes = Safetensors.encode(t, Map.of("k", "v"));
        Map<String, Safetensors.Tensor> back = Safetensors.decode(bytes, "mem");
        for (var e : t.entrySet()) {
            assertArrayEquals(e.getValue().shape(), back.get(e.getKey()).shape());
            float[] x = e.getValue().data(), y = back.get(e.getKey()).data();
            for (int i = 0; i < x.length; i++) assertEquals(Float.floatToRawIntBits(x[i]), Float.floatToRawIntBits(y[i]));
        }
        assertArrayEquals(bytes, Safetensors.encode(back, Map.of("k", "v")));
        long headerLen = java.nio.ByteBuffer.wrap(bytes).order(java.nio.ByteOrder.LITTLE_ENDIAN).getLong();
        assertEquals(0, headerLen % 8, "header padded to 8 bytes as the format requires");
    }

    @Test
    void truncatedFileIsANamedError() {
        byte[] bytes = Safetensors.encode(Map.of("w", new Safetensors.Tensor(new long[]{4}, new float[]{1, 2, 3, 4})), Map.of());
        byte[] cut = java.util.Arrays.copyOf(bytes, bytes.length - 3);
        UnmaskException e = assertThrows(UnmaskException.class, () -> Safetensors.decode(cut, "w.safetensors"));
        assertTrue(e.getMessage().contains("tensor w lies outside the file"), e.getMessage());
        assertThrows(UnmaskException.class, () -> Safetensors.decode(new byte[5], "x"));
    }
}
