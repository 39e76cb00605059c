"""Format and purpose presets: sizes, device scale, cursor size, length warnings, fitting a target."""

from __future__ import annotations

import argparse
from typing import Any

import pytest

from app.core.plan import presets
from app.core.plan.timeline import VoiceTiming, plan
from app.core.script import Settings, validate_script


def test_formats_set_size_and_portrait_renders_at_2x() -> None:
    s = presets.apply_presets(Settings(), ["9:16"])
    assert (s.width, s.height) == (1080, 1920)
    assert presets.device_scale_for(s) == 2.0
    assert presets.viewport_size(s) == (540, 960)
    assert presets.cursor_scale_for(s) > 1.0
    sq = presets.apply_presets(Settings(), ["1:1"], fps=60)
    assert (sq.width, sq.height, sq.fps) == (1080, 1080, 60)
    assert presets.viewport_size(sq) == (540, 540)
    hd = presets.apply_presets(Settings(), ["1080p"])
    assert presets.viewport_size(hd) == (1920, 1080)  # landscape keeps 1x (the site scales itself)
    assert presets.cursor_scale_for(hd) == 1.0
    # explicit settings win over the automatic choice
    manual = Settings(width=1080, height=1920, device_scale_factor=3, cursor_scale=2)
    assert presets.viewport_size(manual) == (360, 640) and presets.cursor_scale_for(manual) == 2


@pytest.mark.parametrize(("size", "dsf", "viewport"), [
    ((640, 360), 0.5, (1280, 720)),      # small landscape: the desktop layout, scaled down
    ((854, 480), 854 / 1280, (1280, 719)),  # 854x480 is a hair wider than 16:9
    ((1280, 720), 1.0, (1280, 720)),
    ((1920, 1080), 1.0, (1920, 1080)),
    ((1080, 1920), 2.0, (540, 960)),     # vertical: the phone layout, drawn sharp
    ((720, 1280), 2.0, (360, 640)),
    ((1080, 1080), 2.0, (540, 540)),
    ((360, 640), 1.0, (360, 640)),       # a small portrait video is already phone-sized
])
def test_layout_scale_by_output_size(size: tuple[int, int], dsf: float, viewport: tuple[int, int]) -> None:
    s = Settings(width=size[0], height=size[1])
    assert presets.device_scale_for(s) == pytest.approx(dsf)
    assert presets.viewport_size(s) == viewport
    # a landscape output is never laid out narrower than the desktop breakpoint
    if size[0] > size[1]:
        assert presets.viewport_size(s)[0] >= presets.MIN_LANDSCAPE_CSS_WIDTH
    # set by hand, the scale wins
    assert presets.device_scale_for(Settings(width=size[0], height=size[1], device_scale_factor=1)) == 1.0


def test_ad_preset_turns_the_camera_on_and_tightens_defaults() -> None:
    s = presets.apply_presets(Settings(), ["9:16", "ad"])
    assert s.purpose == "ad" and s.camera == "gentle"
    assert s.gap_ms <= 250 and s.lead_out_ms <= 800
    assert presets.apply_presets(Settings(camera="strong"), ["ad"]).camera == "strong"
    t = presets.apply_presets(Settings(), [], target_s=30)
    assert t.purpose == "ad" and t.target_s == 30
    with pytest.raises(presets.PresetError, match="unknown preset 'square'"):
        presets.apply_presets(Settings(), ["square"])


def test_length_warnings() -> None:
    ad = Settings(purpose="ad")
    assert presets.length_warnings(ad, 30) == []
    assert "longer than 60" in presets.length_warnings(ad, 61)[0]
    assert "shorter than 15" in presets.length_warnings(ad, 12)[0]
    assert presets.length_warnings(Settings(), 200) == []
    assert "over the 30 s target" in presets.length_warnings(Settings(target_s=30), 34)[0]
    assert presets.length_warnings(Settings(target_s=30), 30.3) == []  # within half a second


def _script(n: int, **settings: Any) -> Any:
    return validate_script({
        "settings": {"base_url": "http://x.invalid", "gap_ms": 2000, "lead_out_ms": 3000, **settings},
        "cards": [{"id": f"c{i}", "narration": "n", "hold_ms": 1500,
                   "actions": [{"type": "wait", "ms": 2000}]} for i in range(n)]})


def test_fit_to_target_tightens_slack_but_never_narration() -> None:
    s = _script(4)
    voices = [VoiceTiming(4.0) for _ in range(4)]
    before = plan(s, s.settings, voices).duration_s
    fit = presets.fit_to_target(s, s.settings, voices, 25.0)
    assert before > 25.0
    aim = 25.0 * (1 - presets.FIT_MARGIN)
    assert aim - 1.0 < fit.after_s <= aim  # just enough (with the margin), not everything
    assert 0 < fit.fraction < 1 and fit.notes
    tl = plan(fit.script, fit.settings, voices)
    assert tl.duration_s == pytest.approx(fit.after_s)
    for card in tl.cards:  # every card still holds its whole narration
        assert card.end_s - card.start_s >= 4.0
    # impossible targets say so and tighten everything
    tight = presets.fit_to_target(s, s.settings, voices, 10.0)
    assert tight.fraction == 0 and "tightened every gap and hold" in tight.notes[0]
    assert tight.after_s >= 16.0
    # a short video is left alone
    same = presets.fit_to_target(s, s.settings, voices, 120.0)
    assert same.fraction == 1 and same.script == s


def test_cli_parses_presets_and_target() -> None:
    from app.cli import _parse_duration, build_parser

    assert _parse_duration("30s") == 30 and _parse_duration("1m30s") == 90 and _parse_duration("45") == 45
    with pytest.raises(argparse.ArgumentTypeError):
        _parse_duration("soon")
    args = build_parser().parse_args(["render", "x.json", "--preset", "9:16", "--preset", "ad", "--target", "30s"])
    assert args.preset == ["9:16", "ad"] and args.target == 30
