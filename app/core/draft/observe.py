"""What the viewer sees at each step of a flow, from a silent run of it in Chromium.

The draft is written from what the video will show, not from the recorded code: the page's title
and main heading, and for each target its accessible name, role and the text around it (a legend,
a section heading, the dialog it is in), and what changed after the step (another page, a heading,
a dialog, a message, a new tab).  :func:`observe_flow` replays the flow the way ``render --check``
does — the capture package's browser session in its cheap mode (no frames are captured, nothing is
recorded) — under the same navigation guard (:mod:`app.core.urlpolicy`), a real-time limit, the
capture watchdog, and the cancel token.

It never fails the draft: a step that cannot be replayed ends the run there and the observations
gathered so far are returned with a note saying why.  No Qt here.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import re
import time
from collections.abc import Callable, Sequence
from importlib import resources
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from ..errors import Cancelled, ReelwrightError, RenderError, ToolMissingError
from ..infra.progress import CancelToken
from ..infra.tools import Browser
from ..script import Locator, Script, Settings

log = logging.getLogger(__name__)

#: real seconds a whole silent run may take before it stops (what was seen so far is kept)
DEFAULT_TIME_LIMIT_S = 90.0
#: frames per video second in the silent run: waits are counted in frames, and nothing is filmed
OBSERVE_FPS = 10
#: video seconds a step is given to show its effect (a navigation starting, a dialog, a message)
SETTLE_S = 0.8
#: real seconds Playwright may take to report a tab the browser already lists (it reports a tab once
#: its first document has committed, which runs on real time: a loaded machine or a slow server)
NEW_TAB_REPORT_S = 5.0
#: actions that only draw on the video (the overlay), never change the page: observed, not replayed
_OVERLAY_ONLY = frozenset({"highlight", "zoom"})
#: actions after which the page may react for a while (navigate, open a dialog, show a message)
_REACTING = frozenset({"click", "dblclick", "press", "select", "check", "uncheck", "goto", "upload"})
_ROLE_LINE = re.compile(r'^- ([a-z]+)(?: "((?:[^"\\]|\\.)*)")?')


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class PageState(_Model):
    """What one page shows at a moment."""

    title: str = ""
    heading: str | None = None  # the h1, or the most prominent heading
    headings: list[str] = Field(default_factory=list)  # visible h1-h3, in document order
    dialog: str | None = None  # the name of an open dialog ("" when it has none), None when none is open
    messages: list[str] = Field(default_factory=list)  # visible status/alert texts (toasts, errors)
    items: list[str] = Field(default_factory=list)  # short texts of visible list items, rows and cards
    url: str = ""  # tells a navigation from an in-page change; never narrated


class Target(_Model):
    """The element a step acts on, as the viewer knows it."""

    role: str | None = None  # ARIA role (explicit or implicit), e.g. "button", "textbox", "link"
    name: str | None = None  # accessible name, e.g. "Sign in"
    short: str | None = None  # the first line it (or its label) shows, when the name runs on
    text: str | None = None  # its visible text, when that is not its name
    context: str | None = None  # surrounding label text: legend, group, section heading or dialog title
    region: str | None = None  # where it sits: "sidebar", "top bar", "navigation", "dialog", "form", "footer"
    region_name: str | None = None  # that region's own name, when it has one ("Main")
    value: str | None = None  # after the step: the chosen option's text, "checked"/"unchecked"


ChangeKind = Literal["page", "title", "heading", "section", "dialog", "dialog_closed", "message", "item", "tab",
                     "native_dialog"]


class Change(_Model):
    """One thing the viewer sees change after a step."""

    kind: ChangeKind
    text: str = ""


class Observation(_Model):
    """One step of the flow as the viewer saw it."""

    index: int  # the action's index in the flow (all files, in order)
    type: str  # the action's type
    target: Target | None = None
    before: PageState | None = None
    after: PageState | None = None
    changes: list[Change] = Field(default_factory=list)


class FlowObservation(_Model):
    """The observations of a flow's steps (by action index), and why the run stopped early, if it did."""

    observations: list[Observation] = Field(default_factory=list)
    actions: int = 0  # how many actions the flow has
    note: str | None = None  # why the run stopped before the end
    seconds: float = 0.0  # real time the run took

    @property
    def complete(self) -> bool:
        return self.note is None and len(self.observations) == self.actions

    def by_index(self) -> dict[int, Observation]:
        return {o.index: o for o in self.observations}


