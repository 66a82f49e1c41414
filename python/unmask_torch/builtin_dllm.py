"""The project's built-in dLLM (``models/dllm-*``) in PyTorch: the same network as
``dev.unmask.dllm.BuiltinDllm`` (token + learned position embeddings, pre-LN bidirectional encoder
layers with optional rotary positions, final LayerNorm, linear head), read from the checkpoint's
``config.json``, ``vocab.json`` and ``weights.safetensors``.

It is a masked LM in the shape every engine expects: ``model(ids) -> logits [batch, length, vocab]``.
"""
from __future__ import annotations

import json
import math
from pathlib import Path
from typing import Optional

import torch

from .safetensors_io import read_safetensors
from .statistics import DllmStatistics, statistics_from_logits

LN_EPS = 1e-5
GELU_SIGMOID_SCALE = 1.702
ROPE_BASE = 10000.0


class Vocabulary:
    """Tokens with the mask, EOS and padding ids. ``<name>`` tokens are single tokens, anything else one per character."""

    def __init__(self, tokens: list[str], mask: str, eos: str, pad: str) -> None:
        self.tokens = list(tokens)
        self.ids = {t: i for i, t in enumerate(self.tokens)}
        if len(self.ids) != len(self.tokens):
            raise ValueError("vocabulary lists a token twice")
        self.mask_id, self.eos_id, self.pad_id = self.ids[mask], self.ids[eos], self.ids[pad]

    @classmethod
    def load(cls, path: str | Path) -> "Vocabulary":
        v = json.loads(Path(path).read_text())
        return cls(v["tokens"], v["mask"], v["eos"], v["pad"])

    def __len__(self) -> int:
        return len(self.tokens)

    def encode(self, text: str) -> list[int]:
        out, i = [], 0
        while i < len(text):
            if text[i] == "<":
                close = text.find(">", i)
                if close > i + 1 and text[i:close + 1] in self.ids:
                    out.append(self.ids[text[i:close + 1]])
                    i = close + 1
                    continue
            if text[i] not in self.ids:
                raise ValueError(f"character '{text[i]}' at offset {i} of \"{text}\" is not in the vocabulary")
            out.append(self.ids[text[i]])
            i += 1
        return out


def layer_norm(x: torch.Tensor, gain: torch.Tensor, bias: torch.Tensor, eps: float = LN_EPS) -> torch.Tensor:
    """LayerNorm over the last axis with the population variance, spelled out as the Java graph does."""
    centred = x - x.mean(-1, keepdim=True)
    var = (centred * centred).mean(-1, keepdim=True)
    return centred / torch.sqrt(var + eps) * gain + bias


def gelu_sigmoid(x: torch.Tensor) -> torch.Tensor:
    """GELU in its sigmoid form x * sigmoid(1.702 x) (not the erf form)."""
    return x * torch.sigmoid(x * GELU_SIGMOID_SCALE)


class BuiltinDllm(torch.nn.Module):
    """A built-in checkpoint folder as a PyTorch masked LM (float32, inference only)."""

    def __init__(self, folder: str | Path) -> None:
        super().__init__()
        folder = Path(folder)
        self.folder = folder
        cfg = json.loads((folder / "config.json").read_text())
        self.d_model, self.layers, self.heads = cfg["dModel"], cfg["layers"], cfg["heads"]
        self.max_length = cfg["maxLength"]
        self.rotary = bool(cfg.get("rotary", False))
        self.rotary_only = bool(cfg.get("rotaryOnly", False))
        self.vocab = Vocabulary.load(folder / "vocab.json")
        weights, _ = read_safetensors(folder / "weights.safetensors")
        self.w = {k: v.float() for k, v in weights.items()}
        if self.w["embed.tokens"].shape[0] != len(self.vocab):
            raise ValueError(f"{folder}: embed.tokens has {self.w['embed.tokens'].shape[0]} rows for a vocabulary of {len(self.vocab)}")
        d, h = self.d_model, self.heads
        dh = d // h
        if self.rotary:
            half = dh // 2
            self.inv_freq = torch.tensor([ROPE_BASE ** (-2.0 * ((c % dh) % half) / dh) for c in range(d)], dtype=torch.float32)
            perm, sign = [], []
            for c in range(d):  # rotate_half(x)[c] = sign[c] * x[perm[c]] inside each head
                o, j = c // dh * dh, c % dh
                perm.append(o + j + half if j < half else o + j - half)
                sign.append(-1.0 if j < half else 1.0)
            self.rot_perm = torch.tensor(perm)
            self.rot_sign = torch.tensor(sign, dtype=torch.float32)

    @property
    def vocab_size(self) -> int:
        return len(self.vocab)

    def statistics(self, logits: torch.Tensor, mask_id: Optional[int], with_probs: bool = False) -> DllmStatistics:
        """What a policy reads from this model's logits, computed as the Java engine this port stands for does
        (here: as the ONNX statistics head, :func:`statistics_from_logits`); pass it to ``generate(statistics=)``."""
        return statistics_from_logits(logits, mask_id, with_probs)

    def _linear(self, x: torch.Tensor, name: str) -> torch.Tensor:
        return x @ self.w[name + ".weight"] + self.w[name + ".bias"]

    def _ln(self, x: torch.Tensor, name: str) -> torch.Tensor:
        return layer_norm(x, self.w[name + ".gain"], self.w[name + ".bias"])

    @torch.no_grad()
    def forward(self, ids: torch.Tensor, attention_mask: Optional[torch.Tensor] = None) -> torch.Tensor:
        """ids [batch, length] (int) -> logits [batch, length, vocab]; attention_mask 1 on real tokens, 0 on right padding."""
        b, t = ids.shape
        if t > self.max_length:
            raise ValueError(f"sequence of {t} tokens exceeds the model's maximum length {self.max_length}")
        d, h = self.d_model, self.heads
        dh = d // h
        x = self.w["embed.tokens"][ids.long()]
        positions = torch.arange(t)
        if not self.rotary_only:
            x = x + self.w["embed.positions"][positions]
        if self.rotary:
            angles = positions.to(torch.float32)[:, None] * self.inv_freq[None, :]
            cos, sin = torch.cos(angles), torch.sin(angles)
        key_bias = None
        if attention_mask is not None:
            key_bias = torch.where(attention_mask.bool()[:, None, None, :], torch.tensor(0.0), torch.tensor(-1e9))
        for layer in range(self.layers):
            p = f"layer{layer}"
            hn = self._ln(x, p + ".ln1")
            q, k, v = (self._linear(hn, f"{p}.attn.{n}") for n in "qkv")
            if self.rotary:
                q = q * cos + q[..., self.rot_perm] * self.rot_sign * sin
                k = k * cos + k[..., self.rot_perm] * self.rot_sign * sin
            q, k, v = (z.reshape(b, t, h, dh).permute(0, 2, 1, 3) for z in (q, k, v))
            scores = q @ k.transpose(-1, -2) * (1.0 / math.sqrt(dh))
            if key_bias is not None:
                scores = scores + key_bias
            ctx = torch.softmax(scores, -1) @ v
            x = x + self._linear(ctx.permute(0, 2, 1, 3).reshape(b, t, d), p + ".attn.out")
            x = x + self._linear(gelu_sigmoid(self._linear(self._ln(x, p + ".ln2"), p + ".mlp.in")), p + ".mlp.out")
        return self._linear(self._ln(x, "final_ln"), "head")
