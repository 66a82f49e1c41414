"""The built-in tasks the replay needs, drawn exactly as the Java generators draw them.

Instances come from :class:`~unmask_torch.java_random.SplittableRandom` streams, and a salted hash of
each instance's key puts it in the train, validation or test split once and for all
(``dev.unmask.env.task.Split``), so ``dataset("test", seed, n)`` here lists the same prompts, in the
same order, as ``Task.dataset`` in Java.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Callable, Optional

from .java_random import SplittableRandom

_MASK64 = (1 << 64) - 1


@dataclass(frozen=True)
class Example:
    task: str
    key: str
    prompt: str
    answer: str


def split_of(key: str) -> str:
    """``Split.of``: 1 in 10 keys test, 1 in 10 validation, the rest train."""
    h = 0x5DEECE66D
    for ch in key:
        h ^= ord(ch)
        h = (h * 0x100000001B3) & _MASK64
    h ^= h >> 29
    h = (h * 0xBF58476D1CE4E5B9) & _MASK64
    h ^= h >> 32
    signed = h - (1 << 64) if h >= 1 << 63 else h
    bucket = signed % 10  # Math.floorMod
    return "test" if bucket == 0 else "validation" if bucket == 5 else "train"


def _normalise_split(split: str) -> str:
    s = split.strip().lower()
    if s == "val":
        s = "validation"
    if s not in ("train", "validation", "test"):
        raise ValueError(f"split '{split}' is not one of train, validation, test")
    return s


class Task:
    name: str
    default_gen_length: int

    def draw(self, rng: SplittableRandom) -> Optional[Example]:
        """One instance from the task's distribution, or None to draw again."""
        raise NotImplementedError

    def is_correct(self, example: Example, answer_text: str) -> bool:
        raise NotImplementedError

    def sample(self, split: str, rng: SplittableRandom) -> Example:
        while True:
            e = self.draw(rng)
            if e is not None and split_of(e.key) == split:
                return e

    def dataset(self, split: str, seed: int, n: int) -> list[Example]:
        """n distinct instances of a split, the same as Java's ``Task.dataset(split, seed, n)``."""
        split = _normalise_split(split)
        rng = SplittableRandom(seed)
        seen: dict[str, Example] = {}
        tries = 0
        while len(seen) < n:
            tries += 1
            if tries > 1000 * n + 10000:
                raise ValueError(f"task {self.name} cannot produce {n} distinct {split} instances")
            e = self.sample(split, rng)
            seen.setdefault(e.key, e)
        return list(seen.values())


def _permutation(n: int, rng: SplittableRandom) -> list[int]:
    p = list(range(n))
    for i in range(n - 1, 0, -1):
        j = rng.next_int(i + 1)
        p[i], p[j] = p[j], p[i]
    return p


class SudokuTask(Task):
    """4x4 Sudoku; prompt ``<sudoku>1.3.|..2.|....|4..1=``, answer the 16 cells ``1234|3412|2143|4321``."""

    name = "sudoku"
    default_gen_length = 32

    @staticmethod
    def _allowed(g: list[int], cell: int, d: int) -> bool:
        r, c = divmod(cell, 4)
        br, bc = r // 2 * 2, c // 2 * 2
        for i in range(4):
            if i != c and g[r * 4 + i] == d:
                return False
            if i != r and g[i * 4 + c] == d:
                return False
            cr, cc = br + i // 2, bc + i % 2
            if (cr != r or cc != c) and g[cr * 4 + cc] == d:
                return False
        return True

    def _fill(self, g: list[int], cell: int, rng: SplittableRandom) -> bool:
        if cell == 16:
            return True
        for d in _permutation(4, rng):
            if self._allowed(g, cell, d + 1):
                g[cell] = d + 1
                if self._fill(g, cell + 1, rng):
                    return True
                g[cell] = 0
        return False

    def _count(self, g: list[int], cell: int, limit: int) -> int:
        while cell < 16 and g[cell] != 0:
            cell += 1
        if cell == 16:
            return 1
        count = 0
        for d in range(1, 5):
            if count >= limit:
                break
            if self._allowed(g, cell, d):
                g[cell] = d
                count += self._count(g, cell + 1, limit - count)
                g[cell] = 0
        return count

    @staticmethod
    def _render(cells: list[int]) -> str:
        out = []
        for i in range(16):
            if i > 0 and i % 4 == 0:
                out.append("|")
            out.append("." if cells[i] == 0 else str(cells[i]))
        return "".join(out)

    def draw(self, rng: SplittableRandom) -> Example:
        grid = [0] * 16
        self._fill(grid, 0, rng)
        puzzle = list(grid)
        blanks = 6 + rng.next_int(5)
        order = _permutation(16, rng)
        removed = 0
        for cell in order:
            if removed >= blanks:
                break
            keep = puzzle[cell]
            puzzle[cell] = 0
            if self._count(list(puzzle), 0, 2) == 1:
                removed += 1
            else:
                puzzle[cell] = keep
        p = self._render(puzzle)
        return Example(self.name, p, "<sudoku>" + p + "=", self._render(grid))

    def is_correct(self, example: Example, answer_text: str) -> bool:
        if len(answer_text) != 19:
            return False
        g = []
        for i, ch in enumerate(answer_text):
            if i % 5 == 4:
                if ch != "|":
                    return False
                continue
            if ch < "1" or ch > "4":
                return False
            g.append(ord(ch) - ord("0"))
        givens = example.key.replace("|", "")
        for i in range(16):
            ch = givens[i]
            if ch != "." and ord(ch) - ord("0") != g[i]:
                return False
            if not self._allowed(g, i, g[i]):
                return False
        return True


class _TraceTask(Task):
    """A trace task: a 128-token buffer, and an answer right exactly when it is the (unique) trace."""

    default_gen_length = 128

    def is_correct(self, example: Example, answer_text: str) -> bool:
        return answer_text == example.answer


class DucciTask(_TraceTask):
    """Ducci sequences of eight digits, ``<ducci>31415926,`` -> rows of |x(i) - x(i+1 mod 8)| to the zero row."""

    name = "ducci"
    WIDTH = 8

    @classmethod
    def trace(cls, start: str) -> str:
        row = [int(c) for c in start]
        parts: list[str] = []
        length = 0
        while length <= cls.default_gen_length:
            nxt = [abs(row[i] - row[(i + 1) % cls.WIDTH]) for i in range(cls.WIDTH)]
            s = "".join(str(d) for d in nxt)
            length += len(s) + (1 if parts else 0)
            parts.append(s)
            if not any(nxt):
                break
            row = nxt
        return ",".join(parts)

    def draw(self, rng: SplittableRandom) -> Optional[Example]:
        key = f"{rng.next_int(100_000_000):08d}"
        if key == "00000000":
            return None
        answer = self.trace(key)
        if len(answer) > self.default_gen_length:
            return None
        return Example(self.name, key, "<ducci>" + key + ",", answer)


TASKS: dict[str, Callable[[], Task]] = {"sudoku": SudokuTask, "ducci": DucciTask}


def task_by_name(name: str) -> Task:
    try:
        return TASKS[name]()
    except KeyError:
        raise ValueError(f"task '{name}' is not ported to Python (ported: {', '.join(sorted(TASKS))})") from None


def answer_text(tokens: list[str], buffer_ids: list[int], eos_id: int) -> str:
    """The answer of a decoded buffer: its tokens up to the first EOS."""
    out = []
    for i in buffer_ids:
        if i == eos_id:
            break
        out.append(tokens[i])
    return "".join(out)
