"""Starting and stopping the browser: the Playwright driver in its own session, the launched
browser as one object (:class:`Launched`), and :class:`WarmBrowser`, which keeps one launched
between card previews.

Why a warm browser: starting the driver and the headless shell takes 0.6-1.4 s on 2 cores, about a
tenth of a card preview.  The desktop app keeps one browser running while a project is open (and
closes it after a few idle minutes); each preview gets a *new browser context* in it, so no page
state (cookies, storage, caches, virtual time) carries from one preview to the next, and the
frames are the ones a freshly started browser draws (tested: a warm preview is frame-identical to
a cold one).  Renders and checks still start their own browser.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import shutil
import signal
import tempfile
import threading
from collections.abc import Iterator
from dataclasses import dataclass
from importlib import metadata
from pathlib import Path
from typing import Any

from playwright.async_api import Browser as PWBrowser
from playwright.async_api import Error as PlaywrightError
from playwright.async_api import Playwright, async_playwright

from ..errors import ToolMissingError
from ..infra.tools import Browser, chromium_sandbox

__all__ = ["CLOSE_TIMEOUT_S", "Launched", "WarmBrowser", "driver_in_own_session"]

log = logging.getLogger(__name__)

#: how long closing the browser may take before it is killed (a normal close takes 0.1-0.3 s)
CLOSE_TIMEOUT_S = 1.0
#: a warm browser nobody used for this long is closed (it holds ~150 MB)
WARM_IDLE_S = 300.0


def _retrieve_driver_error(manager: Any) -> None:
    """A driver that died leaves its transport's error future set and never read, which asyncio
    logs as "Future exception was never retrieved" under the render's own clear error: read it."""
    transport = getattr(getattr(manager, "_client", None), "_transport", None)
    fut = getattr(transport, "on_error_future", None)
    if isinstance(fut, asyncio.Future) and fut.done() and not fut.cancelled():
        fut.exception()


def _pgid(pid: int) -> int | None:
    try:
        return os.getpgid(pid)
    except ProcessLookupError:
        return None


def _descendants(root: int) -> list[int]:
    """Every process below ``root``, from /proc (empty where there is no /proc)."""
    children: dict[int, list[int]] = {}
    proc = Path("/proc")
    if not proc.is_dir():
        return []
    for d in proc.iterdir():
        if d.name.isdigit():
            try:
                ppid = int((d / "stat").read_text().rsplit(")", 1)[1].split()[1])
            except (OSError, IndexError, ValueError):
                continue
            children.setdefault(ppid, []).append(int(d.name))
    out: list[int] = []
    todo = [root]
    while todo:
        for child in children.get(todo.pop(), []):
            out.append(child)
            todo.append(child)
    return out

#: Playwright releases whose ``_impl/transport.py`` launches the driver with
#: ``asyncio.create_subprocess_exec`` looked up on its module's ``asyncio`` (checked: 1.4x–1.65)
_PATCHABLE_PLAYWRIGHT = (1, 40)


class _OwnSessionAsyncio:
    """``asyncio`` as Playwright's transport module sees it while a driver starts: the same, except
    that subprocesses start in a new session (their own process group)."""

    def __init__(self, started: list[int]) -> None:
        self._started = started

    def __getattr__(self, name: str) -> Any:
        return getattr(asyncio, name)

    async def create_subprocess_exec(self, *args: Any, **kwargs: Any) -> asyncio.subprocess.Process:
        kwargs.setdefault("start_new_session", True)
        proc = await asyncio.create_subprocess_exec(*args, **kwargs)
        self._started.append(proc.pid)
        return proc


_PATCH_LOCK = threading.Lock()
_PATCH_USERS = 0


def _transport_module() -> Any | None:
    """Playwright's transport module when it has the shape the session wrapper relies on."""
    try:
        major, minor = (int(v) for v in metadata.version("playwright").split(".")[:2])
        from playwright._impl import transport
    except (metadata.PackageNotFoundError, ValueError, ImportError):
        return None
    if (major, minor) < _PATCHABLE_PLAYWRIGHT or getattr(transport, "asyncio", None) is not asyncio \
            or not hasattr(transport, "PipeTransport"):
        return None
    return transport


