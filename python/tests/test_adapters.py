"""The engine adapters against minimal stand-ins of the engines' base classes (neither engine installs here).

The stand-ins keep the upstream signatures and loops: dInfer's ParallelDecoder (block_init, decode with
the block's logits and the whole sequence written in place) and SGLang's DllmAlgorithm (run: a forward,
then step / forward until every block reports done, input_ids rewritten in place)."""
import importlib
import sys
import types
from types import SimpleNamespace

import pytest
import torch

from conftest import DATA, REPO
from unmask_torch import BuiltinDllm, LearnedPolicy, Threshold, generate
from unmask_torch.sampler import prompts_tensor
from unmask_torch.tasks import task_by_name


class _ParallelDecoder:  # dinfer/decoding/parallel_strategy.py
    def __init__(self, temperature, remasking="low_confidence", mask_id=126336):
        self.temperature, self.remasking, self.mask_id = temperature, remasking, mask_id

    def block_init(self, block_x, block_id):
        pass

    def decode(self, logits, block_start, block_end, x):
        raise NotImplementedError


class _DllmAlgorithm:  # sglang/srt/dllm/algorithm/base.py (the synchronous loop)
    def __init__(self, config):
        self.block_size, self.mask_id = config.block_size, config.mask_id

    def init_step_state(self, forward_batch):
        return [None] * forward_batch.batch_size

    def max_steps(self, block_size):
        return block_size + 1

    def run(self, model_runner, forward_batch):
        states = self.init_step_state(forward_batch)
        out = model_runner.forward(forward_batch)
        for _ in range(self.max_steps(self.block_size)):
            if all(self.step(forward_batch, out, states)):
                break
            out = model_runner.forward(forward_batch)
        return forward_batch.input_ids.view(forward_batch.batch_size, self.block_size)


def _install(name, **attrs):
    parts = name.split(".")
    for i in range(1, len(parts) + 1):
        sys.modules.setdefault(".".join(parts[:i]), types.ModuleType(".".join(parts[:i])))
    for k, v in attrs.items():
        setattr(sys.modules[name], k, v)


@pytest.fixture(scope="module")
def engines():
    _install("dinfer.decoding.parallel_strategy", ParallelDecoder=_ParallelDecoder)
    _install("sglang.srt.dllm.algorithm.base", DllmAlgorithm=_DllmAlgorithm)
    dinfer = importlib.import_module("unmask_torch.adapters.dinfer")
    sglang = importlib.import_module("unmask_torch.adapters.sglang")
    yield dinfer, sglang
    for m in [m for m in sys.modules if m.split(".")[0] in ("dinfer", "sglang") or m.startswith("unmask_torch.adapters.")]:
        if m != "unmask_torch.adapters.block":
            del sys.modules[m]


@pytest.fixture(scope="module")
def sudoku():
    dllm = BuiltinDllm(REPO / "models/dllm-a")
    examples = task_by_name("sudoku").dataset("test", 2, 24)
    return dllm, prompts_tensor([dllm.vocab.encode(e.prompt) for e in examples])


