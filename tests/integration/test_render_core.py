"""The render core end to end: real Chromium (headless shell), real Piper, real ffmpeg.

The job drives ``resources/testpages/clock.html``, a page that paints its own clock, click count and
typed-text length into pixels, so the assertions read frames of the finished MP4 instead of trusting
the renderer's word: the click is visible in exactly the planned frame, the page clock advances one
frame interval per video frame, two renders give identical frames, narration starts where planned.
"""

from __future__ import annotations

import asyncio
import hashlib
import importlib.util
import json
import os
import re
import shutil
import subprocess
from pathlib import Path
from types import ModuleType
from typing import Any

import numpy as np
import pytest

from app.core.bundle import Job, load_job, write_bundle
from app.core.errors import Cancelled, RenderError
from app.core.infra.progress import CancelToken, Progress
from app.core.infra.tools import find_ffmpeg
from app.core.render import RenderResult, check, render
from app.core.script import validate_script

pytestmark = [pytest.mark.slow, pytest.mark.browser]

ROOT = Path(__file__).resolve().parents[2]
W, H, FPS = 640, 360, 30
FFPROBE = shutil.which("ffprobe")


def _decoder() -> ModuleType:
    spec = importlib.util.spec_from_file_location("clock_decode", ROOT / "resources/testpages/decode.py")
    assert spec and spec.loader
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


decode = _decoder()


def clock_script(extra_cards: list[dict[str, Any]] | None = None, **settings: Any) -> dict[str, Any]:
    return {
        "title": "Clock test",
        "settings": {"site": "site", "width": W, "height": H, "fps": FPS, "lead_in_ms": 300,
                     "device_scale_factor": 1,  # the test page is drawn for a 640x360 CSS viewport
                     "lead_out_ms": 300, "gap_ms": 200, **settings},
        "cards": [
            {"id": "open", "title": "Open the clock", "narration": "Here is the clock page.",
             "actions": [{"type": "goto", "url": "/index.html"}]},
            {"id": "press", "title": "Press the button",
             "narration": 'Watch the panel. <mark name="now"/> It turns red right now.',
             "actions": [{"type": "click", "target": {"role": "button", "name": "Click me"}, "at": "now"},
                         {"type": "type", "target": {"label": "Field"}, "text": "abc", "delay_ms": 50}]},
            *(extra_cards or []),
        ],
    }


def make_job(tmp: Path, data: dict[str, Any]) -> Job:
    (tmp / "site").mkdir(parents=True, exist_ok=True)
    shutil.copy(ROOT / "resources/testpages/clock.html", tmp / "site/index.html")
    (tmp / "script.json").write_text(json.dumps(data), encoding="utf-8")
    return load_job(tmp / "script.json")


