"""Java's ``java.util.SplittableRandom``, bit for bit.

The Java environment gives every episode its own stream (``SplittableRandom(seed * 0x9E3779B97F4A7C15
+ i)``) and the learned policy's sampled mode draws ``nextDouble()`` once per eligible position, in
position order. Reproducing those streams exactly is what lets a sampled policy decide here as it
does in Java; the task generators use the same class to draw their instances.
"""
from __future__ import annotations

_MASK64 = (1 << 64) - 1
GOLDEN_GAMMA = 0x9E3779B97F4A7C15


def _mix64(z: int) -> int:
    z = ((z ^ (z >> 30)) * 0xBF58476D1CE4E5B9) & _MASK64
    z = ((z ^ (z >> 27)) * 0x94D049BB133111EB) & _MASK64
    return z ^ (z >> 31)


def _mix32(z: int) -> int:
    z = ((z ^ (z >> 33)) * 0x62A9D9ED799705F5) & _MASK64
    return (((z ^ (z >> 28)) * 0xCB24D0A5C88C35B3) & _MASK64) >> 32


def _signed32(x: int) -> int:
    return x - (1 << 32) if x >= 1 << 31 else x


def episode_seed(seed: int, index: int) -> int:
    """The seed of episode ``index`` of a batch reset with ``seed`` (Java long arithmetic)."""
    return (seed * GOLDEN_GAMMA + index) & _MASK64


class SplittableRandom:
    """``new SplittableRandom(seed)``: the same ints and doubles as Java 17's class."""

    __slots__ = ("_seed",)

    def __init__(self, seed: int) -> None:
        self._seed = seed & _MASK64

    def _next_seed(self) -> int:
        self._seed = (self._seed + GOLDEN_GAMMA) & _MASK64
        return self._seed

    def next_long(self) -> int:
        """An unsigned 64-bit value (Java's signed long, reinterpreted)."""
        return _mix64(self._next_seed())

    def next_int(self, bound: int | None = None) -> int:
        """``nextInt()`` (signed 32-bit) or ``nextInt(bound)`` in [0, bound)."""
        r = _signed32(_mix32(self._next_seed()))
        if bound is None:
            return r
        if bound <= 0:
            raise ValueError("bound must be positive")
        m = bound - 1
        if bound & m == 0:
            return r & m
        u = (r & 0xFFFFFFFF) >> 1
        while True:
            r = u % bound
            if u + m - r < 1 << 31:  # Java's int overflow test: u + m - r < 0 after wrapping
                return r
            u = (_mix32(self._next_seed()) & 0xFFFFFFFF) >> 1

    def next_double(self) -> float:
        """A double in [0, 1) with 53 random bits."""
        return (self.next_long() >> 11) * (1.0 / (1 << 53))

    def next_doubles(self, n: int) -> list[float]:
        """n calls of :meth:`next_double`, in order."""
        return [self.next_double() for _ in range(n)]
