"""Read the values ``clock.html`` paints into its pixels, from one captured frame (numpy only).

The encoding is documented at the top of ``clock.html``; in short: the page is a grid of square
cells, one cell = frame width / 32; a bit row is ``guard | data bits MSB first | parity | guard``
with black = 1; the time row (20 bits, performance.now() of the frame) is at cell row 1, the
animation-clock row (20 bits, the requestAnimationFrame timestamp) at cell row 2, the counter row
(8 bits clicks, 8 bits length of #field) at cell row 3; the panel (cells 1-5 x 8-12) turns solid
red after the first click; a blue bar slides over cell row 15.

Frames are ``H x W x 3`` (or ``x 4``) ``uint8`` RGB arrays, e.g. ``numpy.asarray(PIL.Image.open(f))``
of a JPEG screenshot.  The decoder only looks at the central half of each cell, so JPEG artefacts
at quality 80 and any whole-page scale (it works from the frame's width) do not matter.

Tests load it by path (``resources`` is not a package)::

    spec = importlib.util.spec_from_file_location("clock_decode", ROOT / "resources/testpages/decode.py")
    decode = importlib.util.module_from_spec(spec); spec.loader.exec_module(decode)
"""

from __future__ import annotations

import numpy as np
from numpy.typing import NDArray

GRID = 32  #: cells across the frame width
TIME_BITS = 20
TIME_ROW = 1  #: cell row of the time bits (performance.now())
ANIM_ROW = 2  #: cell row of the animation-clock bits (requestAnimationFrame timestamp)
COUNTER_ROW = 3  #: cell row of the click-count and field-length bits
ROW_X0 = 1  #: cell column of each row's leading guard
PANEL = (1, 8, 5, 5)  #: x, y, width, height in cells
BAR_ROW = 15
BAR_TRAVEL_CELLS = 30
BAR_PERIOD_MS = 3000

_DARK = 100.0  # a 1-cell is darker than this (mean luminance of its centre) ...
_LIGHT = 155.0  # ... and a 0-cell lighter than this; anything between is not a clean frame


class ClockDecodeError(ValueError):
    """The frame does not show a cleanly painted clock (blank, unpainted, torn or covered)."""


def _as_rgb(rgb: NDArray[np.generic]) -> NDArray[np.float64]:
    a = np.asarray(rgb)
    if a.ndim != 3 or a.shape[2] not in (3, 4):
        raise ClockDecodeError(f"expected an H x W x 3 RGB array, got shape {a.shape}")
    if a.shape[1] < GRID * 4:
        raise ClockDecodeError(f"frame is too narrow ({a.shape[1]} px) to hold the clock grid")
    return a[:, :, :3].astype(np.float64)


def _cell_size(a: NDArray[np.float64]) -> float:
    return float(a.shape[1]) / GRID


def _centre(a: NDArray[np.float64], cx: float, cy: float, cw: float = 1.0, ch: float = 1.0) -> NDArray[np.float64]:
    """The central half (each way) of the cell block at (cx, cy) of size (cw, ch), in cells."""
    c = _cell_size(a)
    x0 = round((cx + cw * 0.25) * c)
    x1 = max(x0 + 1, round((cx + cw * 0.75) * c))
    y0 = round((cy + ch * 0.25) * c)
    y1 = max(y0 + 1, round((cy + ch * 0.75) * c))
    if y1 > a.shape[0]:
        raise ClockDecodeError(f"frame is too short ({a.shape[0]} px) to hold the clock grid")
    return a[y0:y1, x0:x1]


def _luma(block: NDArray[np.float64]) -> float:
    return float((block @ np.array([0.299, 0.587, 0.114])).mean())


def _read_row(a: NDArray[np.float64], row: int, nbits: int, what: str) -> list[int]:
    """Bits of one row (guard, data, parity, guard), checked; returns the data bits MSB first."""
    bits: list[int] = []
    for i in range(nbits + 3):
        y = _luma(_centre(a, ROW_X0 + i, row))
        if y < _DARK:
            bits.append(1)
        elif y > _LIGHT:
            bits.append(0)
        else:
            raise ClockDecodeError(f"{what} row: cell {i} is neither black nor white (luminance {y:.0f})")
    if bits[0] != 1 or bits[-1] != 1:
        raise ClockDecodeError(f"{what} row: guard cells are not black (the clock is not painted)")
    data, parity = bits[1:-2], bits[-2]
    if sum(data) % 2 != parity:
        raise ClockDecodeError(f"{what} row: parity check failed (torn or covered frame)")
    return data


def _to_int(bits: list[int]) -> int:
    v = 0
    for b in bits:
        v = (v << 1) | b
    return v


def decode_clock(rgb: NDArray[np.generic]) -> int:
    """The page's clock in this frame: round(performance.now()) in ms, mod 2**20."""
    return _to_int(_read_row(_as_rgb(rgb), TIME_ROW, TIME_BITS, "time"))


def decode_animation_clock(rgb: NDArray[np.generic]) -> int:
    """The frame's animation time (rAF timestamp = document.timeline) in ms, mod 2**20."""
    return _to_int(_read_row(_as_rgb(rgb), ANIM_ROW, TIME_BITS, "animation clock"))


def decode_counters(rgb: NDArray[np.generic]) -> tuple[int, int]:
    """(clicks on #btn, characters in #field) in this frame, each mod 256."""
    bits = _read_row(_as_rgb(rgb), COUNTER_ROW, 16, "counter")
    return _to_int(bits[:8]), _to_int(bits[8:])


def decode_clicks(rgb: NDArray[np.generic]) -> int:
    return decode_counters(rgb)[0]


def decode_field_length(rgb: NDArray[np.generic]) -> int:
    return decode_counters(rgb)[1]


def panel_is_red(rgb: NDArray[np.generic]) -> bool:
    """True when the click panel is solid red (a click on #btn has happened by this frame)."""
    a = _as_rgb(rgb)
    x, y, w, h = PANEL
    r, g, b = _centre(a, x, y, w, h).reshape(-1, 3).mean(axis=0)
    return bool(r > 180 and g < 80 and b < 80)


def bar_position(rgb: NDArray[np.generic]) -> float:
    """Phase of the sliding bar in [0, 1): its left edge over the 30-cell travel.

    The animation is linear with a 3 s period, so ``phase * 3000`` ms is the animation time
    modulo the period.  Raises :class:`ClockDecodeError` if no bar is visible.
    """
    a = _as_rgb(rgb)
    c = _cell_size(a)
    y0 = round((BAR_ROW + 0.25) * c)
    y1 = max(y0 + 1, round((BAR_ROW + 0.75) * c))
    if y1 > a.shape[0]:
        raise ClockDecodeError(f"frame is too short ({a.shape[0]} px) to hold the bar")
    strip = a[y0:y1].mean(axis=0)  # one mean colour per column
    blue = (strip[:, 2] - strip[:, 0] > 90) & (strip[:, 2] > 150)
    cols = np.flatnonzero(blue)
    if cols.size == 0:
        raise ClockDecodeError("no bar visible")
    # Weighted centre of the blue columns is robust to soft JPEG edges; the bar is 2 cells wide.
    left = float(cols.mean()) + 0.5 - c
    return max(0.0, left / (BAR_TRAVEL_CELLS * c)) % 1.0
