#!/usr/bin/env bash
# The Python package's tests (python/tests). Needs a python3 with torch and pytest (Debian:
# python3-torch python3-pytest); without one it says so and skips, unless UNMASK_REQUIRE_PYTHON_TESTS=1
# (CI) makes that a failure.
#
#   run-tests.sh              run them now, in the foreground
#   run-tests.sh --start DIR  start them in the background (one thread), results into DIR; returns at once
#   run-tests.sh --join DIR   wait for the run --start began, print its output, exit with its status;
#                             where none was started (DIR has no pid), run them now
#
# `mvn test` uses the last two: the root pom starts them before the first module compiles and
# experiments/pom.xml joins them after the last module's tests, so the pytest suite runs on the second
# core while the Java tests run on the first instead of after them.
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
mode="${1:-}"
dir="${2:-}"

find_python() {
  for candidate in ${UNMASK_PYTHON:-python3 /usr/bin/python3}; do
    if command -v "$candidate" >/dev/null 2>&1 && "$candidate" -c "import torch, pytest" 2>/dev/null; then
      echo "$candidate"; return
    fi
  done
}

# prints why the tests cannot run and returns what the caller should exit with
no_python() {
  if [ "${UNMASK_REQUIRE_PYTHON_TESTS:-0}" = 1 ]; then
    echo "python tests: no python3 with torch and pytest (apt-get install python3-torch python3-pytest)" >&2
    return 1
  fi
  echo "python tests SKIPPED: no python3 with torch and pytest (apt-get install python3-torch python3-pytest; see python/README.md)" >&2
  return 0
}

run_now() {
  local py="$1"
  cd "$here/.."
  export PYTHONPATH="$here${PYTHONPATH:+:$PYTHONPATH}" PYTHONDONTWRITEBYTECODE=1
  echo "python tests: $("$py" -c 'import sys, torch; print(sys.executable, "torch", torch.__version__)')"
  "$py" -m pytest -q -p no:cacheprovider "$here/tests"
}

case "$mode" in
  "")
    py="$(find_python)"
    if [ -z "$py" ]; then no_python; exit $?; fi
    run_now "$py"
    ;;
  --start)
    [ -n "$dir" ] || { echo "run-tests.sh --start DIR: DIR missing" >&2; exit 2; }
    rm -rf "$dir" && mkdir -p "$dir"
    dir="$(cd "$dir" && pwd)"
    # looking for torch takes seconds too, so it happens in the background half as well;
    # one thread: the Java tests have the other core
    OMP_NUM_THREADS=1 MKL_NUM_THREADS=1 setsid bash -c '
      "$0" --foreground-into "$1" >"$1/log" 2>&1; echo $? >"$1/exit-code.tmp"; mv "$1/exit-code.tmp" "$1/exit-code"
    ' "$here/run-tests.sh" "$dir" </dev/null >/dev/null 2>&1 &
    echo $! >"$dir/pid"
    echo "python tests: started in the background (pid $!, output in $dir/log)"
    ;;
  --foreground-into)
    # internal: the background half of --start
    py="$(find_python)"
    if [ -z "$py" ]; then no_python; exit $?; fi
    run_now "$py"
    ;;
  --join)
    [ -n "$dir" ] || { echo "run-tests.sh --join DIR: DIR missing" >&2; exit 2; }
    if [ ! -f "$dir/pid" ]; then
      exec "$here/run-tests.sh"
    fi
    pid="$(cat "$dir/pid")"
    while [ ! -f "$dir/exit-code" ]; do
      if ! kill -0 "$pid" 2>/dev/null && [ ! -f "$dir/exit-code" ]; then
        sleep 0.5
        [ -f "$dir/exit-code" ] && break
        echo "python tests: the background run (pid $pid) ended without a status; running them now" >&2
        rm -rf "$dir"
        exec "$here/run-tests.sh"
      fi
      sleep 0.2
    done
    cat "$dir/log"
    code="$(cat "$dir/exit-code")"
    rm -rf "$dir"
    exit "$code"
    ;;
  *)
    echo "run-tests.sh: unknown option $mode (none, --start DIR or --join DIR)" >&2
    exit 2
    ;;
esac