def frames_of(mp4: Path, indexes: list[int]) -> dict[int, np.ndarray]:
    """Decode exact frames (by index) from an MP4 as RGB arrays."""
    ff = find_ffmpeg()
    sel = "+".join(f"eq(n\\,{i})" for i in indexes)
    raw = subprocess.run(
        [str(ff), "-v", "error", "-i", str(mp4), "-vf", f"select={sel}", "-fps_mode", "passthrough",
         "-f", "rawvideo", "-pix_fmt", "rgb24", "-"], check=True, capture_output=True).stdout
    size = W * H * 3
    arrays = [np.frombuffer(raw[i * size:(i + 1) * size], np.uint8).reshape(H, W, 3)
              for i in range(len(raw) // size)]
    assert len(arrays) == len(indexes), f"wanted frames {indexes}, decoded {len(arrays)}"
    return dict(zip(sorted(indexes), arrays, strict=True))


def frame_md5s(mp4: Path) -> list[str]:
    ff = find_ffmpeg()
    out = subprocess.run([str(ff), "-v", "error", "-i", str(mp4), "-map", "0:v", "-f", "framemd5", "-"],
                         check=True, capture_output=True, text=True).stdout
    return [line.rsplit(",", 1)[-1].strip() for line in out.splitlines() if line and not line.startswith("#")]


def narration_onsets(mp4: Path) -> list[float]:
    """Where speech starts after each silence, by ffmpeg's silencedetect.

    Measured on a mono PCM decode: run directly on the AAC stream, silencedetect reports its
    timestamps up to two AAC frames (~40 ms) late."""
    ff = find_ffmpeg()
    wav = mp4.with_name(f".{mp4.stem}.onsets.wav")
    try:
        subprocess.run([str(ff), "-v", "error", "-y", "-i", str(mp4), "-ac", "1", "-c:a", "pcm_s16le", str(wav)],
                       check=True)
        err = subprocess.run([str(ff), "-v", "info", "-i", str(wav), "-af", "silencedetect=n=-40dB:d=0.15",
                              "-f", "null", "-"], capture_output=True, text=True).stderr
    finally:
        wav.unlink(missing_ok=True)
    return [float(m) for m in re.findall(r"silence_end: ([0-9.]+)", err)]


@pytest.fixture(scope="module")
def rendered(tmp_path_factory: pytest.TempPathFactory) -> tuple[Job, RenderResult, list[Progress]]:
    tmp = tmp_path_factory.mktemp("clock")
    job = make_job(tmp, clock_script())
    events: list[Progress] = []
    result = asyncio.run(render(job, tmp / "out", events.append, name="clock"))
    return job, result, events


def test_outputs_are_complete_and_faststart(rendered: tuple[Job, RenderResult, list[Progress]]) -> None:
    from app.core.mix import mp4_top_level_atoms, probe

    _, res, _ = rendered
    assert res.capture_mode == "frame-exact"
    info = asyncio.run(probe(res.video))
    kinds = {s.kind: s for s in info.streams}
    assert kinds["video"].codec == "h264" and kinds["video"].width == W and kinds["video"].height == H
    assert kinds["audio"].codec == "aac" and kinds["audio"].sample_rate == 48000
    assert abs(info.duration_s - res.duration_s) <= 1 / FPS + 1e-3
    assert [c.title for c in info.chapters] == ["Open the clock", "Press the button"]
    atoms = mp4_top_level_atoms(res.video)
    assert atoms.index("moov") < atoms.index("mdat")
    assert res.srt and res.srt.read_text().count("-->") >= 2
    assert res.vtt and res.vtt.read_text().startswith("WEBVTT")
    assert res.chapters_txt and res.chapters_txt.read_text().startswith("0:00 Open the clock")
    # no temp work folders or partial files left beside the outputs
    leftovers = [p.name for p in res.video.parent.iterdir() if p.name.startswith(".")]
    assert leftovers == []


def test_progress_covers_every_stage_in_order(rendered: tuple[Job, RenderResult, list[Progress]]) -> None:
    _, _, events = rendered
    stages = list(dict.fromkeys(e.stage for e in events))
    assert stages == ["prepare", "voice", "plan", "capture", "mix"]
    overall = [e.overall for e in events if e.overall is not None]
    assert overall == sorted(overall) and overall[-1] == pytest.approx(1.0)
    assert any(e.eta_s is not None for e in events if e.stage == "capture")


def test_click_is_visible_in_exactly_the_planned_frame(rendered: tuple[Job, RenderResult, list[Progress]]) -> None:
    _, res, _ = rendered
    assert res.timeline is not None
    click = res.timeline.cards[1].actions[0]
    f = round(click.fire_s * FPS)
    frames = frames_of(res.video, [f - 1, f, f + 1])
    assert not decode.panel_is_red(frames[f - 1]), "the click showed up a frame early"
    assert decode.panel_is_red(frames[f]), "the click is not visible in its planned frame"
    assert decode.decode_clicks(frames[f]) == 1
    # the page's own clock advances exactly one frame interval per video frame
    t0, t1 = decode.decode_clock(frames[f]), decode.decode_clock(frames[f + 1])
    assert abs((t1 - t0) - 1000 / FPS) <= 1


def test_bookmarked_click_fires_on_its_word(rendered: tuple[Job, RenderResult, list[Progress]]) -> None:
    _, res, _ = rendered
    assert res.timeline is not None
    card = res.timeline.cards[1]
    click = card.actions[0]
    # the mark sits after "Watch the panel." — well inside the narration, not at its start
    assert card.voice_start_s + 0.5 < click.fire_s < card.voice_end_s


def test_typing_is_visible_keystroke_by_keystroke(rendered: tuple[Job, RenderResult, list[Progress]]) -> None:
    _, res, _ = rendered
    assert res.timeline is not None
    typing = res.timeline.cards[1].actions[1]
    first = round(typing.fire_s * FPS)
    end = round(typing.end_s * FPS)
    frames = frames_of(res.video, [first - 1, end])
    lengths = [decode.decode_field_length(frames[first - 1]), decode.decode_field_length(frames[end])]
    assert lengths == [0, 3]


def test_narration_starts_at_each_cards_planned_start(rendered: tuple[Job, RenderResult, list[Progress]]) -> None:
    _, res, _ = rendered
    onsets = narration_onsets(res.video)
    planned = [c.voice_start_s for c in res.cards]
    for p in planned:
        nearest = min(onsets, key=lambda o: abs(o - p))
        assert abs(nearest - p) <= 1 / FPS, f"narration planned at {p:.3f}s starts at {nearest:.3f}s"
    # and a card's narration never runs into the next card
    for a, b in zip(res.cards, res.cards[1:], strict=False):
        assert a.voice_end_s <= b.start_s
    assert (res.audio_overlapped, res.audio_restarts) == (True, 0)  # kept to the plan: audio made during capture, once


@pytest.mark.parametrize("late_is_last", [False, True], ids=["then-a-card", "last-card"])
def test_a_timeline_that_leaves_the_plan_still_places_narration_exactly(tmp_path: Path, late_is_last: bool) -> None:
    """The audio is made beside the capture from the plan; when the live run takes longer (here a
    page that gets ready 2 s late), it is never used as planned.  With a card after the late one, the
    rest of the timeline is predicted again before that card and the audio made again from the
    prediction during the capture; when the last card is the late one, it is made after the capture."""
    late = {"id": "late", "narration": "Wait for it.",
            "actions": [{"type": "goto", "url": "/late.html"},
                        {"type": "wait_for", "text": "Ready now", "timeout_ms": 8000}]}
    after = {"id": "after", "narration": "And here it is.", "actions": []}
    extra = [after, late] if late_is_last else [late, after]
    (tmp_path / "site").mkdir(parents=True)  # the page first: loading the job checks every goto's page
    (tmp_path / "site/late.html").write_text(
        "<!doctype html><body style='font:40px sans-serif'><p id=p>Loading</p>"
        "<script>setTimeout(() => { document.getElementById('p').textContent = 'Ready now' }, 2000)</script>",
        encoding="utf-8")
    job = make_job(tmp_path, clock_script(extra))
    res = asyncio.run(render(job, tmp_path / "out", name="late"))
    assert res.timeline is not None
    if late_is_last:
        assert (res.audio_overlapped, res.audio_restarts) == (False, 0)
        # the wait really moved the end
        assert res.duration_s >= res.cards[-1].start_s + 2.0
    else:
        assert (res.audio_overlapped, res.audio_restarts) == (True, 1)
        cards = {c.card_id: c for c in res.cards}
        assert cards["after"].start_s >= cards["late"].start_s + 2.0  # the wait really moved the timeline
    onsets = narration_onsets(res.video)
    for c in res.cards:
        nearest = min(onsets, key=lambda o: abs(o - c.voice_start_s))
        assert abs(nearest - c.voice_start_s) <= 1 / FPS, f"{c.card_id}: {c.voice_start_s:.3f}s vs {nearest:.3f}s"
    from app.core.mix import probe

    info = asyncio.run(probe(res.video))
    assert info.audio is not None and info.audio.duration_s is not None
    assert abs(info.audio.duration_s - res.duration_s) < 0.002


def all_frames(mp4: Path) -> np.ndarray:
    # every coded frame as it is (passthrough): no frame dropped or repeated to fit a constant rate
    raw = subprocess.run([str(find_ffmpeg()), "-v", "error", "-i", str(mp4), "-fps_mode", "passthrough",
                          "-f", "rawvideo", "-pix_fmt", "rgb24", "-"], check=True, capture_output=True).stdout
    return np.frombuffer(raw, np.uint8).reshape(-1, H, W, 3)


def page_state(frame: np.ndarray) -> tuple[Any, ...] | None:
    try:
        return (decode.decode_clock(frame), decode.decode_counters(frame), decode.panel_is_red(frame))
    except decode.ClockDecodeError:
        return None  # before the page has painted


def test_two_renders_of_the_same_job_give_identical_frames(
        rendered: tuple[Job, RenderResult, list[Progress]], tmp_path: Path) -> None:
    """Same job, same frames: the page's click count, typed length and panel are identical in every
    frame of two renders, its clocks agree to the millisecond, and the frames are pixel-identical but
    for one known exception: Chromium clamps JS clocks to 100 µs with a per-process random jitter, so
    a page that *rounds* a timestamp (this one paints performance.now() and the rAF time in ms) can
    flip a digit at a .5 boundary, and CSS animation edges can move by ~0.01 px.  That is measured
    and bounded here, not ignored."""
    job, first, _ = rendered
    second = asyncio.run(render(job, tmp_path, name="again"))
    a, b = all_frames(first.video), all_frames(second.video)

    def spans(r: RenderResult) -> list[tuple[str, float, float, float]]:
        return [(c.card_id, round(c.start_s, 4), round(c.end_s, 4), round(c.voice_duration_s, 5)) for c in r.cards]

    # one fresh-clone CI run got 138 and 137 frames here (not reproduced in 14 local renders, cold and
    # warm voice cache): say which card moved, and whether its clip or its actions made it move
    assert a.shape == b.shape, (f"{len(a)} vs {len(b)} frames; first {spans(first)} {first.frames} captured, "
                                f"again {spans(second)} {second.frames} captured")
    states_a = [page_state(f) for f in a]
    states_b = [page_state(f) for f in b]
    # the clocks to the jittered millisecond (one apart at most), everything else exactly
    assert [s and s[1:] for s in states_a] == [s and s[1:] for s in states_b]  # None stays None
    assert sum(s is not None for s in states_a) > len(a) * 0.9
    clocks = [(decode.decode_clock(x), decode.decode_clock(y), decode.decode_animation_clock(x),
               decode.decode_animation_clock(y)) for x, y, s in zip(a, b, states_a, strict=True) if s is not None]
    assert all(abs(p - q) <= 1 and abs(r - t) <= 1 for p, q, r, t in clocks)
    # after x264 the sub-pixel differences spread a little; measured: mean |diff| p95 0.13, max 0.98
    mean = np.abs(a.astype(np.int16) - b).reshape(len(a), -1).mean(axis=1)
    assert mean.max() <= 1.5, f"frame {int(mean.argmax())} differs by {mean.max():.2f} levels on average"
    assert (mean <= 0.25).mean() >= 0.9


def test_a_bundle_renders_like_the_loose_script(tmp_path: Path) -> None:
    job = make_job(tmp_path / "src", clock_script())
    zipped = write_bundle(job.script, tmp_path / "src", tmp_path / "job.zip")
    with load_job(zipped) as bundled:
        result = asyncio.run(check(bundled))
    assert result.actions_run == 3


def test_missing_element_names_card_action_and_locator(tmp_path: Path) -> None:
    data = clock_script()
    data["cards"][1]["actions"].append({"type": "click", "target": {"test_id": "no-such-thing"}})
    job = make_job(tmp_path, data)
    with pytest.raises(RenderError) as err:
        asyncio.run(render(job, tmp_path / "out", name="bad"))
    e = err.value
    assert (e.card_index, e.card_id, e.action_index) == (1, "press", 2)
    assert 'get_by_test_id("no-such-thing")' in str(e)
    assert "card 2 'press'" in str(e) and "action 3" in str(e)
    assert e.screenshot is not None and e.screenshot.is_file() and e.screenshot.stat().st_size > 1000
    assert not (tmp_path / "out" / "bad.mp4").exists()
    assert [p for p in (tmp_path / "out").iterdir() if p.suffix != ".jpg"] == []


def test_unreachable_url_is_a_clear_error(tmp_path: Path) -> None:
    job = Job(validate_script({"cards": [{"id": "x", "actions": [
        {"type": "goto", "url": "http://127.0.0.1:9/nothing-listens-here"}]}]}), root=tmp_path, loose=True)
    with pytest.raises(RenderError, match=r"cannot open http://127\.0\.0\.1:9/"):
        asyncio.run(check(job))


def _descendants(pid: int) -> set[int]:
    out: set[int] = set()
    stack = [pid]
    while stack:
        p = stack.pop()
        try:
            kids = Path(f"/proc/{p}/task/{p}/children").read_text().split()
        except OSError:
            continue
        for k in kids:
            out.add(int(k))
            stack.append(int(k))
    return out


def test_cancel_mid_capture_leaves_nothing_behind(tmp_path: Path) -> None:
    long_card = {"id": "long", "title": "Long", "narration": "This card is long enough to be cancelled.",
                 "actions": [{"type": "wait", "ms": 20000}]}
    job = make_job(tmp_path, clock_script([long_card]))
    cancel = CancelToken()
    seen: list[str] = []

    def on_progress(p: Progress) -> None:
        seen.append(p.stage)
        if p.stage == "capture" and p.fraction > 0.15:
            cancel.cancel()

    async def go() -> float:
        loop = asyncio.get_running_loop()
        with pytest.raises(Cancelled):
            await render(job, tmp_path / "out", on_progress, cancel, name="cancelled")
        return loop.time()

    before = _descendants(os.getpid())
    asyncio.run(go())
    assert "capture" in seen
    assert sorted((tmp_path / "out").iterdir()) == []
    left = _descendants(os.getpid()) - before
    names = {Path(f"/proc/{p}/comm").read_text().strip() for p in left if Path(f"/proc/{p}/comm").exists()}
    assert not names, f"child processes left behind: {names}"


def test_cancel_stops_within_a_second(tmp_path: Path) -> None:
    long_card = {"id": "long", "narration": "", "actions": [{"type": "wait", "ms": 30000}]}
    job = make_job(tmp_path, clock_script([long_card]))
    cancel = CancelToken()

    async def go() -> float:
        loop = asyncio.get_running_loop()
        t_cancel: list[float] = []

        def on_progress(p: Progress) -> None:
            if p.stage == "capture" and p.fraction > 0.1 and not t_cancel:
                t_cancel.append(loop.time())
                cancel.cancel()

        with pytest.raises(Cancelled):
            await render(job, tmp_path / "out", on_progress, cancel, name="c")
        return loop.time() - t_cancel[0]

    took = asyncio.run(go())
    print(f"cancel to render() returning: {took:.3f} s")
    assert took < 1.0


def test_cli_check_and_render(tmp_path: Path) -> None:
    make_job(tmp_path, clock_script())
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    ok = subprocess.run([str(ROOT / ".venv/bin/python"), "-m", "app", "render", str(tmp_path / "script.json"),
                         "--check"], capture_output=True, text=True, env=env, cwd=tmp_path)
    assert ok.returncode == 0, ok.stderr
    assert "ok: the flow ran to the end — 3 actions" in ok.stdout
    bad = json.loads((tmp_path / "script.json").read_text())
    bad["cards"][1]["actions"][0]["type"] = "clik"
    bad["cards"][0]["id"] = "has space"
    (tmp_path / "bad.json").write_text(json.dumps(bad))
    res = subprocess.run([str(ROOT / ".venv/bin/python"), "-m", "app", "render", str(tmp_path / "bad.json")],
                         capture_output=True, text=True, env=env, cwd=tmp_path)
    assert res.returncode == 2
    assert "2 problems" in res.stderr and "unknown action type 'clik'" in res.stderr
    assert "nothing was launched" in res.stderr and "Traceback" not in res.stderr
    assert not (tmp_path / "out").exists()


def test_realtime_fallback_is_chosen_and_reported(tmp_path: Path) -> None:
    from app.core.infra.tools import Browser

    chromium = Path("/usr/bin/chromium")
    if not chromium.exists():
        pytest.skip("no full Chromium installed")
    job = make_job(tmp_path, clock_script())
    res = asyncio.run(render(job, tmp_path / "out", name="rt", browser=Browser(chromium, "chromium")))
    assert res.capture_mode == "realtime"
    assert any("real time" in w for w in res.warnings)
    assert res.timeline is not None
    click = res.timeline.cards[1].actions[0]
    later = frames_of(res.video, [round(click.end_s * FPS) + 3])
    assert decode.panel_is_red(next(iter(later.values())))


def test_frames_without_change_cost_no_screenshot(rendered: tuple[Job, RenderResult, list[Progress]],
                                                  tmp_path: Path) -> None:
    # The clock page repaints every frame, so use a static page: most frames must be reused.
    (tmp_path / "site").mkdir()
    (tmp_path / "site/index.html").write_text("<h1>Static</h1><p>Nothing moves here.</p>")
    job = Job(validate_script({"settings": {"site": "site", "width": W, "height": H, "device_scale_factor": 1},
                               "cards": [{"id": "s", "narration": "A still page, held while I talk about it.",
                                          "actions": [{"type": "goto", "url": "/"}]}]}),
              root=tmp_path, loose=True)
    res = asyncio.run(render(job, tmp_path / "out", name="static"))
    assert res.frames >= 60
    assert res.screenshots < res.frames * 0.2, (res.screenshots, res.frames)
    digest = {hashlib.md5(x.encode()).hexdigest() for x in frame_md5s(res.video)[-20:]}
    assert len(digest) == 1
