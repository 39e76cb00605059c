"""Burned-in captions laid out by real libass at landscape, square and portrait sizes.

Each case burns the longest cue the phrase splitter makes for that frame into a plain frame through
the same ``subtitles`` filter and style the mux uses, then measures the caption box in the pixels:
at most two lines, inside the safe margins, text height proportional to the frame.
"""

from __future__ import annotations

import subprocess
from pathlib import Path

import numpy as np
import pytest

from app.core import mix
from app.core.infra.tools import find_ffmpeg
from app.core.mix import captions

TEXT = ("Open the settings page and choose the plan that fits the way your whole team works today, "
        "then invite everyone who reviews the weekly release notes.")
BG = (0x88, 0x99, 0xAA)


def _burn(tmp: Path, width: int, height: int, lines: tuple[str, ...]) -> np.ndarray:
    srt = tmp / f"{width}x{height}.srt"
    captions.write_srt([captions.Cue(0.0, 1.0, lines)], srt)
    graph = (f"subtitles=filename={mix.escape_filter_value(str(srt))}"
             f":force_style={mix.escape_filter_value(mix.subtitle_style(width, height))}")
    raw = subprocess.run([str(find_ffmpeg()), "-v", "error", "-f", "lavfi", "-i",
                          f"color=c=0x8899aa:s={width}x{height}:d=1", "-vf", graph, "-frames:v", "1",
                          "-f", "rawvideo", "-pix_fmt", "rgb24", "-"], check=True, capture_output=True).stdout
    return np.frombuffer(raw, np.uint8).reshape(height, width, 3).astype(int)


@pytest.mark.slow
@pytest.mark.parametrize("size", [(1280, 720), (640, 360), (1080, 1080), (1080, 1920)])
def test_burned_captions_fit_two_lines_inside_safe_margins(tmp_path: Path, size: tuple[int, int]) -> None:
    width, height = size
    max_line = mix.burn_line_length(width, height)
    cues = captions.split_cue_texts(TEXT, max_line)
    assert all(len(c) <= 2 and all(len(line) <= max_line for line in c) for c in cues)
    longest = max(cues, key=lambda c: max(len(line) for line in c))
    two_line = next(c for c in cues if len(c) == 2)
    for lines in {longest, two_line}:
        img = _burn(tmp_path, width, height, lines)
        changed = np.any(np.abs(img - np.array(BG)) > 30, axis=-1)
        rows = np.where(changed.any(axis=1))[0]
        cols = np.where(changed.any(axis=0))[0]
        assert rows.size and cols.size, "no caption drawn"
        # horizontally: centred and inside the 86 % safe width (with a few px for the box edge)
        left, right = cols[0], width - 1 - cols[-1]
        assert left >= 0.05 * width and right >= 0.05 * width, (size, left, right)
        assert abs(left - right) <= 0.02 * width
        # vertically: the box ends above the safe bottom margin
        bottom_gap = height - 1 - rows[-1]
        safe = 0.05 if width > height else 0.09 if width == height else 0.12
        assert bottom_gap >= safe * height, (size, bottom_gap)
        # white text rows form exactly len(lines) bands: no line was wrapped again by libass
        white_rows = np.all(img > 225, axis=-1).any(axis=1)
        bands = int(np.sum(white_rows[1:] & ~white_rows[:-1]))
        assert bands == len(lines), (size, lines, bands)
        # readable: each line is 4.5-7 % of the frame height tall on landscape, >= 3.5 % on portrait
        line_h = (rows[-1] - rows[0]) / len(lines)
        low = 0.045 if width >= height else 0.035
        assert low * height <= line_h <= 0.075 * height, (size, line_h)
