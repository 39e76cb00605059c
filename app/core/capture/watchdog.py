"""The capture watchdog: a render whose browser stops answering fails, it never hangs.

The performer waits on the browser in many ways (a frame's virtual-time budget, a locator, an input
acknowledgement, a navigation).  Each is bounded in video time, but video time only moves while the
browser answers: a crashed renderer, a dead Playwright driver or a browser that simply stops
finishing frames would leave the render waiting for ever.  The watchdog bounds all of them in real
time at once, without any cost per frame:

* the clock stamps ``time.monotonic()`` into :attr:`Clock.last_progress` when a frame is done (no
  extra round trip); one task wakes a few times a second and fails the render when no frame has
  been made for ``stall_s`` seconds;
* Playwright's ``disconnected`` (browser), ``close`` and ``crash`` (page) events and the driver
  connection's ``close`` fail it at once (within a poll interval) — a dead driver leaves nothing
  else to notice, since the event a frame waits for simply never comes.

The failure names the card, the action and what the performer was awaiting (read from the
performer task's coroutine chain when the watchdog fires, so nothing is recorded on the hot path),
with a screenshot when the browser can still take one.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypeVar

from playwright.async_api import Browser as PWBrowser
from playwright.async_api import Page

from ..errors import Cancelled, RenderError
from ..infra.progress import CancelToken
from .clock import Clock

T = TypeVar("T")

#: real seconds without a new frame before the render is declared stuck (REELWRIGHT_STALL_S overrides)
DEFAULT_STALL_S = 20.0
#: how often the watchdog looks (the detection latency for a stall; events wake it at once)
POLL_S = 0.25
#: real seconds the error screenshot may take (a hung browser gives none)
SNAPSHOT_TIMEOUT_S = 1.0

#: performer/clock coroutines and what a user reads for "waiting in it"
_AWAITING = {
    "_budget": "the browser to finish a frame (virtual time did not advance)",
    "_begin_frame": "the browser to draw a frame",
    "send_input": "the browser to take the input events",
    "settle": "the browser to finish the call",
    "navigate": "the page to load",
    "wait_loaded": "the page to load",
    "resolve": "the element",
    "wait_scroll_settled": "the scroll to settle",
    "write": "the video encoder to take the frame",
}


def stall_seconds() -> float:
    """The configured stall bound (``REELWRIGHT_STALL_S``, else :data:`DEFAULT_STALL_S`)."""
    raw = os.environ.get("REELWRIGHT_STALL_S", "").strip()
    try:
        value = float(raw) if raw else DEFAULT_STALL_S
    except ValueError:
        value = DEFAULT_STALL_S
    return value if value > 0 else DEFAULT_STALL_S


@dataclass
class Where:
    """Where the performer is: the card and action it runs (set by the performer per action)."""

    card_index: int | None = None
    card_id: str | None = None
    action_index: int | None = None
    action_type: str | None = None
    locator: str | None = None


class Watchdog:
    """Fails a capture that stops making progress or whose browser, page or driver dies."""

    def __init__(self, clock: Clock, *, browser: PWBrowser | None = None, page: Page | None = None,
                 stall_s: float | None = None, where: Callable[[], Where] | None = None,
                 error_dir: Path | None = None, error_name: str = "render",
                 cancel: CancelToken | None = None) -> None:
        self.clock = clock
        #: a cancelled render that takes its browser down with it is a cancel, not a crash
        self.cancel = cancel
        self.browser = browser
        self.page = page
        #: every tab being filmed (the first page and the tabs opened since)
        self.pages: list[Page] = [page] if page is not None else []
        self._attached = False
        self.stall_s = stall_s if stall_s is not None else stall_seconds()
        self.where = where or Where
        self.error_dir = error_dir
        self.error_name = error_name
        #: why the browser is gone, once it is (set by the Playwright event handlers)
        self.dead: str | None = None
        self._wake = asyncio.Event()
        self._hooked: list[tuple[Any, str, Callable[..., None]]] = []

    # ------------------------------------------------------------------ events

    def _died(self, why: str) -> Callable[..., None]:
        def handler(*_: Any) -> None:
            if self.dead is None:
                self.dead = why
            self._wake.set()
        return handler

    def _hook(self, emitter: Any, event: str, why: str) -> None:
        if emitter is None:
            return
        handler = self._died(why)
        emitter.on(event, handler)
        self._hooked.append((emitter, event, handler))

    def watch_page(self, page: Page) -> None:
        """Watch another tab too: its renderer crashing fails the capture; it closing does not
        (the flow or the page itself closed it) unless it was the last one."""
        if page in self.pages:
            return
        self.pages.append(page)
        if self._attached:
            self._hook_page(page)

    def _all_closed(self) -> bool:
        return bool(self.pages) and all(p.is_closed() for p in self.pages)

    def _hook_page(self, page: Page) -> None:
        self._hook(page, "crash", "the browser crashed (the page's renderer died)")
        # a killed browser closes its pages first, a moment before it reports the disconnect
        on_close = self._died("the browser closed or crashed (the page was closed)")

        def closed(*_: Any) -> None:
            if self._all_closed():
                on_close()

        page.on("close", closed)
        self._hooked.append((page, "close", closed))

    def _attach(self) -> None:
        self._attached = True
        self._hook(self.browser, "disconnected", "the browser closed or crashed")
        for page in self.pages:
            self._hook_page(page)
        # The driver (Node) going away closes Playwright's connection; nothing else reports it,
        # because the frame the clock waits for is an event that then never arrives.
        conn = _connection_of(self.page)
        if conn is not None:
            self._hook(conn, "close", "the Playwright driver exited (the browser closed or crashed)")

    def _detach(self) -> None:
        for emitter, event, handler in self._hooked:
            with contextlib.suppress(Exception):
                emitter.remove_listener(event, handler)
        self._hooked.clear()
        self._attached = False

    def _gone(self) -> str | None:
        """Cheap local checks (no round trip) that catch a death whose event was missed."""
        if self.dead is not None:
            return self.dead
        if self.browser is not None and not self.browser.is_connected():
            return "the browser closed or crashed"
        if self._all_closed():
            return "the browser closed or crashed (the page was closed)"
        conn = _connection_of(self.page)
        if conn is not None and getattr(conn, "_closed_error", None) is not None:
            return "the Playwright driver exited (the browser closed or crashed)"
        return None

    # ------------------------------------------------------------------ the guard

    async def guard(self, work: Awaitable[T]) -> T:
        """Run ``work`` (the performer); fail it with a RenderError if the capture stalls or the
        browser dies.  Cancelling the caller cancels ``work``."""
        task: asyncio.Future[T] = asyncio.ensure_future(work)
        self.clock.last_progress = time.monotonic()
        self._attach()
        watcher = asyncio.ensure_future(self._watch(task))
        try:
            both: set[asyncio.Future[Any]] = {task, watcher}
            await asyncio.wait(both, return_when=asyncio.FIRST_COMPLETED)
            if self.cancel is not None:
                self.cancel.raise_if_cancelled()
            if task.done():
                exc = task.exception() if not task.cancelled() else None
                if exc is not None and not isinstance(exc, Cancelled):
                    # An action that failed because the browser went away (target closed, no
                    # element) reports the real cause, not "click failed".
                    why = self._gone()
                    if why is not None:
                        raise self._failure(why, None, None) from None
                if isinstance(exc, RenderError) and exc.card_index is None:
                    raise self._located(exc) from None  # e.g. the encoder died: say where it was
                return task.result()
            why, awaiting = watcher.result()
            shot = await self._screenshot() if self._gone() is None else None
            await _stop(task)
            raise self._failure(why, awaiting, shot)
        finally:
            self._detach()
            for t in (watcher, task):
                if not t.done():
                    t.cancel()
            await _stop(watcher)
            await _stop(task)

    async def _watch(self, task: asyncio.Future[Any]) -> tuple[str, str | None]:
        while True:
            self._wake.clear()
            with contextlib.suppress(asyncio.TimeoutError):
                await asyncio.wait_for(self._wake.wait(), POLL_S)
            why = self._gone()
            if why is not None:
                return why, describe_awaiting(task)
            idle = time.monotonic() - self.clock.last_progress
            if idle > self.stall_s:
                return (f"no frame for {idle:.0f} s (the browser is alive but stopped answering)",
                        describe_awaiting(task))

    async def _screenshot(self) -> Path | None:
        if self.error_dir is None:
            return None
        data: bytes | None = None
        with contextlib.suppress(Exception):  # best effort: the error itself matters more
            data = await asyncio.wait_for(self.clock.snapshot(), SNAPSHOT_TIMEOUT_S)
        if not data:
            return None
        w = self.where()
        card = f"-card{w.card_index + 1}" if w.card_index is not None else ""
        action = f"-action{w.action_index + 1}" if w.action_index is not None else ""
        with contextlib.suppress(OSError):
            self.error_dir.mkdir(parents=True, exist_ok=True)
            path = self.error_dir / f"{self.error_name}.error{card}{action}.jpg"
            path.write_bytes(data)
            return path
        return None

    def _located(self, exc: RenderError) -> RenderError:
        w = self.where()
        if w.card_index is None:
            return exc
        what = f"{w.action_type}: " if w.action_type else ""
        return RenderError(f"{what}{exc.message}", card_index=w.card_index, card_id=w.card_id,
                           action_index=w.action_index, locator=w.locator, screenshot=exc.screenshot,
                           hint=exc.hint)

    def _failure(self, why: str, awaiting: str | None, shot: Path | None) -> RenderError:
        w = self.where()
        what = f"{w.action_type}: " if w.action_type else ""
        msg = f"{what}{why}"
        if awaiting:
            msg += f" — it was waiting for {awaiting}"
        hint = None
        if "no frame" in why:
            hint = (f"nothing moved for {self.stall_s:g} s of real time (REELWRIGHT_STALL_S sets the bound). "
                    "A request the page never finishes (a long poll, an event stream) stops the video clock, "
                    "since loads finish in video time; otherwise run again with -v and report it")
        return RenderError(msg, card_index=w.card_index, card_id=w.card_id, action_index=w.action_index,
                           locator=w.locator, screenshot=shot, hint=hint)


def describe_awaiting(task: asyncio.Future[Any]) -> str | None:
    """What the task is waiting for, in words: the innermost performer/clock coroutine it is
    suspended in (and the ``what`` it waits for, when that coroutine has one)."""
    get_coro = getattr(task, "get_coro", None)
    coro = get_coro() if get_coro is not None else None
    found: str | None = None
    chain: list[str] = []
    depth = 0
    while coro is not None and depth < 100:
        frame = getattr(coro, "cr_frame", None) or getattr(coro, "gi_frame", None)
        if frame is not None and "/app/core/" in frame.f_code.co_filename.replace("\\", "/"):
            name = frame.f_code.co_name
            chain.append(name)
            what = frame.f_locals.get("what")
            if isinstance(what, str):
                found = what
            elif name in _AWAITING:
                found = _AWAITING[name]
        coro = getattr(coro, "cr_await", None) or getattr(coro, "gi_yieldfrom", None)
        depth += 1
    if found is None and not chain:
        return None
    path = " ← ".join(n.lstrip("_") for n in reversed(chain[-4:]))
    return f"{found or 'the browser'} (in {path})" if path else found


def _connection_of(page: Page | None) -> Any:
    """Playwright's connection to its driver (an event emitter that says ``close``), if reachable."""
    impl = getattr(page, "_impl_obj", None)
    return getattr(impl, "_connection", None)


async def _stop(task: asyncio.Future[Any]) -> None:
    """Cancel ``task`` and wait (briefly: a task stuck in a dead browser call is let go) for it."""
    if not task.done():
        task.cancel()
    with contextlib.suppress(BaseException):
        await asyncio.wait({task}, timeout=1.0)
    if task.done() and not task.cancelled():
        task.exception()  # retrieved, so asyncio does not log it as never retrieved


__all__ = ["DEFAULT_STALL_S", "Watchdog", "Where", "describe_awaiting", "stall_seconds"]
