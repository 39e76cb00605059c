"""Renders follow several tabs: a popup opened by a click is filmed after the click, the first tab again
after the popup closes, on one virtual clock (the popup's timers and animations are as reproducible as
the first tab's), with a cut or a short slide.  Real Chromium (headless shell) and ffmpeg; frames are
decoded and classified by colour (each test page has its own background).

Three renders: the same popup flow twice (cut; compared frame by frame) and a slide flow whose popup
(an unnamed one: the legacy click new_page) closes itself (window.close()) and that opens, switches
away from and closes a tab with new_page, switch_page and close_page.
"""

from __future__ import annotations

import asyncio
import itertools
import json
import os
import shutil
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt
import pytest

from app.core.bundle import load_job
from app.core.errors import Cancelled, RenderError
from app.core.infra.progress import CancelToken
from app.core.infra.tools import find_ffmpeg
from app.core.render import check

pytestmark = [pytest.mark.slow, pytest.mark.browser]

ROOT = Path(__file__).resolve().parents[2]
W, H = 480, 270

BLUE, GREEN, PURPLE = (30, 80, 200), (30, 150, 70), (120, 40, 150)

_STYLE = """body{font:20px sans-serif;margin:0;display:grid;place-items:center;height:100vh;color:#fff;background:%s}
a,button{font:inherit;color:#fff;background:#0008;border:0;padding:6px 14px;border-radius:6px;text-decoration:none}"""

MAIN = f"""<!doctype html><html><head><meta charset="utf-8"><title>Main</title>
<style>{_STYLE % "rgb(30,80,200)"} iframe{{border:0;width:220px;height:70px}}</style></head>
<body><main><h1 id="t">Main page</h1><a href="pop.html#top" target="_blank">Open help</a>
<button onclick="document.getElementById('t').textContent='Back on main'">Done</button>
<br><iframe id="outer" src="outer.html"></iframe></main></body></html>"""

OUTER = """<!doctype html><html><body style="margin:0;background:#333">
<iframe id="inner" src="inner.html" style="border:0;width:200px;height:60px;margin:5px"></iframe></body></html>"""

INNER = """<!doctype html><html><body style="margin:0;background:#555;height:60px">
<button onclick="document.body.style.background='rgb(230,20,20)'" style="font:16px sans-serif">Inner</button>
</body></html>"""

# The popup: a CSS animation and a timer-driven bar (its width counts the timer's ticks), so the
# popup's own clock shows in its pixels.
POPUP = f"""<!doctype html><html><head><meta charset="utf-8"><title>Popup</title>
<style>{_STYLE % "rgb(30,150,70)"}
#spin{{width:36px;height:36px;background:#ffd000;animation:spin 1.3s linear infinite;margin:8px auto}}
@keyframes spin{{to{{transform:rotate(360deg)}}}}
#bar{{position:fixed;left:0;bottom:0;height:24px;width:0;background:rgb(255,255,0)}}</style></head>
<body><main><h1 id="h">Popup</h1><div id="spin"></div>
<input aria-label="Note" oninput="document.getElementById('h').textContent='Note: '+this.value">
<button onclick="document.getElementById('h').textContent='Marked'">Mark</button>
<button onclick="window.close()">Close</button></main><div id="bar"></div>
<script>let n = 0; setInterval(() => {{ n++; document.getElementById('bar').style.width = (n * 4 % 100) + '%'; }}, 100);
</script></body></html>"""

NOTES = f"""<!doctype html><html><head><meta charset="utf-8"><title>Notes</title>
<style>{_STYLE % "rgb(120,40,150)"}</style></head><body><h1>Notes</h1></body></html>"""

SETTINGS = {"site": "site", "width": W, "height": H, "fps": 24, "lead_in_ms": 200, "lead_out_ms": 300,
            "gap_ms": 150}

