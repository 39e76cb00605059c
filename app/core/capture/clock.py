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
import io
import os
import time
from collections import deque
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol, TypeVar

from playwright.async_api import CDPSession
from playwright.async_api import Error as PlaywrightError

from ..infra.progress import CancelToken
from .encoder import FfmpegSink
from .postcam import EaseFilm

#: ``REELWRIGHT_LIVE_CAMERA=1`` films every camera ease live, frame by frame (the way before
#: :mod:`.postcam`; ``make bench`` measures both)
LIVE_CAMERA = os.environ.get("REELWRIGHT_LIVE_CAMERA", "") not in ("", "0")
#: at most this many captured frames wait for an ease's last frames (≈ 5-10 MB of JPEG at 720p)
MAX_QUEUED_FRAMES = 60

T = TypeVar("T")


class FrameSink(Protocol):
    async def write(self, jpeg: bytes) -> None: ...


class NullSink:
    """Swallows frames: used by ``--check`` runs."""

    async def write(self, jpeg: bytes) -> None:
        return None


#: how long a "slide" tab transition takes
SLIDE_S = 0.3


def slide_frame(old: bytes, new: bytes, progress: float, quality: int = 90) -> bytes:
    """One frame of a tab slide: the old tab's last frame moves out to the left while the new tab
    comes in from the right (eased; pure function of its inputs, so renders stay identical).

    Needs Pillow, which a source install has; the packaged app leaves it out (its size budget), and
    there a slide is a cut: the new tab's frame."""
    try:
        from PIL import Image
    except ImportError:
        return new

    e = progress * progress * (3 - 2 * progress)
    a = Image.open(io.BytesIO(old)).convert("RGB")
    b = Image.open(io.BytesIO(new)).convert("RGB")
    if b.size != a.size:
        b = b.resize(a.size)
    w, _ = a.size
    dx = round(w * e)
    out = Image.new("RGB", a.size)
    out.paste(a, (-dx, 0))
    out.paste(b, (w - dx, 0))
    buf = io.BytesIO()
    out.save(buf, format="JPEG", quality=quality)
    return buf.getvalue()


class Clock:
    """What the performer needs of a clock; both clocks implement it.

    A clock films one tab at a time (:meth:`show`); every tab it was given (:meth:`add_page`) lives
    on the same video time."""

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

    #: a running slide: (the old tab's last frame, the first frame of the slide, its length in frames)
    _slide: tuple[bytes, int, int] | None = None

    async def step(self, n: int = 1) -> None:
        raise NotImplementedError

    async def add_page(self, cdp: CDPSession) -> None:
        """Put another tab on this clock (before its document runs any script)."""
        return None

    def remove_page(self, cdp: CDPSession) -> None:
        """A tab closed: stop giving it time (never waits on it again)."""
        return None

    def show(self, cdp: CDPSession, *, slide: bool = False) -> None:
        """Film this tab from the next frame on (a cut, or a short slide from the last frame)."""
        raise NotImplementedError

    def _start_slide(self, slide: bool) -> None:
        self._slide = (self._last, self.frame, max(1, round(SLIDE_S * self.fps))) \
            if slide and self._last is not None else None

    def _framed(self, image: bytes) -> bytes:
        """The image to write for the current frame: the tab's own, or a slide between two tabs."""
        if self._slide is None:
            return image
        old, first, n = self._slide
        i = self.frame - first + 1
        if i >= n:
            self._slide = None
            return image
        return slide_frame(old, image, i / n)

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


@dataclass
class _Tab:
    """A tab on the virtual clock: its own CDP session, virtual-time base and frame times."""

    cdp: CDPSession
    #: the video frame at which the tab's virtual time started
    start_frame: int
    base_ms: float = 0.0
    last_ticks: float = float("-inf")  # the last frame time issued (they must only go forward)
    expired: asyncio.Event = field(default_factory=asyncio.Event)
    closed: bool = False


