package dev.unmask.env.task;

import java.util.SplittableRandom;

/**
 * 4x4 Sudoku with a unique solution. Prompt {@code <sudoku>1.3.|..2.|....|4..1=} ('.' = blank),
 * answer the 16 cells as {@code 1234|3412|2143|4321}. 6 to 10 blanks. The verifier checks the
 * rules (rows, columns, 2x2 boxes) and the givens, not equality with the reference.
 */
public final class SudokuTask implements Task {
    @Override
    public String name() {
        return "sudoku";
    }

    @Override
    public int defaultGenLength() {
        return 32;
    }

    @Override
    public Example sample(Split split, SplittableRandom rng) {
        return Task.inSplit(split, rng, this::draw);
    }

    private Example draw(SplittableRandom rng) {
        int[] grid = new int[16];
        fill(grid, 0, rng);
        int[] puzzle = grid.clone();
        int blanks = 6 + rng.nextInt(5);
        int[] order = permutation(16, rng);
        int removed = 0;
        for (int idx = 0; idx < 16 && removed < blanks; idx++) {
            int cell = order[idx];
            int keep = puzzle[cell];
            puzzle[cell] = 0;
            if (countSolutions(puzzle.clone(), 0, 2) == 1) removed++;
            else puzzle[cell] = keep;
        }
        String p = render(puzzle);
        return new Example(name(), p, "<sudoku>" + p + "=", render(grid));
    }

    static String render(int[] cells) {
        StringBuilder sb = new StringBuilder();
        for (int i = 0; i < 16; i++) {
            if (i > 0 && i % 4 == 0) sb.append('|');
            sb.append(cells[i] == 0 ? '.' : (char) ('0' + cells[i]));
        }
        return sb.toString();
    }

    private static int[] permutation(int n, SplittableRandom rng) {
        int[] p = new int[n];
        for (int i = 0; i < n; i++) p[i] = i;
        for (int i = n - 1; i > 0; i--) {
            int j = rng.nextInt(i + 1);
            int t = p[i];
            p[i] = p[j];
            p[j] = t;
        }
        return p;
    }

    private static boolean fill(int[] g, int cell, SplittableRandom rng) {
        if (cell == 16) return true;
        for (int d : permutation(4, rng)) {
            if (allowed(g, cell, d + 1)) {
                g[cell] = d + 1;
                if (fill(g, cell + 1, rng)) return true;
                g[cell] = 0;
            }
        }
        return false;
    }

    private static int countSolutions(int[] g, int cell, int limit) {
        while (cell < 16 && g[cell] != 0) cell++;
        if (cell == 16) return 1;
        int count = 0;
        for (int d = 1; d <= 4 && count < limit; d++) {
            if (allowed(g, cell, d)) {
                g[cell] = d;
                count += countSolutions(g, cell + 1, limit - count);
                g[cell] = 0;
            }
        }
        return count;
    }

    private static boolean allowed(int[] g, int cell, int d) {
        int r = cell / 4, c = cell % 4;
        int br = r / 2 * 2, bc = c / 2 * 2;
        for (int i = 0; i < 4; i++) {
            if (i != c && g[r * 4 + i] == d) return false;
            if (i != r && g[i * 4 + c] == d) return false;
            int cr = br + i / 2, cc = bc + i % 2;
            if ((cr != r || cc != c) && g[cr * 4 + cc] == d) return false;
        }
        return true;
    }

    @Override
    public boolean isCorrect(Example example, String answerText) {
        if (answerText.length() != 19) return false;
        int[] g = new int[16];
        for (int i = 0, cell = 0; i < 19; i++) {
            char ch = answerText.charAt(i);
            if (i % 5 == 4) {
                if (ch != '|') return false;
                continue;
            }
            if (ch < '1' || ch > '4') return false;
            g[cell++] = ch - '0';
        }
        String givens = example.key().replace("|", "");
        for (int i = 0; i < 16; i++) {
            char ch = givens.charAt(i);
            if (ch != '.' && ch - '0' != g[i]) return false;
            if (!allowed(g, i, g[i])) return false;
        }
        return true;
    }
}
