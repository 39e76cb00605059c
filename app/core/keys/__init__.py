"""Key and modifier names, as Playwright's keyboard accepts them, and the key events they make.

One table serves everything that names a key: the codegen importers, the script validator, the
performer (``press`` chords, ``type``, ``click``/``dblclick`` modifiers) and the keystroke badge.
The performer sends CDP ``Input.dispatchKeyEvent`` itself — capture runs on a paused virtual clock,
where Playwright's keyboard would wait on frames nobody issues — so :class:`KeyboardState` mirrors
what Playwright's ``Keyboard`` sends, event for event: the same ``key``/``code``/key code/
``location``, the same text rules (Shift alone keeps the text, any other modifier drops it), the
same modifier flags while keys are held.

The names are Playwright's (:mod:`app.core.keyboard_layout`): every ``code`` (``KeyA``, ``Digit1``,
``Numpad7``, ``ShiftLeft``, ``F12``, ``ArrowDown`` …), the aliases ``Shift``/``Control``/``Alt``/
``Meta`` and ``\\n``/``\\r`` for Enter, every single character the US layout types (``a``, ``A``,
``!``, ``/``, space), and ``ControlOrMeta`` (Meta on macOS, Control elsewhere).  Reelwright adds two
spellings of its own for hand-written and drafted scripts, ``Command`` (Meta) and ``Option`` (Alt).
"""

from __future__ import annotations

import difflib
import re
import sys
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, replace
from types import MappingProxyType
from typing import Any, Literal

from ..errors import ReelwrightError
from .keyboard_layout import KEYPAD_LOCATION, US_LAYOUT
from .mac_editing_commands import MAC_EDITING_COMMANDS

#: CDP modifier bits; the order is Playwright's, which presses and releases click modifiers in it
MODIFIER_BITS = {"Alt": 1, "Control": 2, "Meta": 4, "Shift": 8}
MODIFIERS = tuple(MODIFIER_BITS)
CONTROL_OR_META = "ControlOrMeta"
#: Reelwright's own spellings (Playwright rejects them); they always mean the same key
ALIASES = {"Command": "Meta", "Option": "Alt"}
#: what ``click``/``dblclick`` accept as ``modifiers``: Playwright's five, then our two aliases
CLICK_MODIFIERS = ("Alt", "Control", CONTROL_OR_META, "Meta", "Shift", *ALIASES)

BadgePlatform = Literal["mac", "windows", "linux"]


@dataclass(frozen=True)
class KeyDef:
    """What one key name presses.  ``key_code`` is the virtual key code Chromium is sent (a located
    modifier's generic code: 16 for either Shift); ``shifted`` is the key with Shift held, for names
    that are physical keys (``KeyA``, ``Digit1``), as in Playwright."""

    key: str
    code: str
    key_code: int
    text: str = ""
    location: int = 0
    shifted: KeyDef | None = None


class KeyError_(ReelwrightError):
    exit_code = 2


def _build_table() -> dict[str, KeyDef]:
    # Mirrors how Playwright's input.ts turns its layout into names (buildLayoutClosure), so that
    # e.g. "Shift+a" types "a" but "Shift+KeyA" types "A", and numpad keys are reachable only by code.
    aliases = {"ShiftLeft": ("Shift",), "ControlLeft": ("Control",), "AltLeft": ("Alt",),
               "MetaLeft": ("Meta",), "Enter": ("\n", "\r")}
    table: dict[str, KeyDef] = {}
    for row in US_LAYOUT:
        text = row.key if len(row.key) == 1 else row.text
        plain = KeyDef(row.key, row.code, row.unlocated or row.key_code, text, row.location)
        shifted = None
        if row.shift_key:
            code = row.shift_key_code or plain.key_code
            shifted = replace(plain, key=row.shift_key, text=row.shift_key, key_code=code)
        table[row.code] = replace(plain, shifted=shifted)
        for alias in aliases.get(row.code, ()):
            table[alias] = plain
        if row.location:
            continue
        if len(plain.key) == 1:
            table[plain.key] = plain
        if shifted is not None:
            table[shifted.key] = shifted
    return table


#: every name Playwright's keyboard resolves, to what it presses
KEYS: Mapping[str, KeyDef] = MappingProxyType(_build_table())
#: every name a chord may use: the layout's, ControlOrMeta, and our aliases
KEY_NAMES: tuple[str, ...] = (*KEYS, CONTROL_OR_META, *ALIASES)

