"""The Java fast engine's arithmetic, operation for operation, so a replay can match its confidences bit for bit.

:class:`~unmask_torch.builtin_dllm.BuiltinDllm` computes the built-in dLLM the way PyTorch does
(``torch.softmax``, ``layer_norm`` spelled out with ``mean``): correct to float rounding, but a
policy that reads the log-odds of near-certain confidences over a whole buffer turns one-ulp
differences into decisions a step apart (results/python-replay/trace/). The Java side's
``--dllm-engine fast`` (``dev.unmask.dllm.FastDllm``) is plain float code around OpenBLAS
``sgemm``; this module repeats it exactly:

* matrix products through the same ``sgemm`` (PyTorch's 2-D ``mm`` on OpenBLAS; the Haswell kernels of
  OpenBLAS 0.3.19 (ND4J's) and 0.3.21 (Debian's) give identical bits, each output a sequential sum);
* sums in four running sums, ``(s0 + s1) + (s2 + s3)`` (``FloatKernels.sum`` / ``dot``);
* ``exp`` as ``FloatKernels.exp``: the Cephes polynomial with Cody-Waite reduction, 2^k built from bits;
* the statistics as ``Predictions.fromLogits``: ``exp`` of the float difference in double, a
  sequential double sum, ``p = (float) (e / sum)``.

Every step is one IEEE float32 (or float64) operation, which PyTorch's CPU kernels round exactly as
Java does (Java never fuses a multiply and an add). Slower than :class:`BuiltinDllm` (Python loops
over the running sums); use it to check a port, not to serve.
"""
from __future__ import annotations

import ctypes
from typing import Optional

import torch

from .builtin_dllm import BuiltinDllm
from .statistics import DllmStatistics

_F = torch.float32


def openblas_threads(n: int) -> Optional[str]:
    """Runs PyTorch's BLAS on ``n`` threads and returns its ``openblas_get_config()``; None when it is not OpenBLAS.

    OpenBLAS's sgemm rounds differently with one thread and with several, so a replay runs it on as
    many as the Java run's OpenBLAS had (``OMP_NUM_THREADS`` in the run's manifest; ``./unmask`` sets 1).
    """
    for name in ("libblas.so.3", "libopenblas.so.0"):
        try:
            lib = ctypes.CDLL(name)
        except OSError:
            continue
        if hasattr(lib, "openblas_set_num_threads") and hasattr(lib, "openblas_get_config"):
            lib.openblas_set_num_threads(int(n))
            lib.openblas_get_config.restype = ctypes.c_char_p
            return lib.openblas_get_config().decode()
    return None


def _c(v: float) -> torch.Tensor:
    """A float32 constant, so no operation sees a double scalar."""
    return torch.tensor(v, dtype=_F)


_LOG2E, _LN2_HI, _LN2_LO = _c(1.44269504088896341), _c(0.693359375), _c(-2.12194440e-4)
_ROUNDER = _c(12582912.0)
_EXP_MIN, _EXP_MAX = _c(-87.0), _c(88.0)
_POLY = [_c(v) for v in (1.9875691500e-4, 1.3981999507e-3, 8.3334519073e-3, 4.1665795894e-2, 1.6666665459e-1, 5.0000001201e-1)]
_ONE = _c(1.0)
_LN_EPS = _c(1e-5)
_GELU_SCALE = _c(1.702)


def java_exp(x: torch.Tensor, chunk: int = 1 << 15) -> torch.Tensor:
    """``FloatKernels.exp``, element by element (float32), in chunks that stay in cache (whole attention blocks ran many times slower)."""
    if x.numel() <= chunk:
        return _java_exp(x)
    out = torch.empty(x.shape, dtype=_F)
    flat, o = x.reshape(-1), out.view(-1)
    for s in range(0, flat.numel(), chunk):
        o[s:s + chunk] = _java_exp(flat[s:s + chunk])
    return out


def _java_exp(x: torch.Tensor) -> torch.Tensor:
    v = torch.minimum(torch.maximum(x, _EXP_MIN), _EXP_MAX)
    t = v * _LOG2E + _ROUNDER
    k = t - _ROUNDER  # round(v / ln 2), an integer in [-126, 127]
    r = v - k * _LN2_HI - k * _LN2_LO
    p = _POLY[0].expand_as(r)
    for c in _POLY[1:]:
        p = p * r + c
    y = p * r * r + r + _ONE
    two_k = ((k.to(torch.int32) + 127) * (1 << 23)).view(_F)  # 2^k from its exponent bits, as Java's shift does
    return y * two_k


def sum4(x: torch.Tensor) -> torch.Tensor:
    """Sum over the last axis in four running sums, as ``FloatKernels.sum`` adds."""
    n = x.shape[-1]
    whole = n - n % 4
    acc = torch.zeros(x.shape[:-1] + (4,), dtype=_F)
    for i in range(0, whole, 4):
        acc = acc + x[..., i:i + 4]
    s0 = acc[..., 0]
    for i in range(whole, n):
        s0 = s0 + x[..., i]
    return (s0 + acc[..., 1]) + (acc[..., 2] + acc[..., 3])


def layer_norm_row(x: torch.Tensor, gain: torch.Tensor, bias: torch.Tensor) -> torch.Tensor:
    """``TransformerKernels.layerNormRow``: mean and variance in four running sums, divided by std."""
    d = _c(float(x.shape[-1]))
    mean = sum4(x) / d
    centred = x - mean[..., None]
    var = sum4(centred * centred) / d
    std = torch.sqrt(var + _LN_EPS)
    xhat = centred / std[..., None]
    return xhat * gain + bias


