import dev.unmask.dllm.onnx.Denoisers;
import dev.unmask.env.eval.Evaluator;
import dev.unmask.env.mdp.EpisodeResult;
import dev.unmask.env.task.*;
import dev.unmask.heuristics.Heuristics;
import java.nio.file.Path;
import java.util.List;

/** Careful decoding of n prompts of lanes; share of lanes right by lane index and direction. Usage: CHECKPOINT SPLIT N [POLICY [BLOCK]] */
public class LaneDiag {
    public static void main(String[] a) throws Exception {
        Task task = Tasks.byName("lanes");
        int n = Integer.parseInt(a[2]);
        String pol = a.length > 3 ? a[3] : "topk:steps=128";
        int block = a.length > 4 ? Integer.parseInt(a[4]) : 128;
        List<EpisodeResult> eps;
        try (var dllm = Denoisers.load(Path.of(a[0]))) {
            eps = Evaluator.evaluate(dllm, task, 128, block, Heuristics.parse(pol), Split.parse(a[1]), 1, n, 64, null).episodes();
        }
        int[][] right = new int[4][2], all = new int[4][2];
        int correct = 0;
        for (EpisodeResult e : eps) {
            String key = e.example().key();
            String got = (e.answerText() + ".".repeat(200)).substring(0, 127);
            String ref = (e.example().answer() + ".".repeat(200)).substring(0, 127);
            if (e.correct()) correct++;
            for (int l = 0; l < 4; l++) {
                int d = key.charAt(5 * l) == '+' ? 0 : 1;
                all[l][d]++;
                if (got.substring(32 * l, 32 * l + 31).equals(ref.substring(32 * l, 32 * l + 31))) right[l][d]++;
            }
        }
        System.out.printf("%s %s n=%d policy=%s B=%d: whole answers right %d/%d%n", a[0], a[1], n, pol, block, correct, eps.size());
        for (int l = 0; l < 4; l++) System.out.printf("lane %d: '+' %d/%d right, '-' %d/%d right%n", l, right[l][0], all[l][0], right[l][1], all[l][1]);
    }
}