POPUP_FLOW = {
    "version": 1, "title": "Tabs",
    "settings": SETTINGS,
    "cards": [
        {"id": "open", "title": "Open", "narration": "Open the page and its help.",
         "actions": [{"type": "goto", "url": "/index.html"},
                     {"type": "click", "target": {"role": "link", "name": "Open help"}, "opens": "help"}]},
        {"id": "mark", "title": "Mark", "narration": "Mark it in the help tab.",
         "actions": [{"type": "fill", "target": {"label": "Note"}, "value": "typed here", "page": "help"},
                     {"type": "wait_for", "text": "Note: typed here", "timeout_ms": 2000},
                     {"type": "click", "target": {"role": "button", "name": "Mark"}}]},
        {"id": "back", "title": "Back", "narration": "Close the help and finish on the first page.",
         "actions": [{"type": "close_page", "page": "help"},
                     {"type": "click", "target": {"role": "button", "name": "Done"}, "page": "page"},
                     {"type": "click", "target": {"role": "button", "name": "Inner",
                                                  "frame": ["#outer", "#inner"]}}]},
    ],
}

SLIDE_FLOW = {
    "version": 1, "title": "Slides",
    "settings": {**SETTINGS, "tab_transition": "slide"},
    "cards": [
        {"id": "open", "title": "Open", "narration": "Open the help.",
         "actions": [{"type": "goto", "url": "/index.html"},
                     {"type": "click", "target": {"role": "link", "name": "Open help"}, "new_page": True}]},
        {"id": "close", "title": "Close", "narration": "The help closes itself.",
         "actions": [{"type": "click", "target": {"role": "button", "name": "Close"}},
                     {"type": "click", "target": {"role": "button", "name": "Done"}, "page": "page"}]},
        {"id": "notes", "title": "Notes", "narration": "Open notes in a new tab, then go back.",
         "actions": [{"type": "new_page", "page": "notes"}, {"type": "goto", "url": "/notes.html"},
                     {"type": "switch_page", "page": "page"}, {"type": "close_page", "page": "notes"}]},
    ],
}


def _job(tmp: Path, script: dict[str, Any]) -> Path:
    site = tmp / "site"
    site.mkdir(parents=True)
    for name, html in {"index.html": MAIN, "outer.html": OUTER, "inner.html": INNER, "pop.html": POPUP,
                       "notes.html": NOTES}.items():
        (site / name).write_text(html, encoding="utf-8")
    path = tmp / "script.json"
    path.write_text(json.dumps(script), encoding="utf-8")
    return path


def _render(script: Path, out: Path) -> None:
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    res = subprocess.run([sys.executable, "-m", "app", "render", str(script), "--out", str(out), "-q"],
                         capture_output=True, text=True, env=env, timeout=600)
    assert res.returncode == 0, res.stderr


def _frames(video: Path) -> npt.NDArray[np.uint8]:
    raw = subprocess.run([str(find_ffmpeg()), "-v", "error", "-i", str(video), "-map", "0:v:0", "-f", "rawvideo",
                          "-pix_fmt", "rgb24", "-"], capture_output=True, check=True).stdout
    return np.frombuffer(raw, dtype=np.uint8).reshape(-1, H, W, 3)


def _colour(px: npt.NDArray[np.uint8]) -> str:
    """Which page a pixel belongs to ('blue' first page, 'green' popup, 'purple' notes, '-' none)."""
    named = {"blue": BLUE, "green": GREEN, "purple": PURPLE}
    best = min(named, key=lambda k: float(np.abs(px.astype(int) - named[k]).sum()))
    return best if float(np.abs(px.astype(int) - named[best]).sum()) < 40 else "-"


def _runs(labels: list[str]) -> list[tuple[str, int, int]]:
    """(label, first frame, length) runs of the labels, blanks dropped."""
    out: list[tuple[str, int, int]] = []
    for i, lab in enumerate(labels):
        if lab == "-":
            continue
        if out and out[-1][0] == lab:
            out[-1] = (lab, out[-1][1], out[-1][2] + 1)
        else:
            out.append((lab, i, 1))
    return out


