package dev.unmask.cli;

import dev.unmask.policy.PolicyCheckpoint;
import dev.unmask.policy.PolicyConfig;
import dev.unmask.policy.graph.PolicyNet;
import dev.unmask.env.denoiser.Denoiser;
import dev.unmask.env.denoiser.Predictions;
import dev.unmask.env.io.AtomicFiles;
import dev.unmask.env.io.Checksums;
import dev.unmask.env.io.Json;
import dev.unmask.env.io.Safetensors;
import dev.unmask.env.task.Example;
import dev.unmask.env.task.Split;
import dev.unmask.env.task.Task;
import dev.unmask.env.task.Tasks;
import dev.unmask.heuristics.Heuristics;
import dev.unmask.runs.PolicyGrid;
import dev.unmask.env.denoiser.Vocabulary;
import dev.unmask.dllm.BuiltinDllm;
import dev.unmask.dllm.DllmCheckpoint;
import dev.unmask.dllm.DllmConfig;
import dev.unmask.runs.DllmTrainRun;
import dev.unmask.runs.probe.FirstPassEos;
import dev.unmask.runs.probe.StepProbe;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import dev.unmask.runs.RunFolderCheck;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.*;

class CliTest {
    record Run(int code, String out, String err) {
    }

    /** A cell's result file (not the failure counts beside it). */
    static boolean isCellResult(Path p) {
        return p.toString().endsWith(".json") && !p.toString().endsWith(".failures.json");
    }

    static Run run(String... args) {
        PrintStream oldOut = System.out, oldErr = System.err;
        ByteArrayOutputStream out = new ByteArrayOutputStream(), err = new ByteArrayOutputStream();
        System.setOut(new PrintStream(out, true, StandardCharsets.UTF_8));
        System.setErr(new PrintStream(err, true, StandardCharsets.UTF_8));
        try {
            int code = Main.commandLine().execute(args);
            return new Run(code, out.toString(StandardCharsets.UTF_8), err.toString(StandardCharsets.UTF_8));
        } finally {
            System.setOut(oldOut);
            System.setErr(oldErr);
        }
    }

    static Path tinyCheckpoint(Path dir) {
        Path ck = dir.resolve("dllm");
        DllmCheckpoint.save(ck, new BuiltinDllm(new DllmConfig(16, 1, 2, 32, 96, 1), Vocabulary.builtin()));
        return ck;
    }

    /** An eval.csv's lines without the wall_ms column (the only one that differs between identical runs); quoted cells parsed as CSV. */
    static List<String> withoutWallTime(List<String> csv) {
        int col = RunFolderCheck.parseCsvLine(csv.get(0)).indexOf("wall_ms");
        return csv.stream().map(l -> {
            List<String> cells = new java.util.ArrayList<>(RunFolderCheck.parseCsvLine(l));
            cells.remove(col);
            return String.join(",", cells);
        }).toList();
    }

    static List<String> withoutWallTime(Path csv) throws IOException {
        return withoutWallTime(Files.readAllLines(csv));
    }

    static void assertOneLineError(Run r, String fragment) {
        assertEquals(2, r.code(), r.err());
        String[] lines = r.err().strip().split("\n");
        assertEquals(1, lines.length, "one line: " + r.err());
        assertTrue(lines[0].startsWith("unmask: "), lines[0]);
        assertTrue(lines[0].contains(fragment), lines[0]);
    }

    @Test
    void usageErrorsExitTwoWithOneLine(@TempDir Path dir) {
        assertOneLineError(run("frobnicate"), "frobnicate");
        assertOneLineError(run("eval", "--no-such-flag", "--out", dir.resolve("x").toString()), "--no-such-flag");
        assertOneLineError(run("dllm", "eval"), "--dllm");
    }

    @Test
    void dllmEvalWritesItsTableWithAManifest(@TempDir Path dir) throws Exception {
        Path ck = tinyCheckpoint(dir), out = dir.resolve("dllm-eval");
        Run r = run("dllm", "eval", "--checkpoint", ck.toString(), "--tasks", "sort", "--n", "3", "--out", out.toString());
        assertEquals(0, r.code(), r.err());
        assertEquals(1 + 8, Files.readAllLines(out.resolve("dllm-eval.csv")).size(), "header + careful and aggressive rows");
        Map<?, ?> manifest = Json.read(out.resolve("manifest.json"), Map.class);
        assertEquals(DllmCheckpoint.weightsSha256(ck), ((Map<?, ?>) manifest.get("inputs_sha256")).values().iterator().next());
        assertTrue(((Map<?, ?>) manifest.get("outputs_sha256")).containsKey("dllm-eval.csv"));
    }

    @Test
    void probeCutsAnswersIntoStepsAndScoresEachGivenTheOnesBefore(@TempDir Path dir) throws Exception {
        assertEquals(List.of(0, 6, 12, 18), StepProbe.stepStarts(Tasks.byName("arith"), "3+5=08,-2=06,+7=13>13"));
        assertEquals(List.of(0), StepProbe.stepStarts(Tasks.byName("sudoku"), "1234|3412|2143|4321"));
        assertEquals(List.of(0, 1, 2, 3), StepProbe.stepStarts(Tasks.byName("lag"), "1337"), "one step per digit");
        // an oracle that knows every reference answer gets every step exactly, with confidence 1
        Task task = Tasks.byName("arith-running");
        var oracle = new OracleDenoiser(task.dataset(Split.TEST, 1, 20), task.defaultGenLength());
        var rows = StepProbe.probe(oracle, task, Split.TEST, 20, 1, 7, StepProbe.Context.LEFT, false);
        assertEquals("final answer", rows.get(rows.size() - 1).step());
        for (var r : rows) {
            assertEquals(1.0, r.exactMatch(), r.toString());
            assertEquals(1.0, r.meanJointConfidence(), 1e-6, r.toString());
        }
        assertEquals(20, rows.stream().filter(r -> r.step().equals("step 1")).findFirst().orElseThrow().n());
        Path out = dir.resolve("probe");
        Run r = run("dllm", "probe", "--checkpoint", tinyCheckpoint(dir).toString(), "--tasks", "sort", "--n", "4", "--out", out.toString());
        assertEquals(0, r.code(), r.err());
        assertTrue(Files.readString(out.resolve("probe.md")).contains("| sort | step 1 | 4 |"));
        assertTrue(Files.isRegularFile(out.resolve("manifest.json")));
    }

