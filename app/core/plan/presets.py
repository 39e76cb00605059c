"""Format presets (16:9, 9:16, 1:1, 60 fps) and the ad / long-form presets.

A format is re-laid-out, never letterboxed: the page is rendered at a CSS viewport of the format's
shape, so a responsive site shows its portrait layout in a 9:16 video.  Vertical and square outputs
are rendered at a device scale factor of 2 (1080x1920 = a 540x960 CSS viewport at 2x): phone-sized
CSS pixels give the site's mobile layout and text that stays legible on a phone, drawn at full
sharpness.  (At 1x the same page is a 1080-px-wide desktop layout with 16-px text that shrinks to
~8 px on a phone screen.)  Small landscape outputs (640x360) go the other way: the page is laid out
as a 1280-px desktop and drawn at a scale below 1, because a landscape video is a desktop demo.

The ad preset warns when a video is outside 15–60 s and can tighten gaps, holds and waits to fit a
target length; narration is never cut.  Long form is the default shape with a stated scope (1–3+
minutes), where frames stream to the encoder and memory stays flat.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

from ..script import Script, Settings, Wait
from .timeline import VoiceTiming, plan


@dataclass(frozen=True)
class FormatPreset:
    name: str
    width: int
    height: int
    description: str


FORMATS: dict[str, FormatPreset] = {
    "16:9": FormatPreset("16:9", 1280, 720, "landscape 720p"),
    "720p": FormatPreset("720p", 1280, 720, "landscape 720p"),
    "1080p": FormatPreset("1080p", 1920, 1080, "landscape 1080p"),
    "16:9-1080": FormatPreset("16:9-1080", 1920, 1080, "landscape 1080p"),
    "9:16": FormatPreset("9:16", 1080, 1920, "vertical 1080x1920 (Reels, Shorts, TikTok)"),
    "1:1": FormatPreset("1:1", 1080, 1080, "square 1080x1080 (feeds)"),
}

#: purposes a preset name can set, with their defaults ("demo" is the script model's default purpose: the
#: preset turns an ad back into a plain demo, dropping its target length)
PURPOSES = ("demo", "ad", "long-form")

AD_MIN_S = 15.0
AD_MAX_S = 60.0
LONG_FORM_MIN_S = 60.0

#: the least the fitter leaves of each kind of slack
MIN_GAP_MS = 150
MIN_LEAD_IN_MS = 200
MIN_LEAD_OUT_MS = 600
MIN_WAIT_MS = 300

#: the fitter aims this much under the target: the performed flow runs a little longer than the
#: plan's estimates (page loads, re-framing), measured ~0.6 s over on the 30 s example ad
FIT_MARGIN = 0.04

PRESET_NAMES = (*FORMATS, *PURPOSES)


class PresetError(ValueError):
    """An unknown preset name (the CLI reports it as a usage error)."""


def apply_presets(settings: Settings, names: Sequence[str], *, fps: int | None = None,
                  target_s: float | None = None) -> Settings:
    """A copy of ``settings`` with format and purpose presets applied (later names win)."""
    s = settings.model_copy(deep=True)
    for raw in names:
        name = raw.strip().lower()
        if name in FORMATS:
            f = FORMATS[name]
            s.width, s.height = f.width, f.height
        elif name == "demo":
            s.purpose = "demo"
            s.target_s = None
        elif name == "ad":
            s.purpose = "ad"
            if s.camera == "off":
                s.camera = "gentle"  # an ad leads the eye; a card can still say "off"
            s.gap_ms = min(s.gap_ms, 250)
            s.lead_in_ms = min(s.lead_in_ms, 300)
            s.lead_out_ms = min(s.lead_out_ms, 800)
        elif name == "long-form":
            s.purpose = "long-form"
        else:
            raise PresetError(f"unknown preset '{raw}' (known: {', '.join(PRESET_NAMES)})")
    if fps is not None:
        s.fps = fps  # type: ignore[assignment]
    if target_s is not None:
        s.target_s = target_s
        if s.purpose == "demo":
            s.purpose = "ad"
    return s


#: narrowest CSS width a landscape output is laid out at: below it a responsive site switches to its
#: narrow (phone) layout, which a small landscape video (640x360, a thumbnail, an embed) should not get
MIN_LANDSCAPE_CSS_WIDTH = 1000
#: the CSS width a small landscape output is laid out at (the desktop layout of the 720p default)
DESKTOP_CSS_WIDTH = 1280


def device_scale_for(settings: Settings) -> float:
    """Page pixels per CSS pixel: as set; else 2 for vertical/square outputs at least 720 wide (a
    phone layout drawn sharp); else below 1 for landscape outputs narrower than
    :data:`MIN_LANDSCAPE_CSS_WIDTH`, so they show the desktop layout scaled down (640x360 is a
    1280x720 page at 0.5); else 1."""
    if settings.device_scale_factor is not None:
        return float(settings.device_scale_factor)
    if settings.height >= settings.width and settings.width >= 720:
        return 2.0
    if settings.width > settings.height and settings.width < MIN_LANDSCAPE_CSS_WIDTH:
        # Chromium honours --force-device-scale-factor below 1 and beginFrame screenshots come back
        # at the output size (measured: 640x360 at 0.5 -> a 640x360 JPEG of the 1280x720 layout)
        return settings.width / DESKTOP_CSS_WIDTH
    return 1.0


def viewport_size(settings: Settings) -> tuple[int, int]:
    """The CSS viewport the page is laid out at."""
    dsf = device_scale_for(settings)
    return round(settings.width / dsf), round(settings.height / dsf)


def cursor_scale_for(settings: Settings) -> float:
    """Cursor size multiplier (in CSS px): as set, else larger in vertical video watched on phones."""
    if settings.cursor_scale is not None:
        return float(settings.cursor_scale)
    return 1.3 if settings.height > settings.width else 1.0


def length_warnings(settings: Settings, duration_s: float) -> list[str]:
    """What the purpose says about a video of this length."""
    out: list[str] = []
    if settings.purpose == "ad":
        if duration_s > AD_MAX_S:
            out.append(f"ad: the video is {duration_s:.1f} s, longer than {AD_MAX_S:g} s — most ad slots "
                       "cut or reject it; shorten the narration or drop a card")
        elif duration_s < AD_MIN_S:
            out.append(f"ad: the video is {duration_s:.1f} s, shorter than {AD_MIN_S:g} s — "
                       "many placements require at least 15 s")
    if settings.target_s is not None and duration_s > settings.target_s + 0.5:
        out.append(f"target: the video is {duration_s:.1f} s, over the {settings.target_s:g} s target after "
                   "tightening gaps and holds — shorten the narration or drop actions")
    if settings.purpose == "long-form" and duration_s < LONG_FORM_MIN_S:
        out.append(f"long-form: the video is only {duration_s:.1f} s")
    return out


@dataclass
class FitResult:
    script: Script
    settings: Settings
    before_s: float
    after_s: float
    fraction: float  # how much of the slack was kept (1 = untouched, 0 = everything tightened)
    notes: list[str] = field(default_factory=list)


def _tightened(script: Script, settings: Settings, f: float) -> tuple[Script, Settings]:
    def keep(v: int, least: int) -> int:
        return v if v <= least else round(least + (v - least) * f)

    s = settings.model_copy(deep=True)
    s.gap_ms = keep(settings.gap_ms, MIN_GAP_MS)
    s.lead_in_ms = keep(settings.lead_in_ms, MIN_LEAD_IN_MS)
    s.lead_out_ms = keep(settings.lead_out_ms, MIN_LEAD_OUT_MS)
    sc = script.model_copy(deep=True)
    sc.settings = s
    for card in sc.cards:
        card.hold_ms = round(card.hold_ms * f)
        for a in card.actions:
            if isinstance(a, Wait):
                a.ms = keep(a.ms, MIN_WAIT_MS)
    return sc, s


def fit_to_target(script: Script, settings: Settings, voices: Sequence[VoiceTiming],
                  target_s: float) -> FitResult:
    """Tighten gaps, holds and waits (never narration) just enough for the plan to fit ``target_s``
    (less :data:`FIT_MARGIN`, since the performed flow runs a little over its estimate).

    The same fraction of every kind of slack is kept, found by bisection on the (pure) plan, so the
    rhythm of the video stays even instead of one card losing all its air.
    """
    before = plan(script, settings, voices).duration_s
    target_s = target_s * (1 - FIT_MARGIN)
    if before <= target_s:
        return FitResult(script, settings, before, before, 1.0)
    lo, hi = 0.0, 1.0
    sc0, s0 = _tightened(script, settings, 0.0)
    floor = plan(sc0, s0, voices).duration_s
    if floor > target_s:
        # Tighten everything; whether the video really overshoots is known only after the
        # performance (a zoom the page has no room for takes no time), and length_warnings says so.
        return FitResult(sc0, s0, before, floor, 0.0, [
            f"target: tightened every gap and hold (the plan estimates {floor:.1f} s)"])
    for _ in range(18):
        mid = (lo + hi) / 2
        sc, s = _tightened(script, settings, mid)
        if plan(sc, s, voices).duration_s <= target_s:
            lo = mid
        else:
            hi = mid
    sc, s = _tightened(script, settings, lo)
    after = plan(sc, s, voices).duration_s
    return FitResult(sc, s, before, after, lo,
                     [f"target: tightened gaps and holds from {before:.1f} s to {after:.1f} s as planned"])
