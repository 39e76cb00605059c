"""Plain-English phrases for actions and groups of actions ("open the dashboard and click New project").

Narration is speech: no markdown, no quotes around names, values that are secrets never read out.
"""

from __future__ import annotations

import re
from typing import Any
from urllib.parse import unquote, urlsplit

from ...keys import spoken_chord
from ...script import FIRST_PAGE, Locator
from .seen import SEEN, page_label, target_words, where_words
from .sitenames import SITE_NAMES

_SECRET = re.compile(r"pass(word|code|phrase)?|secret|token|pin\b|otp|api[- ]?key|credential", re.I)
_FIELD_ROLES = frozenset({"textbox", "searchbox", "combobox", "spinbutton", "slider"})
_LOOPBACK = ("localhost", "127.0.0.1", "[::1]", "::1", "0.0.0.0")


def _words(s: str) -> str:
    s = re.sub(r"([a-z])([A-Z])", r"\1 \2", s)
    s = re.sub(r"[-_.#\[\]=\"'>:()]+", " ", s)
    return " ".join(s.split())


def element_name(loc: Locator) -> str:
    """The human name of what a locator points at ("Sign in", "Email", "the search field"): what
    the silent run saw on the element when there was one, else read from the locator."""
    seen = SEEN.get().target(loc)
    if seen is not None:
        words = target_words(seen)
        if words:
            return words
    return _locator_name(loc)


def _locator_name(loc: Locator) -> str:
    if loc.placeholder and not (loc.name or loc.label):
        if "@" in loc.placeholder:
            return "email"  # an example address as placeholder: the field is the email field
        if re.match(r"(e\.g\.|eg\b|for example)", loc.placeholder, re.I):
            return "the field"
    for v in (loc.name, loc.label, loc.placeholder, loc.text, loc.alt, loc.title):
        if v:
            return " ".join(v.split())
    if loc.has_text:
        return " ".join(loc.has_text.split())
    if loc.test_id:
        shown = SITE_NAMES.get().get(f"testid:{loc.test_id}")
        return shown if shown else f"the {_words(loc.test_id)}"
    if loc.css:
        attr = re.search(r"""\[(?:aria-label|name|title|placeholder)\s*=\s*["']?([^"'\]]+)""", loc.css)
        if attr:
            return attr.group(1)
        only_id = re.fullmatch(r"#([A-Za-z][\w-]*)", loc.css.strip())
        if only_id and SITE_NAMES.get().get(f"id:{only_id.group(1)}"):
            return SITE_NAMES.get()[f"id:{only_id.group(1)}"]
        ident = re.findall(r"[#.]([A-Za-z][\w-]*)", loc.css)
        if ident:
            return _words(ident[-1])
    if loc.role:
        return f"the {loc.role}"
    return "the element"


def is_field(loc: Locator) -> bool:
    seen = SEEN.get().target(loc)
    if seen is not None and seen.role is not None:
        return seen.role in _FIELD_ROLES
    if loc.role in _FIELD_ROLES or loc.label or loc.placeholder:
        return True
    return bool(loc.css and re.search(r"\b(input|textarea|select)\b", loc.css))


def is_secret(loc: Locator, value: str) -> bool:
    return bool(
        _SECRET.search(element_name(loc))
        or _SECRET.search(loc.css or "")
        or (len(value) >= 8 and " " not in value and re.search(r"\d", value) and re.search(r"[^\w@.]", value))
    )


def page_name(url: str) -> str:
    """ "/dashboard.html" → "the dashboard"; "https://example.com/" → "example.com"."""
    parts = urlsplit(url)
    path = unquote(parts.path or "/")
    segs = [s for s in path.split("/") if s]
    last = re.sub(r"\.(html?|php|aspx?|jsp)$", "", segs[-1]) if segs else ""
    if last.lower() in ("", "index", "home", "default"):
        if len(segs) > 1:
            last = segs[-2]
        elif parts.netloc and parts.hostname not in _LOOPBACK:
            return parts.hostname or parts.netloc
        else:
            return "the home page"
    words = _words(last).lower()
    if not words or words.isdigit():
        return "the page"
    return (
        f"the {words} page"
        if len(words.split()) == 1 and words not in ("dashboard", "settings", "inbox")
        else f"the {words}"
    )


def quoted(name: str) -> str:
    # no quote marks in speech; names are read as they are
    return name


