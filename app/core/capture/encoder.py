"""The frame sink that feeds captured JPEG frames to an ffmpeg encoder as they are made.

Encoding runs beside capture (a second process on the second core), so the video-only MP4 is ready
when the last frame is captured.  Frames are never held in memory beyond the pipe's buffer.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections import deque
from pathlib import Path

from ..errors import RenderError
from ..infra.progress import CancelToken, stop_process


class FfmpegSink:
    def __init__(self, argv: list[str], *, cancel: CancelToken | None = None) -> None:
        self.argv = argv
        self.cancel = cancel
        self.proc: asyncio.subprocess.Process | None = None
        self.frames = 0
        self.max_buffer = 4 * 1024 * 1024
        self._stderr: deque[str] = deque(maxlen=30)
        self._reader: asyncio.Task[None] | None = None

    @property
    def ffmpeg(self) -> Path:
        return Path(self.argv[0])

    async def start(self) -> FfmpegSink:
        self.proc = await asyncio.create_subprocess_exec(
            *self.argv, stdin=asyncio.subprocess.PIPE, stdout=asyncio.subprocess.DEVNULL,
            stderr=asyncio.subprocess.PIPE, start_new_session=True)
        if self.cancel is not None:
            self.cancel.register(self.proc)
        self._reader = asyncio.create_task(self._read_stderr())
        return self

    async def _read_stderr(self) -> None:
        assert self.proc is not None and self.proc.stderr is not None
        async for line in self.proc.stderr:
            self._stderr.append(line.decode("utf-8", "replace").rstrip())

    def _failure(self, what: str) -> RenderError:
        tail = "\n".join(list(self._stderr)[-8:])
        return RenderError(f"the video encoder {what}" + (f":\n{tail}" if tail else ""))

    async def write(self, jpeg: bytes) -> None:
        assert self.proc is not None and self.proc.stdin is not None
        if self.proc.returncode is not None or self.proc.stdin.transport.is_closing():
            # The encoder is gone (killed, or it hit a full disk).  asyncio drops writes to a
            # closed pipe without a word, so without this check the capture would run to its end.
            await self._wait_reader()
            raise self._failure(f"stopped unexpectedly (exit code {self.proc.returncode})"
                                if self.proc.returncode is not None else "stopped unexpectedly")
        try:
            self.proc.stdin.write(jpeg)
            # Wait for the encoder only when it falls behind: a drain per frame costs ~1 ms of
            # round trip, and the buffer (at most a few dozen frames) bounds memory all the same.
            if self.proc.stdin.transport.get_write_buffer_size() > self.max_buffer:
                await self.proc.stdin.drain()
        except (BrokenPipeError, ConnectionResetError):
            await self._wait_reader()
            raise self._failure("stopped unexpectedly") from None
        self.frames += 1

    async def _wait_reader(self) -> None:
        if self._reader is not None:
            with contextlib.suppress(asyncio.TimeoutError, asyncio.CancelledError):
                await asyncio.wait_for(self._reader, 2)

    async def finish(self) -> None:
        """Close the pipe and wait for the encoder to write its file."""
        assert self.proc is not None and self.proc.stdin is not None
        with contextlib.suppress(BrokenPipeError, ConnectionResetError):
            self.proc.stdin.close()
            await self.proc.stdin.wait_closed()
        rc = await self.proc.wait()
        await self._wait_reader()
        if self.cancel is not None:
            self.cancel.unregister(self.proc)
        if rc != 0:
            raise self._failure(f"failed (exit code {rc})")

    async def abort(self) -> None:
        if self.proc is not None:
            if self.proc.stdin is not None:
                with contextlib.suppress(Exception):
                    self.proc.stdin.close()
            await stop_process(self.proc)
            if self.cancel is not None:
                self.cancel.unregister(self.proc)
        if self._reader is not None:
            self._reader.cancel()
            with contextlib.suppress(BaseException):
                await self._reader