    @Test
    void probeCanGiveBothSidesAndSplitStepsIntoTokens() {
        Task task = Tasks.byName("arith-chain");
        var examples = task.dataset(Split.TEST, 1, 20);
        var oracle = new OracleDenoiser(examples, task.defaultGenLength());
        int mask = oracle.vocabulary().maskId();
        // right only where the token after the masked run is visible: needs the right-hand context
        var needsRightContext = new OracleDenoiser(examples, task.defaultGenLength()) {
            @Override
            public Predictions predict(int[][] seqs, boolean[][] query, boolean dist) {
                var p = super.predict(seqs, query, dist);
                for (int b = 0; b < seqs.length; b++) {
                    int end = seqs[b].length - 1;
                    while (!query[b][end]) end--;
                    boolean seesRight = end + 1 < seqs[b].length && seqs[b][end + 1] != mask;
                    for (int i = 0; i < seqs[b].length; i++) if (query[b][i] && !seesRight) p.top1()[b][i] = mask;
                }
                return p;
            }
        };
        for (var r : StepProbe.probe(needsRightContext, task, Split.TEST, 20, 1, 7, StepProbe.Context.LEFT, false)) assertEquals(0.0, r.exactMatch(), r.toString());
        var bothSides = StepProbe.probe(needsRightContext, task, Split.TEST, 20, 1, 7, StepProbe.Context.ALL, false);
        // every step but the final answer has visible text after it (the final answer is followed by padding, also given)
        for (var r : bothSides) assertEquals(1.0, r.exactMatch(), r.toString());
        // wrong only on the last token of each step (a units digit): the token rows say exactly which
        var unitsBlind = new OracleDenoiser(examples, task.defaultGenLength()) {
            @Override
            public Predictions predict(int[][] seqs, boolean[][] query, boolean dist) {
                var p = super.predict(seqs, query, dist);
                for (int b = 0; b < seqs.length; b++) {
                    int last = -1;
                    for (int i = 0; i < seqs[b].length; i++) if (query[b][i] && (i + 1 == seqs[b].length || !query[b][i + 1])) last = i;
                    p.top1()[b][last] = mask;
                    p.confidence()[b][last] = 0.25f;
                }
                return p;
            }
        };
        var tokens = StepProbe.probe(unitsBlind, task, Split.TEST, 20, 1, 7, StepProbe.Context.ALL, true);
        var step2 = tokens.stream().filter(r -> r.step().startsWith("step 2 token")).map(StepProbe.StepRow::step).toList();
        assertEquals(List.of("step 2 token 1", "step 2 token 2", "step 2 token 3", "step 2 token 4", "step 2 token 5", "step 2 token 6"), step2,
                "',+5=08' has six tokens, in order");
        java.util.Set<String> labels = new java.util.HashSet<>(tokens.stream().map(StepProbe.StepRow::step).toList());
        for (var r : tokens) {
            int place = Integer.parseInt(r.step().substring(r.step().lastIndexOf(' ') + 1));
            boolean lastOfStep = !labels.contains(r.step().substring(0, r.step().lastIndexOf(' ') + 1) + (place + 1));
            assertEquals(lastOfStep ? 0.0 : 1.0, r.exactMatch(), r.toString());
            assertEquals(lastOfStep ? 0.25 : 1.0, r.meanJointConfidence(), 1e-6, r.toString());
        }
        assertTrue(labels.contains("final answer token 3") && !labels.contains("final answer token 4"), labels.toString());
    }

    /** Predicts the reference answer of every prompt it was built with, with confidence 1. */
    static class OracleDenoiser implements Denoiser {
        private final Vocabulary vocab = Vocabulary.builtin();
        private final Map<String, int[]> byPrompt = new java.util.HashMap<>();

        OracleDenoiser(List<Example> examples, int genLength) {
            for (var e : examples) byPrompt.put(e.prompt(), Task.targetSequence(vocab, e, genLength));
        }

        public Vocabulary vocabulary() {
            return vocab;
        }

        public int maxLength() {
            return 96;
        }

        public String describe() {
            return "oracle";
        }

        public Predictions predict(int[][] sequences, boolean[][] query, boolean withDistributions) {
            int rows = sequences.length;
            int[][] top1 = new int[rows][];
            float[][] conf = new float[rows][], top2 = new float[rows][], ent = new float[rows][];
            for (int b = 0; b < rows; b++) {
                int[] target = null;
                for (var entry : byPrompt.entrySet()) {
                    int[] prompt = vocab.encode(entry.getKey());
                    if (java.util.Arrays.equals(prompt, java.util.Arrays.copyOf(sequences[b], prompt.length))) target = entry.getValue();
                }
                top1[b] = new int[sequences[b].length];
                conf[b] = new float[sequences[b].length];
                top2[b] = new float[sequences[b].length];
                ent[b] = new float[sequences[b].length];
                for (int i = 0; i < sequences[b].length; i++) {
                    top1[b][i] = query[b][i] ? target[i] : -1;
                    conf[b][i] = query[b][i] ? 1f : Float.NaN;
                }
            }
            float[][][] dist = null;
            if (withDistributions) { // one-hot on the reference token
                dist = new float[rows][][];
                for (int b = 0; b < rows; b++) {
                    dist[b] = new float[sequences[b].length][];
                    for (int i = 0; i < sequences[b].length; i++) {
                        if (!query[b][i]) continue;
                        dist[b][i] = new float[vocab.size()];
                        dist[b][i][top1[b][i]] = 1f;
                    }
                }
            }
            return new Predictions(top1, conf, top2, ent, dist);
        }
    }

    @Test
    void dllmTasksListsEveryTaskAndItsLengthStatistics(@TempDir Path dir) throws Exception {
        Run list = run("dllm", "tasks");
        assertEquals(0, list.code(), list.err());
        for (String name : Tasks.names()) assertTrue(list.out().contains("| `" + name + "` |"), list.out());
        assertTrue(list.out().contains("| `gcd` | 128 | `<gcd>"), list.out());
        Path out = dir.resolve("stats");
        Run stats = run("dllm", "tasks", "--tasks", "sort,happy", "--stats", "--n", "400", "--out", out.toString());
        assertEquals(0, stats.code(), stats.err());
        String md = Files.readString(out.resolve("tasks.md"));
        assertEquals(stats.out(), md);
        assertTrue(md.contains("### sort (buffer 32, 400 distinct train instances, seed 1)"), md);
        assertTrue(md.contains("| size | 1.000 | 1.000 | 0.0 | 100.0% | 100.0% |"), "sort's length is read off the prompt: " + md);
        assertTrue(md.contains("### happy (buffer 128"), md);
        var json = Json.MAPPER.readTree(out.resolve("tasks.json").toFile());
        assertEquals(2, json.size());
        assertEquals("happy", json.get(1).path("task").asText());
        assertEquals(128, json.get(1).path("endedShare").size());
        assertOneLineError(run("dllm", "tasks", "--tasks", "chess"), "unknown task 'chess'");
        // a trace task in a model too short for its buffer is refused before any training step
        Path tooShort = dir.resolve("short");
        assertOneLineError(run("dllm", "train", "--out", tooShort.toString(), "--tasks", "sort,gcd", "--d-model", "16", "--layers", "1", "--heads", "2",
                "--ff", "32", "--steps", "2"), "task gcd needs a max length of at least 137 (prompts of up to 9 tokens and a 128-token buffer); the model's is 96");
        assertFalse(Files.exists(tooShort.resolve("metrics.jsonl")));
    }

    @Test
    void probeWithNothingGivenScoresStepsFromThePromptAndComparesFirstPassEosWithEndedAnswers() {
        Task task = Tasks.byName("happy");
        var examples = task.dataset(Split.TEST, 1, 30);
        var oracle = new OracleDenoiser(examples, task.defaultGenLength()) {
            @Override
            public int maxLength() {
                return 140;
            }
        };
        for (var r : StepProbe.probe(oracle, task, Split.TEST, 30, 1, 7, StepProbe.Context.NONE, false)) {
            assertEquals(1.0, r.exactMatch(), r.toString());
        }
        // the oracle knows every length: p(EOS) is 1 exactly where the answer has ended, nothing is cut short
        var sure = FirstPassEos.measure(oracle, task, Split.TEST, 30, 1, 7);
        assertEquals(128, sure.rows().size());
        assertEquals(0.0, sure.summary().meanAbsGap(), 1e-9);
        sure.summary().truncatedInFirstPassAtTau().values().forEach(v -> assertEquals(0.0, v));
        for (var r : sure.rows()) {
            assertEquals(r.endedShare(), r.meanEosProb(), 1e-9, r.toString());
            assertEquals(0.0, r.prematureAbove09(), r.toString());
        }
        assertEquals(1.0, sure.rows().get(127).endedShare(), "no happy trace takes the whole buffer");
        assertTrue(sure.rows().get(10).endedShare() < 0.5, "most traces run past position 11");
        // a model that believes every position is EOS with 0.96 commits EOS inside every answer under tau <= 0.95
        var blind = new OracleDenoiser(examples, task.defaultGenLength()) {
            @Override
            public int maxLength() {
                return 140;
            }

            @Override
            public Predictions predict(int[][] seqs, boolean[][] query, boolean dist) {
                var p = super.predict(seqs, query, dist);
                int eos = vocabulary().eosId(), other = vocabulary().id("0");
                for (float[][] row : p.distributions()) {
                    for (float[] d : row) {
                        if (d == null) continue;
                        java.util.Arrays.fill(d, 0f);
                        d[eos] = 0.96f;
                        d[other] = 0.04f;
                    }
                }
                return p;
            }
        };
        var cut = FirstPassEos.measure(blind, task, Split.TEST, 30, 1, 7);
        assertEquals(Map.of("0.5", 1.0, "0.7", 1.0, "0.9", 1.0, "0.95", 1.0, "0.99", 0.0), cut.summary().truncatedInFirstPassAtTau());
        var first = cut.rows().get(0);
        assertEquals(0.96, first.meanEosProb(), 1e-6);
        assertEquals(1.0, first.prematureAbove09(), "position 1 ends no answer");
        assertTrue(cut.markdown().contains("tau 0.9: 100.0%, tau 0.95: 100.0%, tau 0.99: 0.0%"), cut.markdown());
    }

