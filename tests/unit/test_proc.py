"""run_tool (app/core/infra/proc.py): the one way ffmpeg, ffprobe and espeak-ng are run — with real
processes: output and exit codes come back, cancel and task cancellation end the whole process group
within a second, a missing program is a ToolMissingError."""

from __future__ import annotations

import asyncio
import sys
import time
from pathlib import Path

import pytest

from app.core.errors import Cancelled, ToolMissingError
from app.core.infra.proc import run_tool
from app.core.infra.progress import CancelToken

# a parent that starts a grandchild in its group and both sleep: only a group stop ends both
SLEEPERS = [sys.executable, "-c",
            "import subprocess, sys, time; subprocess.Popen([sys.executable, '-c', 'import time; time.sleep(60)']);"
            "print('ready', flush=True); time.sleep(60)"]


def _group_alive(pgid: int) -> bool:
    """Any live (not zombie: PID 1 here may never reap orphans) process in the group, from /proc."""
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except (OSError, IndexError):
            continue
        if fields[2] == str(pgid) and fields[0] != "Z":
            return True
    return False


def test_output_exit_code_stdin_and_stderr_tail() -> None:
    run = asyncio.run(run_tool([sys.executable, "-c",
                                "import sys; d = sys.stdin.read(); print(d.upper()); "
                                "print('line1', file=sys.stderr); print('line2', file=sys.stderr); sys.exit(3)"],
                               stdin=b"hello", collect_stdout=True, collect_stderr=True))
    assert run.returncode == 3 and not run.ok
    assert run.stdout == b"HELLO\n"
    assert run.stderr_tail == ["line1", "line2"] and run.stderr == "line1\nline2\n"
    assert run.tail(1) == "line2"


def test_lines_are_streamed_as_they_come() -> None:
    lines: list[str] = []
    run = asyncio.run(run_tool([sys.executable, "-c", "print('a'); print('b')"], on_stdout_line=lines.append))
    assert run.ok and lines == ["a", "b"]


def test_a_missing_program_is_a_tool_error() -> None:
    with pytest.raises(ToolMissingError, match="no-such-tool not found") as exc:
        asyncio.run(run_tool(["/nonexistent/no-such-tool"], missing_hint="install it"))
    assert exc.value.hint == "install it"


def test_cancel_ends_the_whole_group_within_a_second() -> None:
    async def main() -> tuple[float, int]:
        cancel = CancelToken()
        started = asyncio.Event()
        pgid = 0

        def on_line(line: str) -> None:
            if line == "ready":
                started.set()

        task = asyncio.ensure_future(run_tool(SLEEPERS, cancel=cancel, on_stdout_line=on_line))
        await asyncio.wait_for(started.wait(), 30)
        pgid = next(p for p in cancel._procs).pid  # the tool leads its own process group
        t0 = time.monotonic()
        cancel.cancel("stop")
        with pytest.raises(Cancelled):
            await task
        return time.monotonic() - t0, pgid

    latency, pgid = asyncio.run(main())
    print(f"\ncancel to return: {latency * 1000:.0f} ms")
    assert latency < 1.0
    assert not _group_alive(pgid)


def test_a_cancelled_task_stops_the_group_too() -> None:
    async def main() -> int:
        cancel = CancelToken()  # registered only to learn the pid; the task itself is cancelled
        started = asyncio.Event()
        task = asyncio.ensure_future(run_tool(SLEEPERS, cancel=cancel,
                                              on_stdout_line=lambda line: started.set()))
        await asyncio.wait_for(started.wait(), 30)
        pgid = next(p for p in cancel._procs).pid
        task.cancel()
        with pytest.raises(asyncio.CancelledError):
            await task
        return pgid

    assert not _group_alive(asyncio.run(main()))
