"""Replays a script's actions in Chromium tabs on the video clock.

Every action is found through :data:`EXECUTORS` (a dispatch table keyed by action type).  Pointer
actions first ease the visible cursor to their target, then fire with trusted CDP input queued just
before the frame it must land in.  Everything that only *reads* the page (finding an element, its
box, whether it is visible) happens between frames, while the page is frozen, so the frame an action
lands in depends only on the script and the page — never on how fast this machine is.
"""

from __future__ import annotations

import asyncio
import contextlib
import fnmatch
import logging
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any
from urllib.parse import urljoin

from playwright.async_api import CDPSession, Page
from playwright.async_api import Error as PlaywrightError
from playwright.async_api import Locator as PWLocator

from ..bundle import Job
from ..errors import Cancelled, RenderError
from ..infra.progress import CancelToken
from ..keys import (
    KEYS,
    BadgePlatform,
    KeyboardState,
    badge_joiner,
    chord_caps,
    click_caps,
    host_badge_platform,
    host_is_mac,
)
from ..plan.camera import HOLD_AFTER_S, CameraMove, ease_s, fitted_scale, in_view
from ..plan.camera import plan_card as plan_camera_card
from ..plan.presets import cursor_scale_for, device_scale_for, viewport_size
from ..plan.timeline import CURSOR_TRAVEL_S, ZOOM_EASE_S, Scheduler, Timeline
from ..script import (
    FIRST_PAGE,
    Check,
    Click,
    ClosePage,
    DblClick,
    Fill,
    Goto,
    Highlight,
    Hover,
    Locator,
    NewPage,
    Press,
    Script,
    Scroll,
    Select,
    Settings,
    SwitchPage,
    TypeText,
    Uncheck,
    Upload,
    Wait,
    WaitFor,
    Zoom,
)
from ..urlpolicy import blocked_reason
from .clock import Clock, VirtualClock
from .dialogs import DialogDriver, dialog_executor
from .downloads import DownloadWatcher
from .postcam import CamState, Ease, EaseFilm, Sprite, cursor_sprite, jpeg_size
from .session import SignInCheck
from .steps import VIEWER_ACTIONS, StepBox, StepRecorder
from .watchdog import Where

log = logging.getLogger(__name__)

if TYPE_CHECKING:
    from . import BrowserSession, PopupCatcher

LOCATE_TIMEOUT_S = 10.0
#: real seconds a closing tab gets before frames are stepped for it (see Performer.close_tab)
CLOSE_TAB_REAL_S = 10.0
#: real seconds a popup may take to appear after the action that opens it
POPUP_TIMEOUT_S = 5.0
#: real seconds an error screenshot may take
SNAPSHOT_TIMEOUT_S = 1.0
#: real seconds to wait for the browser to acknowledge input before stepping video frames for it
#: (virtual time stands still meanwhile; see :meth:`Performer.send_input`)
INPUT_ACK_REAL_S = 2.0
NAVIGATION_TIMEOUT_S = 30.0
_BUTTONS = {"left": "left", "right": "right", "middle": "middle"}

_PROBE_ERRORS = (PlaywrightError, asyncio.TimeoutError)


@dataclass
class Box:
    x: float
    y: float
    width: float
    height: float

    @property
    def cx(self) -> float:
        return self.x + self.width / 2

    @property
    def cy(self) -> float:
        return self.y + self.height / 2

    def as_dict(self) -> dict[str, float]:
        return {"x": self.x, "y": self.y, "width": self.width, "height": self.height}


@dataclass
class ActionContext:
    card_index: int
    card_id: str
    action_index: int
    start_s: float
    fire_s: float


@dataclass
class PerformStats:
    actions_run: int = 0
    #: camera eases made from 1x frames after capture, and eases filmed live (see :mod:`.postcam`)
    eases_after_capture: int = 0
    eases_live: int = 0
    warnings: list[str] = field(default_factory=list)


#: cursor sprites made so far, by (cursor size, output pixels per CSS pixel)
_SPRITES: dict[tuple[float, float], Sprite] = {}


