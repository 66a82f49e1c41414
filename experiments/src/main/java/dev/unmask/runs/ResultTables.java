package dev.unmask.runs;

import dev.unmask.env.eval.EvalRow;
import dev.unmask.env.io.AtomicFiles;
import dev.unmask.env.io.Json;

import java.nio.file.Path;
import java.util.List;
import java.util.Locale;

/** Writes result rows as CSV, JSON and Markdown (atomically). */
public final class ResultTables {
    private ResultTables() {
    }

    public static String csv(List<EvalRow> rows) {
        StringBuilder sb = new StringBuilder(String.join(",", EvalRow.COLUMNS)).append('\n');
        for (EvalRow r : rows) {
            List<String> vals = r.csvValues();
            for (int i = 0; i < vals.size(); i++) {
                if (i > 0) sb.append(',');
                sb.append(quote(vals.get(i)));
            }
            sb.append('\n');
        }
        return sb.toString();
    }

    private static String quote(String v) {
        return v.contains(",") || v.contains("\"") || v.contains(" ") ? "\"" + v.replace("\"", "\"\"") + "\"" : v;
    }

    public static String markdown(List<EvalRow> rows) {
        StringBuilder sb = new StringBuilder("| task | mode | B | L | policy | n | accuracy | 95% CI | mean NFE | tokens/step | wall ms |\n");
        sb.append("|---|---|---|---|---|---|---|---|---|---|---|\n");
        for (EvalRow r : rows) {
            sb.append(String.format(Locale.ROOT, "| %s | %s | %d | %d | %s | %d | %.3f | [%.3f, %.3f] | %.2f | %.2f | %d |%n",
                    r.task(), r.mode(), r.blockLength(), r.genLength(), r.policyParams(), r.n(), r.accuracy(), r.accCiLow(), r.accCiHigh(),
                    r.meanNfe(), r.tokensPerStep(), r.wallMs()));
        }
        return sb.toString();
    }

    public static String shortLine(EvalRow r) {
        return String.format(Locale.ROOT, "%-7s %-8s B=%-3d %-22s acc %.3f [%.3f, %.3f]  NFE %.1f  (%d ms)", r.task(), r.mode(), r.blockLength(),
                r.policyParams(), r.accuracy(), r.accCiLow(), r.accCiHigh(), r.meanNfe(), r.wallMs());
    }

    /** NAME.csv, NAME.json, NAME.md in dir. */
    public static void writeAll(Path dir, String name, List<EvalRow> rows) {
        AtomicFiles.writeString(dir.resolve(name + ".csv"), csv(rows));
        Json.writeAtomically(dir.resolve(name + ".json"), rows);
        AtomicFiles.writeString(dir.resolve(name + ".md"), markdown(rows));
    }
}
