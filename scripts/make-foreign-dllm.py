#!/usr/bin/python3
"""A foreign masked dLLM for the bring-your-own path: random weights at a real model's shapes.

Writes, into --out (default models/foreign-llada-shape, which git ignores):

  model.onnx       made by torch.onnx.export (not by this project's Java ONNX writer): inputs
                   input_ids int64 [batch, length] and attention_mask int64 [batch, length],
                   output logits float32 [batch, length, vocab]; LLaDA's layout (RMSNorm, rotary
                   positions, bidirectional multi-head attention over the unpadded keys, SwiGLU MLP,
                   untied head), random weights, a small width
  vocab.json       the vocabulary: the built-in tasks' tokens at the first ids (so `eval` can encode
                   their prompts), LLaDA's specials at LLaDA's ids, `<|reserved:ID|>` everywhere else
  descriptor.json  the bring-your-own descriptor (unmask-onnx-dllm-v1)
  descriptor-capped.json  the same with "max_logits_mb": 1024 (each step's rows split into ORT calls
                   whose logits tensor stays under 1 GiB: less native memory, same answers)
  check.json       a few inputs with the logits' statistics computed here in float64 (top-1 id and
                   probability, top-2 probability, entropy in nats; the mask id never a choice), so a
                   test can compare what ONNX Runtime and the Java side compute against torch

Defaults are LLaDA-8B's vocabulary and ids: vocabulary axis 126464, mask 126336, EOS and padding
126081 (<|endoftext|>), <|eot_id|> 126348; max_length 1152 = a 1,024-token buffer plus a prompt
of up to 128 tokens. Random weights: the model's answers are noise, it exists to measure time and
memory at these shapes.

Needs torch (1.13 was used; the `onnx` package is not needed). On Debian: /usr/bin/python3.

    /usr/bin/python3 scripts/make-foreign-dllm.py                       # LLaDA-8B shapes, d_model 64, 2 layers
    /usr/bin/python3 scripts/make-foreign-dllm.py --vocab-size 64 --mask-id 60 --eos-id 61 --pad-id 61 \\
        --reserved 62:'<|eot_id|>' --d-model 16 --heads 2 --ff 32 --max-length 48 --out dir   # the test's tiny twin
"""
import argparse
import json
import math
import os
import sys
import tempfile

import torch


def fail(msg):
    print("make-foreign-dllm: " + msg, file=sys.stderr)
    sys.exit(2)


def rms_norm(x, gain, eps=1e-5):
    return x * torch.rsqrt(x.pow(2).mean(-1, keepdim=True) + eps) * gain


def rotate(x, cos, sin):
    # x [batch, heads, length, head_dim]; rotary on pairs (first half, second half), as LLaMA/LLaDA
    half = x.shape[-1] // 2
    x1, x2 = x[..., :half], x[..., half:]
    return torch.cat([x1 * cos - x2 * sin, x2 * cos + x1 * sin], dim=-1)


class Block(torch.nn.Module):
    def __init__(self, d, heads, ff):
        super().__init__()
        self.heads, self.hd = heads, d // heads
        self.attn_norm = torch.nn.Parameter(torch.ones(d))
        self.q = torch.nn.Linear(d, d, bias=False)
        self.k = torch.nn.Linear(d, d, bias=False)
        self.v = torch.nn.Linear(d, d, bias=False)
        self.o = torch.nn.Linear(d, d, bias=False)
        self.ff_norm = torch.nn.Parameter(torch.ones(d))
        self.gate = torch.nn.Linear(d, ff, bias=False)
        self.up = torch.nn.Linear(d, ff, bias=False)
        self.down = torch.nn.Linear(ff, d, bias=False)

    def forward(self, x, key_bias, cos, sin):
        b, n, d = x.shape
        hd = self.hd
        h = rms_norm(x, self.attn_norm)
        q = self.q(h).view(b, n, self.heads, hd).transpose(1, 2)
        k = self.k(h).view(b, n, self.heads, hd).transpose(1, 2)
        v = self.v(h).view(b, n, self.heads, hd).transpose(1, 2)
        q, k = rotate(q, cos, sin), rotate(k, cos, sin)
        scores = torch.matmul(q, k.transpose(-1, -2)) / math.sqrt(hd) + key_bias  # bidirectional: no causal mask
        mixed = torch.matmul(torch.softmax(scores, dim=-1), v).transpose(1, 2).reshape(b, n, d)
        x = x + self.o(mixed)
        h = rms_norm(x, self.ff_norm)
        return x + self.down(torch.nn.functional.silu(self.gate(h)) * self.up(h))


