#!/usr/bin/env bash
# A real Slurm on this machine: installs Debian's slurm-wlm and munge (apt-get, as root), starts
# munged, slurmctld and slurmd on localhost as a one-node cluster with 2 CPUs (everything under one
# temp folder, stopped by pid file at the end), submits a 2-task array of a small sweep through
# scripts/slurm/sweep.sbatch, waits for it, and compares its eval.csv with a single-process run of
# the same command: every row must have the same accuracy and NFE (`unmask compare`), both tasks
# must be in the manifest's invocations with their Slurm ids, and the scheduler's job-completion
# log (jobcomp/filetxt) must hold one COMPLETED record per task. Exit 0 only then.
#
# Usage (repository root, as root):  scripts/slurm/test-local-slurm.sh [OUT]
#   OUT (default: a temp folder) receives single/, slurm/, jobcomp.txt, the tasks' logs,
#   slurm.conf and compare.md; results/cluster/ was made with `scripts/slurm/test-local-slurm.sh results/cluster`.
# CI runs it after the unit tests (.ci/run); about a minute and a half on 2 cores once built.
set -euo pipefail
cd "$(dirname "$0")/../.."
repo=$PWD
out="${1:-}"
started=$SECONDS

if [ "$(id -u)" != 0 ]; then
  echo "test-local-slurm: needs root (it installs packages and runs slurmctld, slurmd and munged as root)" >&2
  exit 2
fi
if ! command -v slurmctld >/dev/null || ! command -v slurmd >/dev/null || ! command -v munged >/dev/null || ! command -v sbatch >/dev/null; then
  echo "test-local-slurm: installing slurm-wlm and munge ..." >&2
  export DEBIAN_FRONTEND=noninteractive
  apt-get install -y -q slurm-wlm munge >/dev/null 2>&1 || { apt-get update -q >/dev/null && apt-get install -y -q slurm-wlm munge >/dev/null; }
fi

# the jar, once: every array task runs it with UNMASK_NO_BUILD set
./unmask --version >/dev/null

S=$(mktemp -d /tmp/unmask-slurm.XXXXXX)
stop() {
  rc=$?
  for f in "$S/slurmd.pid" "$S/slurmctld.pid" "$S/munge/munged.pid"; do
    if [ -s "$f" ]; then kill "$(cat "$f")" 2>/dev/null || true; fi
  done
  sleep 1
  if [ "$rc" != 0 ]; then
    echo "test-local-slurm: FAILED (exit $rc); daemon logs:" >&2
    tail -n 20 "$S/ctld.log" "$S/d.log" 2>/dev/null >&2 || true
  fi
  rm -rf "$S"
  exit "$rc"
}
trap stop EXIT

keep=1
if [ -z "$out" ]; then
  out="$S/out"
  keep=0
elif [ -e "$out" ] && [ -n "$(ls -A "$out" 2>/dev/null)" ]; then
  echo "test-local-slurm: $out is not empty; name a new folder" >&2
  exit 2
fi
mkdir -p "$out/logs"

# munge: a fresh key and socket under $S
mkdir -p "$S/state" "$S/spool" "$S/munge"
dd if=/dev/urandom of="$S/munge/munge.key" bs=1024 count=1 status=none
chmod 400 "$S/munge/munge.key"
munged --force --key-file="$S/munge/munge.key" --socket="$S/munge/munge.sock" \
  --pid-file="$S/munge/munged.pid" --log-file="$S/munge/munged.log" --seed-file="$S/munge/seed"

host=$(hostname -s)
cpus=$(nproc)
[ "$cpus" -gt 2 ] && cpus=2
# the memory Slurm may hand out (MB): the tasks ask for 3G each (sweep.sbatch's --mem)
mem=$(( $(awk '/^MemTotal:/ {print $2}' /proc/meminfo) / 1024 * 9 / 10 ))
cat > "$S/slurm.conf" <<EOF
ClusterName=local
SlurmctldHost=$host(127.0.0.1)
SlurmUser=root
SlurmdUser=root
AuthType=auth/munge
AuthInfo=socket=$S/munge/munge.sock
CredType=cred/munge
ProctrackType=proctrack/linuxproc
TaskPlugin=task/none
ReturnToService=2
SchedulerType=sched/backfill
SelectType=select/cons_tres
SelectTypeParameters=CR_Core
StateSaveLocation=$S/state
SlurmdSpoolDir=$S/spool
SlurmctldPidFile=$S/slurmctld.pid
SlurmdPidFile=$S/slurmd.pid
SlurmctldLogFile=$S/ctld.log
SlurmdLogFile=$S/d.log
SlurmctldPort=16817
SlurmdPort=16818
JobAcctGatherType=jobacct_gather/none
AccountingStorageType=accounting_storage/none
JobCompType=jobcomp/filetxt
JobCompLoc=$S/jobcomp.txt
MpiDefault=none
NodeName=$host NodeAddr=127.0.0.1 CPUs=$cpus RealMemory=$mem State=UNKNOWN
PartitionName=debug Nodes=ALL Default=YES MaxTime=INFINITE State=UP
EOF
export SLURM_CONF="$S/slurm.conf"
slurmctld -f "$SLURM_CONF"
sleep 2
slurmd -f "$SLURM_CONF"
for _ in $(seq 1 60); do
  sinfo -h -o '%t' 2>/dev/null | grep -qx idle && break
  sleep 1