# Names people reach for that are not key names, with what they most likely meant.
_LIKELY: dict[str, tuple[str, ...]] = {
    "ctrl": ("Control", CONTROL_OR_META), "control": ("Control",), "cmd": ("Meta", CONTROL_OR_META, "Command"),
    "command": ("Command", "Meta"), "win": ("Meta",), "windows": ("Meta",), "super": ("Meta",),
    "os": ("Meta",), "opt": ("Option", "Alt"), "option": ("Option", "Alt"), "altgr": ("AltGraph",),
    "return": ("Enter",), "esc": ("Escape",), "del": ("Delete",), "ins": ("Insert",),
    "up": ("ArrowUp",), "down": ("ArrowDown",), "left": ("ArrowLeft",), "right": ("ArrowRight",),
    "pgup": ("PageUp",), "pgdn": ("PageDown",), "pgdown": ("PageDown",), "spacebar": ("Space",),
    "caps": ("CapsLock",), "plus": ("+",), "menu": ("ContextMenu",), "apps": ("ContextMenu",),
    "prtsc": ("PrintScreen",), "break": ("Pause",),
}


def close_names(name: str, pool: Sequence[str], n: int = 3) -> list[str]:
    """The valid names nearest to ``name``: known slips first, then case-insensitive spelling."""
    lowered = {p.lower(): p for p in pool if len(p) > 1}
    out: list[str] = [p for p in _LIKELY.get(name.lower(), ()) if p in pool]
    if name.lower() in lowered:
        out.append(lowered[name.lower()])
    out += [lowered[m] for m in difflib.get_close_matches(name.lower(), list(lowered), n=n, cutoff=0.6)]
    return list(dict.fromkeys(o for o in out if o != name))[:n]


def _hint(bad: str, pool: Sequence[str], examples: str) -> str:
    near = close_names(bad, pool)
    if not near:
        return examples
    said = near[0] if len(near) == 1 else f"{', '.join(near[:-1])} or {near[-1]}"
    return f"did you mean {said}? {examples}"


_KEY_EXAMPLES = "use Playwright's key names, e.g. Enter, Tab, Escape, ArrowDown, a, A, 1, F5, Control+Shift+K"
_MOD_EXAMPLES = "modifiers are Alt, Control, ControlOrMeta, Meta and Shift; Command and Option work too"


def _shown(name: str) -> str:
    # a stray tab or newline in a key name must show as \t or \n, not move the error message around
    return name if name.isprintable() else name.encode("unicode_escape").decode("ascii")


def host_is_mac() -> bool:
    return sys.platform == "darwin"


def resolve_name(name: str, *, mac: bool = False) -> str:
    """The layout name a chord token stands for: ControlOrMeta follows the platform (as Playwright
    does, by the machine the browser runs on); our aliases become Playwright's names."""
    if name == CONTROL_OR_META:
        return "Meta" if mac else "Control"
    return ALIASES.get(name, name)


def key_def(name: str, *, mac: bool = False) -> KeyDef:
    """The definition of one key name (not a chord)."""
    kd = KEYS.get(resolve_name(name, mac=mac))
    if kd is None:
        raise KeyError_(f"unknown key '{_shown(name)}'", hint=_hint(name, KEY_NAMES, _KEY_EXAMPLES))
    return kd


def split_chord(chord: str) -> list[str]:
    """Split ``'Control+Shift+A'`` as Playwright does: a ``+`` right after a separator (or at the
    start) is the plus key, so ``'+'``, ``'Shift++'`` work and ``'Shift+'`` leaves an empty key."""
    tokens: list[str] = []
    building = ""
    for ch in chord:
        if ch == "+" and building:
            tokens.append(building)
            building = ""
        else:
            building += ch
    tokens.append(building)
    return tokens


def parse_chord(chord: str, *, mac: bool = False) -> list[KeyDef]:
    """Every key of a chord, held ones first, the pressed key last; a readable error for any
    name Playwright's keyboard would reject."""
    tokens = split_chord(chord)
    out: list[KeyDef] = []
    for i, token in enumerate(tokens):
        try:
            out.append(key_def(token, mac=mac))
        except KeyError_:
            if i < len(tokens) - 1:
                raise KeyError_(f"unknown modifier '{_shown(token)}' in '{_shown(chord)}'",
                                hint=_hint(token, KEY_NAMES, _MOD_EXAMPLES)) from None
            where = f" in '{_shown(chord)}'" if len(tokens) > 1 else ""
            raise KeyError_(f"unknown key '{_shown(token)}'{where}",
                            hint=_hint(token, KEY_NAMES, _KEY_EXAMPLES)) from None
    return out