class Performer:
    def __init__(
        self,
        page: Page,
        cdp: CDPSession,
        clock: Clock,
        settings: Settings,
        job: Job,
        *,
        base_url: str | None,
        cancel: CancelToken | None = None,
        error_dir: Path | None = None,
        error_name: str = "render",
        session: BrowserSession | None = None,
    ) -> None:
        #: the tab the flow is on (the video shows it) and its CDP session
        self.page = page
        self.cdp = cdp
        #: the session that opens more tabs (None: this performer follows one page)
        self.session = session
        #: open tabs by name, in the order they opened, and the tab each came from
        self.tabs: dict[str, tuple[Page, CDPSession]] = {FIRST_PAGE: (page, cdp)}
        self.opener: dict[str, str | None] = {FIRST_PAGE: None}
        self.active = FIRST_PAGE
        self._closed_tabs: set[str] = set()
        self._anon_popups = 0
        self._unrevealed = False
        self.clock = clock
        self.settings = settings
        self.job = job
        self.base_url = base_url
        self.cancel = cancel
        self.error_dir = error_dir
        self.error_name = error_name
        self.view_w, self.view_h = viewport_size(settings)  # CSS px the page is laid out at
        self.cursor_scale = cursor_scale_for(settings)
        self._camera_moves: list[CameraMove | None] = []
        self.cursor = (self.view_w * 0.5, self.view_h * 0.55)
        self.cursor_shown = False
        self.stats = PerformStats()
        #: the card and action being performed, for the watchdog's message (set once per action)
        self.where = Where()
        # ControlOrMeta follows the machine the browser runs on, as in Playwright: the page sees the
        # modifier its own platform checks expect (navigator.platform says the same thing)
        self._mac = host_is_mac()
        self.badges: BadgePlatform | None = (
            None if settings.key_badges == "off"
            else host_badge_platform() if settings.key_badges == "auto" else settings.key_badges)
        # native dialogs, downloads and the signed-in check (see their modules)
        self.dialogs = DialogDriver(self)
        self.downloads = DownloadWatcher(self)
        self.signin = SignInCheck(self)
        #: called with (card index, card id) once a card's first action is done (at the card's start
        #: for a card without actions): ``check(snapshots=True)`` takes the storyboard's still there
        self.on_card_shown: Callable[[int, str], Awaitable[None]] | None = None
        #: awaited before each card begins (a prepared card preview waits there for the click)
        self.before_card: Callable[[int], Awaitable[None]] | None = None
        #: records the interactive demo's steps during this same run (None: no demo asked for)
        self.steps: StepRecorder | None = None

    # ------------------------------------------------------------------ the run

    async def run(self, script: Script, scheduler: Scheduler, *,
                  upto_card: int | None = None) -> Timeline:
        try:
            return await self._run(script, scheduler, upto_card)
        except BaseException:
            if isinstance(self.clock, VirtualClock):
                await self.clock.abort_film()  # no camera ease's ffmpeg outlives the capture
            raise

    async def _run(self, script: Script, scheduler: Scheduler, upto_card: int | None) -> Timeline:
        last = len(script.cards) - 1 if upto_card is None else min(upto_card, len(script.cards) - 1)
        await self.clock.advance_to(0)
        for ci, card in enumerate(script.cards[: last + 1]):
            if self.before_card is not None:
                await self.before_card(ci)
            card_start = scheduler.begin_card(ci)
            self._camera_moves = plan_camera_card(card, self.settings)
            self.where = Where(ci, card.id)
            await self.clock.advance_to(card_start)
            if not card.actions and self.on_card_shown is not None:
                await self.on_card_shown(ci, card.id)
            for ai, action in enumerate(card.actions):
                if self.cancel is not None:
                    self.cancel.raise_if_cancelled()
                start_s, fire_s = scheduler.fire_time(ai)
                ctx = ActionContext(ci, card.id, ai, start_s, fire_s)
                target = getattr(action, "target", None)
                self.where = Where(ci, card.id, ai, action.type,
                                   target.describe() if target is not None else None)
                executor = EXECUTORS.get(action.type)
                if executor is None:  # the model makes this impossible; never a silent no-op
                    raise RenderError(f"no executor for action type '{action.type}'", card_index=ci,
                                      card_id=card.id, action_index=ai)
                await self.clock.advance_to(start_s)
                if self.steps is not None and action.type in VIEWER_ACTIONS:
                    await self.steps.card(self.clock, ci)  # the card opens on the page its first action starts from
                actual_fire = await self._guard(ctx, action, self._on_tab(ctx, action, executor))
                await self._guard(ctx, action, self.after_action(ctx, action))
                self.forget_closed_tabs()  # e.g. a click on a popup's "Close" button (window.close())
                if action.type != "new_page":
                    self.reveal()
                await self.camera_after(ai)
                self.stats.actions_run += 1
                # a click or key press may have opened a new document: keep the cursor on screen
                await self.restore_cursor()
                scheduler.action_done(ai, start_s, actual_fire, self.clock.now)
                if ai == 0 and self.on_card_shown is not None:
                    await self.on_card_shown(ci, card.id)
            if self.steps is not None:
                await self.steps.card(self.clock, ci)  # a card without viewer actions: as its actions left it
            timing = scheduler.end_card()
            await self.clock.advance_to(timing.end_s)
        timeline = scheduler.finish()
        await self.clock.advance_to(timeline.duration_s)
        if isinstance(self.clock, VirtualClock):
            await self.clock.drain()  # the last camera ease's frames, if they are still being made
        return timeline

    async def after_action(self, ctx: ActionContext, action: Any) -> float:
        """What follows an action on screen: the dialog it raised, its download cue, the signed-in check.
        Returns the video time when that is done."""
        await self.dialogs.after_action(ctx, action)
        await self.downloads.after_action(ctx, action)
        await self.signin.after_action(ctx, action)
        return self.clock.now

    async def _on_tab(self, ctx: ActionContext, action: Any, executor: Executor) -> float:
        """Run an action on its tab: naming another open tab switches the video to it first."""
        self.forget_closed_tabs()
        name = getattr(action, "page", None)
        if name is not None and name != self.active and action.type not in _TAB_ACTIONS:
            await self.switch_page(name)
        return await executor(self, ctx, action)

    async def _guard(self, ctx: ActionContext, action: Any, work: Awaitable[float]) -> float:
        """Turn anything that goes wrong inside an action into a RenderError naming it."""
        locator = action.target.describe() if getattr(action, "target", None) is not None else None
        try:
            return await work
        except (Cancelled, RenderError):
            raise
        except TimeoutError as exc:
            shot = await self._error_screenshot(ctx)
            raise RenderError(f"{action.type}: timed out waiting for {exc}", card_index=ctx.card_index,
                              card_id=ctx.card_id, action_index=ctx.action_index, locator=locator,
                              screenshot=shot) from None
        except PlaywrightError as exc:
            shot = await self._error_screenshot(ctx)
            first = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
            raise RenderError(f"{action.type} failed in the browser: {first}", card_index=ctx.card_index,
                              card_id=ctx.card_id, action_index=ctx.action_index, locator=locator,
                              screenshot=shot) from None
        except _ActionFailed as exc:
            shot = await self._error_screenshot(ctx)
            raise RenderError(f"{action.type}: {exc}", card_index=ctx.card_index, card_id=ctx.card_id,
                              action_index=ctx.action_index, locator=locator, screenshot=shot,
                              hint=exc.hint) from None

    async def _error_screenshot(self, ctx: ActionContext) -> Path | None:
        if self.error_dir is None:
            return None
        data = None
        # best effort and bounded: the error itself matters more, and a hung browser gives no image
        with contextlib.suppress(PlaywrightError, asyncio.TimeoutError):
            data = await asyncio.wait_for(self.clock.snapshot(), SNAPSHOT_TIMEOUT_S)
        if not data:
            return None
        self.error_dir.mkdir(parents=True, exist_ok=True)
        path = self.error_dir / f"{self.error_name}.error-card{ctx.card_index + 1}-action{ctx.action_index + 1}.jpg"
        path.write_bytes(data)
        return path

    # ------------------------------------------------------------------ tabs

    def _tab_list(self) -> str:
        return ", ".join(n for n in self.tabs if not n.startswith("#")) or "none"

    def forget_closed_tabs(self) -> None:
        """Tabs that closed themselves (``window.close()``) leave the flow; if the flow was on one,
        it returns to the tab that opened it, as after a close_page."""
        for name, (page, _) in list(self.tabs.items()):
            if page.is_closed():
                self._drop_tab(name)

    def _drop_tab(self, name: str) -> str | None:
        """Forget a tab; returns the tab the flow goes back to if it was on it."""
        self.tabs.pop(name, None)
        back = self.opener.pop(name, None)
        if not name.startswith("#"):
            self._closed_tabs.add(name)
        for tab, came_from in self.opener.items():  # tabs opened from the closed one now come from its opener
            if came_from == name:
                self.opener[tab] = back
        if name != self.active or not self.tabs:
            return None
        target = back if back in self.tabs else next(reversed(self.tabs))
        self._show(target)
        return target

    def _show(self, name: str, *, film: bool = True) -> None:
        """Act on the tab ``name``; film it from the next frame on (cut or slide, per the script),
        or, with ``film=False``, once :meth:`reveal` is called."""
        page, cdp = self.tabs[name]
        self.active = name
        self.page, self.cdp = page, cdp
        self._unrevealed = not film
        if film:
            self.clock.show(cdp, slide=self.settings.tab_transition == "slide")

    def reveal(self) -> None:
        """Film the tab the flow is on, if it is not filmed yet (a new tab is shown once its first
        page has loaded, not as an empty white tab)."""
        if self._unrevealed and not self.page.is_closed():
            self._unrevealed = False
            self.clock.show(self.cdp, slide=self.settings.tab_transition == "slide")

    async def switch_page(self, name: str) -> None:
        """Make the tab ``name`` the one the flow acts on and the video shows; the cursor carries over."""
        if name not in self.tabs:
            why = "was closed earlier" if name in self._closed_tabs else "is not open"
            raise _ActionFailed(f"the tab '{name}' {why} (open tabs: {self._tab_list()})",
                                hint="name a tab opened earlier with opens=... or a new_page action")
        if name == self.active:
            return
        self._show(name)
        with contextlib.suppress(PlaywrightError):
            await self.cdp.send("Page.bringToFront")
        await self.restore_cursor()

    def _need_session(self, what: str) -> BrowserSession:
        if self.session is None:
            raise _ActionFailed(f"{what} needs a browser session that can open tabs")
        return self.session

    async def open_tab(self, name: str) -> None:
        """A new, empty tab named ``name`` (``context.new_page()``); the flow and the video move to it."""
        if name in self.tabs:
            raise _ActionFailed(f"a tab named '{name}' is already open")
        page, cdp = await self._need_session("a new tab").new_page()
        self.tabs[name] = (page, cdp)
        self.opener[name] = self.active
        self._closed_tabs.discard(name)
        self._show(name, film=False)  # filmed once a goto has loaded something into it

    @contextlib.asynccontextmanager
    async def expect_popup(self, name: str | None) -> Any:
        """Around an action that opens a popup: afterwards the popup (loaded, on the video clock) is
        the tab named ``name`` (None: an unnamed one) and the video shows it.  The old tab stays on
        screen while the popup loads, then the video cuts (or slides) to it."""
        if name is not None and name in self.tabs:
            raise _ActionFailed(f"a tab named '{name}' is already open")
        session = self._need_session("opening a popup")
        async with session.popups() as catcher:
            yield
            await self._arrive(catcher, name)

    async def _arrive(self, catcher: PopupCatcher, name: str | None) -> None:
        try:
            page, cdp = await catcher.wait(POPUP_TIMEOUT_S, self.cancel)
        except TimeoutError:
            if name is None:  # legacy new_page, which used to mean "follow it in this tab": do that
                self.stats.warnings.append(
                    f"card {self.where.card_index + 1 if self.where.card_index is not None else '?'}: "
                    "the click marked new_page opened no tab; the flow stays on this tab")
                await self.wait_loaded()
                return
            raise _ActionFailed(f"no new tab opened within {POPUP_TIMEOUT_S:g} s",
                                hint="does the element open a popup (target=_blank, window.open)?") from None
        if name is None:
            self._anon_popups += 1
            name = f"#popup{self._anon_popups}"
        self.tabs[name] = (page, cdp)
        self.opener[name] = self.active
        self._closed_tabs.discard(name)
        await self._wait_page_loaded(page)
        self._show(name)
        await self.restore_cursor()

    async def _wait_page_loaded(self, page: Page, timeout_s: float = NAVIGATION_TIMEOUT_S) -> None:
        """Step the video (still showing the current tab) until ``page`` has loaded its document."""
        async def ready() -> bool | None:
            if page.is_closed():
                raise _ActionFailed("the new tab closed while it loaded")
            if page.url.startswith("chrome-error://"):
                return True
            try:
                ok = await page.evaluate("() => !window.__reelwrightOldDocument && "
                                         "document.readyState === 'complete' && "
                                         "(!document.fonts || document.fonts.status === 'loaded')")
            except PlaywrightError:
                return None
            return True if ok else None

        try:
            await self.clock.until(ready, timeout_s, "the new tab to load")
        except TimeoutError:
            raise _ActionFailed(f"the new tab did not finish loading in {timeout_s:g} s") from None
        if page.url.startswith("chrome-error://"):
            refused = self.session.blocked if self.session is not None else {}
            if refused:
                url, reason = next(reversed(refused.items()))
                raise _ActionFailed(f"the new tab cannot open {url}: {reason}")
            raise _ActionFailed("the new tab could not load its page", hint="is the link's address right?")

    async def close_tab(self, name: str | None) -> None:
        """Close the tab ``name`` (None: the one the flow is on); the flow returns to its opener."""
        name = self.active if name is None else name
        if name not in self.tabs:
            why = "was closed earlier" if name in self._closed_tabs else "is not open"
            raise _ActionFailed(f"the tab '{name}' {why} (open tabs: {self._tab_list()})")
        if len(self.tabs) <= 1:
            raise _ActionFailed("cannot close the last open tab")
        page, cdp = self.tabs[name]
        self.clock.remove_page(cdp)  # no more time for it, before it goes
        back = self._drop_tab(name)
        # it is off the clock already, so frames cannot help it close: give it real time (on a loaded
        # machine a close took over 2 s, and the frames stepped meanwhile lengthened the render)
        await self.settle(page.close(), "the tab to close", real_timeout_s=CLOSE_TAB_REAL_S)
        if back is not None:
            with contextlib.suppress(PlaywrightError):
                await self.cdp.send("Page.bringToFront")
            await self.restore_cursor()

    # ------------------------------------------------------------------ page helpers

    def locator(self, loc: Locator) -> PWLocator:
        return _to_playwright(self.page, loc)

    async def _eval(self, expression: str, arg: Any = None) -> Any:
        try:
            return await self.page.evaluate(expression, arg)
        except PlaywrightError:
            return None  # a navigation replaced the document; callers treat None as "not yet"

    async def resolve(self, target: Locator, *, visible: bool = True,
                      timeout_s: float = LOCATE_TIMEOUT_S) -> tuple[PWLocator, Box]:
        """Find the one element a locator means, waiting (on the video clock) until it is there."""
        loc = self.locator(target)
        last_count = 0

        async def probe() -> tuple[PWLocator, Box] | None:
            nonlocal last_count
            try:
                count = await loc.count()
                last_count = count
                if count == 0:
                    return None
                if count > 1 and target.nth is None:
                    raise _ActionFailed(
                        f"the locator matches {count} elements",
                        hint="make it unique (exact name, a container with 'within', or 'nth')")
                box = await loc.bounding_box(timeout=1000)
                if box is None:
                    return None
                if visible and (box["width"] <= 0 or box["height"] <= 0 or not await loc.is_visible()):
                    return None
                return loc, Box(box["x"], box["y"], box["width"], box["height"])
            except _PROBE_ERRORS:
                return None

        try:
            return await self.clock.until(probe, timeout_s, "the element")
        except TimeoutError:
            what = "no element matches" if last_count == 0 else "the element never became visible"
            raise _ActionFailed(f"{what} after {timeout_s:g} s",
                                hint="check the locator against the page (reelwright render --check)") from None

    async def ensure_in_view(self, loc: PWLocator, box: Box) -> Box:
        """Smoothly scroll an element into the middle of the view if any of it is outside."""
        w, h = self.view_w, self.view_h
        if box.y >= 0 and box.y + box.height <= h and box.x >= 0 and box.x + box.width <= w:
            return box
        with contextlib.suppress(PlaywrightError):
            await loc.evaluate("e => { e.scrollIntoView({behavior: 'smooth', block: 'center', inline: 'nearest'}); }")
        await self.wait_scroll_settled()
        nb = await loc.bounding_box(timeout=1000)
        if nb is None:
            raise _ActionFailed("the element disappeared while scrolling to it")
        return Box(nb["x"], nb["y"], nb["width"], nb["height"])

    async def wait_scroll_settled(self, max_s: float = 3.0) -> None:
        last: Any = None
        stable = 0
        for _ in range(max(1, round(max_s * self.clock.fps))):
            await self.clock.step()
            pos = await self._eval("() => [window.scrollX, window.scrollY]")
            if pos is not None and pos == last:
                stable += 1
                if stable >= 2:
                    return
            else:
                stable = 0
            last = pos

    async def wait_loaded(self, timeout_s: float = NAVIGATION_TIMEOUT_S) -> None:
        async def ready() -> bool | None:
            state = await self._eval("() => document.readyState === 'complete' && "
                                     "(!document.fonts || document.fonts.status === 'loaded')")
            return True if state else None

        try:
            await self.clock.until(ready, timeout_s, "the page to load")
        except TimeoutError:
            raise _ActionFailed(f"the page did not finish loading in {timeout_s:g} s") from None
        await self.restore_cursor()

    async def restore_cursor(self) -> None:
        """A new document has a fresh overlay: put the cursor back where the viewer last saw it."""
        if not self.settings.cursor or not self.cursor_shown:
            return
        pos = await self._eval("() => window.__reelwright && window.__reelwright.cursorPos()")
        if pos is None:
            await self._eval("([x, y, k]) => window.__reelwright && "
                             "(window.__reelwright.setCursorScale(k), window.__reelwright.setCursor(x, y, true))",
                             [*self.cursor, self.cursor_scale])

    async def move_cursor(self, x: float, y: float, until_s: float) -> None:
        """Ease the cursor to (x, y), arriving at video time ``until_s`` (at least a short glide)."""
        if not self.settings.cursor:
            await self.clock.advance_to(until_s)
            return
        now = self.clock.now
        travel = max(until_s - now, 0.25)
        travel = min(travel, CURSOR_TRAVEL_S * 1.5)
        x0, y0 = self.cursor
        if not self.cursor_shown:
            # first appearance: fade in near the target rather than fly across the screen
            x0, y0 = x - 120, y + 80
            self.cursor_shown = True
        await self._eval("([x0, y0, x1, y1, ms, k]) => window.__reelwright && "
                         "(window.__reelwright.setCursorScale(k), window.__reelwright.moveCursor(x0, y0, x1, y1, ms))",
                         [x0, y0, x, y, travel * 1000, self.cursor_scale])
        self.cursor = (x, y)
        await self.clock.advance_to(max(until_s, now + travel))

    async def send_input(self, messages: list[tuple[str, dict[str, Any]]]) -> None:
        """Queue trusted input so it lands in the very next frame, then issue that frame."""
        await self.dialogs.before_input()
        page = self.page
        futures = [asyncio.ensure_future(self.cdp.send(m, p)) for m, p in messages]
        try:
            for _ in range(3):
                await asyncio.sleep(0)
            await self.clock.after_input()  # without it, a fetch the input starts can stall the clock
            await self.clock.step()
            # The renderer has handled the input by now (two frames were issued after it); only its
            # acknowledgements may still be on their way back through the driver.  Wait for them in
            # real time with the page's time standing still: stepping a frame whenever one was still
            # in transit made the frames issued here depend on the machine's load -- a card preview's
            # fast replay then ran one more requestAnimationFrame, and with a slow driver the
            # keystrokes of a `type` and everything after them moved to later frames.  Frames are
            # stepped only for input that really needs page time to be acknowledged.
            await self._acknowledged(futures)
            for _ in range(round(2 * self.clock.fps)):  # acknowledged within a frame or two
                if all(f.done() for f in futures):
                    break
                await self.clock.step()
            for f in futures:
                if f.done():
                    exc = f.exception()
                    if exc is not None:
                        raise exc
                else:
                    f.cancel()
        except PlaywrightError:
            # the input closed its own tab (a "Close" button calling window.close()): not a failure;
            # the flow returns to the tab that opened it
            if not await self._closed_itself(page):
                raise
            for f in futures:
                if f.done():
                    f.exception()  # retrieved: the tab is gone, so is the reply
                else:
                    f.cancel()

    async def _acknowledged(self, futures: Sequence[asyncio.Future[Any]]) -> None:
        """Wait (real time, at most :data:`INPUT_ACK_REAL_S`) until the browser has answered every
        input message in ``futures``; a cancel ends the wait at once."""
        if all(f.done() for f in futures):
            return
        loop = asyncio.get_running_loop()
        deadline = loop.time() + INPUT_ACK_REAL_S
        cancelled = asyncio.ensure_future(self.cancel.wait()) if self.cancel is not None else None
        try:
            while True:
                left: set[asyncio.Future[Any]] = {f for f in futures if not f.done()}
                remaining = deadline - loop.time()
                if not left or remaining <= 0 or (cancelled is not None and cancelled.done()):
                    break
                if cancelled is not None:
                    left.add(cancelled)
                await asyncio.wait(left, timeout=remaining, return_when=asyncio.FIRST_COMPLETED)
        finally:
            if cancelled is not None and not cancelled.done():
                cancelled.cancel()
        if self.cancel is not None:
            self.cancel.raise_if_cancelled()
        if not all(f.done() for f in futures):
            log.warning("the browser did not acknowledge input within %.0f s of real time: stepping video "
                        "frames until it does", INPUT_ACK_REAL_S)

    async def _closed_itself(self, page: Page, real_timeout_s: float = 1.0) -> bool:
        """Whether ``page`` is closing (its close event can trail the error by a moment); never the
        first page while it is the last one, which means the browser went away."""
        if len(self.tabs) <= 1:
            return False
        loop = asyncio.get_running_loop()
        deadline = loop.time() + real_timeout_s
        while not page.is_closed() and loop.time() < deadline:
            await asyncio.sleep(0.02)
        return page.is_closed()

    async def settle(self, coro: Awaitable[Any], what: str, real_timeout_s: float = 2.0) -> Any:
        """Await a Playwright call that normally needs no page time; if it does (it waits on a
        frame), fall back to stepping frames until it completes."""
        task = asyncio.ensure_future(coro)
        done, _ = await asyncio.wait({task}, timeout=real_timeout_s)
        if done:
            return task.result()
        # the frames stepped from here depend on the machine's speed, so a render's length can differ
        # by a frame from another's: say which step did it (seen once: a popup's close under load)
        log.warning("%s did not finish within %.0f s of real time; stepping video frames until it does",
                    what, real_timeout_s)
        return await self.clock.run(task, LOCATE_TIMEOUT_S, what)

    def mouse(self, kind: str, x: float, y: float, *, button: str = "left", clicks: int = 1,
              modifiers: int = 0) -> tuple[str, dict[str, Any]]:
        params: dict[str, Any] = {"type": kind, "x": x, "y": y, "modifiers": modifiers}
        if kind != "mouseMoved":
            params.update(button=button, clickCount=clicks)
        return "Input.dispatchMouseEvent", params

    def key_events(self, chord: str) -> list[tuple[str, dict[str, Any]]]:
        """The CDP messages of Playwright's ``keyboard.press(chord)`` (see :mod:`app.core.keys`)."""
        return [("Input.dispatchKeyEvent", e) for e in KeyboardState(mac=self._mac).press(chord)]

    async def show_keys(self, caps: list[str]) -> None:
        """The keystroke badge, when the script asks for one (it lives on the video clock)."""
        if self.badges is not None:
            await self._eval("([caps, joiner, k]) => window.__reelwright && "
                             "window.__reelwright.showKeys(caps, joiner, k)",
                             [caps, badge_joiner(self.badges), self.cursor_scale])

    # ------------------------------------------------------------------ auto-zoom camera

    async def camera_scale(self) -> float:
        """The overlay camera's current zoom (1.0 on a fresh document: a navigation resets it)."""
        cam = await self._eval("() => window.__reelwright ? window.__reelwright.camera() : null")
        return float(cam["s"]) if isinstance(cam, dict) and "s" in cam else 1.0

    async def _camera_ease(self, cx: float, cy: float, scale: float, duration_s: float) -> None:
        clock = self.clock
        if isinstance(clock, VirtualClock) and clock.films_camera_after:
            plan = await self._eval("([x, y, s]) => window.__reelwright ? window.__reelwright.camPlan(x, y, s) : null",
                                    [cx, cy, scale])
            if isinstance(plan, dict) and plan.get("overlay") in ("clean", "ripples"):
                await self._camera_ease_after(clock, plan, cx, cy, scale, duration_s)
                return
        self.stats.eases_live += 1
        await self._camera_ease_live(cx, cy, scale, duration_s)
        await self.clock.advance_to(self.clock.now + duration_s)
        await self._read_cursor()

    async def _camera_ease_live(self, cx: float, cy: float, scale: float, duration_s: float) -> None:
        # the cursor rides along with the page, so after a zoom-out it still points at what it clicked
        await self._eval("([x, y, s, ms]) => window.__reelwright && window.__reelwright.zoomTo(x, y, s, ms, true)",
                         [cx, cy, scale, duration_s * 1000])

    async def _read_cursor(self) -> None:
        pos = await self._eval("() => window.__reelwright && window.__reelwright.cursorPos()")
        if isinstance(pos, dict) and "x" in pos and "y" in pos:
            self.cursor = (float(pos["x"]), float(pos["y"]))

    async def _camera_ease_after(self, clock: VirtualClock, plan: dict[str, Any], cx: float, cy: float,
                                 scale: float, duration_s: float) -> None:
        """The ease as a crop-and-scale of 1x frames, made by ffmpeg beside the capture (:mod:`.postcam`).

        With click ripples still fading on the overlay (an ease-out right after a click), the ease
        starts live and goes on after capture once they are gone, on the same curve."""
        start = clock.frame
        end_frame = round((clock.now + duration_s) * clock.fps)
        if plan["overlay"] == "ripples":
            await self._camera_ease_live(cx, cy, scale, duration_s)
            while clock.frame < end_frame:
                await clock.step()
                if await self._eval("() => window.__reelwright && window.__reelwright.camOverlay()") != "ripples":
                    break
            if clock.frame >= end_frame or await self._eval(
                    "() => window.__reelwright && window.__reelwright.camOverlay()") != "clean":
                self.stats.eases_live += 1  # the ripples outlasted it, or something else came up
                await clock.advance_to(end_frame / clock.fps)
                await self._read_cursor()
                return
        if end_frame > clock.frame:
            anchor = plan.get("anchor")

            def state(c: dict[str, Any]) -> CamState:
                return CamState(float(c["s"]), float(c["ux"]), float(c["uy"]))

            ease = Ease(state(plan["from"]), state(plan["to"]), duration_s * clock.fps, float(plan["vw"]),
                        float(plan["vh"]),
                        (float(anchor["x"]), float(anchor["y"])) if isinstance(anchor, dict) else None)
            sprite = self._cursor_sprite(clock, float(plan["vw"])) if ease.anchor is not None else None
            assert clock.ffmpeg is not None
            w = self.where
            film = EaseFilm(ease, sprite, clock.ffmpeg, clock.sink.write, cancel=self.cancel,
                            card_index=w.card_index, card_id=w.card_id, action_index=w.action_index)
            await clock.begin_film(film, start)
            await self._eval("() => window.__reelwright && window.__reelwright.camBare()")
            try:
                await clock.advance_to(end_frame / clock.fps)
                clock.end_film()
            except BaseException:
                await clock.abort_film()
                raise
        self.stats.eases_after_capture += 1
        pos = await self._eval("(id) => window.__reelwright && window.__reelwright.camJump(id)", plan["id"])
        if isinstance(pos, dict) and "x" in pos and "y" in pos:
            self.cursor = (float(pos["x"]), float(pos["y"]))

    def _cursor_sprite(self, clock: VirtualClock, view_w: float) -> Sprite:
        """The cursor at the size the overlay draws it, in the frames' pixels."""
        size = jpeg_size(clock._last) if clock._last is not None else None
        scale = size[0] / view_w if size is not None else device_scale_for(self.settings)
        key = (round(self.cursor_scale, 3), round(scale, 3))
        sprite = _SPRITES.get(key)
        if sprite is None:
            sprite = _SPRITES[key] = cursor_sprite(*key)
        return sprite

    async def _box_of(self, loc: PWLocator) -> Box:
        nb = await loc.bounding_box(timeout=1000)
        if nb is None:
            raise _ActionFailed("the element disappeared while the camera moved")
        return Box(nb["x"], nb["y"], nb["width"], nb["height"])

    async def frame_target(self, ctx: ActionContext, loc: PWLocator, box: Box) -> Box:
        """Bring the target into view and, when the card's camera plan says so, ease in on it.

        Within a shot the camera holds still while the target stays well inside the zoomed view;
        a target outside it makes the camera ease out first (never a jump, never a fast pan).
        """
        i = ctx.action_index
        move = self._camera_moves[i] if i < len(self._camera_moves) else None
        if move is None:
            return await self.ensure_in_view(loc, box)
        zoomed = await self.camera_scale() > 1.001
        if zoomed and not in_view(box.x, box.y, box.width, box.height, self.view_w, self.view_h):
            await self._camera_ease(0, 0, 1.0, move.ease_out_s)
            box = await self._box_of(loc)
            zoomed = False
        box = await self.ensure_in_view(loc, box)
        if not zoomed:
            scale = fitted_scale(move.scale, box.width, box.height, self.view_w, self.view_h)
            if scale > 1.0:
                await self._camera_ease(box.cx, box.cy, scale, ease_s(1.0, scale))
                box = await self._box_of(loc)
        return box

    async def camera_after(self, action_index: int) -> None:
        """After a shot's last action: rest on the result, then ease back out."""
        move = self._camera_moves[action_index] if action_index < len(self._camera_moves) else None
        if move is None or not move.zoom_out or await self.camera_scale() <= 1.001:
            return
        await self.clock.advance_to(self.clock.now + HOLD_AFTER_S)
        await self._camera_ease(0, 0, 1.0, move.ease_out_s)

    async def ripple(self, x: float, y: float) -> None:
        if self.settings.cursor:
            await self._eval("([x, y]) => window.__reelwright && window.__reelwright.ripple(x, y)", [x, y])

    async def point_at(self, ctx: ActionContext, target: Locator,
                       position: Any = None) -> tuple[PWLocator, float, float]:
        """Find the target, bring it into view, glide the cursor to it, arriving at the fire time."""
        loc, box = await self.resolve(target)
        box = await self.frame_target(ctx, loc, box)
        x = box.x + (position.x if position is not None else box.width / 2)
        y = box.y + (position.y if position is not None else box.height / 2)
        await self.move_cursor(x, y, ctx.fire_s)
        await self.record_step(ctx, loc, box)
        return loc, x, y

    async def record_step(self, ctx: ActionContext, loc: PWLocator | None, box: Box | None) -> None:
        """For the interactive demo: the frame just before a viewer action's input, with its target's
        box (read between frames, so the video is unchanged)."""
        if self.steps is None or self.where.action_type not in VIEWER_ACTIONS:
            return
        secret = False
        if loc is not None and self.where.action_type in ("fill", "type"):
            with contextlib.suppress(*_PROBE_ERRORS):
                secret = bool(await loc.evaluate("e => e.type === 'password'", timeout=1000))
        sbox = StepBox(box.x, box.y, box.width, box.height) if box is not None else None
        await self.steps.action(self.clock, ctx.card_index, ctx.action_index, sbox, secret=secret)

    async def click_at(self, x: float, y: float, *, button: str = "left", clicks: int = 1,
                       modifiers: list[str] | None = None) -> None:
        # As Playwright's click(modifiers=...): the modifier keys go down (the page sees their
        # keydown), the mouse events carry their flags, then the keys come up again.
        keys = KeyboardState(mac=self._mac)
        msgs = [("Input.dispatchKeyEvent", e) for e in keys.hold_only(modifiers or [])]
        mask = keys.mask
        await self.ripple(x, y)
        if modifiers and self.badges is not None:
            await self.show_keys(click_caps(modifiers, clicks=clicks, button=button, platform=self.badges))
        msgs.append(self.mouse("mouseMoved", x, y, modifiers=mask))
        for c in range(1, clicks + 1):
            msgs.append(self.mouse("mousePressed", x, y, button=button, clicks=c, modifiers=mask))
            msgs.append(self.mouse("mouseReleased", x, y, button=button, clicks=c, modifiers=mask))
        msgs += [("Input.dispatchKeyEvent", e) for e in keys.hold_only([])]
        await self.send_input(msgs)

    async def navigate(self, url: str, timeout_s: float = NAVIGATION_TIMEOUT_S) -> None:
        """Open ``url`` in the page and wait (on the video clock) until it has loaded.

        The navigation is started from inside the page (``location.href = …``) rather than by the
        browser (``Page.navigate``): a renderer-initiated navigation takes its time origin from the
        virtual clock, so ``performance.now()`` — and everything a page draws from it — is the same
        in every render.  Failed loads and HTTP errors are reported, not filmed.
        """
        statuses: list[int] = []

        def on_response(response: Any) -> None:
            req = response.request
            if req.is_navigation_request() and req.frame == self.page.main_frame:
                statuses.append(response.status)

        self.page.on("response", on_response)
        try:
            same_doc = await self._eval(
                "u => { const a = new URL(u, location.href), b = new URL(location.href);"
                " a.hash = ''; b.hash = ''; return a.href === b.href && new URL(u, location.href).hash !== ''; }",
                url)
            if not same_doc:
                await self._eval("() => { window.__reelwrightOldDocument = true; }")
            await self._eval("u => { location.href = u; }", url)

            async def arrived() -> bool | None:
                if self.page.url.startswith("chrome-error://"):
                    return True
                if same_doc:
                    return True
                ok = await self._eval("() => !window.__reelwrightOldDocument && "
                                      "document.readyState === 'complete' && "
                                      "(!document.fonts || document.fonts.status === 'loaded')")
                return True if ok else None

            try:
                await self.clock.until(arrived, timeout_s, f"{url} to load")
            except TimeoutError:
                raise _ActionFailed(f"{url} did not finish loading in {timeout_s:g} s") from None
            if self.page.url.startswith("chrome-error://"):
                reason = blocked_reason(url)
                if reason is not None:  # refused by the session's navigation guard
                    raise _ActionFailed(f"cannot open {url}: {reason}")
                raise _ActionFailed(f"cannot open {url}: the browser could not load it",
                                    hint="is the site running and the URL right?")
            if statuses and statuses[-1] >= 400:
                raise _ActionFailed(f"cannot open {url}: the server answered HTTP {statuses[-1]}",
                                    hint="check the path (relative URLs start at the site's root)")
        finally:
            self.page.remove_listener("response", on_response)
        self.reveal()
        await self.restore_cursor()

    def resolve_url(self, url: str) -> str:
        if "://" in url:
            return url
        if not self.base_url:
            raise _ActionFailed(f"relative URL '{url}' but no site or base_url")
        return urljoin(self.base_url.rstrip("/") + "/", url.lstrip("/"))


