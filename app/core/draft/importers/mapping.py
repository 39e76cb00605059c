"""From language-neutral flow events to script actions.

Every statement and locator form Playwright's codegen emits is understood here, once, for all source
languages.  What cannot be replayed declaratively is reported with its file, line and column.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath, PureWindowsPath
from typing import Any

from pydantic import TypeAdapter, ValidationError

from ...keys import KeyError_, check_modifier, parse_chord
from ...script import (
    ARIA_ROLES,
    Action,
    Locator,
    css_engine_problem,
)
from .model import CallStmt, Chain, FlowEvent, PageAlias, Regex, Seg, Site, SkippedLine, Unsupported, Value

_ACTION_ADAPTER: TypeAdapter[Any] = TypeAdapter(Action)


@dataclass
class ImportResult:
    """The actions imported from one codegen file, in order, and every line that was skipped."""

    actions: list[Action]
    skipped: list[SkippedLine]
    source: Path
    flavour: str = ""


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
        "bring_to_front",
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


class _LocatorBuilder:
    """Folds locator segments into a nested :class:`Locator` (chains become ``within``)."""

    def __init__(self) -> None:
        self.cur: dict[str, Any] | None = None
        self.outer: dict[str, Any] | None = None  # the finished enclosing level, if any
        self.frame: str | None = None

    def _new_level(self, fields: dict[str, Any]) -> None:
        if self.cur is not None:
            fields["within"] = self.cur
        elif self.frame is not None:
            fields["frame"] = self.frame
            self.frame = None
        self.cur = fields

    def add(self, seg: Seg) -> None:
        n = seg.name
        if n in _LOCATOR_FACTORIES:
            if self.cur is not None and self.frame is not None:
                raise _Unsupported("a frame inside a located element is not supported", seg.column)
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
            if self.cur is not None or self.frame is not None:
                raise _Unsupported("nested frames and frames inside elements are not supported", seg.column)
            sel = _arg(seg, 0, "an iframe selector")
            if not isinstance(sel, str):
                raise _Unsupported(".frame_locator() takes a selector string", seg.column)
            if (engine := css_engine_problem(sel)) is not None:
                raise _Unsupported(engine, seg.column)
            self.frame = sel
        elif n == "content_frame":
            cur = self.cur
            if cur is None or set(cur) - {"css"} or self.frame is not None:
                raise _Unsupported(
                    '.content_frame is supported right after page.locator("iframe selector")', seg.column
                )
            self.frame = str(cur["css"])
            self.cur = None
        elif n in ("first", "last", "nth"):
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
        if self.frame is not None:
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


def _assertion(chain: Chain, is_current_page: Any, column: int) -> dict[str, Any]:
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
    if not is_current_page(subject.root):
        raise _Unsupported(f"expect() on '{subject.text()}', which is not the current page", subject.column)
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


@dataclass
class FlowMapper:
    """Turns the flow events of one file into actions, collecting every unsupported line."""

    path: Path
    skip_unsupported: bool = False
    actions: list[Action] = field(default_factory=list)
    skipped: list[SkippedLine] = field(default_factory=list)
    pages: list[str] = field(default_factory=list)
    current: str | None = None
    setup_names: set[str] = field(default_factory=lambda: {"browser", "context", "playwright", "p"})

    def _skip(self, site: Site, reason: str, column: int | None = None) -> None:
        self.skipped.append(SkippedLine(self.path, site.line, column or site.column, site.source_line, reason))

    def run(self, events: Iterable[FlowEvent]) -> None:
        for ev in events:
            try:
                if isinstance(ev, Unsupported):
                    self._skip(ev.site, ev.reason)
                elif isinstance(ev, PageAlias):
                    self._page_alias(ev)
                else:
                    self._call(ev)
            except _Unsupported as exc:
                self._skip(ev.site, exc.reason, exc.column)

    def setup_assignment(self, name: str, chain: Chain, site: Site) -> FlowEvent | None:
        """An assignment ``name = chain``: a page, a setup object, or unsupported."""
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

    def _page_alias(self, ev: PageAlias) -> None:
        if ev.from_popup:
            if ev.name not in self.pages:
                self.pages.append(ev.name)
            self.current = ev.name
            return
        if self.current is None:
            self.pages.append(ev.name)
            self.current = ev.name
            return
        raise _Unsupported(
            "opening a second page with new_page() is not supported; Reelwright follows one "
            "page at a time (popups opened by a click are followed)"
        )

    def _is_current(self, root: str) -> bool:
        if self.current is None and root == "page":  # a pytest/test-runner fixture named page
            self.pages.append("page")
            self.current = "page"
        return root == self.current

    def _call(self, ev: CallStmt) -> None:
        chain, site = ev.chain, ev.site
        if not chain.segs:
            raise _Unsupported(f"'{chain.text()}' does nothing")
        if chain.root == "":
            fn = chain.segs[0].name
            if fn == "expect":
                self._emit(_assertion(chain, self._is_current, site.column), site)
                return
            raise _Unsupported(
                f"calls {fn}(), which is not a Playwright page action (helper functions are out "
                "of scope: inline their steps)",
                chain.segs[0].column,
            )
        if chain.root in self.setup_names:
            if chain.segs[0].name in _SETUP_DROPPED:
                return
            raise _Unsupported(f"{chain.text()} is browser setup Reelwright does not replay")
        if chain.root not in self.pages:
            if self.current is None and chain.root == "page":  # e.g. a pytest fixture named page
                self.pages.append("page")
                self.current = "page"
            else:
                raise _Unsupported(f"'{chain.root}' is not a page of this flow")
        first = chain.segs[0]
        if first.name == "close":
            return
        if chain.root != self.current:
            raise _Unsupported(
                f"acts on '{chain.root}' after the flow moved to the popup '{self.current}'; "
                "Reelwright follows one page at a time"
            )
        if first.name in _PAGE_DROPPED:
            return
        if first.name in ("once", "on"):
            if first.args and first.args[0] == "dialog":
                return  # dialogs are dismissed by the browser automation anyway
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
        if ev.opens_popup:
            if fields["type"] != "click":
                raise _Unsupported("only a click can open the popup the flow follows")
            fields["new_page"] = True
        self._emit(fields, site)

    def _emit(self, fields: dict[str, Any], site: Site) -> None:
        try:
            action = _ACTION_ADAPTER.validate_python(fields)
        except ValidationError as exc:
            err = exc.errors(include_url=False)[0]
            where = ".".join(str(p) for p in err["loc"][1:])
            raise _Unsupported(f"not a valid {fields.get('type')} action ({where}: {err['msg']})") from None
        self.actions.append(action)