@pytest.fixture(scope="module")
def popup_renders(tmp_path_factory: pytest.TempPathFactory) -> list[npt.NDArray[np.uint8]]:
    tmp = tmp_path_factory.mktemp("tabs")
    script = _job(tmp / "job", POPUP_FLOW)
    videos = []
    for run in ("a", "b"):
        out = tmp / run / "v.mp4"
        _render(script, out)
        videos.append(_frames(out))
    return videos


def test_the_popup_is_filmed_after_the_click_and_the_first_page_after_it_closes(
        popup_renders: list[npt.NDArray[np.uint8]]) -> None:
    frames = popup_renders[0]
    labels = [_colour(f[8, 8]) for f in frames]
    runs = _runs(labels)
    print(f"\n{len(frames)} frames; runs: {runs}")
    assert [r[0] for r in runs] == ["blue", "green", "blue"], runs
    # the popup ran: its timer bar grew while it was on screen
    green = [f for f, lab in zip(frames, labels, strict=True) if lab == "green"]
    widths = [int((np.abs(f[H - 6].astype(int) - (255, 255, 0)).sum(axis=1) < 60).sum()) for f in green]
    assert max(widths) > 0 and len(set(widths)) > 3, widths
    # nested frames: the button inside #outer > #inner was clicked (the inner page turned red)
    last = frames[-1].astype(int)
    red = (np.abs(last - (230, 20, 20)).sum(axis=2) < 60).sum()
    assert red > 500, f"{red} red pixels in the last frame"


def test_two_renders_of_a_popup_flow_match_frame_by_frame(popup_renders: list[npt.NDArray[np.uint8]]) -> None:
    a, b = popup_renders
    assert a.shape == b.shape, "the timelines differ"
    labels = [_colour(f[8, 8]) for f in a]
    assert labels == [_colour(f[8, 8]) for f in b], "the tabs change at different frames"
    popup = [i for i, lab in enumerate(labels) if lab == "green"]
    bar_a = [int((np.abs(a[i][H - 6].astype(int) - (255, 255, 0)).sum(axis=1) < 60).sum()) for i in popup]
    bar_b = [int((np.abs(b[i][H - 6].astype(int) - (255, 255, 0)).sum(axis=1) < 60).sum()) for i in popup]
    # the popup's timer fires on the video clock: the same ticks in the same frames
    assert bar_a == bar_b
    diff = np.abs(a.astype(np.int16) - b).reshape(len(a), -1).mean(axis=1)
    print(f"\npopup frames {popup[0]}..{popup[-1]}; mean |difference| per frame max {diff.max():.3f}; "
          f"{int((diff == 0).sum())} of {len(a)} frames identical")
    # the bound of the reproducible-render test (Chromium's 100 µs clock jitter moves animations a hair)
    assert diff.max() <= 1.5 and np.percentile(diff, 95) <= 0.5


def test_slides_a_self_closing_popup_and_new_page_switch_page_close_page(tmp_path: Path) -> None:
    script = _job(tmp_path / "job", SLIDE_FLOW)
    out = tmp_path / "v.mp4"
    _render(script, out)
    frames = _frames(out)
    left = [_colour(f[8, 8]) for f in frames]
    right = [_colour(f[8, W - 8]) for f in frames]
    runs = _runs(left)
    print(f"\n{len(frames)} frames; left edge: {runs}")
    assert [r[0] for r in runs] == ["blue", "green", "blue", "purple", "blue"], runs
    # a slide: frames where the old tab is still at the left edge and the new one already at the right
    mixed = [(lf, rt) for lf, rt in zip(left, right, strict=True) if "-" not in (lf, rt) and lf != rt]
    print(f"slide frames (left, right): {mixed}")
    for old, new in [("blue", "green"), ("green", "blue"), ("blue", "purple"), ("purple", "blue")]:
        n = mixed.count((old, new))
        assert 3 <= n <= 8, f"{n} frames slide from {old} to {new}"