class ForeignDllm(torch.nn.Module):
    def __init__(self, vocab, d, layers, heads, ff):
        super().__init__()
        self.embed = torch.nn.Embedding(vocab, d)
        self.blocks = torch.nn.ModuleList([Block(d, heads, ff) for _ in range(layers)])
        self.norm = torch.nn.Parameter(torch.ones(d))
        self.head = torch.nn.Linear(d, vocab, bias=False)
        self.head_dim = d // heads

    def forward(self, input_ids, attention_mask):
        x = self.embed(input_ids)
        n = input_ids.shape[1]
        half = self.head_dim // 2
        inv = 1.0 / (10000.0 ** (torch.arange(half, dtype=torch.float32) / half))
        angles = torch.arange(n, dtype=torch.float32).unsqueeze(1) * inv.unsqueeze(0)  # [length, half]
        cos, sin = torch.cos(angles), torch.sin(angles)
        # padding keys get -1e9: a row's real positions never attend to its right padding
        key_bias = (1.0 - attention_mask.to(torch.float32)).unsqueeze(1).unsqueeze(1) * -1e9
        for blk in self.blocks:
            x = blk(x, key_bias, cos, sin)
        return self.head(rms_norm(x, self.norm))


def statistics(logits, mask_id):
    """Top-1 id and probability, top-2 probability and entropy (nats) per position, in float64; the mask is never a choice."""
    lp = torch.log_softmax(logits.double(), dim=-1)
    p = lp.exp()
    entropy = -(p * lp).sum(-1)
    choice = p.clone()
    choice[..., mask_id] = -1.0
    top = torch.topk(choice, 2, dim=-1)
    return top.indices[..., 0], top.values[..., 0], top.values[..., 1], entropy


