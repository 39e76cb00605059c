"""The planner: a pure function from (script, voice timings, measured durations) to a timeline."""

from __future__ import annotations

import math
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from app.core.plan.timeline import (
    CURSOR_TRAVEL_S,
    ZOOM_EASE_S,
    ActionTiming,
    Scheduler,
    Timeline,
    VoiceTiming,
    desired_fire_offsets,
    estimate_action_s,
    plan,
    plan_rest,
    snap_up,
)
from app.core.script import Script, Settings, validate_script

EPS = 1e-6


def _script(cards: list[dict[str, Any]], **settings: Any) -> Script:
    return validate_script({"settings": settings, "cards": cards})


def _on_grid(t: float, fps: int) -> bool:
    return abs(t * fps - round(t * fps)) < 1e-6


def _all_times(tl: Timeline) -> list[float]:
    out = [tl.duration_s]
    for c in tl.cards:
        out += [c.start_s, c.end_s, c.voice_start_s]
        for a in c.actions:
            out += [a.start_s, a.fire_s, a.end_s]
    return out


# --------------------------------------------------------------------------- basics


def test_snap_up() -> None:
    assert snap_up(0.0, 30) == 0.0
    assert snap_up(0.01, 30) == pytest.approx(1 / 30)
    assert snap_up(1 / 30, 30) == pytest.approx(1 / 30)  # already on a frame: unchanged
    assert snap_up(0.1 * 3, 30) == pytest.approx(9 / 30)  # float noise (0.30000000000000004) is tolerated
    assert snap_up(0.6, 24) == pytest.approx(15 / 24)


def test_single_card_layout_with_lead_in_out_and_no_gap_after_last() -> None:
    script = _script([{"id": "a", "narration": "Hi."}], lead_in_ms=500, lead_out_ms=1000, gap_ms=400, fps=30)
    tl = plan(script, script.settings, [VoiceTiming(2.0)])
    (card,) = tl.cards
    assert card.start_s == pytest.approx(0.5)
    assert card.voice_start_s == card.start_s
    assert card.end_s == pytest.approx(2.5)  # last card: no gap
    assert tl.duration_s == pytest.approx(3.5)
    assert tl.frame_count == 105
    assert tl.frame_of(card.start_s) == 15


def test_gap_and_hold_between_cards() -> None:
    script = _script([{"id": "a", "hold_ms": 700}, {"id": "b"}], lead_in_ms=0, lead_out_ms=0, gap_ms=400)
    tl = plan(script, script.settings, [VoiceTiming(1.0), VoiceTiming(1.0)])
    a, b = tl.cards
    assert a.start_s == 0.0
    assert a.end_s == pytest.approx(1.0 + 0.4 + 0.7)
    assert b.start_s == a.end_s
    assert b.end_s == pytest.approx(a.end_s + 1.0)
    assert tl.duration_s == b.end_s


def test_lead_in_snapped_to_frame() -> None:
    script = _script([{"id": "a"}], lead_in_ms=610, fps=25)
    tl = plan(script, script.settings, [VoiceTiming(1.0)])
    assert tl.cards[0].start_s == pytest.approx(16 / 25)  # 0.61 s -> frame 15.25 -> 16


def test_empty_card_still_shows_for_a_moment() -> None:
    script = _script([{"id": "a"}], lead_in_ms=0, lead_out_ms=0)
    tl = plan(script, script.settings, [VoiceTiming(0.0)])
    assert tl.cards[0].end_s == pytest.approx(1.0)
    # a non-last empty card lasts its gap
    script = _script([{"id": "a"}, {"id": "b"}], lead_in_ms=0, gap_ms=300)
    tl = plan(script, script.settings, [VoiceTiming(0.0), VoiceTiming(1.0)])
    assert tl.cards[0].end_s == pytest.approx(0.3)
    assert tl.cards[0].actions == ()


def test_one_voice_timing_per_card_is_required() -> None:
    script = _script([{"id": "a"}, {"id": "b"}])
    with pytest.raises(ValueError, match="one VoiceTiming per card"):
        plan(script, script.settings, [VoiceTiming(1.0)])


def test_cards_must_be_scheduled_in_order() -> None:
    script = _script([{"id": "a"}, {"id": "b"}])
    sched = Scheduler(script, script.settings, [VoiceTiming(1.0)] * 2)
    with pytest.raises(ValueError, match="in order"):
        sched.begin_card(1)


# --------------------------------------------------------------------------- action placement


