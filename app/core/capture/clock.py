"""Video clocks: they advance the page's time one frame at a time and hand each frame to a sink.

:class:`VirtualClock` is the primary path (``chromium-headless-shell`` with ``--deterministic-mode``):
virtual time is paused, and for every frame we grant the page exactly one frame interval of virtual
time, then ask the compositor for a frame with ``HeadlessExperimental.beginFrame``.  Timers, rAF and
CSS animations therefore run on the video's clock: a slow machine renders more slowly, never wrongly.
A frame without damage costs no screenshot; the previous image is reused.

:class:`RealtimeClock` is the fallback for a full Chromium without begin-frame control: it paces
itself on the wall clock and samples the page's screencast.  It is honest about being real time.
"""

from __future__ import annotations

import asyncio
import base64
import contextlib
import time
from collections.abc import Awaitable, Callable
from typing import Any, Protocol, TypeVar

from playwright.async_api import CDPSession
from playwright.async_api import Error as PlaywrightError

from ..infra.progress import CancelToken

T = TypeVar("T")


class FrameSink(Protocol):
    async def write(self, jpeg: bytes) -> None: ...


class NullSink:
    """Swallows frames: used by ``--check`` runs."""

    async def write(self, jpeg: bytes) -> None:
        return None


class Clock:
    """What the performer needs of a clock; both clocks implement it."""

    fps: int
    frame: int
    capture: bool
    mode: str
    on_frame: Callable[[int], None] | None = None
    #: ``time.monotonic()`` when the last frame was done: the watchdog's only per-frame cost
    last_progress: float = 0.0
    #: set while a native dialog is answered and drawn (see :mod:`.dialogs`): no frame is drawn until it
    #: is done, so the page's reaction to the answer never shows before the drawn dialog covers it
    hold: asyncio.Future[None] | None = None

    @property
    def now(self) -> float:
        """Video time of the next frame, in seconds."""
        return self.frame / self.fps

    async def step(self, n: int = 1) -> None:
        raise NotImplementedError

    async def advance_to(self, t: float) -> None:
        """Emit frames until the video reaches time ``t`` (never goes back)."""
        target = round(t * self.fps)
        if target > self.frame:
            await self.step(target - self.frame)

    _last: bytes | None = None

    async def last_frame(self) -> bytes | None:
        return self._last

    async def snapshot(self) -> bytes | None:
        """A fresh image of the page as it is now (for error screenshots); the last frame here."""
        return self._last

    def _frame_done(self) -> None:
        self.frame += 1
        self.last_progress = time.monotonic()
        if self.on_frame is not None:
            self.on_frame(self.frame)

    async def until(self, probe: Callable[[], Awaitable[T | None]], timeout_s: float, what: str) -> T:
        """Check ``probe`` between frames (the page is frozen while it runs) until it returns a
        value that is not None; a frame passes between checks.  Raises TimeoutError after
        ``timeout_s`` of video time."""
        deadline = self.frame + max(1, round(timeout_s * self.fps))
        while True:
            value = await probe()
            if value is not None:
                return value
            if self.frame >= deadline:
                raise TimeoutError(what)
            await self.step()

    async def after_input(self) -> None:
        """Called right after trusted input is queued, before the next frame (see VirtualClock)."""
        return None

    async def run(self, coro: Awaitable[T], timeout_s: float, what: str) -> T:
        """Run a Playwright call that needs the page to make progress (a navigation), stepping
        frames until it completes."""
        task: asyncio.Future[T] = asyncio.ensure_future(coro)
        deadline = self.frame + max(1, round(timeout_s * self.fps))
        try:
            for _ in range(3):  # let the request reach the browser before time moves
                await asyncio.sleep(0)
            while not task.done():
                if self.frame >= deadline:
                    raise TimeoutError(what)
                await self.step()
                await asyncio.sleep(0)
            return task.result()
        finally:
            if not task.done():
                task.cancel()
                with contextlib.suppress(BaseException):
                    await task


