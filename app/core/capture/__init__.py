"""Perform + capture: one Chromium session replays the script on the video clock.

:class:`BrowserSession` launches the browser (frame-exact on a headless shell, real time otherwise),
injects the overlay, and builds the right :class:`~app.core.capture.clock.Clock`.

The Playwright driver (Node) is started in its own session, so a signal sent to our whole process
group (``timeout``, systemd, a supervisor, Ctrl-C in a terminal) reaches us but not the driver and
the browser: the render then cancels and closes them itself instead of finding them gone mid-action
and blaming a card.  If this process dies outright (SIGKILL), the driver sees its stdin close, exits
and takes the browser with it.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path
from typing import Any

from playwright.async_api import Browser as PWBrowser
from playwright.async_api import BrowserContext, CDPSession, Page, Route
from playwright.async_api import Error as PlaywrightError

from ..errors import RenderError
from ..infra.progress import CancelToken
from ..infra.tools import Browser, chromium_args
from ..urlpolicy import blocked_reason
from .clock import Clock, FrameSink, NullSink, RealtimeClock, VirtualClock
from .launch import CLOSE_TIMEOUT_S, Launched, WarmBrowser, _descendants, driver_in_own_session
from .watchdog import Watchdog, Where

__all__ = ["BrowserSession", "Clock", "FrameSink", "NullSink", "WarmBrowser", "Watchdog", "Where", "_descendants",
           "driver_in_own_session",
           "overlay_script"]

log = logging.getLogger(__name__)

#: what a popup's first document is while its tab joins the virtual clock (see BrowserSession.popups)
_PLACEHOLDER = "<!doctype html><html><head><title></title></head><body></body></html>"


#: scripts injected into every document: the overlay, then what draws into it (dialogs, download cues)
OVERLAY_SCRIPTS = ("overlay.js", "dialogs.js")


#: the overlays' clock (defined before the scripts): ``performance.now()`` snapped to the video's frames.
#: Chromium clamps every clock a page can read to 100 µs with a random per-process jitter (Blink's
#: TimeClamper), so two renders read times 0.1 ms apart and an animation is drawn a hair elsewhere.
#: The overlays are only ever called at frame boundaries (from the performer, while virtual time is
#: paused, or from requestAnimationFrame), so each reading is a whole number of frames from the first
#: one give or take that jitter: rounding to the frame grid removes it, and animation progress becomes
#: a function of the frame index alone.  In real-time capture (no fixed frames) the clock is left as is.
#:
#: The page's own animations (CSS animations and transitions, ``element.animate()``) get the same
#: treatment.  Left alone, the start time Blink gives an animation is read off a clock that two renders
#: do not share to the microsecond, so a spinner is drawn a hair elsewhere in every frame of one render
#: than of the other (seen: every frame after the page appeared differed; ``Animation.startTime`` read
#: 41.6 in one render and 41.7 in the next).  So, at every frame (the first requestAnimationFrame
#: callback, before the page's own), each running animation on the document timeline is set to the
#: time it must show: where it was when first seen (rounded to 1 ms) plus the whole frames since, times
#: its playback rate.  Setting ``currentTime`` re-anchors Blink's start time on the frame's exact
#: timeline time, so what is drawn depends on the frame index alone.  A page that seeks, pauses or
#: changes an animation's rate is followed: a reading more than 1 ms off the expected time, or a new
#: rate, starts a new anchor there.  Scroll-driven animations (another timeline) are left alone.
FRAME_CLOCK = """(() => {
  const frameMs = %s;
  let anchor = null;
  Object.defineProperty(window, "__reelwrightNow", { configurable: false, enumerable: false, value: () => {
    const t = performance.now();
    if (!(frameMs > 0)) return t;
    if (anchor === null) anchor = t;
    return anchor + Math.round((t - anchor) / frameMs) * frameMs;
  }});
  if (!(frameMs > 0) || typeof document.getAnimations !== "function") return;
  const anchors = new WeakMap();  // animation -> {ts, time, rate}
  const pin = (ts) => {
    requestAnimationFrame(pin);
    let list;
    try { list = document.getAnimations(); } catch (e) { return; }
    for (const a of list) {
      if (a.playState !== "running" || a.timeline !== document.timeline) continue;
      const now = a.currentTime;
      if (now === null) continue;
      let at = anchors.get(a);
      if (at !== undefined) {
        const want = at.time + Math.round((ts - at.ts) / frameMs) * frameMs * at.rate;
        if (at.rate === a.playbackRate && Math.abs(now - want) <= 1) {
          if (now !== want) a.currentTime = want;
          continue;
        }
      }
      at = { ts: ts, time: Math.round(now), rate: a.playbackRate };
      anchors.set(a, at);
      a.currentTime = at.time;
    }
  };
  requestAnimationFrame(pin);
})();
"""


def overlay_script(frame_ms: float | None = None) -> str:
    """The overlay scripts, after a clock snapped to ``frame_ms`` frames (None: the page's own clock)."""
    files = resources.files(__package__)
    clock = FRAME_CLOCK % (repr(float(frame_ms)) if frame_ms else "0")
    return clock + "\n".join(files.joinpath(n).read_text(encoding="utf-8") for n in OVERLAY_SCRIPTS)


class PopupCatcher:
    """The tabs opened while :meth:`BrowserSession.popups` is active, in order."""

    def __init__(self, session: BrowserSession) -> None:
        self.session = session
        self.urls: list[str] = []
        self._pages: list[Page] = []
        self._arrived = asyncio.Event()

    def on_page(self, page: Page) -> None:
        self._pages.append(page)
        self._arrived.set()

    async def wait(self, timeout_s: float, cancel: CancelToken | None = None) -> tuple[Page, CDPSession]:
        """The first new tab, on the video clock and on its way to its real URL.  Waits in real
        time: opening a tab needs no page time, so the frame it appears at is the same in every
        render.  Raises TimeoutError when no tab opened."""
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout_s
        while not self._pages:
            if cancel is not None:
                cancel.raise_if_cancelled()
            if self.session.clock is not None:  # a bounded wait without frames is no stall
                self.session.clock.last_progress = time.monotonic()
            left = deadline - loop.time()
            if left <= 0:
                raise TimeoutError("a new tab to open")
            self._arrived.clear()
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._arrived.wait(), min(left, 0.1))
        page = self._pages[0]
        cdp = await self.session.adopt(page)
        if page.url.split("#", 1)[0] in self.urls:  # the placeholder: now load the real document, from inside
            # a reload (not location.replace, which would only scroll when the URL has a fragment)
            await page.evaluate("() => { window.__reelwrightOldDocument = true; location.reload(); }")
        return page, cdp


