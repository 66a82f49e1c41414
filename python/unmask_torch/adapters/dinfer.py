"""The unmasking policy as a dInfer parallel decoder.

Written against dInfer's ``ParallelDecoder`` (``python/dinfer/decoding/parallel_strategy.py`` upstream:
``__init__(temperature, remasking, mask_id)``, ``block_init(block_x, block_id)``,
``decode(logits, block_start, block_end, x)`` with the block's logits ``[batch, block, vocab]`` and the
whole sequence ``x`` written in place). Tested against a stand-in of that class, not inside dInfer.

    decoder = PolicyParallelDecoder(LearnedPolicy.load("exported-st/"), gen_length=256, mask_id=126336, eos_id=126081)
    # hand it to dInfer wherever a ThresholdParallelDecoder goes
"""
from __future__ import annotations

from typing import Optional

import torch
from dinfer.decoding.parallel_strategy import ParallelDecoder  # the engine's base class (dInfer installed)

from .block import BlockStepper


class PolicyParallelDecoder(ParallelDecoder):
    """Decodes each block with an unmasking policy (learned or a published rule). ``gen_length`` is the
    answer buffer; the prompt is ``x[:, :x.shape[1] - gen_length]``. ``nfe`` and ``fallbacks`` count per row."""

    def __init__(self, policy, gen_length: int, temperature: float = 0.0, remasking: str = "low_confidence",
                 mask_id: int = 126336, eos_id: Optional[int] = 126081, seed: int = 0) -> None:
        super().__init__(temperature, remasking, mask_id)
        if temperature != 0.0:
            raise ValueError("the policy writes each position's top-1 token: temperature must be 0")
        self.gen_length = gen_length
        self.stepper = BlockStepper(policy, mask_id, eos_id, gen_length, seed)

    @property
    def nfe(self) -> torch.Tensor:
        return self.stepper.nfe

    @property
    def fallbacks(self) -> torch.Tensor:
        return self.stepper.fallbacks

    def block_init(self, block_x: torch.Tensor, block_id: int) -> None:
        if block_id == 0:
            self.stepper.start_episode(block_x.shape[0])
        self.stepper.start_block(block_x)

    def decode(self, logits: torch.Tensor, block_start: int, block_end: int, x: torch.Tensor) -> None:
        block = x[:, block_start:block_end]
        if logits.shape[1] != block.shape[1]:
            raise ValueError(f"logits cover {logits.shape[1]} positions, the block {block.shape[1]}")
        gen_start = x.shape[1] - self.gen_length
        before = (x[:, gen_start:block_start] == self.mask_id).sum(1) if block_start > gen_start else None
        x[:, block_start:block_end] = self.stepper.step(logits, block, before)
