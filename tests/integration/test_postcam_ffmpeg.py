"""Camera eases made after capture, on the real ffmpeg: every frame of an ease is the right crop of
its source and the cursor is where it rides to; a killed or cancelled filter ends the ease with an
error naming it, and leaves no process behind.  No browser here (test_polish_camera.py renders).
"""

from __future__ import annotations

import asyncio
import os
import signal
import subprocess
import time
from pathlib import Path

import numpy as np
import pytest

from app.core.capture.postcam import IDENTITY, CamState, Ease, EaseFilm, cursor_sprite, jpeg_size, split_jpegs
from app.core.errors import RenderError
from app.core.infra.progress import CancelToken
from app.core.infra.tools import find_ffmpeg

W, H = 640, 360
FF = find_ffmpeg()


def jpeg_of(rgb: np.ndarray) -> bytes:
    h, w, _ = rgb.shape
    return subprocess.run([str(FF), "-v", "error", "-f", "rawvideo", "-pix_fmt", "rgb24", "-s", f"{w}x{h}",
                           "-i", "-", "-q:v", "1", "-f", "image2pipe", "-c:v", "mjpeg", "-"],
                          input=rgb.tobytes(), capture_output=True, check=True).stdout


def rgb_of(jpeg: bytes) -> np.ndarray:
    w, h = jpeg_size(jpeg) or (0, 0)
    raw = subprocess.run([str(FF), "-v", "error", "-f", "mjpeg", "-i", "-", "-f", "rawvideo", "-pix_fmt", "rgb24",
                          "-"], input=jpeg, capture_output=True, check=True).stdout
    return np.frombuffer(raw, np.uint8).reshape(h, w, 3).astype(np.float64)


def pattern() -> np.ndarray:
    """Smooth, asymmetric content (no edges finer than the scale): gradients and a few discs."""
    y, x = np.mgrid[0:H, 0:W].astype(np.float64)
    r = 128 + 100 * np.sin(x / 11.0) * np.cos(y / 7.0)
    g = 255 * x / W
    b = 255 * y / H
    for cx, cy in ((150, 100), (480, 250), (320, 180)):
        d = np.hypot(x - cx, y - cy)
        r = np.where(d < 30, 20, r)
    return np.dstack([r, g, b]).clip(0, 255).astype(np.uint8)


def camera_view(src: np.ndarray, st: CamState) -> np.ndarray:
    """What the camera shows, computed independently: output pixel V shows 1x point (V - u) / s
    (bilinear, pixel centres)."""
    y, x = np.mgrid[0:H, 0:W].astype(np.float64)
    sx = ((x + 0.5) - st.ux) / st.s - 0.5
    sy = ((y + 0.5) - st.uy) / st.s - 0.5
    x0 = np.clip(np.floor(sx).astype(int), 0, W - 2)
    y0 = np.clip(np.floor(sy).astype(int), 0, H - 2)
    fx = np.clip(sx - x0, 0, 1)[..., None]
    fy = np.clip(sy - y0, 0, 1)[..., None]
    a, b = src[y0, x0], src[y0, x0 + 1]
    c, d = src[y0 + 1, x0], src[y0 + 1, x0 + 1]
    out: np.ndarray = (a * (1 - fx) + b * fx) * (1 - fy) + (c * (1 - fx) + d * fx) * fy
    return out


async def film(ease: Ease, sources: list[bytes], *, sprite: bool = False, first: int = 0) -> list[bytes]:
    out: list[bytes] = []

    async def write(jpeg: bytes) -> None:
        out.append(jpeg)

    f = EaseFilm(ease, cursor_sprite(1.0, 1.0) if sprite else None, FF, write)
    for j, src in enumerate(sources):
        await f.feed(src, first + j)
    await f.finish()
    return out