def phrase(action: Any) -> str | None:
    """One clause for an action, or None for actions that need no words (waits, field focus clicks)."""
    t = action.type
    if t == "goto":
        o = SEEN.get().of(action)
        if o is not None and o.after is not None and (o.after.title or o.after.heading):
            return f"open {page_label(o.after, SEEN.get().product)}"
        return f"open {page_name(action.url)}"
    if t in ("click", "dblclick"):
        loc: Locator = action.target
        name = quoted(element_name(loc))
        verb = (
            "double-click"
            if t == "dblclick"
            else "right-click"
            if getattr(action, "button", "left") == "right"
            else "click"
        )
        on_screen = SEEN.get().target(loc)
        role = on_screen.role if on_screen is not None and on_screen.role else loc.role
        where = where_words(on_screen) if on_screen is not None else ""
        if where:
            name = f"{name} {where}" if role not in ("link", "tab") else name
        if t == "click" and verb == "click":
            if role == "link":
                base = f"follow the {name} link" + (f" {where}" if where else "")
            elif role == "tab":
                base = f"switch to the {name} tab"
            elif role in ("checkbox", "switch"):
                base = f"toggle {name}"
            elif role == "radio":
                base = f"choose {name}"
            elif role in ("menuitem", "option"):
                base = f"pick {name}"
            else:
                base = f"click {name}"
        else:
            base = f"{verb} {name}"
        return base + _side_effects(action)
    if t in ("fill", "type"):
        loc = action.target
        value = action.value if t == "fill" else action.text
        name = element_name(loc)
        the = "" if name.lower().startswith("the ") else "the "
        field = name if name.lower().endswith(("field", "box")) else f"{the}{name} field"
        if value == "":
            return f"clear {field}"
        if is_secret(loc, value):
            return f"enter the {name.lower().removeprefix('the ') if name else 'secret'}"
        if len(value) <= 40 and "\n" not in value:
            return f"enter {value} in {field}"
        return f"fill in {field}"
    if t == "press":
        return f"press {spoken_chord(action.key)}" + _side_effects(action)
    if t == "check":
        return f"tick {element_name(action.target)}"
    if t == "uncheck":
        return f"untick {element_name(action.target)}"
    if t == "select":
        chosen = SEEN.get().target(action.target)
        vals = chosen.value if chosen is not None and chosen.value else " and ".join(action.values)
        return f"choose {vals} in {element_name(action.target)}"
    if t == "hover":
        return f"point at {element_name(action.target)}"
    if t == "upload":
        files = " and ".join(f.rsplit("/", 1)[-1] for f in action.files)
        return f"attach {files}"
    if t == "scroll":
        if action.target is not None:
            return f"scroll to {element_name(action.target)}"
        return "scroll down" if action.to != "top" else "scroll back to the top"
    if t == "wait_for":
        if action.target is not None and action.state in ("visible", "attached"):
            loc = action.target
            shown = loc.has_text if loc.has_text and not loc.name and not loc.text else element_name(loc)
            if loc.role == "heading" and loc.name:
                return f"the {loc.name} heading appears"
            if loc.role in ("dialog", "alertdialog"):
                return f"the {loc.name} dialog opens" if loc.name else "a dialog opens"
            return f"{shown} appears"
        if action.text is not None:
            return f"{action.text} appears"
        return None
    if t == "highlight":
        return f"note {element_name(action.target)}"
    if t == "new_page":
        return "open a new tab"
    if t == "close_page":
        return "close the tab and go back to the previous page"
    if t == "switch_page":
        return "switch back to the first tab" if action.page == FIRST_PAGE else "switch to the other tab"
    return None


def _side_effects(action: Any) -> str:
    """", which opens in a new tab" / ", which downloads a file" for the clicks and keys that do that."""
    if getattr(action, "new_page", False) or getattr(action, "opens", None):
        return ", which opens in a new tab"
    if getattr(action, "download", False):
        return ", which downloads a file"
    return ""


def answering(dialog: Any, trigger_phrase: str, asked: str | None) -> str:
    """The trigger's clause with the answer to the native dialog it raises: "click Delete report, and
    confirm when the browser asks Delete this report?"."""
    verb = "confirm" if dialog.response == "accept" else "cancel"
    if dialog.response == "accept" and dialog.text:
        verb = f"enter {dialog.text} and confirm"
    if asked:
        return f"{trigger_phrase}, and {verb} when the browser asks {asked}"
    return f"{trigger_phrase}, and {verb} the browser's dialog"


def join_clauses(clauses: list[str]) -> str:
    clauses = [c for c in clauses if c]
    if not clauses:
        return ""
    if len(clauses) == 1:
        return clauses[0]
    if len(clauses) == 2:
        return f"{clauses[0]}{',' if ',' in clauses[0] else ''} and {clauses[1]}"
    return ", ".join(clauses[:-1]) + f", and then {clauses[-1]}"


def sentence(text: str) -> str:
    text = text.strip()
    if not text:
        return ""
    text = text[0].upper() + text[1:]
    return text if text[-1] in ".!?" else text + "."


def title_case_phrase(text: str, limit: int = 48) -> str:
    text = text.strip().rstrip(".")
    if len(text) > limit:
        text = text[:limit].rsplit(" ", 1)[0]
    return text[:1].upper() + text[1:]
