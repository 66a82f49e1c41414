"""Reads the safetensors format (8-byte header length, JSON header, raw little-endian data) into
torch tensors, without the ``safetensors`` package."""
from __future__ import annotations

import json
import struct
from pathlib import Path

import torch

_DTYPES = {"F32": torch.float32, "F16": torch.float16, "BF16": torch.bfloat16, "F64": torch.float64,
           "I64": torch.int64, "I32": torch.int32}


class SafetensorsError(ValueError):
    """A file that is not valid safetensors; the message names the file."""


def read_safetensors(path: str | Path) -> tuple[dict[str, torch.Tensor], dict[str, str]]:
    """The tensors of a safetensors file by name, and its ``__metadata__`` (empty when absent)."""
    path = Path(path)
    raw = path.read_bytes()
    if len(raw) < 8:
        raise SafetensorsError(f"{path}: too short to be a safetensors file")
    (n,) = struct.unpack("<Q", raw[:8])
    if 8 + n > len(raw):
        raise SafetensorsError(f"{path}: header length {n} runs past the end of the file")
    try:
        header = json.loads(raw[8:8 + n])
    except ValueError as e:
        raise SafetensorsError(f"{path}: header is not JSON ({e})") from None
    data = raw[8 + n:]
    tensors: dict[str, torch.Tensor] = {}
    metadata = header.pop("__metadata__", {}) or {}
    for name, entry in header.items():
        dtype = _DTYPES.get(entry.get("dtype"))
        if dtype is None:
            raise SafetensorsError(f"{path}: tensor {name} has unsupported dtype {entry.get('dtype')}")
        start, end = entry["data_offsets"]
        if end > len(data) or start > end:
            raise SafetensorsError(f"{path}: tensor {name} lies outside the data section")
        t = torch.frombuffer(bytearray(data[start:end]), dtype=dtype) if end > start else torch.empty(0, dtype=dtype)
        shape = entry["shape"]
        expected = 1
        for s in shape:
            expected *= s
        if t.numel() != expected:
            raise SafetensorsError(f"{path}: tensor {name} holds {t.numel()} values for shape {shape}")
        tensors[name] = t.reshape(shape)
    return tensors, dict(metadata)
