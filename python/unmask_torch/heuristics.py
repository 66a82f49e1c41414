"""The published unmasking rules (and this project's ``frontier``), behind the same ``select(obs)``
as the learned policy, so an engine compares like with like. Each one follows the rule, the float32
comparisons and the tie-breaking of its Java twin in ``dev.unmask.heuristics`` (ties: the lower
position first).

| class | rule |
|---|---|
| ``TopK(steps)`` | LLaDA: a budget of ``steps`` steps in total, ``steps / blocks`` per block, each unmasking the scheduled number of most confident positions |
| ``Margin(steps)``, ``Entropy(steps)`` | the same schedule ranked by top-1 minus top-2 probability, or by lowest entropy (Dream) |
| ``Threshold(tau)`` | Fast-dLLM: every eligible position with confidence >= tau, and always the most confident |
| ``Factor(f)`` | Fast-dLLM's factor rule: the longest prefix of the confidence ranking with (m + 1)(1 - c(m)) <= f |
| ``EntropyBounded(gamma)`` | EB-Sampler: the longest prefix of the entropy ranking whose entropies minus their maximum sum to <= gamma |
| ``Frontier(tau, slope)`` | this project's rule: log-odds >= logit(tau) + slope * (masked positions to the left) / L |
"""
from __future__ import annotations

import math
from typing import Optional

import torch

from .sampler import Observation


def _rank(obs: Observation, score: torch.Tensor) -> list[list[int]]:
    """Per row, the eligible positions by score, highest first, the lower position first on ties."""
    key = torch.where(obs.eligible, -score.double(), torch.tensor(float("inf"), dtype=torch.float64))
    order = torch.sort(key, dim=1, stable=True).indices
    counts = obs.eligible.sum(1).tolist()
    return [order[r, :counts[r]].tolist() for r in range(obs.rows)]


def _take(obs: Observation, ranked: list[list[int]], ks: list[int]) -> torch.Tensor:
    out = torch.zeros_like(obs.masked)
    for r, (rank, k) in enumerate(zip(ranked, ks)):
        if k > 0:
            out[r, rank[:k]] = True
    return out


def _scheduled(obs: Observation, total_steps: int) -> list[int]:
    """LLaDA's linear schedule: a block with M masked positions and s steps unmasks M // s per step,
    one more in the first M mod s steps, everything left at its last step; never fewer than one."""
    if total_steps % obs.num_blocks:
        raise ValueError(f"step budget {total_steps} is not a multiple of the {obs.num_blocks} blocks")
    per_block = total_steps // obs.num_blocks
    out = []
    for r in range(obs.rows):
        m, j = int(obs.masked_at_block_start[r]), int(obs.step_in_block[r])
        k = int(obs.eligible[r].sum()) if j >= per_block - 1 else m // per_block + (1 if j < m % per_block else 0)
        out.append(max(1, k))
    return out


class TopK:
    """LLaDA's low-confidence remasking with a fixed step budget (``topk:steps=S``)."""

    name = "topk"

    def __init__(self, steps: int) -> None:
        if steps <= 0:
            raise ValueError(f"step budget must be positive, got {steps}")
        self.steps = steps

    def score(self, obs: Observation) -> torch.Tensor:
        return obs.confidence

    def select(self, obs: Observation) -> torch.Tensor:
        return _take(obs, _rank(obs, self.score(obs)), _scheduled(obs, self.steps))


class Margin(TopK):
    name = "margin"

    def score(self, obs: Observation) -> torch.Tensor:
        return obs.margin


class Entropy(TopK):
    name = "entropy"

    def score(self, obs: Observation) -> torch.Tensor:
        return -obs.entropy


class RandomOrder(TopK):
    """The schedule with positions in a random order from each row's stream (Java's shuffle)."""

    name = "random"

    def select(self, obs: Observation) -> torch.Tensor:
        ranked = []
        for r in range(obs.rows):
            idx = obs.eligible[r].nonzero().squeeze(1).tolist()
            rng = obs.rngs[r]
            for i in range(len(idx) - 1, 0, -1):
                j = rng.next_int(i + 1)
                idx[i], idx[j] = idx[j], idx[i]
            ranked.append(idx)
        return _take(obs, ranked, _scheduled(obs, self.steps))


def _most_confident(obs: Observation) -> torch.Tensor:
    conf = torch.where(obs.eligible, obs.confidence, torch.tensor(float("-inf")))
    return conf.argmax(1)


class Threshold:
    """Fast-dLLM: every eligible position with confidence >= tau (compared in float32), and always the most confident."""

    name = "threshold"

    def __init__(self, tau: float) -> None:
        if not 0 <= tau <= 1:
            raise ValueError(f"threshold tau must lie in [0, 1], got {tau}")
        self.tau = tau

    def select(self, obs: Observation) -> torch.Tensor:
        tau32 = torch.tensor(self.tau, dtype=torch.float32)
        out = obs.eligible & (obs.confidence >= tau32)
        has = obs.eligible.any(1)
        rows = has.nonzero().squeeze(1)
        out[rows, _most_confident(obs)[rows]] = True
        return out


