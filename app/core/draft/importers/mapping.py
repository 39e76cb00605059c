"""From language-neutral flow events to script actions.

Every statement and locator form Playwright's codegen emits is understood here, once, for all source
languages.  What cannot be replayed declaratively is reported with its file, line and column.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath, PureWindowsPath
from typing import Any

from pydantic import TypeAdapter, ValidationError

from ...keys import KeyError_, check_modifier, parse_chord
from ...script import (
    ARIA_ROLES,
    DIALOG_TRIGGERS,
    FIRST_PAGE,
    Action,
    Card,
    Locator,
    Script,
    Settings,
    _semantic_problems,
    css_engine_problem,
)
from .model import (
    CallStmt,
    Chain,
    FlowEvent,
    Handler,
    PageAlias,
    Regex,
    Seg,
    Site,
    SkippedLine,
    Unsupported,
    Value,
)

_ACTION_ADAPTER: TypeAdapter[Any] = TypeAdapter(Action)


@dataclass
class ImportResult:
    """The actions imported from one codegen file, in order, and every line that was skipped."""

    actions: list[Action]
    skipped: list[SkippedLine]
    source: Path
    flavour: str = ""
    #: notes about what was understood but is not replayed as written (a persistent dialog handler,
    #: a session saved at the end...), each naming its line
    warnings: list[str] = field(default_factory=list)
    #: the storage-state files the flow loads, as the flow names them (e.g. "auth.json"): the flow
    #: needs them as session assets to render signed in
    sessions: list[str] = field(default_factory=list)

    @property
    def session(self) -> str | None:
        """The ``settings.session`` the flow needs: ``sessions/<file name>`` of its first session file."""
        return session_setting(self.sessions[0]) if self.sessions else None


def session_setting(name: str) -> str:
    """``settings.session`` for a storage-state file the flow names: ``sessions/<its file name>``."""
    return f"sessions/{PureWindowsPath(PurePosixPath(name).name).name}"


class _Unsupported(Exception):
    """Raised inside the mapper for one statement; becomes a SkippedLine with its site."""

    def __init__(self, reason: str, column: int | None = None) -> None:
        super().__init__(reason)
        self.reason = reason
        self.column = column


#: setup objects' methods that do not change what the flow shows: understood and dropped
_SETUP_DROPPED = frozenset(
    {
        "close",
        "storage_state",
        "tracing",
        "set_default_timeout",
        "set_default_navigation_timeout",
        "route_from_har",
        "grant_permissions",
        "clear_permissions",
        "clear_cookies",
        "add_cookies",
        "set_geolocation",
        "set_extra_http_headers",
        "set_offline",
        "unroute_all",
    }
)
#: page methods that are dropped: waits the renderer does itself, or no-ops for a recording
_PAGE_DROPPED = frozenset(
    {
        "wait_for_load_state",
        "pause",
        "set_viewport_size",
        "set_default_timeout",
        "set_default_navigation_timeout",
        "route_from_har",
    }
)
_LOCATOR_FACTORIES = frozenset(
    {
        "locator",
        "get_by_role",
        "get_by_label",
        "get_by_placeholder",
        "get_by_text",
        "get_by_test_id",
        "get_by_alt_text",
        "get_by_title",
    }
)
_TEXT_KIND = {
    "get_by_label": "label",
    "get_by_placeholder": "placeholder",
    "get_by_text": "text",
    "get_by_alt_text": "alt",
    "get_by_title": "title",
}
_IGNORABLE = frozenset({"timeout", "force", "no_wait_after", "strict"})
SETUP_CALLS = frozenset(
    {
        "launch",
        "launch_persistent_context",
        "connect",
        "connect_over_cdp",
        "new_context",
        "start",
        "sync_playwright",
        "async_playwright",
    }
)


def _plain(v: Value, what: str) -> str:
    if isinstance(v, str):
        return v
    if isinstance(v, Regex):
        lit = v.anchored_literal()
        if lit is not None:
            return lit
        raise _Unsupported(
            f"{what} is a regular expression /{v.pattern}/{v.flags}; only plain text (or an "
            "exact ^text$ pattern) can be replayed"
        )
    raise _Unsupported(f"{what} must be a string literal")


def _text_and_exact(v: Value, exact_kw: Value, what: str) -> tuple[str, bool]:
    if isinstance(v, Regex):
        return _plain(v, what), True
    text = _plain(v, what)
    if exact_kw is None:
        return text, False
    if not isinstance(exact_kw, bool):
        raise _Unsupported("'exact' must be true or false")
    return text, exact_kw


def _check_kwargs(seg: Seg, allowed: Iterable[str]) -> None:
    ok = set(allowed) | _IGNORABLE
    for k in seg.kwargs:
        if k not in ok:
            raise _Unsupported(f"option '{k}' of .{seg.name}() is not supported", seg.column)


def _arg(seg: Seg, i: int, what: str) -> Value:
    if len(seg.args) <= i:
        raise _Unsupported(f".{seg.name}() needs {what}", seg.column)
    return seg.args[i]


def _int(v: Value, what: str) -> int:
    if isinstance(v, bool) or not isinstance(v, int | float) or int(v) != v:
        raise _Unsupported(f"{what} must be a whole number")
    return int(v)


def _frame_selector(sel: Value, seg: Seg, how: str) -> str:
    """An iframe selector that can become a ``Locator.frame`` entry: a plain CSS selector only."""
    if not isinstance(sel, str):
        raise _Unsupported(f"{how} takes an iframe selector string", seg.column)
    if not sel.strip():
        raise _Unsupported(f"{how} has an empty iframe selector", seg.column)
    if (engine := css_engine_problem(sel)) is not None:
        raise _Unsupported(f"the iframe selector of {how}: {engine}", seg.column)
    return sel


class _LocatorBuilder:
    """Folds locator segments into a nested :class:`Locator` (chains become ``within``; the iframes
    entered before the first element, outermost first, become its ``frame``)."""

    def __init__(self) -> None:
        self.cur: dict[str, Any] | None = None
        self.frames: list[str] = []  # iframes entered, not yet attached to an element

    def _new_level(self, fields: dict[str, Any]) -> None:
        if self.cur is not None:
            fields["within"] = self.cur
        elif self.frames:
            fields["frame"] = self.frames[0] if len(self.frames) == 1 else list(self.frames)
            self.frames = []
        self.cur = fields

    def add(self, seg: Seg) -> None:
        n = seg.name
        if n in _LOCATOR_FACTORIES:
            if n == "locator":
                _check_kwargs(seg, ("has_text",))
                sel = _arg(seg, 0, "a selector")
                if not isinstance(sel, str):
                    raise _Unsupported(".locator() takes a selector string here", seg.column)
                if (engine := css_engine_problem(sel)) is not None:
                    raise _Unsupported(engine, seg.column)
                fields: dict[str, Any] = {"css": sel}
                if "has_text" in seg.kwargs:
                    fields["has_text"] = _plain(seg.kwargs["has_text"], "has_text")
            elif n == "get_by_role":
                _check_kwargs(seg, ("name", "exact"))
                role = _arg(seg, 0, "a role")
                if not isinstance(role, str) or role not in ARIA_ROLES:
                    raise _Unsupported(f"{role!r} is not an ARIA role", seg.column)
                fields = {"role": role}
                if "name" in seg.kwargs:
                    name, exact = _text_and_exact(seg.kwargs["name"], seg.kwargs.get("exact"), "the name")
                    fields["name"] = name
                    fields["exact"] = exact
            elif n == "get_by_test_id":
                _check_kwargs(seg, ())
                tid = _arg(seg, 0, "a test id")
                if not isinstance(tid, str):
                    raise _Unsupported("a test id must be a string literal", seg.column)
                fields = {"test_id": tid}
            else:
                _check_kwargs(seg, ("exact",))
                text, exact = _text_and_exact(_arg(seg, 0, "a text"), seg.kwargs.get("exact"), "the text")
                fields = {_TEXT_KIND[n]: text, "exact": exact}
            self._new_level(fields)
        elif n == "frame_locator":
            if self.cur is not None:
                raise _Unsupported(
                    "a frame inside a located element is not supported; start the chain at the iframe "
                    "(frame_locator(...) or locator(iframe).content_frame)", seg.column
                )
            if not seg.args:  # codegen writes this when it cannot name a nested iframe
                raise _Unsupported(
                    ".frame_locator() without a selector: the recorder could not name this (nested) iframe; "
                    "write the iframes' CSS selectors, outermost first, e.g. "
                    'frame_locator("#outer").frame_locator("iframe[name=inner]")', seg.column
                )
            self.frames.append(_frame_selector(seg.args[0], seg, ".frame_locator()"))
        elif n == "content_frame":
            cur = self.cur
            if cur is None or set(cur) - {"css", "frame"}:
                raise _Unsupported(
                    ".content_frame is supported right after locator(\"iframe selector\") (a plain CSS "
                    "selector, with no filter, index or element around it)", seg.column
                )
            outer = cur.get("frame")
            self.frames = ([outer] if isinstance(outer, str) else list(outer or [])) + [
                _frame_selector(cur["css"], seg, ".content_frame")
            ]
            self.cur = None
        elif n in ("first", "last", "nth"):
            if self.cur is None and self.frames:
                raise _Unsupported(
                    f".{n} picks an iframe by position, which cannot be replayed; aim at the iframe with a CSS "
                    "selector that matches it alone (e.g. its id or name)", seg.column
                )
            if self.cur is None:
                raise _Unsupported(f".{n} needs a locator before it", seg.column)
            if self.cur.get("nth") is not None:
                raise _Unsupported(f".{n} after an index was already chosen is not supported", seg.column)
            self.cur["nth"] = 0 if n == "first" else -1 if n == "last" else _int(_arg(seg, 0, "an index"), "the index")
        elif n == "filter":
            if self.cur is None:
                raise _Unsupported(".filter() needs a locator before it", seg.column)
            _check_kwargs(seg, ("has_text",))
            if "has_text" not in seg.kwargs or seg.args:
                raise _Unsupported(".filter() is supported with has_text only", seg.column)
            if self.cur.get("has_text") is not None or self.cur.get("nth") is not None:
                raise _Unsupported(".filter() after a filter or an index is not supported", seg.column)
            self.cur["has_text"] = _plain(seg.kwargs["has_text"], "has_text")
        else:
            raise _Unsupported(
                f".{n}{'()' if seg.called else ''} is not a locator method Reelwright can replay", seg.column
            )

    def build(self, column: int) -> Locator:
        if self.cur is None:
            raise _Unsupported("an action needs a locator (e.g. page.get_by_role(...))", column)
        if self.frames:
            raise _Unsupported("a frame with no element inside it", column)
        try:
            return Locator.model_validate(self.cur)
        except ValidationError as exc:
            raise _Unsupported(f"invalid locator: {exc.errors()[0]['msg']}", column) from None


def _locator(segs: Sequence[Seg], column: int) -> Locator:
    b = _LocatorBuilder()
    for s in segs:
        b.add(s)
    return b.build(column)


def _modifiers(v: Value) -> list[str]:
    if not isinstance(v, list) or not all(isinstance(m, str) for m in v):
        raise _Unsupported("modifiers must be a list of key names")
    for m in v:
        _known(check_modifier, str(m))
    return [str(m) for m in v]


def _chord(key: str) -> str:
    _known(parse_chord, key)
    return key


def _known(check: Callable[[str], object], name: str) -> None:
    """A key or modifier name the renderer can press, checked against the same table it uses."""
    try:
        check(name)
    except KeyError_ as exc:
        raise _Unsupported(exc.message + (f" ({exc.hint})" if exc.hint else "")) from None


def _position(v: Value) -> dict[str, float]:
    if not isinstance(v, dict) or set(v) != {"x", "y"}:
        raise _Unsupported("position must be {x, y}")
    out = {}
    for k in ("x", "y"):
        n = v[k]
        if isinstance(n, bool) or not isinstance(n, int | float):
            raise _Unsupported("position must hold numbers")
        out[k] = float(n)
    return out


def _upload_files(v: Value) -> list[str]:
    items = v if isinstance(v, list) else [v]
    files: list[str] = []
    for f in items:
        if not isinstance(f, str):
            raise _Unsupported("set_input_files takes file names here (not buffers or variables)")
        if PurePosixPath(f).is_absolute() or PureWindowsPath(f).is_absolute():
            raise _Unsupported(
                f"'{f}' is an absolute path; copy the file next to the script and name it "
                "relatively (uploads are assets of the job bundle)"
            )
        files.append(f.replace("\\", "/"))
    if not files:
        raise _Unsupported("clearing a file input is not supported")
    return files


def _locator_action(segs: list[Seg], column: int) -> dict[str, Any]:
    """``page.<locator segments>.<action>(...)`` → action fields."""
    act = segs[-1]
    target = _locator(segs[:-1], column)
    t = target.model_dump(exclude_defaults=True)
    n = act.name
    if n in ("click", "dblclick", "tap"):
        _check_kwargs(act, ("button", "modifiers", "position", "click_count", "delay", "trial"))
        if act.kwargs.get("trial"):
            raise _Unsupported("a trial click does nothing visible", act.column)
        fields: dict[str, Any] = {"type": "dblclick" if n == "dblclick" else "click", "target": t}
        if "button" in act.kwargs:
            fields["button"] = act.kwargs["button"]
        if "modifiers" in act.kwargs:
            fields["modifiers"] = _modifiers(act.kwargs["modifiers"])
        if "position" in act.kwargs:
            fields["position"] = _position(act.kwargs["position"])
        if "click_count" in act.kwargs:
            count = _int(act.kwargs["click_count"], "click_count")
            if count == 2:
                fields["type"] = "dblclick"
            elif count != 1:
                raise _Unsupported(f"click_count={count} is not supported (1 or 2)", act.column)
        return fields
    if n == "fill":
        _check_kwargs(act, ())
        value = _arg(act, 0, "a value")
        if not isinstance(value, str):
            raise _Unsupported(".fill() takes a string literal here", act.column)
        return {"type": "fill", "target": t, "value": value}
    if n == "clear":
        _check_kwargs(act, ())
        return {"type": "fill", "target": t, "value": ""}
    if n in ("type", "press_sequentially"):
        _check_kwargs(act, ("delay",))
        text = _arg(act, 0, "text")
        if not isinstance(text, str):
            raise _Unsupported(f".{n}() takes a string literal here", act.column)
        fields = {"type": "type", "target": t, "text": text}
        if "delay" in act.kwargs:
            fields["delay_ms"] = min(1000, max(0, _int(act.kwargs["delay"], "delay")))
        return fields
    if n == "press":
        _check_kwargs(act, ("delay",))
        key = _arg(act, 0, "a key")
        if not isinstance(key, str):
            raise _Unsupported(".press() takes a key name", act.column)
        return {"type": "press", "key": _chord(key), "target": t}
    if n in ("check", "uncheck"):
        _check_kwargs(act, ("position", "trial"))
        return {"type": n, "target": t}
    if n == "set_checked":
        _check_kwargs(act, ("position", "trial"))
        on = _arg(act, 0, "true or false")
        if not isinstance(on, bool):
            raise _Unsupported(".set_checked() takes true or false", act.column)
        return {"type": "check" if on else "uncheck", "target": t}
    if n == "select_option":
        _check_kwargs(act, ("value", "label", "index", "element"))
        if "index" in act.kwargs or "element" in act.kwargs:
            raise _Unsupported("select_option by index or element is not supported; use a value or label", act.column)
        raw: Value = act.args[0] if act.args else act.kwargs.get("value", act.kwargs.get("label"))
        items = raw if isinstance(raw, list) else [raw]
        values: list[str] = []
        for it in items:
            if isinstance(it, dict):
                if len(it) != 1 or not ({"value", "label"} & set(it)):
                    raise _Unsupported("select_option takes {value: ...} or {label: ...}", act.column)
                it = next(iter(it.values()))
            if not isinstance(it, str):
                raise _Unsupported("select_option takes option values or labels as strings", act.column)
            values.append(it)
        if not values:
            raise _Unsupported("select_option with no option", act.column)
        return {"type": "select", "target": t, "values": values}
    if n == "hover":
        _check_kwargs(act, ("position", "modifiers", "trial"))
        return {"type": "hover", "target": t}
    if n == "set_input_files":
        _check_kwargs(act, ())
        return {"type": "upload", "target": t, "files": _upload_files(_arg(act, 0, "files"))}
    if n == "scroll_into_view_if_needed":
        _check_kwargs(act, ())
        return {"type": "scroll", "target": t}
    if n == "highlight":
        _check_kwargs(act, ())
        return {"type": "highlight", "target": t}
    if n == "wait_for":
        _check_kwargs(act, ("state",))
        fields = {"type": "wait_for", "target": t}
        if "state" in act.kwargs:
            fields["state"] = act.kwargs["state"]
        return fields
    raise _Unsupported(f".{n}() is not a browser action Reelwright can replay", act.column)


#: locator assertions that only wait for the element to be there (their exact state is not replayed)
_PRESENCE_ASSERTIONS = frozenset(
    {
        "to_be_checked",
        "to_be_enabled",
        "to_be_disabled",
        "to_be_editable",
        "to_be_empty",
        "to_be_focused",
        "to_have_value",
        "to_have_values",
        "to_have_attribute",
        "to_have_class",
        "to_have_id",
        "to_match_aria_snapshot",
        "to_have_accessible_name",
        "to_have_accessible_description",
        "to_have_role",
        "to_have_css",
        "to_be_in_viewport",
        "to_have_count",
        "to_contain_class",
    }
)


def _assertion(chain: Chain, is_page: Callable[[str], bool], column: int) -> dict[str, Any]:
    first = chain.segs[0]
    if len(first.args) != 1 or not isinstance(first.args[0], Chain):
        raise _Unsupported("expect() takes a page or a locator", first.column)
    subject: Chain = first.args[0]
    rest = chain.segs[1:]
    negated = False
    if rest and rest[0].name == "not" and not rest[0].called:
        negated, rest = True, rest[1:]
    if len(rest) != 1 or not rest[0].called:
        raise _Unsupported("an assertion is expect(...).to_...()", column)
    m = rest[0]
    name = m.name
    if name.startswith("not_to_"):
        negated, name = not negated, name[4:]
    if not is_page(subject.root):
        raise _Unsupported(f"expect() on '{subject.text()}', which is not a page of this flow", subject.column)
    timeout: dict[str, Any] = {}
    if "timeout" in m.kwargs:
        timeout["timeout_ms"] = min(120_000, max(0, _int(m.kwargs["timeout"], "timeout")))
    if not subject.segs:  # a page assertion
        if name == "to_have_url" and not negated:
            url = _plain(_arg(m, 0, "a URL"), "the URL")
            return {"type": "wait_for", "url": url, **timeout}
        raise _Unsupported(f"the page assertion .{m.name}() cannot be replayed", m.column)
    target = _locator(subject.segs, column).model_dump(exclude_defaults=True)
    if name in ("to_be_visible", "to_be_attached", "to_be_hidden"):
        state = {"to_be_visible": "visible", "to_be_attached": "attached", "to_be_hidden": "hidden"}[name]
        if negated:
            state = {"visible": "hidden", "attached": "detached", "hidden": "visible"}[state]
        return {"type": "wait_for", "target": target, "state": state, **timeout}
    if name in ("to_have_text", "to_contain_text"):
        text = _plain(_arg(m, 0, "a text"), "the expected text")
        if target.get("has_text") is None and target.get("nth") is None:
            target["has_text"] = text
        else:
            target = {"text": text, "within": target}
        return {"type": "wait_for", "target": target, "state": "hidden" if negated else "visible", **timeout}
    if name in _PRESENCE_ASSERTIONS:
        return {"type": "wait_for", "target": target, "state": "visible", **timeout}
    raise _Unsupported(f"the assertion .{m.name}() is not supported", m.column)



#: what a flow may do with a download it waited for: keep it (save_as), inspect it... none of it is shown
_DOWNLOAD_DROPPED = frozenset(
    {"save_as", "path", "suggested_filename", "url", "failure", "delete", "cancel", "create_read_stream", "page"}
)
#: actions that can open a popup or start a download (the model's ``opens``/``download`` fields)
_OPENERS = frozenset({"click", "dblclick", "press"})
_PAGE_NAME_CHARS = re.compile(r"[^A-Za-z0-9_]")


@dataclass
class _PendingDialog:
    response: str
    text: str | None
    site: Site
    persistent: bool  # page.on (answers every dialog) rather than page.once


@dataclass
class FlowMapper:
    """Turns the flow events of one file into actions, collecting every unsupported line.

    Tabs follow the validator's rules (``script._page_flow_problems``): the flow is on one tab at a
    time; an action on another open tab names it (``page=``) and switches to it; a popup's trigger
    names it (``opens=``) and the popup becomes the tab the flow is on; closing a tab returns to the
    tab that opened it.  So a single-page flow imports exactly as before (no ``page`` anywhere).
    """

    path: Path
    skip_unsupported: bool = False
    actions: list[Action] = field(default_factory=list)
    skipped: list[SkippedLine] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    sessions: list[str] = field(default_factory=list)
    setup_names: set[str] = field(default_factory=lambda: {"browser", "context", "playwright", "p"})
    #: codegen page variables -> the tab they name in the script
    tabs: dict[str, str] = field(default_factory=dict)
    #: open tabs, in the order they opened -> the tab each was opened from (as the validator keeps it)
    opener: dict[str, str | None] = field(default_factory=dict)
    closed: dict[str, int] = field(default_factory=dict)  # codegen variable -> line it was closed on
    active: str | None = None
    #: the action that opened a popup whose page variable has not been named yet, and its line
    pending_popup: tuple[int, Site] | None = None
    dialogs: dict[str, _PendingDialog] = field(default_factory=dict)  # tab -> the answer for its next dialog
    downloads: set[str] = field(default_factory=set)  # variables holding a download
    sites: list[Site] = field(default_factory=list)  # the statement each action came from
    _site: Site | None = None  # the statement being mapped

    def _skip(self, site: Site, reason: str, column: int | None = None) -> None:
        self.skipped.append(SkippedLine(self.path, site.line, column or site.column, site.source_line, reason))

    def _warn(self, site: Site, message: str) -> None:
        self.warnings.append(f"{self.path.name}:{site.line}: {message}")

    def run(self, events: Iterable[FlowEvent]) -> None:
        for ev in events:
            self._site = ev.site
            try:
                if not (isinstance(ev, PageAlias) and ev.from_popup):
                    self._name_popup(None)
                if isinstance(ev, Unsupported):
                    self._skip(ev.site, ev.reason)
                elif isinstance(ev, PageAlias):
                    self._page_alias(ev)
                else:
                    self._call(ev)
            except _Unsupported as exc:
                self._skip(ev.site, exc.reason, exc.column)
        self._name_popup(None)
        for tab, d in self.dialogs.items():
            self._warn(d.site, f"the dialog handler on '{tab}' answers no dialog: no action after it can raise "
                       "one, so it was left out")
        self.dialogs.clear()
        self._validate()

    def _validate(self) -> None:
        """Report (at its line) any action the script validator would refuse, so an import never yields a
        script that fails validation; with skip_unsupported such actions are left out."""
        for _ in range(50):
            card = Card.model_construct(id="flow", actions=list(self.actions))
            script = Script.model_construct(settings=Settings(base_url="http://localhost/"), cards=[card])
            bad = sorted({p.action_index: p for p in _semantic_problems(script)
                          if p.action_index is not None}.items())
            if not bad:
                return
            for index, problem in reversed(bad):
                site = self.sites[index]
                self._skip(site, f"{problem.message} ({self.actions[index].type} action)")
                del self.actions[index]
                del self.sites[index]
    # ------------------------------------------------------------------ sessions and setup

    def note_session(self, value: Value, site: Site, column: int | None = None) -> None:
        """The flow loads a storage state (``storage_state=``, ``storageState:``, ``--load-storage``)."""
        if not isinstance(value, str) or not value.strip():
            raise _Unsupported(
                "the storage state must name a file (e.g. \"auth.json\", as codegen --save-storage writes); "
                "an inline or computed storage state cannot become a session", column
            )
        name = session_setting(value)[len("sessions/"):]
        if not name.lower().endswith(".json") or name.startswith("."):
            raise _Unsupported(f"'{value}' is not a storage-state file (a .json file, as codegen "
                               "--save-storage writes)", column)
        if value not in self.sessions:
            if self.sessions:
                self._warn(site, f"a second session file '{value}': the video loads one session, "
                           f"'{self.sessions[0]}'")
            self.sessions.append(value)

    def setup_assignment(self, name: str, chain: Chain, site: Site) -> FlowEvent | None:
        """An assignment ``name = chain``: a page, a setup object, or unsupported."""
        self.note_setup_chain(chain, site)
        last = chain.segs[-1].name if chain.segs else ""
        if last == "new_page":
            return PageAlias(name, site, from_popup=False)
        if last in SETUP_CALLS or (chain.root == "" and chain.segs and chain.segs[0].name in SETUP_CALLS):
            self.setup_names.add(name)
            return None
        return Unsupported(
            site,
            f"assigns '{name}' from {chain.text()}; variables other than the browser "
            "setup and pages are not supported (codegen flows are straight-line)",
        )

    def note_setup_chain(self, chain: Chain, site: Site) -> None:
        """Browser setup (``new_context(storage_state=...)``...): note the session it loads, if any."""
        for seg in chain.segs:
            if "storage_state" in seg.kwargs and seg.kwargs["storage_state"] is not None:
                self.note_session(seg.kwargs["storage_state"], site, seg.column)

    def fixture_page(self) -> None:
        """The flow is a test whose ``page`` fixture is the first tab."""
        if self.active is None:
            self._first_page(FIRST_PAGE)

    def note_download(self, name: str) -> None:
        """``name`` holds a download the flow waited for (its save_as/path calls are not replayed)."""
        self.downloads.add(name)

    # ------------------------------------------------------------------ tabs

    def _fresh_tab(self, var: str) -> str:
        base = _PAGE_NAME_CHARS.sub("_", var)[:60] or "tab"
        if not (base[0].isalpha() or base[0] == "_"):
            base = "_" + base[:59]
        name, n = base, 1
        while name in self.opener or (name == FIRST_PAGE and self.tabs.get(var) != FIRST_PAGE):
            n += 1
            name = f"{base}_{n}"
        return name

    def _open(self, tab: str) -> None:
        self.opener[tab] = self.active
        self.active = tab

    def _first_page(self, var: str) -> None:
        self.tabs[var] = FIRST_PAGE
        self.opener[FIRST_PAGE] = None
        self.active = FIRST_PAGE

    def _name_popup(self, var: str | None) -> None:
        """The popup the last trigger opened is the page ``var`` (None: it is never named)."""
        if self.pending_popup is None:
            return
        index, _site = self.pending_popup
        self.pending_popup = None
        tab = self._fresh_tab(var if var is not None else "popup")
        if var is not None:
            self.tabs[var] = tab
            self.closed.pop(var, None)
        trigger = self.actions[index]
        self.actions[index] = trigger.model_copy(update={"opens": tab})
        self._open(tab)

    def _page_alias(self, ev: PageAlias) -> None:
        if ev.from_popup:
            if self.pending_popup is None:
                raise _Unsupported(f"'{ev.name}' takes a popup that no action opened")
            self._name_popup(ev.name)
            return
        if self.active is None:  # the first page: context.new_page() in a library script
            self._first_page(ev.name)
            return
        if ev.name in self.tabs and self.tabs[ev.name] in self.opener:
            raise _Unsupported(f"'{ev.name}' already names an open page; name the new page differently")
        tab = self._fresh_tab(ev.name)
        self.tabs[ev.name] = tab
        self.closed.pop(ev.name, None)
        self._emit({"type": "new_page", "page": tab})
        self._open(tab)

    def _is_page(self, root: str) -> bool:
        if self.active is None and root == FIRST_PAGE:  # a pytest/test-runner fixture named page
            self._first_page(root)
        return root in self.tabs and self.tabs[root] in self.opener

    def _tab_of(self, root: str, column: int) -> str:
        if self._is_page(root):
            return self.tabs[root]
        if root in self.closed:
            raise _Unsupported(f"acts on '{root}' after it was closed (line {self.closed[root]})", column)
        raise _Unsupported(f"'{root}' is not a page of this flow", column)

    def _on(self, tab: str, fields: dict[str, Any]) -> None:
        """Emit ``fields`` acting on ``tab``: naming it when it is not the tab the flow is on, and
        answering the dialog it may raise first."""
        dialog = self.dialogs.get(tab) if fields["type"] in DIALOG_TRIGGERS else None
        if dialog is not None:
            del self.dialogs[tab]
            answer: dict[str, Any] = {"type": "dialog", "response": dialog.response}
            if dialog.text is not None:
                answer["text"] = dialog.text
            here, self._site = self._site, dialog.site  # the answer comes from the handler's line
            try:
                self._emit(self._switch(tab, answer))
            finally:
                self._site = here
        self._emit(self._switch(tab, fields))

    def _switch(self, tab: str, fields: dict[str, Any]) -> dict[str, Any]:
        if tab != self.active:
            fields = {**fields, "page": tab}
            self.active = tab
        return fields

    def _close(self, var: str, tab: str, site: Site) -> None:
        if len(self.opener) <= 1:
            return  # closing the last tab ends the recording: nothing to show
        self._emit({"type": "close_page", **({"page": tab} if tab != self.active else {})})
        back = self.opener.pop(tab)
        for other, came_from in self.opener.items():
            if came_from == tab:
                self.opener[other] = back
        self.active = back if back in self.opener else next(reversed(self.opener))
        self.closed[var] = site.line
        if (d := self.dialogs.pop(tab, None)) is not None:
            self._warn(d.site, f"the dialog handler on '{var}' answers no dialog before the page closes; left out")

    def _dialog_handler(self, tab: str, first: Seg, site: Site) -> None:
        handler = first.args[1] if len(first.args) > 1 else None
        if not isinstance(handler, Handler):
            raise _Unsupported(
                f"page.{first.name}(\"dialog\", ...) needs a function that accepts or dismisses the dialog, "
                "e.g. lambda dialog: dialog.accept()", first.column
            )
        if handler.problem is not None or handler.response is None:
            raise _Unsupported(f"the dialog handler {handler.problem or 'neither accepts nor dismisses'}",
                               first.column)
        if tab in self.dialogs:
            self._warn(self.dialogs[tab].site, "this dialog handler is replaced by a later one before any "
                       "dialog; the later one is used")
        persistent = first.name == "on"
        if persistent:
            self._warn(site, f"page.on(\"dialog\", ...) answers every dialog on '{tab}'; the video answers the "
                       "one raised by the next action that can raise a dialog (a click, key press, fill, select, "
                       "check or goto) — if later actions raise dialogs too, put a page.once(\"dialog\", ...) "
                       "before each of them")
        self.dialogs[tab] = _PendingDialog(handler.response, handler.text, site, persistent)

    # ------------------------------------------------------------------ statements

    def _call(self, ev: CallStmt) -> None:
        chain, site = ev.chain, ev.site
        if not chain.segs:
            raise _Unsupported(f"'{chain.text()}' does nothing")
        if chain.root == "":
            fn = chain.segs[0].name
            if fn == "expect":
                check = _assertion(chain, self._is_page, site.column)
                subject = chain.segs[0].args[0]
                assert isinstance(subject, Chain)
                self._on(self.tabs[subject.root], check)
                return
            raise _Unsupported(
                f"calls {fn}(), which is not a Playwright page action (helper functions are out "
                "of scope: inline their steps)",
                chain.segs[0].column,
            )
        first = chain.segs[0]
        if chain.root in self.downloads:
            if first.name in _DOWNLOAD_DROPPED:
                return
            raise _Unsupported(f"{chain.text()} is not part of what the video shows", first.column)
        if chain.root in self.setup_names:
            if first.name == "storage_state" and isinstance(first.kwargs.get("path"), str):
                self._warn(site, f"the flow saves its signed-in session to '{first.kwargs['path']}' when it "
                           "ends (codegen --save-storage); that is not replayed — add the saved file to the "
                           "library as a session to render flows that need it")
            if first.name in _SETUP_DROPPED:
                return
            if first.name == "new_page":
                self._page_alias(PageAlias("page" if self.active is None else "tab", site, from_popup=False))
                return
            raise _Unsupported(f"{chain.text()} is browser setup Reelwright does not replay")
        tab = self._tab_of(chain.root, chain.column)
        if first.name == "close":
            self._close(chain.root, tab, site)
            return
        if first.name == "bring_to_front":
            if tab != self.active:
                self._emit({"type": "switch_page", "page": tab})
                self.active = tab
            return
        if first.name in _PAGE_DROPPED:
            return
        if first.name in ("once", "on"):
            if first.args and first.args[0] == "dialog":
                self._dialog_handler(tab, first, site)
                return
            raise _Unsupported(f"page.{first.name}({first.args[0] if first.args else ''!r}) handlers are not supported")
        fields: dict[str, Any]
        if first.name == "goto":
            _check_kwargs(first, ("wait_until", "referer"))
            url = _arg(first, 0, "a URL")
            if not isinstance(url, str):
                raise _Unsupported("goto() takes a URL string literal", first.column)
            fields = {"type": "goto", "url": url}
        elif first.name == "wait_for_timeout":
            ms = _int(_arg(first, 0, "milliseconds"), "the wait")
            fields = {"type": "wait", "ms": ms}
        elif first.name == "wait_for_url":
            _check_kwargs(first, ("wait_until",))
            fields = {"type": "wait_for", "url": _plain(_arg(first, 0, "a URL"), "the URL")}
        elif first.name == "keyboard":
            if len(chain.segs) == 2 and chain.segs[1].name == "press":
                key = _arg(chain.segs[1], 0, "a key")
                if not isinstance(key, str):
                    raise _Unsupported("keyboard.press() takes a key name", chain.segs[1].column)
                fields = {"type": "press", "key": _chord(key)}
            else:
                raise _Unsupported(
                    "only page.keyboard.press(key) is supported; type into a located field instead",
                    first.column,
                )
        elif first.name == "mouse":
            raise _Unsupported("raw mouse coordinates are not replayed; aim at an element with a locator", first.column)
        elif first.name in _LOCATOR_FACTORIES or first.name == "frame_locator":
            if len(chain.segs) < 2 or not chain.segs[-1].called:
                raise _Unsupported(f"'{chain.text()}' locates an element but does nothing with it")
            fields = _locator_action(chain.segs, site.column)
        else:
            raise _Unsupported(f"page.{first.name}() is not a browser action Reelwright can replay", first.column)
        if (ev.opens_popup or ev.download) and fields["type"] not in _OPENERS:
            what = "open the popup" if ev.opens_popup else "start the download"
            raise _Unsupported(f"only a click, double-click or key press can {what} the flow waits for")
        if ev.download:
            fields["download"] = True
        self._on(tab, fields)
        if ev.opens_popup:
            self.pending_popup = (len(self.actions) - 1, site)

    def _emit(self, fields: dict[str, Any]) -> None:
        try:
            action = _ACTION_ADAPTER.validate_python(fields)
        except ValidationError as exc:
            err = exc.errors(include_url=False)[0]
            where = ".".join(str(p) for p in err["loc"][1:])
            raise _Unsupported(f"not a valid {fields.get('type')} action ({where}: {err['msg']})") from None
        self.actions.append(action)
        self.sites.append(self._site or Site(1, 1, ""))
