"""Camera eases made after capture: zoom and pan as a crop-and-scale of captured frames.

While the overlay camera eases in or out, every frame used to be a full screenshot: the page's
transform changes each frame, so Chromium composites, reads back and JPEG-encodes all of it
(≈ 30 ms per 720p frame, a third of a polished render).  Most eases move over a still page, so
here the page stays at 1x with the overlay hidden while the video clock runs through the ease;
frames are taken only when the page itself changes (its own animation, a caret), and a short-lived
ffmpeg process turns each frame into the camera's view of it (``perspective``: a sub-pixel crop
scaled to the full frame, on the same easeInOutCubic curve as the overlay) and draws the cursor
on top from a sprite rasterised here to match the overlay's SVG cursor.  At the end of the ease
the page is put at the camera's target for real, so the frames at rest are crisp, as before.

What that looks like against the live ease (where Chromium re-rasters the zoomed page every
frame): the same geometry and timing, a little softer the further in the camera is (the 1x page
scaled up; at a strong 1.8x zoom SSIM 0.95 at the worst frame, at the default gentle zoom hardly
visible), and the cursor moves in steps of two output pixels (chroma-aligned).  Only the cursor
may be on the overlay: click ripples still fading make the ease start live and go on here once
they are gone; a highlight, a key badge or a drawn dialog keeps it live.  The plain flow (no
camera) never comes here, so its frames are unchanged.

Pure functions plus one small async class; ffmpeg is the only process it starts, registered with
the render's cancel token and stopped on any failure.
"""

from __future__ import annotations

import asyncio
import base64
import contextlib
import math
import struct
import zlib
from collections import deque
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from ..errors import RenderError
from ..infra.progress import CancelToken, stop_process

#: the overlay cursor's outline (``overlay.js``: an SVG path in a 26x32 viewBox)
CURSOR_PATH = ((3.0, 2.0), (3.0, 26.0), (9.5, 20.0), (14.0, 30.0), (18.0, 28.2), (13.6, 18.6), (22.0, 18.6))
#: the SVG box's offset from the cursor's hot spot, in viewBox units (CSS ``margin: -2px 0 0 -3px``)
CURSOR_MARGIN = (3.0, 2.0)
CURSOR_BOX = (26.0, 32.0)
#: ``filter: drop-shadow(0 2px 3px rgba(0,0,0,.35))``: offset and blur in CSS px, opacity
SHADOW_DY_CSS = 2.0
SHADOW_BLUR_CSS = 3.0
SHADOW_ALPHA = 0.35
STROKE_HALF = 1.0  # stroke-width 2
FILL_RGB = (255, 255, 255)
STROKE_RGB = (0x11, 0x11, 0x11)

#: where an ease's finished frames go (the clock's sink)
Writer = Callable[[bytes], Awaitable[None]]


@dataclass(frozen=True)
class Sprite:
    """The cursor as an RGBA image; ``hot`` is where the pointer's tip is, in sprite pixels."""

    rgba: bytes
    width: int
    height: int
    hot: tuple[float, float]

    def png(self) -> bytes:
        return png_rgba(self.rgba, self.width, self.height)


def _segment_distance(px: np.ndarray, py: np.ndarray, a: tuple[float, float], b: tuple[float, float]) -> np.ndarray:
    ax, ay = a
    bx, by = b
    dx, dy = bx - ax, by - ay
    t = np.clip(((px - ax) * dx + (py - ay) * dy) / (dx * dx + dy * dy), 0.0, 1.0)
    result: np.ndarray = np.hypot(px - (ax + t * dx), py - (ay + t * dy))
    return result


def _inside(px: np.ndarray, py: np.ndarray, poly: tuple[tuple[float, float], ...]) -> np.ndarray:
    inside = np.zeros(px.shape, dtype=bool)
    n = len(poly)
    for i in range(n):
        (x0, y0), (x1, y1) = poly[i], poly[(i + 1) % n]
        if y0 == y1:
            continue
        crosses = (y0 > py) != (y1 > py)
        xs = x0 + (py - y0) * (x1 - x0) / (y1 - y0)
        inside ^= crosses & (px < xs)
    return inside