done
sinfo | tee "$out/logs/sinfo.txt"
sinfo -h -o '%t' | grep -qx idle || { echo "test-local-slurm: the node never became idle" >&2; exit 1; }

# the sweep: 8 cells of a few seconds each on the shipped lag48 model
sweep=(--dllm models/dllm-t4 --tasks lag48 --block-lengths 32,full
       --policies "threshold:tau=0.9|0.99,topk:steps=64,eb:gamma=0.1" --n 40 --seeds 1 --workers 1)
rel() { case "$1" in "$repo"/*) echo "${1#"$repo"/}" ;; *) echo "$1" ;; esac; }
single=$(rel "$out/single") slurm=$(rel "$out/slurm")

echo "test-local-slurm: single-process run ..." >&2
t0=$SECONDS
./unmask sweep "${sweep[@]}" --out "$single" > "$out/logs/single.out" 2>&1
single_s=$((SECONDS - t0))

echo "test-local-slurm: 2-task array ..." >&2
t0=$SECONDS
job=$(sbatch --parsable --array=0-1 --chdir="$repo" --output="$out/logs/slurm-%A_%a.out" \
  scripts/slurm/sweep.sbatch "${sweep[@]}" --out "$slurm")
job=${job%%;*}
echo "submitted job $job" >&2
squeue > "$out/logs/squeue-after-submit.txt" 2>&1 || true
for _ in $(seq 1 300); do
  [ -z "$(squeue -h -j "$job" 2>/dev/null)" ] && break
  sleep 1
done
array_s=$((SECONDS - t0))
if [ -n "$(squeue -h -j "$job" 2>/dev/null)" ]; then
  echo "test-local-slurm: job $job still queued or running after 300 s" >&2
  exit 1
fi
# the completion records are written as each task ends
for _ in $(seq 1 20); do
  [ "$(grep -c "JobState=" "$S/jobcomp.txt" 2>/dev/null || true)" -ge 2 ] && break
  sleep 0.5
done
cp "$S/jobcomp.txt" "$out/jobcomp.txt"
sed "s#$S#\$S#g" "$S/slurm.conf" > "$out/slurm.conf"

status=0
completed=$(grep -c "JobState=COMPLETED" "$out/jobcomp.txt" || true)
records=$(grep -c "JobState=" "$out/jobcomp.txt" || true)
if [ "$completed" -lt 2 ] || [ "$records" != "$completed" ]; then
  echo "test-local-slurm: expected 2 COMPLETED job records, found $completed of $records:" >&2
  cat "$out/jobcomp.txt" >&2
  status=1
fi
tasks=$(grep -o '"array_task_id" : "[0-9]*"' "$slurm/manifest.json" | sort -u | wc -l)
if [ "$tasks" != 2 ]; then
  echo "test-local-slurm: expected both array tasks among the invocations of $slurm/manifest.json, found $tasks" >&2
  status=1
fi
(
  echo "# Slurm 2-task array against one process"
  echo
  echo "\`./unmask compare $single $slurm\` (job $job; single process ${single_s} s, array ${array_s} s from submission to the last task's end):"
  echo
  ./unmask compare "$single" "$slurm" && cmp=0 || cmp=$?
  echo
  echo "Which task computed which cells (\`./unmask progress $slurm\`):"
  echo
  ./unmask progress "$slurm"
  echo
  echo "Job-completion records (jobcomp/filetxt): $completed COMPLETED of $records."
  exit "$cmp"
) > "$out/compare.md" || status=1
cat "$out/compare.md"
echo "test-local-slurm: $([ "$status" = 0 ] && echo PASSED || echo FAILED) in $((SECONDS - started)) s; $([ "$keep" = 1 ] && echo "outputs in $out" || echo "outputs removed with the temp folder (name an OUT folder to keep them)")" >&2
exit "$status"