class _ActionFailed(Exception):
    def __init__(self, message: str, *, hint: str | None = None) -> None:
        super().__init__(message)
        self.hint = hint


def _to_playwright(page: Page, loc: Locator) -> PWLocator:
    base: Any = page if loc.within is None else _to_playwright(page, loc.within)
    for selector in loc.frames():  # nested iframes, outermost first
        base = base.frame_locator(selector)
    exact = loc.exact or None
    k = loc.kind()
    if k == "role":
        pw = base.get_by_role(loc.role, name=loc.name, exact=exact) if loc.name is not None \
            else base.get_by_role(loc.role)
    elif k == "label":
        pw = base.get_by_label(loc.label, exact=exact)
    elif k == "placeholder":
        pw = base.get_by_placeholder(loc.placeholder, exact=exact)
    elif k == "text":
        pw = base.get_by_text(loc.text, exact=exact)
    elif k == "test_id":
        pw = base.get_by_test_id(loc.test_id)
    elif k == "alt":
        pw = base.get_by_alt_text(loc.alt, exact=exact)
    elif k == "title":
        pw = base.get_by_title(loc.title, exact=exact)
    else:
        pw = base.locator(loc.css)
    if loc.has_text is not None:
        pw = pw.filter(has_text=loc.has_text)
    if loc.nth is not None:
        pw = pw.nth(loc.nth)
    return pw  # type: ignore[no-any-return]


