"""The storyboard: each card's planned length (narration and actions), the script's total, the
timeline strip's layout math, and the per-card thumbnails kept in the project folder.  No Qt.

Lengths while editing come from :func:`app.core.plan.timeline.plan` with *estimated* voice timings
(words at :data:`WORDS_PER_MINUTE`, scaled by the voice's rate) unless a card's narration was measured
by "Play voice": planning is pure and takes well under a frame, so it never starts Piper or a browser.
"""

from __future__ import annotations

import asyncio
import logging
import re
import tempfile
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

from app.core.infra.progress import CancelToken
from app.core.plan.bumpers import BumperPlan, expand_with_bumpers
from app.core.plan.sidecar import CardSpan, VideoTimeline
from app.core.plan.timeline import Timeline, VoiceTiming, plan
from app.core.script import Script, Settings, narration_segments, plain_narration

log = logging.getLogger(__name__)

#: narration speed used for estimates before the voice is measured
WORDS_PER_MINUTE = 150.0
#: where a plan pretends the intro/outro pages are served: planning never loads them, and a render
#: puts them on its own loopback server
PLANNING_BASE_URL = "http://127.0.0.1/"
#: the folder of a project that holds one thumbnail per card id
THUMBNAIL_FOLDER = "thumbnails"
_SAFE_ID = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$")


# --------------------------------------------------------------------------- estimates and the plan


def word_count(narration: str) -> int:
    return len(plain_narration(narration).split())


def estimate_speech_s(narration: str, rate: float = 1.0) -> float:
    """Seconds the voice is expected to take for ``narration`` (bookmarks are not spoken)."""
    return word_count(narration) / (WORDS_PER_MINUTE / 60.0) / max(rate, 0.1)


def estimate_voice(narration: str, rate: float = 1.0, measured_s: float | None = None) -> VoiceTiming:
    """A card's voice timing without voicing it: its length (``measured_s`` when known) and each
    bookmark at the share of words spoken before it."""
    total_words = word_count(narration)
    duration = measured_s if measured_s is not None else estimate_speech_s(narration, rate)
    marks: dict[str, float] = {}
    before = 0
    for mark, text in narration_segments(narration):
        if mark is not None:
            marks[mark] = duration * before / total_words if total_words else 0.0
        before += len(plain_narration(text).split())
    return VoiceTiming(duration, marks)


def with_bumpers(script: Script, settings: Settings, voices: Sequence[VoiceTiming],
                 measured: Mapping[tuple[str, str], float] | None = None
                 ) -> tuple[BumperPlan, list[VoiceTiming]]:
    """The script as a render performs it — the intro card in front, the outro card at the end — and a
    voice timing for each of its cards: ``voices`` for the script's own cards, and for the intro and
    outro their narration's measured length (``measured`` by (card id, plain narration)) or estimate.
    Without intro and outro, the script and ``voices`` unchanged."""
    bplan = expand_with_bumpers(script, settings, PLANNING_BASE_URL)
    if bplan.intro_index is None and bplan.outro_index is None:
        return bplan, list(voices)
    out: list[VoiceTiming] = [VoiceTiming(0.0)] * len(bplan.script.cards)
    for src, dst in enumerate(bplan.content_indexes):
        out[dst] = voices[src]
    for index in (bplan.intro_index, bplan.outro_index):
        if index is not None:
            card = bplan.script.cards[index]
            known = (measured or {}).get((card.id, plain_narration(card.narration)))
            out[index] = estimate_voice(card.narration, settings.voice.rate, known)
    return bplan, out


@dataclass(frozen=True)
class CardBar:
    """One card's planned length, in seconds; ``actions_*`` are offsets from the card's start."""

    card_id: str
    title: str
    start_s: float
    length_s: float
    narration_s: float
    actions_from_s: float
    actions_to_s: float
    #: this card's part of the script (0..1, the cards' lengths summing to 1)
    share: float
    measured: bool = False

    @property
    def actions_s(self) -> float:
        return max(0.0, self.actions_to_s - self.actions_from_s)


@dataclass(frozen=True)
class Storyboard:
    cards: tuple[CardBar, ...]
    #: the whole video: lead-in, every card, the intro and outro cards, lead-out
    total_s: float
    intro_s: float = 0.0
    outro_s: float = 0.0

    @property
    def longest_s(self) -> float:
        return max((c.length_s for c in self.cards), default=0.0)

    def bar(self, card_id: str) -> CardBar | None:
        return next((c for c in self.cards if c.card_id == card_id), None)


