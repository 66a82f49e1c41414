"""Replays the rows of a committed results folder in PyTorch and says, per row, whether accuracy,
mean NFE and fallback steps are identical to the Java run's.

    python3 -m unmask_torch.replay results/headline-full-n1000 [--repo ROOT] [--rows learned,threshold] [--limit N]

Reads the folder's ``manifest.json`` (the dLLM, tasks, block lengths, split, seeds, n, batch) and
``eval.csv``; runs each row whose policy and task are ported on the built-in dLLM the manifest names
(:class:`~unmask_torch.builtin_dllm.BuiltinDllm`), with the prompts Java drew (same generators, same
random streams). Exit 0 when every replayed row is identical, 1 when any differs, 2 on bad input.
"""
from __future__ import annotations

import argparse
import csv
import json
import re
import sys
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Optional

import torch

from .builtin_dllm import BuiltinDllm
from .heuristics import parse_heuristic
from .java_fast import FastEngineDllm, openblas_threads
from .policy import load_checkpoint
from .sampler import generate, prompts_tensor
from .tasks import answer_text, task_by_name


@dataclass
class RowResult:
    label: str
    block_length: int
    n: int
    java: tuple[float, float, int]
    python: Optional[tuple[float, float, int]]
    note: str = ""

    @property
    def identical(self) -> Optional[bool]:
        if self.python is None:
            return None
        return (round(self.java[0], 4) == round(self.python[0], 4) and round(self.java[1], 4) == round(self.python[1], 4)
                and self.java[2] == self.python[2])


def _label_params(label: str) -> dict[str, str]:
    """``learned(knob=3.0,mode=greedy,policy=P,temp=1.0)`` -> its parameters."""
    m = re.match(r"^[a-z]+\((.*)\)$", label)
    if not m:
        return {}
    return dict(p.split("=", 1) for p in m.group(1).split(","))


def policy_for_row(policy: str, label: str, repo: Path):
    """The Python policy of an eval.csv row, or a reason it is not ported."""
    params = _label_params(label)
    if policy == "learned":
        path = params.get("policy", "")
        runtime = params.get("runtime")
        if runtime == "onnx" or not (repo / path / "policy-config.json").is_file():
            return None, f"learned policy {path} is not a checkpoint folder here"
        knob = float(params["knob"]) if "knob" in params else None
        return load_checkpoint(repo / path, mode=params.get("mode", "greedy"), temperature=float(params.get("temp", 1.0)), knob=knob), ""
    spec = policy + (":" + ",".join(f"{k}={v}" for k, v in params.items()) if params else "")
    h = parse_heuristic(spec)
    return (h, "") if h is not None else (None, f"rule {policy} is not ported to Python")


def replay_row(dllm: BuiltinDllm, task_name: str, gen_length: int, block_length: int, policy, split: str, seed: int,
               n: int, batch: int) -> tuple[float, float, int]:
    """Accuracy, mean NFE and fallback steps of one row, decoded with the prompts Java drew."""
    task = task_by_name(task_name)
    examples = task.dataset(split, seed, n)
    vocab = dllm.vocab
    correct = nfe = fallbacks = 0
    for start in range(0, len(examples), batch):
        chunk = examples[start:start + batch]
        prompt = prompts_tensor([vocab.encode(e.prompt) for e in chunk])
        out = generate(dllm, prompt, gen_length=gen_length, block_length=block_length, policy=policy,
                       mask_id=vocab.mask_id, eos_id=vocab.eos_id, seed=seed + start, statistics=dllm.statistics)
        plen = prompt.shape[1]
        for i, e in enumerate(chunk):
            text = answer_text(vocab.tokens, out.tokens[i, plen:].tolist(), vocab.eos_id)
            correct += task.is_correct(e, text)
        nfe += int(out.nfe.sum())
        fallbacks += int(out.fallbacks.sum())
    return correct / len(examples), nfe / len(examples), fallbacks


@dataclass
class Sample:
    """One decoded episode a sweep cell keeps beside its numbers (``cells/*.samples.txt``)."""

    correct: bool
    nfe: int
    prompt: str
    answer: str
    steps: list[int]  # the step that wrote each buffer position, as far as the file shows


def parse_samples(path: Path) -> list[Sample]:
    out: list[Sample] = []
    for line in path.read_text().splitlines():
        m = re.match(r"^(ok|WRONG) +nfe=(\d+)  (.*?)  ->  (.*?)   \(reference", line)
        if m:
            out.append(Sample(m.group(1) == "ok", int(m.group(2)), m.group(3), m.group(4), []))
        elif line.strip().startswith("step:") and out:
            out[-1].steps = [int(v) for v in line.split(":", 1)[1].split()]
    return out


