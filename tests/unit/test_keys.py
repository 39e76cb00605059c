"""The one key table: Playwright's key and modifier names, the CDP key events they make, the
validation errors for names it does not know, and the keystroke badge's labels.

The events are checked against hand-written expectations from Playwright's rules here; the real
comparison with Playwright's own ``keyboard.press`` in Chromium is tests/integration/test_keys_chromium.py.
"""

from __future__ import annotations

import json
import string
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from app.core.errors import ReelwrightError
from app.core.keys import (
    CLICK_MODIFIERS,
    KEY_NAMES,
    KEYS,
    KeyboardState,
    KeyDef,
    KeyError_,
    chord_caps,
    click_caps,
    close_names,
    key_def,
    modifier_mask,
    parse_chord,
    press_events,
    split_chord,
)
from app.core.keys.keyboard_layout import US_LAYOUT
from app.core.script import ScriptError, validate_script

# --------------------------------------------------------------------------- the table


def test_every_layout_code_is_a_name_and_so_are_the_aliases_and_characters() -> None:
    codes = {row.code for row in US_LAYOUT}
    assert len(codes) == 111
    assert codes <= set(KEYS)
    assert {"Shift", "Control", "Alt", "Meta", "\n", "\r"} <= set(KEYS)
    # every printable ASCII character is on the US keyboard, plus Enter's two spellings
    assert {n for n in KEYS if len(n) == 1} == set(string.printable) - set("\t\x0b\x0c")
    assert {f"F{i}" for i in range(1, 13)} <= codes and {f"Numpad{i}" for i in range(10)} <= codes
    assert {"ControlOrMeta", "Command", "Option"} <= set(KEY_NAMES)


@pytest.mark.parametrize(
    ("name", "expected"),
    [
        ("Enter", KeyDef("Enter", "Enter", 13, "\r")),
        ("\n", KeyDef("Enter", "Enter", 13, "\r")),
        ("Tab", KeyDef("Tab", "Tab", 9)),
        ("Space", KeyDef(" ", "Space", 32, " ")),
        (" ", KeyDef(" ", "Space", 32, " ")),
        ("F12", KeyDef("F12", "F12", 123)),
        ("Shift", KeyDef("Shift", "ShiftLeft", 16, location=1)),
        ("ControlRight", KeyDef("Control", "ControlRight", 17, location=2)),
        ("MetaRight", KeyDef("Meta", "MetaRight", 92, location=2)),
        ("a", KeyDef("a", "KeyA", 65, "a")),
        ("Z", KeyDef("Z", "KeyZ", 90, "Z")),
        ("!", KeyDef("!", "Digit1", 49, "!")),
        ("/", KeyDef("/", "Slash", 191, "/")),
        ("NumpadDivide", KeyDef("/", "NumpadDivide", 111, "/", 3)),
        ("Numpad5", KeyDef("Clear", "Numpad5", 12, "", 3,
                           KeyDef("5", "Numpad5", 101, "5", 3))),
        ("Command", KeyDef("Meta", "MetaLeft", 91, location=1)),
        ("Option", KeyDef("Alt", "AltLeft", 18, location=1)),
    ],
)
def test_key_def(name: str, expected: KeyDef) -> None:
    got = key_def(name)
    assert (got.key, got.code, got.key_code, got.text, got.location) == (
        expected.key, expected.code, expected.key_code, expected.text, expected.location)
    if expected.shifted is not None:
        assert got.shifted == expected.shifted


def test_control_or_meta_follows_the_platform() -> None:
    assert key_def("ControlOrMeta").key == "Control"
    assert key_def("ControlOrMeta", mac=True).key == "Meta"
    assert [k.key for k in parse_chord("ControlOrMeta+c", mac=True)] == ["Meta", "c"]


@pytest.mark.parametrize(("chord", "tokens"), [
    ("+", ["+"]), ("Shift++", ["Shift", "+"]), ("Shift+", ["Shift", ""]), ("a+b+c", ["a", "b", "c"]),
    ("Control+Alt++", ["Control", "Alt", "+"]), ("++", ["+", ""]),
])
def test_chords_split_as_playwright_splits_them(chord: str, tokens: list[str]) -> None:
    assert split_chord(chord) == tokens


