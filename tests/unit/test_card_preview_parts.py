"""The card preview's pure parts: its size, the estimate for narration not voiced yet, the mux argv."""

from __future__ import annotations

from pathlib import Path

import pytest

from app.core.preview import build_preview_mux_args, estimate_narration_s, preview_size


@pytest.mark.parametrize(("size", "scale", "expected"), [
    ((1280, 720), 0.5, (640, 360, 0.5)),
    ((1920, 1080), 0.5, (960, 540, 0.5)),
    ((1080, 1920), 0.5, (540, 960, 0.5)),
    ((854, 480), 0.5, (428, 240, 428 / 854)),  # both sides even for H.264 4:2:0
    ((1280, 720), 1.0, (1280, 720, 1.0)),
])
def test_preview_size_keeps_even_sides_and_the_aspect(size: tuple[int, int], scale: float,
                                                      expected: tuple[int, int, float]) -> None:
    w, h, s = preview_size(*size, scale)
    assert (w, h) == expected[:2] and s == pytest.approx(expected[2])
    assert w % 2 == 0 and h % 2 == 0


@pytest.mark.parametrize("scale", [0.0, -0.5, 1.5])
def test_preview_size_refuses_a_scale_outside_0_1(scale: float) -> None:
    with pytest.raises(ValueError, match="scale"):
        preview_size(1280, 720, scale)


def test_estimate_counts_spoken_words_not_bookmarks() -> None:
    assert estimate_narration_s("") == 0
    five = estimate_narration_s("one two three four five")
    assert five == pytest.approx(2.0)
    assert estimate_narration_s('one two <mark name="x"/> three four five') == pytest.approx(five)


def test_mux_copies_the_video_and_pads_the_narration_to_the_cards_length() -> None:
    args = build_preview_mux_args(Path("/ff"), video=Path("v.mp4"), narration=Path("n.wav"), out=Path("o.mp4"),
                                  duration_s=5.4)
    assert args[0] == "/ff" and args[-1] == "o.mp4"
    assert args[args.index("-c:v") + 1] == "copy"
    assert args[args.index("-af") + 1] == "apad=whole_dur=5.400"
    assert args[args.index("-t") + 1] == "5.400"
    assert "+faststart" in args
    assert args.count("-i") == 2


def test_mux_without_narration_has_no_audio_stream() -> None:
    args = build_preview_mux_args(Path("/ff"), video=Path("v.mp4"), narration=None, out=Path("o.mp4"),
                                  duration_s=2.0)
    assert "-an" in args and args.count("-i") == 1 and "-af" not in args
