"""Checks this package's policy network against an export's test vectors (``unmask export ...
--test-vectors N``): the exported ONNX model's outputs, recorded by ONNX Runtime on real decoding
windows, against :meth:`LearnedPolicy.logits` on the same inputs.

    python3 -m unmask_torch.conformance EXPORT_DIR      # prints the largest differences; exit 1 if a decision differs
"""
from __future__ import annotations

import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Optional

import torch

from .policy import LearnedPolicy
from .safetensors_io import read_safetensors


@dataclass
class Conformance:
    windows: int
    width: int
    max_abs_prob_diff: float       # |p_onnx - p_python| over eligible positions
    max_abs_logit_diff: float
    greedy_decisions_differ: int   # windows where p >= 0.5 picks another set
    fallbacks_differ: int          # windows with no p >= 0.5 where the highest logit is another position


def check(export_dir: str | Path) -> Conformance:
    export_dir = Path(export_dir)
    tensors, meta = read_safetensors(export_dir / "test-vectors.safetensors")
    knob = float(meta["knob"]) if "knob" in meta else None
    policy = LearnedPolicy.load(export_dir, knob=knob)
    feats, elig = tensors["features"], tensors["eligible"].bool()
    onnx_p, onnx_logit = tensors["unmask_prob"].double(), tensors["logits"].double()
    logits = policy.logits(feats, elig).double()
    p = torch.sigmoid(logits)
    e = elig
    prob_diff = float((p[e] - onnx_p[e]).abs().max()) if bool(e.any()) else 0.0
    logit_diff = float((logits[e] - onnx_logit[e]).abs().max()) if bool(e.any()) else 0.0
    greedy_py, greedy_onnx = e & (p >= 0.5), e & (onnx_p >= 0.5)
    greedy_differ = int((greedy_py != greedy_onnx).any(1).sum())
    empty = ~greedy_onnx.any(1) & e.any(1)
    fall_py, fall_onnx = logits.argmax(1), onnx_logit.argmax(1)
    fallbacks_differ = int((empty & (fall_py != fall_onnx)).sum())
    return Conformance(feats.shape[0], feats.shape[1], prob_diff, logit_diff, greedy_differ, fallbacks_differ)


def main(argv: Optional[list[str]] = None) -> int:
    args = sys.argv[1:] if argv is None else argv
    if len(args) != 1:
        print("usage: python3 -m unmask_torch.conformance EXPORT_DIR", file=sys.stderr)
        return 2
    try:
        c = check(args[0])
    except (OSError, KeyError, ValueError) as e:
        print(f"conformance: {args[0]}: {e}", file=sys.stderr)
        return 2
    print(f"{c.windows} windows of width {c.width}: max |p diff| {c.max_abs_prob_diff:.3g}, max |logit diff| {c.max_abs_logit_diff:.3g}, "
          f"greedy decisions differ in {c.greedy_decisions_differ}, fallbacks differ in {c.fallbacks_differ}")
    return 1 if c.greedy_decisions_differ or c.fallbacks_differ else 0


if __name__ == "__main__":
    sys.exit(main())
