"""A reference sampler shaped like LLaDA's ``generate()``: a batch of prompts, a buffer of
``gen_length`` mask tokens decoded in blocks of ``block_length`` (``block_length == gen_length`` is
full diffusion), any masked LM given as a callable, and a policy (learned or one of the published
rules) that picks the positions to unmask at every step.

Semantics, the same as the Java environment (``UnmaskingEnv``) so that rows replay exactly:

* every step is one forward pass (one NFE) over the rows still running; a row whose buffer holds no
  mask token is done and leaves the batch;
* only masked positions of the row's active block are **eligible**; the block advances when it has
  no mask left (rows advance independently);
* the chosen positions receive the dLLM's top-1 token (never the mask token);
* a policy that chooses nothing gets the **fallback**: the eligible position with the highest
  confidence (the lowest position on ties), counted as a fallback step; a policy may also report
  a fallback of its own (the learned policy does, when its rule chose nothing).
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Callable, Optional, Protocol, Sequence

import torch

from .java_random import SplittableRandom, episode_seed
from .statistics import DllmStatistics, statistics_from_logits

MaskedLM = Callable[..., object]


@dataclass
class Observation:
    """What a policy sees at one step, for the rows still running; tensors are ``[rows, gen_length]``
    (buffer positions) or ``[rows]``. Statistics are NaN where a token is already written."""

    confidence: torch.Tensor
    top2_prob: torch.Tensor
    entropy: torch.Tensor
    top1: torch.Tensor
    masked: torch.Tensor
    eligible: torch.Tensor
    block_start: torch.Tensor
    block_length: int
    gen_length: int
    step_in_block: torch.Tensor
    masked_at_block_start: torch.Tensor
    step: torch.Tensor
    rngs: list
    row_ids: torch.Tensor
    vocab_size: int
    eos_id: Optional[int]
    probs: Optional[torch.Tensor] = None
    fallback_reported: torch.Tensor = field(default=None)  # the policy sets True where it fell back by itself
    # engines that show the policy only the active block (adapters): masked positions of the buffer before
    # the window, and the buffer length L that masked_before and buffer_step_fraction are divided by
    masked_before_window: Optional[torch.Tensor] = None
    buffer_length: Optional[int] = None
    # for policies that ask for it (kl_history > 0, KLASS): [rows, gen_length, history], KL(p_now || p_before)
    # of each position's predictive distribution between consecutive steps, latest first; NaN where not observed yet
    recent_kl: Optional[torch.Tensor] = None

    def __post_init__(self) -> None:
        if self.fallback_reported is None:
            self.fallback_reported = torch.zeros(self.masked.shape[0], dtype=torch.bool)

    @property
    def rows(self) -> int:
        return self.masked.shape[0]

    @property
    def margin(self) -> torch.Tensor:
        return self.confidence - self.top2_prob

    @property
    def feature_length(self) -> int:
        """L, what masked_before and buffer_step_fraction are divided by."""
        return self.buffer_length or self.gen_length

    @property
    def num_blocks(self) -> int:
        return self.gen_length // self.block_length

    @property
    def top_is_eos(self) -> torch.Tensor:
        if self.eos_id is None:
            raise ValueError("the policy reads top_is_eos but the sampler was given no eos_id")
        return (self.top1 == self.eos_id) & self.masked


class Policy(Protocol):
    """Anything with ``select(obs) -> BoolTensor [rows, gen_length]`` (eligible positions only)."""

    def select(self, obs: Observation) -> torch.Tensor: ...


@dataclass
class GenerateOutput:
    tokens: torch.Tensor     # [batch, prompt + gen_length], the prompt followed by the decoded buffer
    nfe: torch.Tensor        # [batch] forward passes each row took
    fallbacks: torch.Tensor  # [batch] steps that were fallbacks
    unmasked_at_step: torch.Tensor  # [batch, gen_length] the (1-based) step that wrote each buffer position


def _call_model(model: MaskedLM, x: torch.Tensor, attention_mask: Optional[torch.Tensor]) -> torch.Tensor:
    out = model(x) if attention_mask is None else model(x, attention_mask=attention_mask)
    logits = getattr(out, "logits", out)  # a HuggingFace output object, or the tensor itself
    if not isinstance(logits, torch.Tensor) or logits.dim() != 3 or logits.shape[:2] != x.shape:
        raise ValueError(f"the model must return logits [batch, length, vocab] for input {tuple(x.shape)}, "
                         f"got {getattr(logits, 'shape', type(logits))}")
    return logits


@torch.no_grad()
def generate(model: MaskedLM, prompt: torch.Tensor, *, gen_length: int, block_length: int, policy: Policy,
             mask_id: int, eos_id: Optional[int] = None, attention_mask: Optional[torch.Tensor] = None,
             seed: int = 0, with_probs: bool = False,
             statistics: Callable[..., DllmStatistics] = statistics_from_logits) -> GenerateOutput:
    """Decodes ``prompt [batch, P]`` (int64) into ``gen_length`` positions.

    ``attention_mask [batch, P]`` (1 = real token, 0 = padding, as LLaDA's batched generate takes a
    left-padded prompt) is extended with ones over the buffer and passed to the model as
    ``model(x, attention_mask=...)``; without it the model is called as ``model(x)``.
    ``seed`` gives row ``i`` the random stream ``SplittableRandom(seed * 0x9E3779B97F4A7C15 + i)`` of the
    Java environment, used by sampled policies and the random rule only.
    ``statistics`` turns logits into what the policy reads (:func:`statistics_from_logits`; a replay of
    the Java fast engine passes :func:`unmask_torch.java_fast.java_statistics`).
    """
    if gen_length <= 0 or block_length <= 0 or gen_length % block_length:
        raise ValueError(f"block length {block_length} does not divide the buffer length {gen_length}")
    if prompt.dim() != 2:
        raise ValueError("prompt must be [batch, prompt_length]")
    batch, plen = prompt.shape
    x = torch.cat([prompt.long(), torch.full((batch, gen_length), mask_id, dtype=torch.long)], dim=1)
    full_mask = None
    if attention_mask is not None:
        full_mask = torch.cat([attention_mask.long(), torch.ones(batch, gen_length, dtype=torch.long)], dim=1)
    num_blocks = gen_length // block_length
    block_index = torch.zeros(batch, dtype=torch.long)
    step_in_block = torch.zeros(batch, dtype=torch.long)
    masked_at_block_start = torch.full((batch,), block_length, dtype=torch.long)
    steps = torch.zeros(batch, dtype=torch.long)
    fallbacks = torch.zeros(batch, dtype=torch.long)
    unmasked_at = torch.zeros(batch, gen_length, dtype=torch.long)
    rngs = [SplittableRandom(episode_seed(seed, i)) for i in range(batch)]
    kl_history = int(getattr(policy, "kl_history", 0) or 0)
    recent_kl = torch.full((batch, gen_length, kl_history), float("nan")) if kl_history else None
    last_probs: Optional[torch.Tensor] = None
    if kl_history:
        with_probs = True
    running = torch.ones(batch, dtype=torch.bool)
    positions = torch.arange(gen_length)
    while bool(running.any()):
        rows = running.nonzero().squeeze(1)
        xa = x[rows]
        logits = _call_model(model, xa, None if full_mask is None else full_mask[rows])[:, plen:]
        stats = statistics(logits, mask_id, with_probs)
        buffer = xa[:, plen:]
        masked = buffer == mask_id
        start = block_index[rows] * block_length
        in_block = (positions[None, :] >= start[:, None]) & (positions[None, :] < (start + block_length)[:, None])
        eligible = masked & in_block
        nan = torch.tensor(float("nan"))
        kl_now = None
        if kl_history:
            if last_probs is None:
                last_probs = torch.zeros(batch, gen_length, stats.probs.shape[-1])
                seen = torch.zeros(batch, gen_length, dtype=torch.bool)
            p = stats.probs.double()
            q = last_probs[rows].double().clamp_min(1e-12)
            terms = torch.where(p > 0, p * torch.log(p / q), torch.zeros((), dtype=torch.float64))
            kl = terms.sum(-1).clamp_min(0).float()
            update = masked & seen[rows]
            hist = recent_kl[rows]
            shifted = torch.cat([kl[..., None], hist[..., :-1]], -1)
            hist = torch.where(update[..., None], shifted, hist)
            recent_kl[rows] = hist
            last_probs[rows] = torch.where(masked[..., None], stats.probs, last_probs[rows])
            seen[rows] |= masked
            kl_now = hist.clone()
        obs = Observation(
            confidence=torch.where(masked, stats.confidence, nan), top2_prob=torch.where(masked, stats.top2_prob, nan),
            entropy=torch.where(masked, stats.entropy, nan), top1=torch.where(masked, stats.top1, torch.tensor(-1)),
            masked=masked, eligible=eligible, block_start=start, block_length=block_length, gen_length=gen_length,
            step_in_block=step_in_block[rows].clone(), masked_at_block_start=masked_at_block_start[rows].clone(),
            step=steps[rows].clone(), rngs=[rngs[int(r)] for r in rows], row_ids=rows, vocab_size=logits.shape[-1],
            eos_id=eos_id, probs=stats.probs, recent_kl=kl_now)
        action = policy.select(obs).bool()
        if action.shape != masked.shape:
            raise ValueError(f"policy returned {tuple(action.shape)} for {tuple(masked.shape)}")
        if bool((action & ~eligible).any()):
            r, i = (action & ~eligible).nonzero()[0].tolist()
            raise ValueError(f"row {int(rows[r])} step {int(steps[rows[r]]) + 1}: the policy selects buffer position {i}, which is not eligible")
        empty = ~action.any(1)
        if bool(empty.any()):
            conf = torch.where(eligible, obs.confidence, torch.tensor(float("-inf")))
            best = conf.argmax(1)  # first maximum: the lowest position on ties
            action[empty, best[empty]] = True
        fallbacks[rows] += (empty | obs.fallback_reported).long()
        new_buffer = torch.where(action, stats.top1, buffer)
        x[rows, plen:] = new_buffer
        steps[rows] += 1
        step_in_block[rows] += 1
        unmasked_at[rows] = torch.where(action, steps[rows][:, None], unmasked_at[rows])
        # advance every row past blocks with no mask left
        for k, r in enumerate(rows.tolist()):
            while int(block_index[r]) < num_blocks:
                s = int(block_index[r]) * block_length
                left = int((new_buffer[k, s:s + block_length] == mask_id).sum())
                if left > 0:
                    if int(step_in_block[r]) == 0:
                        masked_at_block_start[r] = left
                    break
                block_index[r] += 1
                step_in_block[r] = 0
            if int(block_index[r]) >= num_blocks:
                running[r] = False
    return GenerateOutput(x, steps, fallbacks, unmasked_at)


def prompts_tensor(encoded: Sequence[Sequence[int]]) -> torch.Tensor:
    """Equal-length encoded prompts as a ``[batch, P]`` tensor (the built-in tasks' prompts have one length each)."""
    lengths = {len(p) for p in encoded}
    if len(lengths) != 1:
        raise ValueError(f"prompts of different lengths {sorted(lengths)}: pad them and pass attention_mask")
    return torch.tensor([list(p) for p in encoded], dtype=torch.long)
