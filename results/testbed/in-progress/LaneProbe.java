import dev.unmask.dllm.onnx.Denoisers;
import dev.unmask.env.denoiser.*;
import dev.unmask.env.task.*;
import java.nio.file.Path;
import java.util.*;

/**
 * One-pass probe of lanes: digit k of a lane (k in the lane's own direction) masked together with
 * everything after it in that lane, the other three lanes given; share right by lane, sign and
 * k < 4 (reads the prompt's start digits) or k >= 4 (the lag rule inside the lane).
 * Usage: CHECKPOINT SPLIT N
 */
public class LaneProbe {
    public static void main(String[] a) throws Exception {
        Task task = Tasks.byName("lanes");
        List<Example> ex = task.dataset(Split.parse(a[1]), 1, Integer.parseInt(a[2]));
        int[][][] right = new int[4][2][2], all = new int[4][2][2];
        try (var dllm = Denoisers.load(Path.of(a[0]))) {
            Vocabulary v = dllm.vocabulary();
            List<int[]> seqs = new ArrayList<>(); List<int[]> meta = new ArrayList<>();
            for (Example e : ex) {
                int[] full = Task.targetSequence(v, e, 128);
                int p0 = v.encode(e.prompt()).length;
                String ans = e.answer();
                for (int l = 0; l < 4; l++) {
                    boolean fwd = e.key().charAt(5 * l) == '+';
                    int start = 32 * l, end = Math.min(32 * l + 31, 128);
                    List<Integer> order = new ArrayList<>();
                    for (int i = 0; i < 31; i++) order.add(fwd ? start + i : start + 30 - i);
                    int digits = (int) order.stream().filter(i -> i < ans.length() && Character.isDigit(ans.charAt(i))).count();
                    for (int k = 0; k < digits; k++) {
                        int[] s = full.clone();
                        for (int j = k; j < 31; j++) s[p0 + order.get(j)] = v.maskId();
                        seqs.add(s); meta.add(new int[]{l, fwd ? 0 : 1, k < 4 ? 0 : 1, p0 + order.get(k), full[p0 + order.get(k)]});
                    }
                }
            }
            for (int b = 0; b < seqs.size(); b += 256) {
                int m = Math.min(256, seqs.size() - b);
                int[][] batch = new int[m][]; boolean[][] q = new boolean[m][];
                for (int i = 0; i < m; i++) { batch[i] = seqs.get(b + i); q[i] = new boolean[batch[i].length]; q[i][meta.get(b + i)[3]] = true; }
                Predictions p = dllm.predict(batch, q, false);
                for (int i = 0; i < m; i++) {
                    int[] mt = meta.get(b + i);
                    all[mt[0]][mt[1]][mt[2]]++;
                    if (p.top1()[i][mt[3]] == mt[4]) right[mt[0]][mt[1]][mt[2]]++;
                }
            }
        }
        System.out.println("| lane | sign | digits 1-4 (read the prompt) | digits 5+ (the rule in the lane) |");
        System.out.println("|---|---|---|---|");
        for (int l = 0; l < 4; l++) for (int d = 0; d < 2; d++)
            System.out.printf("| %d | %s | %d/%d | %d/%d |%n", l, d == 0 ? "+" : "-", right[l][d][0], all[l][d][0], right[l][d][1], all[l][d][1]);
    }
}