def check_modifier(name: str) -> None:
    """A ``click``/``dblclick`` modifier name, or a readable error naming the closest ones."""
    if name not in CLICK_MODIFIERS:
        raise KeyError_(f"unknown modifier '{_shown(name)}'", hint=_hint(name, CLICK_MODIFIERS, _MOD_EXAMPLES))


def modifier_mask(mods: Iterable[str], *, mac: bool = False) -> int:
    """CDP modifier bits of click modifiers (ControlOrMeta and our aliases resolved)."""
    mask = 0
    for m in mods:
        check_modifier(m)
        mask |= MODIFIER_BITS[resolve_name(m, mac=mac)]
    return mask


# ---------------------------------------------------------------------- the events Chromium is sent


class KeyboardState:
    """Which keys are down, and the ``Input.dispatchKeyEvent`` parameters for pressing more — the
    same state machine as Playwright's ``Keyboard`` (its ``down``/``up``/``press`` and the
    ``ensureModifiers`` a click with modifiers goes through)."""

    def __init__(self, *, mac: bool = False) -> None:
        self.mac = mac
        self.modifiers: set[str] = set()
        self._codes: set[str] = set()

    @property
    def mask(self) -> int:
        return sum(MODIFIER_BITS[m] for m in self.modifiers)

    def _describe(self, name: str) -> KeyDef:
        kd = key_def(name, mac=self.mac)
        if "Shift" in self.modifiers and kd.shifted is not None:
            kd = kd.shifted
        if self.modifiers - {"Shift"}:  # Control, Alt or Meta held: a shortcut, not typing
            kd = replace(kd, text="")
        return kd

    def down(self, name: str) -> dict[str, Any]:
        kd = self._describe(name)
        repeat = kd.code in self._codes
        self._codes.add(kd.code)
        if kd.key in MODIFIER_BITS:
            self.modifiers.add(kd.key)
        return {"type": "keyDown" if kd.text else "rawKeyDown", "modifiers": self.mask,
                "windowsVirtualKeyCode": kd.key_code, "code": kd.code, "commands": self._commands(kd.code),
                "key": kd.key, "text": kd.text, "unmodifiedText": kd.text, "autoRepeat": repeat,
                "location": kd.location, "isKeypad": kd.location == KEYPAD_LOCATION}

    def _commands(self, code: str) -> list[str]:
        # Chromium on macOS edits text through Cocoa commands, which CDP key events do not trigger by
        # themselves: Playwright names them with each keydown (⌘A selectAll, ⌥⌫ deleteWordBackward),
        # leaving out the insert* ones (the key's text inserts already).
        if not self.mac:
            return []
        shortcut = "+".join([*(m for m in ("Shift", "Control", "Alt", "Meta") if m in self.modifiers), code])
        found = MAC_EDITING_COMMANDS.get(shortcut, ())
        names = (found,) if isinstance(found, str) else found
        return [c.removesuffix(":") for c in names if not c.startswith("insert")]

    def up(self, name: str) -> dict[str, Any]:
        kd = self._describe(name)
        if kd.key in MODIFIER_BITS:
            self.modifiers.discard(kd.key)
        self._codes.discard(kd.code)
        return {"type": "keyUp", "modifiers": self.mask, "key": kd.key, "windowsVirtualKeyCode": kd.key_code,
                "code": kd.code, "location": kd.location, "isKeypad": kd.location == KEYPAD_LOCATION}

    def press(self, chord: str) -> list[dict[str, Any]]:
        parse_chord(chord, mac=self.mac)  # every name checked before any key goes down
        *held, last = split_chord(chord)
        events = [self.down(t) for t in held]
        events += [self.down(last), self.up(last)]
        events += [self.up(t) for t in reversed(held)]
        return events

    def hold_only(self, mods: Iterable[str]) -> list[dict[str, Any]]:
        """Press or release modifiers until exactly ``mods`` are held, in Playwright's order."""
        want: set[str] = set()
        for m in mods:
            check_modifier(m)
            want.add(resolve_name(m, mac=self.mac))
        events: list[dict[str, Any]] = []
        for m in MODIFIERS:
            if m in want and m not in self.modifiers:
                events.append(self.down(m))
            elif m not in want and m in self.modifiers:
                events.append(self.up(m))
        return events


def press_events(chord: str, *, mac: bool = False) -> list[dict[str, Any]]:
    """The key events of ``keyboard.press(chord)``, from nothing held to nothing held."""
    return KeyboardState(mac=mac).press(chord)


# ---------------------------------------------------------------------- the on-screen badge

