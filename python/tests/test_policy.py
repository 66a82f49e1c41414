import json

import pytest
import torch

from conftest import DATA, REPO
from helpers import chosen, observation
from unmask_torch.conformance import check
from unmask_torch.policy import LearnedPolicy, PolicyFormatError, feature_values, load_checkpoint


@pytest.mark.parametrize("export", ["sudoku-logodds", "ducci-t7-f32", "ducci-t7-knob"])
def test_the_exports_onnx_outputs_on_real_decoding_windows_are_reproduced(export):
    """test-vectors.safetensors: every step of real decoding, with ONNX Runtime's outputs (unmask export --test-vectors)."""
    c = check(DATA / export)
    assert c.windows > 100
    assert c.max_abs_prob_diff < 1e-5, c
    assert c.greedy_decisions_differ == 0 and c.fallbacks_differ == 0, c


def test_an_export_and_its_checkpoint_are_the_same_network():
    exported = LearnedPolicy.load(DATA / "sudoku-logodds")
    checkpoint = load_checkpoint(REPO / "results/policies/grpo-sudoku-full-logodds/policy")
    feats = torch.randn(3, 32, 1) * 4
    elig = torch.rand(3, 32) < 0.7
    assert torch.equal(exported.logits(feats, elig), checkpoint.logits(feats, elig))


def test_the_spec_carries_what_an_engine_needs():
    spec = json.loads((DATA / "ducci-t7-knob" / "policy-spec.json").read_text())
    assert spec["dllm"] == {"mask_id": 1, "eos_id": 2, "vocab_size": 32}
    assert spec["trained_block_length"] == 128 and spec["knob_range"] == [0.0, 12.0]
    assert spec["features"] == ["confidence_logodds", "mask_bit", "buffer_step_fraction", "masked_before", "knob"]
    assert "highest logit" in spec["decision"]
    with pytest.raises(ValueError, match="knob"):
        LearnedPolicy.load(DATA / "ducci-t7-knob")


def test_a_missing_spec_is_named(tmp_path):
    (tmp_path / "policy.safetensors").write_bytes((DATA / "sudoku-logodds" / "policy.safetensors").read_bytes())
    with pytest.raises(PolicyFormatError, match="policy-spec.json"):
        LearnedPolicy.load(tmp_path)


def test_features_follow_the_format_doc():
    # buffer of 6, block of 3 at 3..5; positions 0, 1 and 4 written
    obs = observation([0.5, 0.6, 0.9, 0.99, 0.3, 0.7], masked=[False, False, True, True, False, True], block_length=3,
                      step_in_block=1, step=4, top1=[3, 3, 2, 3, 3, 2], eos_id=2)
    obs.block_start = torch.tensor([3])
    obs.eligible = obs.masked & (torch.arange(6) >= 3)
    names = ["confidence", "confidence_logodds", "masked_fraction", "step_fraction", "mask_bit", "buffer_step_fraction",
             "masked_before", "knob", "top_is_eos"]
    block, elig = feature_values(names, obs, knob=2.5, whole_buffer=False)
    assert elig.tolist() == [[True, False, True]]
    f = block[0, 0].tolist()  # buffer position 3
    assert f[0] == pytest.approx(0.99) and f[1] == pytest.approx(4.59512, abs=1e-4)
    assert f[2:] == pytest.approx([2 / 3, 1 / 3, 1.0, 4 / 6, 1 / 6, 2.5, 0.0])
    assert block[0, 1].tolist() == [0.0] * 9, "not eligible: zeros in a block window"
    buffer, _ = feature_values(names, obs, knob=2.5, whole_buffer=True)
    assert buffer[0, 2, 8] == 1.0, "top_is_eos where the top token is EOS"
    assert buffer[0, 0, 0] == 0.0 and buffer[0, 0, 4] == 0.0 and buffer[0, 0, 7] == 2.5, "statistics 0 where written, the rest given"


class _Fixed(LearnedPolicy):
    def __init__(self, logits, mode="greedy", temperature=1.0):
        base = LearnedPolicy.load(DATA / "sudoku-logodds")
        super().__init__(base.w, base.spec, mode=mode, temperature=temperature)
        self.fixed = torch.tensor([logits])

    def logits(self, features, eligible):
        return torch.where(eligible, self.fixed, torch.tensor(float("-inf")))


def test_greedy_takes_p_at_least_one_half_and_falls_back_to_the_highest_logit_lowest_first():
    obs = observation([0.5] * 4)
    assert chosen(_Fixed([0.2, -1.0, 0.0, 3.0]).select(obs)) == [0, 2, 3]
    obs = observation([0.5] * 4)
    assert chosen(_Fixed([-3.0, -0.5, -0.5, -2.0]).select(obs)) == [1]
    assert obs.fallback_reported.tolist() == [True]


def test_sampling_draws_one_double_per_eligible_position_from_the_rows_stream():
    from unmask_torch.java_random import SplittableRandom
    logits = [0.3, -0.2, 1.5, 0.0]
    obs = observation([0.5] * 4, eligible=[True, False, True, True], seed=99)
    got = chosen(_Fixed(logits, mode="sample", temperature=0.5).select(obs))
    draws = SplittableRandom(99).next_doubles(3)
    p = [1 / (1 + torch.exp(torch.tensor(-z / 0.5, dtype=torch.float64)).item()) for z in (0.3, 1.5, 0.0)]
    expected = [j for j, u, pj in zip([0, 2, 3], draws, p) if u < pj] or None
    assert got == expected
