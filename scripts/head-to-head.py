#!/usr/bin/env python3
"""Each learned row against the best rule row that spends no more NFE, over several sweep folders of the same prompts.

    scripts/head-to-head.py --task lanes-columns --split test FOLDER [FOLDER ...]

Reads every FOLDER/eval.csv, keeps the rows of the task and split (every block length: semi-AR rows
compete too), refuses folders whose rows differ in seed or n (not the same prompts), and prints per
learned row the best rule row (every non-learned policy, `frontier` included) whose mean NFE is at
most the learned row's, and whether their 95% intervals are apart. Standard library only.
"""
import argparse
import csv
import sys
from pathlib import Path


NEEDED = {"task", "split", "seed", "n", "policy", "policy_params", "block_length", "accuracy", "acc_ci_low", "acc_ci_high", "mean_nfe"}


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("folders", nargs="+")
    ap.add_argument("--task", required=True)
    ap.add_argument("--split", default="test")
    args = ap.parse_args()
    rows = []
    for folder in args.folders:
        path = Path(folder) / "eval.csv"
        if not path.is_file():
            print(f"head-to-head: {path} does not exist", file=sys.stderr)
            return 2
        with open(path, newline="") as f:
            reader = csv.DictReader(f)
            missing = NEEDED - set(reader.fieldnames or [])
            if missing:
                print(f"head-to-head: {path} has no column {', '.join(sorted(missing))}", file=sys.stderr)
                return 2
            for r in reader:
                if r["task"] == args.task and r["split"] == args.split:
                    try:
                        for k in ("accuracy", "acc_ci_low", "acc_ci_high", "mean_nfe"):
                            float(r[k])
                    except (TypeError, ValueError):
                        print(f"head-to-head: {path} line {reader.line_num}: not a number where one belongs", file=sys.stderr)
                        return 2
                    r["folder"] = Path(folder).name
                    rows.append(r)
    if not rows:
        print(f"head-to-head: no rows of task {args.task}, split {args.split}", file=sys.stderr)
        return 2
    draws = {(r["seed"], r["n"]) for r in rows}
    if len(draws) != 1:
        print(f"head-to-head: the rows are not all the same prompts (seed, n: {sorted(draws)})", file=sys.stderr)
        return 2
    learned = [r for r in rows if r["policy"] == "learned"]
    rules = [r for r in rows if r["policy"] != "learned"]
    print(f"{len(learned)} learned rows against {len(rules)} rule rows ({args.task}, {args.split}, seed/n {draws.pop()})")
    print("| learned | accuracy [95% CI] @ NFE | best rule at no more NFE | B | accuracy [95% CI] @ NFE | points | intervals |")
    print("|---|---|---|---|---|---|---|")
    for r in sorted(learned, key=lambda r: float(r["mean_nfe"])):
        nfe = float(r["mean_nfe"])
        cands = [x for x in rules if float(x["mean_nfe"]) <= nfe]
        if not cands:
            print(f"| {r['policy_params']} | | no rule spends as little | | | | |")
            continue
        best = max(cands, key=lambda x: float(x["accuracy"]))
        apart = float(r["acc_ci_low"]) > float(best["acc_ci_high"])
        fmt = lambda x: f"{100 * float(x['accuracy']):.1f}% [{100 * float(x['acc_ci_low']):.1f}, {100 * float(x['acc_ci_high']):.1f}] @ {float(x['mean_nfe']):.2f}"
        print(f"| {r['policy_params']} | {fmt(r)} | {best['policy_params']} ({best['folder']}) | {best['block_length']} | {fmt(best)} | "
              f"{100 * (float(r['accuracy']) - float(best['accuracy'])):+.1f} | {'apart' if apart else 'overlap'} |")
    return 0


if __name__ == "__main__":
    sys.exit(main())
