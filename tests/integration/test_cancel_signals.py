"""Cancel that always works: real ``reelwright render`` processes, real signals, real children.

Each test starts the CLI in its own process group, waits for its progress line of a stage on stderr,
sends SIGINT or SIGTERM to the process or SIGTERM to the whole group (what ``timeout``, systemd and
most supervisors send), and checks what the issue asks for: exit 130 with one line saying it was
cancelled, within a second; no process of the render left (every descendant carries a marker in its
environment, found by walking /proc); nothing at ``--out``; no work folder left.  A SIGKILLed render
leaves no orphans either, and the next render removes its work folder.

Latencies are printed (``pytest -s``).  The bound asserted is the issue's 1 s plus 0.5 s of slack for
this shared 2-core machine, where three other engineers run Chromium and ffmpeg at the same time.
"""

from __future__ import annotations

import os
import queue
import signal
import subprocess
import sys
import threading
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from app.core.render import OWNER_FILE

pytestmark = [pytest.mark.slow, pytest.mark.browser]

ROOT = Path(__file__).resolve().parents[2]
#: the issue's bound, and the slack a loaded shared machine gets on top of it
CANCEL_BOUND_S = 1.0
LOADED_MACHINE_SLACK_S = 0.5

SITE = """<!doctype html><html><head><meta charset="utf-8"><title>Cancel test</title>
<style>body{font:24px sans-serif;margin:0;display:grid;place-items:center;height:100vh;background:#eef}
#bar{width:0;height:20px;background:#36c;animation:grow 4s linear infinite}@keyframes grow{to{width:300px}}
</style></head><body><main><h1>Cancel test</h1><div id="bar"></div><input aria-label="Name">
<button onclick="this.textContent='Saved'">Save</button></main></body></html>"""

SHORT = ("Open the page and look at the moving bar. It keeps moving while we talk about it for a little "
         "while, so that the capture takes a few seconds.")
#: just under the 5,000-character narration limit: with a cold cache, voicing it takes tens of seconds
LONG = " ".join(f"Sentence number {i} tells the viewer about one more feature of the product, and why it "
                "matters to the people who use it every day." for i in range(38))


def _script(narration_2: str) -> str:
    import json

    return json.dumps({
        "version": 1, "title": "Cancel test",
        "settings": {"site": "site", "width": 480, "height": 270, "fps": 24, "lead_in_ms": 100,
                     "lead_out_ms": 200, "gap_ms": 100, "burn_captions": True},
        "cards": [
            {"id": "open", "title": "Open", "narration": SHORT,
             "actions": [{"type": "goto", "url": "/index.html"}]},
            {"id": "type", "title": "Type", "narration": narration_2,
             "actions": [{"type": "fill", "target": {"label": "Name"}, "value": "Ada Lovelace"},
                         {"type": "click", "target": {"role": "button", "name": "Save"}}]},
        ]})


def _job(root: Path, narration_2: str) -> Path:
    (root / "site").mkdir(parents=True, exist_ok=True)
    (root / "site" / "index.html").write_text(SITE, encoding="utf-8")
    path = root / "script.json"
    path.write_text(_script(narration_2), encoding="utf-8")
    return path


# --------------------------------------------------------------------------- processes


def _marked(marker: str) -> list[tuple[int, str]]:
    """Live processes (not zombies) whose environment carries ``marker``: the render and everything
    it started, however they were reparented."""
    found = []
    for d in Path("/proc").iterdir():
        if not d.name.isdigit():
            continue
        try:
            if marker.encode() not in (d / "environ").read_bytes():
                continue
            state = (d / "stat").read_text().rsplit(")", 1)[1].split()[0]
            cmd = (d / "cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace")[:120]
        except (OSError, IndexError):
            continue
        if state not in ("Z", "X"):
            found.append((int(d.name), cmd))
    return found


@dataclass
class Run:
    proc: subprocess.Popen[bytes]
    marker: str
    lines: queue.Queue[str]
    stderr: list[str]

    def wait_for(self, prefix: str, contains: str = "", timeout: float = 180) -> str:
        deadline = time.monotonic() + timeout
        while True:
            left = deadline - time.monotonic()
            if left <= 0:
                raise AssertionError(f"no '{prefix}' line within {timeout} s; stderr:\n" + "".join(self.stderr))
            try:
                line = self.lines.get(timeout=left)
            except queue.Empty:
                continue
            if line == "":
                raise AssertionError(f"render ended before '{prefix}'; stderr:\n" + "".join(self.stderr))
            if line.startswith(prefix) and contains in line:
                return line