def write_atomically(path, text):
    fd, tmp = tempfile.mkstemp(dir=os.path.dirname(path) or ".", prefix=".tmp-", suffix=".part")
    with os.fdopen(fd, "w", encoding="utf-8") as f:
        f.write(text)
    os.chmod(tmp, 0o644)
    os.replace(tmp, path)


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--out", default="models/foreign-llada-shape")
    ap.add_argument("--vocab-size", type=int, default=126464)
    ap.add_argument("--mask-id", type=int, default=126336)
    ap.add_argument("--eos-id", type=int, default=126081)
    ap.add_argument("--pad-id", type=int, default=126081)
    ap.add_argument("--eos-token", default="<|endoftext|>")
    ap.add_argument("--mask-token", default="<|mdm_mask|>")
    ap.add_argument("--reserved", action="append", default=None,
                    help="ID:TOKEN, another named special token (default: 126348:<|eot_id|>)")
    ap.add_argument("--tokens-from", default="models/dllm-t8/vocab.json",
                    help="vocab.json whose tokens other than its mask/eos/pad go to ids 0, 1, ... (the built-in tasks' characters and tags)")
    ap.add_argument("--d-model", type=int, default=64)
    ap.add_argument("--layers", type=int, default=2)
    ap.add_argument("--heads", type=int, default=4)
    ap.add_argument("--ff", type=int, default=192, help="SwiGLU hidden width")
    ap.add_argument("--max-length", type=int, default=1152)
    ap.add_argument("--head-std", type=float, default=2.0,
                    help="spread of the head's weights (larger: sharper, less uniform distributions)")
    ap.add_argument("--seed", type=int, default=7)
    ap.add_argument("--opset", type=int, default=14)
    a = ap.parse_args()

    v = a.vocab_size
    if a.d_model % a.heads or (a.d_model // a.heads) % 2:
        fail(f"--d-model {a.d_model} must split into --heads {a.heads} heads of an even width")
    for name in ("mask_id", "eos_id", "pad_id"):
        if not 0 <= getattr(a, name) < v:
            fail(f"--{name.replace('_', '-')} {getattr(a, name)} is outside the vocabulary 0..{v - 1}")
    if a.mask_id in (a.eos_id, a.pad_id):
        fail("--mask-id must differ from --eos-id and --pad-id")
    if a.pad_id != a.eos_id:
        fail("--pad-id must equal --eos-id here (LLaDA pads with <|endoftext|>); the vocabulary names one token for both")
    reserved = a.reserved if a.reserved is not None else ["126348:<|eot_id|>"]
    specials = {a.mask_id: a.mask_token, a.eos_id: a.eos_token}
    for r in reserved:
        i, sep, tok = r.partition(":")
        if not sep or not i.isdigit() or not tok:
            fail(f"--reserved '{r}' is not ID:TOKEN")
        if not 0 <= int(i) < v or int(i) in specials:
            fail(f"--reserved id {i} is outside the vocabulary or already named")
        specials[int(i)] = tok
    try:
        with open(a.tokens_from, encoding="utf-8") as f:
            src = json.load(f)
    except (OSError, ValueError) as e:
        fail(f"cannot read --tokens-from {a.tokens_from}: {e}")
    plain = [t for t in src["tokens"] if t not in (src["mask"], src["eos"], src["pad"])]
    if len(plain) > min(specials):
        fail(f"{len(plain)} task tokens from {a.tokens_from} do not fit below the first special id {min(specials)}")
    tokens = [f"<|reserved:{i}|>" for i in range(v)]
    tokens[:len(plain)] = plain
    for i, t in specials.items():
        tokens[i] = t
    if len(set(tokens)) != v:
        fail("the vocabulary lists a token twice (a special token's name is also a task token)")

    torch.manual_seed(a.seed)
    model = ForeignDllm(v, a.d_model, a.layers, a.heads, a.ff).eval()
    with torch.no_grad():
        for name, p in model.named_parameters():
            if "norm" in name:
                continue
            p.normal_(0.0, 1.0 if name.startswith("embed") else (a.head_std / math.sqrt(a.d_model) if name.startswith("head")
                                                                 else 1.0 / math.sqrt(p.shape[1])))
        # like a trained model, never predict the mask token (pad = EOS stays a normal answer token)
        model.head.weight[a.mask_id].zero_()
    params = sum(p.numel() for p in model.parameters())

    os.makedirs(a.out, exist_ok=True)
    ids = torch.full((2, 16), a.mask_id, dtype=torch.long)
    mask = torch.ones_like(ids)
    onnx_path = os.path.join(a.out, "model.onnx")
    tmp = onnx_path + ".part"
    with torch.no_grad():
        torch.onnx.export(model, (ids, mask), tmp, opset_version=a.opset, do_constant_folding=True,
                          input_names=["input_ids", "attention_mask"], output_names=["logits"],
                          dynamic_axes={"input_ids": {0: "batch", 1: "length"},
                                        "attention_mask": {0: "batch", 1: "length"},
                                        "logits": {0: "batch", 1: "length"}})
    os.replace(tmp, onnx_path)

    write_atomically(os.path.join(a.out, "vocab.json"),
                     json.dumps({"tokens": tokens, "mask": a.mask_token, "eos": a.eos_token, "pad": a.eos_token}) + "\n")
    descriptor = {
        "format": "unmask-onnx-dllm-v1",
        "description": f"foreign dLLM with random weights: vocab {v}{' (LLaDA-8B' + chr(39) + 's vocabulary axis)' if v == 126464 else ''}, d_model {a.d_model}, "
                       f"{a.layers} layers, {a.heads} heads, SwiGLU {a.ff}, {params:,} parameters (scripts/make-foreign-dllm.py, seed {a.seed})",
        "onnx": "model.onnx",
        "input_ids": "input_ids",
        "attention_mask": "attention_mask",
        "logits": "logits",
        "vocab": "vocab.json",
        "mask_id": a.mask_id,
        "eos_id": a.eos_id,
        "pad_id": a.pad_id,
        "max_length": a.max_length,
        "provider": "cpu",
        "threads": 1,
    }
    write_atomically(os.path.join(a.out, "descriptor.json"), json.dumps(descriptor, indent=2) + "\n")
    # the same model with each step's ORT calls split so that no call's logits tensor exceeds 1 GiB
    capped = dict(descriptor, max_logits_mb=1024, description=descriptor["description"] + "; logits per ORT call capped at 1024 MiB")
    write_atomically(os.path.join(a.out, "descriptor-capped.json"), json.dumps(capped, indent=2) + "\n")

    # the check: two rows of different lengths (the second right-padded), some positions masked
    g = torch.Generator().manual_seed(a.seed + 1)
    n = min(12, a.max_length)
    lengths = [n, n - 3]
    rows = []
    for length in lengths:
        r = torch.randint(0, len(plain), (length,), generator=g)
        r[length // 2:] = a.mask_id
        rows.append(r.tolist())
    batch = torch.full((2, n), a.pad_id, dtype=torch.long)
    am = torch.zeros((2, n), dtype=torch.long)
    for i, r in enumerate(rows):
        batch[i, :len(r)] = torch.tensor(r)
        am[i, :len(r)] = 1
    with torch.no_grad():
        top1, conf, top2, ent = statistics(model(batch, am), a.mask_id)
    check = {"note": "statistics of model(input_ids, attention_mask) computed by torch in float64; rows right-padded with pad_id",
             "sequences": rows,
             "top1": [top1[i, :lengths[i]].tolist() for i in range(2)],
             "confidence": [conf[i, :lengths[i]].tolist() for i in range(2)],
             "top2": [top2[i, :lengths[i]].tolist() for i in range(2)],
             "entropy": [ent[i, :lengths[i]].tolist() for i in range(2)]}
    write_atomically(os.path.join(a.out, "check.json"), json.dumps(check) + "\n")
    print(f"wrote {a.out}: model.onnx ({os.path.getsize(onnx_path) / 1e6:.1f} MB, {params:,} parameters), vocab.json, descriptor.json, descriptor-capped.json, check.json")


if __name__ == "__main__":
    main()
