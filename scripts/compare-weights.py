#!/usr/bin/env python3
"""Largest difference between two policies' weights, per tensor, relative to the tensor's largest entry.

Usage: python3 scripts/compare-weights.py A/policy.safetensors B/policy.safetensors
Reads float32 safetensors with the standard library only; exit 2 on a missing file or tensors that do not match.
"""
import json
import struct
import sys
from array import array


def fail(message):
    print(f"compare-weights: error: {message}", file=sys.stderr)
    sys.exit(2)


def load(path):
    try:
        with open(path, "rb") as fh:
            raw = fh.read()
        size = struct.unpack("<Q", raw[:8])[0]
        header = json.loads(raw[8:8 + size])
    except (OSError, ValueError, struct.error) as e:
        fail(f"cannot read {path}: {e}")
    out = {}
    for name, meta in header.items():
        if name == "__metadata__":
            continue
        if not isinstance(meta, dict) or meta.get("dtype") != "F32":
            fail(f"{path}: {name} is not a float32 tensor")
        try:
            start, end = meta["data_offsets"]
            values = array("f")
            values.frombytes(raw[8 + size + start:8 + size + end])
        except (KeyError, TypeError, ValueError) as e:
            fail(f"{path}: tensor {name} is unreadable: {e}")
        out[name] = values
    return out


def main():
    if len(sys.argv) != 3:
        fail("usage: python3 scripts/compare-weights.py A/policy.safetensors B/policy.safetensors")
    a, b = load(sys.argv[1]), load(sys.argv[2])
    if a.keys() != b.keys() or any(len(a[k]) != len(b[k]) for k in a):
        fail("the two files hold different tensors")
    rows = []
    for name in sorted(a):
        diff = max(abs(x - y) for x, y in zip(a[name], b[name]))
        scale = max(abs(x) for x in a[name])
        rows.append((diff / scale if scale else diff, diff, name))
    print("| tensor | largest difference | relative to the tensor's largest entry |")
    print("|---|---|---|")
    for rel, diff, name in sorted(rows, reverse=True):
        print(f"| {name} | {diff:.2e} | {rel:.2e} |")


if __name__ == "__main__":
    main()