def samples_file(folder: Path, row: dict) -> Optional[Path]:
    """The samples of the cell that made an eval.csv row, when the folder keeps them."""
    for cell in sorted((folder / "cells").glob("*.json")):
        if cell.name.endswith(".failures.json"):
            continue
        try:
            c = json.loads(cell.read_text())
        except ValueError:
            continue
        if c.get("policy_params") == row["policy_params"] and str(c.get("block_length")) == row["block_length"] \
                and str(c.get("seed")) == row["seed"] and c.get("task") == row["task"]:
            p = cell.with_name(cell.name[:-len(".json")] + ".samples.txt")
            return p if p.is_file() else None
    return None


def check_samples(dllm: BuiltinDllm, row: dict, policy, samples: list[Sample]) -> list[str]:
    """Decodes the first prompts of a row's cell and lists every difference from its kept samples (answer, NFE, write order)."""
    task = task_by_name(row["task"])
    seed, vocab = int(row["seed"]), dllm.vocab
    examples = task.dataset(row["split"], seed, len(samples))
    prompt = prompts_tensor([vocab.encode(e.prompt) for e in examples])
    out = generate(dllm, prompt, gen_length=int(row["gen_length"]), block_length=int(row["block_length"]), policy=policy,
                   mask_id=vocab.mask_id, eos_id=vocab.eos_id, seed=seed, statistics=dllm.statistics)
    plen, diffs = prompt.shape[1], []
    for i, (e, s) in enumerate(zip(examples, samples)):
        text = answer_text(vocab.tokens, out.tokens[i, plen:].tolist(), vocab.eos_id)
        steps = out.unmasked_at_step[i, :len(s.steps)].tolist()
        if e.prompt != s.prompt:
            diffs.append(f"episode {i}: prompt {e.prompt} here, {s.prompt} in the cell")
        elif text != s.answer or int(out.nfe[i]) != s.nfe or steps != s.steps:
            diffs.append(f"episode {i} ({e.prompt}): here nfe={int(out.nfe[i])} {text}, in the cell nfe={s.nfe} {s.answer}"
                         + ("" if steps == s.steps else " (write order differs)"))
    return diffs


def load_dllm(path: Path, manifest: dict) -> tuple[BuiltinDllm, str]:
    """The built-in dLLM as the manifest's engine ran it, and a line saying how.

    ``fast`` (``--dllm-engine fast``) gets :class:`FastEngineDllm`, bit for bit the Java forward when
    PyTorch runs on OpenBLAS with the run's thread count; other engines (ONNX Runtime, SameDiff) get
    :class:`BuiltinDllm`, equal to float rounding.
    """
    engine = manifest.get("dllm_engine", "samediff")
    if engine != "fast":
        return BuiltinDllm(path), f"{engine} engine, replayed by PyTorch's own float32 arithmetic (equal to rounding)"
    recorded = (manifest.get("environment") or {}).get("OMP_NUM_THREADS") or "1"
    if not str(recorded).isdigit() or int(recorded) < 1:
        raise ValueError(f"the manifest's OMP_NUM_THREADS is {recorded!r}, not a thread count")
    threads = int(recorded)
    blas = openblas_threads(threads)
    how = (f"fast engine, replayed operation for operation on {blas} with {threads} thread(s)" if blas
           else "fast engine, but PyTorch's BLAS is not OpenBLAS: matrix products will round differently")
    return FastEngineDllm(path), how


def _repo_root(folder: Path, given: Optional[str]) -> Path:
    if given:
        return Path(given)
    for p in [folder.resolve(), *folder.resolve().parents]:
        if (p / "models").is_dir() and (p / "pom.xml").is_file():
            return p
    return Path.cwd()


