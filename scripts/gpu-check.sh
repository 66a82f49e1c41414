#!/usr/bin/env bash
# The GPU path, checked on a CUDA machine: build with -Pcuda (ND4J on CUDA 11.6, ONNX Runtime's GPU
# build), then time the dLLM forward on both engines and run a short evaluation on the GPU.
# Needs Maven Central (or a warm ~/.m2 with the -Pcuda artifacts), an NVIDIA driver, and for ONNX
# Runtime 1.28's GPU build the CUDA 12 and cuDNN 9 runtime libraries. Never part of CI.
# Usage: scripts/gpu-check.sh [OUT_DIR]   (default: gpu-results/)
set -euo pipefail
cd "$(dirname "$0")/.."
out="${1:-${OUT:-gpu-results}}"
mkdir -p "$out"
{ nvidia-smi || echo "nvidia-smi: not available"; } > "$out/nvidia-smi.txt" 2>&1
mvn -q -B -Pcuda -DskipTests package
touch experiments/target/unmask.jar   # the launcher must not rebuild it without the profile
export UNMASK_JAVA_OPTS="-Xmx4g -XX:+UseG1GC -XX:G1PeriodicGCInterval=500 -Dunmask.dllm.provider=cuda"
./unmask bench --checkpoint models/dllm-a --engines onnxruntime,samediff --synthetic-vocab 32768 | tee "$out/bench-dllm-a-cuda.md"
./unmask eval --checkpoint models/dllm-a --tasks sudoku --block-lengths 8,full --split test --n 200 \
  --policies "topk:steps=32,threshold:tau=0.9" --out "$out/eval-dllm-a-cuda" | tee "$out/eval-dllm-a-cuda.md"
echo "gpu-check: results in $out"
