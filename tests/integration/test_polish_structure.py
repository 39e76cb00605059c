"""Intro/outro cards, burned-in captions, music, poster and preview through the real render.

One short render (640x360, real Chromium headless shell, real Piper, real ffmpeg) with everything
on; the assertions read its frames, captions, chapters and audio.
"""

from __future__ import annotations

import asyncio
import json
import re
import shutil
import subprocess
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from app.core.bundle import Job, load_job
from app.core.infra.tools import find_ffmpeg
from app.core.mix import probe
from app.core.mix.captions import Cue
from app.core.render import RenderResult, render

pytestmark = [pytest.mark.slow, pytest.mark.browser]

ROOT = Path(__file__).resolve().parents[2]
W, H, FPS = 640, 360, 30
BRAND = (0x0E, 0x76, 0x6E)  # teal: far from anything on the clock page
LOGO = ('<svg xmlns="http://www.w3.org/2000/svg" width="64" height="64" viewBox="0 0 64 64">'
        '<circle cx="32" cy="32" r="30" fill="#fbbf24"/></svg>')


def _script() -> dict[str, Any]:
    return {
        "title": "Polish test",
        "settings": {
            "site": "site", "width": W, "height": H, "fps": FPS, "lead_in_ms": 300, "lead_out_ms": 300,
            "device_scale_factor": 1,  # the test pages are drawn for a 640x360 CSS viewport
            "gap_ms": 200, "burn_captions": True, "music": "bundled:calm", "poster": True, "preview": "gif",
            "preview_s": 2.0,
            "intro": {"title": "Clock <Pro>", "subtitle": "Time, shown", "logo": "logo.svg",
                      "brand_color": "#0e766e", "duration_ms": 1500, "narration": "Meet the clock."},
            "outro": {"title": "Thanks", "subtitle": "clock.example", "brand_color": "#0e766e",
                      "duration_ms": 1200},
        },
        "cards": [{"id": "open", "title": "Open the clock", "narration": "Here is the clock page.",
                   "actions": [{"type": "goto", "url": "/index.html"}]}],
    }


def _job(tmp: Path) -> Job:
    (tmp / "site").mkdir(parents=True, exist_ok=True)
    shutil.copy(ROOT / "resources/testpages/clock.html", tmp / "site/index.html")
    (tmp / "logo.svg").write_text(LOGO, encoding="utf-8")
    (tmp / "script.json").write_text(json.dumps(_script()), encoding="utf-8")
    return load_job(tmp / "script.json")


def _frames(mp4: Path, times: list[float]) -> list[np.ndarray]:
    out = []
    for t in times:
        raw = subprocess.run([str(find_ffmpeg()), "-v", "error", "-i", str(mp4), "-ss", f"{t:.3f}",
                              "-frames:v", "1", "-f", "rawvideo", "-pix_fmt", "rgb24", "-"],
                             check=True, capture_output=True).stdout
        out.append(np.frombuffer(raw[: W * H * 3], np.uint8).reshape(H, W, 3).astype(int))
    return out


def _near(px: np.ndarray, rgb: tuple[int, int, int], tol: int) -> bool:
    return bool(np.all(np.abs(px - np.array(rgb)) <= tol))


def _srt(path: Path) -> list[Cue]:
    cues = []
    for block in path.read_text(encoding="utf-8").strip().split("\n\n"):
        lines = block.splitlines()
        a, b = re.findall(r"(\d+):(\d+):(\d+),(\d+)", lines[1])
        t = [int(h) * 3600 + int(m) * 60 + int(s) + int(ms) / 1000 for h, m, s, ms in (a, b)]
        cues.append(Cue(t[0], t[1], tuple(lines[2:])))
    return cues


@pytest.fixture(scope="module")
def rendered(tmp_path_factory: pytest.TempPathFactory) -> tuple[RenderResult, Path]:
    tmp = tmp_path_factory.mktemp("polish")
    result = asyncio.run(render(_job(tmp), tmp / "out", name="demo"))
    return result, tmp / "out"


def test_bumpers_are_cards_on_the_timeline(rendered: tuple[RenderResult, Path]) -> None:
    result, out = rendered
    ids = [c.card_id for c in result.cards]
    assert ids == ["intro", "open", "outro"]
    intro, _card, outro = result.cards
    assert intro.start_s == 0.0  # an intro replaces the blank lead-in
    assert intro.end_s - intro.start_s >= 1.5 + 0.2  # at least its duration, plus the gap
    assert outro.end_s - outro.start_s >= 1.2
    assert intro.voice_duration_s > 0.3 and outro.voice_duration_s == 0.0
    chapters = asyncio.run(probe(result.video)).chapters
    assert [c.title for c in chapters] == ["Clock <Pro>", "Open the clock", "Thanks"]
    assert [round(c.start_s, 2) for c in chapters] == [round(c.start_s, 2) for c in result.cards]
    text = (out / "demo.chapters.txt").read_text(encoding="utf-8")
    assert text.splitlines()[0] == "0:00 Clock <Pro>" and "Thanks" in text


