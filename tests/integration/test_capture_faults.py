"""Every render ends: faults injected into real processes, and the stall that hung 1080x1920.

* A click whose handler starts a fetch used to stop the virtual clock for ever (the budget waited
  for a frame, the fetch waited for a frame, the frame waited for the budget).  A page that does
  exactly that now runs through.
* A page that holds a request open does stop virtual time (by design: loads are deterministic):
  the watchdog fails that render within its bound, naming card, action and what was awaited.
* The CLI renders in a subprocess while the test kills Chromium, the Playwright driver (Node) or the
  capture's ffmpeg with SIGKILL at a random moment of the capture; fills the output disk (a 2 MB
  tmpfs); writes to a read-only mount.  Each ends within 5 s with the right exit code and message,
  leaves no process and no partial output, and the next render succeeds.
"""

from __future__ import annotations

import asyncio
import json
import os
import random
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

import pytest

from app.core.bundle import load_job
from app.core.errors import RenderError
from app.core.render import check

pytestmark = [pytest.mark.slow, pytest.mark.browser]

ROOT = Path(__file__).resolve().parents[2]
#: the issue's bound from the fault to the CLI's exit
END_WITHIN_S = 5.0

FETCH_ON_CLICK = """<!DOCTYPE html><html><head><meta charset="utf-8"><style>
  body { font: 16px sans-serif; margin: 0; }
  button { position: absolute; left: 40px; top: 40px; width: 200px; height: 60px; }
  #out { position: absolute; left: 40px; top: 140px; }
</style></head><body>
<button id="go" type="button">Load</button><div id="out">waiting</div>
<script>
  document.getElementById("go").addEventListener("click", () => {
    const kind = new URLSearchParams(location.search).get("kind") || "img";
    const out = document.getElementById("out");
    if (kind === "img") {
      const img = new Image();
      img.onload = img.onerror = () => { out.textContent = "loaded"; };
      img.src = "pixel.svg?n=" + Date.now();
      document.body.append(img);
    } else {
      fetch(kind === "hang" ? "/hang" : "pixel.svg").then(() => { out.textContent = "loaded"; });
    }
  });
</script></body></html>"""

PIXEL_SVG = '<svg xmlns="http://www.w3.org/2000/svg" width="4" height="4"><rect width="4" height="4"/></svg>'


def _script(url: str, *, wait_text: str = "loaded") -> dict[str, Any]:
    return {
        "title": "Fetch on click",
        "settings": {"width": 640, "height": 360, "fps": 30, "device_scale_factor": 1, "lead_in_ms": 200,
                     "lead_out_ms": 200, "gap_ms": 100, "voice": {"provider": "espeak"}, "base_url": url},
        "cards": [{"id": "load", "title": "Load", "narration": "Click to load.",
                   "actions": [{"type": "goto", "url": "/index.html" + url.split("/index.html")[-1]},
                               {"type": "click", "target": {"role": "button", "name": "Load"}},
                               {"type": "wait_for", "text": wait_text, "timeout_ms": 5000}]}],
    }


class _Site(BaseHTTPRequestHandler):
    """The test page, a tiny image, and /hang: a request the server holds open (never answers)."""

    released = threading.Event()

    def do_GET(self) -> None:
        path = self.path.split("?")[0]
        if path == "/hang":
            self.released.wait(60)
            return
        body, kind = ((FETCH_ON_CLICK, "text/html") if path == "/index.html" else
                      (PIXEL_SVG, "image/svg+xml") if path == "/pixel.svg" else ("", "text/plain"))
        data = body.encode()
        self.send_response(200 if body else 404)
        self.send_header("Content-Type", kind)
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def log_message(self, *_: Any) -> None:
        return None


@pytest.fixture(scope="module")
def site() -> Iterator[str]:
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Site)
    server.daemon_threads = True
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}"
    _Site.released.set()
    server.shutdown()
    server.server_close()