@contextlib.contextmanager
def driver_in_own_session() -> Iterator[list[int]]:
    """While inside, Playwright drivers start in their own session; yields the pids they got.

    Narrow on purpose: only the ``asyncio`` name inside Playwright's transport module is swapped,
    and only while a driver starts.  Node resets an inherited SIG_IGN, so ignoring signals before
    the launch would not protect it; a separate session does.  On a Playwright whose transport
    looks different nothing is changed (the render then recognises the driver's loss during a
    cancel as the cancel, see :mod:`app.core.render`).
    """
    global _PATCH_USERS
    started: list[int] = []
    transport = _transport_module()
    if transport is None:
        log.debug("playwright's transport is not the known shape: the driver shares our process group")
        yield started
        return
    with _PATCH_LOCK:
        _PATCH_USERS += 1
        transport.asyncio = _OwnSessionAsyncio(started) if _PATCH_USERS == 1 else transport.asyncio
        proxy = transport.asyncio
    try:
        yield proxy._started if isinstance(proxy, _OwnSessionAsyncio) else started
    finally:
        with _PATCH_LOCK:
            _PATCH_USERS -= 1
            if _PATCH_USERS == 0:
                transport.asyncio = asyncio



def _profile_dirs(pids: list[int]) -> list[Path]:
    """The temporary ``--user-data-dir`` folders Playwright gave these processes (from /proc)."""
    found: set[Path] = set()
    for pid in pids:
        try:
            argv = Path(f"/proc/{pid}/cmdline").read_bytes().split(b"\0")
        except OSError:
            continue
        for arg in argv:
            if arg.startswith(b"--user-data-dir="):
                path = Path(os.fsdecode(arg.split(b"=", 1)[1]))
                if path.name.startswith("playwright_") and path.parent == Path(tempfile.gettempdir()):
                    found.add(path)
    return sorted(found)


@dataclass
class Launched:
    """A running Playwright driver and the browser it launched with ``args``."""

    browser: Browser
    args: tuple[str, ...]
    manager: Any
    pw: Playwright
    pw_browser: PWBrowser
    #: the driver's pid when it was started in its own session (None: it was not)
    driver_pid: int | None

    @classmethod
    async def launch(cls, browser: Browser, args: tuple[str, ...]) -> Launched:
        """Start a driver and the browser; :class:`ToolMissingError` when the browser will not start."""
        with driver_in_own_session() as started:
            manager = async_playwright()
            pw = await manager.start()
        driver_pid = started[-1] if started else None
        try:
            pw_browser = await pw.chromium.launch(
                executable_path=str(browser.path), args=list(args), headless=True, timeout=60_000,
                chromium_sandbox=chromium_sandbox())
        except PlaywrightError as exc:
            with contextlib.suppress(Exception):
                await asyncio.wait_for(pw.stop(), CLOSE_TIMEOUT_S)
            _retrieve_driver_error(manager)
            raise ToolMissingError(
                f"could not start the browser at {browser.path}: {str(exc).splitlines()[0]}",
                hint="install Debian's chromium-headless-shell, or set REELWRIGHT_CHROMIUM") from None
        return cls(browser, args, manager, pw, pw_browser, driver_pid)

    @property
    def alive(self) -> bool:
        return self.pw_browser.is_connected()

    async def close(self) -> None:
        """Close the browser and the driver; kill them if that takes over :data:`CLOSE_TIMEOUT_S`."""

        async def gracefully() -> None:
            # a crashed browser is skipped (closing it would only time out)
            if self.pw_browser.is_connected():
                with contextlib.suppress(Exception):
                    await self.pw_browser.close()
            with contextlib.suppress(Exception):
                await self.pw.stop()

        try:
            await asyncio.wait_for(gracefully(), CLOSE_TIMEOUT_S)
        except TimeoutError:
            log.warning("the browser did not close within %.1f s; killing it", CLOSE_TIMEOUT_S)
            self.kill(driver_too=False)
            try:
                await asyncio.wait_for(self.pw.stop(), CLOSE_TIMEOUT_S)
            except Exception:  # noqa: BLE001 - a timeout or a dead connection: kill it either way
                self.kill(driver_too=True)
        _retrieve_driver_error(self.manager)

    def kill(self, *, driver_too: bool) -> None:
        """SIGKILL what the driver started (the browser and its helpers), by process group, and the
        driver itself if ``driver_too``.  Sparing the driver lets it notice the browser's death and
        remove the browser's temporary profile."""
        if self.driver_pid is None:
            return
        below = _descendants(self.driver_pid)
        groups = {g for g in (_pgid(pid) for pid in below) if g is not None}
        # with the driver gone too, nobody removes the browser's temporary profile: do it here
        profiles = _profile_dirs(below) if driver_too else []
        if driver_too:
            groups.add(self.driver_pid)
        for pgid in groups - {os.getpgrp()}:
            with contextlib.suppress(ProcessLookupError, PermissionError):
                os.killpg(pgid, signal.SIGKILL)
        for profile in profiles:
            shutil.rmtree(profile, ignore_errors=True)