@dataclass
class BrowserSession:
    browser: Browser
    width: int
    height: int
    fps: int
    sink: FrameSink
    capture: bool = True
    cancel: CancelToken | None = None
    #: page pixels per CSS pixel; the page is laid out at width/dsf x height/dsf CSS px and captured
    #: at width x height
    device_scale_factor: float = 1.0
    #: a signed-in session (Playwright storage state, already rebased: see :mod:`.session`) and the asset
    #: it came from; a secret, never logged
    storage_state: dict[str, Any] | None = field(default=None, repr=False)
    session_asset: str | None = None
    #: builds the frame-exact clock instead of a plain :class:`VirtualClock` (a card preview's
    #: :class:`~app.core.capture.clock.FastForwardClock`); given the first tab's CDP session
    make_clock: Callable[[CDPSession], VirtualClock] | None = field(default=None, repr=False)

    #: a kept browser to take instead of launching one (card previews, see :mod:`.launch`)
    warm: WarmBrowser | None = field(default=None, repr=False)
    _launched: Launched | None = None
    #: the Playwright driver's pid when it was started in its own session (None: it was not)
    driver_pid: int | None = None
    #: navigations refused by the URL policy during this session: url -> why
    blocked: dict[str, str] = field(default_factory=dict)
    _browser: PWBrowser | None = None
    context: BrowserContext | None = None
    page: Page | None = None
    cdp: CDPSession | None = None
    clock: Clock | None = None
    #: every tab the session films or has filmed, with its CDP session (the first page first)
    cdps: dict[Page, CDPSession] = field(default_factory=dict)
    #: called with every tab opened after the first one, once it is on the clock (e.g. to answer its
    #: dialogs); the first page is ``self.page``
    tab_hooks: list[Callable[[Page], None]] = field(default_factory=list)
    _watchdogs: list[Watchdog] = field(default_factory=list)
    #: a CDP session with the browser itself (see :meth:`tab_targets`), opened when first needed
    _browser_cdp: CDPSession | None = None
    _context_id: str | None = None

    @property
    def css_viewport(self) -> tuple[int, int]:
        return round(self.width / self.device_scale_factor), round(self.height / self.device_scale_factor)

    @property
    def frame_exact(self) -> bool:
        return self.browser.kind == "headless-shell"

    def launch_args(self) -> tuple[str, ...]:
        """The browser's command-line flags for this session."""
        css_w, css_h = self.css_viewport
        args = [*chromium_args(), f"--window-size={css_w},{css_h}"]
        if self.frame_exact:
            args.append("--deterministic-mode")
        if self.device_scale_factor != 1:
            # the context's emulated scale lays the page out, but only a real device scale makes the
            # compositor (and so beginFrame's screenshot) draw at full resolution
            args.append(f"--force-device-scale-factor={self.device_scale_factor:g}")
        return tuple(args)

    async def start(self) -> BrowserSession:
        css_w, css_h = self.css_viewport
        args = self.launch_args()
        if self.warm is not None and self.frame_exact:
            self._launched = await self.warm.take(self.browser, args)
        else:
            self._launched = await Launched.launch(self.browser, args)
        self._browser = self._launched.pw_browser
        self.driver_pid = self._launched.driver_pid
        try:
            self.context = await self._browser.new_context(
                viewport={"width": css_w, "height": css_h},
                device_scale_factor=self.device_scale_factor,
                locale="en-US",
                timezone_id="UTC",
                color_scheme="light",
                reduced_motion="no-preference",
                accept_downloads=True,  # each download is deleted as soon as it is seen (see .downloads)
                service_workers="block",
                storage_state=self.storage_state,  # type: ignore[arg-type]
            )
        except PlaywrightError as exc:
            await self.close()
            if self.storage_state is None:
                raise
            # Playwright names the bad field (cookies[0].sameSite ...), never a value
            raise RenderError(f"the session in {self.session_asset} could not be loaded into the browser: "
                              f"{str(exc).splitlines()[0]}", hint="record the session again") from None
        await self.context.add_init_script(overlay_script(1000.0 / self.fps if self.frame_exact else None))
        self.page = await self.context.new_page()
        self.cdp = await self.context.new_cdp_session(self.page)
        self.blocked = {}
        await self._guard_navigations(self.cdp)
        self.cdps = {self.page: self.cdp}
        if self.frame_exact and self.make_clock is not None:
            self.clock = self.make_clock(self.cdp)
        elif self.frame_exact:
            self.clock = VirtualClock(self.cdp, self.fps, self.sink, capture=self.capture, cancel=self.cancel)
        else:
            self.clock = RealtimeClock(self.cdp, self.fps, self.sink, width=self.width, height=self.height,
                                       capture=self.capture, cancel=self.cancel)
        return self

    # ------------------------------------------------------------------ more tabs

    async def adopt(self, page: Page) -> CDPSession:
        """Put a new tab on the session: its CDP session, the navigation guard, the video clock
        (paused virtual time from now on) and the watchdog.  Idempotent."""
        if page in self.cdps:
            return self.cdps[page]
        assert self.context is not None and self.clock is not None
        cdp = await self.context.new_cdp_session(page)
        await self._guard_navigations(cdp)
        await self.clock.add_page(cdp)
        self.cdps[page] = cdp
        clock = self.clock
        page.on("close", lambda _: clock.remove_page(cdp))
        for w in self._watchdogs:
            w.watch_page(page)
        for hook in self.tab_hooks:
            hook(page)
        return cdp

    async def new_page(self) -> tuple[Page, CDPSession]:
        """An empty tab (``context.new_page()``) on the video clock."""
        assert self.context is not None
        page = await self.context.new_page()
        return page, await self.adopt(page)

    async def tab_targets(self) -> dict[str, str]:
        """This context's tabs as the browser itself lists them: target id -> title (or URL).

        The browser knows a tab as soon as a page opens it: a ``target=_blank`` click or
        ``window.open`` creates the tab before the page's handler returns, so it is listed once the
        action that opened it is done.  Playwright reports the same tab only after its first document
        has committed (``context.pages``, the ``page`` event), in real time — under load, seconds
        later.  Asking the browser is how a step's new tabs are known without racing that."""
        assert self._browser is not None
        if self._browser_cdp is None:
            self._browser_cdp = await self._browser.new_browser_cdp_session()
        for cdp in self.cdps.values():  # any open tab of this session names its context
            if self._context_id is not None:
                break
            with contextlib.suppress(PlaywrightError):
                own = await cdp.send("Target.getTargetInfo")
                self._context_id = str(own["targetInfo"]["browserContextId"])
        listed = await self._browser_cdp.send("Target.getTargets")
        return {str(t["targetId"]): str(t.get("title") or t.get("url") or "") for t in listed["targetInfos"]
                if t.get("type") == "page" and t.get("browserContextId") == self._context_id}

    async def target_id(self, page: Page) -> str | None:
        """The browser's target id of ``page`` (None: it closed meanwhile)."""
        assert self.context is not None
        cdp = self.cdps.get(page)
        try:
            if cdp is not None:
                return str((await cdp.send("Target.getTargetInfo"))["targetInfo"]["targetId"])
            cdp = await self.context.new_cdp_session(page)
            try:
                return str((await cdp.send("Target.getTargetInfo"))["targetInfo"]["targetId"])
            finally:
                with contextlib.suppress(PlaywrightError):
                    await cdp.detach()
        except PlaywrightError:
            return None

    @contextlib.asynccontextmanager
    async def popups(self) -> Any:
        """While inside, tabs the page opens (a ``target=_blank`` link, ``window.open``) are caught
        before their document runs: yields a :class:`PopupCatcher`.

        Why a placeholder: Playwright reports a popup only once its first document has committed,
        and only then can it get a CDP session and be put on virtual time; by then the document's
        scripts would have run on the wall clock.  So the popup's first (GET) navigation is answered
        with an empty document; once the tab is on the virtual clock, :meth:`PopupCatcher.wait`
        reloads it from inside, which fetches the real document — loaded once, on the video's
        clock, like the first tab's pages (see ``Performer.navigate``)."""
        assert self.context is not None
        catcher = PopupCatcher(self)

        async def route(r: Route) -> None:
            req = r.request
            if req.resource_type == "document" and req.method == "GET":
                try:
                    req.frame  # noqa: B018 - raises for a navigation whose frame (a new tab) is not known yet
                except PlaywrightError:
                    reason = blocked_reason(req.url)
                    if reason is not None:  # the navigation guard, before the tab has its own
                        log.warning("blocked a new tab's navigation to %s: %s", req.url, reason)
                        self.blocked[req.url] = reason
                        await r.abort("blockedbyclient")
                        return
                    catcher.urls.append(req.url)
                    await r.fulfill(status=200, content_type="text/html", body=_PLACEHOLDER)
                    return
            await r.fallback()

        self.context.on("page", catcher.on_page)
        await self.context.route("**/*", route)
        try:
            yield catcher
        finally:
            self.context.remove_listener("page", catcher.on_page)
            with contextlib.suppress(PlaywrightError):
                await self.context.unroute("**/*", route)

    async def _guard_navigations(self, cdp: CDPSession) -> None:
        """Refuse every navigation (the script's ``goto`` and any the page makes: links, redirects,
        ``location.href``, frames) to a link-local or cloud-metadata address, by the same policy the
        script validator uses (:func:`app.core.urlpolicy.blocked_reason`).  Only documents are paused
        on their way out — subresources go straight through — so the cost is one round trip per page."""

        def paused(event: dict[str, Any]) -> None:
            url = str(event.get("request", {}).get("url", ""))
            reason = blocked_reason(url)
            if reason is None:
                reply = cdp.send("Fetch.continueRequest", {"requestId": event["requestId"]})
            else:
                log.warning("blocked a navigation to %s: %s", url, reason)
                self.blocked[url] = reason
                reply = cdp.send("Fetch.failRequest", {"requestId": event["requestId"],
                                                        "errorReason": "BlockedByClient"})
            task = asyncio.ensure_future(reply)
            # the page may be gone by the time the reply is sent (a closing browser): nothing to do then
            task.add_done_callback(lambda t: None if t.cancelled() else t.exception())

        cdp.on("Fetch.requestPaused", paused)
        await cdp.send("Fetch.enable", {"patterns": [{"urlPattern": "*", "resourceType": "Document",
                                                      "requestStage": "Request"}]})

    async def start_clock(self) -> Clock:
        """Start video time now.  Call it right before the first frame: virtual time is paused from
        this moment, and any real time that passes between pausing and the first frame (voicing,
        say) would otherwise leak into the page's clocks and make renders differ."""
        assert self.clock is not None
        await self.clock.start()  # type: ignore[attr-defined]
        return self.clock

    def watchdog(self, where: Callable[[], Where] | None = None, *, error_dir: Path | None = None,
                 error_name: str = "render", stall_s: float | None = None) -> Watchdog:
        """A watchdog over this session's clock, browser, page and driver (see :mod:`.watchdog`)."""
        assert self.clock is not None
        w = Watchdog(self.clock, browser=self._browser, page=self.page, where=where, stall_s=stall_s,
                     error_dir=error_dir, error_name=error_name, cancel=self.cancel)
        for page in self.cdps:
            if page is not self.page:
                w.watch_page(page)
        self._watchdogs.append(w)
        return w

    async def close(self) -> None:
        """Close the page, the browser and the driver; kill them if that takes over a second.

        A hung browser (a stalled renderer, a stopped process) never answers ``close``, and a cancel
        must still end: after :data:`CLOSE_TIMEOUT_S` the driver and everything it started are
        killed (they are in their own sessions, so nothing else is hit).  A browser taken from a
        :class:`WarmBrowser` is given back once this session's context is closed, or killed when
        the context will not close in time.
        """
        if isinstance(self.clock, RealtimeClock):
            with contextlib.suppress(Exception):
                await asyncio.wait_for(self.clock.stop(), CLOSE_TIMEOUT_S)
        browser_cdp, self._browser_cdp, self._context_id = self._browser_cdp, None, None
        if browser_cdp is not None and self.warm is not None:  # a warm browser outlives this session
            with contextlib.suppress(Exception):
                await asyncio.wait_for(browser_cdp.detach(), CLOSE_TIMEOUT_S)
        launched, self._launched = self._launched, None
        context, self.context = self.context, None
        self._browser = None
        if launched is None:
            return
        if self.warm is not None and self.frame_exact:
            if launched.alive:
                try:
                    if context is not None:
                        await asyncio.wait_for(context.close(), CLOSE_TIMEOUT_S)
                except Exception as exc:  # noqa: BLE001 - a timeout or a dead connection: not reusable
                    log.warning("the preview's browser context did not close (%s); closing the browser",
                                type(exc).__name__)
                else:
                    await self.warm.give_back(launched)
                    return
            await self.warm.drop(launched)
            return
        await launched.close()

    async def __aenter__(self) -> BrowserSession:
        return await self.start()

    async def __aexit__(self, *exc: Any) -> None:
        await self.close()
