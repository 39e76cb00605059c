"""A rubric for narration: does it read like a person wrote it about what the viewer sees?

:func:`check_narration` returns a :class:`Finding` per problem (an empty list: the script passes):

* ``selector`` — Playwright locator code (``getByRole(``, ``get_by_test_id``, ``>>``, ``internal:``);
* ``css`` — a CSS selector (``#project-title``, ``.card``, ``li.task``, ``[data-testid=...]``), or any
  CSS string one of the script's locators uses;
* ``test_id`` — a test id from the script's locators, as written (``hero-cta``);
* ``url`` — a URL, a host:port, or a raw path (``/index.html``, ``signin.html``);
* ``identifier`` — a camelCase or snake_case word (``newTask``, ``project_grid``);
* ``no_change`` — a card that acts but does not name anything the viewer sees change.  The checkable
  proxy: when the silent run saw the page change after one of the card's steps (another page, a
  dialog, a message, a new item, a heading), the narration names it (a heading, the page's name from
  its title, the dialog's or the message's text); otherwise it names at least one thing on screen
  the card acts on (a target's visible name, a value typed, the page opened).  Steps the silent run
  did not see (no browser, an external site) can only be checked against the words their locators
  carry (a test id's or a class's words count then).

Pure and cheap: the UI can show it next to a draft.  No Qt, no browser.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any, Literal

from ..script import Locator, Script
from .observe import FlowObservation, Observation, PageState

Rule = Literal["selector", "css", "test_id", "url", "identifier", "no_change"]

_SELECTOR = re.compile(
    r"\b(get_?by_?(role|text|label|placeholder|test_?id|alt_?text|title)|locator|frame_?locator|"
    r"content_?frame|query_?selector(_?all)?)\s*\(|>>|\binternal:|\b(xpath|css|text|role|nth|data-testid)=|"
    r"\bdata-test(id)?\b|//[a-z*]",
    re.I,
)
_CSS = re.compile(
    r"(?<![\w.@/])[#.][A-Za-z_][\w-]*(?=$|[\s,;:!?)\].>\[]|\.\s)"  # #id or .class standing alone
    r"|\b(div|span|li|ul|ol|button|input|section|nav|header|footer|main|article|aside|form|label|select|"
    r"textarea|table|tr|td|th|img|h[1-6]|svg|dialog)[#.][A-Za-z_][\w-]*\b"  # li.task, div#main
    r"|\[[\w-]+([~|^$*]?=[^\]]*)?\]"  # [name="q"], [disabled]
    r"|:(nth-(child|of-type)|has|is|not|first-child|last-child)\b"
)
_URL = re.compile(
    r"\b[a-z][a-z0-9+.-]*://\S+"  # scheme://...
    r"|\bwww\.[\w-]+\.\w+"
    r"|\b(localhost|\d{1,3}(\.\d{1,3}){3})(:\d+)?\b"
    r"|(?<![\w/])/[\w.-]+(/[\w.-]*)*"  # /index.html, /docs/locators
    r"|\b[\w-]+\.(html?|php|aspx?|jsp)\b",
    re.I,
)
_CAMEL = re.compile(r"\b[a-z]+(?:[A-Z][a-z0-9]+)+\b")
_SNAKE = re.compile(r"\b[A-Za-z0-9]+(?:_[A-Za-z0-9]+)+\b")
#: brand words written in camelCase that people say as they are
_CAMEL_OK = frozenset({"iPhone", "iPad", "iPod", "iOS", "macOS", "iCloud", "eBay", "iMac", "watchOS", "tvOS",
                       "iPadOS", "eCommerce", "eMail", "jQuery", "npm", "youTube"})


@dataclass(frozen=True)
class Finding:
    card_index: int
    card_id: str
    rule: Rule
    text: str  # what was found (or, for no_change, what was looked for)
    message: str

    def __str__(self) -> str:
        return f"card {self.card_index + 1} ({self.card_id}): {self.message}"


def _norm(text: str) -> str:
    text = re.sub(r"[“”\"'‘’`]", "", text.lower())
    return " ".join(re.sub(r"[^\w@.,:!?&+-]+", " ", text).split())


def _mentions(narration: str, candidates: list[str]) -> str | None:
    """The first candidate the narration says (case, quotes and spacing aside)."""
    said = _norm(narration)
    for c in candidates:
        n = _norm(c).rstrip(".,:!? ")
        if len(n) >= 2 and re.search(r"(?<!\w)" + re.escape(n) + r"(?!\w)", said):
            return c
    return None


def _locators(loc: Locator | None) -> list[Locator]:
    out: list[Locator] = []
    while loc is not None:
        out.append(loc)
        loc = loc.within
    return out


def _plain_word(s: str) -> bool:
    return re.fullmatch(r"[a-z]+( [a-z]+)*", s) is not None


def _code_findings(ci: int, cid: str, narration: str, test_ids: set[str], css: set[str]) -> list[Finding]:
    out: list[Finding] = []

    def add(rule: Rule, text: str, what: str) -> None:
        out.append(Finding(ci, cid, rule, text, f"{what} in the narration: {text!r}"))

    for m in _SELECTOR.finditer(narration):
        add("selector", m.group(0), "locator code")
    for m in _CSS.finditer(narration):
        if re.fullmatch(r"\.[a-z]+", m.group(0)) and narration[m.end():m.end() + 1] in ("", " "):
            continue  # "... the end. next" is prose: a lone .word needs no class
        add("css", m.group(0).strip(), "a CSS selector")
    low = narration.lower()
    for s in sorted(css):
        if len(s) >= 3 and re.search(r"[#.\[\]>:=]", s) and s.lower() in low:
            add("css", s, "a locator's CSS")
    for t in sorted(test_ids):
        if not _plain_word(t) and re.search(r"(?<![\w-])" + re.escape(t.lower()) + r"(?![\w-])", low):
            add("test_id", t, "a test id")
    for m in _URL.finditer(narration):
        add("url", m.group(0), "an address")
    for m in _CAMEL.finditer(narration):
        if m.group(0) not in _CAMEL_OK:
            add("identifier", m.group(0), "a camelCase identifier")
    for m in _SNAKE.finditer(narration):
        if not m.group(0).replace("_", "").isdigit():
            add("identifier", m.group(0), "a snake_case identifier")
    return out


def _title_parts(state: PageState | None) -> list[str]:
    if state is None:
        return []
    parts = [s.strip() for s in re.split(r"\s+[·|—–:•»-]\s+", state.title) if s.strip()]
    return [*parts, *([state.heading] if state.heading else [])]


def _change_words(o: Observation) -> list[str]:
    """What the viewer sees change after a step, as texts the narration could say."""
    words: list[str] = []
    for c in o.changes:
        if c.kind in ("page", "title"):
            words += _title_parts(o.after)
        elif c.kind == "tab":
            words += _title_parts(PageState(title=c.text)) or ["new tab"]
        elif c.kind == "dialog_closed":
            words += ["closes", "closed"]
        elif c.text:
            words.append(c.text)
    return words


_SALIENT = frozenset({"page", "dialog", "tab", "native_dialog", "message", "item", "heading", "title", "section"})
_QUIET = frozenset({"fill", "type", "hover", "wait", "wait_for", "highlight", "zoom", "scroll"})


def _shown_names(a: Any, o: Observation | None) -> list[str]:
    """Everything on screen a step acts on, by the names the viewer reads."""
    out: list[str] = []
    if o is not None:
        if o.target is not None:
            out += [x for x in (o.target.name, o.target.short, o.target.text, o.target.value) if x]
        out += _change_words(o)
        if a.type == "goto":
            out += _title_parts(o.after)
    for loc in _locators(getattr(a, "target", None)):
        out += [x for x in (loc.name, loc.label, loc.placeholder, loc.text, loc.alt, loc.title, loc.has_text) if x]
        if o is None:
            # nothing was seen: the words a locator carries are the best evidence left ("invite", "task")
            from .drafters.narrate import element_name

            out.append(element_name(loc).removeprefix("the "))
    if a.type == "fill" and a.value:
        out.append(a.value)
    elif a.type == "type":
        out.append(a.text)
    elif a.type == "select":
        out += list(a.values)
    elif a.type == "goto":
        from .drafters.narrate import page_name

        name = page_name(a.url).removeprefix("the ").removesuffix(" page")
        out += [name, name.removeprefix("www.").removeprefix("app.")]
    elif a.type == "upload":
        out += [f.rsplit("/", 1)[-1] for f in a.files]
    elif a.type == "press":
        out.append("press")
    elif a.type in ("new_page", "close_page", "switch_page"):
        out.append("tab")
    if getattr(a, "opens", None) or getattr(a, "new_page", False):
        out.append("new tab")
    if getattr(a, "download", False):
        out += ["download", "downloads", "downloaded"]
    return out


def check_narration(script: Script, observations: FlowObservation | None = None) -> list[Finding]:
    """Every problem the rubric finds in ``script``'s narration (see the module's doc)."""
    seen = observations.by_index() if observations is not None else {}
    test_ids: set[str] = set()
    css: set[str] = set()
    for _ci, _card, _ai, a in script.iter_actions():
        for loc in _locators(getattr(a, "target", None)):
            if loc.test_id:
                test_ids.add(loc.test_id)
            if loc.css:
                css.add(loc.css)
            css.update(loc.frames())
    findings: list[Finding] = []
    index = 0
    for ci, card in enumerate(script.cards):
        narration = card.narration
        findings += _code_findings(ci, card.id, narration, test_ids, css)
        obs = [(a, seen.get(index + k)) for k, a in enumerate(card.actions)]
        index += len(card.actions)
        if not card.actions or all(a.type in ("wait", "dialog") for a in card.actions):
            continue
        changed = [w for a, o in obs if o is not None and a.type not in _QUIET
                   and any(c.kind in _SALIENT for c in o.changes) for w in _change_words(o)]
        if changed:
            if _mentions(narration, changed) is None:
                findings.append(Finding(ci, card.id, "no_change", "; ".join(dict.fromkeys(changed)),
                                        "the page changes but the narration does not say what the viewer sees "
                                        f"(any of: {', '.join(list(dict.fromkeys(changed))[:6])})"))
            continue
        names = [n for a, o in obs for n in _shown_names(a, o)]
        if _mentions(narration, names) is None:
            findings.append(Finding(ci, card.id, "no_change", "; ".join(dict.fromkeys(names)),
                                    "the narration names nothing the viewer sees"
                                    + (f" (any of: {', '.join(list(dict.fromkeys(names))[:6])})" if names else "")))
    return findings


__all__ = ["Finding", "Rule", "check_narration"]
