"""Key names and chords (as in Playwright's ``press``) to CDP key event fields."""

from __future__ import annotations

import pytest

from app.core.capture.keys import KeyDef, KeyError_, key_def, modifier_mask, parse_chord
from app.core.errors import ReelwrightError


@pytest.mark.parametrize(
    ("name", "expected"),
    [
        ("Enter", KeyDef("Enter", "Enter", 13, "\r")),
        ("Tab", KeyDef("Tab", "Tab", 9)),
        ("Escape", KeyDef("Escape", "Escape", 27)),
        ("Backspace", KeyDef("Backspace", "Backspace", 8)),
        ("ArrowDown", KeyDef("ArrowDown", "ArrowDown", 40)),
        ("Space", KeyDef(" ", "Space", 32, " ")),
        (" ", KeyDef(" ", "Space", 32, " ")),
        ("F1", KeyDef("F1", "F1", 112)),
        ("F12", KeyDef("F12", "F12", 123)),
        ("Shift", KeyDef("Shift", "ShiftLeft", 16)),
        ("a", KeyDef("a", "KeyA", 65, "a")),
        ("Z", KeyDef("Z", "KeyZ", 90, "Z")),
        ("7", KeyDef("7", "Digit7", 55, "7")),
        ("KeyQ", KeyDef("q", "KeyQ", 81, "q")),
        ("Digit0", KeyDef("0", "Digit0", 48, "0")),
        ("/", KeyDef("/", "Slash", 191, "/")),
        ("-", KeyDef("-", "Minus", 189, "-")),
        ("é", KeyDef("é", "", 0, "é")),  # typed as text, no physical key
    ],
)
def test_key_def(name: str, expected: KeyDef) -> None:
    assert key_def(name) == expected


@pytest.mark.parametrize("name", ["Return", "Ctrl", "F13", "Keyab", "", "enter"])
def test_unknown_key_is_a_readable_error(name: str) -> None:
    with pytest.raises(KeyError_) as info:
        key_def(name)
    assert f"unknown key '{name}'" in str(info.value)
    assert info.value.hint and "Enter" in info.value.hint
    assert isinstance(info.value, ReelwrightError) and info.value.exit_code == 2


@pytest.mark.parametrize(
    ("chord", "mods", "key"),
    [
        ("Enter", [], "Enter"),
        ("Control+A", ["Control"], "A"),
        ("Control+Shift+ArrowLeft", ["Control", "Shift"], "ArrowLeft"),
        ("Alt+Meta+F5", ["Alt", "Meta"], "F5"),
        ("+", [], "+"),
        ("Shift++", ["Shift"], "+"),
        ("Control+Alt++", ["Control", "Alt"], "+"),
    ],
)
def test_parse_chord(chord: str, mods: list[str], key: str) -> None:
    got_mods, kd = parse_chord(chord)
    assert got_mods == mods
    assert kd.key == key


def test_control_or_meta_follows_the_platform() -> None:
    assert parse_chord("ControlOrMeta+c")[0] == ["Control"]
    assert parse_chord("ControlOrMeta+c", mac=True)[0] == ["Meta"]


@pytest.mark.parametrize(("chord", "bad"), [("Ctrl+A", "Ctrl"), ("Hyper+x", "Hyper"), ("Enter+a", "Enter")])
def test_unknown_modifier(chord: str, bad: str) -> None:
    with pytest.raises(KeyError_) as info:
        parse_chord(chord)
    assert str(info.value).startswith(f"unknown modifier '{bad}' in '{chord}'")
    assert "Control" in (info.value.hint or "")


def test_dangling_plus_is_an_unknown_key() -> None:
    with pytest.raises(KeyError_, match="unknown key ''"):
        parse_chord("Shift+")


def test_modifier_mask_matches_cdp_bits() -> None:
    assert modifier_mask([]) == 0
    assert modifier_mask(["Alt"]) == 1
    assert modifier_mask(["Control", "Shift"]) == 2 | 8
    assert modifier_mask(["Alt", "Control", "Meta", "Shift"]) == 15
    mods, _ = parse_chord("Meta+Shift+z")
    assert modifier_mask(mods) == 4 | 8
