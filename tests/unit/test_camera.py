"""Auto-zoom planning: which actions zoom, shots hold steady, eases are bounded, the plan reserves time."""

from __future__ import annotations

import math
from typing import Any

import pytest

from app.core.plan import camera
from app.core.plan.timeline import CURSOR_TRAVEL_S, VoiceTiming, plan
from app.core.script import validate_script


def _script(actions: list[dict[str, Any]], **settings: Any) -> Any:
    return validate_script({"settings": {"base_url": "http://x.invalid", **settings},
                            "cards": [{"id": "c", "narration": "n", "actions": actions}]})


FORM = [
    {"type": "goto", "url": "/"},
    {"type": "click", "target": "#a"},
    {"type": "type", "target": "#b", "text": "hello"},
    {"type": "press", "key": "Enter"},
    {"type": "fill", "target": "#c", "value": "x"},
    {"type": "highlight", "target": "#d"},
    {"type": "select", "target": "#e", "values": ["1"]},
]


def test_off_by_default_and_per_card_override() -> None:
    s = _script(FORM)
    assert camera.plan_card(s.cards[0], s.settings) == [None] * len(FORM)
    s2 = _script(FORM, camera="strong")
    s2.cards[0].camera = "off"
    assert camera.plan_card(s2.cards[0], s2.settings) == [None] * len(FORM)


def test_shots_group_consecutive_actions_and_hold_while_typing() -> None:
    s = _script(FORM, camera="gentle")
    moves = camera.plan_card(s.cards[0], s.settings)
    kinds = [(m.zoom_in, m.zoom_out) if m else None for m in moves]
    # goto: none; a click is a shot of its own (it changes the screen); type opens a shot, fill holds
    # it (press keeps it going) and closes it before the highlight; the select is a shot of its own
    assert kinds == [None, (True, True), (True, False), None, (False, True), None, (True, True)]


def test_a_click_closes_a_form_shot() -> None:
    s = _script([{"type": "type", "target": "#email", "text": "a@b.c"}, {"type": "fill", "target": "#pw", "value": "x"},
                 {"type": "click", "target": "#submit"}, {"type": "click", "target": "#next"}], camera="gentle")
    moves = camera.plan_card(s.cards[0], s.settings)
    assert [(m.zoom_in, m.zoom_out) if m else None for m in moves] == [
        (True, False), (False, False), (False, True), (True, True)]
    assert all(m.scale == camera.LEVEL_SCALE["gentle"] for m in moves if m)


@pytest.mark.parametrize("level", ["gentle", "strong"])
def test_zoom_speed_is_bounded(level: str) -> None:
    scale = camera.LEVEL_SCALE[level]
    d = camera.ease_s(1.0, scale)
    assert d >= camera.MIN_EASE_S
    assert camera.peak_log_speed(1.0, scale, d) <= camera.MAX_LOG_ZOOM_SPEED + 1e-9
    # the strong close-up takes longer than the gentle push-in: same perceived speed
    assert camera.ease_s(1.0, camera.LEVEL_SCALE["strong"]) > camera.ease_s(1.0, camera.LEVEL_SCALE["gentle"])


def test_fitted_scale_shrinks_for_big_targets() -> None:
    assert camera.fitted_scale(1.8, 100, 40, 1280, 720) == 1.8
    assert math.isclose(camera.fitted_scale(1.8, 800, 40, 1280, 720), 0.8 * 1280 / 800)
    assert camera.fitted_scale(1.8, 1200, 40, 1280, 720) == 1.0  # would barely zoom: leave it


def test_in_view_margin() -> None:
    assert camera.in_view(200, 200, 100, 50, 1280, 720)
    assert not camera.in_view(10, 200, 100, 50, 1280, 720)
    assert not camera.in_view(1200, 200, 100, 50, 1280, 720)


def test_plan_reserves_camera_time() -> None:
    actions = [{"type": "click", "target": "#a"}]
    off = plan(_script(actions), _script(actions).settings, [VoiceTiming(0.5)])
    s = _script(actions, camera="strong")
    on = plan(s, s.settings, [VoiceTiming(0.5)])
    a_off, a_on = off.cards[0].actions[0], on.cards[0].actions[0]
    move = camera.plan_card(s.cards[0], s.settings)[0]
    assert move is not None
    # the ease-in comes before the cursor travel, the hold + ease-out after the click
    assert math.isclose(a_on.fire_s - a_on.start_s, CURSOR_TRAVEL_S + move.ease_in_s, abs_tol=1 / 30 + 1e-9)
    assert on.duration_s - off.duration_s >= move.ease_in_s + move.tail_s - 2 / 30
    assert a_off.fire_s - a_off.start_s == pytest.approx(CURSOR_TRAVEL_S, abs=1 / 30)
