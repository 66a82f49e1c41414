"""What a policy reads from the dLLM at each position: its confidence and friends, defined once.

For a position with logits ``z`` over the whole vocabulary (the mask token included), in float32:

* ``p = softmax(z)`` over every token, the mask token included;
* ``top1`` = the most probable token **other than the mask token** (lowest id on ties);
  ``confidence = p[top1]``; ``top2_prob`` = the second such probability (0 when there is none);
* ``margin = confidence - top2_prob``; ``entropy = -sum(p * log_softmax(z))`` in nats, over every token.

This is ``Predictions.fromLogits`` and the ONNX statistics head of the Java side (docs/policy-format.md).
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Optional

import torch


@dataclass
class DllmStatistics:
    """Per position statistics, each ``[rows, positions]``."""

    top1: torch.Tensor
    confidence: torch.Tensor
    top2_prob: torch.Tensor
    entropy: torch.Tensor
    probs: Optional[torch.Tensor] = None  # [rows, positions, vocab] when asked for

    @property
    def margin(self) -> torch.Tensor:
        return self.confidence - self.top2_prob


def statistics_from_logits(logits: torch.Tensor, mask_id: Optional[int], with_probs: bool = False) -> DllmStatistics:
    """Statistics of ``logits [rows, positions, vocab]`` (any float dtype; computed in float32)."""
    z = logits.float()
    probs = torch.softmax(z, dim=-1)
    entropy = -(probs * torch.log_softmax(z, dim=-1)).sum(-1)
    ranked = probs.clone()
    if mask_id is not None and 0 <= mask_id < ranked.shape[-1]:
        ranked[..., mask_id] = float("-inf")
    top1 = ranked.argmax(-1)  # first maximum: the lowest id on ties
    conf = ranked.gather(-1, top1.unsqueeze(-1)).squeeze(-1)
    ranked.scatter_(-1, top1.unsqueeze(-1), float("-inf"))
    second = ranked.max(-1).values
    top2 = torch.where(torch.isfinite(second), second, torch.zeros_like(second)).clamp_min(0.0)
    return DllmStatistics(top1, conf, top2, entropy, probs if with_probs else None)
