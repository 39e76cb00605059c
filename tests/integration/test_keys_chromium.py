"""Every key and modifier name performs in real Chromium exactly as Playwright's own input does.

One frame-exact headless-shell session (as a render runs) opens resources/testpages/keys.html, which
records every keyboard and mouse event with what a page can read of it.  For each name of the table
(alone, with Shift on every physical key, and in chords) Playwright's ``page.keyboard.press`` runs
first, then the performer's CDP events for the same name, and the page must have seen the same
events: key, code, keyCode, charCode, location, repeat and the modifier flags.  Clicks and double
clicks with every modifier are compared with Playwright's ``click``/``dblclick`` the same way.  The
keystroke badge is checked in the same page.
"""

from __future__ import annotations

import asyncio
import functools
import http.server
import io
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from PIL import Image

from app.core.bundle import Job
from app.core.capture import BrowserSession, NullSink
from app.core.capture.performer import ActionContext, Performer, _press
from app.core.infra.tools import find_browser
from app.core.keys import ALIASES, CLICK_MODIFIERS, KEY_NAMES, chord_caps
from app.core.keys.keyboard_layout import US_LAYOUT
from app.core.script import Press, Script, Settings

pytestmark = [pytest.mark.slow, pytest.mark.browser]

PAGES = Path(__file__).resolve().parents[2] / "resources" / "testpages"

#: every name alone; Shift with every physical key (the shifted layer); chords with held keys
CHORDS = [
    *KEY_NAMES,
    *(f"Shift+{row.code}" for row in US_LAYOUT if row.code not in ("ShiftLeft", "ShiftRight")),
    "ControlOrMeta+a", "ControlOrMeta+Shift+KeyK", "Control+Shift+ArrowLeft", "Alt+Shift+Digit3", "Meta+k",
    "Command+k", "Option+Shift+z", "Shift++", "Control++", "+", "a+b", "a+a", "Shift+a", "Shift+A",
    "ShiftRight+Tab", "ControlRight+End", "AltRight+F4", "Shift+Shift", "Enter+Escape", "Control+Alt+Meta+Shift+x",
]
CLICK_MODS = [[], *([m] for m in CLICK_MODIFIERS), ["Alt", "Control", "Meta", "Shift"], ["Shift", "ControlOrMeta"]]


def playwright_name(chord: str) -> str:
    """The same chord in Playwright's own spelling (it does not know our Command/Option)."""
    if chord == "+" or "+" not in chord:
        return ALIASES.get(chord, chord)
    tokens = chord.split("+") if not chord.endswith("++") else [*chord[:-2].split("+"), "+"]
    return "+".join(ALIASES.get(t, t) for t in tokens)


class _QuietHandler(http.server.SimpleHTTPRequestHandler):
    def log_message(self, format: str, *args: Any) -> None:
        pass


@pytest.fixture(scope="module")
def base_url() -> Iterator[str]:
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), functools.partial(_QuietHandler, directory=str(PAGES)))
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}/"
    finally:
        server.shutdown()
        server.server_close()


Pair = tuple[list[dict[str, Any]], list[dict[str, Any]]]