    @Test
    void badInputIsNamedAndNothingIsWritten(@TempDir Path dir) throws Exception {
        Path ck = tinyCheckpoint(dir);
        Path out = dir.resolve("run");
        assertOneLineError(run("eval", "--checkpoint", ck.toString(), "--tasks", "chess", "--out", out.toString()), "unknown task 'chess'");
        assertOneLineError(run("eval", "--checkpoint", ck.toString(), "--block-lengths", "12", "--out", out.toString()),
                "block length 12 does not divide the buffer length 32");
        assertOneLineError(run("eval", "--checkpoint", dir.resolve("missing").toString(), "--out", out.toString()), "does not exist");
        assertOneLineError(run("eval", "--checkpoint", ck.toString(), "--policies", "threshold:tau=2", "--out", out.toString()), "tau");
        assertFalse(Files.exists(out), "nothing written on bad input");

        Files.write(ck.resolve(DllmCheckpoint.WEIGHTS), new byte[]{1, 2, 3});
        assertOneLineError(run("dllm", "eval", "--checkpoint", ck.toString(), "--n", "2"), "fails its SHA-256 check");
    }

    @Test
    void evalWritesTablesAndAManifestAndResumes(@TempDir Path dir) throws Exception {
        Path ck = tinyCheckpoint(dir);
        Path out = dir.resolve("run");
        Run r = run("sweep", "--checkpoint", ck.toString(), "--tasks", "sort", "--block-lengths", "8,full", "--n", "4",
                "--policies", "threshold:tau=0.5|0.9,topk:steps=32", "--workers", "2", "--out", out.toString());
        assertEquals(0, r.code(), r.err());
        List<String> csv = Files.readAllLines(out.resolve("eval.csv"));
        assertEquals(1 + 2 * 3, csv.size(), String.join("\n", csv));
        assertTrue(csv.get(0).startsWith("task,mode,block_length,gen_length,policy,policy_params,n,accuracy,acc_ci_low,acc_ci_high,mean_nfe"));
        assertTrue(csv.stream().anyMatch(l -> l.contains(",full,32,32,topk,")), "full diffusion rows: " + csv);
        // topk with 32 steps: exactly one token per step
        assertTrue(csv.stream().filter(l -> l.contains("topk")).allMatch(l -> l.contains(",32.0000,")), String.join("\n", csv));
        Map<?, ?> manifest = Json.read(out.resolve("manifest.json"), Map.class);
        assertTrue(((String) manifest.get("command")).startsWith("./unmask sweep"));
        assertEquals(64, ((Map<?, ?>) manifest.get("inputs_sha256")).values().iterator().next().toString().length());
        assertNotNull(((Map<?, ?>) manifest.get("code")).get("unmask_version"));

        // resume: delete one cell, only it is recomputed; the others keep their files untouched
        Path cells = out.resolve("cells");
        List<Path> files;
        try (var s = Files.list(cells)) {
            files = s.filter(p -> isCellResult(p)).sorted().toList();
        }
        long before = Files.getLastModifiedTime(files.get(1)).toMillis();
        Files.delete(files.get(0));
        Thread.sleep(20);
        assertEquals(0, run("sweep", "--checkpoint", ck.toString(), "--tasks", "sort", "--block-lengths", "8,full", "--n", "4",
                "--policies", "threshold:tau=0.5|0.9,topk:steps=32", "--workers", "2", "--out", out.toString()).code());
        assertTrue(Files.exists(files.get(0)));
        assertEquals(before, Files.getLastModifiedTime(files.get(1)).toMillis());
        assertEquals(withoutWallTime(csv), withoutWallTime(Files.readAllLines(out.resolve("eval.csv"))), "same numbers after resuming");

        Run report = run("report", out.toString());
        assertEquals(0, report.code(), report.err());
        String md = Files.readString(out.resolve("report.md"));
        assertTrue(md.contains("Pareto front:"), md);
        assertTrue(Files.size(out.resolve("plots/acc-vs-nfe-sort-L32-B8.png")) > 1000);
        assertTrue(Files.readString(out.resolve("plots/acc-vs-block-sort.svg")).contains("<svg"));

        Run again = run("reproduce", out.toString(), "--scratch", dir.resolve("scratch").toString());
        assertEquals(0, again.code(), again.err());
        assertTrue(again.out().contains("reproduce: 6 identical, 0 different"), again.out());
        assertOneLineError(run("reproduce", dir.toString()), "no manifest.json");
        assertOneLineError(run("report", dir.resolve("nope").toString()), "does not exist");
    }

    static Path tinyCheckpoint(Path dir, String name, int seed) {
        Path ck = dir.resolve(name);
        DllmCheckpoint.save(ck, new BuiltinDllm(new DllmConfig(16, 1, 2, 32, 96, seed), Vocabulary.builtin()));
        return ck;
    }

    @Test
    void aSweepFolderNeverReusesCellsMadeWithAnotherDllm(@TempDir Path dir) throws Exception {
        Path a = tinyCheckpoint(dir, "dllm-a", 1), b = tinyCheckpoint(dir, "dllm-b", 2);
        String[] grid = {"--tasks", "sort", "--block-lengths", "full", "--n", "6", "--policies", "threshold:tau=0.3", "--workers", "1"};
        Path shared = dir.resolve("D"), fresh = dir.resolve("fresh-b");
        assertEquals(0, run(concat(new String[]{"sweep", "--checkpoint", a.toString(), "--out", shared.toString()}, grid)).code());
        List<String> withA = withoutWallTime(Files.readAllLines(shared.resolve("eval.csv")));
        assertEquals(0, run(concat(new String[]{"sweep", "--checkpoint", b.toString(), "--out", shared.toString()}, grid)).code());
        assertEquals(0, run(concat(new String[]{"sweep", "--checkpoint", b.toString(), "--out", fresh.toString()}, grid)).code());
        List<String> withB = withoutWallTime(Files.readAllLines(fresh.resolve("eval.csv")));
        assertNotEquals(withA, withB, "two random dLLMs decode differently (else this test proves nothing)");
        assertEquals(withB, withoutWallTime(Files.readAllLines(shared.resolve("eval.csv"))), "dllm-b's numbers, not dllm-a's cells");
        List<String> failures = Files.readAllLines(fresh.resolve("failures.csv"));
        assertEquals("task,mode,block_length,gen_length,policy_params,n,accuracy,mean_nfe,wrong,early_eos,before_its_dependency,other,seed,split", failures.get(0));
        String[] f = failures.get(1).split(",");
        assertEquals(Integer.parseInt(f[8]), Integer.parseInt(f[9]) + Integer.parseInt(f[10]) + Integer.parseInt(f[11]), "every wrong answer has one cause: " + failures);
        try (var cells = Files.list(fresh.resolve("cells"))) {
            String samples = Files.readString(cells.filter(p -> p.toString().endsWith(".samples.txt")).findFirst().orElseThrow());
            assertTrue(samples.contains("      step:"), "samples show the step that wrote each token: " + samples);
        }
        Map<?, ?> manifest = Json.read(shared.resolve("manifest.json"), Map.class);
        assertEquals(DllmCheckpoint.weightsSha256(b), ((Map<?, ?>) manifest.get("config")).get("dllm_sha256"));

        // another split, n or batch is another cell too
        assertEquals(0, run(concat(new String[]{"sweep", "--checkpoint", b.toString(), "--split", "test", "--out", shared.toString()}, grid)).code());
        assertTrue(Files.readString(shared.resolve("eval.csv")).contains(",test"), "the table says which split");
        try (var cells = Files.list(shared.resolve("cells"))) {
            assertEquals(3, cells.filter(p -> isCellResult(p)).count(), "a/validation, b/validation, b/test");
        }
    }