class VirtualClock(Clock):
    mode = "frame-exact"

    def __init__(self, cdp: CDPSession, fps: int, sink: FrameSink, *, capture: bool = True,
                 cancel: CancelToken | None = None, jpeg_quality: int = 90,
                 initial_wall_time: float | None = None) -> None:
        self.cdp = cdp
        # Date.now() in the page starts here and runs on the video's clock.  Default: 09:00 UTC
        # today, so dates on the page are current but two renders on one day are identical.
        self.initial_wall_time = initial_wall_time if initial_wall_time is not None else (
            (time.time() // 86400) * 86400 + 9 * 3600)
        self.fps = fps
        self.sink = sink
        self.capture = capture
        self.cancel = cancel
        self.quality = jpeg_quality
        self.frame = 0
        self.interval_ms = 1000.0 / fps
        self._expired = asyncio.Event()
        self._last: bytes | None = None
        self._base_ms = 0.0
        self._last_ticks = float("-inf")  # the last frame time issued (they must only go forward)
        self.screenshots = 0
        self.reused = 0
        self._changing = False
        cdp.on("Emulation.virtualTimeBudgetExpired", self._on_expired)

    def _on_expired(self, _: Any) -> None:
        self._expired.set()

    async def start(self) -> None:
        reply = await self.cdp.send("Emulation.setVirtualTimePolicy",
                                    {"policy": "pause", "initialVirtualTime": self.initial_wall_time})
        # Frame times are placed on the virtual clock's own base (Chromium's uptime when virtual
        # time began), so the animation clock, like performance.now(), depends only on the frame
        # index.  A frame time behind the virtual clock would freeze CSS animations.
        self._base_ms = float(reply["virtualTimeTicksBase"])

    def _frame_time(self, index: int, extra_ms: float = 0.0) -> float:
        # Frame i is drawn after i+1 budgets of virtual time, so its time is base + (i+1) intervals.
        # The offset is snapped to a 100 µs grid and nudged up by 0.1 µs because Chromium truncates
        # to whole microseconds; otherwise float noise makes animations jitter between renders.
        offset = round(((index + 1) * self.interval_ms + extra_ms) * 10) / 10
        return self._base_ms + offset + 0.0001

    async def _budget(self) -> None:
        self._expired.clear()
        await self.cdp.send("Emulation.setVirtualTimePolicy",
                            {"policy": "pauseIfNetworkFetchesPending", "budget": self.interval_ms})
        await self._expired.wait()

    async def _begin_frame(self, index: int, screenshot: bool, extra_ms: float = 0.0) -> dict[str, Any]:
        # Frame times must only go forward: a frame older than the last one issued is never answered
        # (seen after a snapshot, which draws 0.2 ms into the next slot, followed by input's frame).
        # Moving it 0.1 ms past the last keeps it on the grid, and as reproducible as the order of calls.
        ticks = max(self._frame_time(index, extra_ms), self._last_ticks + 0.1)
        self._last_ticks = ticks
        params: dict[str, Any] = {"frameTimeTicks": ticks, "interval": self.interval_ms}
        if screenshot:
            params["screenshot"] = {"format": "jpeg", "quality": self.quality}
        return await self.cdp.send("HeadlessExperimental.beginFrame", params)

    async def _flush(self, extra_ms: float = 0.1) -> None:
        """A screenshot forces a full redraw, which makes the *next* frame report damage even on a
        still page; a pixel-less frame right after absorbs that, so still pages stay free."""
        await self._begin_frame(self.frame, screenshot=False, extra_ms=extra_ms)

    async def after_input(self) -> None:
        """Give the renderer the frame that ends its input response, before the next budget.

        Why: after a click or key press, Blink's scheduler holds back loading tasks until the next
        frame is drawn (it favours the input's visual response), and it measures that wait on the
        page's clock, which is virtual and stands still.  If the input handler starts a fetch (a
        web font first used by a toast, an image, ``fetch()``), ``pauseIfNetworkFetchesPending``
        stops virtual time until the fetch is done, the fetch waits for a frame, and the frame
        waits for the budget to expire: nothing moves, for ever.  (The 1080x1920 quickstart hung on
        "Save changes": its toast is the settings page's first text in Inter medium at the
        540-px layout, whose nav labels are hidden, so the click fetched a font.)  A
        pixel-less frame right after the input — 0.3 ms after the last one, so every render issues
        it at the same time — ends the input response and lets the fetch finish in virtual time.
        """
        if self.frame == 0:
            return
        await self._begin_frame(self.frame - 1, screenshot=False, extra_ms=0.3)
        # that frame drew the input's effect (a pressed button, a typed letter): the next frame
        # may then report no damage, so take its pixels instead of trusting the probe
        self._changing = True

    async def step(self, n: int = 1) -> None:
        for _ in range(n):
            if self.cancel is not None:
                self.cancel.raise_if_cancelled()
            await self._budget()
            if self.hold is not None:
                await self.hold
            if self.capture and self._changing:
                # The page changed in the last frame, so it probably changes in this one (cursor
                # glides, typing, transitions): ask for pixels straight away, and go back to cheap
                # probing as soon as a frame comes back identical.
                shot = await self._begin_frame(self.frame, screenshot=True)
                data = shot.get("screenshotData")
                image = base64.b64decode(data) if data else self._last
                self._changing = image != self._last
                if not self._changing:
                    await self._flush()  # the next frame is probed: absorb the screenshot's redraw
                self._last = image
                self.screenshots += 1
            else:
                probe = await self._begin_frame(self.frame, screenshot=False)
                if self.capture and (probe.get("hasDamage") or self._last is None):
                    # Something changed: draw it again, this time with pixels (0.1 ms later, a
                    # fixed offset, so renders stay identical).
                    shot = await self._begin_frame(self.frame, screenshot=True, extra_ms=0.1)
                    await self._flush(extra_ms=0.2)
                    data = shot.get("screenshotData")
                    if data:
                        self._last = base64.b64decode(data)
                        self._changing = True
                        self.screenshots += 1
                    else:  # the first frames after a navigation may have no image yet
                        self.reused += 1
                else:
                    self.reused += 1
            if self.capture and self._last is not None:
                await self.sink.write(self._last)
            self._frame_done()

    async def snapshot(self) -> bytes | None:
        """A fresh image of the page as it is now (for error screenshots)."""
        with contextlib.suppress(PlaywrightError):
            shot = await self._begin_frame(self.frame, screenshot=True, extra_ms=0.2)
            data = shot.get("screenshotData")
            if data:
                return base64.b64decode(data)
        return self._last


class RealtimeClock(Clock):
    """Fallback for browsers without begin-frame control: frames sampled from the screencast on the
    wall clock.  Timing is as good as the machine is fast; renders are not bit-identical."""

    mode = "realtime"

    def __init__(self, cdp: CDPSession, fps: int, sink: FrameSink, *, width: int, height: int,
                 capture: bool = True, cancel: CancelToken | None = None, jpeg_quality: int = 90) -> None:
        self.cdp = cdp
        self.fps = fps
        self.sink = sink
        self.capture = capture
        self.cancel = cancel
        self.quality = jpeg_quality
        self.width = width
        self.height = height
        self.frame = 0
        self._t0 = 0.0
        self._last: bytes | None = None
        self.late_frames = 0
        self._acks: set[asyncio.Future[Any]] = set()
        self.screenshots = 0
        self.reused = 0
        cdp.on("Page.screencastFrame", self._on_frame)

    def _on_frame(self, params: dict[str, Any]) -> None:
        self._last = base64.b64decode(params["data"])
        self.screenshots += 1
        ack = asyncio.ensure_future(self.cdp.send("Page.screencastFrameAck", {"sessionId": params["sessionId"]}))
        self._acks.add(ack)
        ack.add_done_callback(self._acks.discard)

    async def start(self) -> None:
        if self.capture:
            await self.cdp.send("Page.startScreencast", {"format": "jpeg", "quality": self.quality,
                                                         "maxWidth": self.width, "maxHeight": self.height,
                                                         "everyNthFrame": 1})
        self._t0 = time.monotonic()

    async def stop(self) -> None:
        if self.capture:
            with contextlib.suppress(Exception):
                await self.cdp.send("Page.stopScreencast")

    async def step(self, n: int = 1) -> None:
        for _ in range(n):
            if self.cancel is not None:
                self.cancel.raise_if_cancelled()
            due = self._t0 + (self.frame + 1) / self.fps
            delay = due - time.monotonic()
            if delay > 0:
                await asyncio.sleep(delay)
            elif delay < -1.0 / self.fps:
                self.late_frames += 1
            if self.capture:
                if self._last is None:  # the screencast has not delivered its first frame yet
                    self._last = await self.snapshot()
                if self._last is not None:
                    await self.sink.write(self._last)
            self._frame_done()

    async def snapshot(self) -> bytes | None:
        with contextlib.suppress(PlaywrightError):
            shot = await self.cdp.send("Page.captureScreenshot", {"format": "jpeg", "quality": 85})
            return base64.b64decode(shot["data"])
        return self._last


__all__ = ["Clock", "FrameSink", "NullSink", "RealtimeClock", "VirtualClock"]
