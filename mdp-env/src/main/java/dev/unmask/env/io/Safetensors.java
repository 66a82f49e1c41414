package dev.unmask.env.io;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.unmask.env.UnmaskException;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.*;

/**
 * The safetensors format (F32 only): 8-byte little-endian header length, a JSON header naming each
 * tensor's dtype, shape and byte range, then the raw little-endian data. Tensors are written in
 * name order so the same weights always give the same bytes.
 */
public final class Safetensors {
    /** A named float tensor in row-major order. */
    public record Tensor(long[] shape, float[] data) {
        public Tensor {
            long n = 1;
            for (long s : shape) n *= s;
            if (n != data.length) {
                throw new IllegalArgumentException("shape " + Arrays.toString(shape) + " does not hold " + data.length + " values");
            }
        }
    }

    private Safetensors() {
    }

    public static byte[] encode(Map<String, Tensor> tensors, Map<String, String> metadata) {
        SortedMap<String, Tensor> sorted = new TreeMap<>(tensors);
        ObjectNode header = Json.object();
        if (metadata != null && !metadata.isEmpty()) {
            ObjectNode meta = header.putObject("__metadata__");
            new TreeMap<>(metadata).forEach(meta::put);
        }
        long offset = 0;
        for (var e : sorted.entrySet()) {
            ObjectNode t = header.putObject(e.getKey());
            t.put("dtype", "F32");
            ArrayNode shape = t.putArray("shape");
            for (long s : e.getValue().shape()) shape.add(s);
            long bytes = 4L * e.getValue().data().length;
            t.putArray("data_offsets").add(offset).add(offset + bytes);
            offset += bytes;
        }
        byte[] headerBytes = Json.writeLine(header).getBytes(StandardCharsets.UTF_8);
        int padded = (headerBytes.length + 7) / 8 * 8; // spec: pad the header with spaces to 8-byte alignment
        ByteBuffer buf = ByteBuffer.allocate(Math.toIntExact(8 + padded + offset)).order(ByteOrder.LITTLE_ENDIAN);
        buf.putLong(padded);
        buf.put(headerBytes);
        for (int i = headerBytes.length; i < padded; i++) buf.put((byte) ' ');
        for (Tensor t : sorted.values()) {
            for (float v : t.data()) buf.putFloat(v);
        }
        return buf.array();
    }

    public static void write(Path file, Map<String, Tensor> tensors, Map<String, String> metadata) {
        AtomicFiles.write(file, encode(tensors, metadata));
    }

    public static Map<String, Tensor> read(Path file) {
        byte[] bytes;
        try {
            bytes = Files.readAllBytes(file);
        } catch (IOException e) {
            throw new UnmaskException("cannot read " + file + ": " + e.getMessage(), e);
        }
        return decode(bytes, file.toString());
    }

    /** The header's {@code __metadata__} string map (empty when the file has none). */
    public static Map<String, String> metadata(byte[] bytes, String source) {
        Map<String, String> out = new LinkedHashMap<>();
        header(bytes, source).path("__metadata__").fields().forEachRemaining(e -> out.put(e.getKey(), e.getValue().asText()));
        return out;
    }

    private static JsonNode header(byte[] bytes, String source) {
        if (bytes.length < 8) throw new UnmaskException(source + ": truncated safetensors file (" + bytes.length + " bytes)");
        long headerLen = ByteBuffer.wrap(bytes).order(ByteOrder.LITTLE_ENDIAN).getLong();
        if (headerLen <= 0 || headerLen > bytes.length - 8) {
            throw new UnmaskException(source + ": corrupt safetensors header length " + headerLen);
        }
        try {
            return Json.MAPPER.readTree(new String(bytes, 8, (int) headerLen, StandardCharsets.UTF_8).trim());
        } catch (IOException e) {
            throw new UnmaskException(source + ": corrupt safetensors header");
        }
    }

    public static Map<String, Tensor> decode(byte[] bytes, String source) {
        JsonNode header = header(bytes, source);
        long dataStart = 8 + ByteBuffer.wrap(bytes).order(ByteOrder.LITTLE_ENDIAN).getLong();
        Map<String, Tensor> out = new LinkedHashMap<>();
        for (Iterator<Map.Entry<String, JsonNode>> it = header.fields(); it.hasNext(); ) {
            var e = it.next();
            if (e.getKey().equals("__metadata__")) continue;
            JsonNode t = e.getValue();
            if (!"F32".equals(t.path("dtype").asText())) {
                throw new UnmaskException(source + ": tensor " + e.getKey() + " has dtype " + t.path("dtype").asText() + ", only F32 is supported");
            }
            long[] shape = new long[t.path("shape").size()];
            long n = 1;
            for (int i = 0; i < shape.length; i++) {
                shape[i] = t.path("shape").get(i).asLong();
                n *= shape[i];
            }
            long begin = t.path("data_offsets").path(0).asLong(-1), end = t.path("data_offsets").path(1).asLong(-1);
            if (begin < 0 || end - begin != 4 * n || dataStart + end > bytes.length) {
                throw new UnmaskException(source + ": tensor " + e.getKey() + " lies outside the file (truncated or corrupt)");
            }
            float[] data = new float[(int) n];
            ByteBuffer slice = ByteBuffer.wrap(bytes, (int) (dataStart + begin), (int) (end - begin)).order(ByteOrder.LITTLE_ENDIAN);
            slice.asFloatBuffer().get(data);
            out.put(e.getKey(), new Tensor(shape, data));
        }
        return out;
    }
}
