package dev.unmask.cli;

import org.junit.jupiter.api.Test;
import picocli.CommandLine;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;

import static org.junit.jupiter.api.Assertions.*;

/**
 * Command examples a user copies into a shell work there: a policy sweep such as
 * {@code threshold:tau=0.5|0.9} is quoted, since an unquoted | is a pipe in bash.
 */
class CommandExamplesTest {
    private static final Pattern INLINE_CODE = Pattern.compile("`([^`]+)`");
    private static final Pattern QUOTED = Pattern.compile("\"[^\"]*\"|'[^']*'");
    /** A | joining two values with no space around it: a sweep, not an intended shell pipe. */
    private static final Pattern UNQUOTED_SWEEP = Pattern.compile("\\S\\\\?\\|\\S");
    private static final Pattern SPEC_SWEEP = Pattern.compile("[a-z_]+:[a-z_]+=\\S*\\|");

    /**
     * The unmask commands of a markdown file: in bash or untagged code blocks (not diagrams, not
     * code of other languages), lines that run unmask and their continuation lines; and inline code
     * spans that run unmask.
     */
    static List<String> commands(List<String> lines) {
        List<String> out = new ArrayList<>();
        String fence = null;
        boolean continued = false;
        for (String line : lines) {
            String t = line.strip();
            if (t.startsWith("```")) {
                fence = fence == null ? t.substring(3).strip() : null;
                continued = false;
                continue;
            }
            if (fence != null) {
                if ((fence.isEmpty() || fence.equals("bash") || fence.equals("sh")) && (continued || runsUnmask(t))) {
                    String command = withoutComment(t).strip();
                    out.add(command);
                    continued = command.endsWith("\\");
                }
                continue;
            }
            Matcher m = INLINE_CODE.matcher(line);
            while (m.find()) {
                String code = m.group(1).strip();
                if (runsUnmask(code) || code.contains("--policies")) out.add(code);
            }
        }
        return out;
    }

    private static boolean runsUnmask(String code) {
        return code.startsWith("./unmask ") || code.startsWith("unmask ");
    }

    private static String withoutComment(String line) {
        int hash = QUOTED.matcher(line).replaceAll(m -> "_".repeat(m.group().length())).indexOf(" #");
        return hash < 0 ? line : line.substring(0, hash);
    }

    static boolean hasUnquotedSweep(String command) {
        return UNQUOTED_SWEEP.matcher(QUOTED.matcher(command).replaceAll("\"\"")).find();
    }

    @Test
    void theCheckTellsQuotedFromUnquoted() {
        assertTrue(hasUnquotedSweep("./unmask eval --policies threshold:tau=0.7|0.9,topk:steps=32 --n 200"));
        assertTrue(hasUnquotedSweep("./unmask eval --policies threshold:tau=0.7\\|0.9"), "a table's escaped pipe renders as a pipe");
        assertFalse(hasUnquotedSweep("./unmask eval --policies \"threshold:tau=0.7|0.9,topk:steps=32\" --n 200"));
        assertFalse(hasUnquotedSweep("./unmask eval --policies 'threshold:tau=0.7|0.9'"));
        assertFalse(hasUnquotedSweep("./unmask eval --n 10 | tee log.txt"), "a spaced pipe is meant");
        assertEquals(List.of("./unmask x", "./unmask sweep --policies a:b=1|2 \\", "--n 3"),
                commands(List.of("prose `a|b` and `./unmask x`", "```bash", "./unmask sweep --policies a:b=1|2 \\", "  --n 3 # a|b", "x|y", "```",
                        "```", "box: train|eval", "```", "```python", "./unmask a:b=1|2", "```")));
    }

    @Test
    void docsQuoteEveryPolicySweep() throws IOException {
        Path root = ShippedModelsTest.modelsDir().getParent();
        List<Path> files = new ArrayList<>(List.of(root.resolve("README.md")));
        try (Stream<Path> docs = Files.list(root.resolve("docs")); Stream<Path> results = Files.walk(root.resolve("results"))) {
            docs.filter(p -> p.toString().endsWith(".md")).forEach(files::add);
            results.filter(p -> p.getFileName().toString().equals("README.md")).forEach(files::add);
        }
        List<String> bad = new ArrayList<>();
        int checked = 0;
        for (Path f : files) {
            for (String command : commands(Files.readAllLines(f))) {
                checked++;
                if (hasUnquotedSweep(command)) bad.add(root.relativize(f) + ": " + command);
            }
        }
        assertTrue(checked > 20, "found only " + checked + " commands: is the scan broken?");
        assertEquals(List.of(), bad, "quote policy sweeps, e.g. --policies \"threshold:tau=0.5|0.9\"");
    }

    @Test
    void helpQuotesEveryPolicySweep() {
        List<String> bad = new ArrayList<>();
        collectUnquotedSweeps(Main.commandLine(), bad);
        assertEquals(List.of(), bad);
    }

    private static void collectUnquotedSweeps(CommandLine cl, List<String> bad) {
        CommandLine.Model.CommandSpec spec = cl.getCommandSpec();
        List<String> texts = new ArrayList<>(List.of(spec.usageMessage().description()));
        spec.options().forEach(o -> texts.addAll(List.of(o.description())));
        for (String text : texts) {
            if (SPEC_SWEEP.matcher(QUOTED.matcher(text).replaceAll("\"\"")).find()) bad.add(spec.qualifiedName() + ": " + text);
        }
        cl.getSubcommands().values().forEach(sub -> collectUnquotedSweeps(sub, bad));
    }
}