# --------------------------------------------------------------------------- what changed


def changes_between(before: PageState | None, after: PageState | None) -> list[Change]:
    """What the viewer sees change from ``before`` to ``after`` (most salient first)."""
    if after is None:
        return []
    if before is None:
        return [Change(kind="page", text=after.title)]
    out: list[Change] = []
    if after.dialog is not None and after.dialog != before.dialog:
        out.append(Change(kind="dialog", text=after.dialog))
    elif before.dialog is not None and after.dialog is None:
        out.append(Change(kind="dialog_closed", text=before.dialog))
    new_doc = _strip_hash(after.url) != _strip_hash(before.url)
    if new_doc:
        out.append(Change(kind="page", text=after.title))
    elif after.title != before.title and after.title:
        out.append(Change(kind="title", text=after.title))
    if after.heading and after.heading != before.heading:
        out.append(Change(kind="heading", text=after.heading))
    seen = set(before.headings) | {after.heading or "", after.dialog or ""}
    for h in after.headings:
        if h not in seen and not new_doc:
            out.append(Change(kind="section", text=h))
    seen |= set(after.headings)
    for m in after.messages:
        if m not in before.messages:
            out.append(Change(kind="message", text=m))
    if not new_doc:
        old = set(before.items)
        out.extend(Change(kind="item", text=t) for t in after.items if t not in old and t not in seen)
    return out


def _strip_hash(url: str) -> str:
    return url.split("#", 1)[0]


# --------------------------------------------------------------------------- reading the page


def _js() -> str:
    return resources.files(__package__).joinpath("observe.js").read_text(encoding="utf-8")


async def read_page(page: Any, js: str) -> PageState | None:
    """The page's state now, or None if it cannot be read (a document being replaced)."""
    try:
        raw = await asyncio.wait_for(page.evaluate(f"() => ({js}).pageState()"), 5.0)
    except Exception:  # noqa: BLE001 - a navigation in flight, a closed page: nothing to read now
        return None
    if not isinstance(raw, dict):
        return None
    return PageState(
        title=str(raw.get("title") or ""),
        heading=raw.get("heading") or None,
        headings=[str(h) for h in raw.get("headings") or []],
        dialog=None if raw.get("dialog") is None else str(raw["dialog"]),
        messages=[str(m) for m in raw.get("messages") or []],
        items=[str(t) for t in raw.get("items") or []],
        url=str(raw.get("url") or ""),
    )


def parse_aria_line(snapshot: str) -> tuple[str | None, str | None]:
    """(role, name) from the first line of Playwright's ARIA snapshot (``- link "Sign in":``)."""
    first = snapshot.strip().splitlines()[0] if snapshot.strip() else ""
    m = _ROLE_LINE.match(first)
    if m is None:
        return None, None
    role = m.group(1)
    name = m.group(2)
    if name is not None:
        name = re.sub(r"\\(.)", r"\1", name)
    if role in ("generic", "text", "paragraph", "none", "presentation"):
        role = None
    return role, (" ".join(name.split()) or None) if name else None


async def read_target(loc: Any, js: str) -> Target | None:
    """The accessible name, role and surroundings of the one element ``loc`` means."""
    try:
        raw = await asyncio.wait_for(loc.evaluate(f"e => ({js}).target(e)", timeout=1000), 3.0)
    except Exception:  # noqa: BLE001 - gone or ambiguous: the step itself reports real problems
        return None
    if not isinstance(raw, dict):
        return None
    role: str | None = None
    name: str | None = None
    with contextlib.suppress(Exception):
        role, name = parse_aria_line(await asyncio.wait_for(loc.aria_snapshot(timeout=1000), 3.0))
    name = name or raw.get("aria_name") or None
    text = raw.get("text") or None
    if text is not None and (text == name or len(text) > 80):
        text = None
    if name is None and text is None and raw.get("placeholder"):
        name = raw["placeholder"]
    short = raw.get("short") or None
    if short is not None and (name is None or short == name or not name.startswith(short)):
        short = None
    return Target(
        role=role,
        name=name,
        short=short,
        text=text,
        context=raw.get("context") or None,
        region=raw.get("region") or None,
        region_name=raw.get("region_name") or None,
        value=raw.get("value") or None,
    )