# ---------------------------------------------------------------------- executors
# Each returns the video time at which the action took effect (its actual fire time).


async def _goto(p: Performer, ctx: ActionContext, a: Goto) -> float:
    await p.clock.advance_to(ctx.fire_s)
    fire = p.clock.now
    url = p.resolve_url(a.url)
    await p.navigate(url)
    return fire


def _opens(a: Any) -> tuple[bool, str | None]:
    """Whether an action opens a popup, and the popup's name (None: unnamed, the legacy new_page)."""
    name = getattr(a, "opens", None)
    return name is not None or bool(getattr(a, "new_page", False)), name


async def _click(p: Performer, ctx: ActionContext, a: Click | DblClick) -> float:
    _, x, y = await p.point_at(ctx, a.target, a.position)
    fire = p.clock.now
    clicks = 2 if isinstance(a, DblClick) else 1
    opens, name = _opens(a)
    if opens:
        async with p.expect_popup(name):
            await p.click_at(x, y, button=_BUTTONS[a.button], clicks=clicks, modifiers=list(a.modifiers))
    else:
        await p.click_at(x, y, button=_BUTTONS[a.button], clicks=clicks, modifiers=list(a.modifiers))
    return fire


async def _hover(p: Performer, ctx: ActionContext, a: Hover) -> float:
    _, x, y = await p.point_at(ctx, a.target)
    fire = p.clock.now
    await p.send_input([p.mouse("mouseMoved", x, y)])
    return fire