def test_intro_shows_brand_title_and_logo_then_the_page(rendered: tuple[RenderResult, Path]) -> None:
    result, _ = rendered
    intro, card, outro = result.cards
    first, settled, page, end = _frames(result.video, [intro.start_s + 0.1, intro.start_s + 1.2,
                                                        card.end_s - 0.3, outro.start_s + 1.0])
    # the background is the brand colour family (a radial gradient around it)
    left_mid = settled[H // 2, 8]
    assert left_mid[1] > left_mid[0] + 40 and left_mid[2] > left_mid[0] + 40, left_mid
    # title: white text across the centre once the animation has played, absent at its start
    band = slice(H // 2 - 40, H // 2 + 40)
    white_settled = int(np.sum(np.all(settled[band, 100:540] > 225, axis=-1)))
    white_first = int(np.sum(np.all(first[band, 100:540] > 225, axis=-1)))
    assert white_settled > 600 and white_first < white_settled / 4, (white_first, white_settled)
    # the logo (amber circle) sits above the title
    amber = np.all(np.abs(settled[: H // 2] - np.array([0xFB, 0xBF, 0x24])) < 40, axis=-1)
    assert amber.sum() > 300
    # the content card shows the clock page, not the brand colour
    assert not (page[H // 2, 8][1] > page[H // 2, 8][0] + 40 and page[H // 2, 8][2] > page[H // 2, 8][0] + 40)
    # the outro is brand-coloured again, and no cursor is drawn on it (it has no dark arrow pixels)
    assert end[H // 2, 8][1] > end[H // 2, 8][0] + 40
    assert int(np.sum(np.all(end < 30, axis=-1))) == 0


def test_captions_follow_the_plan_and_are_burned_in(rendered: tuple[RenderResult, Path]) -> None:
    result, out = rendered
    cues = _srt(out / "demo.srt")
    intro, card, _ = result.cards
    assert abs(cues[0].start_s - intro.voice_start_s) < 0.002
    assert "Meet the clock." in cues[0].lines
    own = [c for c in cues if c.start_s >= card.voice_start_s - 0.002]
    assert abs(own[0].start_s - card.voice_start_s) < 0.002
    assert max(c.end_s for c in own) <= card.voice_start_s + card.voice_duration_s + 0.002
    assert all(len(c.lines) <= 2 for c in cues)
    # burned in: during a cue the bottom band has a dark box with white text; after it, it has not
    mid = (own[0].start_s + own[0].end_s) / 2
    during, after = _frames(result.video, [mid, result.cards[2].start_s + 0.8])
    bottom = slice(int(H * 0.8), H - 4)
    assert int(np.sum(np.all(during[bottom] > 225, axis=-1))) > 150
    assert int(np.sum(np.all(during[bottom] < 60, axis=-1))) > 1500  # the box
    assert int(np.sum(np.all(after[bottom] < 60, axis=-1))) < 50


def test_music_mix_meets_loudness(rendered: tuple[RenderResult, Path]) -> None:
    result, _ = rendered
    err = subprocess.run([str(find_ffmpeg()), "-hide_banner", "-nostats", "-i", str(result.video), "-af",
                          "ebur128=peak=true", "-f", "null", "-"], capture_output=True, text=True).stderr
    summary = err[err.rindex("Summary:"):]
    integrated = float(re.search(r"I:\s+(-?[\d.]+) LUFS", summary).group(1))  # type: ignore[union-attr]
    peak = float(re.search(r"Peak:\s+(-?[\d.]+) dBFS", summary).group(1))  # type: ignore[union-attr]
    assert abs(integrated + 16.0) <= 1.0 and peak <= -1.0, (integrated, peak)
    # music plays in the outro, where nobody speaks, and well under the level of the narration
    def rms_db(start: float, length: float) -> float:
        raw = subprocess.run([str(find_ffmpeg()), "-v", "error", "-ss", f"{start:.3f}", "-t", f"{length:.3f}",
                              "-i", str(result.video), "-f", "f32le", "-ac", "1", "-"],
                             check=True, capture_output=True).stdout
        return float(20 * np.log10(np.sqrt(np.mean(np.frombuffer(raw, "<f4").astype(float) ** 2))))

    card, outro = result.cards[1], result.cards[2]
    music_only = rms_db(outro.start_s + 0.2, 0.6)
    speech = rms_db(card.voice_start_s + 0.3, card.voice_duration_s - 0.4)
    assert music_only > -40 and speech - music_only >= 5.0, (speech, music_only)


def test_poster_and_preview_beside_the_video(rendered: tuple[RenderResult, Path]) -> None:
    result, out = rendered
    assert result.poster == out / "demo.poster.png" and result.preview == out / "demo.preview.gif"
    assert sorted(p.name for p in out.iterdir()) == [
        "demo.chapters.txt", "demo.mp4", "demo.poster.png", "demo.preview.gif", "demo.srt", "demo.timeline.json",
        "demo.vtt"]
    poster = asyncio.run(probe(result.poster))
    assert poster.video is not None and (poster.video.width, poster.video.height) == (W, H)
    raw = subprocess.run([str(find_ffmpeg()), "-v", "error", "-i", str(result.poster), "-f", "rawvideo",
                          "-pix_fmt", "rgb24", "-"], check=True, capture_output=True).stdout
    img = np.frombuffer(raw, np.uint8).reshape(H, W, 3).astype(int)
    # the first content card (the clock page), not the intro, and without burned-in captions
    assert not (img[H // 2, 8][1] > img[H // 2, 8][0] + 40)
    assert int(np.sum(np.all(img[int(H * 0.8):H - 4] < 60, axis=-1))) < 1500
    gif = asyncio.run(probe(result.preview))
    assert gif.video is not None and gif.video.codec == "gif" and gif.video.width == 480
    assert result.preview.stat().st_size < 1_000_000
    frames = subprocess.run([str(find_ffmpeg()), "-v", "error", "-i", str(result.preview), "-f", "null", "-"],
                            capture_output=True, text=True)
    assert frames.returncode == 0


def test_webp_preview_is_animated_and_small(rendered: tuple[RenderResult, Path], tmp_path: Path) -> None:
    from app.core.mix.preview import make_preview

    result, _ = rendered
    out = asyncio.run(make_preview(find_ffmpeg(), result.video, tmp_path / "p.webp", kind="webp", seconds=2.0,
                                   width=W, height=H))
    data = out.read_bytes()
    assert data[:4] == b"RIFF" and data[8:12] == b"WEBP" and b"ANIM" in data[:64]  # an animated WebP
    assert data.count(b"ANMF") >= 5  # 24 frames in, identical neighbours merged by the encoder
    assert len(data) < 300_000
    assert [p.name for p in tmp_path.iterdir()] == ["p.webp"]  # the temp name is gone


def test_the_storyboard_and_the_format_summary_plan_the_video_the_render_made(
        rendered: tuple[RenderResult, Path], tmp_path: Path) -> None:
    """While editing, the app's total length (the storyboard's, the format bar's) is the rendered
    video's: the intro and outro cards count, with their clips' lengths once the voice cache has them."""
    from app.core.plan.timeline import VoiceTiming, plan
    from app.core.script import plain_narration
    from app.workbench import formats as wf
    from app.workbench.storyboard import plan_storyboard, with_bumpers

    result, _out = rendered
    script = _job(tmp_path).script
    found = wf.cached_voice_timings(script)  # the render left every clip in the voice cache
    assert {"intro", "open"} <= set(found)  # the outro has no narration
    expanded = with_bumpers(script, script.settings, [VoiceTiming(0.0)])[0].script
    measured = {(c.id, plain_narration(c.narration)): found[c.id].duration_s for c in expanded.cards if c.id in found}
    board = plan_storyboard(script, measured)
    intro, _card, outro = result.cards
    print(f"planned {board.total_s:.2f} s (intro {board.intro_s:.2f}, outro {board.outro_s:.2f}); "
          f"rendered {result.duration_s:.2f} s (intro {intro.end_s - intro.start_s:.2f}, "
          f"outro {outro.end_s - outro.start_s:.2f})")
    assert board.total_s == pytest.approx(result.duration_s, abs=0.5)
    assert board.intro_s == pytest.approx(intro.end_s - intro.start_s, abs=0.3)
    assert board.outro_s == pytest.approx(outro.end_s - outro.start_s, abs=0.3)
    assert [b.card_id for b in board.cards] == ["open"]  # the card list shows the script's own cards
    summary = wf.summarize(script.settings, script, [found["open"]], measured=measured)
    assert summary.planned_s == pytest.approx(board.total_s, abs=0.01)
    # what both said before: the script's cards alone, seconds short of the video
    alone = plan(script, script.settings, [found["open"]]).duration_s
    assert result.duration_s - alone > 2.0
