"""Auto-zoom: which actions the camera pushes in on, how far, and how fast.

A pure plan per card, made from the script alone (no page geometry), so the scheduler can reserve
time for the camera and every render of a job moves the camera the same way.  The performer carries
it out with the overlay's ``zoomTo`` (a CSS transform on the root element, animated on the video
clock) and adapts only to what the page decides: a target too big for the full zoom gets less, a
navigation resets the camera, a target outside the zoomed view makes the camera ease out first.

Rules that keep it watchable:

- only actions aimed at a field or control zoom: click, double-click, fill, type, select,
  check, uncheck;
- consecutive such actions in a card form one *shot*: the camera eases in once at its first
  action and out after its last one; in between it holds steady (no zooming while typing, no
  bouncing between the fields of one form); ``press`` and ``wait`` keep a shot going, a click
  closes it (it usually changes the screen: the viewer should see the result in context), anything
  else (goto, scroll, hover, highlight, an explicit zoom, wait_for) ends it;
- every ease uses easeInOutCubic over a duration long enough that the zoom speed never exceeds
  :data:`MAX_LOG_ZOOM_SPEED` (in ln(scale) per second: equal perceived speed for any zoom level).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from ..script import Card, Check, Click, DblClick, Fill, Press, Select, Settings, TypeText, Uncheck, Wait

#: scale of each camera level ("off" never zooms)
LEVEL_SCALE = {"off": 1.0, "gentle": 1.35, "strong": 1.8}
#: the fastest the camera may zoom, in ln(scale) per second, at the peak of an ease
MAX_LOG_ZOOM_SPEED = 1.2
#: an ease never takes less than this (a shorter one reads as a jump)
MIN_EASE_S = 0.5
#: peak speed of easeInOutCubic relative to its average speed (its slope at the midpoint)
EASE_PEAK_FACTOR = 3.0
#: the zoomed target may fill at most this fraction of the view in either direction
MAX_TARGET_FILL = 0.8
#: a zoom below this is not worth the motion
MIN_USEFUL_SCALE = 1.08
#: how long the camera rests on the result of a shot's last action before easing out
HOLD_AFTER_S = 0.35

_ZOOMABLE = (Click, DblClick, Fill, TypeText, Select, Check, Uncheck)
_NEUTRAL = (Press, Wait)


@dataclass(frozen=True)
class CameraMove:
    """What the camera does around one action."""

    action_index: int
    scale: float  # the zoom this shot aims for (the performer may use less for a big target)
    zoom_in: bool  # this action opens a shot: ease in before the cursor travels
    zoom_out: bool  # this action closes a shot: hold, then ease out after it
    ease_in_s: float
    ease_out_s: float

    @property
    def lead_s(self) -> float:
        """Time the camera needs before the action's cursor travel starts."""
        return self.ease_in_s if self.zoom_in else 0.0

    @property
    def tail_s(self) -> float:
        """Time the camera adds after the action."""
        return HOLD_AFTER_S + self.ease_out_s if self.zoom_out else 0.0


def ease_s(scale_from: float, scale_to: float) -> float:
    """The duration of an ease between two scales that keeps the peak speed bounded."""
    dist = abs(math.log(max(scale_to, 1e-6) / max(scale_from, 1e-6)))
    if dist == 0:
        return 0.0
    return max(MIN_EASE_S, EASE_PEAK_FACTOR * dist / MAX_LOG_ZOOM_SPEED)


def peak_log_speed(scale_from: float, scale_to: float, duration_s: float) -> float:
    """Peak zoom speed (ln(scale)/s) of an easeInOutCubic ease — what :func:`ease_s` bounds."""
    if duration_s <= 0:
        return math.inf
    return EASE_PEAK_FACTOR * abs(math.log(scale_to / scale_from)) / duration_s


def card_level(card: Card, settings: Settings) -> str:
    return card.camera if card.camera is not None else settings.camera


def plan_card(card: Card, settings: Settings) -> list[CameraMove | None]:
    """One entry per action of ``card``: its camera move, or None when the camera leaves it alone."""
    level = card_level(card, settings)
    scale = LEVEL_SCALE.get(level, 1.0)
    out: list[CameraMove | None] = [None] * len(card.actions)
    if scale <= 1.0:
        return out
    shots: list[list[int]] = []
    current: list[int] = []
    for i, action in enumerate(card.actions):
        if isinstance(action, _ZOOMABLE):
            current.append(i)
            if isinstance(action, Click | DblClick):
                # a click usually changes what is on screen (a dialog, a new page, a saved form):
                # ease out after it so the viewer sees the consequence in context
                shots.append(current)
                current = []
        elif isinstance(action, _NEUTRAL):
            continue  # keep the shot (typing then Enter stays framed)
        elif current:
            shots.append(current)
            current = []
    if current:
        shots.append(current)
    e = ease_s(1.0, scale)
    for shot in shots:
        for j, i in enumerate(shot):
            out[i] = CameraMove(i, scale, zoom_in=j == 0, zoom_out=j == len(shot) - 1, ease_in_s=e, ease_out_s=e)
    return out


def fitted_scale(scale: float, box_w: float, box_h: float, view_w: float, view_h: float) -> float:
    """Less zoom for a big target so it still fits; 1.0 (no zoom) when it would barely show."""
    limit = min(MAX_TARGET_FILL * view_w / max(box_w, 1.0), MAX_TARGET_FILL * view_h / max(box_h, 1.0))
    s = min(scale, limit)
    return s if s >= MIN_USEFUL_SCALE else 1.0


def in_view(x: float, y: float, w: float, h: float, view_w: float, view_h: float, margin: float = 0.08) -> bool:
    """Whether a box lies inside the view with a margin (fractions of the view) on every side."""
    mx, my = view_w * margin, view_h * margin
    return x >= mx and y >= my and x + w <= view_w - mx and y + h <= view_h - my
