import dev.unmask.dllm.onnx.Denoisers;
import dev.unmask.env.eval.Evaluator;
import dev.unmask.env.task.*;
import dev.unmask.policy.*;
import dev.unmask.policy.graph.PolicyNet;
import java.nio.file.*;
public class EpisodesJava { public static void main(String[] a) throws Exception {
  var dllm = Denoisers.load(Path.of(a[0]));
  var net = PolicyNet.load(Path.of(a[1]));
  var pol = new LearnedPolicy(net, 1.0, false, a[1]).withKnob(Double.parseDouble(a[2]));
  var out = Evaluator.evaluate(dllm, Tasks.byName("ducci"), 128, 128, pol, Split.TEST, 1, 1000, 64, null);
  StringBuilder sb = new StringBuilder();
  for (var e : out.episodes()) sb.append(e.nfe()).append(' ').append(e.correct()).append(' ').append(e.fallbacks()).append('\n');
  Files.writeString(Path.of(a[3]), sb.toString());
  System.out.println(out.row().accuracy()+" "+out.row().meanNfe()+" "+out.row().fallbackSteps());
}}
