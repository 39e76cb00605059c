"""``reelwright record`` for real: Playwright's recorder in a headed Chromium on a private Xvfb display,
driven over DevTools with trusted mouse and key events against the example site (served on loopback).

The recorded flow must land in the library, join the project, import and validate; a session saved on
the way must land as a 0600 session asset that a second recording can start from (signed in); Ctrl-C
must end the recorder and its browser at once and keep nothing.
"""

from __future__ import annotations

import asyncio
import json
import os
import shutil
import signal
import stat
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from recorder_driver import RecorderBrowser, free_port, grab_screen, write_devtools_wrapper, xvfb

from app.core.infra.siteserver import SiteServer

REPO = Path(__file__).resolve().parents[2]
SITE = REPO / "resources" / "examples" / "quickstart" / "site"

pytestmark = [
    pytest.mark.slow,
    pytest.mark.browser,
    pytest.mark.skipif(not (shutil.which("Xvfb") and Path("/usr/bin/chromium").is_file()),
                       reason="needs Xvfb and /usr/bin/chromium"),
]


@pytest.fixture(scope="module")
def display() -> Iterator[str]:
    with xvfb() as d:
        yield d


@pytest.fixture(scope="module")
def site() -> Iterator[str]:
    files = {p.relative_to(SITE).as_posix(): p for p in SITE.rglob("*") if p.is_file()}
    server = SiteServer(files).start()
    try:
        yield server.base_url
    finally:
        server.stop()


