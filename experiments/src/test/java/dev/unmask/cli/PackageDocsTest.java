package dev.unmask.cli;

import org.junit.jupiter.api.Test;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.stream.Stream;

import static org.junit.jupiter.api.Assertions.*;

/** Every main package of every module says in a short package-info.java what it owns. */
class PackageDocsTest {
    @Test
    void everyPackageHasAShortPackageInfo() throws IOException {
        Path root = ShippedModelsTest.modelsDir().getParent();
        List<Path> packages;
        try (Stream<Path> files = Files.walk(root, 12)) {
            packages = files.filter(p -> p.toString().endsWith(".java") && p.toString().contains("/src/main/java/"))
                    .filter(p -> !p.startsWith(root.resolve("results")))
                    .map(Path::getParent).distinct().sorted().toList();
        }
        assertTrue(packages.size() >= 15, packages.toString());
        List<String> problems = new ArrayList<>();
        for (Path dir : packages) {
            String name = dir.toString().substring(dir.toString().indexOf("/src/main/java/") + "/src/main/java/".length()).replace('/', '.');
            Path info = dir.resolve("package-info.java");
            if (!Files.isRegularFile(info)) {
                problems.add(root.relativize(dir) + ": no package-info.java");
                continue;
            }
            String text = Files.readString(info);
            int start = text.indexOf("/**"), end = text.indexOf("*/");
            long lines = start < 0 || end < start ? 0 : text.substring(start + 3, end).lines().filter(l -> !l.strip().replace("*", "").isBlank()).count();
            if (lines < 2 || lines > 4) problems.add(root.relativize(info) + ": " + lines + " lines of javadoc (want 2 to 4)");
            if (!text.contains("\npackage " + name + ";")) problems.add(root.relativize(info) + ": does not declare package " + name);
        }
        assertEquals(List.of(), problems);
    }
}
