"""Progress events, the stage tracker, and cancellation of real child processes."""

from __future__ import annotations

import asyncio
import functools
import os
import signal
import time
from collections.abc import Callable, Coroutine
from pathlib import Path
from typing import Any

import pytest

from app.core.errors import Cancelled
from app.core.infra.progress import RENDER_STAGES, CancelToken, Progress, StageTracker, stop_process


def _sync(fn: Callable[[], Coroutine[Any, Any, None]]) -> Callable[[], None]:
    """Run an async test body in a fresh event loop (no asyncio plugin needed)."""

    @functools.wraps(fn)
    def run() -> None:
        asyncio.run(fn())

    return run


def _state(pid: int) -> str | None:
    """The process state letter from /proc, or None when it is gone."""
    try:
        return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except (FileNotFoundError, ProcessLookupError):
        return None


def _running(pid: int) -> bool:
    return _state(pid) not in (None, "Z", "X")


# --------------------------------------------------------------------------- StageTracker


def test_overall_fraction_runs_through_the_stages_monotonically() -> None:
    events: list[Progress] = []
    tracker = StageTracker(events.append)
    for stage in RENDER_STAGES:
        with tracker.stage(stage, f"doing {stage}"):
            for i in range(1, 5):
                tracker.report(stage, i / 4)
    overall = [e.overall for e in events]
    assert all(o is not None for o in overall)
    values = [o for o in overall if o is not None]
    assert values == sorted(values), "overall progress never goes back"
    assert values[0] == 0.0 and values[-1] == pytest.approx(1.0)
    assert events[0] == Progress("prepare", 0.0, "doing prepare", 0.0, None)
    # the end of one stage is the start of the next
    capture_start = next(e for e in events if e.stage == "capture").overall
    assert capture_start == pytest.approx(sum(RENDER_STAGES[s] for s in ("prepare", "voice", "plan")))
    assert set(tracker.stage_times) == set(RENDER_STAGES)
    assert all(t >= 0 for t in tracker.stage_times.values())


def test_fraction_is_clamped_and_unknown_stages_have_no_overall() -> None:
    events: list[Progress] = []
    tracker = StageTracker(events.append, weights={"a": 1.0, "b": 3.0})
    tracker.report("a", 1.7)
    tracker.report("b", -0.5)
    tracker.report("b", 0.5)
    tracker.report("upload", 0.5)
    assert [(e.fraction, e.overall) for e in events] == [(1.0, 0.25), (0.0, 0.25), (0.5, 0.625), (0.5, None)]
    assert events[-1].eta_s is None


def test_eta_falls_steadily_when_work_advances_at_a_steady_rate() -> None:
    events: list[Progress] = []
    tracker = StageTracker(events.append, weights={"only": 1.0})
    t0 = time.monotonic()
    # simulate 10 s of work at a steady rate by moving the start back in time
    for i in range(1, 11):
        tracker.started = t0 - i
        tracker.report("only", i / 10)
    etas = [e.eta_s for e in events]
    assert all(e is not None for e in etas)
    values = [e for e in etas if e is not None]
    assert values == sorted(values, reverse=True)
    assert values[0] == pytest.approx(9.0, abs=0.2)  # 1 s for 10 %: 9 s left
    assert values[-1] == pytest.approx(0.0, abs=0.05)


def test_no_eta_before_enough_progress() -> None:
    events: list[Progress] = []
    tracker = StageTracker(events.append, weights={"only": 1.0})
    tracker.report("only", 0.02)
    tracker.report("only", 0.5)
    assert events[0].eta_s is None and events[1].eta_s is not None


# --------------------------------------------------------------------------- CancelToken


