"""Card preview (app.core.preview) against a full render of the same job: its frames are the full
render's frames of that card, drawn smaller, and it cancels like a render.

The job is the clock test page (resources/testpages/clock.html), which paints ``performance.now()``,
the animation clock and its counters into pixels and runs an endless CSS animation (a sliding bar),
so a frame tells exactly which moment of which page state it shows."""

from __future__ import annotations

import asyncio
import importlib.util
import json
import os
import shutil
import subprocess
import warnings
from collections.abc import Awaitable, Callable
from pathlib import Path
from types import ModuleType
from typing import Any

import numpy as np
import pytest

from app.core.bundle import Job, load_job
from app.core.errors import Cancelled
from app.core.infra.progress import CancelToken, Progress
from app.core.infra.tools import find_ffmpeg
from app.core.preview import PreviewResult, preview_card
from app.core.render import RenderResult, render

pytestmark = [pytest.mark.slow, pytest.mark.browser]

ROOT = Path(__file__).resolve().parents[2]
W, H, FPS = 640, 360, 30
#: the preview is drawn at half size: 320x180
PW, PH = W // 2, H // 2


def _decoder() -> ModuleType:
    spec = importlib.util.spec_from_file_location("clock_decode", ROOT / "resources/testpages/decode.py")
    assert spec and spec.loader
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


decode = _decoder()


def preview_script(*extra: dict[str, Any]) -> dict[str, Any]:
    """Three cards on the clock page; card 3 (index 2) is previewed.  Card 2 clicks and types, so
    the page the preview starts from has state (a click count, a typed field) as well as time."""
    return {
        "title": "Preview test",
        "settings": {"site": "site", "width": W, "height": H, "fps": FPS, "lead_in_ms": 300,
                     "device_scale_factor": 1, "lead_out_ms": 300, "gap_ms": 200},
        "cards": [
            {"id": "open", "title": "Open the clock", "narration": "Here is the clock page.",
             "actions": [{"type": "goto", "url": "/index.html"}]},
            {"id": "press", "title": "Press the button", "narration": "Press the button, then type a word.",
             "actions": [{"type": "click", "target": {"role": "button", "name": "Click me"}},
                         {"type": "type", "target": {"label": "Field"}, "text": "abc", "delay_ms": 50},
                         {"type": "wait", "ms": 1500}]},
            {"id": "again", "title": "Press again", "narration": "And once more, with a little more text.",
             "actions": [{"type": "click", "target": {"role": "button", "name": "Click me"}},
                         {"type": "type", "target": {"label": "Field"}, "text": "de", "delay_ms": 50}]},
            *extra,
        ],
    }


def save_rgb(path: Path, rgb: np.ndarray) -> None:
    """An RGB array as a PNG (ffmpeg; the packaged app has no Pillow, so neither do its tests)."""
    h, w, _ = rgb.shape
    subprocess.run([str(find_ffmpeg()), "-v", "error", "-y", "-f", "rawvideo", "-pix_fmt", "rgb24", "-s", f"{w}x{h}",
                    "-i", "-", str(path)], input=np.ascontiguousarray(rgb, np.uint8).tobytes(), check=True)


def make_job(tmp: Path, data: dict[str, Any]) -> Job:
    (tmp / "site").mkdir(parents=True, exist_ok=True)
    shutil.copy(ROOT / "resources/testpages/clock.html", tmp / "site/index.html")
    (tmp / "script.json").write_text(json.dumps(data), encoding="utf-8")
    return load_job(tmp / "script.json")