def test_unmarked_actions_spread_over_the_narration() -> None:
    waits = [{"type": "wait", "ms": 0} for _ in range(4)]
    script = _script([{"id": "a", "narration": "x", "actions": waits}], lead_in_ms=0, fps=60)
    card = script.cards[0]
    assert desired_fire_offsets(card, VoiceTiming(8.0)) == [0.0, 2.0, 4.0, 6.0]
    tl = plan(script, script.settings, [VoiceTiming(8.0)])
    assert [a.fire_s for a in tl.cards[0].actions] == pytest.approx([0.0, 2.0, 4.0, 6.0])
    assert tl.cards[0].end_s == pytest.approx(8.0)  # narration never cut


def test_bookmarked_actions_fire_on_their_mark() -> None:
    narration = 'Open <mark name="menu"/> the menu and <mark name="save"/> save it.'
    actions = [
        {"type": "goto", "url": "https://example.com"},
        {"type": "click", "target": "#menu", "at": "menu"},
        {"type": "press", "key": "Enter", "at": "save"},
    ]
    script = _script([{"id": "a", "narration": narration, "actions": actions}], lead_in_ms=1000, fps=30)
    voice = VoiceTiming(5.0, {"menu": 1.52, "save": 3.3})
    tl = plan(script, script.settings, [voice])
    goto, click, press = tl.cards[0].actions
    start = tl.cards[0].start_s
    assert goto.fire_s == pytest.approx(start)
    assert click.fire_s == pytest.approx(start + snap_up(1.52, 30))  # 1.52 s -> frame 46
    assert click.start_s == pytest.approx(click.fire_s - CURSOR_TRAVEL_S)  # cursor travels before a click
    assert press.fire_s == pytest.approx(start + 3.3)
    assert press.start_s == press.fire_s  # a key press has no cursor lead-in


def test_unmarked_actions_between_marks_spread_after_the_mark() -> None:
    narration = 'A <mark name="m"/> B.'
    actions = [{"type": "wait", "ms": 0, "at": "m"}, {"type": "wait", "ms": 0}, {"type": "wait", "ms": 0}]
    script = _script([{"id": "a", "narration": narration, "actions": actions}])
    offsets = desired_fire_offsets(script.cards[0], VoiceTiming(5.0, {"m": 2.0}))
    assert offsets == pytest.approx([2.0, 3.0, 4.0])


def test_actions_never_start_before_the_previous_ends() -> None:
    actions = [{"type": "wait", "ms": 3000}, {"type": "click", "target": "#b"}, {"type": "hover", "target": "#c"}]
    script = _script([{"id": "a", "narration": "x", "actions": actions}], lead_in_ms=0)
    tl = plan(script, script.settings, [VoiceTiming(3.0)])
    wait, click, hover = tl.cards[0].actions
    assert wait.end_s == pytest.approx(3.0)
    assert click.start_s >= wait.end_s - EPS  # wanted to fire at 1.0 but the wait is still running
    assert click.fire_s == pytest.approx(3.0 + CURSOR_TRAVEL_S)
    assert hover.start_s >= click.end_s - EPS
    # the card outlasts its narration to fit the actions (max(narration, actions))
    assert tl.cards[0].end_s == pytest.approx(hover.end_s)


def test_cursor_off_removes_the_lead_in() -> None:
    script = _script([{"id": "a", "actions": [{"type": "click", "target": "#a"}]}], cursor=False, lead_in_ms=0)
    (click,) = plan(script, script.settings, [VoiceTiming(1.0)]).cards[0].actions
    assert click.start_s == click.fire_s == 0.0


def test_lead_in_of_first_pointer_action_is_inside_the_card() -> None:
    script = _script([{"id": "a", "actions": [{"type": "click", "target": "#a"}]}], lead_in_ms=0)
    (click,) = plan(script, script.settings, [VoiceTiming(2.0)]).cards[0].actions
    assert click.start_s == 0.0
    assert click.fire_s == pytest.approx(CURSOR_TRAVEL_S)


def test_measured_durations_shift_later_actions_and_cards() -> None:
    cards = [
        {"id": "a", "narration": "x", "actions": [{"type": "goto", "url": "https://e.test"},
                                                   {"type": "press", "key": "Tab"}]},
        {"id": "b", "narration": "y", "actions": [{"type": "press", "key": "Tab"}]},
    ]
    script = _script(cards, lead_in_ms=0, gap_ms=0, lead_out_ms=0)
    voices = [VoiceTiming(2.0), VoiceTiming(1.0)]
    estimated = plan(script, script.settings, voices)
    measured = plan(script, script.settings, voices, measured={(0, 0): 6.0})
    e_press, m_press = estimated.cards[0].actions[1], measured.cards[0].actions[1]
    assert e_press.fire_s == pytest.approx(1.0)
    assert m_press.fire_s == pytest.approx(6.0)  # the slow page load pushed it later
    assert measured.cards[0].end_s == pytest.approx(snap_up(6.0 + estimate_action_s(script.cards[0].actions[1]), 30))
    assert measured.cards[1].start_s == measured.cards[0].end_s
    assert measured.cards[1].actions[0].fire_s == pytest.approx(measured.cards[1].start_s)
    assert measured.duration_s > estimated.duration_s


