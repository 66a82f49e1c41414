#!/usr/bin/env bash
# Wall time of one fixed sweep run by 1 worker, by 2 worker processes sharing its folder (what the
# tasks of a job array do), and by 1 process with --workers 2 (threads), in alternating rounds on
# this machine; every run's table must equal the first single worker's (`unmask compare`). Then the
# claiming overhead per cell on the same disk (`unmask bench --claims`).
# Usage (repository root): scripts/slurm/scaling.sh OUT [ROUNDS]
#   results/cluster/scaling/ and scaling-2/ were made with `scripts/slurm/scaling.sh results/cluster/scaling 3` (and scaling-2).
# Writes OUT/timings.csv (one line per run, with the 1-minute load average before it), OUT/runs/
# (the folders of the first round), OUT/claims.md and OUT/compare.md.
set -euo pipefail
cd "$(dirname "$0")/../.."
out="${1:?usage: scripts/slurm/scaling.sh OUT [ROUNDS]}"
rounds="${2:-3}"
if [ -e "$out" ] && [ -n "$(ls -A "$out" 2>/dev/null)" ]; then
  echo "scaling: $out is not empty; name a new folder" >&2
  exit 2
fi
mkdir -p "$out/runs" "$out/logs"
./unmask --version >/dev/null   # build once, before any timing
export UNMASK_NO_BUILD=1

sweep=(sweep --dllm models/dllm-t4 --tasks lag48 --block-lengths 32,full
       --policies "threshold:tau=0.9|0.99|0.998,topk:steps=64,eb:gamma=0.1" --n 100 --seeds 1)
now() { date +%s.%N; }
load() { cut -d' ' -f1 /proc/loadavg; }

echo "round,config,processes,threads_per_process,wall_s,load1_before,folder" > "$out/timings.csv"
for r in $(seq 1 "$rounds"); do
  for config in one-worker two-processes two-threads; do
    if [ "$r" = 1 ]; then dir="$out/runs/$config"; else dir="$(mktemp -d /tmp/unmask-scaling.XXXXXX)/run"; fi
    l=$(load)
    t0=$(now)
    case "$config" in
      one-worker)
        ./unmask "${sweep[@]}" --workers 1 --out "$dir" > "$out/logs/r$r-$config.log" 2>&1
        procs=1 threads=1 ;;
      two-processes)
        ./unmask "${sweep[@]}" --workers 1 --out "$dir" > "$out/logs/r$r-$config-a.log" 2>&1 &
        a=$!
        ./unmask "${sweep[@]}" --workers 1 --out "$dir" > "$out/logs/r$r-$config-b.log" 2>&1 &
        b=$!
        wait "$a"
        wait "$b"
        procs=2 threads=1 ;;
      two-threads)
        ./unmask "${sweep[@]}" --workers 2 --out "$dir" > "$out/logs/r$r-$config.log" 2>&1
        procs=1 threads=2 ;;
    esac
    t1=$(now)
    wall=$(awk -v a="$t0" -v b="$t1" 'BEGIN { printf "%.1f", b - a }')
    echo "$r,$config,$procs,$threads,$wall,$l,$([ "$r" = 1 ] && echo "runs/$config" || echo "-")" >> "$out/timings.csv"
    echo "scaling: round $r $config: $wall s (load $l before)" >&2
    if [ "$config" != one-worker ] || [ "$r" != 1 ]; then
      ./unmask compare "$out/runs/one-worker" "$dir" >> "$out/compare.md" 2>&1
    fi
    if [ "$r" != 1 ]; then rm -rf "$(dirname "$dir")"; fi
  done
done
./unmask bench --claims "$out" --reps 50 > "$out/claims.md"
cat "$out/timings.csv" "$out/claims.md"
grep -c "^compare: .* 0 different" "$out/compare.md" | xargs -I{} echo "scaling: {} runs compared with the first single worker, all identical" >&2
! grep -q "^compare: .* [1-9][0-9]* different" "$out/compare.md"