def test_every_frame_of_an_ease_is_the_cameras_crop_of_its_source() -> None:
    src_rgb = pattern()
    src = jpeg_of(src_rgb)
    ref = rgb_of(src)  # the source as the filter decodes it
    end = CamState(1.8, W * (1 - 1.8) * 0.6, H * (1 - 1.8) * 0.3)
    ease = Ease(IDENTITY, end, 12.5, W, H, None)
    frames = asyncio.run(film(ease, [src] * 13))
    assert len(frames) == 13
    errors = []
    for j, jpeg in enumerate(frames):
        got = rgb_of(jpeg)
        want = camera_view(ref, ease.at(j))
        inner = np.s_[8:-8, 8:-8]  # the frame's edge is clamped differently
        errors.append(float(np.abs(got[inner] - want[inner]).mean()))
        # the frame one step earlier or later on the curve is clearly worse: the timing is exact
        if 1 <= j <= 8:
            for other in (j - 1, j + 1):
                assert np.abs(got[inner] - camera_view(ref, ease.at(other))[inner]).mean() > 2 * errors[-1]
    assert max(errors) < 3.0, errors
    # a film that joins mid-ease (a card preview starting there) continues on the same curve
    late = asyncio.run(film(ease, [src] * 5, first=8))
    for j, jpeg in enumerate(late, start=8):
        assert np.abs(rgb_of(jpeg) - rgb_of(frames[j])).max() <= 2


def test_the_cursor_rides_with_the_page_at_its_own_size() -> None:
    white = jpeg_of(np.full((H, W, 3), 255, np.uint8))
    anchor = (200.0, 150.0)
    end = CamState(1.8, -160.0, -100.0)
    ease = Ease(IDENTITY, end, 15.0, W, H, anchor)
    frames = asyncio.run(film(ease, [white] * 15, sprite=True))
    sizes = set()
    for j, jpeg in enumerate(frames):
        dark = np.argwhere(rgb_of(jpeg).mean(axis=2) < 100)
        y0, x0 = dark.min(axis=0)
        y1, x1 = dark.max(axis=0)
        st = ease.at(j)
        want = (st.s * anchor[0] + st.ux, st.s * anchor[1] + st.uy)
        # the outline's corner is a pixel up-left of the tip; positions are even (chroma-aligned)
        assert abs(x0 + 1 - want[0]) <= 2.5 and abs(y0 + 1 - want[1]) <= 2.5, (j, x0, y0, want)
        sizes.add((int(x1 - x0), int(y1 - y0)))
    assert len(sizes) == 1  # it does not grow with the zoom


def test_a_killed_filter_ends_the_ease_with_an_error_naming_it() -> None:
    src = jpeg_of(pattern())
    ease = Ease(IDENTITY, CamState(1.5, -100.0, -50.0), 40.0, W, H, None)

    async def scenario() -> tuple[str, int]:
        async def write(jpeg: bytes) -> None:
            return None

        f = EaseFilm(ease, None, FF, write, card_index=2, card_id="tasks", action_index=1)
        await f.feed(src, 0)
        assert f.proc is not None
        pid = f.proc.pid
        os.kill(pid, signal.SIGKILL)
        with pytest.raises(RenderError) as info:
            for j in range(1, 40):
                await f.feed(src, j)
                await asyncio.sleep(0.01)
            await f.finish()
        await f.abort()
        return str(info.value), pid

    message, pid = asyncio.run(scenario())
    assert message.startswith("card 3 'tasks' › action 2: the camera's frame filter (ffmpeg) ")
    assert not Path(f"/proc/{pid}").exists() or "zombie" in Path(f"/proc/{pid}/status").read_text().lower()


def test_a_cancel_stops_the_filter_within_a_second() -> None:
    src = jpeg_of(pattern())
    ease = Ease(IDENTITY, CamState(1.5, -100.0, -50.0), 40.0, W, H, None)

    async def scenario() -> float:
        cancel = CancelToken()

        async def write(jpeg: bytes) -> None:
            return None

        f = EaseFilm(ease, None, FF, write, cancel=cancel)
        for j in range(3):
            await f.feed(src, j)
        assert f.proc is not None
        t0 = time.monotonic()
        cancel.cancel()
        await f.abort()
        await asyncio.wait_for(f.proc.wait(), 1.0)
        return time.monotonic() - t0

    assert asyncio.run(scenario()) < 1.0


def test_the_splitter_takes_real_jpegs_apart_in_any_chunks() -> None:
    frames = [jpeg_of(np.full((36, 64, 3), v, np.uint8)) for v in (0, 90, 255)]
    stream = b"".join(frames)
    buf = bytearray()
    got: list[bytes] = []
    for i in range(0, len(stream), 97):
        buf += stream[i:i + 97]
        got += split_jpegs(buf)
    assert got == frames and not buf
    assert jpeg_size(frames[0]) == (64, 36)