def storyboard_from_timeline(timeline: Timeline, measured_ids: frozenset[str] = frozenset(),
                             bumpers: BumperPlan | None = None) -> Storyboard:
    """Bars for the script's own cards of ``timeline``; with ``bumpers`` (the timeline is of the
    expanded script) the intro and outro count in the total and their lengths are kept apart."""
    indices = bumpers.content_indexes if bumpers is not None else list(range(len(timeline.cards)))
    own = [timeline.cards[i] for i in indices]
    lengths = [ct.end_s - ct.start_s for ct in own]
    whole = sum(lengths) or 1.0
    bars = []
    for ct, length in zip(own, lengths, strict=True):
        a_from = min((a.start_s for a in ct.actions), default=ct.start_s) - ct.start_s
        a_to = max((a.end_s for a in ct.actions), default=ct.start_s) - ct.start_s
        bars.append(CardBar(ct.card_id, ct.title, ct.start_s, length, ct.voice_duration_s, a_from, a_to,
                            length / whole, ct.card_id in measured_ids))

    def span(index: int | None) -> float:
        if index is None:
            return 0.0
        ct = timeline.cards[index]
        return ct.end_s - ct.start_s

    intro = span(bumpers.intro_index) if bumpers is not None else 0.0
    outro = span(bumpers.outro_index) if bumpers is not None else 0.0
    return Storyboard(tuple(bars), timeline.duration_s, intro, outro)


def plan_storyboard(script: Script, measured: Mapping[tuple[str, str], float] | None = None) -> Storyboard:
    """Every card's planned length with estimated voices (measured ones where ``measured`` has the
    card's (id, plain narration)), and the whole video's, intro and outro included, as the render
    plans it.  Pure and fast: no voice, no browser."""
    measured = measured or {}
    rate = script.settings.voice.rate
    voices = []
    measured_ids = set()
    for card in script.cards:
        m = measured.get((card.id, plain_narration(card.narration)))
        if m is not None:
            measured_ids.add(card.id)
        voices.append(estimate_voice(card.narration, rate, m))
    bplan, all_voices = with_bumpers(script, script.settings, voices, measured)
    return storyboard_from_timeline(plan(bplan.script, bplan.settings, all_voices), frozenset(measured_ids),
                                    bplan)


def fmt_length(seconds: float) -> str:
    """``42.3 s`` below a minute, else ``m:ss``."""
    if seconds < 60:
        return f"{seconds:.1f} s"
    s = round(seconds)
    return f"{s // 60}:{s % 60:02d}"


# --------------------------------------------------------------------------- the timeline strip


def timeline_from_chapters(chapters: Sequence[tuple[str, float]], duration_s: float) -> VideoTimeline:
    """A strip from chapters alone (renders older than the timeline sidecar): card spans only."""
    starts = [max(0.0, s) for _t, s in chapters]
    cards = []
    for i, (title, start) in enumerate(chapters):
        end = starts[i + 1] if i + 1 < len(starts) else duration_s
        cards.append(CardSpan(f"chapter-{i + 1}", title, start, max(start, end), start, 0.0, i))
    return VideoTimeline(duration_s, tuple(cards))


@dataclass(frozen=True)
class StripLayout:
    """Maps video seconds to x pixels across a strip ``width`` wide with ``margin`` on both sides."""

    duration_s: float
    width: int
    margin: int = 4

    @property
    def usable(self) -> float:
        return max(1.0, self.width - 2 * self.margin)

    def x_of(self, t: float) -> float:
        if self.duration_s <= 0:
            return float(self.margin)
        return self.margin + self.usable * min(max(t / self.duration_s, 0.0), 1.0)

    def t_of(self, x: float) -> float:
        if self.duration_s <= 0:
            return 0.0
        return self.duration_s * min(max((x - self.margin) / self.usable, 0.0), 1.0)

    def segments(self, cards: Sequence[CardSpan]) -> list[tuple[float, float]]:
        """(x0, x1) of each card, tiling the strip as the video's chapters do: the first takes the
        lead-in, each one runs to the next card's start, the last to the video's end."""
        out = []
        for i, c in enumerate(cards):
            start = 0.0 if i == 0 else c.start_s
            end = cards[i + 1].start_s if i + 1 < len(cards) else max(self.duration_s, c.end_s)
            out.append((self.x_of(start), self.x_of(end)))
        return out


def card_at(timeline: VideoTimeline, t: float) -> int:
    """The index of the card shown at ``t`` (the last one starting at or before it; -1 if none)."""
    found = -1
    for i, c in enumerate(timeline.cards):
        if c.start_s <= t + 1e-6:
            found = i
    return found


