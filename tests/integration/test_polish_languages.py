"""One script, two voiceover languages: one MP4 (+ captions) per language, each timed by its own
speech.  Real Chromium (frame-exact), espeak-ng's English and German voices (no German Piper voice
ships as a package here), real ffmpeg.
"""

from __future__ import annotations

import asyncio
import importlib.util
import json
import shutil
import subprocess
from pathlib import Path

import numpy as np
import pytest

from app.core.bundle import load_job
from app.core.infra.tools import find_ffmpeg
from app.core.languages import render_languages

pytestmark = [pytest.mark.slow, pytest.mark.browser]

ROOT = Path(__file__).resolve().parents[2]
W, H = 640, 360

spec = importlib.util.spec_from_file_location("clock_decode", ROOT / "resources/testpages/decode.py")
assert spec and spec.loader
decode = importlib.util.module_from_spec(spec)
spec.loader.exec_module(decode)


def _last_frame(mp4: Path) -> np.ndarray:
    raw = subprocess.run([str(find_ffmpeg()), "-v", "error", "-sseof", "-0.2", "-i", str(mp4), "-frames:v", "1",
                          "-f", "rawvideo", "-pix_fmt", "rgb24", "-"], check=True, capture_output=True).stdout
    return np.frombuffer(raw[: W * H * 3], np.uint8).reshape(H, W, 3)


def test_each_language_gets_its_own_output_and_timing(tmp_path: Path) -> None:
    (tmp_path / "site").mkdir()
    shutil.copy(ROOT / "resources/testpages/clock.html", tmp_path / "site/index.html")
    script = {
        "title": "Languages",
        "settings": {"site": "site", "width": W, "height": H, "fps": 30, "lead_in_ms": 200, "lead_out_ms": 300,
                     "device_scale_factor": 1,  # the test page is drawn for a 640x360 CSS viewport
                     "gap_ms": 200, "voice": {"provider": "espeak", "voice": "en-us"},
                     "languages": [{"lang": "de", "provider": "espeak", "voice": "de"}]},
        "cards": [
            {"id": "open", "narration": "The clock.", "narration_i18n": {"de": "Die Uhr."},
             "actions": [{"type": "goto", "url": "/index.html"}]},
            {"id": "press", "narration": 'Now <mark name="go"/> click.',
             "narration_i18n": {"de": 'Und jetzt klicken wir <mark name="go"/> auf die große '
                                      'Schaltfläche in der Mitte der Seite.'},
             "actions": [{"type": "click", "target": {"role": "button", "name": "Click me"}, "at": "go"}]},
        ],
    }
    (tmp_path / "script.json").write_text(json.dumps(script), encoding="utf-8")
    job = load_job(tmp_path / "script.json")
    results = asyncio.run(render_languages(job, tmp_path / "out", name="demo"))
    assert set(results) == {"en", "de"}
    en, de = results["en"], results["de"]
    assert en.video.name == "demo.en.mp4" and de.video.name == "demo.de.mp4"
    assert en.srt and en.srt.name == "demo.en.srt" and de.srt and de.srt.name == "demo.de.srt"
    assert "Schaltfläche" in de.srt.read_text(encoding="utf-8")
    assert "click" in en.srt.read_text(encoding="utf-8") and "Schaltfläche" not in en.srt.read_text(encoding="utf-8")
    # re-planned per language: the longer German narration makes a longer card and video
    en_press, de_press = en.cards[1], de.cards[1]
    assert de_press.voice_duration_s > en_press.voice_duration_s + 1.5
    assert de_press.end_s - de_press.start_s >= de_press.voice_duration_s
    assert de.duration_s > en.duration_s + 1.5
    # the click fires on its bookmark, which comes later in the German sentence
    assert de_press.actions[0].fire_s - de_press.start_s > en_press.actions[0].fire_s - en_press.start_s
    # and the flow ran in both: one click on the page at the end of each video
    for res in (en, de):
        assert decode.decode_counters(_last_frame(res.video))[0] == 1
