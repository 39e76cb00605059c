"""Vertical format end to end through the CLI: the page is laid out at a portrait CSS viewport (its
media query fires) and captured at 2x, so the MP4 is 1080x1920 with a re-laid-out page, not a
letterboxed landscape one.  Real Chromium (frame-exact), espeak-ng, ffmpeg.
"""

from __future__ import annotations

import asyncio
import io
import json
import subprocess
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from app.core.capture import BrowserSession, NullSink
from app.core.infra.tools import find_browser, find_ffmpeg

pytestmark = [pytest.mark.slow, pytest.mark.browser]

# Red on wide layouts, green on a phone-sized portrait viewport; a 100x100 CSS px blue box.
PAGE = """<!doctype html><html><head><meta charset="utf-8"><style>
html, body { margin: 0; height: 100%; background: #d00000; }
@media (max-width: 600px) and (orientation: portrait) { body { background: #00a000; } }
#box { position: fixed; left: 0; top: 0; width: 100px; height: 100px; background: #0000ff; }
</style></head><body><div id="box"></div></body></html>"""


def _frame(mp4: Path, t: float, w: int, h: int) -> np.ndarray:
    raw = subprocess.run([str(find_ffmpeg()), "-v", "error", "-ss", f"{t:.3f}", "-i", str(mp4), "-frames:v", "1",
                          "-f", "rawvideo", "-pix_fmt", "rgb24", "-"], check=True, capture_output=True).stdout
    return np.frombuffer(raw, np.uint8).reshape(h, w, 3)


def _probe_size(mp4: Path) -> tuple[int, int]:
    out = subprocess.run(["ffprobe", "-v", "error", "-select_streams", "v:0", "-show_entries", "stream=width,height",
                          "-of", "csv=p=0", str(mp4)], check=True, capture_output=True, text=True).stdout
    w, h = out.strip().split(",")[:2]
    return int(w), int(h)


def test_vertical_preset_relays_out_the_page(tmp_path: Path) -> None:
    from app.cli import main

    (tmp_path / "site").mkdir()
    (tmp_path / "site/index.html").write_text(PAGE, encoding="utf-8")
    script = {"title": "Portrait", "settings": {"site": "site", "voice": {"provider": "espeak"}, "lead_in_ms": 200,
                                                "lead_out_ms": 300},
              "cards": [{"id": "a", "narration": "Portrait.", "actions": [{"type": "goto", "url": "/index.html"}]}]}
    (tmp_path / "script.json").write_text(json.dumps(script), encoding="utf-8")
    out = tmp_path / "out" / "portrait.mp4"
    assert main(["render", str(tmp_path / "script.json"), "--preset", "9:16", "--out", str(out), "-q"]) == 0
    assert _probe_size(out) == (1080, 1920)
    rgb = _frame(out, 0.9, 1080, 1920).astype(int)
    # the portrait media query fired: the page itself is green, edge to edge (no letterbox bars)
    for y, x in [(960, 540), (1900, 20), (1900, 1060), (300, 1060)]:
        r, g, b = rgb[y, x]
        assert g > 120 and r < 60 and b < 60, (x, y, rgb[y, x])
    # 100 CSS px -> 200 device px: laid out at 540x960 CSS, drawn at 2x
    blue = (rgb[..., 2] > 180) & (rgb[..., 0] < 60) & (rgb[..., 1] < 60)
    ys, xs = np.nonzero(blue)
    assert abs((xs.max() + 1) - 200) <= 2 and abs((ys.max() + 1) - 200) <= 2


def test_session_captures_at_full_resolution_with_a_device_scale() -> None:
    async def run() -> tuple[list[float], tuple[int, int]]:
        session = BrowserSession(find_browser(), 1080, 1920, 30, NullSink(), device_scale_factor=2.0)
        await session.start()
        try:
            clock = await session.start_clock()
            assert session.page is not None
            await session.page.evaluate("() => { document.body.innerHTML = '<p>hello</p>'; }")
            await clock.step(2)
            dims = await session.page.evaluate("() => [innerWidth, innerHeight, devicePixelRatio]")
            shot = await clock.snapshot()  # type: ignore[attr-defined]
            assert shot
            return dims, Image.open(io.BytesIO(shot)).size
        finally:
            await session.close()

    dims, size = asyncio.run(run())
    assert dims == [540, 960, 2]
    assert size == (1080, 1920)  # the compositor draws at device pixels: no upscaling later


def _cursor_width(jpeg: bytes) -> int:
    """Width in pixels of the cursor's black outline on a white page."""
    rgb = np.asarray(Image.open(io.BytesIO(jpeg)).convert("RGB")).astype(int)
    dark = rgb.sum(axis=2) < 200
    xs = np.nonzero(dark)[1]
    return int(xs.max() - xs.min() + 1)


def test_larger_cursor_for_vertical_video() -> None:
    from app.core.plan.presets import cursor_scale_for
    from app.core.script import Settings

    async def shot(k: float) -> bytes:
        session = BrowserSession(find_browser(), 1080, 1920, 30, NullSink(), device_scale_factor=2.0)
        await session.start()
        try:
            clock = await session.start_clock()
            assert session.page is not None
            await session.page.evaluate("(k) => { window.__reelwright.setCursorScale(k); "
                                        "window.__reelwright.setCursor(100, 100, true); }", k)
            await clock.step(2)
            data = await clock.snapshot()  # type: ignore[attr-defined]
            assert data
            return data
        finally:
            await session.close()

    k = cursor_scale_for(Settings(width=1080, height=1920))
    normal, large = _cursor_width(asyncio.run(shot(1.0))), _cursor_width(asyncio.run(shot(k)))
    assert 40 <= normal <= 56  # a 26 CSS px cursor (with its outline) at 2x
    assert large == pytest.approx(normal * k, rel=0.08)