def main(argv: Optional[list[str]] = None) -> int:
    ap = argparse.ArgumentParser(prog="python3 -m unmask_torch.replay", description=__doc__.split("\n\n")[0])
    ap.add_argument("folder", help="a results folder with manifest.json and eval.csv")
    ap.add_argument("--repo", help="the repository root the manifest's paths are relative to (default: found above the folder)")
    ap.add_argument("--rows", help="only rows of these policies (comma-separated names, e.g. learned,threshold)")
    ap.add_argument("--limit", type=int, help="replay at most this many rows")
    ap.add_argument("--samples", action="store_true",
                    help="check only the decoded samples each cell keeps (its first episodes: answer, NFE and the step that wrote each token): seconds, not minutes")
    args = ap.parse_args(argv)
    folder = Path(args.folder)
    try:
        manifest = json.loads((folder / "manifest.json").read_text())
        with open(folder / "eval.csv", newline="") as f:
            rows = list(csv.DictReader(f))
    except (OSError, ValueError) as e:
        print(f"replay: {folder}: {e}", file=sys.stderr)
        return 2
    needed = {"task", "block_length", "gen_length", "policy", "policy_params", "n", "accuracy", "mean_nfe", "fallback_steps", "seed", "split"}
    missing = needed - set(rows[0].keys() if rows else needed)
    if missing or not rows:
        print(f"replay: {folder / 'eval.csv'}: " + (f"no column {', '.join(sorted(missing))}" if missing else "no rows"), file=sys.stderr)
        return 2
    for i, row in enumerate(rows, start=2):
        try:
            int(row["block_length"]), int(row["gen_length"]), int(row["n"]), int(row["seed"]), int(row["fallback_steps"])
            float(row["accuracy"]), float(row["mean_nfe"])
        except (TypeError, ValueError):
            print(f"replay: {folder / 'eval.csv'} line {i}: not a number where one belongs", file=sys.stderr)
            return 2
    repo = _repo_root(folder, args.repo)
    cfg = manifest.get("config", {})
    dllm_path = cfg.get("dllm") or cfg.get("checkpoint")
    if not dllm_path or not (repo / dllm_path / "config.json").is_file():
        print(f"replay: {folder}: the manifest's dLLM {dllm_path!r} is not a built-in checkpoint under {repo}", file=sys.stderr)
        return 2
    try:
        dllm, how = load_dllm(repo / dllm_path, manifest)
    except ValueError as e:
        print(f"replay: {folder / 'manifest.json'}: {e}", file=sys.stderr)
        return 2
    batch = int(cfg.get("batch", 64))
    wanted = set(args.rows.split(",")) if args.rows else None
    if wanted is not None and not wanted & {r["policy"] for r in rows}:
        print(f"replay: {folder / 'eval.csv'} has no rows of {', '.join(sorted(wanted))} (its policies: "
              f"{', '.join(sorted({r['policy'] for r in rows}))})", file=sys.stderr)
        return 2
    results: list[RowResult] = []
    torch.set_num_threads(max(1, torch.get_num_threads()))
    print(f"dLLM: {dllm_path} (PyTorch {torch.__version__}; {how}); folder {folder}; batch {batch}")
    print("| policy | B | n | Java acc / NFE / fallbacks | Python acc / NFE / fallbacks | |")
    print("|---|---|---|---|---|---|")
    for row in rows:
        if wanted is not None and row["policy"] not in wanted:
            continue
        if args.limit is not None and len(results) >= args.limit:
            break
        label, bl, n = row["policy_params"], int(row["block_length"]), int(row["n"])
        java = (float(row["accuracy"]), float(row["mean_nfe"]), int(row["fallback_steps"]))
        policy, why = policy_for_row(row["policy"], label, repo)
        try:
            task_by_name(row["task"])
        except ValueError as e:
            policy, why = None, str(e)
        if policy is None:
            res = RowResult(label, bl, n, java, None, why)
        elif args.samples:
            path = samples_file(folder, row)
            if path is None:
                res = RowResult(label, bl, n, java, None, "the folder keeps no samples for this row")
            else:
                samples = parse_samples(path)
                diffs = check_samples(dllm, row, policy, samples)
                for d in diffs:
                    print(f"  {label}: {d}")
                res = RowResult(label, bl, len(samples), (0, 0, len(diffs)), (0, 0, 0), f"{len(samples)} samples")
        else:
            t0 = time.time()
            got = replay_row(dllm, row["task"], int(row["gen_length"]), bl, policy, row["split"], int(row["seed"]), n, batch)
            res = RowResult(label, bl, n, java, got, f"{time.time() - t0:.0f} s")
        results.append(res)
        verdict = "skipped: " + res.note if res.identical is None else ("identical" if res.identical else "DIFFERS")
        if args.samples and res.python is not None:
            print(f"| {label} | {bl} | {res.n} samples | | {res.java[2]} differ | {verdict} |", flush=True)
            continue
        py = "" if res.python is None else f"{res.python[0]:.4f} / {res.python[1]:.4f} / {res.python[2]}"
        print(f"| {label} | {bl} | {n} | {java[0]:.4f} / {java[1]:.4f} / {java[2]} | {py} | {verdict} |", flush=True)
    done = [r for r in results if r.identical is not None]
    differ = [r for r in done if not r.identical]
    print(f"{len(done)} rows replayed: {len(done) - len(differ)} identical, {len(differ)} differ; {len(results) - len(done)} skipped")
    return 1 if differ else 0


if __name__ == "__main__":
    sys.exit(main())