def _blur(a: np.ndarray, sigma: float) -> np.ndarray:
    if sigma <= 0:
        return a
    radius = max(1, math.ceil(3 * sigma))
    x = np.arange(-radius, radius + 1, dtype=np.float64)
    kernel = np.exp(-(x * x) / (2 * sigma * sigma))
    kernel /= kernel.sum()
    rows = np.apply_along_axis(lambda r: np.convolve(r, kernel, mode="same"), 1, a)
    out: np.ndarray = np.apply_along_axis(lambda c: np.convolve(c, kernel, mode="same"), 0, rows)
    return out


def cursor_sprite(cursor_k: float, device_scale: float, supersample: int = 4) -> Sprite:
    """The overlay's cursor (white arrow, dark outline, soft shadow) at ``cursor_k`` (its size
    multiplier) and ``device_scale`` (output pixels per CSS pixel), anti-aliased by supersampling."""
    unit = cursor_k * device_scale  # output pixels per viewBox unit
    sigma = SHADOW_BLUR_CSS / 2 * device_scale
    dy = SHADOW_DY_CSS * device_scale
    pad = math.ceil(3 * sigma + dy + 2)
    # the pointer's tip on a pixel corner, as the overlay draws it at a whole-pixel position
    hot_x, hot_y = pad + math.ceil(CURSOR_MARGIN[0] * unit), pad + math.ceil(CURSOR_MARGIN[1] * unit)
    ox, oy = hot_x - CURSOR_MARGIN[0] * unit, hot_y - CURSOR_MARGIN[1] * unit  # where viewBox (0, 0) is
    w = math.ceil(ox + CURSOR_BOX[0] * unit) + pad
    h = math.ceil(oy + CURSOR_BOX[1] * unit) + pad
    s = supersample
    # sample centres, in viewBox units
    ys, xs = np.mgrid[0:h * s, 0:w * s].astype(np.float64)
    vx = ((xs + 0.5) / s - ox) / unit
    vy = ((ys + 0.5) / s - oy) / unit
    dist = np.full(vx.shape, np.inf)
    n = len(CURSOR_PATH)
    for i in range(n):
        dist = np.minimum(dist, _segment_distance(vx, vy, CURSOR_PATH[i], CURSOR_PATH[(i + 1) % n]))
    stroke = dist <= STROKE_HALF
    fill = _inside(vx, vy, CURSOR_PATH) & ~stroke

    def down(mask: np.ndarray) -> np.ndarray:
        out: np.ndarray = mask.reshape(h, s, w, s).mean(axis=(1, 3))
        return out

    a_stroke, a_fill = down(stroke), down(fill)
    alpha = a_stroke + a_fill
    rgb_premul = np.stack([a_stroke * STROKE_RGB[c] + a_fill * FILL_RGB[c] for c in range(3)], axis=-1)
    # the shadow: the shape's coverage, blurred, moved down, under the shape
    shift = np.zeros_like(alpha)
    k = round(dy)
    shift[k:, :] = alpha[: h - k, :] if k else alpha
    shadow = np.clip(_blur(shift, sigma), 0.0, 1.0) * SHADOW_ALPHA
    out_a = alpha + shadow * (1 - alpha)
    out_rgb = np.where(out_a[..., None] > 0, rgb_premul / np.maximum(out_a[..., None], 1e-9), 0.0)
    rgba = np.dstack([np.clip(np.rint(out_rgb), 0, 255), np.clip(np.rint(out_a * 255), 0, 255)]).astype(np.uint8)
    return Sprite(rgba.tobytes(), w, h, (float(hot_x), float(hot_y)))