def step_card(timeline: VideoTimeline, t: float, delta: int) -> int:
    """The card to jump to from ``t``: the next one (delta > 0), or the previous one (delta < 0;
    the current card's start if ``t`` is well inside it, as a player's "previous" does)."""
    if not timeline.cards:
        return -1
    i = card_at(timeline, t)
    if delta > 0:
        return min(i + 1, len(timeline.cards) - 1)
    if i >= 0 and t - timeline.cards[i].start_s > 0.5:
        return i
    return max(i - 1, 0)


# --------------------------------------------------------------------------- thumbnails


def thumbnail_dir(project_dir: Path) -> Path:
    return project_dir / THUMBNAIL_FOLDER


def thumbnail_path(folder: Path, card_id: str) -> Path | None:
    """Where a card's thumbnail lives (None for an id that is not a safe file name)."""
    return folder / f"{card_id}.jpg" if _SAFE_ID.match(card_id) else None


def _still_at(start_s: float, end_s: float, first_done_s: float | None, duration_s: float, fps: int) -> float:
    frame = 1 / max(1, fps)
    t = first_done_s if first_done_s is not None else start_s + min(0.5, (end_s - start_s) / 2)
    return max(start_s, min(t, end_s - frame, duration_s - frame))


def thumbnail_times(timeline: Timeline, card_ids: Sequence[str]) -> dict[str, float]:
    """When to take each card's still in a rendered video: right after its first action (a page
    loaded, a button pressed), or shortly into a card without actions; never past the card."""
    wanted = set(card_ids)
    out: dict[str, float] = {}
    for ct in timeline.cards:
        if ct.card_id not in wanted or ct.card_id in out:
            continue
        out[ct.card_id] = _still_at(ct.start_s, ct.end_s, ct.actions[0].end_s if ct.actions else None,
                                    timeline.duration_s, timeline.fps)
    return out


def sidecar_thumbnail_times(video: VideoTimeline) -> dict[str, float]:
    """:func:`thumbnail_times` from a video's timeline sidecar: what a cloud render brings back (its
    timeline stays in the cloud), for the user's own cards (not the intro and outro)."""
    out: dict[str, float] = {}
    for c in video.cards:
        if c.script_index is None or c.id in out:
            continue
        first = c.actions[0] if c.actions else None
        done = (first.end_s if first.end_s is not None else first.fire_s) if first is not None else None
        out[c.id] = _still_at(c.start_s, c.end_s, done, video.duration_s, video.fps or 30)
    return out


async def thumbnails_from_outputs(files: Sequence[Path], folder: Path,
                                  cancel: CancelToken | None = None) -> list[Path]:
    """The storyboard's stills from a render's downloaded outputs (the video and its timeline
    sidecar).  A render without a sidecar, or with one this version cannot read, leaves the
    storyboard as it was: a still is a convenience, never a reason to fail a render."""
    from app.core.plan.sidecar import read_timeline_document, sidecar_for

    video = next((p for p in files if p.suffix == ".mp4"), None)
    if video is None or not sidecar_for(video).is_file():
        return []
    try:
        times = sidecar_thumbnail_times(read_timeline_document(sidecar_for(video)))
    except (OSError, ValueError) as exc:
        log.warning("no storyboard stills from %s: %s", video.name, exc)
        return []
    return await thumbnails_from_video(video, times, folder, cancel)


async def thumbnails_from_video(video: Path, times: Mapping[str, float], folder: Path,
                                cancel: CancelToken | None = None) -> list[Path]:
    """One thumbnail per card id from ``video`` at its time (ffmpeg, one small process each)."""
    from app.core.infra.tools import find_ffmpeg
    from app.core.mix.preview import make_thumbnail

    ffmpeg = await asyncio.to_thread(find_ffmpeg)
    folder.mkdir(parents=True, exist_ok=True)
    made = []
    for card_id, t in times.items():
        out = thumbnail_path(folder, card_id)
        if out is not None:
            made.append(await make_thumbnail(ffmpeg, video, out, at_s=t, cancel=cancel))
    return made


async def thumbnails_from_stills(stills: Mapping[str, bytes], folder: Path,
                                 cancel: CancelToken | None = None) -> list[Path]:
    """One thumbnail per card id from the full-size JPEGs a check took."""
    from app.core.infra.tools import find_ffmpeg
    from app.core.mix.preview import make_thumbnail

    if not stills:
        return []
    ffmpeg = await asyncio.to_thread(find_ffmpeg)
    folder.mkdir(parents=True, exist_ok=True)
    made = []
    with tempfile.TemporaryDirectory(prefix=".stills-", dir=folder) as tmp:
        for card_id, data in stills.items():
            out = thumbnail_path(folder, card_id)
            if out is None:
                continue
            src = Path(tmp) / f"{card_id}.jpg"
            await asyncio.to_thread(src.write_bytes, data)
            made.append(await make_thumbnail(ffmpeg, src, out, cancel=cancel))
    return made
