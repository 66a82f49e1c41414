#!/usr/bin/env bash
# Compares two builds of the project (each a folder holding unmask.jar and lib/, copied from
# experiments/target after `mvn -q -DskipTests package`), run from the repository root.
#   scripts/compare-builds.sh weights BEFORE AFTER   the same short trainings on both; sha256 of the trained weights
#   scripts/compare-builds.sh bench BEFORE AFTER     bench of every dLLM engine, before/after/before/after
# Used for the kernel move of issue 31: identical hashes mean the shared kernels kept every float.
set -euo pipefail
[ $# -eq 3 ] || { echo "usage: scripts/compare-builds.sh weights|bench BEFORE AFTER" >&2; exit 2; }
mode=$1; before=$2; after=$3
for d in "$before" "$after"; do
  [ -f "$d/unmask.jar" ] && [ -d "$d/lib" ] || { echo "compare-builds: $d holds no unmask.jar and lib/ (copy them from experiments/target)" >&2; exit 2; }
done
export OMP_NUM_THREADS=1 OMP_WAIT_POLICY=PASSIVE
run() { java -Xmx2g -XX:+UseG1GC -XX:G1PeriodicGCInterval=500 -Dunmask.home="$PWD" -cp "$1/unmask.jar:$1/lib/*" dev.unmask.cli.Main "${@:2}"; }
case $mode in
  weights)
    out=$(mktemp -d)
    for v in before after; do
      b=$before; [ $v = after ] && b=$after
      run "$b" dllm train --out "$out/$v/dllm" --tasks lag --d-model 64 --layers 2 --heads 4 --ff 256 --rotary --fourier-digits --max-length 176 \
        --batch 16 --lr 1e-3 --warmup 10 --long-buffer-prob 0.1 --seed 51 --checkpoint-every 1000 --steps 40 --trainer fast > "$out/$v.log" 2>&1
      run "$b" train --config results/frontier/attempt-ducci-t7-f32/config.json --dllm models/dllm-t7 --set iterations=3 --eval-n 0 --out "$out/$v/policy" >> "$out/$v.log" 2>&1
      run "$b" train --config results/frontier/attempt-ducci-t7-f32/config.json --dllm models/dllm-t7 --set iterations=2 --set policyUpdate=fast-eligible \
        --eval-n 0 --out "$out/$v/policy-eligible" >> "$out/$v.log" 2>&1
      (cd "$out" && sha256sum "$v/dllm/weights.safetensors" "$v/policy/policy/policy.safetensors" "$v/policy-eligible/policy/policy.safetensors")
    done
    rm -rf "$out" ;;
  bench)
    for pair in 1 2; do for v in before after; do
      b=$before; [ $v = after ] && b=$after
      echo "== $v $pair load $(cut -d' ' -f1 /proc/loadavg)"
      run "$b" bench --dllm models/dllm-a --batches 8,32 --reps 10 --engines onnxruntime,samediff,fast 2>&1 | grep -E "^\|"
    done; done ;;
  *) echo "compare-builds: unknown mode '$mode' (weights or bench)" >&2; exit 2 ;;
esac