# ---------------------------------------------------------------------- faults: fail fast, name the card

HANGING_POPUP = """<!doctype html><html><body><h1>Slow help</h1><img src="/hang"></body></html>"""
CALM_POPUP = """<!doctype html><html><body style="background:#1e9646"><h1>Another site</h1></body></html>"""
NO_POPUP = """<!doctype html><html><body><a href="slow.html" target="_blank">Slow help</a>
<button>Nothing</button></body></html>"""


class _HangSite(BaseHTTPRequestHandler):
    """A page whose popup holds a request open for ever (a dead popup), and /hang itself."""

    released = threading.Event()
    #: set when the popup's held request arrives (the flow is then inside the popup's load)
    hanging = threading.Event()
    #: set when /index.html, /calm.html are requested
    index_seen = threading.Event()
    calm = threading.Event()

    def do_GET(self) -> None:
        path = self.path.split("?")[0]
        if path == "/index.html":
            self.index_seen.set()
        if path == "/calm.html":
            self.calm.set()
        if path == "/hang":
            self.hanging.set()
            self.released.wait(60)
            return
        body = {"/index.html": NO_POPUP, "/slow.html": HANGING_POPUP, "/calm.html": CALM_POPUP}.get(path, "")
        data = body.encode()
        self.send_response(200 if body else 404)
        self.send_header("Content-Type", "text/html")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def log_message(self, *_: Any) -> None:
        return None


@pytest.fixture(scope="module")
def hang_site() -> Iterator[str]:
    server = ThreadingHTTPServer(("127.0.0.1", 0), _HangSite)
    server.daemon_threads = True
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}"
    _HangSite.released.set()
    server.shutdown()
    server.server_close()


def _fault_script(base_url: str, target: dict[str, str]) -> dict[str, Any]:
    return {"title": "Faults",
            "settings": {"width": W, "height": H, "fps": 24, "lead_in_ms": 100, "lead_out_ms": 100, "gap_ms": 100,
                         "voice": {"provider": "espeak"}, "base_url": base_url},
            "cards": [{"id": "start", "title": "Start", "narration": "Start.",
                       "actions": [{"type": "goto", "url": "/index.html"}]},
                      {"id": "help", "title": "Help", "narration": "Open the help.",
                       "actions": [{"type": "click", "target": target, "opens": "help"},
                                   {"type": "click", "target": {"role": "heading"}, "page": "help"}]}]}


@pytest.mark.parametrize(("case", "target", "expect"), [
    ("dead popup", {"role": "link", "name": "Slow help"}, "no frame for"),
    ("no popup", {"role": "button", "name": "Nothing"}, "no new tab opened"),
])
def test_a_popup_that_never_loads_or_never_opens_fails_fast_naming_the_card(
        tmp_path: Path, hang_site: str, monkeypatch: pytest.MonkeyPatch, case: str, target: dict[str, str],
        expect: str) -> None:
    monkeypatch.setenv("REELWRIGHT_STALL_S", "2")
    (tmp_path / "script.json").write_text(json.dumps(_fault_script(hang_site, target)))
    t0 = time.monotonic()
    with pytest.raises(RenderError) as info:
        asyncio.run(check(load_job(tmp_path / "script.json")))
    took = time.monotonic() - t0
    msg = str(info.value)
    print(f"\n{case}: failed after {took:.1f} s\n{msg}")
    assert "card 2 'help'" in msg and "action 1" in msg and expect in msg
    assert took < 30  # browser start + goto + the bound (2 s stall, 5 s for a tab to appear), on a loaded machine


# ---------------------------------------------------------------------- the example site's help tab

EXAMPLE_SITE = ROOT / "resources/examples/quickstart/site"

