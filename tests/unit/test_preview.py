"""Poster and preview: which frame, and the ffmpeg argv (pure)."""

from __future__ import annotations

from pathlib import Path

import pytest

from app.core.errors import RenderError
from app.core.mix import preview
from app.core.plan.timeline import CardTiming, Timeline
from app.core.script import Settings


def _timeline() -> Timeline:
    cards = (CardTiming(0, "intro", "Intro", 0.0, 2.0, 0.0, 1.0),
             CardTiming(1, "a", "A", 2.0, 5.0, 2.0, 2.4),
             CardTiming(2, "b", "B", 5.0, 8.0, 5.0, 2.0))
    return Timeline(30, cards, 9.0)


def test_poster_card_is_chosen_or_the_first_content_card() -> None:
    tl = _timeline()
    assert preview.poster_card_index(tl, Settings(), [1, 2]) == 1
    assert preview.poster_card_index(tl, Settings(poster_card="b"), [1, 2]) == 2
    assert preview.poster_card_index(tl, Settings(), []) == 0
    with pytest.raises(RenderError, match="'zz'"):
        preview.poster_card_index(tl, Settings(poster_card="zz"), [1, 2])


def test_poster_time_is_the_cards_settled_last_frame() -> None:
    tl = _timeline()
    s = Settings(gap_ms=400, fps=30)
    assert preview.poster_time(tl, s, 1) == pytest.approx(5.0 - 0.4 - 2 / 30)
    assert preview.poster_time(tl, s, 2) == pytest.approx(8.0 - 2 / 30)  # last card: no gap
    short = Timeline(30, (CardTiming(0, "a", "A", 1.0, 1.1, 1.0, 0.0), CardTiming(1, "b", "B", 1.1, 2.0, 1.1, 0.0)),
                     2.5)
    assert preview.poster_time(short, Settings(gap_ms=400), 0) == 1.0  # never before the card


def test_poster_args() -> None:
    args = preview.build_poster_args(Path("ffmpeg"), video=Path("v.mp4"), at_s=3.25, out=Path("p.png"))
    assert args[args.index("-i") + 1] == "v.mp4" and args.index("-ss") > args.index("-i")  # accurate seek
    assert args[args.index("-ss") + 1] == "3.250000" and args[-3:] == ["-f", "image2", "p.png"]
    assert args[args.index("-frames:v") + 1] == "1"


def test_preview_args_gif_and_webp() -> None:
    gif = preview.build_preview_args(Path("ffmpeg"), video=Path("v.mp4"), out=Path("o.gif"), kind="gif",
                                     seconds=4, width=1280, height=720)
    assert gif[gif.index("-t") + 1] == "4.000" and gif.index("-t") < gif.index("-i")
    graph = gif[gif.index("-filter_complex") + 1]
    assert "fps=12,scale=480:-2:flags=lanczos" in graph and "palettegen" in graph and "paletteuse" in graph
    assert gif[-3:] == ["-f", "gif", "o.gif"] and gif[gif.index("-loop") + 1] == "0"
    webp = preview.build_preview_args(Path("ffmpeg"), video=Path("v.mp4"), out=Path("o.webp"), kind="webp",
                                      seconds=3, width=1080, height=1920)
    assert webp[webp.index("-vf") + 1] == "fps=12,scale=-2:480:flags=lanczos"  # portrait: long side 480
    assert webp[webp.index("-c:v") + 1] == "libwebp_anim" and webp[-3:] == ["-f", "webp", "o.webp"]
    with pytest.raises(RenderError):
        preview.build_preview_args(Path("ffmpeg"), video=Path("v"), out=Path("o"), kind="gif", seconds=0,
                                   width=2, height=2)
