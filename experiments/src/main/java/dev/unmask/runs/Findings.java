package dev.unmask.runs;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.dataformat.yaml.YAMLFactory;
import dev.unmask.env.UnmaskException;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.*;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * The project's claims, declared in {@code results/findings.yaml} and rendered from the committed
 * {@code eval.csv} rows they name into {@code results/FINDINGS.md} and the README's findings table
 * (between {@link #BEGIN} and {@link #END}). Each finding names a run folder, one or more rows of its
 * {@code eval.csv} (a selector: column = exact value, matching exactly one row) and a sentence whose
 * placeholders the rows fill: {@code {a}} is row a's accuracy with its 95% interval and mean NFE,
 * {@code {a.acc}}, {@code {a.ci}}, {@code {a.nfe}}, {@code {a.n}}, {@code {a.split}} its parts, and
 * {@code {a-b}} the accuracy difference of rows a and b in points.
 */
public final class Findings {
    public static final String YAML_FILE = "results/findings.yaml";
    public static final String FINDINGS_FILE = "results/FINDINGS.md";
    public static final String README_FILE = "README.md";
    public static final String BEGIN = "<!-- findings:begin -->";
    public static final String END = "<!-- findings:end -->";

    private static final ObjectMapper YAML = new ObjectMapper(new YAMLFactory());
    private static final Pattern ROW_REF = Pattern.compile("\\{([A-Za-z0-9_]+)(?:\\.(acc|ci|nfe|n|split))?}");
    private static final Pattern DIFF_REF = Pattern.compile("\\{([A-Za-z0-9_]+)-([A-Za-z0-9_]+)}");

    /** One selected eval row. */
    public record Row(String name, Map<String, String> values) {
        double acc() { return num("accuracy"); }
        double num(String col) {
            String v = values.get(col);
            try {
                return Double.parseDouble(v);
            } catch (NumberFormatException | NullPointerException e) {
                throw new UnmaskException("row " + name + ": column " + col + " is not a number: " + v);
            }
        }
        String split() {
            String s = values.get("split");
            return s == null || s.isEmpty() ? "unrecorded" : s;
        }
        String full() { return pct(acc()) + " " + ci() + " at " + nfe(num("mean_nfe")) + " NFE"; }
        String ci() { return "[" + pct1(num("acc_ci_low")) + ", " + pct1(num("acc_ci_high")) + "]"; }
    }

    /** One claim with its rows resolved and its sentence rendered. */
    public record Finding(String id, String folder, String sentence, List<Row> rows) {
        String ns() { return String.join(", ", new LinkedHashSet<>(rows.stream().map(r -> r.values().get("n")).toList())); }
        String splits() { return String.join(", ", new LinkedHashSet<>(rows.stream().map(Row::split).toList())); }
        String reproduce() { return "`./unmask reproduce " + folder + "`"; }
    }

    private Findings() {
    }

    /** Reads {@code root/results/findings.yaml} and resolves every finding against the eval.csv files under root. */
    public static List<Finding> load(Path root) {
        Path yaml = root.resolve(YAML_FILE);
        if (!Files.isRegularFile(yaml)) throw new UnmaskException(yaml + " does not exist");
        JsonNode doc;
        try {
            doc = YAML.readTree(yaml.toFile());
        } catch (IOException e) {
            throw new UnmaskException(yaml + ": not valid YAML: " + e.getMessage().split("\n")[0]);
        }
        JsonNode list = doc == null ? null : doc.get("findings");
        if (list == null || !list.isArray() || list.isEmpty()) throw new UnmaskException(yaml + ": needs a non-empty list `findings:`");
        List<Finding> out = new ArrayList<>();
        Set<String> ids = new HashSet<>();
        for (JsonNode f : list) {
            String id = text(f, "id", "a finding");
            if (!ids.add(id)) throw new UnmaskException("finding " + id + ": the id is used twice");
            String folder = text(f, "folder", "finding " + id);
            String template = text(f, "text", "finding " + id);
            JsonNode rowsNode = f.get("rows");
            if (rowsNode == null || !rowsNode.isObject() || rowsNode.isEmpty())
                throw new UnmaskException("finding " + id + ": needs `rows:` (a name per row, each a map of column: value)");
            Path csv = root.resolve(folder).resolve("eval.csv");
            if (!Files.isRegularFile(csv)) throw new UnmaskException("finding " + id + ": " + folder + " has no eval.csv");
            List<Map<String, String>> table = readCsv(csv);
            List<Row> rows = new ArrayList<>();
            for (Iterator<Map.Entry<String, JsonNode>> it = rowsNode.fields(); it.hasNext(); ) {
                Map.Entry<String, JsonNode> e = it.next();
                rows.add(new Row(e.getKey(), select(id, folder, e.getKey(), e.getValue(), table)));
            }
            out.add(new Finding(id, folder, fill(id, template, rows), rows));
        }
        return out;
    }

    private static String text(JsonNode node, String field, String what) {
        JsonNode v = node.get(field);
        if (v == null || !v.isValueNode() || v.asText().isBlank()) throw new UnmaskException(what + ": needs `" + field + ":`");
        return v.asText().trim();
    }

    private static Map<String, String> select(String id, String folder, String name, JsonNode selector, List<Map<String, String>> table) {
        if (!selector.isObject() || selector.isEmpty()) throw new UnmaskException("finding " + id + ", row " + name + ": the selector must be a map of column: value");
        Set<String> columns = table.isEmpty() ? Set.of() : table.get(0).keySet();
        List<Map<String, String>> hits = new ArrayList<>();
        for (Map<String, String> row : table) {
            boolean all = true;
            for (Iterator<Map.Entry<String, JsonNode>> it = selector.fields(); it.hasNext(); ) {
                Map.Entry<String, JsonNode> c = it.next();
                if (!columns.contains(c.getKey()))
                    throw new UnmaskException("finding " + id + ", row " + name + ": " + folder + "/eval.csv has no column " + c.getKey());
                if (!c.getValue().asText().equals(row.get(c.getKey()))) {
                    all = false;
                    break;
                }
            }
            if (all) hits.add(row);
        }
        if (hits.size() != 1)
            throw new UnmaskException("finding " + id + ", row " + name + ": the selector " + selector + " matches " + hits.size() + " rows of " + folder + "/eval.csv, not one");
        return hits.get(0);
    }

    private static List<Map<String, String>> readCsv(Path csv) {
        List<String> lines;
        try {
            lines = Files.readAllLines(csv);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        if (lines.isEmpty()) return List.of();
        List<String> header = RunFolderCheck.parseCsvLine(lines.get(0));
        List<Map<String, String>> out = new ArrayList<>();
        for (int i = 1; i < lines.size(); i++) {
            if (lines.get(i).isBlank()) continue;
            List<String> vals = RunFolderCheck.parseCsvLine(lines.get(i));
            if (vals.size() != header.size()) throw new UnmaskException(csv + " line " + (i + 1) + ": " + vals.size() + " fields, the header has " + header.size());
            Map<String, String> row = new LinkedHashMap<>();
            for (int c = 0; c < header.size(); c++) row.put(header.get(c), vals.get(c));
            out.add(row);
        }
        return out;
    }

    static String fill(String id, String template, List<Row> rows) {
        Map<String, Row> byName = new HashMap<>();
        for (Row r : rows) byName.put(r.name(), r);
        Matcher d = DIFF_REF.matcher(template);
        StringBuilder sb = new StringBuilder();
        while (d.find()) {
            Row a = row(id, byName, d.group(1)), b = row(id, byName, d.group(2));
            d.appendReplacement(sb, Matcher.quoteReplacement(String.format(Locale.ROOT, "%.1f", 100 * (a.acc() - b.acc()))));
        }
        d.appendTail(sb);
        Matcher m = ROW_REF.matcher(sb.toString());
        StringBuilder out = new StringBuilder();
        while (m.find()) {
            Row r = row(id, byName, m.group(1));
            String part = m.group(2);
            String v = part == null ? r.full() : switch (part) {
                case "acc" -> pct(r.acc());
                case "ci" -> r.ci();
                case "nfe" -> nfe(r.num("mean_nfe"));
                case "n" -> r.values().get("n");
                default -> r.split();
            };
            m.appendReplacement(out, Matcher.quoteReplacement(v));
        }
        m.appendTail(out);
        int brace = out.indexOf("{");
        if (brace >= 0) throw new UnmaskException("finding " + id + ": the text has a placeholder it cannot fill near " + out.substring(brace, Math.min(out.length(), brace + 20)));
        return out.toString();
    }

    private static Row row(String id, Map<String, Row> byName, String name) {
        Row r = byName.get(name);
        if (r == null) throw new UnmaskException("finding " + id + ": the text names row " + name + ", which `rows:` does not define");
        return r;
    }

    static String pct(double acc) {
        return pct1(acc) + "%";
    }

    private static String pct1(double acc) {
        return String.format(Locale.ROOT, "%.1f", 100 * acc);
    }

    /** Mean NFE to about three significant digits: 1.37, 33.4, 128. */
    static String nfe(double v) {
        return String.format(Locale.ROOT, v < 10 ? "%.2f" : v < 100 ? "%.1f" : "%.0f", v);
    }

    private static String cell(String s) {
        return s.replace("|", "\\|");
    }

    /** The findings table (README and the top of FINDINGS.md): one row per finding. */
    public static List<String> table(List<Finding> findings) {
        List<String> out = new ArrayList<>();
        out.add("| finding | n | split | reproduce |");
        out.add("|---|---|---|---|");
        for (Finding f : findings) out.add("| " + cell(f.sentence()) + " | " + f.ns() + " | " + f.splits() + " | " + f.reproduce() + " |");
        return out;
    }

    /** The lines between the README's markers. */
    public static List<String> readmeBlock(List<Finding> findings) {
        List<String> out = new ArrayList<>();
        out.add("");
        out.addAll(table(findings));
        out.add("");
        return out;
    }

    /** The whole of results/FINDINGS.md. */
    public static String findingsMarkdown(List<Finding> findings) {
        List<String> out = new ArrayList<>();
        out.add("# Findings");
        out.add("");
        out.add("Rendered by `./unmask findings` from `results/findings.yaml` and the committed `eval.csv` rows it names; edit those, not this file (`./unmask findings --check` fails when this file or the README's table differs from the rendering). Accuracies carry 95% Wilson intervals; NFE is the mean number of dLLM forward passes per answer.");
        out.add("");
        out.addAll(table(findings));
        for (Finding f : findings) {
            out.add("");
            out.add("## " + f.id());
            out.add("");
            out.add(f.sentence());
            out.add("");
            out.add("| row | policy | mode | B | accuracy [95% CI] | mean NFE | n | split |");
            out.add("|---|---|---|---|---|---|---|---|");
            for (Row r : f.rows()) {
                Map<String, String> v = r.values();
                out.add("| " + r.name() + " | `" + cell(v.get("policy_params")) + "` | " + v.get("mode") + " | " + v.get("block_length") + " | "
                        + pct(r.acc()) + " " + r.ci() + " | " + nfe(r.num("mean_nfe")) + " | " + v.get("n") + " | " + r.split() + " |");
            }
            out.add("");
            out.add("From `" + f.folder() + "/eval.csv`; reproduce: " + f.reproduce());
        }
        return String.join("\n", out) + "\n";
    }

    /** README.md with its findings block replaced by the rendering. */
    public static String readmeWith(String readme, List<Finding> findings) {
        List<String> lines = new ArrayList<>(Arrays.asList(readme.split("\n", -1)));
        int begin = lines.indexOf(BEGIN), end = lines.indexOf(END);
        if (begin < 0 || end < begin) throw new UnmaskException(README_FILE + " has no " + BEGIN + " ... " + END + " block to render the findings into");
        List<String> out = new ArrayList<>(lines.subList(0, begin + 1));
        out.addAll(readmeBlock(findings));
        out.addAll(lines.subList(end, lines.size()));
        return String.join("\n", out);
    }

    /** The first line where {@code actual} differs from {@code expected}, as one line of text; null when they are equal. */
    public static String firstDifference(String file, String expected, String actual) {
        if (expected.equals(actual)) return null;
        String[] e = expected.split("\n", -1), a = actual.split("\n", -1);
        for (int i = 0; i < Math.max(e.length, a.length); i++) {
            String ei = i < e.length ? e[i] : "(end of file)", ai = i < a.length ? a[i] : "(end of file)";
            if (!ei.equals(ai)) {
                int k = 0;
                while (k < ei.length() && k < ai.length() && ei.charAt(k) == ai.charAt(k)) k++;
                return file + " line " + (i + 1) + " differs from the rendering at column " + (k + 1) + ": it says \"" + around(ai, k) + "\", the data says \"" + around(ei, k) + "\"";
            }
        }
        return file + " differs from the rendering";
    }

    /** Up to 40 characters before column k and 60 from it, marked "..." where cut. */
    private static String around(String s, int k) {
        int from = Math.max(0, k - 40), to = Math.min(s.length(), k + 60);
        return (from > 0 ? "..." : "") + s.substring(Math.min(from, s.length()), Math.max(to, Math.min(from, s.length()))) + (to < s.length() ? "..." : "");
    }

    /** Renders in memory and compares with the files under root; null when both match, else the first difference. */
    public static String check(Path root) throws IOException {
        List<Finding> findings = load(root);
        Path readme = root.resolve(README_FILE), md = root.resolve(FINDINGS_FILE);
        String readmeText = Files.readString(readme);
        String diff = firstDifference(README_FILE, readmeWith(readmeText, findings), readmeText);
        if (diff != null) return diff;
        if (!Files.isRegularFile(md)) return FINDINGS_FILE + " does not exist (run ./unmask findings)";
        return firstDifference(FINDINGS_FILE, findingsMarkdown(findings), Files.readString(md));
    }

    /** Writes FINDINGS.md and the README's block; returns the number of findings. */
    public static int write(Path root) throws IOException {
        List<Finding> findings = load(root);
        Path readme = root.resolve(README_FILE);
        String rendered = readmeWith(Files.readString(readme), findings);
        Files.writeString(root.resolve(FINDINGS_FILE), findingsMarkdown(findings));
        Files.writeString(readme, rendered);
        return findings.size();
    }
}