HELP_FLOW = {
    "version": 1, "title": "Help tab",
    "settings": {"site": "site", "width": 1280, "height": 720, "fps": 24, "lead_in_ms": 200, "lead_out_ms": 300,
                 "gap_ms": 150, "voice": {"provider": "espeak"}},
    "cards": [
        {"id": "home", "title": "Home", "narration": "The landing page.",
         "actions": [{"type": "goto", "url": "/index.html"}]},
        {"id": "help", "title": "Help", "narration": "Help opens in a tab of its own.",
         "actions": [{"type": "new_page", "page": "help"}, {"type": "goto", "url": "/help.html"},
                     {"type": "wait", "ms": 1500}]},
        {"id": "back", "title": "Back", "narration": "Close it to return.",
         "actions": [{"type": "close_page"}]},
    ],
}


def test_the_example_help_page_in_a_new_tab_then_back_to_the_landing_page(tmp_path: Path) -> None:
    job = tmp_path / "job"
    shutil.copytree(EXAMPLE_SITE, job / "site")
    (job / "script.json").write_text(json.dumps(HELP_FLOW), encoding="utf-8")
    out = tmp_path / "v.mp4"
    _render(job / "script.json", out)
    raw = subprocess.run([str(find_ffmpeg()), "-v", "error", "-i", str(out), "-map", "0:v:0", "-vf", "scale=320:180",
                          "-f", "rawvideo", "-pix_fmt", "rgb24", "-"], capture_output=True, check=True).stdout
    frames = np.frombuffer(raw, dtype=np.uint8).reshape(-1, 180, 320, 3).astype(np.int16)
    # like the landing page at the end (after the help tab closed), or not
    like_end = ["same" if np.abs(f - frames[-1]).mean() < 3 else "other" for f in frames]
    runs = _runs(like_end)
    print(f"\n{len(frames)} frames; like the last frame: {runs}")
    assert [r[0] for r in runs][-3:] == ["same", "other", "same"], runs
    help_frames = frames[runs[-2][1]: runs[-2][1] + runs[-2][2]]
    # the help page's pulse and timer run while it is filmed
    moving = sum(bool(np.abs(a - b).max() > 0) for a, b in itertools.pairwise(help_frames))
    assert moving >= len(help_frames) // 2, f"{moving} of {len(help_frames)} help frames changed"


def test_cancel_while_a_popup_hangs_ends_within_a_second(tmp_path: Path, hang_site: str) -> None:
    """The popup's held request stops virtual time (no frame comes): a cancel still ends the run."""
    (tmp_path / "script.json").write_text(json.dumps(_fault_script(hang_site, {"role": "link", "name": "Slow help"})))
    token = CancelToken()
    _HangSite.hanging.clear()

    async def go() -> float:
        loop = asyncio.get_running_loop()
        cancelled_at: list[float] = []

        async def cancel_when_hanging() -> None:
            if await asyncio.to_thread(_HangSite.hanging.wait, 60):
                await asyncio.sleep(0.3)  # well inside the popup's stalled load
                cancelled_at.append(loop.time())
                token.cancel("test")

        canceller = asyncio.ensure_future(cancel_when_hanging())
        with pytest.raises(Cancelled):
            await check(load_job(tmp_path / "script.json"), cancel=token)
        await canceller
        return loop.time() - cancelled_at[0]

    latency = asyncio.run(go())
    print(f"\ncancel during a hung popup: ended {latency:.2f} s after the cancel")
    assert latency < 1.0


def test_a_popup_to_the_metadata_address_is_refused_naming_the_card(tmp_path: Path) -> None:
    """The navigation guard covers a new tab's first navigation too (before the tab has a guard)."""
    site = tmp_path / "site"
    site.mkdir()
    (site / "index.html").write_text('<!doctype html><html><body><a href="http://169.254.169.254/latest/meta-data/" '
                                     'target="_blank">Meta</a></body></html>', encoding="utf-8")
    script = {"version": 1, "title": "Guard", "settings": {**SETTINGS, "voice": {"provider": "espeak"}},
              "cards": [{"id": "meta", "title": "Meta", "narration": "Open it.",
                         "actions": [{"type": "goto", "url": "/index.html"},
                                     {"type": "click", "target": {"role": "link", "name": "Meta"}, "opens": "m"}]}]}
    (tmp_path / "script.json").write_text(json.dumps(script), encoding="utf-8")
    with pytest.raises(RenderError) as info:
        asyncio.run(check(load_job(tmp_path / "script.json")))
    msg = str(info.value)
    print(f"\n{msg}")
    assert "card 1 'meta'" in msg and "169.254.169.254" in msg and "metadata" in msg


