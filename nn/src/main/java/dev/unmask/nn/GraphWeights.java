package dev.unmask.nn;

import dev.unmask.env.UnmaskException;
import dev.unmask.env.io.Safetensors;
import org.nd4j.autodiff.samediff.SDVariable;
import org.nd4j.autodiff.samediff.SameDiff;
import org.nd4j.autodiff.samediff.VariableType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;

import java.util.*;

/** A SameDiff graph's trainable variables as named tensors, and strict loading back (names and shapes must match). */
public final class GraphWeights {
    private GraphWeights() {
    }

    /** Trainable variables, sorted by name. */
    public static List<SDVariable> trainable(SameDiff sd) {
        List<SDVariable> out = new ArrayList<>();
        for (SDVariable v : sd.variables()) if (v.getVariableType() == VariableType.VARIABLE) out.add(v);
        out.sort(Comparator.comparing(SDVariable::name));
        return out;
    }

    public static long parameterCount(SameDiff sd) {
        long n = 0;
        for (SDVariable v : trainable(sd)) n += v.getArr().length();
        return n;
    }

    /** a's values in row-major order, a copy; without an intermediate array when a is a whole c-ordered buffer of its own. */
    public static float[] values(INDArray a) {
        boolean plain = !a.isView() && a.ordering() == 'c' && a.offset() == 0 && a.data().length() == a.length();
        return (plain ? a : a.dup('c')).data().asFloat();
    }

    /** Writes values (row-major) into a, in place; through a temporary array when a is not a whole c-ordered buffer. */
    public static void assign(INDArray a, float[] values) {
        boolean plain = !a.isView() && a.ordering() == 'c' && a.offset() == 0 && a.data().length() == a.length();
        if (plain && values.length == a.length()) a.data().setData(values);
        else a.assign(Nd4j.create(values, a.shape(), 'c'));
    }

    public static Map<String, Safetensors.Tensor> read(SameDiff sd) {
        Map<String, Safetensors.Tensor> out = new TreeMap<>();
        for (SDVariable v : trainable(sd)) {
            INDArray a = v.getArr();
            out.put(v.name(), new Safetensors.Tensor(a.shape(), values(a)));
        }
        return out;
    }

    /** Replaces every weight; a missing, extra or differently shaped tensor is a one-line error naming it. */
    public static void load(SameDiff sd, Map<String, Safetensors.Tensor> tensors, String source) {
        Set<String> expected = new TreeSet<>();
        for (SDVariable v : trainable(sd)) {
            expected.add(v.name());
            Safetensors.Tensor t = tensors.get(v.name());
            if (t == null) throw new UnmaskException(source + ": tensor " + v.name() + " is missing");
            if (!Arrays.equals(t.shape(), v.getArr().shape())) {
                throw new UnmaskException(source + ": tensor " + v.name() + " has shape " + Arrays.toString(t.shape())
                        + " but the config expects " + Arrays.toString(v.getArr().shape()));
            }
        }
        for (String name : tensors.keySet()) {
            if (!expected.contains(name)) throw new UnmaskException(source + ": unexpected tensor " + name + " (not part of this architecture)");
        }
        for (SDVariable v : trainable(sd)) {
            Safetensors.Tensor t = tensors.get(v.name());
            v.getArr().assign(Nd4j.create(t.data(), t.shape(), 'c'));
        }
    }
}