class VirtualClock(Clock):
    mode = "frame-exact"
    #: encode screenshots for speed rather than size (a preview's frames live a few seconds)
    jpeg_for_speed = False
    #: frames run the page (timers, rAF, layout, animations) but draw nothing (a preview's replay)
    no_display_updates = False

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
        self._last: bytes | None = None
        self.screenshots = 0
        self.reused = 0
        self._changing = False
        self._tab = _Tab(cdp, 0)
        self._tabs: list[_Tab] = [self._tab]
        #: the video encoder's ffmpeg, which also makes camera eases after capture (None: a check run)
        self.ffmpeg: Path | None = sink.ffmpeg if isinstance(sink, FfmpegSink) else None
        self._film: EaseFilm | None = None
        self._film_from = 0
        #: an ease whose last frames are still being made, and the frames captured since
        self._pending: asyncio.Future[None] | None = None
        self._queued: deque[bytes] = deque()
        self._finishing: list[EaseFilm] = []
        self._listen(self._tab)
        if cancel is not None:
            # a budget that never expires (a tab holding a request open) must not hold up a cancel
            cancel.on_cancel(self._wake)

    def _wake(self) -> None:
        for tab in self._tabs:
            tab.expired.set()

    @staticmethod
    def _listen(tab: _Tab) -> None:
        tab.cdp.on("Emulation.virtualTimeBudgetExpired", lambda _: tab.expired.set())

    async def _pause(self, tab: _Tab) -> None:
        # Date.now() of a tab opened later starts where the first tab's is now: one clock for all
        wall = self.initial_wall_time + tab.start_frame / self.fps
        reply = await tab.cdp.send("Emulation.setVirtualTimePolicy",
                                   {"policy": "pause", "initialVirtualTime": wall})
        # Frame times are placed on the virtual clock's own base (Chromium's uptime when virtual
        # time began), so the animation clock, like performance.now(), depends only on the frame
        # index.  A frame time behind the virtual clock would freeze CSS animations.
        tab.base_ms = float(reply["virtualTimeTicksBase"])

    async def start(self) -> None:
        await self._pause(self._tab)

    async def add_page(self, cdp: CDPSession) -> None:
        tab = _Tab(cdp, self.frame)
        self._listen(tab)
        await self._pause(tab)
        self._tabs.append(tab)

    def remove_page(self, cdp: CDPSession) -> None:
        for tab in self._tabs:
            if tab.cdp is cdp:
                tab.closed = True
                tab.expired.set()  # a budget waiting on it ends now
        self._tabs = [t for t in self._tabs if not t.closed]

    def show(self, cdp: CDPSession, *, slide: bool = False) -> None:
        tab = next((t for t in self._tabs if t.cdp is cdp), None)
        if tab is None:
            raise RuntimeError("show(): that tab is not on this clock")
        if tab is self._tab:
            return
        self._start_slide(slide)
        self._tab = tab
        self.cdp = cdp
        self._changing = True  # the next frame is the new tab's: take its pixels

    def _frame_time(self, index: int, extra_ms: float = 0.0) -> float:
        # Frame i is drawn after i+1 budgets of virtual time, so its time is base + (i+1) intervals
        # (counted from the frame the tab joined the clock).
        # The offset is snapped to a 100 µs grid and nudged up by 0.1 µs because Chromium truncates
        # to whole microseconds; otherwise float noise makes animations jitter between renders.
        tab = self._tab
        offset = round(((index - tab.start_frame + 1) * self.interval_ms + extra_ms) * 10) / 10
        return tab.base_ms + offset + 0.0001

    async def _budget(self, frames: int = 1) -> None:
        """``frames`` frame intervals of virtual time for every open tab (the filmed one and the others)."""
        budget_ms = self.interval_ms * frames
        tabs = list(self._tabs)
        for tab in tabs:
            tab.expired.clear()

        async def grant(tab: _Tab) -> None:
            try:
                await tab.cdp.send("Emulation.setVirtualTimePolicy",
                                   {"policy": "pauseIfNetworkFetchesPending", "budget": budget_ms})
            except PlaywrightError:
                if tab is self._tab and not tab.closed:
                    raise
                self.remove_page(tab.cdp)  # a background tab that closed meanwhile
                return
            await tab.expired.wait()

        if len(tabs) == 1:
            await grant(tabs[0])
        else:
            await asyncio.gather(*(grant(t) for t in tabs))
        if self.cancel is not None:
            self.cancel.raise_if_cancelled()

    async def _begin_frame(self, index: int, screenshot: bool, extra_ms: float = 0.0) -> dict[str, Any]:
        # Frame times must only go forward: a frame older than the last one issued is never answered
        # (seen after a snapshot, which draws 0.2 ms into the next slot, followed by input's frame).
        # Moving it 0.1 ms past the last keeps it on the grid, and as reproducible as the order of calls.
        ticks = max(self._frame_time(index, extra_ms), self._tab.last_ticks + 0.1)
        self._tab.last_ticks = ticks
        params: dict[str, Any] = {"frameTimeTicks": ticks, "interval": self.interval_ms}
        if self.no_display_updates and not screenshot:
            params["noDisplayUpdates"] = True
        if screenshot:
            params["screenshot"] = {"format": "jpeg", "quality": self.quality}
            if self.jpeg_for_speed:
                params["screenshot"]["optimizeForSpeed"] = True
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
            if self._tab.closed:  # the filmed tab closed itself: hold its last frame until the flow moves on
                if self.capture and self._last is not None:
                    await self._emit(self._framed(self._last))
                self._frame_done()
                continue
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
                await self._emit(self._framed(self._last))
            self._frame_done()

    # ------------------------------------------------------------------ eases made after capture

    @property
    def films_camera_after(self) -> bool:
        """Whether camera eases can be made from 1x frames after capture (see :mod:`.postcam`)."""
        return self.ffmpeg is not None and not LIVE_CAMERA

    async def begin_film(self, film: EaseFilm, ease_start: int) -> None:
        """Send the frames from the next one on through ``film`` (one camera ease, which began
        at frame ``ease_start``), not the sink."""
        await self._settle()  # the previous ease's frames are all written first
        self._film = film
        self._film_from = ease_start
        self._changing = True  # the page was just put at 1x: take its pixels

    def end_film(self) -> None:
        """The ease is over.  Its last frames are made beside the capture that goes on: frames
        captured meanwhile wait (in order, a bounded number) until they are written."""
        film, self._film = self._film, None
        if film is not None:
            self._pending = asyncio.ensure_future(self._drain(film))
        self._changing = True  # the page is about to be put at the camera's target

    async def drain(self) -> None:
        """Every frame made so far is in the sink (the end of a capture)."""
        await self._settle()

    async def abort_film(self) -> None:
        """Stop any ease still being made (the capture failed or was cancelled)."""
        film, self._film = self._film, None
        pending, self._pending = self._pending, None
        self._queued.clear()
        if film is not None:
            await film.abort()
        if pending is not None:
            pending.cancel()
            with contextlib.suppress(BaseException):
                await pending
        for f in self._finishing:
            await f.abort()

    async def _drain(self, film: EaseFilm) -> None:
        self._finishing.append(film)
        try:
            await film.finish()
        finally:
            self._finishing.remove(film)
        while self._queued:
            await self.sink.write(self._queued.popleft())

    async def _settle(self) -> None:
        pending, self._pending = self._pending, None
        if pending is not None:
            await pending  # raises the ease's error, if it failed
            while self._queued:
                await self.sink.write(self._queued.popleft())

    async def _emit(self, image: bytes) -> None:
        if self._film is not None:
            await self._film.feed(image, self.frame - self._film_from)
        elif self._pending is not None and not self._pending.done() and len(self._queued) < MAX_QUEUED_FRAMES:
            self._queued.append(image)
        else:
            await self._settle()
            await self.sink.write(image)

    async def snapshot(self) -> bytes | None:
        """A fresh image of the page as it is now (for error screenshots)."""
        with contextlib.suppress(PlaywrightError):
            shot = await self._begin_frame(self.frame, screenshot=True, extra_ms=0.2)
            data = shot.get("screenshotData")
            if data:
                return base64.b64decode(data)
        return self._last


