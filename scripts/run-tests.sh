#!/usr/bin/env bash
# Runs the whole suite.  pytest's exit code 5 ("no tests collected") is a failure here, never a pass.
#
# The Qt tests (tests/ui) run in a pytest process of their own, after the rest: pytest-qt processes
# pending Qt events before and after *every* test once a QApplication exists, and a non-Qt test that
# ran after the UI tests in the same process segfaulted there now and then (in pytestqt's
# _process_events, on events left by an earlier window).  The app itself has one QApplication for its
# whole life; this keeps the harness from mixing the two kinds of test.  Extra arguments run a single
# pytest with them instead; PYTEST_ADDOPTS (e.g. -m "not slow") applies to both runs.
#
# Every test that starts a QApplication belongs to the Qt run (QT_TESTS), and the other run loads
# no pytest-qt at all: CI once segfaulted in pytestqt's _process_events, dozens of tests after the
# first-run download dialog's test had left a QApplication in the non-Qt process.
set -uo pipefail
cd "$(dirname "$0")/.."
export QT_QPA_PLATFORM=offscreen

# Every run ends: pytest-timeout fails a single test after 300 s (pyproject.toml), and each pytest process
# below also has a wall-clock fence (FENCE seconds; SIGTERM, then SIGKILL 30 s later) so that no hang,
# whatever its kind, can eat CI's 90 minutes -- a UI test once sat in Qt's event loop until CI killed it.
FENCE=${FENCE:-3000}
run() {
  timeout --kill-after=30 "$FENCE" .venv/bin/python -m pytest -q -p no:cacheprovider --durations=25 "$@"
  local rc=$?
  if [ $rc -eq 124 ] || [ $rc -eq 137 ]; then
    echo "ERROR: pytest ($*) did not end within its ${FENCE} s fence and was stopped" >&2
    return 1
  fi
  if [ $rc -eq 5 ]; then
    echo "ERROR: pytest collected no tests ($*) — treating as a failure" >&2
    return 1
  fi
  return $rc
}

if [ $# -gt 0 ]; then
  run "$@"
  exit $?
fi
QT_TESTS=(tests/ui tests/unit/test_browser_provision_dialog.py)
# In the Qt runs a test past its timeout dumps every thread's stack and ends the process (pytest-timeout's
# thread method): a SIGALRM handler would never run while Qt's event loop waits in C++.
QT_TIMEOUT=(-o timeout_method=thread)
run -p no:pytestqt --ignore=tests/ui --deselect tests/unit/test_browser_provision_dialog.py \
  --ignore=tests/unit/test_browser_provision_dialog.py
rc_rest=$?
# Most of those crashes had one cause, found in Dec 2026 with gdb: Python's cycle collector freeing Qt
# objects in a worker thread (QTimerInfoList::activateTimers on a dead receiver); the app and the Qt
# tests now collect on the GUI thread only (app/ui/main_thread_gc.py).  The split stays as a fence.
# The Record dialog's tests drive a real headed recorder under Qt; in one run they segfaulted inside
# qasync after dozens of other Qt tests (a pycares thread shutting down): they get a process of their own.
FENCE=900 run "${QT_TIMEOUT[@]}" "${QT_TESTS[@]}" --ignore=tests/ui/test_record.py --ignore=tests/ui/test_cloud_jobs.py
rc_ui=$?
FENCE=300 run "${QT_TIMEOUT[@]}" tests/ui/test_record.py
rc_rec=$?
[ $rc_ui -eq 0 ] && rc_ui=$rc_rec
# The Cloud jobs test (two windows, the emulator, a fetched video in the player) passes on its own
# every time, but Qt tests that ran after it in the same process segfaulted now and then (inside
# qasync/pytest-qt event processing) -- very likely the worker-thread collection above, since fixed: in
# the same process it then passed 2 of 2 runs.  Its own process too, as a fence.
FENCE=300 run "${QT_TIMEOUT[@]}" tests/ui/test_cloud_jobs.py
rc_jobs=$?
[ $rc_ui -eq 0 ] && rc_ui=$rc_jobs
echo "suite: non-UI tests exit $rc_rest, UI tests exit $rc_ui" >&2
[ $rc_rest -eq 0 ] && [ $rc_ui -eq 0 ]