    @Test
    void aCachedRunIsItsOwnCellAndNeedsTheFastEngine(@TempDir Path dir) throws Exception {
        Path ck = tinyCheckpoint(dir);
        Path shared = dir.resolve("S");
        String[] grid = {"--tasks", "sort", "--block-lengths", "4", "--n", "6", "--policies", "topk:steps=16", "--workers", "1",
                "--checkpoint", ck.toString(), "--out", shared.toString()};
        assertOneLineError(run(concat(new String[]{"sweep", "--cache", "prefix"}, grid)), "--cache prefix needs --dllm-engine fast");
        assertOneLineError(run(concat(new String[]{"sweep", "--cache", "half"}, grid)), "cache 'half' is not one of none, prefix, dual");
        assertEquals(0, run(concat(new String[]{"sweep", "--dllm-engine", "fast"}, grid)).code());
        assertEquals(0, run(concat(new String[]{"sweep", "--dllm-engine", "fast", "--cache", "dual"}, grid)).code());
        try (var cells = Files.list(shared.resolve("cells"))) {
            assertEquals(2, cells.filter(p -> isCellResult(p)).count(), "the cached cell is not the uncached one reused");
        }
        String csv = Files.readString(shared.resolve("eval.csv"));
        assertTrue(csv.contains("cache=dual"), csv);
        Map<?, ?> manifest = Json.read(shared.resolve("manifest.json"), Map.class);
        assertEquals("dual", ((Map<?, ?>) manifest.get("config")).get("cache"));
        assertEquals("fast", manifest.get("dllm_engine"));
    }

    @Test
    void badGridValuesAreNamedInOneLine(@TempDir Path dir) {
        Path ck = tinyCheckpoint(dir);
        String out = dir.resolve("run").toString();
        assertOneLineError(run("eval", "--checkpoint", ck.toString(), "--batch", "0", "--out", out), "--batch must be at least 1, got 0");
        assertOneLineError(run("eval", "--checkpoint", ck.toString(), "--n", "0", "--out", out), "--n must be at least 1");
        assertOneLineError(run("eval", "--checkpoint", ck.toString(), "--tasks", "sudoku", "--gen-length", "8", "--block-lengths", "full",
                "--out", out), "--gen-length 8 is shorter than the answers of task sudoku");
        assertOneLineError(run("eval", "--checkpoint", ck.toString(), "--split", "dev", "--out", out), "split 'dev'");
        assertOneLineError(run("eval", "--checkpoint", ck.toString(), "--split", "train", "--out", out), "--split train");
        assertOneLineError(run("sweep", "--checkpoint", ck.toString(), "--workers", "0", "--out", out), "--workers must be at least 1");
        assertOneLineError(run("dllm", "eval", "--checkpoint", ck.toString(), "--batch", "0"), "--batch must be at least 1");
        assertFalse(Files.exists(dir.resolve("run")), "nothing written on bad input");
        Run help = run("sweep", "--help");
        assertTrue(help.out().contains("--seeds") && help.out().contains("held-out prompts"), help.out());
    }

    @Test
    void reproducePinsTheRecordedInputsAndFailsWhenAnyNumberMoves(@TempDir Path dir) throws Exception {
        Path ck = tinyCheckpoint(dir);
        Path out = dir.resolve("run");
        assertEquals(0, run("eval", "--checkpoint", ck.toString(), "--tasks", "sort", "--block-lengths", "8,full", "--n", "5",
                "--policies", "threshold:tau=0.5", "--out", out.toString()).code());
        Run same = run("reproduce", out.toString(), "--scratch", dir.resolve("s1").toString());
        assertEquals(0, same.code(), same.err());
        assertTrue(same.out().contains("reproduce: 2 identical, 0 different"), same.out());

        // a recorded NFE that the re-run does not give back: exit 1, even though accuracy is unchanged
        Path evalJson = out.resolve("eval.json");
        String original = Files.readString(evalJson);
        Files.writeString(evalJson, original.replaceFirst("\"mean_nfe\" : ([0-9.]+)", "\"mean_nfe\" : 99.5"));
        Run tampered = run("reproduce", out.toString(), "--scratch", dir.resolve("s2").toString());
        assertEquals(1, tampered.code(), tampered.out());
        assertTrue(tampered.out().contains("CHANGED " + evalJson), "the edit is caught by the manifest's checksum: " + tampered.out());
        Path manifestFile = out.resolve("manifest.json");
        String signed = Files.readString(manifestFile);
        Files.writeString(manifestFile, signed.replace(Checksums.sha256(original.getBytes(StandardCharsets.UTF_8)),
                Checksums.sha256(evalJson)));
        Run moved = run("reproduce", out.toString(), "--scratch", dir.resolve("s2b").toString());
        assertEquals(1, moved.code(), moved.out());
        assertTrue(moved.out().contains("DIFFERENT NFE") && moved.out().contains("1 identical, 1 different"), moved.out());
        Files.writeString(evalJson, original);
        Files.writeString(manifestFile, signed);

        // the dLLM is pinned by checksum: other weights at the recorded path are refused, not silently used
        DllmCheckpoint.save(ck, new BuiltinDllm(new DllmConfig(16, 1, 2, 32, 96, 5), Vocabulary.builtin()));
        assertOneLineError(run("reproduce", out.toString(), "--scratch", dir.resolve("s3").toString()), "the dLLM this run used");
        tinyCheckpoint(dir); // the original weights again (same seed, same weights)

        // a manifest from before the validation split names no split: its prompts cannot be drawn any more
        Path manifest = out.resolve("manifest.json");
        Files.writeString(manifest, Files.readString(manifest).replace("\"split\" : \"test\",", ""));
        assertOneLineError(run("reproduce", out.toString(), "--scratch", dir.resolve("s4").toString()), "predates the validation split");
    }