class WarmBrowser:
    """Keeps one launched browser for the next :class:`~app.core.capture.BrowserSession` that asks
    for the same browser and launch flags (see the module's docstring).  Used from one event loop.

    A session *takes* the browser (or gets a fresh one when the kept one does not fit, is gone or is
    in use) and *gives it back* when it closes cleanly; a session that failed to close its context
    in time kills it instead.  :meth:`warm_up` starts one ahead of the first preview; the browser is
    closed after :data:`WARM_IDLE_S` unused, and by :meth:`close`."""

    def __init__(self, idle_s: float = WARM_IDLE_S) -> None:
        self.idle_s = idle_s
        self._kept: Launched | None = None
        self._starting: asyncio.Task[Launched] | None = None
        self._idle: asyncio.TimerHandle | None = None
        self._closing: asyncio.Future[None] | None = None
        #: browsers taken by sessions and not yet given back or dropped
        self._leased: list[Launched] = []
        #: launches done and sessions served from a kept browser (for tests and the bench)
        self.launches = 0
        self.reuses = 0

    @property
    def ready(self) -> bool:
        return self._kept is not None and self._kept.alive

    async def warm_up(self, browser: Browser, args: tuple[str, ...]) -> None:
        """Have a browser with these flags running (returns once it is)."""
        if self._kept is not None and self._kept.args == args and self._kept.browser == browser and self._kept.alive:
            return
        kept = await self.take(browser, args)
        await self.give_back(kept)

    async def take(self, browser: Browser, args: tuple[str, ...]) -> Launched:
        """The kept browser when it fits, else a newly launched one (the kept one is closed)."""
        self._cancel_idle()
        if self._starting is not None:  # a warm-up under way: wait for it rather than start a second
            with contextlib.suppress(Exception):
                await asyncio.shield(self._starting)
        kept, self._kept = self._kept, None
        if kept is not None:
            if kept.alive and kept.args == args and kept.browser == browser:
                self.reuses += 1
                self._leased.append(kept)
                return kept
            await kept.close()
        self._starting = asyncio.ensure_future(Launched.launch(browser, args))
        try:
            launched = await asyncio.shield(self._starting)
        except asyncio.CancelledError:
            # the caller was cancelled mid-launch: the browser still comes up; close it when it does
            starting = self._starting
            starting.add_done_callback(lambda t: None if t.cancelled() or t.exception() else
                                       asyncio.ensure_future(t.result().close()))
            raise
        finally:
            self._starting = None
        self.launches += 1
        self._leased.append(launched)
        return launched

    async def give_back(self, launched: Launched) -> None:
        """Keep ``launched`` for the next session (closing any other kept one)."""
        self._forget(launched)
        if not launched.alive:
            await launched.close()
            return
        if self._kept is not None and self._kept is not launched:
            old, self._kept = self._kept, None
            await old.close()
        self._kept = launched
        self._cancel_idle()
        self._idle = asyncio.get_running_loop().call_later(
            self.idle_s, lambda: asyncio.ensure_future(self.close()))

    async def drop(self, launched: Launched) -> None:
        """Close a taken browser that is not fit to keep (its session could not close cleanly)."""
        self._forget(launched)
        await launched.close()

    def _forget(self, launched: Launched) -> None:
        self._leased = [b for b in self._leased if b is not launched]

    def _cancel_idle(self) -> None:
        if self._idle is not None:
            self._idle.cancel()
            self._idle = None

    def kill(self) -> None:
        """End the processes of every browser this started, kept or taken, now (no event loop is left
        to close them on)."""
        self._cancel_idle()
        kept, self._kept = self._kept, None
        leased, self._leased = self._leased, []
        for launched in ([kept] if kept is not None else []) + leased:
            launched.kill(driver_too=True)

    async def close(self) -> None:
        """Close the kept browser (a later :meth:`take` launches again); a second caller waits for
        the first one's close to end."""
        self._cancel_idle()
        kept, self._kept = self._kept, None
        if kept is not None:
            self._closing = asyncio.ensure_future(kept.close())
        if self._closing is not None:
            closing = self._closing
            await asyncio.shield(closing)
            if self._closing is closing:
                self._closing = None
