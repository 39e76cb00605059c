"""What the viewer saw at each step (from :mod:`app.core.draft.observe`), as words for the narration.

The offline drafter sets :data:`SEEN` for the duration of one draft: the observation of each action,
keyed by the action object.  The phrases here turn an observation into what a person would say —
"the Sign in page opens, which says Welcome back", "the New project dialog opens", "a message
appears: Settings saved" — from page titles, headings, dialog names and messages, never from the
recorded code.
"""

from __future__ import annotations

import contextvars
import re
from collections import Counter
from collections.abc import Iterable
from typing import Any

from ...script import Locator
from ..observe import Change, Observation, PageState, Target


class Seen:
    """The observations of one draft, reachable from the actions and locators the drafter holds."""

    def __init__(self, actions: list[Any], observations: Iterable[Observation]) -> None:
        by_index = {o.index: o for o in observations}
        self.by_action: dict[int, Observation] = {}
        self.by_locator: dict[int, Target] = {}
        for i, a in enumerate(actions):
            o = by_index.get(i)
            if o is None or o.type != a.type:
                continue
            self.by_action[id(a)] = o
            target = getattr(a, "target", None)
            if o.target is not None and target is not None:
                self.by_locator[id(target)] = o.target
        self.product = product_from_titles(o.after.title for o in by_index.values() if o.after is not None)

    def of(self, action: Any) -> Observation | None:
        return self.by_action.get(id(action))

    def target(self, loc: Locator) -> Target | None:
        return self.by_locator.get(id(loc))


_SEPARATORS = re.compile(r"\s+[·|—–:•»-]\s+")
_HOMEWORDS = frozenset({"home", "homepage", "welcome", "start"})


def _segments(title: str) -> list[str]:
    return [s.strip() for s in _SEPARATORS.split(title) if s.strip()]


def product_from_titles(titles: Iterable[str]) -> str:
    """The site's own name, as its page titles show it: the part most titles share
    ("Sign in · Lumen Tasks", "Dashboard · Lumen Tasks" → "Lumen Tasks"); "" when unclear."""
    counts: Counter[str] = Counter()
    distinct = list(dict.fromkeys(t for t in titles if t))
    for t in distinct:
        segs = _segments(t)
        if len(segs) > 1:
            counts.update({segs[0], segs[-1]})
    if not counts:
        return ""
    name, n = counts.most_common(1)[0]
    if n >= 2 and len(name.split()) <= 4:
        return name
    if len(distinct) == 1:  # one page: its title's short part ("Lumen Tasks — the calm task tracker...")
        segs = _segments(distinct[0])
        short = min(segs, key=len)
        return short if len(short.split()) <= 3 and short[:1].isupper() else ""
    return ""


_EMPTY = Seen([], [])
#: the observations of the draft being written (set by the offline drafter for its duration)
SEEN: contextvars.ContextVar[Seen] = contextvars.ContextVar("seen", default=_EMPTY)


def page_label(state: PageState, product: str) -> str:
    """How to name the page the viewer is on: "the Sign in page", "the Dashboard", "the Lumen Tasks
    home page" (from its title, else its main heading)."""
    segs = _segments(state.title)
    if product and product in segs:
        rest = [s for s in segs if s != product]
        first = rest[0] if rest else ""
        if not first or first[:1].islower() or first.lower().startswith("the ") or len(first.split()) > 5:
            return f"the {product} home page"
        name = first
    elif segs and len(segs[0].split()) <= 6:
        name = segs[0]
    else:
        name = state.heading or ""
    name = name.strip().rstrip(".")
    if not name:
        return "the page"
    if name.lower() in _HOMEWORDS:
        return f"the {product} home page" if product else "the home page"
    if name.lower() in ("dashboard", "inbox", "overview"):
        return f"the {name}"
    if name.lower().endswith(("page", "screen", "view")):
        return f"the {name}"
    return f"the {name} page"


def _heading_note(state: PageState, label: str, product: str) -> str:
    """", which says Welcome back, Alex" when the page's heading says more than its name."""
    h = (state.heading or "").strip().rstrip(".")
    if not h or len(h) > 70:
        return ""
    low, lab = h.lower(), label.lower()
    if low in lab or low == product.lower():
        return ""
    return f", which says {h}"


