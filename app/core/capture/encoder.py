"""The frame sink that feeds captured JPEG frames to an ffmpeg encoder as they are made.

Encoding runs beside capture (a second process on the second core), so the video-only MP4 is ready
when the last frame is captured.  Frames are never held in memory beyond the pipe's buffer.

Most frames of a render repeat the one before (a page at rest while the narration plays: 947 of the
example's 1643).  The encoder gets each *distinct* frame once, in a minimal Matroska stream that
gives it its frame time (:class:`MjpegMatroska`); ffmpeg's ``fps`` filter repeats it until the next
one.  So a repeat is neither piped nor decoded again: ~25 % less encoder CPU at 720p, and the same
H.264 bitstream as piping every frame (measured in docs/performance.md).
"""

from __future__ import annotations

import asyncio
import contextlib
from collections import deque
from pathlib import Path

from ..errors import RenderError
from ..infra.progress import CancelToken, stop_process

#: Matroska's clock tick for the blocks, in ns: 1 µs, so frame *n* is at round(n * 1e6 / fps) µs,
#: within half a microsecond of n / fps, and ffmpeg's ``fps`` filter puts it back on frame *n*
TIMECODE_SCALE_NS = 1000
#: JPEG start-of-frame markers (baseline, progressive, ...), whose segment holds the image size
_SOF_MARKERS = frozenset({0xC0, 0xC1, 0xC2, 0xC3, 0xC5, 0xC6, 0xC7, 0xC9, 0xCA, 0xCB, 0xCD, 0xCE, 0xCF})


def jpeg_size(jpeg: bytes) -> tuple[int, int]:
    """(width, height) from a JPEG's start-of-frame segment; RenderError if it is not a JPEG."""
    i = 2
    if not jpeg.startswith(b"\xff\xd8"):
        raise RenderError("a captured frame is not a JPEG image")
    while i + 9 <= len(jpeg):
        if jpeg[i] != 0xFF:
            break
        marker = jpeg[i + 1]
        if marker == 0xFF:  # fill byte
            i += 1
            continue
        if marker in _SOF_MARKERS:
            height = int.from_bytes(jpeg[i + 5:i + 7], "big")
            width = int.from_bytes(jpeg[i + 7:i + 9], "big")
            return width, height
        i += 2 + int.from_bytes(jpeg[i + 2:i + 4], "big")
    raise RenderError("a captured frame is a JPEG image without a size (no start-of-frame segment)")


def _ebml_element(element_id: bytes, payload: bytes) -> bytes:
    # sizes always as 8-byte EBML integers: simpler than the shortest form, and as valid
    return element_id + b"\x01" + len(payload).to_bytes(7, "big") + payload


def _ebml_uint(element_id: bytes, value: int) -> bytes:
    return _ebml_element(element_id, value.to_bytes(8, "big"))


class MjpegMatroska:
    """The smallest Matroska stream ffmpeg reads from a pipe: one MJPEG track, one cluster per frame,
    each block at its frame's time.  A frame that repeats the one before is left out; the reader
    holds the previous picture until the next block."""

    def __init__(self, fps: int) -> None:
        self.fps = fps

    def header(self, width: int, height: int) -> bytes:
        ebml = _ebml_element(b"\x1a\x45\xdf\xa3", b"".join((
            _ebml_uint(b"\x42\x86", 1),  # EBMLVersion
            _ebml_uint(b"\x42\xf7", 1),  # EBMLReadVersion
            _ebml_uint(b"\x42\xf2", 4),  # EBMLMaxIDLength
            _ebml_uint(b"\x42\xf3", 8),  # EBMLMaxSizeLength
            _ebml_element(b"\x42\x82", b"matroska"),  # DocType
            _ebml_uint(b"\x42\x87", 4),  # DocTypeVersion
            _ebml_uint(b"\x42\x85", 2),  # DocTypeReadVersion
        )))
        segment = b"\x18\x53\x80\x67" + b"\x01\xff\xff\xff\xff\xff\xff\xff"  # Segment, size unknown (a stream)
        info = _ebml_element(b"\x15\x49\xa9\x66", _ebml_uint(b"\x2a\xd7\xb1", TIMECODE_SCALE_NS)
                             + _ebml_element(b"\x4d\x80", b"reelwright") + _ebml_element(b"\x57\x41", b"reelwright"))
        video = _ebml_element(b"\xe0", _ebml_uint(b"\xb0", width) + _ebml_uint(b"\xba", height))
        track = _ebml_element(b"\xae", b"".join((
            _ebml_uint(b"\xd7", 1),  # TrackNumber
            _ebml_uint(b"\x73\xc5", 1),  # TrackUID
            _ebml_uint(b"\x83", 1),  # TrackType: video
            _ebml_element(b"\x86", b"V_MJPEG"),  # CodecID
            # DefaultDuration: each block lasts one frame; without it ffmpeg guesses the last one's
            # length from the gap before it, and the fps filter pads the end with that many repeats
            _ebml_uint(b"\x23\xe3\x83", round(1_000_000_000 / self.fps)),
            video,
        )))
        return ebml + segment + info + _ebml_element(b"\x16\x54\xae\x6b", track)

    def block(self, frame: int, jpeg: bytes) -> bytes:
        """Frame number ``frame`` as a cluster of one keyframe block."""
        ticks = round(frame * 1_000_000_000 / (self.fps * TIMECODE_SCALE_NS))
        # SimpleBlock: track 1 (as an EBML integer), time relative to the cluster (0), flags: keyframe
        simple = _ebml_element(b"\xa3", b"\x81\x00\x00\x80" + jpeg)
        return _ebml_element(b"\x1f\x43\xb6\x75", _ebml_uint(b"\xe7", ticks) + simple)