    @Test
    void trainRejectsUnknownConfigKeysAndWritesARunThatResumes(@TempDir Path dir) throws Exception {
        Path ck = tinyCheckpoint(dir);
        Path out = dir.resolve("p");
        assertOneLineError(run("train", "--dllm", ck.toString(), "--out", out.toString(), "--set", "learningrate=1"),
                "config key 'learningrate' does not exist");
        Path yaml = dir.resolve("c.yaml");
        Files.writeString(yaml, "algorithm: grpo\ntask: sort\ngenLength: 32\nblockLength: 8\nnotAKey: 3\n");
        assertOneLineError(run("train", "--dllm", ck.toString(), "--out", out.toString(), "--config", yaml.toString()), "notAKey");
        assertOneLineError(run("train", "--dllm", ck.toString(), "--out", out.toString(), "--set", "blockLength=7", "--set", "task=sort",
                "--set", "genLength=32"), "block length 7 does not divide");
        assertOneLineError(run("train", "--dllm", ck.toString(), "--out", out.toString(), "--set", "checkpointEvery=0"),
                "checkpointEvery must be >= 1, got 0");
        assertOneLineError(run("train", "--dllm", ck.toString(), "--out", out.toString(), "--set", "learningRate=-1"), "learningRate");
        assertFalse(Files.exists(out), "nothing written on bad input");

        Files.writeString(yaml, "algorithm: grpo\ntask: sort\ngenLength: 32\nblockLength: 8\npromptsPerIteration: 2\ngroupSize: 2\n");
        Run r = run("train", "--dllm", ck.toString(), "--out", out.toString(), "--config", yaml.toString(), "--set", "iterations=2",
                "--set", "checkpointEvery=1", "--eval-n", "4");
        assertEquals(0, r.code(), r.err());
        assertEquals(2, Files.readAllLines(out.resolve("metrics.jsonl")).size());
        assertTrue(Files.isRegularFile(out.resolve("policy/policy.safetensors")));
        Map<?, ?> manifest = Json.read(out.resolve("manifest.json"), Map.class);
        assertEquals(8, ((Map<?, ?>) manifest.get("config")).get("blockLength"));
        Map<?, ?> time = (Map<?, ?>) ((Map<?, ?>) manifest.get("results")).get("time_this_process");
        assertTrue(((Number) manifest.get("wall_seconds")).doubleValue() >= ((Number) time.get("rollout_seconds")).doubleValue()
                + ((Number) time.get("policy_update_seconds")).doubleValue() - 0.01, "the manifest's wall time covers training: " + manifest);
        assertTrue(Files.isRegularFile(out.resolve("eval.csv")));
        Run costs = run("costs", out.toString());
        assertEquals(0, costs.code(), costs.err());
        assertTrue(costs.out().contains(String.format(java.util.Locale.ROOT, "| p | 2 | 8 | ")) && !costs.out().contains("n/a"), costs.out());
        assertOneLineError(run("costs", dir.resolve("nope").toString()), "does not exist");
        assertOneLineError(run("costs", dir.toString()), "no metrics.jsonl");
        // resuming a finished run does no more iterations; a longer budget continues from the saved state,
        // and an iteration logged after that state (by a killed process) is logged once, by the run that redoes it
        AtomicFiles.appendLine(out.resolve("metrics.jsonl"), "{\"iteration\":3,\"meanReward\":9}");
        Run again = run("train", "--dllm", ck.toString(), "--out", out.toString(), "--config", yaml.toString(), "--set", "iterations=3",
                "--eval-n", "0", "--resume");
        assertEquals(0, again.code(), again.err());
        assertTrue(again.err().contains("resumed after iteration 2"), again.err());
        List<String> lines = Files.readAllLines(out.resolve("metrics.jsonl"));
        assertEquals(3, lines.size());
        assertFalse(lines.get(2).contains("\"meanReward\":9"), lines.get(2));
    }

    @Test
    void resumeRefusesAnotherConfigOrDllmAndMayExtendTheRun(@TempDir Path dir) throws Exception {
        Path ck = tinyCheckpoint(dir);
        Path out = dir.resolve("p");
        String[] base = {"train", "--dllm", ck.toString(), "--out", out.toString(), "--eval-n", "0", "--set", "task=sort", "--set", "blockLength=8",
                "--set", "promptsPerIteration=2", "--set", "groupSize=2", "--set", "iterations=1"};
        assertEquals(0, run(base).code());
        byte[] recorded = Files.readAllBytes(out.resolve("config.json"));
        assertTrue(Files.readString(out.resolve("dllm.json")).contains(DllmCheckpoint.weightsSha256(ck)), "the run records its dLLM");

        Run other = run(concat(base, new String[]{"--resume", "--set", "learningRate=0.001", "--set", "algorithm=ppo"}));
        assertOneLineError(other, "--resume: config differs from the run's config.json in algorithm (grpo -> ppo), learningRate (0.003 -> 0.001)");
        assertArrayEquals(recorded, Files.readAllBytes(out.resolve("config.json")), "config.json is not overwritten");
        assertOneLineError(run(concat(base, new String[]{"--resume", "--set", "iterations=0"})), "iterations must be >= 1");
        // a run that was extended cannot be shortened below what it recorded
        assertEquals(0, run(concat(base, new String[]{"--resume", "--set", "iterations=2"})).code(), "extending is allowed");
        assertEquals(2, Files.readAllLines(out.resolve("metrics.jsonl")).size());
        assertOneLineError(run(concat(base, new String[]{"--resume"})), "iterations (2 -> 1: may only grow)");
        // keys that do not change results may differ: how often states are saved
        Run saveMoreOften = run(concat(base, new String[]{"--resume", "--set", "iterations=2", "--set", "checkpointEvery=1"}));
        assertEquals(0, saveMoreOften.code(), saveMoreOften.err());

        // the same weights on another engine: refused too (confidences differ in the last digits, and so would the run)
        assertOneLineError(run(concat(base, new String[]{"--resume", "--set", "iterations=2", "--dllm-engine", "samediff"})),
                "--resume: the run's dLLM ran on onnxruntime, this one on samediff");
        // a key/value cache is part of the environment too
        assertOneLineError(run(concat(base, new String[]{"--resume", "--set", "iterations=2", "--dllm-engine", "fast", "--cache", "prefix"})),
                "--resume: the run's dLLM ran on onnxruntime, this one on fast+cache=prefix");
        Path cached = dir.resolve("cached");
        String[] cachedRun = {"train", "--dllm", ck.toString(), "--out", cached.toString(), "--eval-n", "0", "--set", "task=sort", "--set", "blockLength=8",
                "--set", "promptsPerIteration=2", "--set", "groupSize=2", "--set", "iterations=1", "--dllm-engine", "fast", "--cache", "dual"};
        assertEquals(0, run(cachedRun).code());
        assertTrue(Files.readString(cached.resolve("dllm.json")).contains("fast+cache=dual"));
        assertOneLineError(run("train", "--dllm", ck.toString(), "--out", cached.toString(), "--eval-n", "0", "--set", "task=sort", "--set", "blockLength=8",
                "--set", "promptsPerIteration=2", "--set", "groupSize=2", "--set", "iterations=2", "--resume"), "resume with --dllm-engine fast --cache dual");
        // another dLLM: refused, naming both checksums
        Path otherDllm = dir.resolve("dllm-2");
        DllmCheckpoint.save(otherDllm, new BuiltinDllm(new DllmConfig(16, 1, 2, 32, 96, 2), Vocabulary.builtin()));
        Run wrongDllm = run("train", "--dllm", otherDllm.toString(), "--out", out.toString(), "--eval-n", "0", "--set", "task=sort",
                "--set", "blockLength=8", "--set", "promptsPerIteration=2", "--set", "groupSize=2", "--set", "iterations=2", "--resume");
        assertOneLineError(wrongDllm, "--resume: the run was trained against dLLM weights " + DllmCheckpoint.weightsSha256(ck).substring(0, 16));
        // a run made before dllm.json existed is checked against its manifest's recorded input
        Files.delete(out.resolve("dllm.json"));
        assertOneLineError(run("train", "--dllm", otherDllm.toString(), "--out", out.toString(), "--eval-n", "0", "--set", "task=sort",
                "--set", "blockLength=8", "--set", "promptsPerIteration=2", "--set", "groupSize=2", "--set", "iterations=2", "--resume"),
                "--resume: the run was trained against dLLM weights");
        assertTrue(run("train", "--help").out().replaceAll("\\s+", " ").contains("extends a finished or stopped run"), "the help says a run may be extended");
    }