# --------------------------------------------------------------------------- the run


async def observe_flow(
    actions: Sequence[Any],
    settings: Settings,
    *,
    site_files: dict[str, Path] | None = None,
    root: Path | None = None,
    browser: Browser | None = None,
    cancel: CancelToken | None = None,
    time_limit_s: float = DEFAULT_TIME_LIMIT_S,
    on_progress: Callable[[float, str], None] | None = None,
    session_file: Path | None = None,
) -> FlowObservation:
    """Replay ``actions`` silently and note what the viewer sees at each step.

    ``site_files`` (URL path -> file) is served on loopback for relative URLs; else
    ``settings.base_url`` is their base.  ``root`` is where uploaded files are found.  Raises
    :class:`~app.core.errors.Cancelled` when cancelled and :class:`~app.core.errors.ToolMissingError`
    when there is no browser; every other problem ends the run early with a note.
    """
    from ..capture import BrowserSession, NullSink
    from ..infra.siteserver import SiteServer
    from ..infra.tools import find_browser
    from ..plan.presets import viewport_size

    cancel = cancel or CancelToken()
    cancel.raise_if_cancelled()
    report = on_progress or (lambda _f, _m: None)
    started = time.monotonic()
    browser = browser or find_browser()
    server = SiteServer(site_files).start() if site_files else None
    base_url = server.base_url if server is not None else settings.base_url
    css_w, css_h = viewport_size(settings)
    storage_state = None
    if session_file is not None and settings.session is not None:
        from ..capture.session import read_storage_state

        try:
            storage_state = read_storage_state(session_file, settings.session, base_url)
        except BaseException:
            if server is not None:
                server.stop()
            raise
    session = BrowserSession(browser, css_w, css_h, OBSERVE_FPS, NullSink(), capture=False, cancel=cancel,
                             storage_state=storage_state, session_asset=settings.session if storage_state else None)
    seen: list[Observation] = []
    note: str | None = None
    try:
        await session.start()
        await session.start_clock()
        run = _Run(session, actions, settings, base_url, root or Path.cwd(), cancel, report, seen)
        watchdog = session.watchdog(lambda: run.where(), stall_s=min(20.0, time_limit_s))
        try:
            note = await asyncio.wait_for(watchdog.guard(run.run()), time_limit_s)
        except TimeoutError:
            note = f"the silent run stopped after {time_limit_s:g} s (the time limit)"
        except RenderError as exc:
            note = _render_note(exc)
    except (Cancelled, asyncio.CancelledError):
        cancel.cancel("cancelled")
        raise
    except ToolMissingError:
        raise
    except ReelwrightError as exc:
        if cancel.cancelled:
            raise Cancelled(cancel.reason) from None
        note = f"the silent run stopped: {exc.message.splitlines()[0]}"
    except Exception as exc:  # noqa: BLE001 - the browser went away: keep what was seen, say why
        if cancel.cancelled:
            raise Cancelled(cancel.reason) from None
        note = f"the silent run stopped: {str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__}"
    finally:
        try:
            await _close(session)
        finally:
            if server is not None:
                server.stop()
    if cancel.cancelled:
        raise Cancelled(cancel.reason)
    result = FlowObservation(observations=list(seen), actions=len(actions), note=note,
                             seconds=round(time.monotonic() - started, 3))
    report(1.0, f"saw {len(seen)} of {len(actions)} steps")
    return result


def _render_note(exc: RenderError) -> str:
    """ "step 4 (fill): the browser closed or crashed" — without the render's card and locator lines
    (the silent run's single card is no card of the user's)."""
    text = exc.message.splitlines()[0]
    if exc.card_index is not None or exc.action_index is not None:
        text = text.split(": ", 1)[-1]
    if exc.action_index is None:
        return f"the silent run stopped: {text}"
    kind, _, why = text.partition(": ")
    step = f"step {exc.action_index + 1}" + (f" ({kind})" if why and " " not in kind else "")
    return f"{step} could not be replayed: {why if why and ' ' not in kind else text}"