def frames(mp4: Path, indexes: list[int], *, size: tuple[int, int]) -> dict[int, np.ndarray]:
    """Exact frames (by index) of an MP4 as RGB arrays, scaled to ``size`` (area averaging)."""
    w, h = size
    sel = "+".join(f"eq(n\\,{i})" for i in indexes)
    raw = subprocess.run(
        [str(find_ffmpeg()), "-v", "error", "-i", str(mp4), "-vf", f"select={sel},scale={w}:{h}:flags=area",
         "-fps_mode", "passthrough", "-f", "rawvideo", "-pix_fmt", "rgb24", "-"],
        check=True, capture_output=True).stdout
    n = w * h * 3
    arrays = [np.frombuffer(raw[i * n:(i + 1) * n], np.uint8).reshape(h, w, 3) for i in range(len(raw) // n)]
    assert len(arrays) == len(indexes), f"wanted frames {indexes}, decoded {len(arrays)}"
    return dict(zip(sorted(indexes), arrays, strict=True))


def mean_abs_diff(a: np.ndarray, b: np.ndarray) -> float:
    return float(np.abs(a.astype(np.int16) - b.astype(np.int16)).mean())


#: Where two previews of the same moment may be drawn differently (see :func:`same_pixels`): the page's
#: rAF-count text and its CSS-animated bar, each widened to whole 16-pixel macroblocks (x264 spreads a
#: change over its block).
DRIFT_ZONE = np.zeros((PH, PW), bool)
DRIFT_ZONE[64:96, 0:96] = True  # "frame N" (cell 1, row 6.9 at 10 px a cell)
DRIFT_ZONE[128:PH, :] = True  # the bar's track (rows 15-16)


def same_moment(p: np.ndarray, q: np.ndarray, what: str) -> None:
    """Two frames show the same moment of the same page state, read from their pixels.

    The page paints ``round(performance.now())`` and the rounded rAF timestamp.  Chromium clamps both
    clocks to 100 µs with a jitter drawn from a random secret per renderer process (blink's
    ``TimeClamper``), so two browsers at the very same virtual instant can round to milliseconds one
    apart when the instant lies within 0.1 ms of a .5 boundary -- CI's full suite hit exactly that
    ("4934 == 4933" on a preview's first frame).  A different moment is at least a frame (33 ms at
    30 fps) away, so one millisecond either way still tells a wrong frame from the right one; the
    page's counters must be equal."""
    for name, read in (("performance.now()", decode.decode_clock), ("rAF time", decode.decode_animation_clock)):
        x, y = read(p), read(q)
        assert abs(x - y) <= 1, f"{what}: {name} {x} against {y} ms"
    assert decode.decode_counters(p) == decode.decode_counters(q), f"{what}: page state (clicks, typed text)"


def same_pixels(a: dict[int, np.ndarray], b: dict[int, np.ndarray], what: str, tmp_path: Path) -> None:
    """Frames of two previews of the same job, made in different browsers, are the same moment of the
    same page: its clocks (to Chromium's jittered millisecond, see :func:`same_moment`) and state
    decoded from the pixels agree.  Then the pixels.  They
    were identical in 40+ runs of this file alone, also with the page idling 10 s at the gate and
    under CPU load, but in about one full-suite run in three Chromium drew one of the previews a
    little differently, with the same page state: the page's requestAnimationFrame *count* one ahead
    ("frame 45" against "frame 44") and its CSS bar a step on, or a band of 295 pixels off by at most
    10 of 255 (anti-aliasing), and once 2448 pixels across the page off by up to 206.  In the one
    saved case the bar was 0.5 s of its animation ahead -- exactly one replay chunk (15 frames) --
    with one more rAF callback: one browser started the page's animations at the first frame after
    the load, the other at the end of the replay's first chunk, as if Chromium had skipped one main
    frame.  Not reproduced: 13 previews, 3 alone, 8 beside three CPU hogs and 2 with the site
    answering 0.4 s late (virtual time waits for the navigation's fetch, as it should), all identical.
    One cause was found later and fixed: the performer stepped a frame while the browser's reply to
    input was still in transit (one more rAF, text only; see the slow-driver test below).  The
    half-second case is still open (docs/troubleshooting.md, "A card preview differs by a hair").
    So the pixels must agree outside
    the two elements in :data:`DRIFT_ZONE` in all but 5 % of the frame, and any difference is
    reported as a warning (the suite's summary, CI's log, shows how often), with both frames and
    their difference saved next to the test's files for whoever looks into it."""
    drift = []
    for k in sorted(a):
        p, q = a[k], b[k]
        same_moment(p, q, f"{what} frame {k}")
        diff = np.abs(p.astype(int) - q.astype(int)).max(axis=2)
        ys, xs = np.nonzero(diff)
        if len(ys):
            drift.append(f"frame {k}: {len(ys)} pixels, x {xs.min()}-{xs.max()}, y {ys.min()}-{ys.max()}, "
                         f"by up to {diff.max()}")
            save_rgb(tmp_path / f"drift-frame{k}.png",
                     np.hstack([p, q, np.repeat(np.minimum(diff * 4, 255)[..., None], 3, axis=2)]))
        outside = np.where(DRIFT_ZONE, 0, diff)
        assert np.count_nonzero(outside) <= outside.size // 20, f"{what} frame {k} differs: {drift[-1]}"
    if drift:
        warnings.warn(f"{what} drew differently (frames in {tmp_path}): " + "; ".join(drift), stacklevel=2)


@pytest.fixture(scope="module")
def both(tmp_path_factory: pytest.TempPathFactory) -> tuple[RenderResult, PreviewResult, list[Progress], Path]:
    tmp = tmp_path_factory.mktemp("preview")
    job = make_job(tmp, preview_script())
    full = asyncio.run(render(job, tmp / "full", name="full"))
    events: list[Progress] = []
    out = tmp / "cache" / "card-3.mp4"
    prev = asyncio.run(preview_card(job, 2, out, on_progress=events.append))
    return full, prev, events, out


def test_preview_frames_are_the_full_renders_frames_scaled(
        both: tuple[RenderResult, PreviewResult, list[Progress], Path]) -> None:
    full, prev, _, out = both
    assert (prev.width, prev.height) == (PW, PH)
    card = full.cards[2]
    first = round(card.start_s * FPS)
    assert prev.first_frame == first and prev.card.start_s == card.start_s and prev.card.end_s == card.end_s
    assert prev.frames == round(card.end_s * FPS) - first
    # the first frame, the click, mid-typing and the last frame of the card
    click = round(card.actions[0].fire_s * FPS) - first
    picks = [0, click, click + 1, round(card.actions[1].fire_s * FPS) - first + 2, prev.frames - 1]
    small = frames(out, picks, size=(PW, PH))
    big = frames(full.video, [first + i for i in picks], size=(PW, PH))
    # the full render's frames five frames off: what a preview from the wrong moment would match
    off = frames(full.video, [first + i + 5 for i in picks], size=(PW, PH))
    for i in picks:
        p, f = small[i], big[first + i]
        # the page's own clocks and state, read from its pixels: the very same moment
        same_moment(p, f, f"frame {i}")
        assert abs(decode.bar_position(p) - decode.bar_position(f)) < 0.02, f"frame {i}: CSS animation phase"
        same, wrong = mean_abs_diff(p, f), mean_abs_diff(p, off[first + i + 5])
        print(f"frame {i}: mean abs diff {same:.2f} vs the full render's, {wrong:.2f} five frames off")
        # drawn at half the device scale, not downscaled: antialiasing differs a little, nothing else
        assert same < 4.0, f"frame {i} differs from the full render's by {same:.2f} on average"
        assert same < wrong
    clicks_before = decode.decode_counters(small[0])[0]
    assert clicks_before == 1  # card 2's click happened before the preview starts
    assert decode.decode_counters(small[prev.frames - 1])[0] == 2


def test_preview_is_a_small_mp4_with_the_cards_narration(
        both: tuple[RenderResult, PreviewResult, list[Progress], Path]) -> None:
    from app.core.mix import mp4_top_level_atoms, probe

    _, prev, events, out = both
    info = asyncio.run(probe(out))
    assert info.video is not None and (info.video.width, info.video.height) == (PW, PH)
    assert info.audio is not None
    assert info.duration_s == pytest.approx(prev.duration_s, abs=0.1)
    atoms = mp4_top_level_atoms(out)
    assert atoms.index("moov") < atoms.index("mdat")  # +faststart: plays before it is all read
    assert sorted(p.name for p in out.parent.iterdir()) == [out.name]  # no temp or work files left
    assert [e.stage for e in events if e.stage == "capture"], "no capture progress reported"
    assert prev.exact_timing  # every earlier card was voiced by the full render (cache hits)


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


def processes_left(before: set[int]) -> set[str]:
    """Names of this process's descendants that were not there in ``before``."""
    left = _descendants(os.getpid()) - before
    return {Path(f"/proc/{p}/comm").read_text().strip() for p in left if Path(f"/proc/{p}/comm").exists()}


def test_cancelling_a_preview_stops_within_a_second_and_writes_nothing(tmp_path: Path) -> None:
    long_card = {"id": "long", "narration": "", "actions": [{"type": "wait", "ms": 30000}]}
    job = make_job(tmp_path, preview_script(long_card))
    cancel = CancelToken()
    out = tmp_path / "cache" / "card-4.mp4"

    async def go() -> float:
        loop = asyncio.get_running_loop()
        t_cancel: list[float] = []

        def on_progress(p: Progress) -> None:
            # once the card itself is being filmed
            if p.stage == "capture" and p.message.startswith("frame") and not t_cancel:
                t_cancel.append(loop.time())
                cancel.cancel()

        with pytest.raises(Cancelled):
            await preview_card(job, 3, out, on_progress=on_progress, cancel=cancel)
        assert t_cancel, "the card was never filmed"
        return loop.time() - t_cancel[0]

    before = _descendants(os.getpid())
    took = asyncio.run(go())
    print(f"cancel to preview_card() returning: {took:.3f} s")
    assert took < 1.0
    assert not out.exists() and sorted(out.parent.iterdir()) == []
    names = processes_left(before)
    assert not names, f"child processes left behind: {names}"


def test_a_warm_browser_previews_the_same_frames_and_is_reused(
        tmp_path: Path, both: tuple[RenderResult, PreviewResult, list[Progress], Path]) -> None:
    """The app keeps one browser between previews (a new context each time): its previews are the
    cold preview's frames, the second one starts no browser, and closing it leaves no process."""
    from app.core.capture import WarmBrowser

    _, cold, _, cold_out = both
    job = make_job(tmp_path, preview_script())
    warm = WarmBrowser()
    before = _descendants(os.getpid())

    async def go() -> tuple[list[PreviewResult], list[float], bool]:
        results: list[PreviewResult] = []
        took: list[float] = []
        loop = asyncio.get_running_loop()
        for i in range(2):
            t0 = loop.time()
            results.append(await preview_card(job, 2, tmp_path / f"warm-{i}.mp4", warm=warm))
            took.append(loop.time() - t0)
        kept = warm.ready
        await warm.close()
        return results, took, kept

    results, took, kept = asyncio.run(go())
    print(f"warm previews: {took[0]:.2f} s (launching), {took[1]:.2f} s (kept browser)")
    assert (warm.launches, warm.reuses) == (1, 1)
    assert kept, "the browser was not kept after a clean preview"
    picks = sorted({*range(0, cold.frames, 7), cold.frames - 1})
    ref = frames(cold_out, picks, size=(PW, PH))
    for i, res in enumerate(results):
        assert (res.first_frame, res.frames) == (cold.first_frame, cold.frames)
        got = frames(tmp_path / f"warm-{i}.mp4", picks, size=(PW, PH))
        same_pixels(got, ref, f"warm preview {i} against the cold one", tmp_path)
    names = processes_left(before)
    assert not names, f"processes left after closing the warm browser: {names}"


def test_a_prepared_preview_waits_at_its_card_and_gives_the_same_frames(
        tmp_path: Path, both: tuple[RenderResult, PreviewResult, list[Progress], Path]) -> None:
    """The card editor replays the flow when a card is picked; the click then only voices and films
    the card.  Its narration may change meanwhile (voiced at the click); the frames are those of a
    fresh preview of the script as it is at the click."""
    from app.core.preview import prepare_preview

    edited = preview_script()
    edited["cards"][2]["narration"] = "And once more, with a little more text, and then a few words more."
    job_a = make_job(tmp_path, preview_script())
    job_b = make_job(tmp_path, edited)
    out = tmp_path / "cache" / "card-3.mp4"

    async def go() -> tuple[PreviewResult, PreviewResult, float]:
        prepared = prepare_preview(job_a, 2, out)
        assert prepared is not None
        loop = asyncio.get_running_loop()
        deadline = loop.time() + 60
        while not prepared.ready:
            assert not prepared.task.done(), prepared.task.exception()
            assert loop.time() < deadline, "the replay never reached the card"
            await asyncio.sleep(0.05)
        await asyncio.sleep(1.5)  # the user reads for a while: no stall, nothing moves
        t0 = loop.time()
        got = await preview_card(job_b, 2, out, prepared=prepared)
        took = loop.time() - t0
        fresh = await preview_card(job_b, 2, tmp_path / "fresh.mp4")
        return got, fresh, took

    got, fresh, took = asyncio.run(go())
    print(f"prepared preview: {took:.2f} s from the click ({got.stage_times}); fresh: {fresh.stage_times}")
    assert got.prepared and not fresh.prepared
    assert got.stage_times["waited"] >= 1.5
    assert (got.first_frame, got.frames, got.duration_s) == (fresh.first_frame, fresh.frames, fresh.duration_s)
    _, cold, _, _ = both
    assert got.first_frame == cold.first_frame and got.frames > cold.frames  # the longer narration
    picks = sorted({*range(0, got.frames, 9), got.frames - 1})
    a, b = frames(out, picks, size=(PW, PH)), frames(tmp_path / "fresh.mp4", picks, size=(PW, PH))
    same_pixels(a, b, "the prepared preview against a fresh one", tmp_path)


def test_a_prepared_preview_of_another_flow_is_discarded_and_cancel_ends_it(tmp_path: Path) -> None:
    """An edit before the card (or another card) makes the prepared replay useless: the preview
    discards it and starts over, with the right result; a discarded one leaves no process."""
    from app.core.preview import prepare_preview

    changed = preview_script()
    changed["cards"][1]["actions"][1]["text"] = "xyz"  # typed before the card
    job_a = make_job(tmp_path, preview_script())
    job_b = make_job(tmp_path, changed)
    out = tmp_path / "cache" / "card-3.mp4"
    before = _descendants(os.getpid())

    async def go() -> PreviewResult:
        prepared = prepare_preview(job_a, 2, out)
        assert prepared is not None
        assert not prepared.fits(job_b, 2, out, scale=0.5, draw="encoder")
        assert not prepared.fits(job_a, 1, out, scale=0.5, draw="encoder")
        res = await preview_card(job_b, 2, out, prepared=prepared)
        assert prepared.task.done()
        other = prepare_preview(job_a, 2, out)
        assert other is not None
        await asyncio.sleep(0.5)
        t0 = asyncio.get_running_loop().time()
        await other.discard()
        assert asyncio.get_running_loop().time() - t0 < 1.5
        return res

    res = asyncio.run(go())
    assert not res.prepared
    shot = frames(out, [res.frames - 1], size=(PW, PH))[res.frames - 1]
    assert decode.decode_counters(shot)[1] == len("xyz") + len("de")  # the edited flow, not the prepared one
    names = processes_left(before)
    assert not names, f"processes left: {names}"


#: how late every reply to an input message reaches Python in the slow-driver test
SLOW_ACK_S = 0.06


def slow_input_replies(monkeypatch: pytest.MonkeyPatch,
                       delay: Callable[[str, dict[str, Any]], Awaitable[None]]) -> None:
    """The stand-in for a slow driver on a loaded machine: every CDP reply to an ``Input.*`` message
    reaches Python only after ``delay(method, params)`` has returned."""
    from playwright.async_api import CDPSession

    send = CDPSession.send

    async def slow_send(self: CDPSession, method: str, params: dict[str, Any] | None = None) -> dict[str, Any]:
        reply = await send(self, method, params)
        if method.startswith("Input."):
            await delay(method, params or {})
        return reply

    monkeypatch.setattr(CDPSession, "send", slow_send)


def test_a_slow_driver_moves_no_action_and_no_frame(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
        both: tuple[RenderResult, PreviewResult, list[Progress], Path]) -> None:
    """A loaded machine delays the browser's replies to input on their way back through Playwright's
    driver.  Simulated here (the one stand-in in this file): every ``Input.*`` reply reaches Python
    60 ms late.  The flow must not notice: the full render's actions fire on the same frames, and a
    preview's card starts on the same frame with the same frames.  (Before the fix the performer
    stepped a video frame while a reply was in transit: the card moved 20 frames later, and under
    ordinary load a preview's page ran one more requestAnimationFrame than another's.)"""
    full, cold, _, cold_out = both
    slowed: list[str] = []

    async def late(method: str, params: dict[str, Any]) -> None:
        slowed.append(method)
        await asyncio.sleep(SLOW_ACK_S)

    slow_input_replies(monkeypatch, late)
    job = make_job(tmp_path, preview_script())
    slow = asyncio.run(render(job, tmp_path / "full", name="slow"))
    assert slowed, "no input went through the slowed driver"
    assert slow.timeline is not None and full.timeline is not None
    timing = [(c.start_s, c.end_s, [(a.fire_s, a.end_s) for a in c.actions]) for c in slow.timeline.cards]
    assert timing == [(c.start_s, c.end_s, [(a.fire_s, a.end_s) for a in c.actions]) for c in full.timeline.cards]
    assert slow.frames == full.frames
    prev = asyncio.run(preview_card(job, 2, tmp_path / "slow.mp4"))
    assert (prev.first_frame, prev.frames) == (cold.first_frame, cold.frames)
    picks = sorted({*range(0, cold.frames, 7), cold.frames - 1})
    same_pixels(frames(tmp_path / "slow.mp4", picks, size=(PW, PH)), frames(cold_out, picks, size=(PW, PH)),
                "a preview through a slow driver against the cold one", tmp_path)


def test_a_cancel_while_input_waits_for_its_reply_ends_the_render_within_a_second(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """The performer waits up to 2 s of real time for the browser's reply to input.  A cancel in that
    wait ends the render at once.  Simulated (the same stand-in as above): the reply to the first
    click's mouse press is held back 10 s; the cancel comes as soon as it is sent."""
    cancel = CancelToken()
    held: list[float] = []

    async def hold_first_press(method: str, params: dict[str, Any]) -> None:
        if method == "Input.dispatchMouseEvent" and params.get("type") == "mousePressed" and not held:
            held.append(asyncio.get_running_loop().time())
            asyncio.get_running_loop().call_later(0.2, cancel.cancel)  # inside the performer's wait
            await asyncio.sleep(10)

    slow_input_replies(monkeypatch, hold_first_press)
    job = make_job(tmp_path, preview_script())
    before = _descendants(os.getpid())

    async def go() -> float:
        with pytest.raises(Cancelled):
            await render(job, tmp_path / "out", cancel=cancel, name="held")
        assert held, "the click was never sent"
        return asyncio.get_running_loop().time() - held[0] - 0.2

    took = asyncio.run(go())
    print(f"cancel to render() returning: {took:.3f} s")
    assert took < 1.0
    assert not list((tmp_path / "out").glob("held*.mp4"))
    names = processes_left(before)
    assert not names, f"processes left: {names}"