    @Test
    void dllmTrainingInChunksEqualsOneRunAndRecordsEveryInvocation(@TempDir Path dir) throws Exception {
        String[] common = {"--tasks", "sort", "--d-model", "16", "--layers", "1", "--heads", "2", "--ff", "32", "--batch", "4",
                "--steps", "4", "--warmup", "1", "--eval-n", "0", "--seed", "3"};
        Path whole = dir.resolve("whole"), chunked = dir.resolve("chunked");
        assertOneLineError(run(concat(new String[]{"dllm", "train", "--out", dir.resolve("bad").toString(), "--stop-after", "0"}, common)),
                "--stop-after 0 is not after the current step 0");
        assertOneLineError(run(concat(new String[]{"dllm", "train", "--out", dir.resolve("bad").toString(), "--shortest-of", "0"}, common)),
                "--shortest-of must be >= 1");
        assertOneLineError(run(concat(new String[]{"dllm", "train", "--out", dir.resolve("bad").toString(), "--suffix-mask-prob", "1.5"}, common)),
                "--suffix-mask-prob must lie in [0, 1]");
        assertFalse(Files.exists(dir.resolve("bad")), "nothing written on bad input");
        assertEquals(0, run(concat(new String[]{"dllm", "train", "--out", whole.toString()}, common)).code());
        Run first = run(concat(new String[]{"dllm", "train", "--out", chunked.toString(), "--stop-after", "2"}, common));
        assertEquals(0, first.code(), first.err());
        assertFalse(Files.exists(chunked.resolve("weights.safetensors")), "a stopped run is not a finished checkpoint");
        // but its last saved step can be loaded, probed and evaluated from snapshot/
        Path snapshot = chunked.resolve("snapshot");
        var atStep2 = DllmCheckpoint.load(snapshot);
        assertEquals(16, atStep2.config().dModel());
        var saved = Safetensors.decode(Files.readAllBytes(chunked.resolve("trainer-state/weights.safetensors")), "state");
        atStep2.weights().forEach((name, t) -> assertArrayEquals(saved.get(name).data(), t.data(), name));
        Run probe = run("dllm", "probe", "--checkpoint", snapshot.toString(), "--tasks", "sort", "--n", "4");
        assertEquals(0, probe.code(), probe.err());
        // a line logged after the last saved state (as by a killed process) is dropped on resume
        AtomicFiles.appendLine(chunked.resolve("metrics.jsonl"), "{\"step\":3,\"task\":\"sort\",\"loss\":9}");
        assertEquals(0, run(concat(new String[]{"dllm", "train", "--resume", "--out", chunked.toString()}, common)).code());
        assertArrayEquals(Files.readAllBytes(whole.resolve("weights.safetensors")), Files.readAllBytes(chunked.resolve("weights.safetensors")),
                "stop + resume gives the same weights as one uninterrupted run");
        assertEquals(4, Files.readAllLines(chunked.resolve("metrics.jsonl")).size());
        assertFalse(Files.exists(snapshot), "a finished run drops its snapshot: the folder is the checkpoint");
        Map<?, ?> manifest = Json.read(chunked.resolve("manifest.json"), Map.class);
        List<?> invocations = (List<?>) ((Map<?, ?>) manifest.get("results")).get("invocations");
        assertEquals(2, invocations.size());
        assertEquals(2, ((Map<?, ?>) invocations.get(1)).get("start_step"));
    }

    @Test
    void aResumedRunKeepsTheTrainerItStartedWithAndRecordsIt(@TempDir Path dir) throws Exception {
        String[] common = {"dllm", "train", "--tasks", "sort", "--d-model", "16", "--layers", "1", "--heads", "2", "--ff", "32", "--batch", "4",
                "--steps", "4", "--warmup", "1", "--eval-n", "0", "--seed", "3"};
        assertOneLineError(run(concat(common, new String[]{"--out", dir.resolve("bad").toString(), "--trainer", "torch"})), "unknown trainer 'torch'");
        Path sd = dir.resolve("samediff"), fast = dir.resolve("fast");
        assertEquals(0, run(concat(common, new String[]{"--out", sd.toString(), "--trainer", "samediff", "--stop-after", "2"})).code());
        assertOneLineError(run(concat(common, new String[]{"--out", sd.toString(), "--resume", "--trainer", "fast"})),
                "was trained with --trainer samediff; resume it with the same trainer");
        Run resumed = run(concat(common, new String[]{"--out", sd.toString(), "--resume"}));
        assertEquals(0, resumed.code(), resumed.err());
        assertTrue(resumed.err().contains("with the samediff trainer"), resumed.err());
        assertEquals(0, run(concat(common, new String[]{"--out", fast.toString()})).code());
        List<Object> sdInvocations = DllmTrainRun.readInvocations(sd), fastInvocations = DllmTrainRun.readInvocations(fast);
        assertEquals(List.of("samediff", "samediff"), sdInvocations.stream().map(i -> ((Map<?, ?>) i).get("trainer")).toList());
        assertEquals(List.of("fast"), fastInvocations.stream().map(i -> ((Map<?, ?>) i).get("trainer")).toList(), "fast is the default");
        Map<?, ?> config = (Map<?, ?>) Json.read(fast.resolve("manifest.json"), Map.class).get("config");
        assertEquals("fast", config.get("trainer"));
        // the two trainers agree closely from the same start, but not bit for bit
        var a = Safetensors.decode(Files.readAllBytes(sd.resolve("weights.safetensors")), "samediff");
        var b = Safetensors.decode(Files.readAllBytes(fast.resolve("weights.safetensors")), "fast");
        for (String name : a.keySet()) {
            float[] x = a.get(name).data(), y = b.get(name).data();
            for (int i = 0; i < x.length; i++) assertEquals(x[i], y[i], 1e-3, name);
        }
    }