async def _close(session: Any) -> None:
    """Close the browser even if the task is cancelled meanwhile (bounded by the session itself)."""
    task = asyncio.ensure_future(session.close())
    while not task.done():
        with contextlib.suppress(asyncio.CancelledError):
            await asyncio.shield(task)


class _Run:
    """One silent run: the performer's executors, with the page read before and after each step."""

    def __init__(self, session: Any, actions: Sequence[Any], settings: Settings, base_url: str | None,
                 root: Path, cancel: CancelToken, report: Callable[[float, str], None],
                 seen: list[Observation]) -> None:
        from ..bundle import Job
        from ..capture.performer import Performer

        self.session = session
        self.actions = list(actions)
        self.cancel = cancel
        self.report = report
        self.seen = seen
        self.js = _js()
        # the performer's own settings, minus what only the video shows (cursor, key badges, camera)
        quiet = settings.model_copy(update={"cursor": False, "key_badges": "off", "camera": "off"})
        script = Script.model_construct(version=1, title="observe", settings=quiet, cards=[])
        job = Job(script=script, root=root, loose=True)
        self.performer = Performer(session.page, session.cdp, session.clock, quiet, job, base_url=base_url,
                                   cancel=cancel, error_name="observe", session=session)
        #: native dialogs seen (type, message); the performer's dialog driver answers them as a render does
        self.dialogs: list[tuple[str, str]] = []
        #: the browser's target id of each page Playwright has reported (None: it closed first)
        self._target_ids: dict[Any, str | None] = {}

    def where(self) -> Any:
        return self.performer.where

    def _on_dialog(self, dialog: Any) -> None:
        """Note a native dialog (only noted: the performer's dialog driver answers it)."""
        self.dialogs.append((str(dialog.type), " ".join(str(dialog.message).split())[:120]))

    async def run(self) -> str | None:
        """Observe every step; the note saying why it stopped early, or None."""
        from ..capture.performer import EXECUTORS
        from ..capture.watchdog import Where

        p = self.performer
        page = p.page
        page.context.on("dialog", self._on_dialog)
        clock = self.session.clock
        await clock.advance_to(0)
        state = await read_page(page, self.js)
        n = len(self.actions)
        for i, a in enumerate(self.actions):
            self.cancel.raise_if_cancelled()
            self.report(i / max(1, n), f"step {i + 1} of {n}")
            target_loc: Locator | None = getattr(a, "target", None)
            p.where = Where(0, "observe", i, a.type, target_loc.describe() if target_loc is not None else None)
            executor = EXECUTORS.get(a.type)
            if a.type == "dialog" and executor is not None:  # armed for the next step, as in a render
                await self._perform(i, a, executor)
                self.seen.append(Observation(index=i, type=a.type, before=state, after=state))
                continue
            if executor is None and a.type not in _OVERLAY_ONLY:
                return f"step {i + 1} ({a.type}) cannot be replayed silently"
            target: Target | None = None
            if target_loc is not None and a.type != "wait_for":
                with contextlib.suppress(Exception):
                    loc, _box = await p.resolve(target_loc, visible=a.type != "scroll")
                    target = await read_target(loc, self.js)
            tabs_before = await self._tab_targets()
            dialogs_before = len(self.dialogs)
            if a.type not in _OVERLAY_ONLY:
                assert executor is not None
                try:
                    await self._perform(i, a, executor)
                except RenderError as exc:
                    return _render_note(exc)
                if a.type in _REACTING:
                    await self._settle()
            after = await read_page(p.page, self.js)
            if target_loc is not None and (a.type == "wait_for" or target is None or a.type in
                                           ("select", "check", "uncheck")):
                with contextlib.suppress(Exception):
                    seen_after = await read_target(p.locator(target_loc), self.js)
                    if seen_after is not None:
                        target = seen_after if target is None else target.model_copy(
                            update={"value": seen_after.value})
            changes = changes_between(state, after)
            for kind, message in self.dialogs[dialogs_before:]:
                changes.insert(0, Change(kind="native_dialog", text=message or kind))
            for title in await self._opened_tabs(tabs_before):
                changes.insert(0, Change(kind="tab", text=title))
            self.seen.append(Observation(index=i, type=a.type, target=target, before=state, after=after,
                                         changes=changes))
            state = after if after is not None else state
        return None

    async def _perform(self, i: int, a: Any, executor: Any) -> None:
        """Run one step as a render runs it: on its tab, then what follows it (the dialog it raised is
        answered, a download discarded, a signed-in check); a tab that closed itself is let go."""
        from ..capture.performer import ActionContext

        p = self.performer
        clock = self.session.clock
        ctx = ActionContext(0, "observe", i, clock.now, clock.now)
        await p._guard(ctx, a, p._on_tab(ctx, a, executor))
        await p._guard(ctx, a, p.after_action(ctx, a))
        p.forget_closed_tabs()

    async def _tab_targets(self) -> dict[str, str] | None:
        """The tabs the browser lists now (target id -> title), None if it cannot say (it died: the
        step itself reports that)."""
        from playwright.async_api import Error as PlaywrightError

        try:
            return await self.session.tab_targets()  # type: ignore[no-any-return]
        except PlaywrightError:
            return None

    async def _opened_tabs(self, before: dict[str, str] | None) -> list[str]:
        """The titles of the tabs the step opened: those the browser lists now and did not before.

        The browser's list is exact once the step is done (a page creates its popup while it handles
        the click); only a tab's title needs its page, which Playwright reports later, in real time."""
        after = await self._tab_targets() if before is not None else None
        if before is None or after is None:
            return []
        titles = []
        for target_id, listed in after.items():
            if target_id in before:
                continue
            tab = await self._reported_tab(target_id)
            if tab is not None:
                titles.append(await _tab_title(tab, self.js))
            else:  # not reported in time: the tab is still seen, titled as the browser lists it now
                now = await self._tab_targets() or {}
                titles.append(now.get(target_id, listed))
        return titles

    async def _reported_tab(self, target_id: str) -> Any | None:
        """Playwright's page for the browser's tab ``target_id``, once Playwright reports it (a bounded
        real-time wait, :data:`NEW_TAB_REPORT_S`); None if it did not, or the tab closed."""
        context = self.session.context
        if context is None:
            return None
        arrived = asyncio.Event()

        def on_page(_page: Any) -> None:
            arrived.set()

        context.on("page", on_page)
        loop = asyncio.get_running_loop()
        end = loop.time() + NEW_TAB_REPORT_S
        try:
            while True:
                arrived.clear()  # before looking: a tab reported while we look wakes the wait below
                for page in list(context.pages):
                    if page not in self._target_ids:
                        self._target_ids[page] = await self.session.target_id(page)
                    if self._target_ids[page] == target_id:
                        return page
                left = end - loop.time()
                if left <= 0:
                    return None
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(arrived.wait(), left)
        finally:
            context.remove_listener("page", on_page)

    async def _settle(self) -> None:
        """Give the page a moment (on the video clock) to react, and a started navigation time to load."""
        p = self.performer
        clock = self.session.clock
        url = p.page.url
        end = clock.now + SETTLE_S
        while clock.now < end:
            await clock.step()
            loading = await p._eval("() => document.readyState !== 'complete'")
            if p.page.url != url or loading:
                with contextlib.suppress(Exception):
                    await p.wait_loaded()
                return


async def _tab_title(tab: Any, js: str, wait_s: float = 8.0) -> str:
    """A new tab's title (it runs on real time: give it a moment to load, bounded)."""
    loop = asyncio.get_running_loop()
    end = loop.time() + wait_s
    while True:
        with contextlib.suppress(Exception):
            await tab.wait_for_load_state("load", timeout=max(100, int((end - loop.time()) * 1000)))
        state = await read_page(tab, js)
        title = (state.title or state.heading or "") if state is not None else ""
        if title or loop.time() >= end:
            return title
        await asyncio.sleep(0.1)
