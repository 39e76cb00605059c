"""Key names (as in Playwright's ``press``) to the fields of CDP ``Input.dispatchKeyEvent``."""

from __future__ import annotations

from dataclasses import dataclass

from .errors import ReelwrightError

MODIFIER_BITS = {"Alt": 1, "Control": 2, "Meta": 4, "Shift": 8}


@dataclass(frozen=True)
class KeyDef:
    key: str
    code: str
    key_code: int
    text: str = ""


_SPECIAL: dict[str, KeyDef] = {
    "Enter": KeyDef("Enter", "Enter", 13, "\r"),
    "Tab": KeyDef("Tab", "Tab", 9),
    "Escape": KeyDef("Escape", "Escape", 27),
    "Backspace": KeyDef("Backspace", "Backspace", 8),
    "Delete": KeyDef("Delete", "Delete", 46),
    "Space": KeyDef(" ", "Space", 32, " "),
    " ": KeyDef(" ", "Space", 32, " "),
    "ArrowUp": KeyDef("ArrowUp", "ArrowUp", 38),
    "ArrowDown": KeyDef("ArrowDown", "ArrowDown", 40),
    "ArrowLeft": KeyDef("ArrowLeft", "ArrowLeft", 37),
    "ArrowRight": KeyDef("ArrowRight", "ArrowRight", 39),
    "Home": KeyDef("Home", "Home", 36),
    "End": KeyDef("End", "End", 35),
    "PageUp": KeyDef("PageUp", "PageUp", 33),
    "PageDown": KeyDef("PageDown", "PageDown", 34),
    "Insert": KeyDef("Insert", "Insert", 45),
    "Shift": KeyDef("Shift", "ShiftLeft", 16),
    "Control": KeyDef("Control", "ControlLeft", 17),
    "Alt": KeyDef("Alt", "AltLeft", 18),
    "Meta": KeyDef("Meta", "MetaLeft", 91),
}
_SPECIAL.update({f"F{i}": KeyDef(f"F{i}", f"F{i}", 111 + i) for i in range(1, 13)})

_PUNCT_CODES = {
    "-": ("Minus", 189), "=": ("Equal", 187), "[": ("BracketLeft", 219), "]": ("BracketRight", 221),
    "\\": ("Backslash", 220), ";": ("Semicolon", 186), "'": ("Quote", 222), ",": ("Comma", 188),
    ".": ("Period", 190), "/": ("Slash", 191), "`": ("Backquote", 192),
}


class KeyError_(ReelwrightError):
    exit_code = 2


def key_def(name: str) -> KeyDef:
    """The definition of one key (not a chord)."""
    if name in _SPECIAL:
        return _SPECIAL[name]
    if len(name) == 1:
        ch = name
        if ch.isascii() and ch.isalpha():
            return KeyDef(ch, f"Key{ch.upper()}", ord(ch.upper()), ch)
        if ch.isdigit():
            return KeyDef(ch, f"Digit{ch}", ord(ch), ch)
        if ch in _PUNCT_CODES:
            code, kc = _PUNCT_CODES[ch]
            return KeyDef(ch, code, kc, ch)
        return KeyDef(ch, "", 0, ch)
    if name.startswith("Key") and len(name) == 4:
        return key_def(name[3].lower())
    if name.startswith("Digit") and len(name) == 6:
        return key_def(name[5])
    raise KeyError_(f"unknown key '{name}'", hint="use names like Enter, Tab, Escape, ArrowDown, a, A, 1, F5")


def parse_chord(chord: str, *, mac: bool = False) -> tuple[list[str], KeyDef]:
    """'Control+Shift+A' -> (['Control', 'Shift'], KeyDef('A'...)).  A lone '+' is the plus key."""
    parts = chord.split("+") if chord != "+" else ["+"]
    if chord.endswith("++"):
        parts = [*chord[:-2].split("+"), "+"]
    *mods, key = parts
    out_mods: list[str] = []
    for m in mods:
        if m == "ControlOrMeta":
            m = "Meta" if mac else "Control"
        if m not in MODIFIER_BITS:
            raise KeyError_(f"unknown modifier '{m}' in '{chord}'", hint="use Alt, Control, Meta, Shift")
        out_mods.append(m)
    return out_mods, key_def(key)


def modifier_mask(mods: list[str]) -> int:
    mask = 0
    for m in mods:
        mask |= MODIFIER_BITS[m]
    return mask
