#!/usr/bin/env python3
"""On paper: what a sweep measured here would take as a Slurm array on a GPU cluster with a large dLLM.

Reads a committed sweep's eval.csv (its cells in planned order, each with n answers and the mean
NFE per answer), scales each answer's NFE from the sweep's buffer length to the target's (the same
tokens per step: an assumption, stated in the output), prices one dLLM forward of one sequence from
the model's FLOPs and a stated GPU throughput, and plays the cells through T array tasks the way the
claims hand them out (each task, when free, takes the next unclaimed cell in planned order).
Standard library only. Usage:

  scripts/slurm/estimate_gpu_sweep.py results/reference/eval.csv --tasks 64 > results/cluster/llada-estimate.md
"""
import argparse
import csv
import heapq
import sys


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("eval_csv")
    ap.add_argument("--tasks", type=int, default=64, help="array tasks, one GPU each (default 64)")
    ap.add_argument("--params", type=float, default=8.0e9, help="dLLM parameters (LLaDA-8B: 8.0e9)")
    ap.add_argument("--layers", type=int, default=32, help="transformer layers (LLaDA-8B: 32)")
    ap.add_argument("--d-model", type=int, default=4096, help="model width (LLaDA-8B: 4096)")
    ap.add_argument("--prompt", type=int, default=512, help="prompt tokens per sequence (default 512: a few-shot GSM8K prompt)")
    ap.add_argument("--gen", type=int, default=256, help="answer buffer L on the target (default 256, as LLaDA's GSM8K runs)")
    ap.add_argument("--peak", type=float, default=989e12, help="GPU dense BF16 peak FLOP/s (H100 SXM: 989e12)")
    ap.add_argument("--mfu", type=float, default=0.40, help="share of the peak a dLLM forward reaches (default 0.40)")
    ap.add_argument("--startup", type=float, default=60.0, help="seconds per task to start and load the weights (default 60)")
    a = ap.parse_args()

    rows = list(csv.DictReader(open(a.eval_csv, newline="")))
    if not rows:
        sys.exit(f"{a.eval_csv}: no rows")
    seq = a.prompt + a.gen
    # matrix products: 2 flops per parameter per token; attention scores and mixing: 4 * layers * seq^2 * d
    flops = 2 * a.params * seq + 4 * a.layers * seq * seq * a.d_model
    t_fwd = flops / (a.peak * a.mfu)

    cells = []
    for r in rows:
        scale = a.gen / int(r["gen_length"])
        nfe = float(r["mean_nfe"]) * scale
        cells.append((r["policy_params"], int(r["block_length"]), int(r["n"]), nfe, int(r["n"]) * nfe * t_fwd))
    total = sum(c[4] for c in cells)
    answers = sum(c[2] for c in cells)
    forwards = sum(c[2] * c[3] for c in cells)

    # the claims' schedule: the next free task takes the next cell in planned order
    free = [(a.startup, i) for i in range(a.tasks)]
    heapq.heapify(free)
    end = 0.0
    for c in cells:
        t, i = heapq.heappop(free)
        t += c[4]
        end = max(end, t)
        heapq.heappush(free, (t, i))
    longest = max(cells, key=lambda c: c[4])
    busy = total + a.tasks * a.startup

    out = sys.stdout.write
    out(f"# {a.eval_csv} as a {a.tasks}-task GPU array (on paper)\n\n")
    out(f"Made by `scripts/slurm/estimate_gpu_sweep.py {a.eval_csv} --tasks {a.tasks}` from the committed rows; every other number below is an assumption named here.\n\n")
    out("| quantity | value | from |\n|---|---|---|\n")
    out(f"| cells | {len(cells)} | eval.csv rows |\n")
    out(f"| answers (n summed over cells) | {answers:,} | eval.csv `n` |\n")
    out(f"| dLLM forwards per answer, mean over answers, at L = {a.gen} | {forwards / answers:.1f} | eval.csv `mean_nfe` x {a.gen} / `gen_length`: the same tokens per step as measured (assumption) |\n")
    out(f"| sequence-forwards in all | {forwards:,.0f} | the two above |\n")
    out(f"| FLOPs per sequence-forward | {flops:.3g} | 2 x {a.params:.3g} parameters x {seq} tokens ({a.prompt} prompt + {a.gen} answer) + attention 4 x {a.layers} layers x {seq}^2 x {a.d_model} |\n")
    out(f"| time per sequence-forward | {t_fwd * 1000:.1f} ms | {a.peak / 1e12:.0f} TFLOP/s peak (H100 SXM BF16 dense, NVIDIA's datasheet) x {a.mfu:.0%} utilisation (assumption: a large batch of long sequences; measure yours) |\n")
    out(f"| GPU time of the cells | {total / 3600:.1f} GPU-hours | the two above |\n")
    out(f"| plus {a.tasks} task starts of {a.startup:.0f} s (weights load) | {busy / 3600:.1f} GPU-hours | assumption |\n")
    out(f"| longest cell | {longest[4] / 60:.1f} min ({longest[0]}, B = {longest[1]}) | |\n")
    out(f"| wall time with {a.tasks} tasks sharing the folder | **{end / 60:.1f} min** | the cells played through the claims' schedule (next free task takes the next cell in planned order) |\n")
    out(f"| the same with 1 GPU | {(total + a.startup) / 3600:.1f} h | |\n")
    out(f"| speed-up, {a.tasks} tasks against 1 | {(total + a.startup) / end:.1f}x | bounded by the longest cell: {(total + a.startup) / max(longest[4] + a.startup, total / a.tasks + a.startup):.1f}x at best |\n")


if __name__ == "__main__":
    main()