    @Test
    void fineTuningStartsFromTheGivenWeightsAndRecordsThem(@TempDir Path dir) throws Exception {
        String[] base = {"dllm", "train", "--tasks", "sort", "--d-model", "16", "--layers", "1", "--heads", "2", "--ff", "32", "--batch", "4",
                "--steps", "3", "--warmup", "1", "--eval-n", "0", "--seed", "3", "--out", dir.resolve("base").toString()};
        assertEquals(0, run(base).code());
        String[] tune = {"dllm", "train", "--init-from", dir.resolve("base").toString(), "--tasks", "arith", "--batch", "4", "--steps", "2",
                "--warmup", "1", "--eval-n", "0", "--seed", "4", "--lr", "1e-9"};
        assertOneLineError(run(concat(tune, new String[]{"--d-model", "32", "--out", dir.resolve("bad").toString()})),
                "--d-model cannot be combined with --init-from");
        assertFalse(Files.exists(dir.resolve("bad")), "nothing written on bad input");
        Path tuned = dir.resolve("tuned");
        Run r = run(concat(tune, new String[]{"--out", tuned.toString()}));
        assertEquals(0, r.code(), r.err());
        // the architecture (and, at a negligible learning rate, the weights) come from the base checkpoint
        assertEquals(Files.readString(dir.resolve("base/config.json")), Files.readString(tuned.resolve("config.json")));
        var baseW = Safetensors.decode(Files.readAllBytes(dir.resolve("base/weights.safetensors")), "base");
        var tunedW = Safetensors.decode(Files.readAllBytes(tuned.resolve("weights.safetensors")), "tuned");
        assertEquals(baseW.keySet(), tunedW.keySet());
        for (String name : baseW.keySet()) {
            float[] a = baseW.get(name).data(), b = tunedW.get(name).data();
            for (int i = 0; i < a.length; i++) assertEquals(a[i], b[i], 1e-5, name);
        }
        Map<?, ?> manifest = Json.read(tuned.resolve("manifest.json"), Map.class);
        String baseSha = DllmCheckpoint.weightsSha256(dir.resolve("base"));
        assertEquals(baseSha, ((Map<?, ?>) manifest.get("inputs_sha256")).values().iterator().next());
        Map<?, ?> results = (Map<?, ?>) manifest.get("results");
        assertEquals(baseSha, ((Map<?, ?>) ((List<?>) results.get("invocations")).get(0)).get("init_from_weights_sha256"));
        assertTrue(((Number) results.get("train_seconds")).doubleValue() > 0);
        assertTrue(Double.isFinite(((Number) results.get("final_loss_mean_last_50_steps")).doubleValue()));
        assertTrue(((Number) results.get("init_from_train_seconds")).doubleValue() > 0, "the base's own training time");
        Files.delete(dir.resolve("base/metrics.jsonl"));
        Path fromBare = dir.resolve("from-bare");
        assertEquals(0, run(concat(tune, new String[]{"--out", fromBare.toString()})).code());
        Map<?, ?> bare = (Map<?, ?>) Json.read(fromBare.resolve("manifest.json"), Map.class).get("results");
        assertFalse(bare.containsKey("init_from_train_seconds"), "no training log, no made-up zero");

        // --add-layers grows the base by pass-through layers, also across a stop and --resume
        assertOneLineError(run(concat(java.util.Arrays.copyOf(base, base.length - 2), new String[]{"--add-layers", "1", "--out", dir.resolve("bad2").toString()})),
                "--add-layers needs --init-from");
        assertFalse(Files.exists(dir.resolve("bad2")), "nothing written on bad input");
        Path grown = dir.resolve("grown");
        String[] grow = concat(tune, new String[]{"--add-layers", "1", "--out", grown.toString()});
        assertEquals(0, run(concat(grow, new String[]{"--stop-after", "1"})).code());
        // resuming it needs the growth it was started with: the error names the flag, not tensors
        assertOneLineError(run(concat(tune, new String[]{"--out", grown.toString(), "--resume"})),
                "--resume: " + grown + " was grown with --add-layers 1 (2 layers on the 1 of " + dir.resolve("base") + "), but this command resumes it "
                        + "without --add-layers; pass --add-layers 1 again");
        assertOneLineError(run(concat(tune, new String[]{"--add-layers", "2", "--out", grown.toString(), "--resume"})), "pass --add-layers 1 again");
        Run resumed = run(concat(grow, new String[]{"--resume"}));
        assertEquals(0, resumed.code(), resumed.err());
        var grownConfig = Json.read(grown.resolve("config.json"), Map.class);
        assertEquals(2, ((Number) grownConfig.get("layers")).intValue());
        Map<?, ?> grownResults = (Map<?, ?>) Json.read(grown.resolve("manifest.json"), Map.class).get("results");
        assertEquals(1, ((Number) grownResults.get("init_from_added_layers")).intValue());
        var grownW = Safetensors.decode(Files.readAllBytes(grown.resolve("weights.safetensors")), "grown");
        for (String name : baseW.keySet()) {
            float[] a = baseW.get(name).data(), b = grownW.get(name).data();
            for (int i = 0; i < a.length; i++) assertEquals(a[i], b[i], 1e-5, name + " is kept");
        }
        assertTrue(grownW.containsKey("layer1.attn.q.weight"));
    }

    @Test
    void aKeyValueCacheIsRefusedInFullDiffusion(@TempDir Path dir) {
        Path ck = tinyCheckpoint(dir), out = dir.resolve("run");
        String[] grid = {"--checkpoint", ck.toString(), "--dllm-engine", "fast", "--tasks", "sort", "--n", "2", "--policies", "topk:steps=32",
                "--out", out.toString()};
        assertOneLineError(run(concat(new String[]{"eval", "--cache", "prefix", "--block-lengths", "full"}, grid)),
                "--cache prefix approximates semi-AR decoding and has no meaning in full diffusion");
        // B = L written as a number is full diffusion too, and one such block length refuses the grid
        assertOneLineError(run(concat(new String[]{"sweep", "--cache", "dual", "--block-lengths", "8,32"}, grid)),
                "--block-lengths 32 is full diffusion (B = L = 32 for task sort)");
        assertOneLineError(run("train", "--dllm", ck.toString(), "--dllm-engine", "fast", "--cache", "prefix", "--out", out.toString(),
                "--set", "task=sort", "--set", "blockLength=32"), "the config's blockLength 32 is full diffusion (B = L = 32)");
        assertFalse(Files.exists(out), "nothing written on bad input");
        Run semiAr = run(concat(new String[]{"eval", "--cache", "prefix", "--block-lengths", "8"}, grid));
        assertEquals(0, semiAr.code(), semiAr.err());
        assertTrue(run("eval", "--help").out().replaceAll("\\s+", " ").contains("full diffusion has no block boundary"), "the help says so");
    }

    @Test
    void aFractionForAWholeNumberKeyOrAValueOfTheWrongTypeIsNamedNotCut(@TempDir Path dir) throws Exception {
        String ck = tinyCheckpoint(dir).toString(), out = dir.resolve("p").toString();
        String[] base = {"train", "--dllm", ck, "--out", out, "--eval-n", "0", "--set", "task=sort", "--set", "blockLength=8",
                "--set", "promptsPerIteration=1", "--set", "iterations=1"};
        assertOneLineError(run(concat(base, new String[]{"--set", "groupSize=2.7"})), "--set groupSize=2.7: config key groupSize must be a whole number, got 2.7");
        assertOneLineError(run(concat(base, new String[]{"--set", "groupSize=1.5"})), "config key groupSize must be a whole number, got 1.5");
        assertOneLineError(run(concat(base, new String[]{"--set", "knobRange=abc"})), "config key knobRange must be a list of numbers");
        assertOneLineError(run(concat(base, new String[]{"--set", "knobRange=abc"})), "got abc");
        assertOneLineError(run(concat(base, new String[]{"--set", "learningRate=fast"})), "config key learningRate must be a number, got fast");
        assertOneLineError(run(concat(base, new String[]{"--set", "shuffleRewards=2"})), "config key shuffleRewards must be true or false, got 2");
        Path yaml = dir.resolve("c.yaml");
        Files.writeString(yaml, "task: sort\nblockLength: 8\ngroupSize: 2.7\n");
        assertOneLineError(run("train", "--dllm", ck, "--out", out, "--config", yaml.toString()), "c.yaml: config key groupSize must be a whole number, got 2.7");
        Files.writeString(yaml, "task: sort\nknobRange: abc\n");
        assertOneLineError(run("train", "--dllm", ck, "--out", out, "--config", yaml.toString()), "config key knobRange");
        assertFalse(Files.exists(Path.of(out)), "nothing written on bad input");
        // a whole number written as a float is still that number
        Run r = run(concat(base, new String[]{"--set", "groupSize=2.0"}));
        assertEquals(0, r.code(), r.err());
        assertTrue(Files.readString(Path.of(out, "config.json")).contains("\"groupSize\" : 2,"));
    }

    @Test
    void dllmTrainResumeWithNothingToResumeIsAnError(@TempDir Path dir) throws Exception {
        String[] common = {"dllm", "train", "--tasks", "sort", "--d-model", "16", "--layers", "1", "--heads", "2", "--ff", "32", "--batch", "4",
                "--steps", "2", "--warmup", "1", "--eval-n", "0", "--resume"};
        Path empty = Files.createDirectory(dir.resolve("empty")), missing = dir.resolve("missing");
        assertOneLineError(run(concat(common, new String[]{"--out", empty.toString()})), "--resume: " + empty + " holds no trainer state to continue");
        assertOneLineError(run(concat(common, new String[]{"--out", missing.toString()})), "leave out --resume");
        try (var files = Files.list(empty)) {
            assertEquals(0, files.count(), "nothing written");
        }
        assertFalse(Files.exists(missing), "nothing written");
    }

    @Test
    void anEmptyAlternativeInAPolicySpecIsAnError(@TempDir Path dir) {
        Path ck = tinyCheckpoint(dir), out = dir.resolve("run");
        for (String spec : new String[]{"threshold:tau=0.5|", "threshold:tau=|0.5", "threshold:tau=0.5||0.9", "topk:steps=8,threshold:tau=0.5|"}) {
            assertOneLineError(run("eval", "--checkpoint", ck.toString(), "--tasks", "sort", "--n", "2", "--policies", spec, "--out", out.toString()),
                    "empty alternative in policy spec 'threshold:tau=");
        }
        assertFalse(Files.exists(out), "nothing written on bad input");
    }

