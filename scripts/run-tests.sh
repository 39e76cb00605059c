#!/usr/bin/env bash
# Runs the whole suite.  pytest's exit code 5 ("no tests collected") is a failure here, never a pass.
set -uo pipefail
cd "$(dirname "$0")/.."
export QT_QPA_PLATFORM=offscreen
.venv/bin/python -m pytest -q -p no:cacheprovider "$@"
rc=$?
if [ $rc -eq 5 ]; then
  echo "ERROR: pytest collected no tests — treating as a failure" >&2
  exit 1
fi
exit $rc