@pytest.fixture(scope="module")
def recorded(base_url: str) -> dict[str, Any]:
    """Run everything in one browser session; the tests below only look at what it recorded."""

    async def run() -> dict[str, Any]:
        settings = Settings(key_badges="mac")
        session = BrowserSession(find_browser(), 1280, 720, 30, NullSink(), capture=False)
        await session.start()
        try:
            assert session.frame_exact and session.page is not None and session.cdp is not None
            clock = await session.start_clock()
            page = session.page
            script = Script.model_validate({"settings": settings.model_dump(), "cards": [{"id": "k"}]})
            p = Performer(page, session.cdp, clock, settings, Job(script=script, root=PAGES, loose=True),
                          base_url=base_url)
            await p.navigate(base_url + "keys.html")
            take = "() => window.__keys.take()"
            # Warm up: the first input after a navigation was once seen to miss the page entirely
            # (1 run in 3), whoever sent it; what is compared starts once input demonstrably arrives.
            await clock.step(3)
            for _ in range(20):
                await clock.run(page.keyboard.press("Shift"), 5, "warm-up")
                await clock.step()
                if await page.evaluate(take):
                    break
            out: dict[str, Any] = {"keys": {}, "clicks": {}}
            t0 = time.perf_counter()
            for chord in CHORDS:
                await page.evaluate(take)
                # CDP answers a key event once the page has handled it: no extra frame is needed
                await clock.run(page.keyboard.press(playwright_name(chord)), 5, chord)
                theirs = await page.evaluate(take)
                await p.send_input(p.key_events(chord))
                ours = await page.evaluate(take)
                out["keys"][chord] = (theirs, ours)
            out["keys_s"] = time.perf_counter() - t0
            box = await page.locator("#target").bounding_box()
            assert box is not None
            x, y = box["x"] + box["width"] / 2, box["y"] + box["height"] / 2
            t0 = time.perf_counter()
            for kind in ("click", "dblclick"):
                for button in ("left", "right"):
                    for mods in CLICK_MODS:
                        pw_mods = [ALIASES.get(m, m) for m in mods]
                        await page.evaluate(take)
                        action = page.click if kind == "click" else page.dblclick
                        await clock.run(action("#target", modifiers=pw_mods, button=button, force=True),  # type: ignore[arg-type]
                                        5, f"{kind} {mods}")
                        await clock.step()
                        theirs = await page.evaluate(take)
                        await p.click_at(x, y, button=button, clicks=2 if kind == "dblclick" else 1, modifiers=mods)
                        await clock.step()
                        ours = await page.evaluate(take)
                        out["clicks"][f"{kind} {button} {'+'.join(mods) or '-'}"] = (theirs, ours)
            out["clicks_s"] = time.perf_counter() - t0
            # the badge: shown with the press, labelled for a Mac viewer, gone after its time on screen
            ctx = ActionContext(card_index=0, card_id="k", action_index=0, start_s=clock.now, fire_s=clock.now)
            await _press(p, ctx, Press(type="press", key="ControlOrMeta+Shift+KeyK"))
            out["badge"] = await page.evaluate("() => window.__reelwright.keysShown()")
            await clock.step(6)  # past its fade-in
            out["badge_frame"] = await clock.snapshot()  # type: ignore[attr-defined]
            await clock.step(round(1.5 * clock.fps))
            out["badge_after"] = await page.evaluate("() => window.__reelwright.keysShown()")
            out["after_frame"] = await clock.snapshot()  # type: ignore[attr-defined]
            p.badges = None  # key_badges "off": nothing shown
            await _press(p, ctx, Press(type="press", key="Escape"))
            out["badge_off"] = await page.evaluate("() => window.__reelwright.keysShown()")
            return out
        finally:
            await session.close()

    return asyncio.run(run())


KEY_FIELDS = ("type", "key", "code", "keyCode", "charCode", "which", "location", "repeat", "altKey", "ctrlKey",
              "metaKey", "shiftKey", "state")


def test_every_key_name_makes_the_events_playwright_makes(recorded: dict[str, Any]) -> None:
    print(f"{len(CHORDS)} chords compared in {recorded['keys_s']:.1f} s")
    wrong = {c: pair for c, pair in recorded["keys"].items() if pair[0] != pair[1]}
    assert not wrong, next(iter(wrong.items()))
    for chord, (theirs, _) in recorded["keys"].items():
        assert theirs, f"Playwright's press({chord!r}) reached the page with no event"
        assert set(theirs[0]) == set(KEY_FIELDS)


def test_shift_and_text_rules_reach_the_page(recorded: dict[str, Any]) -> None:
    # spot checks that the comparison above compared something meaningful
    def keydown(chord: str) -> dict[str, Any]:
        return next(e for e in recorded["keys"][chord][1] if e["type"] == "keydown" and e["key"] not in
                    ("Shift", "Control", "Alt", "Meta"))

    assert keydown("Shift+Digit1") | {} == keydown("Shift+Digit1")
    assert (keydown("Shift+Digit1")["key"], keydown("Shift+Digit1")["shiftKey"]) == ("!", True)
    assert (keydown("Numpad7")["key"], keydown("Numpad7")["location"]) == ("Home", 3)
    assert keydown("ControlOrMeta+a")["ctrlKey"] is True  # Control on this (Linux) machine
    assert keydown("Command+k")["metaKey"] is True and keydown("Option+Shift+z")["altKey"] is True
    shift = next(e for e in recorded["keys"]["ShiftRight+Tab"][1] if e["key"] == "Shift")
    assert (shift["code"], shift["location"], shift["keyCode"]) == ("ShiftRight", 2, 16)
    presses = [e for e in recorded["keys"]["ControlOrMeta+a"][1] if e["type"] == "keypress"]
    assert presses == []  # a shortcut types nothing


