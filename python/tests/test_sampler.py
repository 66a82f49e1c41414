from types import SimpleNamespace

import pytest
import torch

from unmask_torch.heuristics import Threshold, TopK
from unmask_torch.sampler import generate

MASK, EOS, V = 1, 2, 8


class Toy(torch.nn.Module):
    """A masked LM that is sure of token 3 + (position % 4) at the first masked position and unsure elsewhere."""

    def __init__(self, hf_style=False):
        super().__init__()
        self.calls, self.hf_style, self.masks = 0, hf_style, []

    def forward(self, x, attention_mask=None):
        self.calls += 1
        self.masks.append(attention_mask)
        b, t = x.shape
        logits = torch.zeros(b, t, V)
        for r in range(b):
            first = (x[r] == MASK).nonzero()
            for i in range(t):
                logits[r, i, 3 + i % 4] = 10.0 if first.numel() and i == int(first[0]) else 1.0
            logits[r, :, MASK] = 20.0  # the mask token is never the answer
        return SimpleNamespace(logits=logits) if self.hf_style else logits


def test_one_forward_per_step_and_the_left_to_right_order_of_a_confident_frontier():
    model = Toy()
    prompt = torch.tensor([[4, 5], [6, 7]])
    out = generate(model, prompt, gen_length=6, block_length=6, policy=Threshold(0.9), mask_id=MASK, eos_id=EOS)
    assert out.nfe.tolist() == [6, 6], "only the frontier token is confident: one token a step"
    assert model.calls == 6
    assert out.tokens[0, 2:].tolist() == [3 + i % 4 for i in range(2, 8)]
    assert out.unmasked_at_step[0].tolist() == [1, 2, 3, 4, 5, 6]
    assert out.fallbacks.tolist() == [0, 0]


def test_blocks_run_left_to_right_and_a_fixed_budget_spends_its_steps():
    model = Toy(hf_style=True)
    out = generate(model, torch.tensor([[4]]), gen_length=8, block_length=4, policy=TopK(4), mask_id=MASK, eos_id=EOS,
                   attention_mask=torch.tensor([[1]]))
    assert out.nfe.tolist() == [4], "4 steps over 2 blocks: 2 per block"
    steps = out.unmasked_at_step[0].tolist()
    assert max(steps[:4]) <= 2 and min(steps[4:]) >= 3, "the second block starts after the first is done"
    assert model.masks[0].tolist() == [[1] * 9], "the prompt's attention mask is extended over the buffer"


def test_an_empty_choice_gets_the_counted_fallback():
    class Nothing:
        def select(self, obs):
            return torch.zeros_like(obs.eligible)

    out = generate(Toy(), torch.tensor([[4]]), gen_length=3, block_length=3, policy=Nothing(), mask_id=MASK)
    assert out.nfe.tolist() == [3] and out.fallbacks.tolist() == [3]


def test_a_choice_outside_the_active_block_is_refused():
    class Greedy:
        def select(self, obs):
            return obs.masked

    with pytest.raises(ValueError, match="not eligible"):
        generate(Toy(), torch.tensor([[4]]), gen_length=4, block_length=2, policy=Greedy(), mask_id=MASK)


def test_rows_finish_on_their_own_and_leave_the_batch():
    class FastForRowZero:
        def select(self, obs):
            take = torch.zeros_like(obs.eligible)
            for r in range(obs.rows):
                if int(obs.row_ids[r]) == 0:
                    take[r] = obs.eligible[r]
            return take

    model = Toy()
    out = generate(model, torch.tensor([[4], [5]]), gen_length=4, block_length=4, policy=FastForRowZero(), mask_id=MASK)
    assert out.nfe.tolist() == [1, 4]
    assert model.calls == 4