@pytest.mark.parametrize("kind", ["img", "fetch"])
def test_a_fetch_started_by_a_click_does_not_stall_the_clock(tmp_path: Path, site: str, kind: str,
                                                              monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("REELWRIGHT_STALL_S", "8")  # before the fix this stalled: fail fast, not hang
    (tmp_path / "script.json").write_text(json.dumps(_script(f"{site}/index.html?kind={kind}")))
    t0 = time.monotonic()
    result = asyncio.run(check(load_job(tmp_path / "script.json")))
    print(f"fetch-on-click ({kind}) ran in {time.monotonic() - t0:.1f} s")
    assert result.actions_run == 3  # goto, click, and the wait for the fetched result


def test_watchdog_fails_a_render_whose_page_holds_a_request_open(tmp_path: Path, site: str,
                                                                 monkeypatch: pytest.MonkeyPatch) -> None:
    stall_s = 2.0
    monkeypatch.setenv("REELWRIGHT_STALL_S", str(stall_s))
    (tmp_path / "script.json").write_text(json.dumps(_script(f"{site}/index.html?kind=hang")))
    t0 = time.monotonic()
    with pytest.raises(RenderError) as info:
        asyncio.run(check(load_job(tmp_path / "script.json"), error_dir=tmp_path))
    took = time.monotonic() - t0
    msg = str(info.value)
    print(f"watchdog: failed {took:.1f} s after the start (bound {stall_s} s without a frame)\n{msg}")
    assert "card 1 'load'" in msg and "action 2" in msg and "click" in msg
    assert "no frame for" in msg and "waiting for" in msg
    assert info.value.screenshot is not None and info.value.screenshot.is_file()
    assert took < 30  # browser start + goto + the stall bound, with room for a loaded machine


# ---------------------------------------------------------------------- the CLI, killed for real


def _children() -> dict[int, list[int]]:
    kids: dict[int, list[int]] = {}
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/stat", encoding="utf-8", errors="replace") as f:
                stat = f.read()
        except OSError:
            continue
        ppid = int(stat.rsplit(")", 1)[1].split()[1])
        kids.setdefault(ppid, []).append(int(entry))
    return kids


def _descendants(pid: int) -> list[int]:
    kids = _children()
    out: list[int] = []
    todo = [pid]
    while todo:
        for c in kids.get(todo.pop(), []):
            out.append(c)
            todo.append(c)
    return out


def _cmdline(pid: int) -> str:
    try:
        with open(f"/proc/{pid}/cmdline", "rb") as f:
            return f.read().replace(b"\0", b" ").decode("utf-8", "replace")
    except OSError:
        return ""


def _alive(pid: int) -> bool:
    try:
        with open(f"/proc/{pid}/stat", encoding="utf-8", errors="replace") as f:
            return f.read().rsplit(")", 1)[1].split()[0] != "Z"
    except OSError:
        return False


def _victim(kind: str, tree: list[int]) -> int | None:
    for pid in tree:
        cmd = _cmdline(pid)
        if kind == "chromium" and "chromium" in cmd and "--type=" not in cmd:
            return pid
        if kind == "driver" and "run-driver" in cmd:
            return pid
        if kind == "ffmpeg" and "ffmpeg" in cmd and "libx264" in cmd:  # the video encoder
            return pid
    return None


@pytest.fixture(scope="module")
def job_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The clock page for about 20 s of video: a capture long enough to be killed at a random moment."""
    tmp = tmp_path_factory.mktemp("faults")
    (tmp / "site").mkdir()
    shutil.copy(ROOT / "resources/testpages/clock.html", tmp / "site/index.html")
    wait = {"type": "wait", "ms": 2500}
    script = {
        "title": "Faults",
        "settings": {"site": "site", "width": 640, "height": 360, "fps": 30, "device_scale_factor": 1,
                     "lead_in_ms": 200, "lead_out_ms": 200, "gap_ms": 100, "voice": {"provider": "espeak"}},
        "cards": [
            {"id": "open", "title": "Open", "narration": "The clock page.",
             "actions": [{"type": "goto", "url": "/index.html"}, wait]},
            {"id": "press", "title": "Press", "narration": "Press the button and type.",
             "actions": [{"type": "click", "target": {"role": "button", "name": "Click me"}}, wait,
                         {"type": "type", "target": {"label": "Field"}, "text": "hello", "delay_ms": 60},
                         wait, {"type": "click", "target": {"role": "button", "name": "Click me"}}, wait]},
            {"id": "again", "title": "Again", "narration": "And once more.",
             "actions": [{"type": "type", "target": {"label": "Field"}, "text": " again", "delay_ms": 60}, wait,
                         {"type": "click", "target": {"role": "button", "name": "Click me"}}, wait]},
        ],
    }
    (tmp / "script.json").write_text(json.dumps(script), encoding="utf-8")
    return tmp


def _env() -> dict[str, str]:
    env = dict(os.environ)
    env["PYTHONPATH"] = str(ROOT) + os.pathsep + env.get("PYTHONPATH", "")
    return env


def _start(job: Path, out: Path) -> subprocess.Popen[str]:
    return subprocess.Popen([sys.executable, "-m", "app", "render", str(job / "script.json"), "--out", str(out)],
                            cwd=ROOT, env=_env(), stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
                            start_new_session=True)


def _leftovers(out: Path) -> list[str]:
    return sorted(p.name for p in out.parent.iterdir() if p.name.startswith(f".{out.stem}.reelwright-")
                  or p.suffix == ".mp4")


def _reap(proc: subprocess.Popen[str], tree: list[int]) -> None:
    """Test cleanup only: whatever is still running after a failed assertion."""
    for pid in [proc.pid, *tree]:
        if _alive(pid):
            os.kill(pid, signal.SIGKILL)
    proc.wait(10)


@pytest.mark.parametrize("victim", ["chromium", "driver", "ffmpeg"])
def test_a_killed_process_ends_the_render_cleanly(job_dir: Path, tmp_path: Path, victim: str) -> None:
    out = tmp_path / "video.mp4"
    proc = _start(job_dir, out)
    assert proc.stdout is not None
    lines: list[str] = []
    tree: list[int] = []
    try:
        for line in proc.stdout:  # progress lines: wait until the capture runs
            lines.append(line)
            if line.startswith("[capture ]") and "frame" in line:
                break
        else:
            pytest.fail("the render never reached the capture:\n" + "".join(lines))
        time.sleep(random.uniform(0.1, 1.5))  # a random frame of the capture
        tree = _descendants(proc.pid)
        pid = _victim(victim, tree)
        assert pid is not None, f"no {victim} in the render's process tree: {[_cmdline(p)[:80] for p in tree]}"
        os.kill(pid, signal.SIGKILL)
        t_kill = time.monotonic()
        rest, _ = proc.communicate(timeout=60)
        took = time.monotonic() - t_kill
        text = "".join(lines) + rest
        error = text[text.find("error:") - 600:] if "error:" in text else text[-1500:]
        print(f"killed {victim} (pid {pid}); the CLI exited {proc.returncode} after {took:.2f} s:\n{error}")
        assert took <= END_WITHIN_S, f"the render took {took:.1f} s to end after the {victim} was killed"
        assert proc.returncode == 1, text[-2000:]
        assert "error: card " in text and "action " in text  # names the card and the action
        if victim == "ffmpeg":
            assert "video encoder" in text
        else:
            assert "browser closed or crashed" in text
            assert "no element matches" not in text and "locator matches" not in text
        # no orphan: everything the render started is gone (allow a moment for the kernel to reap)
        deadline = time.monotonic() + 2.0
        while any(_alive(p) for p in tree) and time.monotonic() < deadline:
            time.sleep(0.05)
        left = [f"{p}: {_cmdline(p)[:100]}" for p in tree if _alive(p)]
        assert not left, f"processes left behind after killing the {victim}: {left}"
        assert _leftovers(out) == [], "a partial output or work folder was left"
    finally:
        if proc.poll() is None or any(_alive(p) for p in tree):
            _reap(proc, tree)


def _mount_tmpfs(where: Path, options: str) -> None:
    if os.geteuid() != 0 or shutil.which("mount") is None:
        pytest.skip("mounting a tmpfs needs root and mount(8)")
    where.mkdir()
    res = subprocess.run(["mount", "-t", "tmpfs", "-o", options, "tmpfs", str(where)], capture_output=True, text=True)
    if res.returncode != 0:
        pytest.skip(f"cannot mount a tmpfs here: {res.stderr.strip()}")


def _umount(where: Path) -> None:
    subprocess.run(["umount", "-l", str(where)], check=False)


@pytest.mark.parametrize("fault", ["disk-full", "read-only"])
def test_a_full_or_read_only_disk_exits_3_and_leaves_nothing(job_dir: Path, tmp_path: Path, fault: str) -> None:
    mnt = tmp_path / "mnt"
    _mount_tmpfs(mnt, "size=2m" if fault == "disk-full" else "size=2m,ro")
    try:
        out = mnt / "video.mp4"
        t0 = time.monotonic()
        proc = _start(job_dir, out)
        text, _ = proc.communicate(timeout=300)
        took = time.monotonic() - t0
        error = text[text.find("error:"):] if "error:" in text else text[-1500:]
        print(f"{fault}: exit {proc.returncode} after {took:.1f} s:\n{error}")
        assert proc.returncode == 3, text[-2000:]
        assert any(w in error.lower() for w in (("full", "no space") if fault == "disk-full" else ("read-only",)))
        assert "Traceback" not in text
        assert _leftovers(out) == []
        if fault == "disk-full":
            assert sum(p.stat().st_size for p in mnt.rglob("*") if p.is_file()) == 0  # nothing partial
    finally:
        _umount(mnt)


def test_the_next_render_succeeds(job_dir: Path, tmp_path: Path) -> None:
    """After the faults above (same machine, same job), a render runs to the end."""
    out = tmp_path / "video.mp4"
    proc = _start(job_dir, out)
    text, _ = proc.communicate(timeout=300)
    assert proc.returncode == 0, text[-2000:]
    assert out.is_file() and out.stat().st_size > 10_000
    assert _leftovers(out) == ["video.mp4"]