def _dinfer_generate(model, prompt, decoder, gen_length, block_length, mask_id):
    """dInfer's block loop: one forward per decode call, the block's logits handed to the decoder."""
    x = torch.cat([prompt, torch.full((prompt.shape[0], gen_length), mask_id)], 1)
    start = prompt.shape[1]
    for b in range(gen_length // block_length):
        s, e = start + b * block_length, start + (b + 1) * block_length
        decoder.block_init(x[:, s:e], b)
        while bool((x[:, s:e] == mask_id).any()):
            decoder.decode(model(x)[:, s:e], s, e, x)
    return x


@pytest.mark.parametrize("block_length", [8, 32])
def test_the_dinfer_decoder_decodes_as_the_reference_sampler(engines, sudoku, block_length):
    dinfer, _ = engines
    dllm, prompt = sudoku
    policy = LearnedPolicy.load(DATA / "sudoku-logodds")
    decoder = dinfer.PolicyParallelDecoder(policy, gen_length=32, mask_id=dllm.vocab.mask_id, eos_id=dllm.vocab.eos_id)
    assert isinstance(decoder, _ParallelDecoder)
    x = _dinfer_generate(dllm, prompt, decoder, 32, block_length, dllm.vocab.mask_id)
    ref = generate(dllm, prompt, gen_length=32, block_length=block_length, policy=policy, mask_id=dllm.vocab.mask_id,
                   eos_id=dllm.vocab.eos_id)
    # dInfer's loop skips rows whose block is done only when every row is: rows it leaves alone are not counted
    assert torch.equal(x, ref.tokens)
    assert decoder.nfe.tolist() == ref.nfe.tolist() and decoder.fallbacks.tolist() == ref.fallbacks.tolist()


def test_the_sglang_algorithm_rewrites_the_block_as_the_reference_sampler(engines, sudoku):
    _, sglang = engines
    dllm, prompt = sudoku
    mask = dllm.vocab.mask_id
    config = SimpleNamespace(block_size=32, mask_id=mask, algorithm_config={"policy_path": str(DATA / "sudoku-logodds")})
    algo = sglang.Algorithm(config)
    assert isinstance(algo, _DllmAlgorithm)
    batch = SimpleNamespace(batch_size=prompt.shape[0], input_ids=torch.full((prompt.shape[0] * 32,), mask))
    runner = SimpleNamespace(forward=lambda fb: dllm(torch.cat([prompt, fb.input_ids.view(fb.batch_size, 32)], 1))[:, -32:].reshape(-1, dllm.vocab_size))
    ids_tensor = batch.input_ids
    out = algo.run(runner, batch)
    assert batch.input_ids is ids_tensor, "rewritten in place"
    ref = generate(dllm, prompt, gen_length=32, block_length=32, policy=LearnedPolicy.load(DATA / "sudoku-logodds"),
                   mask_id=mask, eos_id=dllm.vocab.eos_id)
    assert torch.equal(out, ref.tokens[:, -32:])
    assert algo.stepper.nfe.tolist() == ref.nfe.tolist()


def test_a_published_rule_runs_through_the_same_adapter(engines, sudoku):
    _, sglang = engines
    dllm, prompt = sudoku
    config = SimpleNamespace(block_size=32, mask_id=dllm.vocab.mask_id, algorithm_config={"rule": "threshold:tau=0.9"})
    algo = sglang.Algorithm(config)
    batch = SimpleNamespace(batch_size=prompt.shape[0], input_ids=torch.full((prompt.shape[0] * 32,), dllm.vocab.mask_id))
    runner = SimpleNamespace(forward=lambda fb: dllm(torch.cat([prompt, fb.input_ids.view(fb.batch_size, 32)], 1))[:, -32:].reshape(-1, dllm.vocab_size))
    out = algo.run(runner, batch)
    ref = generate(dllm, prompt, gen_length=32, block_length=32, policy=Threshold(0.9), mask_id=dllm.vocab.mask_id)
    assert torch.equal(out, ref.tokens[:, -32:])


def test_what_an_engine_cannot_supply_is_refused_in_one_line(engines):
    _, sglang = engines
    with pytest.raises(ValueError, match="whole buffer"):
        sglang.Algorithm(SimpleNamespace(block_size=32, mask_id=1, algorithm_config={"policy_path": str(DATA / "ducci-t7-f32")}))
    with pytest.raises(ValueError, match="policy_path"):
        sglang.Algorithm(SimpleNamespace(block_size=32, mask_id=1, algorithm_config={}))
    with pytest.raises(ValueError, match="not one of the ported rules"):
        sglang.Algorithm(SimpleNamespace(block_size=32, mask_id=1, algorithm_config={"rule": "nosuchrule:x=1"}))
    with pytest.raises(ValueError, match="klass needs every position's distribution"):
        sglang.Algorithm(SimpleNamespace(block_size=32, mask_id=1, algorithm_config={"rule": "klass"}))