def png_rgba(rgba: bytes, width: int, height: int) -> bytes:
    """A minimal 8-bit RGBA PNG (no Pillow in the packaged app)."""
    def chunk(tag: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + tag + data + struct.pack(">I", zlib.crc32(tag + data) & 0xFFFFFFFF)

    stride = width * 4
    raw = b"".join(b"\x00" + rgba[y * stride:(y + 1) * stride] for y in range(height))
    return (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", struct.pack(">IIBBBBB", width, height, 8, 6, 0, 0, 0))
            + chunk(b"IDAT", zlib.compress(raw, 6)) + chunk(b"IEND", b""))


@dataclass(frozen=True)
class CamState:
    """The overlay camera: the page is scaled by ``s`` and a 1x viewport point ``v`` shows at
    ``s * v + (ux, uy)`` (CSS px; ``overlay.js`` keeps ``u = t + (s - 1) * scroll``)."""

    s: float
    ux: float
    uy: float


IDENTITY = CamState(1.0, 0.0, 0.0)


@dataclass(frozen=True)
class Ease:
    """One camera ease as the video shows it: from ``start`` to ``end`` over ``length`` frame
    intervals (fractional, as the overlay times it); its frame ``j`` (0: the first frame drawn
    after the ease began) is ``(j + 1) / length`` of the way through, eased."""

    start: CamState
    end: CamState
    length: float
    view_w: float  # CSS px of the page's viewport
    view_h: float
    #: where the cursor's tip is at 1x (viewport CSS px), if it is shown: it rides with the page
    anchor: tuple[float, float] | None

    def progress(self, j: int) -> float:
        k = min(1.0, (j + 1) / self.length)
        return 4 * k ** 3 if k < 0.5 else 1 - (2 - 2 * k) ** 3 / 2

    def at(self, j: int) -> CamState:
        e = self.progress(j)
        a, b = self.start, self.end
        return CamState(a.s + (b.s - a.s) * e, a.ux + (b.ux - a.ux) * e, a.uy + (b.uy - a.uy) * e)

    # ffmpeg expressions of the same curve, in the frame number ``var`` (offset by ``first``)
    def _e(self, var: str, first: int) -> str:
        k = f"min(1,({var}+{first + 1})/{self.length!r})"
        return f"if(lt({k},0.5),4*pow({k},3),1-pow(2-2*{k},3)/2)"

    def _lerp(self, a: float, b: float, var: str, first: int) -> str:
        return f"({a!r}+({b - a!r})*{self._e(var, first)})"

    def filter_graph(self, first: int, sprite: Sprite | None) -> str:
        """The filter from the captured frames (input 0) and the sprite (input 1) to the camera's
        view; ``first`` is the ease frame the first input frame is (a preview may join mid-ease)."""
        # perspective counts its input frames from 1, overlay from 0
        s = self._lerp(self.start.s, self.end.s, "in-1", first)
        ux = self._lerp(self.start.ux, self.end.ux, "in-1", first)
        uy = self._lerp(self.start.uy, self.end.uy, "in-1", first)
        # the source rectangle the view shows, in the frame's pixels: 1x point v = (V - u) / s
        left = f"(-{ux}/{s})*W/{self.view_w!r}"
        right = f"(({self.view_w!r}-{ux})/{s})*W/{self.view_w!r}"
        top = f"(-{uy}/{s})*H/{self.view_h!r}"
        bottom = f"(({self.view_h!r}-{uy})/{s})*H/{self.view_h!r}"
        persp = (f"perspective=x0='{left}':y0='{top}':x1='{right}':y1='{top}':x2='{left}':y2='{bottom}'"
                 f":x3='{right}':y3='{bottom}':interpolation=linear:eval=frame")
        graph = f"[0:v]{persp}"
        if sprite is None or self.anchor is None:
            return graph + ",format=yuvj420p[v]"
        ax, ay = self.anchor
        # overlay's frame counter runs ahead of the frame it draws on (it queues its inputs);
        # the frame's time does not: the input is read at one frame per second, so t counts frames
        so = self._lerp(self.start.s, self.end.s, "t", first)
        uxo = self._lerp(self.start.ux, self.end.ux, "t", first)
        uyo = self._lerp(self.start.uy, self.end.uy, "t", first)
        x = f"round(({so}*{ax!r}+{uxo})*main_w/{self.view_w!r}-{sprite.hot[0]!r})"
        y = f"round(({so}*{ay!r}+{uyo})*main_h/{self.view_h!r}-{sprite.hot[1]!r})"
        return (graph + "[p];[1:v]format=rgba[c];"
                f"[p][c]overlay=x='{x}':y='{y}':eval=frame:format=yuv420:repeatlast=1,format=yuvj420p[v]")


def jpeg_size(data: bytes) -> tuple[int, int] | None:
    """Width and height from a JPEG's frame header (None if it has none)."""
    i, n = 2, len(data)
    while i + 9 <= n and data[i] == 0xFF:
        marker = data[i + 1]
        if marker in (0xC0, 0xC1, 0xC2):
            h, w = struct.unpack(">HH", data[i + 5:i + 9])
            return w, h
        if marker == 0xDA:
            return None
        i += 2 + struct.unpack(">H", data[i + 2:i + 4])[0]
    return None


def split_jpegs(buf: bytearray) -> list[bytes]:
    """Take every complete JPEG off the front of ``buf`` (an mjpeg stream from ffmpeg)."""
    out: list[bytes] = []
    while True:
        end = _jpeg_end(buf)
        if end is None:
            return out
        out.append(bytes(buf[:end]))
        del buf[:end]


def _jpeg_end(buf: bytearray) -> int | None:
    """Where the first JPEG in ``buf`` ends, by its structure: marker segments up to the scan,
    then entropy-coded data (where 0xFF is always followed by 0x00 or a restart marker) up to EOI."""
    n = len(buf)
    if n < 4:
        return None
    if buf[0] != 0xFF or buf[1] != 0xD8:
        raise ValueError("not a JPEG stream")
    i = 2
    while True:
        if i + 2 > n:
            return None
        if buf[i] != 0xFF:
            raise ValueError("broken JPEG stream")
        marker = buf[i + 1]
        if marker == 0xFF:  # fill byte
            i += 1
            continue
        if marker == 0xD9:
            return i + 2
        if i + 4 > n:
            return None
        length = (buf[i + 2] << 8) | buf[i + 3]
        i += 2 + length
        if marker == 0xDA:  # start of scan: entropy-coded data follows
            while True:
                j = buf.find(b"\xff", i)
                if j < 0 or j + 1 >= n:
                    return None
                nxt = buf[j + 1]
                if nxt == 0x00 or 0xD0 <= nxt <= 0xD7:
                    i = j + 2
                    continue
                i = j
                break


class EaseFilm:
    """Feeds one ease's captured frames to ffmpeg and hands the camera's frames to ``write`` in
    order.  Started lazily on the first frame (a card preview may start filming mid-ease)."""

    def __init__(self, ease: Ease, sprite: Sprite | None, ffmpeg: Path, write: Writer, *,
                 cancel: CancelToken | None = None, threads: int = 1, card_index: int | None = None,
                 card_id: str | None = None, action_index: int | None = None) -> None:
        self.ease = ease
        #: the card and action whose ease this is, for its errors
        self.where = (card_index, card_id, action_index)
        self.sprite = sprite
        self.ffmpeg = ffmpeg
        self.write = write
        self.cancel = cancel
        self.threads = threads
        self.proc: asyncio.subprocess.Process | None = None
        self.fed = 0
        self.written = 0
        self._reader: asyncio.Task[None] | None = None
        self._stderr_task: asyncio.Task[None] | None = None
        self._stderr: deque[str] = deque(maxlen=12)
        self._error: BaseException | None = None

    def argv(self, first: int) -> list[str]:
        graph = self.ease.filter_graph(first, self.sprite)
        args = [str(self.ffmpeg), "-hide_banner", "-loglevel", "error", "-nostdin", "-threads", str(self.threads),
                "-f", "mjpeg", "-framerate", "1", "-i", "pipe:0"]
        if self.sprite is not None and self.ease.anchor is not None:
            # a few hundred bytes, passed inline: no temporary file to clean up
            args += ["-i", "data:image/png;base64," + base64.b64encode(self.sprite.png()).decode("ascii")]
        return [*args, "-filter_complex", graph, "-map", "[v]", "-fps_mode", "passthrough",
                "-c:v", "mjpeg", "-q:v", "2", "-threads", str(self.threads), "-f", "image2pipe", "pipe:1"]

    async def feed(self, jpeg: bytes, ease_frame: int) -> None:
        """One captured frame, for the ease's frame ``ease_frame`` (0-based)."""
        if self._error is not None:
            raise self._failure("stopped")
        if self.proc is None:
            await self._start(ease_frame)
        assert self.proc is not None and self.proc.stdin is not None
        if self.proc.returncode is not None or self.proc.stdin.transport.is_closing():
            raise self._failure(f"stopped unexpectedly (exit code {self.proc.returncode})")
        try:
            self.proc.stdin.write(jpeg)
            if self.proc.stdin.transport.get_write_buffer_size() > 2 * 1024 * 1024:
                await self.proc.stdin.drain()
        except (BrokenPipeError, ConnectionResetError):
            raise self._failure("stopped unexpectedly") from None
        self.fed += 1

    async def _start(self, first: int) -> None:
        self.proc = await asyncio.create_subprocess_exec(
            *self.argv(first), stdin=asyncio.subprocess.PIPE, stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.PIPE, start_new_session=True)
        if self.cancel is not None:
            self.cancel.register(self.proc)
        self._reader = asyncio.create_task(self._read())
        self._stderr_task = asyncio.create_task(self._read_stderr())

    async def _read_stderr(self) -> None:
        assert self.proc is not None and self.proc.stderr is not None
        async for line in self.proc.stderr:
            self._stderr.append(line.decode("utf-8", "replace").rstrip())

    async def _read(self) -> None:
        assert self.proc is not None and self.proc.stdout is not None
        buf = bytearray()
        try:
            while True:
                chunk = await self.proc.stdout.read(1 << 16)
                if not chunk:
                    break
                buf += chunk
                for jpeg in split_jpegs(buf):
                    await self.write(jpeg)
                    self.written += 1
        except BaseException as exc:  # surfaced by finish() or the next feed()
            self._error = exc
            raise

    def _failure(self, what: str) -> RenderError:
        tail = "\n".join(self._stderr)
        why = f" ({self._error})" if isinstance(self._error, (ValueError, RenderError)) else ""
        return self._located(f"{what}{why}" + (f":\n{tail}" if tail else ""))

    def _located(self, what: str) -> RenderError:
        card_index, card_id, action_index = self.where
        return RenderError(f"the camera's frame filter (ffmpeg) {what}", card_index=card_index, card_id=card_id,
                           action_index=action_index)

    async def finish(self, timeout_s: float = 60.0) -> None:
        """Close the input and wait until every frame of the ease has been written."""
        if self.proc is None:
            return
        assert self.proc.stdin is not None
        with contextlib.suppress(BrokenPipeError, ConnectionResetError):
            self.proc.stdin.close()
            await self.proc.stdin.wait_closed()
        try:
            assert self._reader is not None
            await asyncio.wait_for(asyncio.shield(self._reader), timeout_s)
            rc = await asyncio.wait_for(self.proc.wait(), timeout_s)
            if self._stderr_task is not None:
                with contextlib.suppress(asyncio.TimeoutError):
                    await asyncio.wait_for(self._stderr_task, 2)
        except TimeoutError:
            await self.abort()
            raise self._located(f"did not finish within {timeout_s:.0f} s") from None
        except (ValueError, RenderError):
            await self.abort()
            raise self._failure("failed") from None
        finally:
            if self.cancel is not None:
                self.cancel.unregister(self.proc)
        if rc != 0:
            raise self._failure(f"failed (exit code {rc})")
        if self.written != self.fed:
            raise self._failure(f"gave {self.written} frames for {self.fed}")

    async def abort(self) -> None:
        """Stop it now (a cancel, or the render failed meanwhile)."""
        if self.proc is not None:
            if self.proc.stdin is not None:
                with contextlib.suppress(Exception):
                    self.proc.stdin.close()
            await stop_process(self.proc)
            if self.cancel is not None:
                self.cancel.unregister(self.proc)
        for task in (self._reader, self._stderr_task):
            if task is not None and not task.done():
                task.cancel()
                with contextlib.suppress(BaseException):
                    await task