class Factor:
    """Fast-dLLM's factor rule: rank m (1-based) is accepted while c(m) >= float32(1 - f / (m + 1)); the top one always."""

    name = "factor"

    def __init__(self, f: float) -> None:
        if not f > 0:
            raise ValueError(f"factor f must be positive, got {f}")
        self.f = f

    def select(self, obs: Observation) -> torch.Tensor:
        ranked = _rank(obs, obs.confidence)
        conf = obs.confidence.tolist()
        ks = []
        for r, rank in enumerate(ranked):
            n = 1
            while n < len(rank):
                bound = float(torch.tensor(1 - self.f / (n + 2), dtype=torch.float32))
                if conf[r][rank[n]] >= bound:
                    n += 1
                else:
                    break
            ks.append(n)
        return _take(obs, ranked, ks)


class EntropyBounded:
    """EB-Sampler: entropies ascending; the longest prefix (at least one) whose sum minus its maximum is <= gamma."""

    name = "eb"

    def __init__(self, gamma: float) -> None:
        if not gamma >= 0:
            raise ValueError(f"entropy bound gamma must be >= 0, got {gamma}")
        self.gamma = gamma

    def select(self, obs: Observation) -> torch.Tensor:
        ranked = _rank(obs, -obs.entropy)
        ent = obs.entropy.tolist()
        ks = []
        for r, rank in enumerate(ranked):
            if not rank:
                ks.append(0)
                continue
            total = mx = ent[r][rank[0]]
            k = 1
            while k < len(rank):
                h = ent[r][rank[k]]
                if total + h - max(mx, h) > self.gamma:
                    break
                total += h
                mx = max(mx, h)
                k += 1
            ks.append(k)
        return _take(obs, ranked, ks)


class Frontier:
    """This project's rule: log-odds of the confidence >= logit(tau) + slope * m / L (m masked positions to the left); always the most confident."""

    name = "frontier"

    def __init__(self, tau: float, slope: float) -> None:
        if not 0 < tau < 1 or not slope >= 0:
            raise ValueError(f"frontier needs tau in (0, 1) and slope >= 0, got {tau}, {slope}")
        self.tau, self.slope = tau, slope

    def select(self, obs: Observation) -> torch.Tensor:
        bar0 = math.log(self.tau / (1 - self.tau))
        c = obs.confidence.double()
        log_odds = torch.log(c / torch.clamp(1.0 - c, min=1e-6))
        before = torch.cumsum(obs.masked.long(), 1) - obs.masked.long()
        out = obs.eligible & (log_odds - (bar0 + self.slope * before.double() / obs.gen_length) >= 0)
        rows = obs.eligible.any(1).nonzero().squeeze(1)
        out[rows, _most_confident(obs)[rows]] = True
        return out


class Klass:
    """KLASS: unmask every eligible position whose confidence exceeds ``conf`` and whose predictive
    distribution moved by less than ``kl`` (KL(p_now || p_before)) at each of the last ``history``
    steps; when none is ready, LLaDA's schedule with a budget of ``steps``. A position seen fewer than
    ``history + 1`` times is never ready."""

    name = "klass"

    def __init__(self, conf: float, kl: float, history: int, steps: int) -> None:
        if not 0 <= conf <= 1 or not kl >= 0 or not 1 <= history <= 16 or steps < 1:
            raise ValueError(f"klass needs conf in [0, 1], kl >= 0, history in 1..16, steps >= 1; got {conf}, {kl}, {history}, {steps}")
        self.conf, self.kl, self.kl_history, self.steps = conf, kl, history, steps

    def select(self, obs: Observation) -> torch.Tensor:
        if obs.recent_kl is None:
            raise ValueError("klass needs the sampler to track the KL history (its kl_history attribute)")
        conf32 = torch.tensor(self.conf, dtype=torch.float32)
        stable = (obs.recent_kl[..., :self.kl_history].double() < self.kl).all(-1)  # NaN: not stable
        ready = obs.eligible & (obs.confidence > conf32) & stable
        fallback = TopK(self.steps).select(obs)
        return torch.where(ready.any(1, keepdim=True), ready, fallback)


def parse_heuristic(spec: str) -> Optional[object]:
    """One policy of the Java spec syntax (``threshold:tau=0.9``, ``topk:steps=8``, ...), or None for a rule not ported."""
    name, _, rest = spec.partition(":")
    params = dict(p.split("=", 1) for p in rest.split(",") if p) if rest else {}
    if name == "threshold":
        return Threshold(float(params.get("tau", 0.9)))
    if name == "factor":
        return Factor(float(params.get("f", 1.0)))
    if name == "eb":
        return EntropyBounded(float(params.get("gamma", 0.1)))
    if name in ("topk", "margin", "entropy", "random"):
        cls = {"topk": TopK, "margin": Margin, "entropy": Entropy, "random": RandomOrder}[name]
        return cls(int(float(params.get("steps", 64))))
    if name == "klass":
        return Klass(float(params.get("conf", 0.6)), float(params.get("kl", 0.015)), int(float(params.get("history", 2))),
                     int(float(params.get("steps", 64))))
    if name == "frontier" and float(params.get("fallback", 0)) == 0:
        return Frontier(float(params.get("tau", 0.99)), float(params.get("slope", 12.0)))
    return None
