"""The unmasking policy as an SGLang dLLM algorithm.

Written against SGLang's ``DllmAlgorithm`` (``python/sglang/srt/dllm/algorithm/base.py`` upstream):
``__init__(config)`` with ``config.block_size``, ``config.mask_id`` and ``config.algorithm_config``;
``init_step_state(forward_batch)``; ``step(forward_batch, logits, states) -> list[bool]`` rewriting
``forward_batch.input_ids`` (the active blocks, ``[batch * block_size]``) in place; the base class's
``run`` loops forward passes and steps. Register it as the module's ``Algorithm`` (as
``low_confidence.py`` does). Tested against a stand-in of the base class, not inside SGLang.

``algorithm_config``: ``{"policy_path": EXPORT_DIR, "mode": "greedy", "temperature": 1.0, "knob": null,
"gen_length": 256, "eos_id": 126081}`` or ``{"rule": "threshold:tau=0.9"}``. SGLang runs one block per
call, so a policy that reads ``buffer_step_fraction`` is refused.
"""
from __future__ import annotations

from typing import Any, List

import torch
from sglang.srt.dllm.algorithm.base import DllmAlgorithm  # the engine's base class (SGLang installed)

from ..policy import LearnedPolicy
from .block import BlockStepper, policy_from_config


class UnmaskPolicyAlgorithm(DllmAlgorithm):
    def __init__(self, config) -> None:
        super().__init__(config)
        cfg = dict(getattr(config, "algorithm_config", None) or {})
        policy = policy_from_config(cfg)
        gen_length = cfg.get("gen_length")
        if gen_length is None and isinstance(policy, LearnedPolicy):
            gen_length = policy.spec.get("trained_gen_length")
        eos_id = cfg.get("eos_id")
        if eos_id is None and isinstance(policy, LearnedPolicy):
            eos_id = (policy.spec.get("dllm") or {}).get("eos_id")
        self.stepper = BlockStepper(policy, self.mask_id, eos_id, None if gen_length is None else int(gen_length),
                                    int(cfg.get("seed", 0)), episode_steps_known=False)

    def init_step_state(self, forward_batch) -> List[Any]:
        ids = forward_batch.input_ids.view(forward_batch.batch_size, self.block_size)
        self.stepper.start_episode(forward_batch.batch_size)
        self.stepper.start_block(ids)
        return [None] * forward_batch.batch_size

    def step(self, forward_batch, logits_output, states: List[Any]) -> List[bool]:
        logits = logits_output if isinstance(logits_output, torch.Tensor) else logits_output.full_logits
        bs = forward_batch.batch_size
        ids = forward_batch.input_ids.view(bs, self.block_size)
        done = (ids == self.mask_id).sum(1) == 0
        new = self.stepper.step(logits.view(bs, self.block_size, -1), ids)
        forward_batch.input_ids.copy_(new.view(-1))  # in place: the engine keeps this tensor
        return done.tolist()


Algorithm = UnmaskPolicyAlgorithm