# --------------------------------------------------------------------------- the events


def _down(key: str, code: str, kc: int, mods: int = 0, text: str = "", loc: int = 0, repeat: bool = False
          ) -> dict[str, Any]:
    return {"type": "keyDown" if text else "rawKeyDown", "modifiers": mods, "windowsVirtualKeyCode": kc,
            "code": code, "commands": [], "key": key, "text": text, "unmodifiedText": text, "autoRepeat": repeat,
            "location": loc, "isKeypad": loc == 3}


def _up(key: str, code: str, kc: int, mods: int = 0, loc: int = 0) -> dict[str, Any]:
    return {"type": "keyUp", "modifiers": mods, "key": key, "windowsVirtualKeyCode": kc, "code": code,
            "location": loc, "isKeypad": loc == 3}


SHIFT_DOWN = _down("Shift", "ShiftLeft", 16, 8, loc=1)
SHIFT_UP = _up("Shift", "ShiftLeft", 16, 0, loc=1)


@pytest.mark.parametrize(
    ("chord", "events"),
    [
        ("Enter", [_down("Enter", "Enter", 13, text="\r"), _up("Enter", "Enter", 13)]),
        ("A", [_down("A", "KeyA", 65, text="A"), _up("A", "KeyA", 65)]),  # no Shift: as Playwright
        # a character name is not shifted by Shift; a code name is
        ("Shift+a", [SHIFT_DOWN, _down("a", "KeyA", 65, 8, "a"), _up("a", "KeyA", 65, 8), SHIFT_UP]),
        ("Shift+KeyA", [SHIFT_DOWN, _down("A", "KeyA", 65, 8, "A"), _up("A", "KeyA", 65, 8), SHIFT_UP]),
        ("Shift+Digit1", [SHIFT_DOWN, _down("!", "Digit1", 49, 8, "!"), _up("!", "Digit1", 49, 8), SHIFT_UP]),
        ("Shift+Numpad7", [SHIFT_DOWN, _down("7", "Numpad7", 103, 8, "7", 3), _up("7", "Numpad7", 103, 8, 3),
                           SHIFT_UP]),
        ("Numpad7", [_down("Home", "Numpad7", 36, loc=3), _up("Home", "Numpad7", 36, loc=3)]),
        # any modifier but Shift makes it a shortcut: no text
        ("Control+a", [_down("Control", "ControlLeft", 17, 2, loc=1), _down("a", "KeyA", 65, 2),
                       _up("a", "KeyA", 65, 2), _up("Control", "ControlLeft", 17, 0, loc=1)]),
        ("ControlOrMeta+k", [_down("Control", "ControlLeft", 17, 2, loc=1), _down("k", "KeyK", 75, 2),
                             _up("k", "KeyK", 75, 2), _up("Control", "ControlLeft", 17, 0, loc=1)]),
        ("Shift++", [SHIFT_DOWN, _down("+", "Equal", 187, 8, "+"), _up("+", "Equal", 187, 8), SHIFT_UP]),
        ("a+a", [_down("a", "KeyA", 65, text="a"), _down("a", "KeyA", 65, text="a", repeat=True),
                 _up("a", "KeyA", 65), _up("a", "KeyA", 65)]),
        ("ShiftRight", [_down("Shift", "ShiftRight", 16, 8, loc=2), _up("Shift", "ShiftRight", 16, 0, loc=2)]),
    ],
)
def test_press_events(chord: str, events: list[dict[str, Any]]) -> None:
    assert press_events(chord) == events


def test_control_or_meta_presses_meta_on_a_mac() -> None:
    ev = press_events("ControlOrMeta+c", mac=True)
    assert [(e["type"], e["key"], e["modifiers"]) for e in ev] == [
        ("rawKeyDown", "Meta", 4), ("rawKeyDown", "c", 4), ("keyUp", "c", 4), ("keyUp", "Meta", 0)]