def softmax_rows(scores: torch.Tensor) -> torch.Tensor:
    """``FloatKernels.softmaxRows`` over the last axis (no padded keys): exp(x - max), times 1 / sum."""
    e = java_exp(scores - scores.amax(-1, keepdim=True))
    inv = _ONE / sum4(e)
    return e * inv[..., None]


def gelu(u: torch.Tensor) -> torch.Tensor:
    """``TransformerKernels.gelu``: u * 1 / (1 + exp(-(u * 1.702)))."""
    sig = _ONE / (_ONE + java_exp(-(u * _GELU_SCALE)))
    return u * sig


def _mm(a: torch.Tensor, b: torch.Tensor) -> torch.Tensor:
    """[..., m, k] x [k, n] as one 2-D sgemm (rows folded), as ``Blas.gemm`` runs it."""
    return torch.mm(a.reshape(-1, a.shape[-1]), b).reshape(a.shape[:-1] + (b.shape[-1],))


class FastEngineDllm(BuiltinDllm):
    """A built-in checkpoint computed as ``--dllm-engine fast`` computes it (float32, inference only)."""

    @torch.no_grad()
    def forward(self, ids: torch.Tensor, attention_mask: Optional[torch.Tensor] = None) -> torch.Tensor:
        if attention_mask is not None and not bool(attention_mask.bool().all()):
            raise ValueError("the fast engine's replica takes equal-length rows (no padding)")
        b, t = ids.shape
        if t > self.max_length:
            raise ValueError(f"sequence of {t} tokens exceeds the model's maximum length {self.max_length}")
        d, h = self.d_model, self.heads
        dh = d // h
        w = self.w
        x = w["embed.tokens"][ids.long()]
        if not self.rotary_only:
            x = x + w["embed.positions"][:t]
        if self.rotary:
            cos, sin = self._rotary_tables(t)
        scale = torch.tensor(1.0 / (dh ** 0.5), dtype=torch.float64).to(_F)
        for layer in range(self.layers):
            p = f"layer{layer}"
            hn = layer_norm_row(x, w[p + ".ln1.gain"], w[p + ".ln1.bias"])
            q, k, v = (_mm(hn, w[f"{p}.attn.{n}.weight"]) + w[f"{p}.attn.{n}.bias"] for n in "qkv")
            if self.rotary:
                q = q * cos + q[..., self.rot_perm] * self.rot_sign * sin
                k = k * cos + k[..., self.rot_perm] * self.rot_sign * sin
            q4, k4, v4 = (z.reshape(b, t, h, dh).permute(0, 2, 1, 3) for z in (q, k, v))
            # one sgemm per row and head, as FastDllm's loop (batched matmul gives the same bits: each output is its own sum)
            probs = softmax_rows(torch.matmul(q4, k4.transpose(-1, -2)) * scale)
            ctx = torch.matmul(probs, v4).permute(0, 2, 1, 3).reshape(b, t, d)
            x = x + (_mm(ctx, w[p + ".attn.out.weight"]) + w[p + ".attn.out.bias"])
            h2 = layer_norm_row(x, w[p + ".ln2.gain"], w[p + ".ln2.bias"])
            g = gelu(_mm(h2, w[p + ".mlp.in.weight"]) + w[p + ".mlp.in.bias"])
            x = x + (_mm(g, w[p + ".mlp.out.weight"]) + w[p + ".mlp.out.bias"])
        hf = layer_norm_row(x, w["final_ln.gain"], w["final_ln.bias"])
        return _mm(hf, w["head.weight"]) + w["head.bias"]

    def statistics(self, logits: torch.Tensor, mask_id: Optional[int], with_probs: bool = False) -> DllmStatistics:
        """As ``Predictions.fromLogits``, which the fast engine's statistics come from (:func:`java_statistics`)."""
        return java_statistics(logits, mask_id, with_probs)

    def _rotary_tables(self, t: int) -> tuple[torch.Tensor, torch.Tensor]:
        """cos and sin of the float angle p * freq, each taken in double and rounded to float, as FastDllm's tables."""
        angles = torch.arange(t, dtype=_F)[:, None] * self.inv_freq[None, :]
        a = angles.double()
        return torch.cos(a).to(_F), torch.sin(a).to(_F)


def java_statistics(logits: torch.Tensor, mask_id: Optional[int], with_probs: bool = False) -> DllmStatistics:
    """``Predictions.fromLogits`` exactly: exp of the float difference in double, a sequential double sum, float probabilities."""
    z = logits.float()
    diff = z - z.amax(-1, keepdim=True)
    e = torch.exp(diff.double()).to(_F)
    vocab = z.shape[-1]
    total = torch.zeros(z.shape[:-1], dtype=torch.float64)
    for v in range(vocab):
        total = total + e[..., v].double()
    probs = (e.double() / total[..., None]).to(_F)
    ranked = probs.clone()
    if mask_id is not None and 0 <= mask_id < vocab:
        ranked[..., mask_id] = -1.0
    top1 = ranked.argmax(-1)  # first maximum: the lowest id on ties, as the strict > in Java
    conf = ranked.gather(-1, top1.unsqueeze(-1)).squeeze(-1)
    ranked.scatter_(-1, top1.unsqueeze(-1), -1.0)
    top2 = ranked.max(-1).values.clamp_min(0.0)
    pd = probs.double()
    h = torch.zeros(z.shape[:-1], dtype=torch.float64)
    for v in range(vocab):
        pv = pd[..., v]
        h = h - torch.where(pv > 0, pv * torch.log(torch.where(pv > 0, pv, torch.ones_like(pv))), torch.zeros_like(pv))
    return DllmStatistics(top1, conf, top2, h.to(_F), probs if with_probs else None)
