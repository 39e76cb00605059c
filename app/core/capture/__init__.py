"""Perform + capture: one Chromium session replays the script on the video clock.

:class:`BrowserSession` launches the browser (frame-exact on a headless shell, real time otherwise),
injects the overlay, and builds the right :class:`~app.core.capture.clock.Clock`.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from importlib import resources
from pathlib import Path
from typing import Any

from playwright.async_api import Browser as PWBrowser
from playwright.async_api import BrowserContext, CDPSession, Page, Playwright, async_playwright
from playwright.async_api import Error as PlaywrightError

from ..errors import ToolMissingError
from ..infra.progress import CancelToken
from ..infra.tools import CHROMIUM_ARGS, Browser
from .clock import Clock, FrameSink, NullSink, RealtimeClock, VirtualClock
from .watchdog import Watchdog, Where

__all__ = ["BrowserSession", "Clock", "FrameSink", "NullSink", "Watchdog", "Where", "overlay_script"]


#: real seconds each step of closing the browser may take
CLOSE_TIMEOUT_S = 2.0


async def _bounded(work: Awaitable[Any], timeout_s: float) -> None:
    with contextlib.suppress(Exception, asyncio.TimeoutError):
        await asyncio.wait_for(work, timeout_s)


def _retrieve_driver_error(manager: Any) -> None:
    """A driver that died leaves its transport's error future set and never read, which asyncio
    logs as "Future exception was never retrieved" under the render's own clear error: read it."""
    transport = getattr(getattr(manager, "_client", None), "_transport", None)
    fut = getattr(transport, "on_error_future", None)
    if isinstance(fut, asyncio.Future) and fut.done() and not fut.cancelled():
        fut.exception()


def overlay_script() -> str:
    return resources.files(__package__).joinpath("overlay.js").read_text(encoding="utf-8")


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

    _pw: Playwright | None = None
    _pw_manager: Any = None
    _browser: PWBrowser | None = None
    context: BrowserContext | None = None
    page: Page | None = None
    cdp: CDPSession | None = None
    clock: Clock | None = None

    @property
    def css_viewport(self) -> tuple[int, int]:
        return round(self.width / self.device_scale_factor), round(self.height / self.device_scale_factor)

    @property
    def frame_exact(self) -> bool:
        return self.browser.kind == "headless-shell"

    async def start(self) -> BrowserSession:
        css_w, css_h = self.css_viewport
        args = [*CHROMIUM_ARGS, f"--window-size={css_w},{css_h}"]
        if self.frame_exact:
            args.append("--deterministic-mode")
        if self.device_scale_factor != 1:
            # the context's emulated scale lays the page out, but only a real device scale makes the
            # compositor (and so beginFrame's screenshot) draw at full resolution
            args.append(f"--force-device-scale-factor={self.device_scale_factor:g}")
        self._pw_manager = async_playwright()
        self._pw = await self._pw_manager.start()
        try:
            self._browser = await self._pw.chromium.launch(
                executable_path=str(self.browser.path), args=args, headless=True, timeout=60_000)
        except PlaywrightError as exc:
            await self.close()
            raise ToolMissingError(
                f"could not start the browser at {self.browser.path}: {str(exc).splitlines()[0]}",
                hint="install Debian's chromium-headless-shell, or set REELWRIGHT_CHROMIUM") from None
        self.context = await self._browser.new_context(
            viewport={"width": css_w, "height": css_h},
            device_scale_factor=self.device_scale_factor,
            locale="en-US",
            timezone_id="UTC",
            color_scheme="light",
            reduced_motion="no-preference",
            accept_downloads=False,
            service_workers="block",
        )
        await self.context.add_init_script(overlay_script())
        self.page = await self.context.new_page()
        self.cdp = await self.context.new_cdp_session(self.page)
        if self.frame_exact:
            self.clock = VirtualClock(self.cdp, self.fps, self.sink, capture=self.capture, cancel=self.cancel)
        else:
            self.clock = RealtimeClock(self.cdp, self.fps, self.sink, width=self.width, height=self.height,
                                       capture=self.capture, cancel=self.cancel)
        return self

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
        return Watchdog(self.clock, browser=self._browser, page=self.page, where=where, stall_s=stall_s,
                        error_dir=error_dir, error_name=error_name, cancel=self.cancel)

    async def close(self) -> None:
        """Close the browser and stop the driver, each bounded in real time: a dead or hung
        browser must not hold up the end of a failed render."""
        if isinstance(self.clock, RealtimeClock):
            await _bounded(self.clock.stop(), CLOSE_TIMEOUT_S)
        if self._browser is not None and self._browser.is_connected():
            # closing the browser closes its contexts; a crashed one is skipped (it would only time out)
            await _bounded(self._browser.close(), CLOSE_TIMEOUT_S)
        if self._pw is not None:
            await _bounded(self._pw.stop(), CLOSE_TIMEOUT_S)
        _retrieve_driver_error(self._pw_manager)
        self.context = None
        self._browser = None
        self._pw = None

    async def __aenter__(self) -> BrowserSession:
        return await self.start()

    async def __aexit__(self, *exc: Any) -> None:
        await self.close()