@pytest.fixture
def start(tmp_path: Path) -> Iterator[object]:
    runs: list[Run] = []

    def go(script: Path, out: Path, cache: Path, *extra: str) -> Run:
        marker = f"REELWRIGHT_CANCEL_TEST={uuid.uuid4().hex}"
        env = {**os.environ, "PYTHONPATH": str(ROOT), "XDG_CACHE_HOME": str(cache),
               "REELWRIGHT_CANCEL_TEST": marker.split("=", 1)[1], "PYTHONUNBUFFERED": "1"}
        proc = subprocess.Popen([sys.executable, "-m", "app", "render", str(script), "--out", str(out), *extra],
                                stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=env, cwd=tmp_path,
                                start_new_session=True)
        lines: queue.Queue[str] = queue.Queue()
        stderr: list[str] = []

        def pump() -> None:
            assert proc.stderr is not None
            for raw in proc.stderr:
                text = raw.decode("utf-8", "replace")
                stderr.append(text)
                lines.put(text)
            lines.put("")

        threading.Thread(target=pump, daemon=True).start()
        run = Run(proc, marker, lines, stderr)
        runs.append(run)
        return run

    yield go
    for run in runs:  # a failed assertion must not leave a render running
        if run.proc.poll() is None:
            with_group = [pid for pid, _ in _marked(run.marker)]
            for pid in with_group:
                with _suppress():
                    os.kill(pid, signal.SIGKILL)
            run.proc.wait(10)


class _suppress:
    def __enter__(self) -> None:
        return None

    def __exit__(self, *exc: object) -> bool:
        return isinstance(exc[1], ProcessLookupError)


def _send(run: Run, how: str) -> float:
    t0 = time.monotonic()
    if how == "SIGINT":
        os.kill(run.proc.pid, signal.SIGINT)
    elif how == "SIGTERM":
        os.kill(run.proc.pid, signal.SIGTERM)
    else:  # the whole group, as timeout(1) and systemd do
        os.killpg(run.proc.pid, signal.SIGTERM)
    return t0


def _finish(run: Run, t0: float, label: str, out: Path) -> float:
    rc = run.proc.wait(timeout=60)
    latency = time.monotonic() - t0
    # children die with the render, not later: look right away (and say how long any lingered)
    lingered = _marked(run.marker)
    t_gone = time.monotonic()
    while lingered and time.monotonic() - t_gone < 5:
        time.sleep(0.05)
        lingered = _marked(run.marker)
    err = "".join(run.stderr)
    print(f"\n{label}: exit {rc} {latency:.3f} s after the signal; stderr tail: {err.strip().splitlines()[-1]!r}")
    assert rc == 130, err
    assert not lingered, f"processes left behind: {lingered}"
    tail = [ln for ln in err.splitlines() if not ln.startswith("[")]
    assert tail == ["error: cancelled"], f"expected one line saying it was cancelled, got:\n{err}"
    assert "Traceback" not in err and "never retrieved" not in err
    assert not out.exists(), "a partial output was left at --out"
    left = [p.name for p in out.parent.glob(f".{out.stem}.reelwright-*")] if out.parent.exists() else []
    assert not left, f"work folders left: {left}"
    assert not list(out.parent.glob("*.error-*")) if out.parent.exists() else True, "an error screenshot"
    assert latency <= CANCEL_BOUND_S + LOADED_MACHINE_SLACK_S, f"{label}: {latency:.3f} s to exit"
    return latency


SIGNALS = ("SIGINT", "SIGTERM", "group SIGTERM")