def test_measured_duration_shorter_than_minimum_is_stretched() -> None:
    script = _script([{"id": "a", "actions": [{"type": "highlight", "target": "#a", "duration_ms": 2000}]}],
                     lead_in_ms=0)
    (hl,) = plan(script, script.settings, [VoiceTiming(0.5)], measured={(0, 0): 0.1}).cards[0].actions
    assert hl.end_s - hl.fire_s == pytest.approx(2.0)  # the viewer gets the whole highlight


def test_estimates() -> None:
    script = _script([{"id": "a", "actions": [
        {"type": "type", "target": "#a", "text": "hello", "delay_ms": 100},
        {"type": "wait", "ms": 1200},
        {"type": "zoom", "duration_ms": 1000},
    ]}])
    typ, wait, zoom = script.cards[0].actions
    assert estimate_action_s(typ) == pytest.approx(0.5 + 0.2)
    assert estimate_action_s(wait) == pytest.approx(1.2)
    assert estimate_action_s(zoom) == pytest.approx(2 * ZOOM_EASE_S + 1.0)


def test_scheduler_driven_live_equals_plan_when_measurements_match() -> None:
    cards = [{"id": "a", "narration": 'a <mark name="m"/> b', "actions": [
        {"type": "goto", "url": "https://e.test"}, {"type": "click", "target": "#x", "at": "m"},
        {"type": "fill", "target": "#y", "value": "v"}]}, {"id": "b"}]
    script = _script(cards, fps=25)
    voices = [VoiceTiming(3.0, {"m": 1.1}), VoiceTiming(0.7)]
    measured = {(0, 0): 1.234, (0, 1): 0.5, (0, 2): 0.05}
    expected = plan(script, script.settings, voices, measured)
    sched = Scheduler(script, script.settings, voices)
    for ci, card in enumerate(script.cards):
        sched.begin_card(ci)
        for ai in range(len(card.actions)):
            start, fire = sched.fire_time(ai)
            sched.action_done(ai, start, fire, fire + measured[(ci, ai)])
        sched.end_card()
    assert sched.finish() == expected


def test_the_rest_of_a_live_run_is_predicted_from_what_ran_and_the_estimates() -> None:
    """Before each card, the render predicts the rest of the timeline (to make the audio during the
    capture): the cards so far as they ran, the rest as planned.  The live scheduler is not disturbed."""
    cards = [{"id": "a", "narration": "x", "actions": [{"type": "goto", "url": "https://e.test"}]},
             {"id": "b", "narration": "y", "actions": [{"type": "press", "key": "Tab"}]},
             {"id": "c", "narration": "z"}]
    script = _script(cards, fps=30)
    voices = [VoiceTiming(1.0), VoiceTiming(2.0), VoiceTiming(0.5)]
    late = {(0, 0): 4.0}  # the first card's page took 4 s
    sched = Scheduler(script, script.settings, voices)
    assert plan_rest(sched.fork()) == plan(script, script.settings, voices)  # nothing ran yet: the plan
    sched.begin_card(0)
    with pytest.raises(ValueError, match="between cards"):
        sched.fork()
    start, fire = sched.fire_time(0)
    sched.action_done(0, start, fire, fire + late[(0, 0)])
    sched.end_card()
    predicted = plan_rest(sched.fork())
    assert predicted == plan(script, script.settings, voices, late)
    assert len(sched.cards) == 1  # the fork left the live run where it was
    for ci in (1, 2):  # the rest runs as estimated: the prediction was the timeline
        sched.begin_card(ci)
        for ai, action in enumerate(script.cards[ci].actions):
            start, fire = sched.fire_time(ai)
            sched.action_done(ai, start, fire, fire + estimate_action_s(action, script.settings))
        sched.end_card()
    assert sched.finish() == predicted


# --------------------------------------------------------------------------- properties over random scripts


_ACTIONS = st.sampled_from([
    {"type": "click", "target": "#a"},
    {"type": "press", "key": "Enter"},
    {"type": "goto", "url": "https://example.com/"},
    {"type": "type", "target": "#t", "text": "abc"},
    {"type": "wait", "ms": 700},
    {"type": "highlight", "target": "#h", "duration_ms": 400},
    {"type": "hover", "target": "#b"},
    {"type": "zoom", "duration_ms": 300},
])


