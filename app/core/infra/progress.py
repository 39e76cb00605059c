"""Progress events and cancellation shared by every long operation of the core.

A long operation is an ``async`` function taking ``on_progress`` (a plain callable) and a
:class:`CancelToken`.  The CLI prints the events, the UI turns them into Qt signals, the cloud
recorder turns them into heartbeats.  Cancellation is cooperative for Python code and forceful for
child processes: registered processes are sent SIGINT, then SIGTERM, then SIGKILL.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import signal
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

from ..errors import Cancelled

#: the stages of a render, in order, with their rough share of the work (for one overall fraction)
RENDER_STAGES: dict[str, float] = {
    "prepare": 0.02,
    "voice": 0.18,
    "plan": 0.01,
    "capture": 0.64,
    "mix": 0.15,
}


@dataclass(frozen=True)
class Progress:
    stage: str  # "prepare", "voice", "plan", "capture", "mix", "upload", "draft", ...
    fraction: float  # 0..1 within the stage
    message: str = ""
    overall: float | None = None  # 0..1 across the whole operation, when known
    eta_s: float | None = None  # seconds left for the whole operation, when estimable


ProgressCallback = Callable[[Progress], None]


def _noop(_: Progress) -> None:
    return None


@dataclass
class StageTracker:
    """Turns per-stage fractions into an overall fraction and an ETA; calls the callback."""

    callback: ProgressCallback = _noop
    weights: dict[str, float] = field(default_factory=lambda: dict(RENDER_STAGES))
    started: float = field(default_factory=time.monotonic)
    stage_times: dict[str, float] = field(default_factory=dict)
    _stage_start: dict[str, float] = field(default_factory=dict)

    def _overall(self, stage: str, fraction: float) -> float:
        total = sum(self.weights.values()) or 1.0
        done = 0.0
        for name, w in self.weights.items():
            if name == stage:
                done += w * max(0.0, min(1.0, fraction))
                break
            done += w
        return done / total

    def report(self, stage: str, fraction: float, message: str = "") -> None:
        now = time.monotonic()
        self._stage_start.setdefault(stage, now)
        overall = self._overall(stage, fraction) if stage in self.weights else None
        eta = None
        if overall is not None and overall > 0.03:
            elapsed = now - self.started
            eta = max(0.0, elapsed / overall - elapsed)
        self.callback(Progress(stage, max(0.0, min(1.0, fraction)), message, overall, eta))

    def finish_stage(self, stage: str) -> None:
        start = self._stage_start.get(stage)
        if start is not None:
            self.stage_times[stage] = time.monotonic() - start
        self.report(stage, 1.0)

    @contextlib.contextmanager
    def stage(self, name: str, message: str = "") -> Iterator[None]:
        self._stage_start[name] = time.monotonic()
        self.report(name, 0.0, message)
        yield
        self.finish_stage(name)


class CancelToken:
    """A cancel flag that long operations poll or await, and that kills registered processes."""

    def __init__(self) -> None:
        self._event = asyncio.Event()
        self._procs: set[asyncio.subprocess.Process] = set()
        self._callbacks: list[Callable[[], None]] = []
        self.reason = "cancelled"

    @property
    def cancelled(self) -> bool:
        return self._event.is_set()

    def cancel(self, reason: str = "cancelled") -> None:
        if self._event.is_set():
            return
        self.reason = reason
        self._event.set()
        for proc in list(self._procs):
            _signal_process_group(proc, signal.SIGINT)
        for cb in list(self._callbacks):
            cb()

    def raise_if_cancelled(self) -> None:
        if self._event.is_set():
            raise Cancelled(self.reason)

    async def wait(self) -> None:
        await self._event.wait()

    def on_cancel(self, cb: Callable[[], None]) -> Callable[[], None]:
        """Call ``cb`` when cancelled (immediately if already).  Returns an unregister function."""
        if self._event.is_set():
            cb()
            return lambda: None
        self._callbacks.append(cb)
        return lambda: self._callbacks.remove(cb) if cb in self._callbacks else None

    def register(self, proc: asyncio.subprocess.Process) -> None:
        self._procs.add(proc)
        if self._event.is_set():
            _signal_process_group(proc, signal.SIGINT)

    def unregister(self, proc: asyncio.subprocess.Process) -> None:
        self._procs.discard(proc)


def _signal_process_group(proc: asyncio.subprocess.Process, sig: int) -> None:
    if proc.returncode is not None:
        return
    with contextlib.suppress(ProcessLookupError, PermissionError):
        if os.name == "posix":
            os.killpg(proc.pid, sig)
        else:  # pragma: no cover - Windows
            proc.terminate()


def _group_alive(proc: asyncio.subprocess.Process) -> bool:
    """The process, or any process left in its group (children can outlive the leader)."""
    if proc.returncode is None:
        return True
    if os.name != "posix":  # pragma: no cover - Windows
        return False
    try:
        os.killpg(proc.pid, 0)
    except (ProcessLookupError, PermissionError):
        return False
    return not _only_zombies(proc.pid)


def _only_zombies(pgid: int) -> bool:
    # Orphans are reaped by PID 1, which in a container may take its time (or never happen): a dead,
    # unreaped member still counts for killpg, so look at the states where /proc can tell us.
    proc_dir = Path("/proc")
    if not proc_dir.is_dir():
        return False
    for stat in proc_dir.glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except (OSError, IndexError):
            continue
        if len(fields) > 2 and fields[2] == str(pgid) and fields[0] != "Z":
            return False
    return True


async def stop_process(proc: asyncio.subprocess.Process, grace_s: float = 0.4) -> None:
    """SIGINT, then SIGTERM, then SIGKILL to the process group; waits at most ~1 s in total.

    Escalates until the whole group is gone, not just its leader: a shell or launcher that dies on
    SIGINT must not leave children behind that ignore it.
    """
    loop = asyncio.get_running_loop()
    for sig, wait in ((signal.SIGINT, grace_s), (signal.SIGTERM, grace_s), (signal.SIGKILL, 1.0)):
        if not _group_alive(proc):
            return
        deadline = loop.time() + wait
        if proc.returncode is None:
            _signal_process_group(proc, sig)
            with contextlib.suppress(asyncio.TimeoutError):
                await asyncio.wait_for(proc.wait(), wait)
        elif os.name == "posix":
            with contextlib.suppress(ProcessLookupError, PermissionError):
                os.killpg(proc.pid, sig)
        # group members are not our children: nothing to await, so look a few times until the deadline
        while _group_alive(proc) and loop.time() < deadline:
            await asyncio.sleep(0.02)