class FastForwardClock(VirtualClock):
    """A virtual clock that films only the frames ``[capture_from, capture_until)`` (a card preview)
    and gets to ``capture_from`` as fast as the page allows, yet with the page in the same state.
    Until the flow reaches the card, ``expected_from`` (kept up to date by the caller) says where
    the filmed frames will start.

    Before ``fast_until`` a run of frames with nothing between them (a hold, a cursor glide) is one
    budget of virtual time and one pixel-less frame at its end, instead of one of each per frame:
    timers, loads, ``performance.now()`` and time-based animations (CSS, the overlay's rAF easing)
    end where they would have.  What a run *does* shift is when an animation that starts inside it
    takes its start time (at the next frame), so a run is at most ``chunk_frames`` long and the
    last ``tail_frames`` before the captured card go frame by frame, pixel-less: any bounded
    animation started before them has finished by the card's first frame, as in the full render.
    Input, probes and anything that steps one frame are unchanged, so actions land on the same
    frames as in the full render.

    Frames before the tail are issued with ``noDisplayUpdates``: Blink runs timers, rAF, layout and
    animations but nothing is rasterised or composited.  That made the replay ~3.5x cheaper on the
    example (4.8 s of frame time instead of 20 s, under the same load) and the card's frames stay
    the same: the tail's frames are drawn normally, so the compositor has the page's real state by
    the card's first frame (tested on the clock page, whose endless CSS animation keeps its phase).
    """

    def __init__(self, cdp: CDPSession, fps: int, sink: FrameSink, *, expected_from: int,
                 chunk_frames: int = 15, tail_frames: int | None = None,
                 cancel: CancelToken | None = None, jpeg_quality: int = 90,
                 initial_wall_time: float | None = None) -> None:
        super().__init__(cdp, fps, sink, capture=False, cancel=cancel, jpeg_quality=jpeg_quality,
                         initial_wall_time=initial_wall_time)
        self.chunk_frames = max(1, chunk_frames)
        self.tail_frames = fps if tail_frames is None else max(0, tail_frames)
        #: the first filmed frame, once the flow has reached it (None: not yet)
        self.capture_from: int | None = None
        #: where the filmed frames are expected to start until then (the plan, then the live
        #: timeline's estimate): the tail is counted back from it
        self.expected_from = expected_from
        self.capture_until: int | None = None
        self.jpeg_for_speed = True
        #: issue the replay's frames (before the tail) without display updates
        self.skip_drawing = True
        #: frames issued in runs (one budget, one frame) and how many runs, for the bench
        self.skipped = 0
        self.runs = 0
        #: frames issued one by one while not filming (input, probes, the tail before the card)
        self.single = 0
        #: ``time.monotonic()`` when the first filmed frame was asked for (None: not yet)
        self.filming_since: float | None = None

    def set_capture_from(self, frame: int) -> None:
        """Film from ``frame`` on (the live card start, known when the flow reaches the card)."""
        self.capture_from = frame
        self._update_capture()

    @property
    def fast_until(self) -> int:
        start = self.capture_from if self.capture_from is not None else self.expected_from
        return start - self.tail_frames

    def _update_capture(self) -> None:
        self.capture = self.capture_from is not None and self.capture_from <= self.frame and (
            self.capture_until is None or self.frame < self.capture_until)
        if self.capture and self.filming_since is None:
            self.filming_since = time.monotonic()

    async def step(self, n: int = 1) -> None:
        while n > 0:
            self._update_capture()
            fast = not self.capture and (self.frame < self.fast_until or (
                self.capture_until is not None and self.frame >= self.capture_until))
            self.no_display_updates = self.skip_drawing and fast
            if fast and n > 1 and self.hold is None and not self._tab.closed:
                past = self.capture_until is not None and self.frame >= self.capture_until
                limit = n if past else min(n, self.fast_until - self.frame)
                k = min(limit, self.chunk_frames)
                if k > 1:
                    if self.cancel is not None:
                        self.cancel.raise_if_cancelled()
                    await self._budget(k)
                    await self._begin_frame(self.frame + k - 1, screenshot=False)
                    self.skipped += k
                    self.runs += 1
                    for _ in range(k):
                        self._frame_done()
                    n -= k
                    continue
            if not self.capture:
                self.single += 1
            await super().step(1)
            n -= 1
        self._update_capture()


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
        self._listen(cdp)

    def _listen(self, cdp: CDPSession) -> None:
        cdp.on("Page.screencastFrame", lambda params: self._on_frame(cdp, params))

    def _on_frame(self, cdp: CDPSession, params: dict[str, Any]) -> None:
        if cdp is self.cdp:  # a frame the previous tab sent before its screencast stopped is dropped
            self._last = base64.b64decode(params["data"])
            self.screenshots += 1
        ack = asyncio.ensure_future(cdp.send("Page.screencastFrameAck", {"sessionId": params["sessionId"]}))
        self._acks.add(ack)
        ack.add_done_callback(self._acks.discard)

    async def _screencast(self, cdp: CDPSession) -> None:
        await cdp.send("Page.startScreencast", {"format": "jpeg", "quality": self.quality,
                                                "maxWidth": self.width, "maxHeight": self.height,
                                                "everyNthFrame": 1})

    async def start(self) -> None:
        if self.capture:
            await self._screencast(self.cdp)
        self._t0 = time.monotonic()

    async def add_page(self, cdp: CDPSession) -> None:
        self._listen(cdp)

    def show(self, cdp: CDPSession, *, slide: bool = False) -> None:
        if cdp is self.cdp:
            return
        old, self.cdp = self.cdp, cdp
        self._start_slide(slide)
        if self.capture:
            async def switch() -> None:
                with contextlib.suppress(PlaywrightError):
                    await old.send("Page.stopScreencast")
                with contextlib.suppress(PlaywrightError):
                    await self._screencast(cdp)
            task = asyncio.ensure_future(switch())
            self._acks.add(task)
            task.add_done_callback(self._acks.discard)

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
                    await self.sink.write(self._framed(self._last))
            self._frame_done()

    async def snapshot(self) -> bytes | None:
        with contextlib.suppress(PlaywrightError):
            shot = await self.cdp.send("Page.captureScreenshot", {"format": "jpeg", "quality": 85})
            return base64.b64decode(shot["data"])
        return self._last


__all__ = ["Clock", "FastForwardClock", "FrameSink", "NullSink", "RealtimeClock", "VirtualClock"]
