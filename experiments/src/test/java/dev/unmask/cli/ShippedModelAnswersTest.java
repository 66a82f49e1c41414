package dev.unmask.cli;

import dev.unmask.dllm.onnx.Denoisers;
import dev.unmask.env.eval.Evaluator;
import dev.unmask.env.mdp.EpisodeResult;
import dev.unmask.env.task.Split;
import dev.unmask.env.task.Task;
import dev.unmask.env.task.Tasks;
import dev.unmask.heuristics.Heuristics;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.util.HexFormat;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;

/**
 * The fast guard on every checkpoint under models/: its weights are the ones shipped (sha256 pinned
 * here, not only in its own checksums.json) and careful decoding (one token per step, most confident
 * first, full diffusion, the default inference path) of four fixed held-out prompts writes exactly
 * the answers recorded here, right and wrong alike. A change to the weights, the graph, the
 * vocabulary, the tasks' prompts or the decoding loop fails it. Accuracy on more prompts is the slow
 * tier's ({@link ShippedModelsTest}, {@code mvn -B test -Pslow}).
 */
class ShippedModelAnswersTest {
    static final int PROMPTS = 4;
    static final long SEED = 7;

    /**
     * A shipped model, the task it decodes here, its weights' sha256, and the answers careful decoding
     * writes for the first {@value #PROMPTS} test prompts of the seed-{@value #SEED} draw: "+" marks a
     * correct answer, "-" a wrong one.
     */
    record Shipped(String model, String task, String weightsSha256, String... answers) {
        @Override
        public String toString() {
            return model + " on " + task;
        }
    }