def _renderers() -> set[int]:
    """Chromium renderer processes below this test process (spare ones, without a site yet, too)."""
    mine = set(_proc_descendants(os.getpid()))
    out = set()
    for pid in mine:
        try:
            cmd = Path(f"/proc/{pid}/cmdline").read_bytes()
        except OSError:
            continue
        if b"--type=renderer" in cmd:
            out.add(pid)
    return out


def _start_time(pid: int) -> int:
    try:
        return int(Path(f"/proc/{pid}/stat").read_text(errors="replace").rsplit(")", 1)[1].split()[19])
    except (OSError, IndexError, ValueError):
        return -1


def _proc_descendants(root: int) -> list[int]:
    kids: dict[int, list[int]] = {}
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                stat = Path(f"/proc/{entry}/stat").read_text(errors="replace")
            except OSError:
                continue
            kids.setdefault(int(stat.rsplit(")", 1)[1].split()[1]), []).append(int(entry))
    out, todo = [], [root]
    while todo:
        for child in kids.get(todo.pop(), []):
            out.append(child)
            todo.append(child)
    return out


def test_a_popup_whose_renderer_dies_fails_fast_naming_the_card(tmp_path: Path, hang_site: str,
                                                                 monkeypatch: pytest.MonkeyPatch) -> None:
    """The popup is on another site (localhost, the opener on 127.0.0.1), so it has a renderer process of
    its own, the newest one: killing it crashes only the popup, which the watchdog reports at once.
    (Were the newest a spare renderer with no page, nothing would crash and the test would fail.)"""
    port = hang_site.rsplit(":", 1)[1]
    site = tmp_path / "site"
    site.mkdir()
    (site / "index.html").write_text(f'<!doctype html><html><body><a href="http://localhost:{port}/calm.html" '
                                     'target="_blank">Other site</a></body></html>', encoding="utf-8")
    script = {"version": 1, "title": "Crash", "settings": {**SETTINGS, "voice": {"provider": "espeak"}},
              "cards": [{"id": "start", "title": "Start", "narration": "Start.",
                         "actions": [{"type": "goto", "url": "/index.html"}]},
                        {"id": "popup", "title": "Popup", "narration": "Open it and wait.",
                         "actions": [{"type": "click", "target": {"role": "link", "name": "Other site"},
                                      "opens": "other"},
                                     {"type": "wait", "ms": 20000}]}]}
    (tmp_path / "script.json").write_text(json.dumps(script), encoding="utf-8")
    _HangSite.calm.clear()
    killed: list[tuple[float, set[int]]] = []

    async def go() -> None:
        async def kill_popup_renderer() -> None:
            if await asyncio.to_thread(_HangSite.calm.wait, 60):
                await asyncio.sleep(1.0)  # the popup is on screen, inside the 20 s wait
                # the newest renderer is the popup's: the opener's started before the popup opened
                victim = max(_renderers(), key=_start_time)
                os.kill(victim, signal.SIGKILL)
                killed.append((time.monotonic(), {victim}))

        killer = asyncio.ensure_future(kill_popup_renderer())
        with pytest.raises(RenderError) as info:
            await check(load_job(tmp_path / "script.json"))
        await killer
        took = time.monotonic() - killed[0][0]
        msg = str(info.value)
        print(f"\nkilled {killed[0][1]}; failed {took:.2f} s later:\n{msg}")
        assert killed[0][1], "the popup had no renderer process of its own"
        assert "card 2 'popup'" in msg and "crashed" in msg
        assert took < 5.0

    asyncio.run(go())
