"""An exported unmasking policy (``policy.safetensors`` + ``policy-spec.json``, written by
``unmask export --format safetensors``) in PyTorch: its features, its network and its decision rule,
exactly as docs/policy-format.md defines them.

    policy = LearnedPolicy.load("exported-st/")            # greedy; mode="sample", temperature=...
    out = generate(model, prompt, gen_length=256, block_length=32, policy=policy, mask_id=126336, eos_id=126081)
"""
from __future__ import annotations

import json
import math
from pathlib import Path
from typing import Optional, Sequence

import torch

from .builtin_dllm import gelu_sigmoid, layer_norm
from .safetensors_io import read_safetensors
from .sampler import Observation

FEATURES = ("confidence", "confidence_logodds", "margin", "entropy", "masked_fraction", "step_fraction", "mask_bit",
            "buffer_step_fraction", "masked_before", "knob", "top_is_eos")
DLLM_STATISTICS = ("confidence", "confidence_logodds", "margin", "entropy", "top_is_eos")


class PolicyFormatError(ValueError):
    """An export that cannot be read; the message names the file and the problem."""


def sinusoid(width: int, d: int) -> torch.Tensor:
    """The position table: row j, columns (sin, cos) of j * 10000^(-2i/d), computed in double, stored float32."""
    j = torch.arange(width, dtype=torch.float64)[:, None]
    i = torch.arange(d // 2, dtype=torch.float64)[None, :]
    angles = j * torch.pow(torch.tensor(10000.0, dtype=torch.float64), -2.0 * i / d)
    pe = torch.zeros(width, d, dtype=torch.float64)
    pe[:, 0::2] = torch.sin(angles)
    pe[:, 1::2] = torch.cos(angles)
    return pe.float()


def feature_values(names: Sequence[str], obs: Observation, knob: Optional[float], whole_buffer: bool) -> tuple[torch.Tensor, torch.Tensor]:
    """The policy's inputs ``[rows, width, F]`` and its window's eligibility ``[rows, width]``.

    A block policy's window is the active block (index = position inside the block), features only
    at eligible positions; a whole-buffer policy's window is the buffer, the dLLM's statistics only
    where masked and the other features everywhere. Zeros elsewhere.
    """
    rows, length = obs.masked.shape
    masked_f = obs.masked.float()
    block_offsets = torch.arange(length)[None, :] - obs.block_start[:, None]
    in_block = obs.eligible
    masked_in_block = obs.eligible.sum(1)
    cols = []
    for name in names:
        if name == "confidence":
            v = obs.confidence
        elif name == "confidence_logodds":
            c = obs.confidence.double()
            v = torch.log(c / torch.clamp(1.0 - c, min=1e-6)).float()
        elif name == "margin":
            v = obs.margin
        elif name == "entropy":
            v = (obs.entropy.double() / math.log(obs.vocab_size)).float()
        elif name == "masked_fraction":
            v = (masked_in_block.float() / float(obs.block_length))[:, None].expand(rows, length)
        elif name == "step_fraction":
            v = (obs.step_in_block.float() / float(obs.block_length))[:, None].expand(rows, length)
        elif name == "mask_bit":
            v = masked_f
        elif name == "buffer_step_fraction":
            v = (obs.step.float() / float(obs.feature_length))[:, None].expand(rows, length)
        elif name == "masked_before":
            before = torch.cumsum(obs.masked.long(), 1) - obs.masked.long()
            if obs.masked_before_window is not None:
                before = before + obs.masked_before_window[:, None]
            v = before.float() / float(obs.feature_length)
        elif name == "knob":
            if knob is None:
                raise ValueError("the policy reads the knob feature but no knob was given")
            v = torch.full((rows, length), float(knob))
        elif name == "top_is_eos":
            v = obs.top_is_eos.float()
        else:
            raise ValueError(f"unknown policy feature '{name}' (known: {', '.join(FEATURES)})")
        keep = (obs.masked if name in DLLM_STATISTICS else torch.ones_like(obs.masked)) if whole_buffer else in_block
        cols.append(torch.where(keep, v.float(), torch.zeros(())))
    feats = torch.stack(cols, dim=-1)
    if whole_buffer:
        return feats, obs.eligible.clone()
    width = obs.block_length
    gather = (obs.block_start[:, None] + torch.arange(width)[None, :])
    win = feats.gather(1, gather[:, :, None].expand(rows, width, feats.shape[-1]))
    return win, obs.eligible.gather(1, gather)


class LearnedPolicy:
    """A policy export. ``mode``: ``greedy`` (unmask where p >= 0.5) or ``sample`` (a Bernoulli per
    eligible position from the row's stream); ``temperature`` divides the logits; ``knob`` is the
    speed/accuracy knob of a knob-conditioned policy."""

    name = "learned"

    def __init__(self, weights: dict[str, torch.Tensor], spec: dict, mode: str = "greedy", temperature: float = 1.0,
                 knob: Optional[float] = None, source: str = "policy") -> None:
        if mode not in ("greedy", "sample"):
            raise ValueError(f"mode must be greedy or sample, got {mode}")
        if not temperature > 0:
            raise ValueError(f"policy temperature must be > 0, got {temperature}")
        self.w = {k: v.float() for k, v in weights.items()}
        self.spec = spec
        self.features = list(spec["features"])
        for f in self.features:
            if f not in FEATURES:
                raise PolicyFormatError(f"{source}: unknown feature '{f}' (known: {', '.join(FEATURES)})")
        self.d_model, self.heads = int(spec["d_model"]), int(spec["heads"])
        self.eps = float(spec.get("layer_norm_epsilon", 1e-5))
        self.whole_buffer = spec.get("context", "block") == "buffer"
        self.mode, self.temperature = mode, float(temperature)
        if "knob" in self.features and knob is None:
            knob_range = spec.get("knob_range")
            raise ValueError(f"{source}: the policy reads the knob; give knob=VALUE (trained on {knob_range})")
        self.knob = knob
        self.source = source

    @classmethod
    def load(cls, path: str | Path, **kwargs) -> "LearnedPolicy":
        """A folder holding ``policy.safetensors`` and ``policy-spec.json`` (or the safetensors file beside its spec)."""
        path = Path(path)
        folder = path if path.is_dir() else path.parent
        st = folder / "policy.safetensors" if path.is_dir() else path
        spec_path = folder / "policy-spec.json"
        for p in (st, spec_path):
            if not p.is_file():
                raise PolicyFormatError(f"{p}: missing (an export folder holds policy.safetensors and policy-spec.json: unmask export --format safetensors)")
        weights, _ = read_safetensors(st)
        try:
            spec = json.loads(spec_path.read_text())
        except ValueError as e:
            raise PolicyFormatError(f"{spec_path}: not JSON ({e})") from None
        return cls(weights, spec, source=str(folder), **kwargs)

    @torch.no_grad()
    def logits(self, features: torch.Tensor, eligible: torch.Tensor) -> torch.Tensor:
        """``features [rows, W, F]``, ``eligible [rows, W]`` -> logits ``[rows, W]`` (-inf where not eligible)."""
        rows, width, _ = features.shape
        d, h = self.d_model, self.heads
        dh = d // h
        w = self.w

        def lin(x: torch.Tensor, name: str) -> torch.Tensor:
            return x @ w[name + ".weight"] + w[name + ".bias"]

        def ln(x: torch.Tensor, name: str) -> torch.Tensor:
            return layer_norm(x, w[name + ".gain"], w[name + ".bias"], self.eps)

        x = lin(features.float(), "embed") + sinusoid(width, d)
        hn = ln(x, "layer0.ln1")
        q, k, v = (lin(hn, "layer0.attn." + n).reshape(rows, width, h, dh).permute(0, 2, 1, 3) for n in "qkv")
        if self.whole_buffer:
            bias = torch.zeros(rows, 1, 1, width)
        else:
            bias = torch.where(eligible.bool(), torch.tensor(0.0), torch.tensor(-1e9))[:, None, None, :]
        s = q @ k.transpose(-1, -2) * (1.0 / math.sqrt(dh)) + bias
        ctx = (torch.softmax(s, -1) @ v).permute(0, 2, 1, 3).reshape(rows, width, d)
        x = x + lin(ctx, "layer0.attn.out")
        x = x + lin(gelu_sigmoid(lin(ln(x, "layer0.ln2"), "layer0.mlp.in")), "layer0.mlp.out")
        out = lin(ln(x, "final_ln"), "head")[..., 0]
        return torch.where(eligible.bool(), out, torch.tensor(float("-inf")))

    def probabilities(self, logits: torch.Tensor) -> torch.Tensor:
        """p = sigmoid(logit / T), in double (as the decision compares it)."""
        return torch.sigmoid(logits.double() / self.temperature)

    def select(self, obs: Observation) -> torch.Tensor:
        feats, elig = feature_values(self.features, obs, self.knob, self.whole_buffer)
        logits = self.logits(feats, elig)
        z = logits.double() / self.temperature
        p = 1.0 / (1.0 + torch.exp(-z))
        if self.mode == "greedy":
            take = elig & (p >= 0.5)
        else:
            take = torch.zeros_like(elig)
            for r in range(obs.rows):
                idx = elig[r].nonzero().squeeze(1).tolist()
                draws = obs.rngs[r].next_doubles(len(idx))
                pr = p[r].tolist()
                for j, u in zip(idx, draws):
                    if u < pr[j]:
                        take[r, j] = True
        empty = ~take.any(1) & elig.any(1)
        if bool(empty.any()):
            best = logits.argmax(1)  # the highest logit, the lowest index on ties
            take[empty, best[empty]] = True
            obs.fallback_reported |= empty
        if self.whole_buffer:
            return take
        out = torch.zeros_like(obs.masked)
        cols = obs.block_start[:, None] + torch.arange(obs.block_length)[None, :]
        out.scatter_(1, cols, take)
        return out


def load_checkpoint(folder: str | Path, **kwargs) -> LearnedPolicy:
    """A policy checkpoint folder of the Java side (``policy.safetensors`` + ``policy-config.json``, as
    ``unmask train`` writes it); the value head (PPO's critic) is not used."""
    folder = Path(folder)
    cfg_path = folder / "policy-config.json"
    if not cfg_path.is_file():
        raise PolicyFormatError(f"{folder}: not a policy checkpoint (no policy-config.json)")
    cfg = json.loads(cfg_path.read_text())
    weights, _ = read_safetensors(folder / "policy.safetensors")
    spec = {"features": cfg["features"], "d_model": cfg["dModel"], "heads": cfg["heads"], "ff_dim": cfg["ffDim"],
            "layer_norm_epsilon": 1e-5, "context": cfg.get("context", "block")}
    return LearnedPolicy({k: v for k, v in weights.items() if not k.startswith("value_head.")}, spec, source=str(folder), **kwargs)
