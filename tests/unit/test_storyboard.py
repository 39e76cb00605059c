"""The storyboard's pure parts: estimated voice timings, per-card bars and shares, the timeline
sidecar's round trip, the strip's x↔time mapping and card stepping, thumbnail times and argv."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from app.core.mix.preview import build_thumbnail_args
from app.core.plan.sidecar import (
    SUFFIX,
    VideoTimeline,
    parse_timeline_document,
    read_timeline_document,
    sidecar_for,
    timeline_document,
)
from app.core.plan.timeline import VoiceTiming, plan
from app.core.script import validate_script
from app.workbench.storyboard import (
    StripLayout,
    card_at,
    estimate_speech_s,
    estimate_voice,
    fmt_length,
    plan_storyboard,
    sidecar_thumbnail_times,
    step_card,
    thumbnail_path,
    thumbnail_times,
    timeline_from_chapters,
)


def _script(narration2: str = "Press get started.") -> dict[str, object]:
    return {
        "title": "t",
        "settings": {"lead_in_ms": 200, "lead_out_ms": 300, "gap_ms": 200, "fps": 30},
        "cards": [
            {"id": "welcome", "title": "Welcome", "narration": "This is Acme Notes.",
             "actions": [{"type": "goto", "url": "https://example.com/"}]},
            {"id": "start", "title": "Get started", "narration": narration2,
             "actions": [{"type": "click", "target": {"role": "button", "name": "Get started"}}]},
        ],
    }


def test_speech_estimate_counts_spoken_words_at_the_voice_rate() -> None:
    assert estimate_speech_s("one two three four five") == pytest.approx(2.0)  # 150 words a minute
    assert estimate_speech_s('one <mark name="a"/> two') == pytest.approx(0.8)  # bookmarks are silent
    assert estimate_speech_s("one two three four five", rate=2.0) == pytest.approx(1.0)


def test_estimated_bookmarks_fall_at_their_share_of_the_words() -> None:
    v = estimate_voice('a b c <mark name="m"/> d', 1.0)
    assert v.duration_s == pytest.approx(1.6)
    assert v.marks["m"] == pytest.approx(1.2)
    measured = estimate_voice('a b c <mark name="m"/> d', 1.0, measured_s=4.0)
    assert measured.duration_s == 4.0 and measured.marks["m"] == pytest.approx(3.0)


def test_bars_split_narration_and_actions_and_shares_sum_to_one() -> None:
    board = plan_storyboard(validate_script(_script()))
    assert [b.card_id for b in board.cards] == ["welcome", "start"]
    assert sum(b.share for b in board.cards) == pytest.approx(1.0)
    first = board.cards[0]
    assert first.narration_s == pytest.approx(estimate_speech_s("This is Acme Notes."))
    assert first.actions_s > 0 and first.length_s >= first.narration_s
    assert board.total_s >= sum(b.length_s for b in board.cards)  # plus lead-in and lead-out


def test_longer_narration_makes_a_longer_bar_and_a_bigger_share() -> None:
    short = plan_storyboard(validate_script(_script()))
    long = plan_storyboard(validate_script(_script("Press get started. " * 6)))
    assert long.cards[1].length_s > short.cards[1].length_s
    assert long.cards[1].share > short.cards[1].share
    assert long.total_s > short.total_s


def test_measured_voice_replaces_the_estimate() -> None:
    script = validate_script(_script())
    board = plan_storyboard(script, {("start", "Press get started."): 7.0})
    bar = board.bar("start")
    assert bar is not None and bar.measured and bar.narration_s == 7.0 and bar.length_s >= 7.0


def test_sidecar_round_trips_cards_narration_and_action_times(tmp_path: Path) -> None:
    script = validate_script(_script())
    timeline = plan(script, script.settings, [VoiceTiming(1.5), VoiceTiming(1.0)])
    doc = timeline_document(timeline, script)
    path = tmp_path / f"video{SUFFIX}"
    path.write_text(json.dumps(doc))
    assert sidecar_for(tmp_path / "video.mp4") == path
    back = read_timeline_document(path)
    assert back.duration_s == pytest.approx(timeline.duration_s)
    assert [(c.id, c.script_index) for c in back.cards] == [("welcome", 0), ("start", 1)]
    assert back.cards[1].start_s == pytest.approx(timeline.cards[1].start_s)
    assert back.cards[0].voice_duration_s == 1.5
    assert [a.type for a in back.cards[1].actions] == ["click"]
    assert back.cards[1].actions[0].fire_s == pytest.approx(timeline.cards[1].actions[0].fire_s)
    # intro/outro cards have no script index
    bumpered = parse_timeline_document(timeline_document(timeline, script, [1]))
    assert [c.script_index for c in bumpered.cards] == [None, 0]


def test_a_broken_sidecar_is_a_value_error_naming_the_file(tmp_path: Path) -> None:
    path = tmp_path / "video.timeline.json"
    path.write_text('{"format": "something-else"}')
    with pytest.raises(ValueError, match=r"video\.timeline\.json"):
        read_timeline_document(path)


def test_strip_maps_x_to_time_and_back_within_its_margins() -> None:
    lay = StripLayout(duration_s=10.0, width=208, margin=4)
    assert lay.x_of(0) == 4 and lay.x_of(10) == 204 and lay.x_of(5) == 104
    assert lay.t_of(104) == pytest.approx(5.0)
    assert lay.t_of(-50) == 0.0 and lay.t_of(10_000) == 10.0  # clicks past the ends clamp
    for x in (4, 50, 133.5, 204):
        assert lay.x_of(lay.t_of(x)) == pytest.approx(x)
    assert StripLayout(0.0, 100).t_of(50) == 0.0  # no video yet


def test_strip_segments_tile_the_cards() -> None:
    tl = timeline_from_chapters([("A", 0.0), ("B", 4.0), ("C", 6.0)], 10.0)
    segs = StripLayout(10.0, 108, 4).segments(tl.cards)
    assert segs == [(4.0, 44.0), (44.0, 64.0), (64.0, 104.0)]
    # a lead-in belongs to the first card, as in the chapters; the last runs to the video's end
    late = timeline_from_chapters([("A", 0.5), ("B", 4.0)], 10.0)
    assert StripLayout(10.0, 108, 4).segments(late.cards) == [(4.0, 44.0), (44.0, 104.0)]


def test_stepping_between_cards() -> None:
    tl = timeline_from_chapters([("A", 0.0), ("B", 4.0), ("C", 6.0)], 10.0)
    assert card_at(tl, 0.0) == 0 and card_at(tl, 4.0) == 1 and card_at(tl, 9.9) == 2
    assert step_card(tl, 0.0, +1) == 1 and step_card(tl, 4.0, +1) == 2 and step_card(tl, 8.0, +1) == 2
    assert step_card(tl, 4.0, -1) == 0  # at a card's start: the previous card
    assert step_card(tl, 5.0, -1) == 1  # inside a card: its own start first
    assert step_card(tl, 0.0, -1) == 0
    assert step_card(VideoTimeline(0.0, ()), 0.0, 1) == -1


def test_thumbnail_times_follow_the_first_action_and_stay_in_the_card() -> None:
    script = validate_script(_script())
    timeline = plan(script, script.settings, [VoiceTiming(1.5), VoiceTiming(1.0)])
    times = thumbnail_times(timeline, ["welcome", "start"])
    for ct in timeline.cards:
        assert times[ct.card_id] == pytest.approx(ct.actions[0].end_s)
        assert ct.start_s <= times[ct.card_id] < ct.end_s
    assert thumbnail_times(timeline, ["intro"]) == {}


def test_a_sidecar_gives_the_same_thumbnail_times_as_the_timeline_it_was_written_from() -> None:
    """A cloud render brings back the video and its sidecar, not the timeline: the stills are taken
    at the same moments as after a local render, and never of the intro or outro."""
    script = validate_script(_script())
    timeline = plan(script, script.settings, [VoiceTiming(1.5), VoiceTiming(1.0)])
    doc = json.loads(json.dumps(timeline_document(timeline, script)))
    assert sidecar_thumbnail_times(parse_timeline_document(doc)) == pytest.approx(
        thumbnail_times(timeline, ["welcome", "start"]))
    doc["cards"][0]["script_index"] = None  # what an intro card says
    assert set(sidecar_thumbnail_times(parse_timeline_document(doc))) == {"start"}
    for card in doc["cards"]:  # an older sidecar without action ends: the first action's fire time
        for a in card["actions"]:
            del a["end_s"]
    older = sidecar_thumbnail_times(parse_timeline_document(doc))
    assert older["start"] == pytest.approx(timeline.cards[1].actions[0].fire_s)


def test_thumbnail_paths_and_argv() -> None:
    assert thumbnail_path(Path("/p/thumbnails"), "sign-in") == Path("/p/thumbnails/sign-in.jpg")
    assert thumbnail_path(Path("/p/thumbnails"), "../escape") is None
    args = build_thumbnail_args(Path("ffmpeg"), src=Path("v.mp4"), out=Path("t.jpg"), at_s=1.25)
    assert args[args.index("-ss") + 1] == "1.250000" and args.index("-ss") < args.index("-i")
    assert "scale=240:-2:flags=lanczos" in args and args[-1] == "t.jpg"
    assert "-ss" not in build_thumbnail_args(Path("ffmpeg"), src=Path("s.jpg"), out=Path("t.jpg"))


def test_lengths_read_as_seconds_then_minutes() -> None:
    assert fmt_length(12.34) == "12.3 s" and fmt_length(75) == "1:15"
