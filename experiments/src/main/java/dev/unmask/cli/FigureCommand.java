package dev.unmask.cli;

import com.fasterxml.jackson.core.type.TypeReference;
import dev.unmask.env.UnmaskException;
import dev.unmask.env.eval.EvalRow;
import dev.unmask.env.io.Json;
import dev.unmask.env.io.PathKinds;
import dev.unmask.runs.Plots;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.Callable;

/**
 * {@code unmask figure --full DIR --blocks DIR --task T --out PREFIX}: accuracy against NFE of one
 * task, full diffusion beside semi-AR decoding, from two committed folders' eval.json (the README's
 * figure). Writes PREFIX.png and PREFIX.svg.
 */
@Command(name = "figure", mixinStandardHelpOptions = true,
        description = "Accuracy against NFE for one task: a folder's full-diffusion rows beside another's semi-AR rows (one block length), as PNG and SVG.")
final class FigureCommand implements Callable<Integer> {
    @Option(names = "--full", required = true, description = "Folder whose full-diffusion rows to draw (its eval.json).")
    Path full;
    @Option(names = "--blocks", required = true, description = "Folder whose semi-AR rows to draw beside them (one block length).")
    Path blocks;
    @Option(names = "--task", required = true, description = "The task to draw (both folders must have it at one buffer length).")
    String task;
    @Option(names = "--title", description = "Chart title (default: the task, the buffer length and the block length).")
    String title;
    @Option(names = "--out", required = true, description = "Output path without extension: writes OUT.png and OUT.svg.")
    Path out;

    @Override
    public Integer call() {
        List<EvalRow> f = rows(full).stream().filter(r -> r.task().equals(task) && r.blockLength() == r.genLength()).toList();
        List<EvalRow> b = rows(blocks).stream().filter(r -> r.task().equals(task) && r.blockLength() < r.genLength()).toList();
        if (f.isEmpty()) throw new UnmaskException(full + " has no full-diffusion rows of task " + task);
        if (b.isEmpty()) throw new UnmaskException(blocks + " has no semi-AR rows of task " + task);
        if (b.stream().map(EvalRow::blockLength).distinct().count() > 1) {
            throw new UnmaskException(blocks + " has semi-AR rows of several block lengths " + b.stream().map(EvalRow::blockLength).distinct().sorted().toList() + "; the figure draws one");
        }
        String t = title != null ? title : task + ", L=" + f.get(0).genLength() + ": full diffusion beside blocks of " + b.get(0).blockLength() + " (" + f.get(0).split() + " prompts)";
        Path dir = out.toAbsolutePath().getParent();
        try {
            Files.createDirectories(dir);
            Plots.accuracyVsNfeBesideBlocks(dir, out.getFileName().toString(), t, f, b);
        } catch (IllegalArgumentException e) {
            throw new UnmaskException(e.getMessage());
        } catch (java.io.IOException e) {
            throw new UnmaskException("cannot write " + out + ": " + e.getMessage());
        }
        System.out.println("wrote " + out + ".png and " + out + ".svg (" + f.size() + " full-diffusion rows, " + b.size() + " rows in blocks of " + b.get(0).blockLength() + ")");
        return 0;
    }

    private static List<EvalRow> rows(Path dir) {
        Path file = dir.resolve("eval.json");
        if (!Files.isRegularFile(file)) {
            String is = PathKinds.describe(dir);
            throw new UnmaskException(dir + (is == null ? " does not exist" : " has no eval.json (not an eval or sweep folder)"));
        }
        try {
            return Json.MAPPER.readValue(file.toFile(), new TypeReference<List<EvalRow>>() {
            });
        } catch (java.io.IOException e) {
            throw new UnmaskException(file + ": not a list of eval rows (" + e.getMessage().lines().findFirst().orElse("") + ")");
        }
    }
}