@pytest.mark.parametrize(("chord", "commands"), [
    ("ControlOrMeta+a", ["selectAll"]), ("Meta+Shift+KeyZ", ["redo"]), ("Alt+Backspace", ["deleteWordBackward"]),
    ("Shift+ArrowLeft", ["moveLeftAndModifySelection"]), ("Enter", []),  # insertNewline: the text does it
    ("a", []),
])
def test_on_a_mac_keydowns_carry_the_editing_commands_playwright_sends(chord: str, commands: list[str]) -> None:
    ev = press_events(chord, mac=True)
    assert [e["commands"] for e in ev if e["type"] != "keyUp"][-1] == commands
    assert all(e["commands"] == [] for e in press_events(chord) if e["type"] != "keyUp")  # never elsewhere


def test_click_modifiers_go_down_and_up_in_playwrights_order() -> None:
    kb = KeyboardState()
    downs = kb.hold_only(["Shift", "ControlOrMeta", "Option"])
    assert [(e["key"], e["modifiers"]) for e in downs] == [("Alt", 1), ("Control", 3), ("Shift", 11)]
    assert kb.mask == 11
    ups = kb.hold_only([])
    assert [(e["key"], e["modifiers"]) for e in ups] == [("Alt", 10), ("Control", 8), ("Shift", 0)]


def test_modifier_mask_matches_cdp_bits_and_knows_control_or_meta() -> None:
    assert modifier_mask([]) == 0
    assert modifier_mask(["Alt", "Control", "Meta", "Shift"]) == 15
    # the KeyError of issue 18: ControlOrMeta was valid everywhere but here
    assert modifier_mask(["ControlOrMeta"]) == 2
    assert modifier_mask(["ControlOrMeta"], mac=True) == 4
    assert modifier_mask(["Command", "Option"]) == 4 | 1


# --------------------------------------------------------------------------- unknown names


@pytest.mark.parametrize(("name", "near"), [
    ("Return", "Enter"), ("Ctrl", "Control"), ("F13", "F1"), ("enter", "Enter"), ("Esc", "Escape"),
    ("arrowdown", "ArrowDown"), ("PgDn", "PageDown"), ("Keyab", "KeyA"), ("", None), ("é", None),
])
def test_unknown_key_is_a_readable_error_with_the_closest_names(name: str, near: str | None) -> None:
    with pytest.raises(KeyError_) as info:
        key_def(name)
    assert str(info.value).startswith(f"unknown key '{name}'")
    hint = info.value.hint or ""
    assert "Enter" in hint  # the examples, always
    if near is not None:
        assert hint.startswith("did you mean") and near in hint.split("?")[0], hint
    assert isinstance(info.value, ReelwrightError) and info.value.exit_code == 2


@pytest.mark.parametrize(("chord", "bad", "near"), [
    ("Ctrl+A", "Ctrl", "ControlOrMeta"), ("Cmd+k", "Cmd", "Meta"), ("Hyper+x", "Hyper", None),
    ("shift+Tab", "shift", "Shift"),
])
def test_unknown_modifier(chord: str, bad: str, near: str | None) -> None:
    with pytest.raises(KeyError_) as info:
        parse_chord(chord)
    assert str(info.value).startswith(f"unknown modifier '{bad}' in '{chord}'")
    assert "Control" in (info.value.hint or "")
    if near:
        assert near in (info.value.hint or "").split("?")[0]


def test_any_key_may_be_held_as_in_playwright() -> None:
    assert [k.key for k in parse_chord("Enter+a")] == ["Enter", "a"]


def test_unprintable_names_are_shown_escaped() -> None:
    with pytest.raises(KeyError_, match=r"unknown key '\\t'\n"):
        key_def("\t")
    with pytest.raises(KeyError_, match=r"unknown modifier 'Shift\\n' in 'Shift\\n\+a'"):
        parse_chord("Shift\n+a")


def test_dangling_plus_is_an_unknown_key() -> None:
    with pytest.raises(KeyError_, match="unknown key '' in 'Shift\\+'"):
        parse_chord("Shift+")


def test_close_names_prefers_known_slips() -> None:
    assert close_names("Ctrl", KEY_NAMES)[:2] == ["Control", "ControlOrMeta"]
    assert close_names("Up", KEY_NAMES)[0] == "ArrowUp"
    assert close_names("Cmd", CLICK_MODIFIERS)[0] == "Meta"