async def _focus_field(p: Performer, ctx: ActionContext, target: Locator) -> tuple[PWLocator, float]:
    loc, x, y = await p.point_at(ctx, target)
    fire = p.clock.now
    await p.click_at(x, y)
    return loc, fire


async def _fill(p: Performer, ctx: ActionContext, a: Fill) -> float:
    loc, fire = await _focus_field(p, ctx, a.target)
    await loc.evaluate("e => { e.focus(); if (typeof e.select === 'function') e.select(); "
                       "else { const r = document.createRange(); r.selectNodeContents(e); "
                       "const s = getSelection(); s.removeAllRanges(); s.addRange(r); } }")
    if a.value:
        await p.send_input([("Input.insertText", {"text": a.value})])
    else:
        await p.send_input(p.key_events("Delete"))
    return fire


async def _type(p: Performer, ctx: ActionContext, a: TypeText) -> float:
    _, fire = await _focus_field(p, ctx, a.target)
    t = p.clock.now
    for ch in a.text:
        t += a.delay_ms / 1000
        # as Playwright's type(): a character on the keyboard is pressed, any other is inserted
        events = p.key_events(ch) if ch in KEYS else [("Input.insertText", {"text": ch})]
        await p.send_input(events)
        await p.clock.advance_to(t)
    return fire


