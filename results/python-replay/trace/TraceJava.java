import dev.unmask.dllm.onnx.Denoisers;
import dev.unmask.env.mdp.*;
import dev.unmask.env.task.*;
import dev.unmask.policy.*;
import dev.unmask.policy.graph.PolicyNet;
import java.nio.file.*;
import java.util.*;
public class TraceJava { public static void main(String[] a) throws Exception {
  var dllm = Denoisers.load(Path.of("models/dllm-t7"));
  var net = PolicyNet.load(Path.of("results/frontier/attempt-ducci-t7-knob/policy"));
  var pol = new LearnedPolicy(net, 1.0, false, "p").withKnob(0.0);
  var ex = Tasks.byName("ducci").dataset(Split.TEST, 1, 1000).subList(384, 448);
  UnmaskPolicy tracing = new UnmaskPolicy() {
    public String name() { return "t"; }
    public Map<String,Object> params() { return Map.of(); }
    public boolean[][] select(StepObservation obs) {
      boolean[][] take = pol.select(obs);
      for (int r = 0; r < obs.rows(); r++) if (obs.episodeIds()[r] == 13) {
        float[] knobs = new float[obs.rows()];
        var win = net.window(obs, knobs);
        float[] lg = net.logits(win)[r];
        StringBuilder sb = new StringBuilder("step " + (obs.step()[r] + 1) + " takes [");
        for (int j = 0; j < 128; j++) if (take[r][j]) sb.append(j).append(", ");
        sb.append("] near 0: ");
        for (int j = 0; j < 128; j++) if (obs.eligible()[r][j] && Math.abs(lg[j]) < 0.05) sb.append("(").append(j).append(", ").append(lg[j]).append(", ").append(obs.confidence()[r][j]).append(") ");
        if (obs.step()[r] == 5) { sb.append("\nconf:"); for (int j = 0; j < 128; j++) if (obs.masked()[r][j]) sb.append(" ").append(j).append("=").append(Float.floatToIntBits(obs.confidence()[r][j])); }
        System.out.println(sb);
      }
      return take;
    }
  };
  var env = new UnmaskingEnv(dllm, Tasks.byName("ducci"), 128, 128, 0.0, Reward.DEFAULT);
  var res = env.run(ex, 385, tracing);
  System.out.println("nfe " + res.get(13).nfe());
}}
