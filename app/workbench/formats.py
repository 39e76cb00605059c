"""A script's output format as the app offers it: the format and purpose choices, what choosing one
changes in ``script.settings`` and what the format will do before anything renders.

A choice goes through the core's :func:`~app.core.plan.presets.apply_presets` — the function behind
the CLI's ``--preset`` / ``--target`` — so the app and the CLI write the same fields with the same
side effects (an ad also tightens gaps and turns the camera on).  The summary is computed from the
pure planner: output size, the CSS viewport the page is laid out at, and the planned length next to an
ad's target.  No Qt here.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from app.core.plan.presets import (
    AD_MAX_S,
    AD_MIN_S,
    FORMATS,
    apply_presets,
    device_scale_for,
    fit_to_target,
    length_warnings,
    viewport_size,
)
from app.core.plan.timeline import VoiceTiming, plan
from app.core.script import Script, Settings, narration_segments, plain_narration

#: (label, preset name) of the formats the app offers; anything else is a custom size
FORMAT_CHOICES: list[tuple[str, str]] = [
    ("16:9 · 1280×720", "16:9"),
    ("16:9 · 1920×1080 (1080p)", "1080p"),
    ("9:16 · 1080×1920 (vertical)", "9:16"),
    ("1:1 · 1080×1080 (square)", "1:1"),
]
CUSTOM = "custom"
PURPOSE_CHOICES: list[tuple[str, str]] = [("Demo", "demo"), ("Ad", "ad"), ("Long-form", "long-form")]
#: the target an ad starts with when the user picks Ad
DEFAULT_AD_TARGET_S = 30.0
#: how far over its target a video may plan before it is said not to fit (``length_warnings`` allows as much)
TARGET_SLACK_S = 0.5
#: the format settings this module owns (the ones a format or purpose choice may change)
_SETTING_KEYS = ("width", "height", "purpose", "target_s", "camera", "gap_ms", "lead_in_ms", "lead_out_ms")


def format_of(width: int, height: int) -> str:
    """The preset name of a size among :data:`FORMAT_CHOICES`, else :data:`CUSTOM`."""
    for _label, name in FORMAT_CHOICES:
        f = FORMATS[name]
        if (f.width, f.height) == (width, height):
            return name
    return CUSTOM


def format_label(width: int, height: int, fps: int) -> str:
    """How a render record names its format: '1080×1920 30 fps (9:16)'."""
    name = format_of(width, height)
    shape = "" if name == CUSTOM else f" ({'16:9' if name == '1080p' else name})"
    return f"{width}×{height} {fps} fps{shape}"


def script_digest(data: Mapping[str, Any]) -> str:
    """A fingerprint of a script document (its JSON, keys sorted): two equal scripts, equal digests.
    A render record keeps it, so the Render view can tell whether the last render is of the script
    as it is now."""
    return hashlib.sha256(json.dumps(data, sort_keys=True, default=str).encode("utf-8")).hexdigest()[:16]


def last_render_text(planned_s: float | None, rendered_s: float, *, current: bool) -> str:
    """How the last render's real length compares with the plan shown above it."""
    if not current:
        return f"Last render {rendered_s:.1f} s of video, before the latest edits"
    text = f"Last render {rendered_s:.1f} s of video"
    if planned_s is not None and abs(planned_s - rendered_s) >= 0.5:
        text += (" — the plan estimates page loads and clicks; the render takes the time they really took"
                 if rendered_s < planned_s else
                 " — the page took longer than planned (slow loads or waits)")
    return text


def effective_settings(raw: Mapping[str, Any] | None) -> Settings | None:
    """The script's settings as a render sees them (model defaults filled in); None if invalid."""
    try:
        return Settings.model_validate(dict(raw or {}))
    except ValueError:
        return None


def preset_changes(raw: Mapping[str, Any] | None, names: Sequence[str],
                   target_s: float | None = None, *, clear_target: bool = False) -> dict[str, Any]:
    """The settings (key -> new JSON value; None removes the key) that applying the presets ``names``
    and ``target_s`` changes, exactly as ``reelwright render --preset … --target …`` applies them.

    ``clear_target`` drops the target length (a demo or long-form video has none in the app).
    Raises ``ValueError`` when the current settings are not valid: the user fixes them first.
    """
    base = Settings.model_validate(dict(raw or {}))
    new = apply_presets(base, names, target_s=target_s)
    if clear_target:
        new.target_s = None
    old_json, new_json = base.model_dump(mode="json"), new.model_dump(mode="json")
    return {k: new_json[k] for k in _SETTING_KEYS if new_json[k] != old_json[k]}


def voice_timings(script: Script, durations: Sequence[float | VoiceTiming]) -> list[VoiceTiming]:
    """Voice timings for the planner from narration lengths (measured or estimated): each bookmark is
    placed at its share of the card's words, which is where a steady voice reaches it.  A timing that
    is already a :class:`VoiceTiming` (a voiced clip's, with its real bookmarks) is kept."""
    out: list[VoiceTiming] = []
    for card, dur in zip(script.cards, durations, strict=True):
        if isinstance(dur, VoiceTiming):
            out.append(dur)
            continue
        segments = narration_segments(card.narration)
        words = [len(plain_narration(text).split()) for _mark, text in segments]
        total = max(1, sum(words))
        marks: dict[str, float] = {}
        before = 0
        for (mark, _text), n in zip(segments, words, strict=True):
            if mark is not None:
                marks[mark] = dur * before / total
            before += n
        out.append(VoiceTiming(float(dur), marks))
    return out