async def _press(p: Performer, ctx: ActionContext, a: Press) -> float:
    loc: PWLocator | None = None
    box: Box | None = None
    if a.target is not None:
        loc, box = await p.resolve(a.target)
        await loc.evaluate("e => e.focus()")
    await p.clock.advance_to(ctx.fire_s)
    fire = p.clock.now
    await p.record_step(ctx, loc, box)
    url_before = p.page.url
    if p.badges is not None:
        await p.show_keys(chord_caps(a.key, p.badges))
    opens, name = _opens(a)
    if opens:
        async with p.expect_popup(name):
            await p.send_input(p.key_events(a.key))
        return fire
    await p.send_input(p.key_events(a.key))
    if a.key.endswith("Enter"):
        await p.clock.step(2)
        if p.page.url != url_before:
            await p.wait_loaded()
    return fire


async def _select(p: Performer, ctx: ActionContext, a: Select) -> float:
    loc, x, y = await p.point_at(ctx, a.target)
    fire = p.clock.now
    await p.ripple(x, y)
    try:
        await p.settle(loc.select_option(a.values, force=True, no_wait_after=True, timeout=5000),
                       "the option")
    except PlaywrightError as exc:
        raise _ActionFailed(f"cannot select {a.values}: {str(exc).splitlines()[0]}") from None
    await p.clock.step()
    return fire