@st.composite
def _scenario(draw: st.DrawFn) -> tuple[Script, list[VoiceTiming], dict[tuple[int, int], float]]:
    n_cards = draw(st.integers(1, 4))
    cards: list[dict[str, Any]] = []
    voices: list[VoiceTiming] = []
    measured: dict[tuple[int, int], float] = {}
    for ci in range(n_cards):
        duration = draw(st.floats(0.0, 12.0, allow_nan=False))
        n_marks = draw(st.integers(0, 3))
        mark_times = sorted(draw(st.lists(st.floats(0.0, duration, allow_nan=False),
                                          min_size=n_marks, max_size=n_marks)))
        marks = {f"m{i}": t for i, t in enumerate(mark_times)}
        narration = "Say. " + " ".join(f'<mark name="{m}"/> word' for m in marks)
        actions = []
        for ai in range(draw(st.integers(0, 5))):
            action = dict(draw(_ACTIONS))
            if marks and draw(st.booleans()):
                action["at"] = draw(st.sampled_from(sorted(marks)))
            actions.append(action)
            if draw(st.booleans()):
                measured[(ci, ai)] = draw(st.floats(0.0, 5.0, allow_nan=False))
        cards.append({"id": f"c{ci}", "narration": narration, "actions": actions,
                      "hold_ms": draw(st.sampled_from([0, 0, 250, 1000]))})
        voices.append(VoiceTiming(duration, marks))
    settings = {
        "fps": draw(st.sampled_from([24, 25, 30, 50, 60])),
        "lead_in_ms": draw(st.integers(0, 2000)),
        "lead_out_ms": draw(st.integers(0, 2000)),
        "gap_ms": draw(st.integers(0, 1500)),
        "cursor": draw(st.booleans()),
    }
    return _script(cards, **settings), voices, measured


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(_scenario())
def test_plan_properties(scenario: tuple[Script, list[VoiceTiming], dict[tuple[int, int], float]]) -> None:
    script, voices, measured = scenario
    s: Settings = script.settings
    tl = plan(script, s, voices, measured)
    fps = s.fps

    assert len(tl.cards) == len(script.cards)
    for t in _all_times(tl):
        assert _on_grid(t, fps), f"{t} is not on the {fps} fps grid"

    assert tl.cards[0].start_s == pytest.approx(snap_up(s.lead_in_ms / 1000, fps))
    for i, (card, voice) in enumerate(zip(tl.cards, voices, strict=True)):
        last = i == len(tl.cards) - 1
        # narration starts with the card and is never cut
        assert card.voice_start_s == card.start_s
        assert card.voice_duration_s == voice.duration_s
        gap = 0.0 if last else s.gap_ms / 1000
        assert card.end_s >= card.voice_end_s + gap + script.cards[i].hold_ms / 1000 - EPS
        assert card.end_s > card.start_s
        # ... and never overlaps the next card
        if not last:
            nxt = tl.cards[i + 1]
            assert nxt.start_s == pytest.approx(card.end_s)
            assert nxt.voice_start_s >= card.voice_end_s - EPS

        prev: ActionTiming | None = None
        assert [a.action_index for a in card.actions] == list(range(len(script.cards[i].actions)))
        for a in card.actions:
            action = script.cards[i].actions[a.action_index]
            assert card.start_s - EPS <= a.start_s <= a.fire_s + EPS
            assert a.fire_s <= a.end_s + EPS
            assert a.end_s <= card.end_s + EPS
            if prev is not None:
                assert a.start_s >= prev.end_s - EPS, "an action started before the previous one ended"
            # never fires before it wants to; on its bookmark when nothing is in the way
            if action.at is not None:
                mark_at = snap_up(card.start_s + voice.marks[action.at], fps)
                assert a.fire_s >= mark_at - EPS
                prev_end = prev.end_s if prev is not None else card.start_s
                lead = a.fire_s - a.start_s
                if prev_end + lead <= mark_at - 1 / fps:
                    assert a.fire_s == pytest.approx(mark_at)
            dur = measured.get((i, a.action_index))
            if dur is not None:
                assert a.end_s >= a.fire_s + dur - EPS
            prev = a
    assert tl.duration_s == pytest.approx(snap_up(tl.cards[-1].end_s + s.lead_out_ms / 1000, fps))
    assert tl.frame_count == round(tl.duration_s * fps)
    assert math.isfinite(tl.duration_s)