    static List<Shipped> shipped() {
        return List.of(
            new Shipped("dllm-a", "sudoku", "af8c63709bee9b26f67d3a264920c7ef277e295a8038dbca43f1e72e60d4a336",
                    "+1324|2413|4231|3142",
                    "+2314|4123|1432|3241",
                    "+3124|4231|1342|2413",
                    "+1324|2431|3142|4213"),
            new Shipped("dllm-b", "sudoku", "d329f3052a69e30d9d6cd96da77e4470f0051e2b258f71248ab5ddf8b534fd22",
                    "+1324|2413|4231|3142",
                    "+2314|4123|1432|3241",
                    "+3124|4231|1342|2413",
                    "+1324|2431|3142|4213"),
            new Shipped("dllm-c", "arith-chain", "0f99c6d284a92db83aae8bd68b4c45b2326477a4b7199ad5a6d8251272d56e26",
                    "+05,+6=11,+0=11,-2=09,-9=00>00",
                    "+09,-5=04,+9=13,+8=21>21",
                    "+09,-1=08,+0=08,+7=15>15",
                    "+08,+5=13,-8=05,+0=05>05"),
            new Shipped("dllm-d", "arith-chain", "52ca0dc96a5ae76a1f00df123d384a45c21844f22f075dd48384dd70cde7e8fb",
                    "+05,+6=11,+0=11,-2=09,-9=00>00",
                    "+09,-5=04,+9=13,+8=21>21",
                    "+09,-1=08,+0=08,+7=15>15",
                    "+08,+5=13,-8=05,+0=05>05"),
            new Shipped("dllm-t1", "lag", "f6ccd98a146e9daab5a3343a455038cae14f8fd2f40f066b63bd92b2da6a9ef2",
                    "+8836425157238570",
                    "+10",
                    "+4639392143560384475930",
                    "+10"),
            new Shipped("dllm-t2", "lag5", "cb292a0169420d27f97efabde8f36c6dabeb596ce646977b3c552cbec30e10d2",
                    "+798252191689895320947998298757641639340325992498793207691184345370492993243257146189390",
                    "+947610417882308681195345492615462382803131145890",
                    "+5171056344958265080611995676506394403260035111490",
                    "+4931043677140745996054399481093122145790"),
            new Shipped("dllm-t3", "lag48", "acae48c41276c2ccdb8cedc57a5a9481ad7ef340a8e19546c2d51d849f027b6f",
                    "+8836425157238570830081119012112456827313034770418823191454594832647959650",
                    "+10889975430592276807311812312478041993432592498043115890",
                    "+4639392143560384475930547726302811312367928546493932547948548615390",
                    "+104677174129346582831314589386586275130569940982219134347148560839970"),
            new Shipped("dllm-t4", "lag48", "5117e8477452427437da90b7b2214119a4431239ec004d579c455438fcadcef5",
                    "+8836425157238570830081119012112456827313034770418823191454594832647959650",
                    "+10889975430592276807311812312478041993432592498043115890",
                    "+4639392143560384475930547726302811312367928546493932547948548615390",
                    "+104677174129346582831314589386586275130569940982219134347148560839970"),
            new Shipped("dllm-t5", "lag48", "dd5f611cce0e5ee0f642ffbb0a17d12c18f28f6f70b9150aee51f1452ad12f1e",
                    "+8836425157238570830081119012112456827313034770418823191454594832647959650",
                    "+10889975430592276807311812312478041993432592498043115890",
                    "+4639392143560384475930547726302811312367928546493932547948548615390",
                    "+104677174129346582831314589386586275130569940982219134347148560839970"),
            new Shipped("dllm-t6", "ducci", "2a65de74173fdfdaef9bd3f7e252afae432405efae886d57cbd23fbe8fad3f20",
                    "+57001175,27010620,57116422,26052203,46530231,21232123,11111111,00000000",
                    "+62782502,45163524,14532320,31211121,21100112,10101010,11111111,00000000",
                    "+25692411,31372301,22451312,02142210,21320110,12121012,11111111,00000000",
                    "+45621217,11411163,03300532,30305212,33353111,00222002,02002022,22022202,02200220,20202020,22222222,00000000"),
            new Shipped("dllm-t7", "ducci", "4bfb130f6cc9e9ed2e7e998727385a9d9b11e0f399b357f71cdf837c1cc7d1b6",
                    "+57001175,27010620,57116422,26052203,46530231,21232123,11111111,00000000",
                    "+62782502,45163524,14532320,31211121,21100112,10101010,11111111,00000000",
                    "+25692411,31372301,22451312,02142210,21320110,12121012,11111111,00000000",
                    "-45621217,11411163,03300530,30305230,33353133,00222200,02000200,22002200,02020202,22222222,00000000"),
            new Shipped("dllm-t8", "ducci", "d8271637819138bffab54c5132c57d0c96efc14c85e8bb045d0da440a242baa4",
                    "+57001175,27010620,57116422,26052203,46530231,21232123,11111111,00000000",
                    "+62782502,45163524,14532320,31211121,21100112,10101010,11111111,00000000",
                    "+25692411,31372301,22451312,02142210,21320110,12121012,11111111,00000000",
                    "+45621217,11411163,03300532,30305212,33353111,00222002,02002022,22022202,02200220,20202020,22222222,00000000"),
            new Shipped("dllm-t9", "lanes-columns", "d4475c1eeb29da209ffaa43f21c033069ed2229ea82acdb8e3a3d37de62c090f",
                    "+7.77,5.16,5.98,3.14,0.81,..97,..85,..99,..70,.06.,.74.,.93.,.50.,.3..,.8..,.4..,.2..,.5..,.4..,.2..,.7..,.1..,.2..,.5..,.6",
                    "+....,....,....,....,....,....,....,....,0...,1...,5...,1...,9...,6...,4...,2.0.,3.70,2087,2196,9839,1293,0991,3367,8646,1302",
                    "+.9.9,.8.0,.0.5,.9.2,.8.1,.601,.616,.598,.379,.990,.52.,.02.,..8.,0.7.,5.0.,1.4.,7.1.,5.7.,4.6.,4.3.,2.4.,1.1.,0.3.,2.9.,1.3",
                    "-5536,8189,1534,3890,8326,6405,7939,0729,.045,.440,.37.,.09.,..3.,..7.,..4.,..3.,..6.,..3.,..7.,..0"));
    }

    @Test
    void everyShippedModelIsPinnedHere() throws Exception {
        List<String> onDisk;
        try (var s = Files.list(ShippedModelsTest.modelsDir())) {
            onDisk = s.filter(p -> Files.isRegularFile(p.resolve("config.json"))).map(p -> p.getFileName().toString()).sorted().toList();
        }
        assertEquals(onDisk, shipped().stream().map(Shipped::model).distinct().sorted().toList());
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("shipped")
    void decodesTheRecordedAnswersCarefully(Shipped s) throws Exception {
        Path dir = ShippedModelsTest.modelsDir().resolve(s.model());
        byte[] weights = Files.readAllBytes(dir.resolve("weights.safetensors"));
        assertEquals(s.weightsSha256(), HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(weights)), s.model() + ": weights.safetensors");
        Task task = Tasks.byName(s.task());
        int len = task.defaultGenLength();
        List<EpisodeResult> eps;
        try (var dllm = Denoisers.load(dir)) {
            eps = Evaluator.evaluate(dllm, task, len, len, Heuristics.parse("topk:steps=" + len), Split.TEST, SEED, PROMPTS, PROMPTS, null).episodes();
        }
        List<String> got = eps.stream().map(e -> (e.correct() ? "+" : "-") + e.answerText().strip()).toList();
        assertEquals(List.of(s.answers()), got, s.toString());
        for (EpisodeResult e : eps) assertEquals(len, e.nfe(), "one token per step");
    }
}
