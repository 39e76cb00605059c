"""The interactive demo end to end: `reelwright render --interactive` on a small site, then the HTML in
real Chromium with every request other than the file itself blocked.  The steps must agree with the
video: each hotspot sits on its target as the video's own frame shows it (found by colour), each
still is that frame, captions are the narration, and the demo works by mouse and by keyboard.
Real Chromium (frame-exact capture), espeak-ng, ffmpeg.
"""

from __future__ import annotations

import base64
import io
import json
import re
import subprocess
import time
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from PIL import Image

from app.core.capture.steps import StepBox, StepRecord
from app.core.infra.tools import CHROMIUM_ARGS, find_browser, find_ffmpeg

pytestmark = [pytest.mark.slow, pytest.mark.browser]

W, H = 854, 480  # a landscape output below 1000 px: the 1280-px page drawn at a device scale of 2/3

# every target the viewer acts on has its own flat colour, so the video frame says where it is
#: the rest of the page: white, the header, text
PALETTE = [(255, 255, 255), (30, 27, 75), (17, 17, 17), (136, 136, 136)]
COLORS = {"go": (230, 0, 126), "email": (0, 200, 83), "plan": (255, 109, 0), "send": (255, 214, 0)}
PAGE = """<!doctype html><html lang="en"><head><meta charset="utf-8"><title>Plan picker</title><style>
body { margin: 0; font: 18px sans-serif; background: #fff; color: #111; }
header { background: #1e1b4b; color: #fff; padding: 18px 40px; font-size: 26px; }
main { padding: 30px 40px; }
button, input, select { font: inherit; border: 0; border-radius: 0; }
#go { background: #e6007e; color: #fff; width: 200px; height: 50px; }
#email { background: #00c853; color: #111; width: 360px; height: 44px; padding: 0 10px; }
#plan { appearance: none; background: #ff6d00; color: #111; width: 220px; height: 44px; padding: 0 10px; }
#send { background: #ffd600; color: #111; width: 180px; height: 50px; margin-top: 20px; }
label { display: block; margin: 16px 0 6px; }
form[hidden], #done[hidden] { display: none; }
</style></head><body><header>Plan picker</header><main>
<p>Choose a plan for your team.</p>
<button id="go" onclick="document.getElementById('form').hidden = false">Get started</button>
<form id="form" hidden onsubmit="event.preventDefault(); document.getElementById('done').hidden = false">
<label for="email">Email</label><input id="email" type="email">
<label for="plan">Plan</label><select id="plan"><option>Free</option><option>Team</option></select>
<label><input id="terms" type="checkbox"> I agree to the terms</label>
<button id="send">Sign up</button></form>
<h2 id="done" hidden>Welcome aboard!</h2>
</main></body></html>"""

NARRATION = ("Press get started. <mark name=\"email\"/>Then type your email. Pick the team plan and agree to "
             "the terms. <mark name=\"send\"/>Finally, sign up.")
SCRIPT: dict[str, Any] = {
    "title": "Plan picker tour",
    "settings": {"site": "site", "voice": {"provider": "espeak"}, "width": W, "height": H, "fps": 24,
                 "lead_in_ms": 200, "lead_out_ms": 300, "gap_ms": 200,
                 "outro": {"title": "Try Plan picker", "subtitle": "picker.example/start", "duration_ms": 1000}},
    "cards": [
        {"id": "welcome", "title": "Welcome", "narration": "This is the plan picker.",
         "actions": [{"type": "goto", "url": "/index.html"}]},
        {"id": "signup", "title": "Sign up", "narration": NARRATION,
         "actions": [{"type": "click", "target": {"role": "button", "name": "Get started"}},
                     {"type": "fill", "target": {"label": "Email"}, "value": "ana@team.example", "at": "email"},
                     {"type": "select", "target": {"label": "Plan"}, "values": ["Team"]},
                     {"type": "check", "target": {"label": "I agree to the terms"}},
                     {"type": "click", "target": {"role": "button", "name": "Sign up"}, "at": "send"}]},
        {"id": "done", "title": "Done", "narration": "You are in. Press Escape to close the welcome.",
         "actions": [{"type": "press", "key": "Escape"}]},
    ],
}
# the colour-coded target of each action step, in order (None: no coloured target)
ACTION_TARGETS = ["go", "email", "plan", None, "send", None]
EXPECTED_KINDS = ["card", "card", "action", "action", "action", "action", "action", "card", "action", "end"]


