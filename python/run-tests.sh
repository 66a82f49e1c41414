#!/usr/bin/env bash
# The Python package's tests (python/tests), run by `mvn test` after the Java modules' tests (bound in
# experiments/pom.xml). Needs a python3 with torch and pytest (Debian: python3-torch python3-pytest);
# without one it says so and skips, unless UNMASK_REQUIRE_PYTHON_TESTS=1 (CI) makes that a failure.
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
py=""
for candidate in ${UNMASK_PYTHON:-python3 /usr/bin/python3}; do
  if command -v "$candidate" >/dev/null 2>&1 && "$candidate" -c "import torch, pytest" 2>/dev/null; then py="$candidate"; break; fi
done
if [ -z "$py" ]; then
  if [ "${UNMASK_REQUIRE_PYTHON_TESTS:-0}" = 1 ]; then
    echo "python tests: no python3 with torch and pytest (apt-get install python3-torch python3-pytest)" >&2
    exit 1
  fi
  echo "python tests SKIPPED: no python3 with torch and pytest (apt-get install python3-torch python3-pytest; see python/README.md)" >&2
  exit 0
fi
cd "$here/.."
export PYTHONPATH="$here${PYTHONPATH:+:$PYTHONPATH}" PYTHONDONTWRITEBYTECODE=1
echo "python tests: $("$py" -c 'import sys, torch; print(sys.executable, "torch", torch.__version__)')"
exec "$py" -m pytest -q -p no:cacheprovider "$here/tests"