@pytest.fixture(scope="module")
def warm_cache(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A voice cache holding the short job's clips, so capture and mix are reached quickly."""
    from app.core.script import VoiceSettings
    from app.core.voice import VoiceService, load_provider

    cache = tmp_path_factory.mktemp("cache")
    import asyncio

    async def fill() -> None:
        provider = await load_provider("piper", VoiceSettings())
        service = VoiceService(provider, cache / "reelwright" / "voice")
        for n in (SHORT, SHORT + " Done."):
            await service.voice(n, VoiceSettings())

    asyncio.run(fill())
    return cache


@pytest.mark.parametrize("how", SIGNALS)
def test_cancel_while_voicing_a_long_narration(tmp_path: Path, start: object, how: str) -> None:
    script = _job(tmp_path / "job", LONG)
    out = tmp_path / "out" / "v.mp4"
    run = start(script, out, tmp_path / "cold-cache")  # type: ignore[operator]
    run.wait_for("[voice")
    # Piper now loads (~1 s), voices the short first card, then ~5,000 characters for tens of
    # seconds.  (Progress lines are rate-limited to one per 2 s, so "card 2" may never be printed:
    # wait a little instead, and check that voicing is still what the render is doing.)
    time.sleep(3.0)
    assert run.proc.poll() is None
    assert not [ln for ln in run.stderr if not ln.startswith("[voice") and not ln.startswith("[prepare")], \
        "the render left the voice stage before the signal"
    _finish(run, _send(run, how), f"voice/{how}", out)


@pytest.mark.parametrize("how", SIGNALS)
def test_cancel_during_capture(tmp_path: Path, start: object, warm_cache: Path, how: str) -> None:
    script = _job(tmp_path / "job", SHORT + " Done.")
    out = tmp_path / "out" / "v.mp4"
    run = start(script, out, warm_cache)  # type: ignore[operator]
    run.wait_for("[capture", "frame")
    assert run.proc.poll() is None
    _finish(run, _send(run, how), f"capture/{how}", out)


@pytest.mark.parametrize("how", SIGNALS)
def test_cancel_during_mix(tmp_path: Path, start: object, warm_cache: Path, how: str) -> None:
    script = _job(tmp_path / "job", SHORT + " Done.")
    out = tmp_path / "out" / "v.mp4"
    run = start(script, out, warm_cache)  # type: ignore[operator]
    run.wait_for("[mix")
    assert run.proc.poll() is None, "the mix ended before the signal could be sent"
    _finish(run, _send(run, how), f"mix/{how}", out)


def test_a_killed_render_leaves_no_processes_and_the_next_removes_its_work_folder(
        tmp_path: Path, start: object, warm_cache: Path) -> None:
    script = _job(tmp_path / "job", SHORT + " Done.")
    out = tmp_path / "out" / "v.mp4"
    run = start(script, out, warm_cache)  # type: ignore[operator]
    run.wait_for("[capture", "frame")
    t0 = time.monotonic()
    os.kill(run.proc.pid, signal.SIGKILL)
    run.proc.wait(10)
    # the driver sees its stdin close and takes the browser with it; the encoder sees its input end
    left = _marked(run.marker)
    while left and time.monotonic() - t0 < 10:
        time.sleep(0.05)
        left = _marked(run.marker)
    print(f"\nSIGKILL: every child gone {time.monotonic() - t0:.2f} s after the kill")
    assert not left, f"orphans after SIGKILL: {left}"
    stale = list(out.parent.glob(".v.reelwright-*"))
    assert len(stale) == 1 and (stale[0] / OWNER_FILE).is_file(), "the killed render's work folder names its owner"
    # a work folder of a live render (this test process) must survive the clean-up
    alive = out.parent / ".other.reelwright-live"
    alive.mkdir()
    from app.core.render import _owner_text

    (alive / OWNER_FILE).write_text(_owner_text(), encoding="ascii")

    again = start(script, out, warm_cache)  # type: ignore[operator]
    assert again.proc.wait(timeout=300) == 0, "".join(again.stderr)
    assert out.is_file()
    assert not stale[0].exists(), "the next render did not remove the killed render's work folder"
    assert alive.is_dir(), "a live render's work folder was removed"


def test_the_driver_and_the_browser_are_out_of_our_process_group() -> None:
    """What protects them from a signal to our group: their own sessions (checked in /proc)."""
    import asyncio

    from app.core.capture import BrowserSession, NullSink
    from app.core.infra.tools import find_browser

    def stat(pid: int) -> tuple[int, int, int]:  # ppid, process group, session
        f = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        return int(f[1]), int(f[2]), int(f[3])

    async def scenario() -> tuple[tuple[int, int, int], list[tuple[int, int, int]]]:
        session = BrowserSession(find_browser(), 320, 240, 24, NullSink(), capture=False)
        await session.start()
        try:
            assert session.driver_pid is not None, "the driver was not started in its own session"
            children = []
            for d in Path("/proc").iterdir():
                if d.name.isdigit():
                    with _suppress_os():
                        if stat(int(d.name))[0] == session.driver_pid:
                            children.append(stat(int(d.name)))
            return stat(session.driver_pid), children
        finally:
            await session.close()

    (_, driver_group, driver_session), browser_procs = asyncio.run(scenario())
    _, our_group, our_session = stat(os.getpid())
    assert driver_group != our_group and driver_session != our_session
    assert browser_procs and all(g != our_group for _, g, _ in browser_procs)


class _suppress_os:
    def __enter__(self) -> None:
        return None

    def __exit__(self, *exc: object) -> bool:
        return isinstance(exc[1], OSError)


def test_a_hung_browser_is_killed_and_the_cancel_still_ends(tmp_path: Path, start: object, warm_cache: Path) -> None:
    """A browser that stops answering (here: SIGSTOPped, as a wedged renderer looks from outside)
    cannot be closed politely; the render kills it after BrowserSession's close timeout."""
    from app.core.capture import CLOSE_TIMEOUT_S

    script = _job(tmp_path / "job", SHORT + " Done.")
    out = tmp_path / "out" / "v.mp4"
    run = start(script, out, warm_cache)  # type: ignore[operator]
    run.wait_for("[capture", "frame")
    browsers = [pid for pid, cmd in _marked(run.marker) if "chromium" in cmd]
    assert browsers
    for pid in browsers:
        with _suppress():
            os.kill(pid, signal.SIGSTOP)
    t0 = _send(run, "SIGINT")
    rc = run.proc.wait(timeout=60)
    took = time.monotonic() - t0
    t_gone = time.monotonic()
    left = _marked(run.marker)
    while left and time.monotonic() - t_gone < 5:
        time.sleep(0.05)
        left = _marked(run.marker)
    print(f"\nhung browser: exit {rc} {took:.3f} s after SIGINT (close timeout {CLOSE_TIMEOUT_S} s)")
    assert rc == 130, "".join(run.stderr)
    assert not left, f"left behind: {left}"
    assert not out.exists()
    assert took <= CLOSE_TIMEOUT_S + CANCEL_BOUND_S + LOADED_MACHINE_SLACK_S