# --------------------------------------------------------------------------- the script validator


def _script(action: dict[str, Any]) -> dict[str, Any]:
    return {"cards": [{"id": "intro", "narration": "x", "actions": [{"type": "goto", "url": "https://a.test/"},
                                                                   action]}]}


@pytest.mark.parametrize("name", KEY_NAMES)
def test_every_name_validates_as_a_press_and_as_a_chord(name: str) -> None:
    validate_script(_script({"type": "press", "key": name}))
    validate_script(_script({"type": "press", "key": f"ControlOrMeta+Shift+{name}"}))


@pytest.mark.parametrize("mod", CLICK_MODIFIERS)
@pytest.mark.parametrize("kind", ["click", "dblclick"])
def test_every_modifier_validates_on_click_and_dblclick(kind: str, mod: str) -> None:
    script = validate_script(_script({"type": kind, "target": "#a", "modifiers": [mod]}))
    assert script.cards[0].actions[1].modifiers == [mod]  # type: ignore[union-attr]


@pytest.mark.parametrize(("action", "fld", "message"), [
    ({"type": "press", "key": "Ctrl+S"}, "key", "unknown modifier 'Ctrl' in 'Ctrl+S' (did you mean Control or "
     "ControlOrMeta?"),
    ({"type": "press", "key": "Entre"}, "key", "unknown key 'Entre' (did you mean Enter"),
    ({"type": "click", "target": "#a", "modifiers": ["Shift", "Cmd"]}, "modifiers",
     "unknown modifier 'Cmd' (did you mean Meta, ControlOrMeta or Command?"),
    ({"type": "dblclick", "target": "#a", "modifiers": ["alt"]}, "modifiers",
     "unknown modifier 'alt' (did you mean Alt"),
])
def test_unknown_names_name_the_card_the_action_and_the_closest_names(
        action: dict[str, Any], fld: str, message: str) -> None:
    with pytest.raises(ScriptError) as info:
        validate_script(_script(action))
    (p,) = info.value.problems
    assert (p.card_id, p.action_index, p.field) == ("intro", 1, fld)
    assert p.where == f"card 1 'intro' › action 2 ({action['type']}) › {fld}"
    assert p.message.startswith(message), p.message


def test_an_unknown_modifier_does_not_hide_the_other_problems_of_its_card() -> None:
    data = _script({"type": "click", "target": "#a", "modifiers": ["Hyper"]})
    data["cards"][0]["actions"].append({"type": "press", "key": "Hyper+k"})
    with pytest.raises(ScriptError) as info:
        validate_script(data)
    assert [(p.action_index, p.field) for p in info.value.problems] == [(1, "modifiers"), (2, "key")]


@settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.text(max_size=12), st.lists(st.text(max_size=8), max_size=3))
def test_any_name_validates_or_gives_the_validation_error_never_an_exception(key: str, mods: list[str]) -> None:
    for action in ({"type": "press", "key": key}, {"type": "click", "target": "#a", "modifiers": mods}):
        try:
            validate_script(_script(action))
        except ScriptError as exc:
            assert all(p.card_id == "intro" for p in exc.problems)


def test_the_schema_lists_the_modifiers_and_the_badge_setting() -> None:
    from app.core.script import script_json_schema

    text = json.dumps(script_json_schema())
    assert json.dumps(list(CLICK_MODIFIERS)) in text
    assert '"off", "auto", "mac", "windows", "linux"' in text


# --------------------------------------------------------------------------- the importers


def _flow(tmp_path: Path, stmt: str) -> Path:
    f = tmp_path / "flow_sync.py"
    f.write_text(
        "from playwright.sync_api import Playwright, sync_playwright\n\n"
        "def run(playwright: Playwright) -> None:\n    browser = playwright.chromium.launch()\n"
        "    context = browser.new_context()\n    page = context.new_page()\n"
        f"    page.goto('https://example.com/')\n    {stmt}\n\n"
        "with sync_playwright() as playwright:\n    run(playwright)\n")
    return f