def matroska_mjpeg(frames: list[bytes], fps: int) -> bytes:
    """The stream :class:`FfmpegSink` pipes for these frames (for tests and offline encodes)."""
    mkv = MjpegMatroska(fps)
    out = [mkv.header(*jpeg_size(frames[0]))] if frames else []
    for n, jpeg in enumerate(frames):
        if n == 0 or jpeg != frames[n - 1] or n == len(frames) - 1:
            out.append(mkv.block(n, jpeg))
    return b"".join(out)


class FfmpegSink:
    def __init__(self, argv: list[str], *, fps: int, cancel: CancelToken | None = None) -> None:
        self.argv = argv
        self.cancel = cancel
        self.proc: asyncio.subprocess.Process | None = None
        #: frames written (each repeat counts)
        self.frames = 0
        #: frames piped to the encoder (a repeat is not)
        self.piped = 0
        self._mkv = MjpegMatroska(fps)
        #: the last frame written, and whether the encoder has it at its own time (a repeat at the
        #: end of the video must be piped, or the video would end at the frame it repeats)
        self._last: bytes | None = None
        self._last_piped = True
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
        if jpeg == self._last:  # a page at rest: ffmpeg's fps filter repeats the frame it has
            self.frames += 1
            self._last_piped = False
            return
        await self._pipe(self.frames, jpeg)
        self._last = jpeg
        self._last_piped = True
        self.frames += 1

    async def _pipe(self, frame: int, jpeg: bytes) -> None:
        assert self.proc is not None and self.proc.stdin is not None
        if self.proc.returncode is not None or self.proc.stdin.transport.is_closing():
            # The encoder is gone (killed, or it hit a full disk).  asyncio drops writes to a
            # closed pipe without a word, so without this check the capture would run to its end.
            await self._wait_reader()
            raise self._failure(f"stopped unexpectedly (exit code {self.proc.returncode})"
                                if self.proc.returncode is not None else "stopped unexpectedly")
        try:
            if self.piped == 0:
                self.proc.stdin.write(self._mkv.header(*jpeg_size(jpeg)))
            self.proc.stdin.write(self._mkv.block(frame, jpeg))
            # Wait for the encoder only when it falls behind: a drain per frame costs ~1 ms of
            # round trip, and the buffer (at most a few dozen frames) bounds memory all the same.
            if self.proc.stdin.transport.get_write_buffer_size() > self.max_buffer:
                await self.proc.stdin.drain()
        except (BrokenPipeError, ConnectionResetError):
            await self._wait_reader()
            raise self._failure("stopped unexpectedly") from None
        self.piped += 1

    async def _wait_reader(self) -> None:
        if self._reader is not None:
            with contextlib.suppress(asyncio.TimeoutError, asyncio.CancelledError):
                await asyncio.wait_for(self._reader, 2)

    async def finish(self) -> None:
        """Close the pipe and wait for the encoder to write its file."""
        assert self.proc is not None and self.proc.stdin is not None
        if self._last is not None and not self._last_piped:
            await self._pipe(self.frames - 1, self._last)  # the video lasts to its last frame
            self._last_piped = True
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