    @Test
    void thePoliciesHelpGivesEveryHeuristicsDefaults() {
        // picocli wraps lines at punctuation too ("tau=0.\n99"): compare without any white space
        String help = run("eval", "--help").out().replaceAll("\\s+", "");
        assertTrue(help.contains("frontier:tau=0.99,slope=12,fallback=0"), help);
        assertTrue(run("sweep", "--help").out().replaceAll("\\s+", "").contains("frontier:tau=0.99,slope=12"));
        // the help says what Heuristics runs with: every rule and parameter, at its value
        Map<String, Map<String, Double>> documented = new java.util.HashMap<>();
        String text = PolicyGrid.DEFAULTS_HELP;
        for (String part : text.substring(text.indexOf(':') + 1).replaceAll("\\.$", "").split(";")) {
            String[] namesAndParams = part.split(": ");
            Map<String, Double> params = new java.util.HashMap<>();
            for (String kv : namesAndParams[1].split(", ")) params.put(kv.split("=")[0].trim(), Double.parseDouble(kv.split("=")[1]));
            for (String name : namesAndParams[0].split(",")) documented.put(name.trim(), params);
        }
        assertEquals(Heuristics.names(), documented.keySet());
        for (String name : Heuristics.names()) {
            assertEquals(Heuristics.defaults(name), documented.get(name), name);
        }
    }

    @Test
    void costsOnACorruptLogNamesTheFileAndLine(@TempDir Path dir) throws Exception {
        Path run = Files.createDirectory(dir.resolve("run"));
        Files.writeString(run.resolve("metrics.jsonl"), "{\"iteration\":1,\"updateSeconds\":1}\n{\"iteration\":2,\"upd\n");
        assertOneLineError(run("costs", run.toString()), run.resolve("metrics.jsonl") + " line 2 is not a JSON object");
        assertOneLineError(run("report", run.toString()), run.resolve("metrics.jsonl") + " line 2 is not a JSON object");
    }

    @Test
    void addLayersIsCheckedBeforeAnythingIsPrinted(@TempDir Path dir) {
        // a checkpoint from before the last task token existed: fine-tuning it widens its vocabulary, and says so
        Vocabulary builtin = Vocabulary.builtin();
        Vocabulary older = new Vocabulary(builtin.tokens().subList(0, builtin.size() - 1), "<mask>", "<eos>", "<pad>");
        Path base = dir.resolve("base");
        DllmCheckpoint.save(base, new BuiltinDllm(new DllmConfig(16, 1, 2, 32, 96, 1), older));
        Run r = run("dllm", "train", "--init-from", base.toString(), "--add-layers", "-1", "--tasks", "sort", "--out", dir.resolve("out").toString());
        assertOneLineError(r, "--add-layers must be >= 0, got -1");
        assertFalse(r.err().contains("widened"), r.err());
        assertFalse(Files.exists(dir.resolve("out")), "nothing written on bad input");
    }

    @Test
    void aPathOfTheWrongKindIsNamedForWhatItIs(@TempDir Path dir) throws Exception {
        Path ck = tinyCheckpoint(dir), file = Files.writeString(dir.resolve("notes.txt"), "x"), out = dir.resolve("run");
        assertOneLineError(run("eval", "--checkpoint", file.toString(), "--out", out.toString()),
                "dLLM " + file + " is a file; expected a dLLM folder");
        assertOneLineError(run("train", "--dllm", file.toString(), "--out", out.toString()), "dLLM " + file + " is a file; expected a dLLM folder");
        assertOneLineError(run("dllm", "eval", "--checkpoint", file.toString()), "is a file; expected a dLLM folder");
        assertOneLineError(run("dllm", "train", "--init-from", file.toString(), "--tasks", "sort", "--out", out.toString()),
                "dLLM checkpoint " + file + " is a file; expected a built-in dLLM checkpoint folder");
        assertOneLineError(run("eval", "--checkpoint", ck.toString(), "--tasks", "sort", "--policies", "learned:path=" + file, "--out", out.toString()),
                "policy " + file + " is a file; expected a policy checkpoint folder");
        assertOneLineError(run("train", "--config", dir.toString(), "--out", out.toString()), "config file " + dir + " is a folder; expected a JSON or YAML file");
        assertOneLineError(run("costs", file.toString()), "run folder " + file + " is a file; expected a policy-training run folder");
        assertOneLineError(run("report", file.toString()), "run folder " + file + " is a file; expected a run or sweep folder");
        assertOneLineError(run("export", "--policy", file.toString(), "--out", dir.resolve("p.onnx").toString()), "policy " + file + " is a file");
        // what is missing is still said to be missing
        assertOneLineError(run("eval", "--checkpoint", dir.resolve("nope").toString(), "--out", out.toString()), "dLLM " + dir.resolve("nope") + " does not exist");
        assertOneLineError(run("train", "--config", dir.resolve("nope.yaml").toString(), "--out", out.toString()), "does not exist");
        assertFalse(Files.exists(out), "nothing written on bad input");
    }

    @Test
    void anOutputFolderThatCannotBeWrittenFailsBeforeAnyWork(@TempDir Path dir) throws Exception {
        Path ck = tinyCheckpoint(dir), file = Files.writeString(dir.resolve("notes.txt"), "x");
        String under = file.resolve("out").toString(), expected = "--out " + under + " cannot be created: " + file.toAbsolutePath() + " is a file, not a folder";
        assertOneLineError(run("eval", "--checkpoint", ck.toString(), "--tasks", "sort", "--n", "2", "--policies", "topk:steps=32", "--out", under), expected);
        assertOneLineError(run("sweep", "--checkpoint", ck.toString(), "--tasks", "sort", "--n", "2", "--policies", "topk:steps=32", "--out", under), expected);
        assertOneLineError(run("eval", "--checkpoint", ck.toString(), "--tasks", "sort", "--n", "2", "--out", file.toString()),
                "--out " + file + " is a file; expected a folder to write into");
        assertOneLineError(run("train", "--dllm", ck.toString(), "--out", under, "--set", "task=sort"), expected);
        assertOneLineError(run("dllm", "train", "--tasks", "sort", "--d-model", "16", "--layers", "1", "--heads", "2", "--ff", "32", "--steps", "1",
                "--out", under), expected);
        assertOneLineError(run("dllm", "eval", "--checkpoint", ck.toString(), "--tasks", "sort", "--n", "2", "--out", under), expected);
        assertOneLineError(run("dllm", "probe", "--checkpoint", ck.toString(), "--tasks", "sort", "--n", "2", "--out", under), expected);
        Path policy = dir.resolve("policy");
        PolicyCheckpoint.save(policy, new PolicyNet(PolicyConfig.defaults(1)));
        assertOneLineError(run("export", "--policy", policy.toString(), "--format", "safetensors", "--out", under), expected);
        assertOneLineError(run("export", "--policy", policy.toString(), "--out", file.resolve("p.onnx").toString()),
                "--out " + file.toAbsolutePath() + " is a file; expected a folder to write into");
        // a writable --out is checked without a trace: a run that then fails on another input has written nothing
        Path fresh = dir.resolve("a/b/run");
        assertOneLineError(run("eval", "--checkpoint", ck.toString(), "--tasks", "sort", "--gen-length", "4", "--block-lengths", "full", "--policies", "threshold:tau=0.9",
                "--out", fresh.toString()),
                "--gen-length 4 is shorter");
        assertFalse(Files.exists(dir.resolve("a")), "no folder left behind");
    }

    private static String[] concat(String[] a, String[] b) {
        String[] out = java.util.Arrays.copyOf(a, a.length + b.length);
        System.arraycopy(b, 0, out, a.length, b.length);
        return out;
    }
}