async def _check(p: Performer, ctx: ActionContext, a: Check | Uncheck) -> float:
    want = isinstance(a, Check)
    loc, x, y = await p.point_at(ctx, a.target)
    fire = p.clock.now
    try:
        state = await loc.is_checked(timeout=1000)
    except PlaywrightError:
        raise _ActionFailed("the element is not a checkbox, radio or switch") from None
    if state != want:
        await p.click_at(x, y)
        if await loc.is_checked(timeout=1000) != want:
            raise _ActionFailed(f"clicking did not {'check' if want else 'uncheck'} it")
    return fire


async def _upload(p: Performer, ctx: ActionContext, a: Upload) -> float:
    loc, x, y = await p.point_at(ctx, a.target)
    fire = p.clock.now
    await p.ripple(x, y)
    paths = []
    for f in a.files:
        src = p.job.resolve(f)
        if not src.is_file():
            raise _ActionFailed(f"file '{f}' is not in the job")
        paths.append(src)
    await p.settle(loc.set_input_files(paths, timeout=5000), "the file input")
    await p.clock.step()
    return fire


async def _scroll(p: Performer, ctx: ActionContext, a: Scroll) -> float:
    if a.target is not None:
        loc, _ = await p.resolve(a.target, visible=False)
        await p.clock.advance_to(ctx.fire_s)
        fire = p.clock.now
        await loc.evaluate("e => { e.scrollIntoView({behavior: 'smooth', block: 'center'}); }")
    else:
        await p.clock.advance_to(ctx.fire_s)
        fire = p.clock.now
        if a.to == "top":
            js = "void window.scrollTo({top: 0, behavior: 'smooth'})"
        elif a.to == "bottom":
            js = "void window.scrollTo({top: document.documentElement.scrollHeight, behavior: 'smooth'})"
        elif a.y is not None:
            js = f"void window.scrollTo({{top: {int(a.y)}, behavior: 'smooth'}})"
        else:
            js = f"void window.scrollBy({{top: {int(a.by or 0)}, behavior: 'smooth'}})"
        await p._eval(js)
    await p.wait_scroll_settled()
    return fire