_MAC_CAPS = {"Meta": "⌘", "Control": "⌃", "Alt": "⌥", "Shift": "⇧", "Enter": "↩", "Backspace": "⌫",
             "Delete": "⌦", "Escape": "esc", "Tab": "⇥", "CapsLock": "⇪", "PageUp": "⇞", "PageDown": "⇟",
             "Home": "↖", "End": "↘", "ContextMenu": "Menu"}
_PC_CAPS = {"Control": "Ctrl", "Escape": "Esc", "Delete": "Del", "Insert": "Ins", "PageUp": "PgUp",
            "PageDown": "PgDn", "CapsLock": "Caps Lock", "PrintScreen": "PrtSc", "ContextMenu": "Menu",
            "ScrollLock": "Scroll Lock", "NumLock": "Num Lock"}
_COMMON_CAPS = {" ": "Space", "ArrowLeft": "←", "ArrowUp": "↑", "ArrowRight": "→", "ArrowDown": "↓",
                "AltGraph": "AltGr", "AudioVolumeMute": "Mute", "AudioVolumeDown": "Vol −",
                "AudioVolumeUp": "Vol +", "MediaPlayPause": "⏯", "MediaTrackNext": "⏭",
                "MediaTrackPrevious": "⏮"}


def host_badge_platform() -> BadgePlatform:
    if sys.platform == "darwin":
        return "mac"
    return "windows" if sys.platform.startswith(("win", "cygwin")) else "linux"


def key_cap(name: str, platform: BadgePlatform) -> str:
    """How one key name is printed on a key cap for a viewer on ``platform``: ControlOrMeta is ⌘
    for a Mac viewer and Ctrl for the others, whatever machine the video was rendered on."""
    kd = key_def(name, mac=platform == "mac")
    if kd.location == KEYPAD_LOCATION:
        digit = kd.shifted.key if kd.shifted is not None else kd.key
        return "Num " + (digit if len(digit) == 1 else {"Enter": "Enter", "Delete": "."}.get(digit, digit))
    caps = _MAC_CAPS if platform == "mac" else {**_PC_CAPS, "Meta": "Win" if platform == "windows" else "Super"}
    label = caps.get(kd.key) or _COMMON_CAPS.get(kd.key) or kd.key
    return label.upper() if len(label) == 1 else label


def chord_caps(chord: str, platform: BadgePlatform) -> list[str]:
    return [key_cap(t, platform) for t in split_chord(chord)]


def click_caps(mods: Sequence[str], *, clicks: int, button: str, platform: BadgePlatform) -> list[str]:
    """``⌘`` ``Click``: the held modifiers (in the order a keyboard shows them) then the click."""
    resolved = {resolve_name(m, mac=platform == "mac") for m in mods}
    order = ("Control", "Alt", "Shift", "Meta") if platform == "mac" else ("Control", "Meta", "Alt", "Shift")
    what = {"right": "Right-click", "middle": "Middle-click"}.get(button, "Click")
    if clicks == 2:
        what = "Double-click" if what == "Click" else f"Double {what.lower()}"
    return [key_cap(m, platform) for m in order if m in resolved] + [what]


_SPOKEN = {CONTROL_OR_META: "Control or Command", "Meta": "Command", "Command": "Command", "Option": "Option",
           " ": "Space", "+": "plus", "\n": "Enter", "\r": "Enter", "ArrowUp": "Up arrow", "ArrowDown": "Down arrow",
           "ArrowLeft": "Left arrow", "ArrowRight": "Right arrow"}


def spoken_key(name: str) -> str:
    """A key name as narration says it: ``KeyK`` is "K", ``ControlOrMeta`` "Control or Command"."""
    if name in _SPOKEN:
        return _SPOKEN[name]
    kd = KEYS.get(name)
    if kd is None:  # not a key name: say it as written (the validator reports it)
        return name
    if kd.location == KEYPAD_LOCATION:
        return "keypad " + spoken_key(kd.shifted.key if kd.shifted is not None else kd.key)
    if len(kd.key) == 1 and name == kd.code:  # KeyK, Digit1, Slash: the character it types
        return spoken_key(kd.key)
    if len(name) == 1:
        return name.upper()
    if name in ("Shift", "Control", "Alt"):
        return name
    return re.sub(r"(?<=[a-z])(?=[A-Z0-9])", " ", kd.key if kd.key in MODIFIER_BITS else name)


def spoken_chord(chord: str) -> str:
    """``ControlOrMeta+Shift+KeyK`` → "Control or Command plus Shift plus K"."""
    return " plus ".join(spoken_key(t) for t in split_chord(chord))


def badge_joiner(platform: BadgePlatform) -> str:
    """Mac menus print ⌘⇧K; Windows and Linux print Ctrl+Shift+K."""
    return "" if platform == "mac" else "+"