def test_every_modifier_on_click_and_dblclick_reaches_the_page(recorded: dict[str, Any]) -> None:
    print(f"{len(recorded['clicks'])} clicks compared in {recorded['clicks_s']:.1f} s")
    wrong = {c: pair for c, pair in recorded["clicks"].items() if pair[0] != pair[1]}
    assert not wrong, next(iter(wrong.items()))
    flag = {"Alt": "altKey", "Option": "altKey", "Control": "ctrlKey", "ControlOrMeta": "ctrlKey",
            "Meta": "metaKey", "Command": "metaKey", "Shift": "shiftKey"}
    for mod in CLICK_MODIFIERS:
        ours = recorded["clicks"][f"click left {mod}"][1]
        click = next(e for e in ours if e["type"] == "click")
        assert click[flag[mod]] is True and sum(click[f] for f in set(flag.values())) == 1, (mod, click)
        dbl = next(e for e in recorded["clicks"][f"dblclick left {mod}"][1] if e["type"] == "dblclick")
        assert dbl[flag[mod]] is True and dbl["detail"] == 2
        aux = next(e for e in recorded["clicks"][f"click right {mod}"][1] if e["type"] == "contextmenu")
        assert aux[flag[mod]] is True


def test_the_badge_shows_the_viewers_keys_for_its_time_on_screen(recorded: dict[str, Any]) -> None:
    assert recorded["badge"] == "".join(chord_caps("ControlOrMeta+Shift+KeyK", "mac")) == "⌘⇧K"
    def darkest_below_centre(jpeg: bytes) -> int:
        img = np.asarray(Image.open(io.BytesIO(jpeg)).convert("L"))
        h, w = img.shape
        return int(img[int(h * 0.78):int(h * 0.88), w // 2 - 60:w // 2 + 60].min())

    assert darkest_below_centre(recorded["badge_frame"]) < 60  # the badge, dark on a light page
    assert recorded["badge_after"] is None
    assert darkest_below_centre(recorded["after_frame"]) > 200  # gone on the video clock
    assert recorded["badge_off"] is None


FLOW = """from playwright.sync_api import Playwright, sync_playwright


def run(playwright: Playwright) -> None:
    browser = playwright.chromium.launch(headless=False)
    context = browser.new_context()
    page = context.new_page()
    page.goto("http://localhost:8000/keys.html")
    page.get_by_test_id("target").click(modifiers=["ControlOrMeta"])
    page.get_by_role("button", name="Click me").dblclick(modifiers=["Alt", "Shift"])
    page.get_by_test_id("target").click(button="right", modifiers=["Meta"])
    page.get_by_test_id("target").press("ControlOrMeta+Shift+KeyK")
    page.keyboard.press("Shift+Numpad7")
    page.keyboard.press("AudioVolumeUp")
    page.keyboard.press("ControlOrMeta")
    page.keyboard.press("Shift++")
    context.close()
    browser.close()


with sync_playwright() as playwright:
    run(playwright)
"""


def test_a_codegen_flow_with_any_names_imports_validates_and_renders(tmp_path: Path,
                                                                    capsys: pytest.CaptureFixture[str]) -> None:
    """Issue 18's report, end to end through the CLI: the Ctrl/Cmd-click flow renders."""
    import json
    import shutil

    from app.cli import main

    (tmp_path / "site").mkdir()
    shutil.copy(PAGES / "keys.html", tmp_path / "site" / "keys.html")
    (tmp_path / "flow.py").write_text(FLOW, encoding="utf-8")
    script = tmp_path / "script.json"
    assert main(["import", str(tmp_path / "flow.py"), "--site", "site", "--out", str(script), "-q"]) == 0
    data = json.loads(script.read_text(encoding="utf-8"))
    actions = [a for c in data["cards"] for a in c["actions"]]
    assert [a.get("modifiers") for a in actions if a["type"] in ("click", "dblclick")] == [
        ["ControlOrMeta"], ["Alt", "Shift"], ["Meta"]]
    data["settings"].update(voice={"provider": "espeak"}, key_badges="auto", lead_in_ms=200, lead_out_ms=300,
                            gap_ms=100, captions=False)
    script.write_text(json.dumps(data), encoding="utf-8")
    assert main(["validate", str(script)]) == 0
    t0 = time.perf_counter()
    code = main(["render", str(script), "--out", str(tmp_path / "out" / "keys.mp4"), "-q"])
    err = capsys.readouterr().err
    print(f"render of {len(actions)} actions: {time.perf_counter() - t0:.1f} s")
    assert code == 0, err
    assert "unexpected" not in err
    assert (tmp_path / "out" / "keys.mp4").stat().st_size > 10_000