def test_a_codegen_control_or_meta_click_imports_and_validates(tmp_path: Path) -> None:
    from app.core.draft.drafting import import_codegen

    f = _flow(tmp_path, 'page.get_by_role("link", name="Docs").click(modifiers=["ControlOrMeta"])')
    (_, click) = import_codegen(f).actions
    assert click.type == "click" and click.modifiers == ["ControlOrMeta"]


@pytest.mark.parametrize(("stmt", "reason"), [
    ('page.get_by_role("link").click(modifiers=["Ctrl"])', "unknown modifier 'Ctrl' (did you mean Control"),
    ('page.keyboard.press("Ctrl+K")', "unknown modifier 'Ctrl' in 'Ctrl+K'"),
    ('page.get_by_label("Q").press("Return")', "unknown key 'Return' (did you mean Enter"),
])
def test_codegen_with_an_unknown_name_is_reported_on_its_line(tmp_path: Path, stmt: str, reason: str) -> None:
    from app.core.draft.drafting import import_codegen
    from app.core.draft.importers import CodegenImportError

    with pytest.raises(CodegenImportError) as info:
        import_codegen(_flow(tmp_path, stmt))
    (p,) = info.value.problems
    assert p.line == 8 and p.reason.startswith(reason), p.reason


# --------------------------------------------------------------------------- the badge


@pytest.mark.parametrize(("chord", "mac", "windows", "linux"), [
    ("ControlOrMeta+Shift+k", ["⌘", "⇧", "K"], ["Ctrl", "Shift", "K"], ["Ctrl", "Shift", "K"]),
    ("Control+c", ["⌃", "C"], ["Ctrl", "C"], ["Ctrl", "C"]),
    ("Meta+ArrowLeft", ["⌘", "←"], ["Win", "←"], ["Super", "←"]),
    ("Alt+Enter", ["⌥", "↩"], ["Alt", "Enter"], ["Alt", "Enter"]),
    ("Escape", ["esc"], ["Esc"], ["Esc"]),
    ("Shift+Numpad7", ["⇧", "Num 7"], ["Shift", "Num 7"], ["Shift", "Num 7"]),
    ("Command+Option+Space", ["⌘", "⌥", "Space"], ["Win", "Alt", "Space"], ["Super", "Alt", "Space"]),
])
def test_badge_shows_what_each_platform_prints_on_its_keys(chord: str, mac: list[str], windows: list[str],
                                                          linux: list[str]) -> None:
    assert chord_caps(chord, "mac") == mac
    assert chord_caps(chord, "windows") == windows
    assert chord_caps(chord, "linux") == linux


def test_every_name_has_a_badge_label() -> None:
    for name in KEY_NAMES:
        for platform in ("mac", "windows", "linux"):
            (cap,) = chord_caps(name, platform)  # type: ignore[arg-type]
            assert cap.strip(), (name, platform)


def test_click_badge() -> None:
    assert click_caps(["ControlOrMeta"], clicks=1, button="left", platform="mac") == ["⌘", "Click"]
    assert click_caps(["ControlOrMeta"], clicks=1, button="left", platform="windows") == ["Ctrl", "Click"]
    assert click_caps(["Shift", "Alt"], clicks=2, button="left", platform="linux") == ["Alt", "Shift", "Double-click"]
    assert click_caps(["Shift"], clicks=1, button="right", platform="mac") == ["⇧", "Right-click"]


@pytest.mark.parametrize(("chord", "said"), [
    ("ControlOrMeta+Shift+KeyK", "Control or Command plus Shift plus K"),
    ("Shift+Numpad7", "Shift plus keypad 7"), ("PageDown", "Page Down"), ("Meta+a", "Command plus A"),
    ("Shift++", "Shift plus plus"), ("ArrowDown", "Down arrow"), ("Digit1", "1"), ("Hyper+x", "Hyper plus X"),
])
def test_narration_says_keys_as_people_do(chord: str, said: str) -> None:
    from app.core.draft.drafters.narrate import phrase
    from app.core.script import Press

    assert phrase(Press(type="press", key=chord)) == f"press {said}"