async def _wait_for(p: Performer, ctx: ActionContext, a: WaitFor) -> float:
    await p.clock.advance_to(ctx.fire_s)
    fire = p.clock.now
    timeout = a.timeout_ms / 1000
    if a.target is not None:
        loc = p.locator(a.target)

        async def probe() -> bool | None:
            try:
                n = await loc.count()
                if a.state == "attached":
                    return True if n > 0 else None
                if a.state == "detached":
                    return True if n == 0 else None
                vis = n > 0 and await loc.first.is_visible()
                return True if vis == (a.state == "visible") else None
            except _PROBE_ERRORS:
                return None

        what = f"the element to be {a.state}"
    elif a.text is not None:
        loc = p.page.get_by_text(a.text)
        text = a.text

        async def probe() -> bool | None:
            try:
                n = await loc.count()
                vis = n > 0 and await loc.first.is_visible()
            except _PROBE_ERRORS:
                return None
            return True if vis == (a.state in ("visible", "attached")) else None

        what = f"the text {text!r}"
    else:
        pattern = a.url or ""

        async def probe() -> bool | None:
            url = p.page.url
            ok = fnmatch.fnmatchcase(url, pattern) if "*" in pattern else pattern in url
            return True if ok else None

        what = f"the URL to match {pattern!r}"
    try:
        await p.clock.until(probe, timeout, what)
    except TimeoutError:
        raise _ActionFailed(f"gave up after {timeout:g} s waiting for {what}") from None
    if a.url is not None:
        await p.wait_loaded()
    return fire


async def _wait(p: Performer, ctx: ActionContext, a: Wait) -> float:
    await p.clock.advance_to(ctx.fire_s)
    fire = p.clock.now
    await p.clock.advance_to(fire + a.ms / 1000)
    return fire


async def _highlight(p: Performer, ctx: ActionContext, a: Highlight) -> float:
    loc, box = await p.resolve(a.target)
    box = await p.ensure_in_view(loc, box)
    await p.clock.advance_to(ctx.fire_s)
    fire = p.clock.now
    await p._eval("([r, ms, label, spot]) => window.__reelwright && window.__reelwright.highlight(r, ms, label, spot)",
                  [box.as_dict(), a.duration_ms, a.label, a.spotlight])
    await p.clock.advance_to(fire + a.duration_ms / 1000)
    return fire


async def _zoom(p: Performer, ctx: ActionContext, a: Zoom) -> float:
    if a.target is not None:
        loc, box = await p.resolve(a.target)
        box = await p.ensure_in_view(loc, box)
        cx, cy = box.cx, box.cy
    else:
        cx, cy = p.view_w / 2, p.view_h / 2
    await p.clock.advance_to(ctx.fire_s)
    fire = p.clock.now
    ease_ms = ZOOM_EASE_S * 1000
    await p._eval("([x, y, s, ms]) => window.__reelwright && window.__reelwright.zoomTo(x, y, s, ms)",
                  [cx, cy, a.scale, ease_ms])
    await p.clock.advance_to(fire + ZOOM_EASE_S + a.duration_ms / 1000)
    await p._eval("([ms]) => window.__reelwright && window.__reelwright.zoomTo(0, 0, 1, ms)", [ease_ms])
    await p.clock.advance_to(fire + 2 * ZOOM_EASE_S + a.duration_ms / 1000)
    return fire


async def _new_page(p: Performer, ctx: ActionContext, a: NewPage) -> float:
    await p.clock.advance_to(ctx.fire_s)
    fire = p.clock.now
    if a.page is None:  # the model's validator refuses this; never guess a name
        raise _ActionFailed("a new_page action names the tab it opens (page=...)")
    await p.open_tab(a.page)
    await p.clock.step()
    return fire


async def _close_page(p: Performer, ctx: ActionContext, a: ClosePage) -> float:
    await p.clock.advance_to(ctx.fire_s)
    fire = p.clock.now
    await p.close_tab(a.page)
    await p.clock.step()
    return fire


async def _switch_page(p: Performer, ctx: ActionContext, a: SwitchPage) -> float:
    await p.clock.advance_to(ctx.fire_s)
    fire = p.clock.now
    if a.page is None:
        raise _ActionFailed("a switch_page action names the tab to bring to the front")
    await p.switch_page(a.page)
    await p.clock.step()
    return fire


Executor = Callable[[Performer, ActionContext, Any], Awaitable[float]]

#: actions that handle their own tab (the performer does not switch to ``page`` before them)
_TAB_ACTIONS = frozenset({"new_page", "close_page", "switch_page"})

#: action type -> executor.  Adding an action is one entry here (and one model class).
EXECUTORS: dict[str, Executor] = {
    "goto": _goto,
    "click": _click,
    "dblclick": _click,
    "hover": _hover,
    "fill": _fill,
    "type": _type,
    "press": _press,
    "select": _select,
    "check": _check,
    "uncheck": _check,
    "upload": _upload,
    "scroll": _scroll,
    "wait_for": _wait_for,
    "wait": _wait,
    "highlight": _highlight,
    "zoom": _zoom,
    "dialog": dialog_executor,
    "new_page": _new_page,
    "close_page": _close_page,
    "switch_page": _switch_page,
}
