"""One decision for the active block of a batch, for engines that hand the policy only that block's
logits (dInfer's ``ParallelDecoder.decode``, SGLang's ``DllmAlgorithm.step``)."""
from __future__ import annotations

from pathlib import Path
from typing import Optional

import torch

from ..heuristics import parse_heuristic
from ..java_random import SplittableRandom, episode_seed
from ..policy import LearnedPolicy
from ..sampler import Observation
from ..statistics import statistics_from_logits

# features an engine that shows only the active block can supply, given the buffer length and, for
# buffer_step_fraction, a decoder that sees the whole episode (dInfer: yes; SGLang: one block per run)
BLOCK_FEATURES = {"confidence", "confidence_logodds", "margin", "entropy", "masked_fraction", "step_fraction",
                  "mask_bit", "masked_before", "knob", "top_is_eos", "buffer_step_fraction"}


def policy_from_config(cfg: dict):
    """``{"policy_path": EXPORT_DIR, "mode", "temperature", "knob"}`` or ``{"rule": "threshold:tau=0.9"}``."""
    if "policy_path" in cfg:
        return LearnedPolicy.load(Path(cfg["policy_path"]), mode=cfg.get("mode", "greedy"),
                                  temperature=float(cfg.get("temperature", 1.0)),
                                  knob=None if cfg.get("knob") is None else float(cfg["knob"]))
    if "rule" in cfg:
        rule = parse_heuristic(cfg["rule"])
        if rule is None:
            raise ValueError(f"rule '{cfg['rule']}' is not one of the ported rules (threshold, factor, eb, topk, margin, entropy, random, frontier, klass)")
        return rule
    raise ValueError("give policy_path (an exported policy folder) or rule (e.g. threshold:tau=0.9)")


class BlockStepper:
    """Keeps the per-row decoding state an engine does not (steps in the block and the episode, random
    streams) and turns a block's logits into the tokens to write.

    Semantics as the project's sampler: eligible = masked positions of the block; the policy chooses;
    an empty choice takes the most confident eligible position; chosen positions get the top-1 token
    other than the mask token.
    """

    def __init__(self, policy, mask_id: int, eos_id: Optional[int], buffer_length: Optional[int], seed: int = 0,
                 episode_steps_known: bool = True) -> None:
        if isinstance(policy, LearnedPolicy):
            if policy.whole_buffer:
                raise ValueError("a whole-buffer policy (context: buffer) needs the dLLM's statistics over the whole buffer; "
                                 "these engines give the active block's logits only")
            needs_length = {"masked_before", "buffer_step_fraction"} & set(policy.features)
            if needs_length and buffer_length is None:
                raise ValueError(f"the policy reads {sorted(needs_length)}: give the buffer length (gen_length)")
            if "buffer_step_fraction" in policy.features and not episode_steps_known:
                raise ValueError("the policy reads buffer_step_fraction (steps in the whole episode), which this engine's "
                                 "per-block runs do not carry")
        if getattr(policy, "kl_history", 0):
            raise ValueError("klass needs every position's distribution at every step, which these adapters do not keep; use generate()")
        self.policy, self.mask_id, self.eos_id = policy, mask_id, eos_id
        self.buffer_length, self.seed = buffer_length, seed
        self.rows = 0
        self.episode_step = torch.zeros(0, dtype=torch.long)
        self.step_in_block = torch.zeros(0, dtype=torch.long)
        self.masked_at_block_start = torch.zeros(0, dtype=torch.long)
        self.rngs: list[SplittableRandom] = []
        self.nfe = torch.zeros(0, dtype=torch.long)
        self.fallbacks = torch.zeros(0, dtype=torch.long)

    def start_episode(self, rows: int) -> None:
        self.rows = rows
        self.episode_step = torch.zeros(rows, dtype=torch.long)
        self.nfe = torch.zeros(rows, dtype=torch.long)
        self.fallbacks = torch.zeros(rows, dtype=torch.long)
        self.rngs = [SplittableRandom(episode_seed(self.seed, i)) for i in range(rows)]

    def start_block(self, block_ids: torch.Tensor) -> None:
        if block_ids.shape[0] != self.rows:
            self.start_episode(block_ids.shape[0])
        self.step_in_block = torch.zeros(self.rows, dtype=torch.long)
        self.masked_at_block_start = (block_ids.cpu() == self.mask_id).sum(1)

    @torch.no_grad()
    def step(self, block_logits: torch.Tensor, block_ids: torch.Tensor,
             masked_before_block: Optional[torch.Tensor] = None) -> torch.Tensor:
        """``block_logits [rows, W, V]``, ``block_ids [rows, W]`` -> the block's new ids (rows without a mask are left as they are)."""
        if block_ids.shape[0] != self.rows:
            self.start_block(block_ids)
        device = block_ids.device
        ids = block_ids.cpu()
        masked = ids == self.mask_id
        running = masked.any(1)
        if not bool(running.any()):
            return block_ids
        rows = running.nonzero().squeeze(1)
        stats = statistics_from_logits(block_logits.detach().float().cpu()[rows], self.mask_id)
        m = masked[rows]
        width = ids.shape[1]
        nan = torch.tensor(float("nan"))
        obs = Observation(
            confidence=torch.where(m, stats.confidence, nan), top2_prob=torch.where(m, stats.top2_prob, nan),
            entropy=torch.where(m, stats.entropy, nan), top1=torch.where(m, stats.top1, torch.tensor(-1)), masked=m,
            eligible=m.clone(), block_start=torch.zeros(len(rows), dtype=torch.long), block_length=width, gen_length=width,
            step_in_block=self.step_in_block[rows].clone(), masked_at_block_start=self.masked_at_block_start[rows].clone(),
            step=self.episode_step[rows].clone(), rngs=[self.rngs[int(r)] for r in rows], row_ids=rows,
            vocab_size=block_logits.shape[-1], eos_id=self.eos_id,
            masked_before_window=None if masked_before_block is None else masked_before_block.cpu()[rows],
            buffer_length=self.buffer_length)
        take = self.policy.select(obs).bool() & m
        empty = ~take.any(1)
        if bool(empty.any()):
            best = torch.where(m, obs.confidence, torch.tensor(float("-inf"))).argmax(1)
            take[empty, best[empty]] = True
        out = ids.clone()
        out[rows] = torch.where(take, stats.top1, ids[rows])
        self.fallbacks[rows] += (empty | obs.fallback_reported).long()
        self.nfe[rows] += 1
        self.episode_step[rows] += 1
        self.step_in_block[rows] += 1
        return out.to(device)
