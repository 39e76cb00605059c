"""External tools (ffmpeg, ffprobe, espeak-ng) run one way: no shell, in their own process group,
cancellable within about a second, with the end of their stderr kept for the error message.

:func:`run_tool` is the only place that starts such a process and waits for it; the stages build
their argv with pure functions and interpret the result.  Cancel (a :class:`CancelToken` or the task
being cancelled) stops the whole process group — SIGINT, SIGTERM, then SIGKILL — before it returns.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections import deque
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from ..errors import Cancelled, ToolMissingError
from .progress import CancelToken, stop_process

#: on cancel the tool's output is thrown away, so it gets little time to finish politely
CANCEL_GRACE_S = 0.15


@dataclass
class ToolRun:
    """How a tool ended: its exit code, its stdout (when collected) and its stderr."""

    argv: list[str]
    returncode: int
    stdout: bytes = b""
    #: the last ``tail_lines`` non-empty lines of stderr, for error messages
    stderr_tail: list[str] = field(default_factory=list)
    #: all of stderr, when ``collect_stderr`` was asked for (ffmpeg prints its measurements there)
    stderr: str = ""

    @property
    def ok(self) -> bool:
        return self.returncode == 0

    def tail(self, lines: int = 8) -> str:
        return "\n    ".join(self.stderr_tail[-lines:]) or "(no message)"


async def run_tool(
    argv: Sequence[str | Path],
    *,
    cancel: CancelToken | None = None,
    stdin: bytes | None = None,
    on_stdout_line: Callable[[str], None] | None = None,
    collect_stdout: bool = False,
    collect_stderr: bool = False,
    tail_lines: int = 30,
    missing_hint: str | None = None,
) -> ToolRun:
    """Run ``argv`` to its end and return how it ended (a non-zero exit is the caller's to judge).

    Raises :class:`ToolMissingError` if the program does not exist and :class:`Cancelled` if ``cancel``
    fires first; if the awaiting task is cancelled the process group is stopped before the
    ``CancelledError`` propagates.  Nothing is left running either way.
    """
    args = [str(a) for a in argv]
    if not args:
        raise ValueError("run_tool needs an argv")
    if cancel is not None:
        cancel.raise_if_cancelled()
    want_stdout = on_stdout_line is not None or collect_stdout
    try:
        proc = await asyncio.create_subprocess_exec(
            *args,
            stdin=asyncio.subprocess.PIPE if stdin is not None else asyncio.subprocess.DEVNULL,
            stdout=asyncio.subprocess.PIPE if want_stdout else asyncio.subprocess.DEVNULL,
            stderr=asyncio.subprocess.PIPE,
            start_new_session=True,
        )
    except FileNotFoundError:
        name = Path(args[0]).name
        raise ToolMissingError(f"{name} not found at {args[0]}", hint=missing_hint) from None
    if cancel is not None:
        cancel.register(proc)
    tail: deque[str] = deque(maxlen=tail_lines)
    out_chunks: list[bytes] = []
    err_chunks: list[str] = []

    async def feed() -> None:
        assert proc.stdin is not None and stdin is not None
        with contextlib.suppress(BrokenPipeError, ConnectionResetError):
            proc.stdin.write(stdin)
            await proc.stdin.drain()
        proc.stdin.close()

    async def read_stdout() -> None:
        assert proc.stdout is not None
        if on_stdout_line is None:
            out_chunks.append(await proc.stdout.read())
            return
        async for raw in proc.stdout:
            if collect_stdout:
                out_chunks.append(raw)
            on_stdout_line(raw.decode("utf-8", "replace").rstrip("\r\n"))

    async def read_stderr() -> None:
        assert proc.stderr is not None
        async for raw in proc.stderr:
            line = raw.decode("utf-8", "replace")
            if collect_stderr:
                err_chunks.append(line)
            line = line.rstrip()
            if line:
                tail.append(line)

    io = [read_stderr()]
    if want_stdout:
        io.append(read_stdout())
    if stdin is not None:
        io.append(feed())
    readers = asyncio.gather(*io)
    waiter = asyncio.ensure_future(proc.wait())
    cancel_wait = asyncio.ensure_future(cancel.wait()) if cancel is not None else None
    try:
        pending: set[asyncio.Future[object]] = {waiter}  # type: ignore[arg-type]
        if cancel_wait is not None:
            pending.add(cancel_wait)  # type: ignore[arg-type]
        done, _ = await asyncio.wait(pending, return_when=asyncio.FIRST_COMPLETED)
        if waiter not in done:
            await stop_process(proc, grace_s=CANCEL_GRACE_S)
            raise Cancelled(cancel.reason if cancel is not None else "cancelled")
        await readers
    except BaseException:
        if proc.returncode is None:
            await stop_process(proc, grace_s=CANCEL_GRACE_S)
        readers.cancel()
        waiter.cancel()
        with contextlib.suppress(asyncio.CancelledError, OSError, ValueError):
            await readers
        raise
    finally:
        if cancel_wait is not None:
            cancel_wait.cancel()
        if cancel is not None:
            cancel.unregister(proc)
    assert proc.returncode is not None
    return ToolRun(args, proc.returncode, b"".join(out_chunks), list(tail), "".join(err_chunks))
