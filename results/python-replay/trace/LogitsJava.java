import dev.unmask.dllm.onnx.*;
import dev.unmask.env.task.*;
import java.nio.*;
import java.nio.file.*;
public class LogitsJava { public static void main(String[] a) throws Exception {
  var d = (OnnxDenoiser) Denoisers.load(Path.of("models/dllm-t7"));
  var v = d.vocabulary();
  var ex = Tasks.byName("ducci").dataset(Split.TEST, 1, 4);
  int[][] seqs = new int[4][];
  for (int i = 0; i < 4; i++) { int[] p = v.encode(ex.get(i).prompt()); seqs[i] = java.util.Arrays.copyOf(p, p.length + 128); java.util.Arrays.fill(seqs[i], p.length, p.length + 128, v.maskId()); }
  float[] lg = d.logits(seqs);
  ByteBuffer bb = ByteBuffer.allocate(lg.length * 4).order(ByteOrder.LITTLE_ENDIAN);
  for (float f : lg) bb.putFloat(f);
  Files.write(Path.of(a[0], "java-logits.bin"), bb.array());
  var pred = d.predict(seqs, mask(seqs, v.maskId()), false);
  bb = ByteBuffer.allocate(4 * seqs[0].length * 4).order(ByteOrder.LITTLE_ENDIAN);
  for (int r = 0; r < 4; r++) for (int i = 0; i < seqs[0].length; i++) bb.putFloat(pred.confidence()[r][i]);
  Files.write(Path.of(a[0], "java-conf.bin"), bb.array());
  System.out.println(lg.length + " " + seqs[0].length);
}
static boolean[][] mask(int[][] s, int m) { boolean[][] q = new boolean[s.length][s[0].length]; for (int r = 0; r < s.length; r++) for (int i = 0; i < s[r].length; i++) q[r][i] = s[r][i] == m; return q; }
}
