"""Record a flow with Playwright's own recorder (``playwright codegen``, headed Chromium).

:func:`record` starts the driver bundled with the Playwright package (``node cli.js codegen URL
--target python -o FLOW [--load-storage S] [--save-storage S]``) with the machine's Chromium, waits
until the user closes the recorder's browser window, then lands the results in the library: the flow
as a library file, a session saved on the way as a session asset (:mod:`app.workbench.sessions`).
The CLI and the desktop app add the flow to a project and import it.

The recorder runs in its own process group, and Playwright starts the browser in another: a cancel
(Ctrl-C, the app's Cancel) stops both groups within about a second and keeps nothing.  Everything the
recorder writes goes to a private (0700) folder under the data folder, removed at the end; a loaded
session is passed by its path in the library (0600), never copied elsewhere.

No Qt in here.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import os
import re
import shutil
import signal
import sys
import tempfile
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlsplit

from app.core.errors import Cancelled, ReelwrightError, ToolMissingError
from app.core.infra.progress import CancelToken, Progress, ProgressCallback, stop_process
from app.core.urlpolicy import blocked_reason

from .sessions import SessionAsset, SessionError, SessionStore, clean_name
from .storage import LibraryFile, Store

log = logging.getLogger(__name__)

#: codegen targets the importers read, and the file name ending each one gets
TARGETS: dict[str, str] = {
    "python": ".py",
    "python-async": ".py",
    "python-pytest": ".py",
    "javascript": ".js",
    "playwright-test": ".spec.ts",
}
DEFAULT_TARGET = "python"
#: the env variable Playwright's CLI reads for the browser binary to launch (its own test hook, and
#: the only way to point codegen at a browser outside Playwright's download folder)
_EXECUTABLE_ENV = "PWTEST_CLI_EXECUTABLE_PATH"


class RecorderError(ReelwrightError):
    """The recorder could not start or gave nothing back; the message says why and what to do."""

    exit_code = 2


@dataclass
class RecordRequest:
    url: str
    load_session: str | None = None  # a session asset's name
    save_session: str | None = None  # save the sign-in under this name when the window closes
    target: str = DEFAULT_TARGET

    def __post_init__(self) -> None:
        self.url = normalise_url(self.url)
        if self.target not in TARGETS:
            raise RecorderError(f"cannot record for '{self.target}': Reelwright imports "
                                f"{', '.join(TARGETS)}")
        try:
            if self.load_session:
                self.load_session = clean_name(self.load_session)
            if self.save_session:
                self.save_session = clean_name(self.save_session)
        except SessionError as exc:
            raise RecorderError(str(exc)) from exc


@dataclass
class Recording:
    """What the recorder wrote (in its private work folder)."""

    flow: Path
    session: Path | None
    elapsed_s: float


@dataclass
class RecordOutcome:
    file: LibraryFile  # the flow, in the library
    already: bool  # the same flow was in the library already
    session: SessionAsset | None  # the session saved on the way
    url: str
    elapsed_s: float
    warnings: list[str] = field(default_factory=list)


def normalise_url(url: str) -> str:
    """An http(s) URL for ``url`` ("localhost:8000" gets "http://"); RecorderError for anything else."""
    u = url.strip()
    if not u:
        raise RecorderError("give the address of the page to record, e.g. https://app.example.com")
    if "://" not in u:
        u = "http://" + u
    parts = urlsplit(u)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise RecorderError(f"'{url}' is not a web address: use http://… or https://…")
    why = blocked_reason(u)
    if why:
        raise RecorderError(f"cannot record {url}: {why}")
    return u


def check_display(env: dict[str, str] | None = None) -> None:
    """The recorder opens windows: on Linux that needs an X or Wayland display."""
    e = os.environ if env is None else env
    if sys.platform.startswith("linux") and not (e.get("DISPLAY") or e.get("WAYLAND_DISPLAY")):
        raise RecorderError("recording opens a browser window, and there is no display here (DISPLAY is not "
                            "set): run it from your desktop session, or under a virtual display "
                            "(xvfb-run reelwright record …)")


def driver_command() -> list[str]:
    """The Playwright driver bundled with the Python package: ``[node, cli.js]``."""
    try:
        from playwright._impl._driver import compute_driver_executable
    except ImportError as exc:  # pragma: no cover - Playwright is a dependency
        raise ToolMissingError("Playwright is not installed", hint="pip install playwright") from exc
    parts = compute_driver_executable()
    cmd = [str(p) for p in (parts if isinstance(parts, tuple) else (parts,))]
    if not Path(cmd[0]).is_file():
        raise ToolMissingError(f"Playwright's driver is missing ({cmd[0]})", hint="reinstall playwright")
    return cmd


def recorder_browser() -> Path | None:
    """A full (headed) Chromium for the recorder, or None to let Playwright use its own download."""
    from app.core.infra.tools import find_browser

    try:
        b = find_browser(prefer="chromium")
    except ToolMissingError:
        return None
    if b.kind != "chromium":
        if os.environ.get("REELWRIGHT_CHROMIUM"):
            raise RecorderError(f"REELWRIGHT_CHROMIUM is a headless shell ({b.path}), which cannot show the "
                                "recorder's window: point it at a full Chromium or Chrome")
        return None
    return b.path


def recorder_command(req: RecordRequest, flow: Path, *, load: Path | None, save: Path | None,
                     browser: Path | None) -> tuple[list[str], dict[str, str]]:
    """The command line and environment that start the recorder."""
    argv = [*driver_command(), "codegen", "--target", req.target, "--output", str(flow)]
    if load is not None:
        argv += ["--load-storage", str(load)]
    if save is not None:
        argv += ["--save-storage", str(save)]
    argv.append(req.url)
    env = dict(os.environ)
    env.pop("PWTEST_CLI_HEADLESS", None)
    env.pop("PWTEST_CLI_IS_UNDER_TEST", None)
    if browser is not None:
        env[_EXECUTABLE_ENV] = str(browser)
    return argv, env


def _descendants(pid: int) -> set[int]:
    """Every live process below ``pid`` (Linux /proc); Playwright starts the browser in a group of its own."""
    children: dict[int, list[int]] = {}
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
            children.setdefault(int(fields[1]), []).append(int(stat.parent.name))
        except (OSError, IndexError, ValueError):
            continue
    out: set[int] = set()
    todo = [pid]
    while todo:
        for c in children.get(todo.pop(), []):
            if c not in out:
                out.add(c)
                todo.append(c)
    return out


def _kill_groups(pids: set[int]) -> None:
    if os.name != "posix":  # pragma: no cover - Windows: the browser dies with the driver's job
        return
    own = os.getpgrp()
    groups: set[int] = set()
    for p in pids:
        with contextlib.suppress(OSError):
            groups.add(os.getpgid(p))
    for g in groups - {own}:
        with contextlib.suppress(OSError):
            os.killpg(g, signal.SIGKILL)


async def run_recorder(req: RecordRequest, workdir: Path, *, sessions: SessionStore,
                       on_progress: ProgressCallback, cancel: CancelToken) -> Recording:
    """Run the recorder until its window closes; the flow (and session) are written in ``workdir``."""
    check_display()
    load = sessions.require(req.load_session).path if req.load_session else None
    flow = workdir / f"flow{TARGETS[req.target]}"
    # the saved state is named after the session, so the flow's storage_state= line names it too
    save = workdir / f"{req.save_session}.json" if req.save_session else None
    argv, env = recorder_command(req, flow, load=load, save=save, browser=recorder_browser())
    log.info("starting the recorder at %s (target %s%s)", req.url, req.target,
             f", session '{req.load_session}'" if req.load_session else "")
    t0 = time.monotonic()
    on_progress(Progress("record", 0.0, "Recording… close the browser window to finish"))
    proc = await asyncio.create_subprocess_exec(*argv, env=env, cwd=str(workdir), stdin=asyncio.subprocess.DEVNULL,
                                                stdout=asyncio.subprocess.DEVNULL,
                                                stderr=asyncio.subprocess.PIPE, start_new_session=True)
    cancel.register(proc)
    assert proc.stderr is not None
    err_task = asyncio.ensure_future(proc.stderr.read())
    browser_pids: set[int] = set()
    try:
        wait = asyncio.ensure_future(proc.wait())
        stop = asyncio.ensure_future(cancel.wait())
        while not wait.done() and not stop.done():
            await asyncio.wait({wait, stop}, timeout=0.5, return_when=asyncio.FIRST_COMPLETED)
            if proc.returncode is None:
                browser_pids |= _descendants(proc.pid)  # kept current: the browser's group is its own
        stop.cancel()
        if cancel.cancelled:
            raise Cancelled(cancel.reason)
    finally:
        cancel.unregister(proc)
        if proc.returncode is None or cancel.cancelled:
            browser_pids |= _descendants(proc.pid) if proc.returncode is None else set()
            await stop_process(proc, grace_s=0.3)
            _kill_groups({p for p in browser_pids if Path(f"/proc/{p}").exists()})
        stderr = b""
        with contextlib.suppress(asyncio.TimeoutError, asyncio.CancelledError):
            stderr = await asyncio.wait_for(err_task, 1.0)
    elapsed = time.monotonic() - t0
    if proc.returncode not in (0, 130) or not flow.is_file() or flow.stat().st_size == 0:
        tail = "\n".join(stderr.decode("utf-8", "replace").strip().splitlines()[-6:])
        if not flow.is_file() or flow.stat().st_size == 0:
            raise RecorderError("the recorder stopped without writing a flow"
                                + (f" (exit {proc.returncode})" if proc.returncode else "")
                                + (f":\n{tail}" if tail else ""))
        log.warning("the recorder exited with %s: %s", proc.returncode, tail)
    return Recording(flow, save if save is not None and save.is_file() else None, elapsed)


_CLOSE = re.compile(r"^\s*(?:await\s+)?\w+\.close\(\);?\s*$")
_PAGE_ACTION = re.compile(r"^\s*(?:await\s+)?(?:expect\()?\w*page\w*[.(]")


def drop_finishing_closes(text: str) -> str:
    """Remove the ``page.close()`` lines codegen writes after the last action when the user closes the
    window: that is how a recording ends, not a step of the demo (and closing the last tab is no step a
    video can show).  Closes between actions (a popup closed mid-flow) stay."""
    lines = text.splitlines(keepends=True)
    last_action = max((i for i, ln in enumerate(lines) if _PAGE_ACTION.match(ln) and not _CLOSE.match(ln)),
                      default=-1)
    kept = [ln for i, ln in enumerate(lines)
            if not (i > last_action and _CLOSE.match(ln) and re.search(r"\bpage\w*\.close", ln))]
    return "".join(kept)


_DISMISSED_DIALOG = re.compile(r"dialog\.dismiss\(\)")


def name_loaded_session(text: str, session: SessionAsset) -> str:
    """The recorder writes the loaded session's full path in the user's data folder into the flow
    (``storage_state="/home/…/sessions/lumen.json"``); the library's copy names it by its bundle path
    (``sessions/lumen.json``), which is what the importer maps it to anyway."""
    full = str(session.path)
    return text.replace(full, session.bundle_path).replace(json.dumps(full)[1:-1], session.bundle_path)


def flow_name(url: str, target: str, when: float | None = None) -> str:
    host = re.sub(r"[^A-Za-z0-9.-]+", "-", urlsplit(url).hostname or "site").strip("-.") or "site"
    stamp = time.strftime("%Y%m%d-%H%M%S", time.localtime(when or time.time()))
    return f"recorded-{host}-{stamp}{TARGETS[target]}"


@contextlib.contextmanager
def private_workdir(root: Path) -> Iterator[Path]:
    base = root / "tmp"
    base.mkdir(parents=True, exist_ok=True)
    d = Path(tempfile.mkdtemp(prefix="record-", dir=base))  # 0700
    try:
        yield d
    finally:
        shutil.rmtree(d, ignore_errors=True)


async def record(store: Store, req: RecordRequest, on_progress: ProgressCallback, cancel: CancelToken, *,
                 keep_copy: Path | None = None) -> RecordOutcome:
    """Record, then add the flow to the library (and the saved session to the sessions)."""
    sessions = SessionStore(store.root)
    if req.load_session:
        try:
            sessions.require(req.load_session)
        except SessionError as exc:
            raise RecorderError(str(exc)) from exc
    with private_workdir(store.root) as work:
        rec = await run_recorder(req, work, sessions=sessions, on_progress=on_progress, cancel=cancel)
        on_progress(Progress("record", 0.9, "adding the flow to the library"))
        named = work / "library" / flow_name(req.url, req.target)
        named.parent.mkdir()
        text = drop_finishing_closes(rec.flow.read_text(encoding="utf-8"))
        if req.load_session:
            text = name_loaded_session(text, sessions.require(req.load_session))
        named.write_text(text, encoding="utf-8")
        warnings: list[str] = []
        if _DISMISSED_DIALOG.search(text):
            warnings.append("the recorder writes every dialog as dismissed (Cancel), whatever you pressed: "
                            "where you pressed OK, set the card's dialog to accept")
        saved: SessionAsset | None = None
        if req.save_session:
            if rec.session is None:
                warnings.append(f"the recorder saved no session, so '{req.save_session}' was not stored")
            else:
                try:
                    saved = await asyncio.to_thread(sessions.save, req.save_session, rec.session)
                except SessionError as exc:
                    warnings.append(str(exc))
        report = await asyncio.to_thread(store.import_paths, [named])
        if report.skipped:
            raise RecorderError(f"the recorded flow could not be added to the library: {report.skipped[0][1]}")
        if keep_copy is not None:
            from app.core.infra.fs import atomic_write

            atomic_write(keep_copy, named.read_bytes())
    file = (report.imported or report.already)[0]
    on_progress(Progress("record", 1.0, f"recorded {file.name}"))
    return RecordOutcome(file, not report.imported, saved, req.url, rec.elapsed_s, warnings)


def import_recorded(store: Store, file: LibraryFile) -> int:
    """Import the recorded flow (parse only, nothing runs); returns the number of actions.
    Raises the importer's CodegenImportError naming the line it could not read."""
    from app.core.draft.importers import import_codegen

    with tempfile.TemporaryDirectory(prefix="reelwright-import-") as td:
        p = Path(td) / file.name
        shutil.copyfile(store.blob_path(file.sha256), p)
        return len(import_codegen(p).actions)


__all__ = ["DEFAULT_TARGET", "TARGETS", "RecordOutcome", "RecordRequest", "RecorderError", "Recording",
           "check_display", "drop_finishing_closes", "flow_name", "import_recorded", "name_loaded_session",
           "normalise_url", "record",
           "recorder_command", "run_recorder"]
