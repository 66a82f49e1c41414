import dev.unmask.dllm.onnx.*;
import dev.unmask.env.task.*;
import java.nio.*;
import java.nio.file.*;
import java.util.*;
/** The fast engine's confidence, top-1 and entropy (float bits) at every masked position of ROWS test prompts of TASK, a third of each answer written: java -cp CP DumpFastEngine.java MODEL OUT ROWS TASK */
public class DumpFastEngine { public static void main(String[] a) throws Exception {
  var d = Denoisers.load(Path.of(a[0]), Denoisers.Engine.FAST);
  var v = d.vocabulary();
  int rows = Integer.parseInt(a[2]);
  var ex = Tasks.byName(a[3]).dataset(Split.TEST, 1, rows);
  Random rnd = new Random(7);
  int[][] seqs = new int[rows][];
  for (int i = 0; i < rows; i++) {
    int[] p = v.encode(ex.get(i).prompt()); int[] ans = v.encode(ex.get(i).answer());
    int gen = 128; seqs[i] = Arrays.copyOf(p, p.length + gen);
    for (int j = 0; j < gen; j++) seqs[i][p.length + j] = (j < ans.length && rnd.nextInt(3) == 0) ? ans[j] : v.maskId();
  }
  int maxLen = 0; for (int[] s : seqs) maxLen = Math.max(maxLen, s.length);
  boolean[][] q = new boolean[rows][];
  for (int r = 0; r < rows; r++) { q[r] = new boolean[seqs[r].length]; for (int i = 0; i < seqs[r].length; i++) q[r][i] = seqs[r][i] == v.maskId(); }
  var pred = d.predict(seqs, q, false);
  var out = new StringBuilder();
  for (int r = 0; r < rows; r++) {
    StringBuilder s = new StringBuilder();
    for (int i = 0; i < seqs[r].length; i++) s.append(i == 0 ? "" : " ").append(seqs[r][i]);
    out.append(s).append('\n');
    StringBuilder c = new StringBuilder();
    for (int i = 0; i < seqs[r].length; i++) c.append(i == 0 ? "" : " ").append(q[r][i] ? Integer.toHexString(Float.floatToRawIntBits(pred.confidence()[r][i])) + ":" + pred.top1()[r][i] + ":" + Integer.toHexString(Float.floatToRawIntBits(pred.entropy()[r][i])) : "-");
    out.append(c).append('\n');
  }
  Files.writeString(Path.of(a[1]), out.toString());
  System.out.println("rows " + rows + " maxLen " + maxLen);
}}