@pytest.fixture(scope="module")
def data(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("recdata")


class Recorder:
    """``reelwright record …`` as a child process, plus the DevTools port of its browser."""

    def __init__(self, data: Path, display: str, folder: Path) -> None:
        self.port = free_port()
        self.wrapper = write_devtools_wrapper(folder, self.port)
        self.env = {**os.environ, "DISPLAY": display, "REELWRIGHT_DATA_DIR": str(data),
                    "REELWRIGHT_CHROMIUM": str(self.wrapper), "PYTHONPATH": str(REPO)}
        self.proc: subprocess.Popen[str] | None = None

    def start(self, *args: str) -> subprocess.Popen[str]:
        self.proc = subprocess.Popen([sys.executable, "-m", "app", "record", *args], env=self.env, cwd=REPO,
                                     stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        return self.proc

    def finish(self, timeout: float = 60) -> tuple[int, str, str]:
        assert self.proc is not None
        out, err = self.proc.communicate(timeout=timeout)
        return self.proc.returncode, out, err


def _browser_processes(port: int) -> list[int]:
    """Live Chromium processes started with this DevTools port (the recorder's browser)."""
    pids = []
    for cmdline in Path("/proc").glob("[0-9]*/cmdline"):
        try:
            raw = cmdline.read_bytes()
            st = (cmdline.parent / "stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        if f"--remote-debugging-port={port}".encode() in raw and st[0] != "Z":
            pids.append(int(cmdline.parent.name))
    return pids


def _drive(port: int, url_prefix: str, steps: Any, shot: Path | None = None, display: str = "") -> None:
    async def main() -> None:
        b = RecorderBrowser(port)
        try:
            await b.attach(url_prefix)
            await b.wait_for("document.readyState === 'complete'")
            await steps(b)
            if shot is not None:
                grab_screen(display, shot)
            await b.close_window()
        finally:
            await b.aclose()

    asyncio.run(main())


def _store(data: Path) -> Any:
    from app.workbench.storage import Store

    return Store(data)


def test_record_sign_in_lands_in_library_project_and_session(
        display: str, site: str, data: Path, tmp_path: Path) -> None:
    rec = Recorder(data, display, tmp_path)
    out = tmp_path / "flow.py"
    rec.start(f"{site}/signin.html", "--save-session", "lumen", "--project", "Recorded demo", "--out", str(out))

    async def sign_in(b: RecorderBrowser) -> None:
        await b.click("#email")
        await b.type("maya@northwind.test")
        await b.click("#password")
        await b.type("hunter22")
        await b.click("button[type=submit]")
        await b.wait_for("location.pathname.endsWith('/dashboard.html')")
        await asyncio.sleep(0.5)

    shot = REPO / ".reelwright-test" / "record-window.png"
    shot.parent.mkdir(exist_ok=True)
    _drive(rec.port, f"{site}/signin.html", sign_in, shot, display)
    code, _out, err = rec.finish()
    assert code == 0, err
    assert not _browser_processes(rec.port), "the recorder's browser outlived the window"

    flow = out.read_text()
    assert 'get_by_role("textbox", name="Email").fill("maya@northwind.test")' in flow
    assert 'get_by_role("button", name="Sign in").click()' in flow
    assert "page.close()" not in flow  # closing the window ended the recording; it is not a step
    assert "lumen.json" in flow  # codegen's own storage_state(path=…) line: the session's name

    store = _store(data)
    try:
        files = store.list_files()
        assert [f.kind for f in files] == ["playwright-python"]
        assert store.blob_path(files[0].sha256).read_text() == flow
        project = next(p for p in store.list_projects() if p.name == "Recorded demo")
        assert project.data.files == [files[0].id]
        from app.core.script import Script, validate_script

        script = validate_script(project.data.script)
        assert isinstance(script, Script)
        actions = [a for _, _, _, a in script.iter_actions()]
        kinds = [a.type for a in actions]
        assert kinds[0] == "goto" and "fill" in kinds and kinds.count("click") >= 2, kinds
        assert any(getattr(a, "value", None) == "maya@northwind.test" for a in actions)
        _render_and_look(script, tmp_path)
    finally:
        store.close()

    from app.workbench.sessions import SessionStore

    sessions = SessionStore(data).list()
    assert [s.name for s in sessions] == ["lumen"]
    assert stat.S_IMODE(sessions[0].path.stat().st_mode) == 0o600
    assert stat.S_IMODE(sessions[0].path.parent.stat().st_mode) == 0o700
    state = json.loads(sessions[0].path.read_text())
    assert "maya@northwind.test" in json.dumps(state["origins"])  # the sign-in itself was saved
    assert "lumen-tasks.v1" not in err and "origins" not in err  # …and never printed
    assert not list((data / "tmp").glob("record-*")), "the recorder's work folder was left behind"


def _render_and_look(script: Any, tmp_path: Path) -> None:
    """The recorded flow renders (small and silent-voiced is enough here): its last frame is the dashboard
    the recording signed in to."""
    from app.core.bundle import Job, RenderSettings
    from app.core.render import render

    job = Job(script=script, render=RenderSettings(width=640, height=360, captions=False), root=tmp_path,
              loose=True)
    res = asyncio.run(render(job, tmp_path / "out", name="recorded"))
    assert res.video.is_file() and res.duration_s > 1
    frame = REPO / ".reelwright-test" / "recorded-last-frame.png"
    subprocess.run(["ffmpeg", "-loglevel", "error", "-y", "-sseof", "-0.3", "-i", str(res.video), "-frames:v", "1",
                    str(frame)], check=True, timeout=60)
    assert frame.stat().st_size > 1000


def test_record_with_loaded_session_starts_signed_in(display: str, site: str, data: Path, tmp_path: Path) -> None:
    from app.workbench.sessions import SessionStore

    if not SessionStore(data).get("lumen"):
        pytest.skip("needs the session the sign-in recording saves")
    rec = Recorder(data, display, tmp_path)
    rec.start(f"{site}/dashboard.html", "--load-session", "lumen", "--project", "Signed in", "--target",
              "javascript")

    async def on_dashboard(b: RecorderBrowser) -> None:
        # signed in as the user of the first recording (signed out, the dashboard greets "Alex")
        greeting = await b.wait_for("document.querySelector('h1') && document.querySelector('h1').textContent")
        assert greeting == "Welcome back, Maya"
        assert await b.wait_for("document.querySelector('a[href=\"settings.html\"]') !== null")
        await b.click("a[href=\"settings.html\"]")
        await b.wait_for("location.pathname.endsWith('/settings.html')")
        await asyncio.sleep(0.4)

    # attach to the page at the start URL: loading the session opens (and closes) a page at the origin first
    _drive(rec.port, f"{site}/dashboard.html", on_dashboard)
    code, _out, err = rec.finish()
    assert code == 0, err
    store = _store(data)
    try:
        project = next(p for p in store.list_projects() if p.name == "Signed in")
        (fid,) = project.data.files
        f = store.get_file(fid)
        assert f is not None and f.kind == "playwright-js" and f.name.endswith(".js")
        flow = store.blob_path(f.sha256).read_text()
        assert "sessions/lumen.json" in flow and "getByRole('link', { name: 'Settings' }).click()" in flow
        from app.core.script import validate_script

        script = validate_script(project.data.script)
        assert script.settings.session == "sessions/lumen.json"
    finally:
        store.close()


def test_ctrl_c_ends_recorder_and_browser_and_keeps_nothing(
        display: str, site: str, data: Path, tmp_path: Path) -> None:
    store = _store(data)
    before = len(store.list_files())
    store.close()
    rec = Recorder(data, display, tmp_path)
    proc = rec.start(f"{site}/index.html", "--no-project")

    async def wait_open() -> None:
        b = RecorderBrowser(rec.port)
        try:
            await b.attach(f"{site}/index.html")
        finally:
            await b.aclose()

    asyncio.run(wait_open())
    assert _browser_processes(rec.port)
    t0 = time.monotonic()
    proc.send_signal(signal.SIGINT)
    code, _out, err = rec.finish(timeout=15)
    stopped = time.monotonic() - t0
    deadline = time.monotonic() + 2
    while _browser_processes(rec.port) and time.monotonic() < deadline:
        time.sleep(0.05)
    assert code == 130, err
    assert "Traceback" not in err
    assert not _browser_processes(rec.port), "the recorder's browser survived Ctrl-C"
    print(f"\nCtrl-C to exit: {stopped:.2f} s")
    store = _store(data)
    try:
        assert len(store.list_files()) == before
    finally:
        store.close()
    assert not list((data / "tmp").glob("record-*"))


def test_no_display_is_a_clear_error(tmp_path: Path) -> None:
    env = {k: v for k, v in os.environ.items() if k not in ("DISPLAY", "WAYLAND_DISPLAY")}
    env.update(REELWRIGHT_DATA_DIR=str(tmp_path / "d"), PYTHONPATH=str(REPO))
    r = subprocess.run([sys.executable, "-m", "app", "record", "http://127.0.0.1:9/"], env=env, cwd=REPO,
                       capture_output=True, text=True, timeout=60)
    assert r.returncode == 2
    assert "no display" in r.stderr and "xvfb-run" in r.stderr and "Traceback" not in r.stderr
