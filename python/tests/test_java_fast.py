"""The fast engine's replica against the Java engine's committed statistics (data/fast-engine-vectors.json).

The file is written and kept true to ``FastDllm`` by the Java test ``FastEngineVectorsTest``: a change
of either side's arithmetic fails one of the two.
"""
import json
import struct
from pathlib import Path

import pytest
import torch

from conftest import DATA, REPO
from unmask_torch.builtin_dllm import BuiltinDllm
from unmask_torch.java_fast import FastEngineDllm, java_exp, java_statistics, openblas_threads, sum4
from unmask_torch.statistics import statistics_from_logits

VECTORS = json.loads((DATA / "fast-engine-vectors.json").read_text())


def _float(bits: int) -> float:
    return struct.unpack("<f", struct.pack("<i", bits))[0]


def _cpu() -> str:
    """As FastEngineVectorsTest.cpu(): the model name, and ", avx512f" where the CPU has it."""
    try:
        info = Path("/proc/cpuinfo").read_text()
    except OSError:
        return "?"
    model = next((l.split(":", 1)[1].strip() for l in info.splitlines() if l.startswith("model name")), "?")
    return model + (", avx512f" if " avx512f" in info else "")


def _replica_statistics(model: str, tokens: list[int]):
    dllm = FastEngineDllm(REPO / "models" / model)
    ids = torch.tensor([tokens])
    return dllm, java_statistics(dllm(ids), dllm.vocab.mask_id)


@pytest.mark.parametrize("entry", VECTORS["models"], ids=lambda e: e["model"])
def test_the_replica_gives_the_java_fast_engines_bits(entry):
    blas = openblas_threads(1)
    if blas is None:
        pytest.skip("PyTorch's BLAS is not OpenBLAS: the replica matches Java's sgemm only on OpenBLAS")
    exact = VECTORS["cpu"] == _cpu()
    checked = 0
    for row in entry["rows"]:
        dllm, st = _replica_statistics(entry["model"], row["tokens"])
        masked = [i for i, t in enumerate(row["tokens"]) if t == dllm.vocab.mask_id]
        assert len(masked) == len(row["top1"])
        conf = st.confidence[0, masked]
        ent = st.entropy[0, masked]
        want_conf = torch.tensor([_float(b) for b in row["confidence_bits"]])
        want_ent = torch.tensor([_float(b) for b in row["entropy_bits"]])
        assert st.top1[0, masked].tolist() == row["top1"]
        if exact:
            assert torch.equal(conf, want_conf), f"{(conf != want_conf).sum()} of {len(masked)} confidences differ"
            assert torch.equal(ent, want_ent), f"{(ent != want_ent).sum()} of {len(masked)} entropies differ"
        else:
            torch.testing.assert_close(conf, want_conf, rtol=0, atol=1e-5)
            torch.testing.assert_close(ent, want_ent, rtol=0, atol=1e-4)
        checked += len(masked)
    assert checked >= 50


def test_plain_pytorch_arithmetic_is_not_bit_exact_which_is_why_the_replica_exists():
    """The same network in PyTorch's own arithmetic agrees to rounding but not bit for bit (so the test above can fail)."""
    if openblas_threads(1) is None:
        pytest.skip("needs OpenBLAS")
    entry = VECTORS["models"][0]
    row = entry["rows"][0]
    plain = BuiltinDllm(REPO / "models" / entry["model"])
    st = statistics_from_logits(plain(torch.tensor([row["tokens"]])), plain.vocab.mask_id)
    masked = [i for i, t in enumerate(row["tokens"]) if t == plain.vocab.mask_id]
    want = torch.tensor([_float(b) for b in row["confidence_bits"]])
    torch.testing.assert_close(st.confidence[0, masked], want, rtol=0, atol=1e-4)
    assert not torch.equal(st.confidence[0, masked], want)


def test_sum4_adds_in_four_running_sums_like_java():
    # lanes: s0 = 1e8 + -1e8 = 0, s1 = 1 + 1 = 2, s2 = 0.5, s3 = 0.25; then (s0 + s1) + (s2 + s3) = 2.75
    # a sequential sum gives ((1e8 + 1) + 0.5 + 0.25 - 1e8 + 1) = 1 in float32 (the small terms vanish in 1e8)
    x = torch.tensor([[1e8, 1.0, 0.5, 0.25, -1e8, 1.0, 0.0, 0.0]], dtype=torch.float32)
    assert sum4(x).item() == 2.75
    # a remainder past the last group of four joins the first running sum
    assert sum4(torch.tensor([[1.0, 2.0, 3.0, 4.0, 5.0]])).item() == 15.0


def test_java_exp_is_within_its_stated_error_and_clamps():
    x = torch.linspace(-80, 80, 10001, dtype=torch.float32)
    rel = ((java_exp(x).double() - torch.exp(x.double())) / torch.exp(x.double())).abs().max().item()
    assert rel < 2e-7
    assert java_exp(torch.tensor([-1000.0])).item() == java_exp(torch.tensor([-87.0])).item()
    # chunked and unchunked give the same bits
    big = torch.randn(100_000) * 20
    assert torch.equal(java_exp(big), torch.cat([java_exp(big[i:i + 1000]) for i in range(0, 100_000, 1000)]))