def target_words(t: Target) -> str | None:
    """The name a viewer reads on the element (its short label when the full one runs on)."""
    name = t.name or t.text
    if name and len(name) > 48 and t.short:
        name = t.short
    if name and len(name) > 60:
        cut = re.split(r"(?<=[.!?])\s|\s[—–-]\s", name, maxsplit=1)[0]
        name = cut if len(cut) <= 60 else name[:60].rsplit(" ", 1)[0]
    return " ".join(name.split()).rstrip(".") if name else None


_REGION_WORDS = {
    "sidebar": "in the sidebar",
    "top bar": "in the top bar",
    "toolbar": "in the toolbar",
    "navigation": "in the menu",
    "footer": "at the bottom of the page",
    "tabs": "",
}


def where_words(t: Target) -> str:
    """ "in the sidebar" — only for places the viewer has to look for (not fields in a form)."""
    if t.region is None or t.role not in ("link", "button", "tab", "menuitem", None):
        return ""
    return _REGION_WORDS.get(t.region, "")


def _quote_free(text: str) -> str:
    return text.replace("“", "").replace("”", "").replace('"', "").strip()


def top_change(o: Observation) -> Change | None:
    """The one change a viewer notices most after a step."""
    # a native dialog is told with the step that raises it ("..., and confirm when the browser asks
    # ..."); what the viewer sees after answering it comes first
    order = ("tab", "dialog", "page", "message", "item", "section", "heading", "title", "dialog_closed",
             "native_dialog")
    ranked = sorted(o.changes, key=lambda c: order.index(c.kind))
    for c in ranked:
        if c.kind == "message" and not c.text:
            continue
        return c
    return None


def opens_clause(o: Observation, product: str) -> str | None:
    """For a step in the middle of a card: " to open the Sign in page" (a navigation or a dialog)."""
    c = top_change(o)
    if c is None or o.after is None:
        return None
    if c.kind == "page":
        return f"to open {page_label(o.after, product)}"
    if c.kind == "dialog":
        return f"to open the {c.text} dialog" if c.text else "to open a dialog"
    if c.kind == "tab":
        return f"to open {page_label(PageState(title=c.text), product)} in a new tab" if c.text else \
            "to open a new tab"
    return None


def consequence(o: Observation, product: str) -> str | None:
    """What the viewer sees happen after a step, as a clause: "the Dashboard opens, which says ..."."""
    c = top_change(o)
    if c is None or o.after is None:
        return None
    text = _quote_free(c.text)
    if c.kind == "native_dialog":
        return f"the browser asks: {text}" if text else "the browser asks for confirmation"
    if c.kind == "tab":
        return f"{page_label(PageState(title=c.text), product)} opens in a new tab" if text else "a new tab opens"
    if c.kind == "dialog":
        return f"the {text} dialog opens" if text else "a dialog opens"
    if c.kind == "page":
        label = page_label(o.after, product)
        return f"{label} opens{_heading_note(o.after, label, product)}"
    if c.kind == "message":
        return f"a message appears: {text}"
    if c.kind == "item":
        return f"{text} appears in the list"
    if c.kind in ("section", "heading"):
        return f"{text} appears"
    if c.kind == "title":
        return f"the page becomes {text}"
    if c.kind == "dialog_closed":
        return "the dialog closes"
    return None


def landing(o: Observation, product: str) -> str | None:
    """The page a flow starts on: "the Lumen Tasks home page, which says The calm task tracker..."."""
    if o.after is None:
        return None
    label = page_label(o.after, product)
    return f"{label}{_heading_note(o.after, label, product)}"


def seen_names(o: Observation) -> list[str]:
    """Every visible text an observation knows: the target's name, what changed, the page's heading."""
    out: list[str] = []
    if o.target is not None:
        out += [x for x in (o.target.name, o.target.short, o.target.text, o.target.value) if x]
    for c in o.changes:
        if c.text:
            out.append(c.text)
    return out


__all__ = ["SEEN", "Seen", "consequence", "landing", "opens_clause", "page_label", "product_from_titles",
           "seen_names", "target_words", "top_change", "where_words"]