def test_cancel_token_flags_callbacks_and_reason() -> None:
    token = CancelToken()
    calls: list[str] = []
    token.on_cancel(lambda: calls.append("first"))
    unregister = token.on_cancel(lambda: calls.append("removed"))
    unregister()
    assert not token.cancelled
    token.raise_if_cancelled()  # nothing yet
    token.cancel("user pressed stop")
    token.cancel("again")  # idempotent: callbacks run once, first reason kept
    assert token.cancelled and calls == ["first"]
    with pytest.raises(Cancelled) as info:
        token.raise_if_cancelled()
    assert str(info.value) == "user pressed stop" and info.value.exit_code == 130
    # registering after the fact calls back at once
    token.on_cancel(lambda: calls.append("late"))
    assert calls == ["first", "late"]


@_sync
async def test_wait_returns_when_cancelled() -> None:
    token = CancelToken()
    waiter = asyncio.create_task(token.wait())
    await asyncio.sleep(0)
    assert not waiter.done()
    asyncio.get_running_loop().call_soon(token.cancel)
    await asyncio.wait_for(waiter, 1.0)


@_sync
async def test_cancel_interrupts_a_registered_process_group() -> None:
    token = CancelToken()
    proc = await asyncio.create_subprocess_exec("sleep", "30", start_new_session=True)
    token.register(proc)
    t0 = time.monotonic()
    token.cancel()
    rc = await asyncio.wait_for(proc.wait(), 2.0)
    assert rc == -signal.SIGINT
    assert time.monotonic() - t0 < 1.0


@_sync
async def test_register_after_cancel_interrupts_at_once() -> None:
    token = CancelToken()
    token.cancel()
    proc = await asyncio.create_subprocess_exec("sleep", "30", start_new_session=True)
    token.register(proc)
    assert await asyncio.wait_for(proc.wait(), 2.0) == -signal.SIGINT


@_sync
async def test_unregistered_process_is_left_alone() -> None:
    token = CancelToken()
    proc = await asyncio.create_subprocess_exec("sleep", "30", start_new_session=True)
    token.register(proc)
    token.unregister(proc)
    token.cancel()
    try:
        with pytest.raises(asyncio.TimeoutError):
            await asyncio.wait_for(asyncio.shield(proc.wait()), 0.3)
    finally:
        await stop_process(proc)
    assert proc.returncode == -signal.SIGINT


# --------------------------------------------------------------------------- stop_process


@_sync
async def test_stop_process_escalates_to_sigterm() -> None:
    # a process that ignores SIGINT (as a shell's background jobs do) still stops, within a second
    proc = await asyncio.create_subprocess_exec(
        "sh", "-c", "trap '' INT; echo ready; while :; do sleep 0.05; done",
        stdout=asyncio.subprocess.PIPE, start_new_session=True)
    assert proc.stdout is not None
    assert await proc.stdout.readline() == b"ready\n"
    t0 = time.monotonic()
    await stop_process(proc, grace_s=0.2)
    assert proc.returncode == -signal.SIGTERM
    assert time.monotonic() - t0 < 1.0


@_sync
async def test_stop_process_kills_the_whole_group() -> None:
    # The shell dies on SIGINT; its background sleeps ignore SIGINT (POSIX) and must not survive it.
    proc = await asyncio.create_subprocess_exec(
        "sh", "-c", "sleep 30 & echo $!; sleep 30 & echo $!; wait",
        stdout=asyncio.subprocess.PIPE, start_new_session=True)
    assert proc.stdout is not None
    children = [int(await proc.stdout.readline()) for _ in range(2)]
    assert all(_running(pid) for pid in children)
    try:
        t0 = time.monotonic()
        await stop_process(proc, grace_s=0.2)
        elapsed = time.monotonic() - t0
        assert proc.returncode is not None
        assert not any(_running(pid) for pid in children), "children outlived the cancel"
        assert elapsed < 1.0
    finally:
        for pid in children:
            if _running(pid):
                os.kill(pid, signal.SIGKILL)


@_sync
async def test_stop_process_on_a_finished_process_is_a_no_op() -> None:
    proc = await asyncio.create_subprocess_exec("true", start_new_session=True)
    await proc.wait()
    t0 = time.monotonic()
    await stop_process(proc)
    assert proc.returncode == 0 and time.monotonic() - t0 < 0.1