def cached_voice_timings(script: Script) -> dict[str, VoiceTiming]:
    """Card id -> the timing of its narration's clip where the voice cache already has it (from a render,
    a check or a voice preview): exact lengths and bookmarks without loading a voice.  Blocking (it
    reads files and may import the provider): call it in a thread."""
    from app.core.errors import ReelwrightError
    from app.core.voice import VoiceService, get_provider

    voice = script.settings.voice
    try:
        service = VoiceService(get_provider(voice.provider))
    except (ReelwrightError, OSError):
        return {}
    from .storyboard import with_bumpers

    out: dict[str, VoiceTiming] = {}
    expanded = with_bumpers(script, script.settings, [VoiceTiming(0.0)] * len(script.cards))[0].script
    for card in expanded.cards:  # the intro and outro cards' narration too
        if not plain_narration(card.narration).strip():
            continue
        clip = service.cached(card.narration, voice)
        if clip is not None:
            out[card.id] = VoiceTiming(clip.duration_s, dict(clip.marks))
    return out


@dataclass(frozen=True)
class FormatSummary:
    """What a script's format will do, before rendering."""

    width: int
    height: int
    fps: int
    css_width: int
    css_height: int
    scale: float
    purpose: str
    target_s: float | None
    planned_s: float | None  # None when the script cannot be planned (not valid yet)
    fitted_s: float | None = None  # the plan after tightening to the target (None: nothing to tighten)
    fits: bool = True
    warnings: list[str] = field(default_factory=list)
    #: some narration lengths are estimated from word counts (not voiced yet): the plan is approximate
    estimated: bool = False

    def size_text(self) -> str:
        text = f"Output {self.width}×{self.height} at {self.fps} fps"
        if (self.css_width, self.css_height) != (self.width, self.height):
            text += (f" · page laid out at {self.css_width}×{self.css_height} CSS px, "
                     f"drawn at {self.scale:g}×")
        return text

    def length_text(self) -> str:
        if self.planned_s is None:
            return "Planned length: fix the script's problems first"
        text = f"planned {'≈ ' if self.estimated else ''}{self.planned_s:.1f} s"
        note = " (narration estimated from its words: voice the cards for exact lengths)" if self.estimated else ""
        if self.target_s is None:
            return text[0].upper() + text[1:] + note
        text = f"{text[0].upper()}{text[1:]} / target {self.target_s:g} s"
        if self.fitted_s is None:
            return f"{text} — fits{note}"
        if self.fits:
            return f"{text} — will tighten gaps and holds to {self.fitted_s:.1f} s{note}"
        return (f"{text} — the tightest plan is {self.fitted_s:.1f} s, over the target: "
                f"shorten the narration or drop a card{note}")


def summarize(settings: Settings, script: Script | None, durations: Sequence[float | VoiceTiming] | None, *,
              estimated: bool = False, measured: Mapping[tuple[str, str], float] | None = None) -> FormatSummary:
    """Output size and layout of ``settings``; with a valid script and its narration lengths, the
    planned length (the intro and outro cards included, their voice ``measured`` by (card id, plain
    narration) or estimated), what fitting an ad to its target would do, and the purpose's length
    warnings."""
    css_w, css_h = viewport_size(settings)
    base: dict[str, Any] = {
        "width": settings.width, "height": settings.height, "fps": settings.fps, "css_width": css_w,
        "css_height": css_h, "scale": device_scale_for(settings), "purpose": settings.purpose,
        "target_s": settings.target_s}
    warnings: list[str] = []
    if settings.target_s is not None and settings.purpose == "ad" and not AD_MIN_S <= settings.target_s <= AD_MAX_S:
        warnings.append(f"ad: a {settings.target_s:g} s target is outside {AD_MIN_S:g}–{AD_MAX_S:g} s — "
                        "most ad slots reject it")
    if script is None or durations is None or len(durations) != len(script.cards):
        return FormatSummary(**base, planned_s=None, warnings=warnings)
    from .storyboard import with_bumpers

    # planned as the render plans it: with the intro and outro cards
    bplan, voices = with_bumpers(script, settings, voice_timings(script, durations), measured)
    planned = plan(bplan.script, bplan.settings, voices).duration_s
    final, fitted, fits = planned, None, True
    if settings.target_s is not None:
        fit = fit_to_target(bplan.script, bplan.settings, voices, settings.target_s)
        if fit.fraction < 1.0:
            final = fitted = fit.after_s
            fits = fit.after_s <= settings.target_s + TARGET_SLACK_S
    warnings += [w for w in length_warnings(settings, final) if not w.startswith("target:")]
    return FormatSummary(**base, planned_s=planned, fitted_s=fitted, fits=fits, warnings=warnings,
                         estimated=estimated)
