"""Auto-zoom and cursor on real pixels: render the clock test page with the camera on and measure
the zoom in frames of the finished MP4 (the width of the page's button), not the overlay's word.

Real Chromium (headless shell, frame-exact), real espeak-ng, real ffmpeg.
"""

from __future__ import annotations

import asyncio
import importlib.util
import itertools
import json
import math
import shutil
import subprocess
from pathlib import Path
from types import ModuleType
from typing import Any

import numpy as np
import pytest

from app.core.bundle import Job, load_job
from app.core.infra.tools import find_ffmpeg
from app.core.plan import camera
from app.core.render import RenderResult, render

pytestmark = [pytest.mark.slow, pytest.mark.browser]

ROOT = Path(__file__).resolve().parents[2]
W, H, FPS = 640, 360, 30
CELL = W / 32  # the clock page's grid cell at this width
BTN_W = 8 * CELL  # the button is 8 cells wide


def _decoder() -> ModuleType:
    spec = importlib.util.spec_from_file_location("clock_decode", ROOT / "resources/testpages/decode.py")
    assert spec and spec.loader
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


decode = _decoder()


def frames_of(mp4: Path, indexes: list[int], w: int = W, h: int = H) -> dict[int, np.ndarray]:
    sel = "+".join(f"eq(n\\,{i})" for i in indexes)
    raw = subprocess.run(
        [str(find_ffmpeg()), "-v", "error", "-i", str(mp4), "-vf", f"select={sel}", "-fps_mode", "passthrough",
         "-f", "rawvideo", "-pix_fmt", "rgb24", "-"], check=True, capture_output=True).stdout
    size = w * h * 3
    arrays = [np.frombuffer(raw[i * size:(i + 1) * size], np.uint8).reshape(h, w, 3)
              for i in range(len(raw) // size)]
    assert len(arrays) == len(indexes)
    return dict(zip(sorted(indexes), arrays, strict=True))


def button_width(rgb: np.ndarray) -> float:
    """Widest run of the button's slate colour (#334155, #1e293b while pressed) across any row."""
    a = rgb.astype(int)
    r, g, b = a[..., 0], a[..., 1], a[..., 2]
    slate = (r < 90) & (g < 100) & (b > r + 15) & (b < 150)
    best = 0
    for row in slate[::3]:
        xs = np.flatnonzero(row)
        if len(xs) > 10:
            best = max(best, int(xs[-1] - xs[0] + 1))
    return float(best)


def clock_job(tmp: Path, **settings: Any) -> Job:
    data = {
        "title": "Camera test",
        "settings": {"site": "site", "width": W, "height": H, "fps": FPS, "lead_in_ms": 300,
                     "device_scale_factor": 1,  # the test page is drawn for a 640x360 CSS viewport
                     "lead_out_ms": 300, "gap_ms": 200, "voice": {"provider": "espeak"}, **settings},
        "cards": [
            {"id": "open", "narration": "The clock.", "actions": [{"type": "goto", "url": "/index.html"}]},
            {"id": "press", "narration": "Press it and type.", "camera": "strong",
             "actions": [{"type": "click", "target": {"role": "button", "name": "Click me"}},
                         {"type": "type", "target": {"label": "Field"}, "text": "abc", "delay_ms": 60}]},
        ],
    }
    (tmp / "site").mkdir(parents=True, exist_ok=True)
    shutil.copy(ROOT / "resources/testpages/clock.html", tmp / "site/index.html")
    (tmp / "script.json").write_text(json.dumps(data), encoding="utf-8")
    return load_job(tmp / "script.json")


@pytest.fixture(scope="module")
def zoomed(tmp_path_factory: pytest.TempPathFactory) -> RenderResult:
    tmp = tmp_path_factory.mktemp("camera")
    return asyncio.run(render(clock_job(tmp), tmp / "out", name="camera"))


def test_camera_is_zoomed_at_the_planned_frames(zoomed: RenderResult) -> None:
    assert zoomed.timeline is not None
    click, typing = zoomed.timeline.cards[1].actions
    scale = camera.LEVEL_SCALE["strong"]
    ease = camera.ease_s(1.0, scale)
    f_before = round(click.start_s * FPS) - 1  # the camera has not moved yet
    f_mid = round((click.start_s + ease / 2) * FPS)  # halfway through the ease in
    f_in = round(click.fire_s * FPS)  # the click lands zoomed in
    f_typing = round((typing.fire_s + 0.1) * FPS)  # held steady while typing
    f_out = round(typing.end_s * FPS) + 1  # eased back out after the shot
    frames = frames_of(zoomed.video, [f_before, f_mid, f_in, f_typing, f_out])
    widths = {f: button_width(frames[f]) for f in frames}
    assert widths[f_before] == pytest.approx(BTN_W, rel=0.04)
    assert widths[f_in] == pytest.approx(BTN_W * scale, rel=0.04)
    assert widths[f_typing] == pytest.approx(BTN_W * scale, rel=0.04)
    assert BTN_W * 1.1 < widths[f_mid] < BTN_W * scale * 0.95
    assert widths[f_out] == pytest.approx(BTN_W, rel=0.04)
    # input landed on the zoomed page: one click, three characters (read from the unzoomed frame)
    assert decode.decode_counters(frames[f_out]) == (1, 3)
    assert decode.panel_is_red(frames[f_out])


def test_zoom_speed_is_bounded_in_pixels(zoomed: RenderResult) -> None:
    assert zoomed.timeline is not None
    click = zoomed.timeline.cards[1].actions[0]
    first = round(click.start_s * FPS) - 1
    idx = list(range(first, round(click.fire_s * FPS) + 1))
    frames = frames_of(zoomed.video, idx)
    widths = [button_width(frames[i]) for i in idx]
    steps = [abs(math.log(b / a)) * FPS for a, b in itertools.pairwise(widths)]
    # peak zoom speed in ln(scale)/s, with slack for pixel rounding at this small size
    assert max(steps) <= camera.MAX_LOG_ZOOM_SPEED * 1.25, " ".join(f"{w:g}" for w in widths)
    assert max(steps) > 0.3  # and it did move