def _frame(mp4: Path, n: int, w: int = W, h: int = H) -> np.ndarray:
    """Frame ``n`` of the video, decoded exactly (by index, not by a seek)."""
    raw = subprocess.run([str(find_ffmpeg()), "-v", "error", "-i", str(mp4), "-vf", rf"select=eq(n\,{n})",
                          "-frames:v", "1", "-f", "rawvideo", "-pix_fmt", "rgb24", "-"],
                         check=True, capture_output=True).stdout
    return np.frombuffer(raw, np.uint8).reshape(h, w, 3).astype(int)


def _colour_box(rgb: np.ndarray, colour: tuple[int, int, int]) -> tuple[float, float, float, float]:
    """(x, y, width, height) in video px of the pixels of ``colour``: a pixel counts when its nearest
    colour of the page's palette is this one, so an edge blended half-way by scaling and chroma
    subsampling falls where the edge is."""
    others = [c for c in (*COLORS.values(), *PALETTE) if c != colour]
    near = np.abs(rgb - np.array(colour)).sum(axis=2)
    nearest = np.all([near < np.abs(rgb - np.array(c)).sum(axis=2) for c in others], axis=0)
    # below the header, whose anti-aliased white-on-navy title has every in-between colour
    navy = np.nonzero(np.abs(rgb[:, 2] - np.array(PALETTE[1])).max(axis=1) < 24)[0]
    nearest[: navy.max() + 2 if len(navy) else 0] = False
    # the target is the block of rows and columns mostly of its colour (stray blended pixels elsewhere,
    # the cursor drawn over its middle, do not move its edges)
    rows, cols = nearest.sum(axis=1), nearest.sum(axis=0)
    assert rows.max() > 10, f"no {colour} target in the frame"
    ys, xs = np.nonzero(rows >= rows.max() / 2)[0], np.nonzero(cols >= cols.max() / 2)[0]
    x0, x1, y0, y1 = int(xs.min()), int(xs.max()), int(ys.min()), int(ys.max())
    # Edges to a fraction of a pixel from brightness alone: H.264 keeps brightness at full resolution
    # but colour at half, so a colour edge is blurred over two pixels and a brightness edge is not.
    # A pixel's coverage is how far its brightness went from the white page towards the target's.
    luma = rgb @ np.array([0.299, 0.587, 0.114])
    inner = float(np.dot(colour, [0.299, 0.587, 0.114]))

    def cover(v: float) -> float:
        return float(np.clip((255 - v) / (255 - inner), 0, 1))

    row, col = luma[(3 * y0 + y1) // 4], luma[:, (3 * x0 + x1) // 4]  # clear of the cursor in the middle
    left = x0 - cover(row[x0 - 1])
    right = x1 + 1 + cover(row[x1 + 1])
    top = y0 - cover(col[y0 - 1])
    bottom = y1 + 1 + cover(col[y1 + 1])
    return left, top, right - left, bottom - top


def _decode_data_uri(uri: str) -> np.ndarray:
    head, data = uri.split(",", 1)
    assert head == "data:image/webp;base64"
    img = Image.open(io.BytesIO(base64.b64decode(data))).convert("RGB")
    assert img.size == (W, H)
    return np.asarray(img).astype(int)


def _render(tmp_path: Path) -> Path:
    from app.cli import main

    (tmp_path / "site").mkdir()
    (tmp_path / "site/index.html").write_text(PAGE, encoding="utf-8")
    (tmp_path / "script.json").write_text(json.dumps(SCRIPT), encoding="utf-8")
    out = tmp_path / "out" / "tour.mp4"
    t0 = time.monotonic()
    assert main(["render", str(tmp_path / "script.json"), "--interactive", "--out", str(out), "-q"]) == 0
    print(f"\nrender with --interactive: {time.monotonic() - t0:.1f} s")
    return out


def test_interactive_demo_agrees_with_the_video_and_works_offline(tmp_path: Path) -> None:
    from playwright.sync_api import Route, sync_playwright

    mp4 = _render(tmp_path)
    page_file = mp4.with_name("tour.demo.html")
    assert page_file.is_file() and not mp4.with_name("tour.demo").exists()  # small: everything inline
    print(f"tour.demo.html: {page_file.stat().st_size / 1024:.0f} KiB for {len(EXPECTED_KINDS)} steps")
    text = page_file.read_text(encoding="utf-8")
    data = json.loads(re.search(r'<script id="demo-data" type="application/json">(.*?)</script>', text, re.S)
                      .group(1))  # type: ignore[union-attr]
    steps = data["steps"]
    assert [s["kind"] for s in steps] == EXPECTED_KINDS
    file_url = page_file.resolve().as_uri()
    requests: list[str] = []
    browser = find_browser()
    with sync_playwright() as pw:
        chromium = pw.chromium.launch(executable_path=str(browser.path), headless=True,
                                      args=[*CHROMIUM_ARGS, "--autoplay-policy=no-user-gesture-required"])
        try:
            context = chromium.new_context(viewport={"width": 1200, "height": 860})

            def guard(route: Route) -> None:
                if route.request.url == file_url:
                    route.continue_()
                else:
                    route.abort()

            context.route("**/*", guard)
            page = context.new_page()
            page.on("request", lambda r: requests.append(r.url))
            page.goto(file_url)

            def current() -> int:
                return int(page.evaluate("document.body.dataset.step"))

            def stage_box() -> dict[str, float]:
                return page.evaluate("(() => { const r = document.getElementById('stage').getBoundingClientRect();"
                                     " return {x: r.x, y: r.y, w: r.width, h: r.height}; })()")

            # mouse: the "Start" button, then every hotspot in order
            action_i = 0
            for i, step in enumerate(steps):
                assert current() == i
                assert page.locator("#caption").inner_text() == step["caption"]
                frame = _frame(mp4, step["frame"])
                # the still is the video's own frame (both lossy: a small mean difference)
                still = _decode_data_uri(data["media"][step["image"]])
                assert np.abs(still - frame).mean() < 4, f"step {i}: the still is not frame {step['frame']}"
                if step["kind"] == "action":
                    hotspot = page.get_by_role("button", name=step["label"], exact=True)
                    assert hotspot.evaluate("e => e.id === 'hotspot' && document.activeElement === e")
                    colour = ACTION_TARGETS[action_i]
                    action_i += 1
                    if colour is not None:
                        st, hb = stage_box(), hotspot.bounding_box()
                        assert hb is not None
                        got = ((hb["x"] - st["x"]) / st["w"] * W, (hb["y"] - st["y"]) / st["h"] * H,
                               hb["width"] / st["w"] * W, hb["height"] / st["h"] * H)
                        want = _colour_box(frame, COLORS[colour])
                        assert all(abs(a - b) <= 2 for a, b in zip(got, want, strict=True)), (i, got, want)
                    hotspot.click()
                elif step["kind"] == "end":
                    assert page.locator(".cta").inner_text().split("\n") == ["Try Plan picker", "picker.example/start"]
                    break
                else:
                    page.locator("#next").click()
                assert current() == i + 1, f"clicking step {i}'s control did not advance"

            # captions are the narration: the card's, or the sentence around the action's bookmark
            assert steps[1]["caption"] == steps[2]["caption"] == (
                "Press get started. Then type your email. Pick the team plan and agree to the terms. "
                "Finally, sign up.")
            assert steps[3]["caption"] == "Then type your email."
            assert steps[6]["caption"] == "Finally, sign up."
            assert steps[3]["typed"] == "ana@team.example" and steps[4]["typed"] == "Team"
            assert steps[8]["label"] == "Press Escape" and steps[8]["typed"] == "Escape"

            # keyboard only: Home, arrows, Enter on the focused hotspot, the progress bar
            page.keyboard.press("Home")
            assert current() == 0
            page.keyboard.press("ArrowRight")
            page.keyboard.press("ArrowRight")
            assert current() == 2
            assert page.evaluate("document.activeElement.id") == "hotspot"
            page.keyboard.press("Enter")  # the focused hotspot, as a keyboard user activates it
            assert current() == 3
            page.keyboard.press("ArrowLeft")
            assert current() == 2
            page.get_by_role("button", name=re.compile(r"^Step 8 of 10")).click()
            assert current() == 7
            page.keyboard.press("End")
            assert current() == len(steps) - 1

            # voice: muted until the one toggle; then the step's clip plays
            page.keyboard.press("Home")
            assert page.evaluate("document.getElementById('voice').paused")
            page.locator("#sound").click()
            assert page.locator("#sound").get_attribute("aria-pressed") == "true"
            page.wait_for_function("() => { const a = document.getElementById('voice');"
                                   " return a.readyState >= 1 && a.duration > 0.5 && !a.paused; }", timeout=5000)
            # the typed text shows on a typing step
            page.keyboard.press("End")
            page.keyboard.press("Home")
            for _ in range(3):
                page.keyboard.press("ArrowRight")
            page.wait_for_function("() => document.querySelector('.typed') && "
                                   "document.querySelector('.typed').textContent === 'ana@team.example'",
                                   timeout=5000)
            # the hotspot stays on its target at another window size and device scale
            small = chromium.new_context(viewport={"width": 520, "height": 420}, device_scale_factor=2)
            small.route("**/*", guard)
            p2 = small.new_page()
            p2.on("request", lambda r: requests.append(r.url))
            p2.goto(file_url)
            for _ in range(2):
                p2.keyboard.press("ArrowRight")
            st = p2.evaluate("(() => { const r = document.getElementById('stage').getBoundingClientRect();"
                             " return {x: r.x, y: r.y, w: r.width, h: r.height}; })()")
            hb = p2.locator("#hotspot").bounding_box()
            assert hb is not None and st["w"] < 520
            want = _colour_box(_frame(mp4, steps[2]["frame"]), COLORS["go"])
            got = ((hb["x"] - st["x"]) / st["w"] * W, (hb["y"] - st["y"]) / st["h"] * H,
                   hb["width"] / st["w"] * W, hb["height"] / st["h"] * H)
            assert all(abs(a - b) <= 2 for a, b in zip(got, want, strict=True)), (got, want)
        finally:
            chromium.close()
    assert [u for u in requests if u != file_url] == [], "the demo made requests outside its file"


def test_big_media_go_into_a_folder_beside_the_page(tmp_path: Path) -> None:
    """Above the inline limit the stills and voice are files in <name>.demo/, named relatively, and
    the page still loads them from the disk alone."""
    import asyncio
    import wave

    from playwright.sync_api import Route, sync_playwright

    from app.core.mix.interactive import build_demo, make_interactive
    from app.core.render import _publish_interactive
    from app.core.script import validate_script

    script = validate_script({"title": "Folder", "cards": [
        {"id": "a", "title": "A", "narration": "Click go.",
         "actions": [{"type": "click", "target": {"role": "button", "name": "Go"}}]}]})
    buf = io.BytesIO()
    Image.new("RGB", (320, 180), (200, 30, 30)).save(buf, format="JPEG")
    records = [StepRecord("card", 0, None, 1, 0.1, buf.getvalue()),
               StepRecord("action", 0, 0, 5, 0.5, buf.getvalue(), StepBox(10, 20, 30, 40))]
    clip = tmp_path / "a.wav"
    with wave.open(str(clip), "wb") as w:
        w.setnchannels(1)
        w.setsampwidth(2)
        w.setframerate(48000)
        w.writeframes(b"\0\0" * 24000)
    demo = build_demo(records, script, width=320, height=180, view=(320, 180), voices=[("voice:0", 0.5, {})])
    page, folder = asyncio.run(make_interactive(find_ffmpeg(), demo, {"voice:0": clip}, tmp_path / "work",
                                                name="big", inline_limit=0))
    assert folder is not None
    out = tmp_path / "out"
    out.mkdir()
    final, media = _publish_interactive(page, folder, out, "big")
    assert final == out / "big.demo.html"
    assert [p.name for p in media] == ["step-001.webp", "voice-01.mp3"]
    assert all(p.parent == out / "big.demo" for p in media)
    text = final.read_text(encoding="utf-8")
    assert '"big.demo/step-001.webp"' in text and "base64" not in text
    outside: list[str] = []
    with sync_playwright() as pw:
        chromium = pw.chromium.launch(executable_path=str(find_browser().path), headless=True, args=CHROMIUM_ARGS)
        try:
            ctx = chromium.new_context()

            def guard(route: Route) -> None:
                if route.request.url.startswith(out.resolve().as_uri() + "/"):
                    route.continue_()
                else:
                    outside.append(route.request.url)
                    route.abort()

            ctx.route("**/*", guard)
            p = ctx.new_page()
            p.goto(final.resolve().as_uri())
            p.wait_for_function("() => document.getElementById('still').naturalWidth === 320", timeout=5000)
            p.locator("#sound").click()
            p.wait_for_function("() => document.getElementById('voice').duration > 0.4", timeout=5000)
        finally:
            chromium.close()
    assert outside == []


def test_the_example_and_its_demo_agree_step_for_step(tmp_path: Path) -> None:
    """The quickstart (every card, intro and outro) at 1280x720: one step per card and per viewer
    action of the script, each still the video's frame, a few MB at most, and a click-through of every
    hotspot in Chromium with no request leaving the file.  15 fps and espeak keep it short."""
    import asyncio
    import dataclasses

    from playwright.sync_api import Route, sync_playwright

    from app.core.bundle import load_job
    from app.core.capture.steps import VIEWER_ACTIONS
    from app.core.render import render

    root = Path(__file__).resolve().parents[2]
    job = load_job(root / "resources/examples/quickstart/script.json")
    script = job.script.model_copy(deep=True)
    s = script.settings
    s.fps, s.music, s.poster, s.interactive = 15, None, False, True
    s.voice = s.voice.model_copy(update={"provider": "espeak", "voice": "en-us"})
    job = dataclasses.replace(job, script=script)
    t0 = time.monotonic()
    res = asyncio.run(render(job, tmp_path, name="quickstart"))
    assert res.interactive is not None and res.interactive in res.files() and res.interactive_media == []
    size = res.interactive.stat().st_size
    print(f"\nquickstart at 1280x720: render {time.monotonic() - t0:.0f} s, "
          f"quickstart.demo.html {size / 1e6:.2f} MB, video {res.video.stat().st_size / 1e6:.2f} MB")
    assert size < 4e6
    text = res.interactive.read_text(encoding="utf-8")
    data = json.loads(re.search(r'<script id="demo-data" type="application/json">(.*?)</script>', text, re.S)
                      .group(1))  # type: ignore[union-attr]
    steps = data["steps"]
    viewer = [(c.id, a.type) for c in script.cards for a in c.actions if a.type in VIEWER_ACTIONS]
    assert [s["action"] for s in steps if s["kind"] == "action"] == [t for _, t in viewer]
    # a card step per card and one for the intro (first), the outro last with its call to action
    assert sum(s["kind"] == "card" for s in steps) == len(script.cards) + 1 and steps[-1]["kind"] == "end"
    assert steps[0]["title"] == script.settings.intro.title  # type: ignore[union-attr]
    assert data["cta"] == [script.settings.outro.title, script.settings.outro.subtitle]  # type: ignore[union-attr]
    w, h = 1280, 720
    # every step's frame, decoded in one pass (frames in order; steps may share one)
    wanted = sorted({st["frame"] for st in steps})
    select = "+".join(rf"eq(n\,{n})" for n in wanted)
    raw = subprocess.run([str(find_ffmpeg()), "-v", "error", "-i", str(res.video), "-vf", f"select={select}",
                          "-fps_mode", "passthrough", "-f", "rawvideo", "-pix_fmt", "rgb24", "-"],
                         check=True, capture_output=True).stdout
    frames = dict(zip(wanted, np.frombuffer(raw, np.uint8).reshape(-1, h, w, 3).astype(int), strict=True))
    for step in steps:
        still = np.asarray(Image.open(io.BytesIO(base64.b64decode(data["media"][step["image"]].split(",", 1)[1])))
                           .convert("RGB")).astype(int)
        assert np.abs(still - frames[step["frame"]]).mean() < 4, f"the still of step {step} is not its video frame"
    file_url = res.interactive.resolve().as_uri()
    outside: list[str] = []
    with sync_playwright() as pw:
        chromium = pw.chromium.launch(executable_path=str(find_browser().path), headless=True, args=CHROMIUM_ARGS)
        try:
            ctx = chromium.new_context(viewport={"width": 1280, "height": 860})

            def guard(route: Route) -> None:
                if route.request.url == file_url:
                    route.continue_()
                else:
                    outside.append(route.request.url)
                    route.abort()

            ctx.route("**/*", guard)
            page = ctx.new_page()
            page.goto(file_url)
            for i, step in enumerate(steps[:-1]):
                assert page.evaluate("document.body.dataset.step") == str(i)
                assert page.locator("#caption").inner_text() == step["caption"]
                if step["kind"] == "action":
                    page.get_by_role("button", name=step["label"], exact=True).click()
                else:
                    page.locator("#next").click()
            assert page.evaluate("document.body.dataset.step") == str(len(steps) - 1)
            assert script.settings.outro is not None
            assert script.settings.outro.title in page.locator(".cta").inner_text()
        finally:
            chromium.close()
    assert outside == []


def test_hotspots_match_the_video_in_a_vertical_render(tmp_path: Path) -> None:
    """720x1280 is the phone layout drawn at a device scale of 2 (360x640 CSS px): the hotspots, kept
    in CSS px as fractions of the page, still sit on their targets in the video's frames."""
    from playwright.sync_api import sync_playwright

    from app.cli import main

    w, h = 720, 1280
    (tmp_path / "site").mkdir()
    page_html = PAGE.replace("width: 360px", "width: 240px").replace("width: 220px", "width: 200px")
    (tmp_path / "site/index.html").write_text(page_html, encoding="utf-8")
    script = json.loads(json.dumps(SCRIPT))
    script["settings"].update(width=w, height=h)
    del script["settings"]["outro"]
    script["cards"] = script["cards"][:2]
    script["cards"][1]["actions"] = script["cards"][1]["actions"][:3]
    (tmp_path / "script.json").write_text(json.dumps(script), encoding="utf-8")
    mp4 = tmp_path / "out" / "tall.mp4"
    assert main(["render", str(tmp_path / "script.json"), "--interactive", "--out", str(mp4), "-q"]) == 0
    page_file = mp4.with_name("tall.demo.html")
    text = page_file.read_text(encoding="utf-8")
    steps = json.loads(re.search(r'<script id="demo-data" type="application/json">(.*?)</script>', text, re.S)
                       .group(1))["steps"]  # type: ignore[union-attr]
    actions = [st for st in steps if st["kind"] == "action"]
    assert [a["action"] for a in actions] == ["click", "fill", "select"]
    with sync_playwright() as pw:
        chromium = pw.chromium.launch(executable_path=str(find_browser().path), headless=True, args=CHROMIUM_ARGS)
        try:
            page = chromium.new_page(viewport={"width": 900, "height": 1000})
            page.goto(page_file.resolve().as_uri())
            for i, step in enumerate(steps):
                if step["kind"] == "action":
                    colour = COLORS[["go", "email", "plan"][actions.index(step)]]
                    st = page.evaluate("(() => { const r = document.getElementById('stage').getBoundingClientRect();"
                                       " return {x: r.x, y: r.y, w: r.width, h: r.height}; })()")
                    hb = page.locator("#hotspot").bounding_box()
                    assert hb is not None
                    got = ((hb["x"] - st["x"]) / st["w"] * w, (hb["y"] - st["y"]) / st["h"] * h,
                           hb["width"] / st["w"] * w, hb["height"] / st["h"] * h)
                    want = _colour_box(_frame(mp4, step["frame"], w, h), colour)
                    assert all(abs(a - b) <= 2 for a, b in zip(got, want, strict=True)), (i, got, want)
                page.keyboard.press("ArrowRight")
        finally:
            chromium.close()
