"""Captions (SRT, WebVTT) and chapters (FFMETADATA, YouTube description) from the voiced cards.

Cues are made from each card's plain narration: sentences first, then clauses, then words, so a
cue is at most two lines of ~42 characters and breaks where a reader would pause.  Cues are timed
across the card's *measured* voice duration in proportion to their length (with a little weight
for the pauses punctuation causes), last at least :data:`MIN_CUE_S` when the card allows, and never
overlap.  Everything is deterministic: the same cards give byte-identical files.
"""

from __future__ import annotations

import itertools
import math
import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

from ..infra.fs import atomic_write
from ..script import narration_segments

MAX_LINE = 42
MAX_LINES = 2
MIN_CUE_S = 0.8

_SENTENCE_RE = re.compile(r"(?<=[.!?…])[\"'”’)\]]*\s+")
_SENTENCE_END_RE = re.compile(r"[.!?…][\"'”’)\]]*$")
_CLAUSE_END = (",", ";", ":", "—", "–", ")")
#: words a phrase can start with: breaking *before* them reads naturally
#: words a line should not end on: they bind to what follows
_WEAK_ENDINGS = frozenset((
    "a", "an", "the", "to", "of", "in", "on", "at", "by", "for", "from", "with", "and", "or", "but",
    "as", "is", "are", "your", "its", "their", "our", "my", "this", "that", "these", "those",
))
_PHRASE_WORDS = frozenset((
    "and", "but", "or", "so", "then", "which", "that", "while", "because", "when", "where", "with",
    "without", "to", "for", "if", "as", "after", "before", "until", "unless",
))


@dataclass(frozen=True)
class CaptionCard:
    """What captions need from one card: its id and title, when its voice starts, how long it is."""

    card_id: str
    title: str
    start_s: float
    voice_duration_s: float
    text: str  # plain narration (bookmarks removed)
    marks: dict[str, float] = field(default_factory=dict)
    #: the narration with its ``<mark name="x"/>`` bookmarks; when given, each mark's measured time
    #: (``marks``) pins the words after it, so cue timing is exact at every bookmark
    narration: str | None = None


@dataclass(frozen=True)
class Cue:
    start_s: float
    end_s: float
    lines: tuple[str, ...]
    card_id: str = ""

    @property
    def text(self) -> str:
        return " ".join(self.lines)


# --------------------------------------------------------------------------- splitting


def _layout(text: str, max_line: int = MAX_LINE) -> tuple[str, ...] | None:
    """``text`` on one line, or on two balanced lines, or None if it does not fit in two."""
    if len(text) <= max_line:
        return (text,)
    words = text.split(" ")
    best: tuple[float, tuple[str, str]] | None = None
    for i in range(1, len(words)):
        a, b = " ".join(words[:i]), " ".join(words[i:])
        if len(a) > max_line or len(b) > max_line:
            continue
        # Subtitle practice: break where the grammar breaks (after a clause, before a conjunction),
        # never after a little word ("a", "the", "to"), then prefer the shorter longest line, with
        # a slight preference for a bottom-heavy pair.
        score = max(len(a), len(b)) + 0.25 * abs(len(a) - len(b)) + (0 if len(a) <= len(b) else 2)
        if _SENTENCE_END_RE.search(words[i - 1]):
            score -= 30  # two short sentences: one per line
        elif words[i - 1].endswith(_CLAUSE_END):
            score -= 15
        elif words[i].lower() in _PHRASE_WORDS:
            score -= 5
        if words[i - 1].lower() in _WEAK_ENDINGS:
            score += 8
        if best is None or score < best[0]:
            best = (score, (a, b))
    return best[1] if best else None


def _wrap_long(words: list[str], max_line: int) -> list[tuple[str, ...]]:
    """Greedy wrap for text that has words too long for a line (URLs): one cue per two lines."""
    lines: list[str] = []
    for w in words:
        if lines and len(lines[-1]) + 1 + len(w) <= max_line:
            lines[-1] += " " + w
        else:
            lines.append(w)
    return [tuple(lines[i : i + MAX_LINES]) for i in range(0, len(lines), MAX_LINES)]


def _split_phrase(text: str, max_line: int) -> list[tuple[str, ...]]:
    """Split one sentence into cues that each fit in two lines, at the most natural places."""
    lay = _layout(text, max_line)
    if lay is not None:
        return [lay]
    words = text.split(" ")
    limit = max_line * MAX_LINES
    parts = math.ceil(len(text) / limit)
    target = len(text) / parts
    best: tuple[float, int] | None = None
    pos = 0
    for i in range(1, len(words)):
        pos += len(words[i - 1]) + (1 if i > 1 else 0)
        head = " ".join(words[:i])
        if _layout(head, max_line) is None:
            break
        score = abs(pos - target)
        if words[i - 1].endswith(_CLAUSE_END):
            score -= 18
        elif words[i].lower() in _PHRASE_WORDS:
            score -= 8
        if best is None or score < best[0]:
            best = (score, i)
    if best is None:  # a single word longer than two lines
        return _wrap_long(words, max_line)
    i = best[1]
    head_layout = _layout(" ".join(words[:i]), max_line)
    assert head_layout is not None
    return [head_layout, *_split_phrase(" ".join(words[i:]), max_line)]


def split_cue_texts(text: str, max_line: int = MAX_LINE) -> list[tuple[str, ...]]:
    """Caption-sized pieces of ``text``: each a tuple of at most two lines of ``max_line`` chars
    (a longer line only for a word that cannot be broken)."""
    text = " ".join(text.split())
    if not text:
        return []
    out: list[tuple[str, ...]] = []
    sentences = [s for s in _SENTENCE_RE.split(text) if s]
    i = 0
    while i < len(sentences):
        cue = sentences[i]
        # a short sentence shares a cue with the next when they fit on one line, or on one line each
        while i + 1 < len(sentences) and len(cue) < 20:
            nxt = sentences[i + 1]
            if len(cue) + 1 + len(nxt) > max_line and len(nxt) > max_line:
                break
            cue = f"{cue} {nxt}"
            i += 1
        out += _split_phrase(cue, max_line)
        i += 1
    return out


# --------------------------------------------------------------------------- timing


def _weight(text: str) -> float:
    # characters are a decent proxy for speaking time; punctuation adds the pause the voice makes
    w = float(len(text))
    w += 6 * len(re.findall(r"[.!?…](?=\s|$)", text))
    w += 3 * len(re.findall(r"[,;:—–](?=\s|$)", text))
    return max(w, 1.0)


def _durations(weights: Sequence[float], total: float, min_s: float) -> list[float]:
    """Split ``total`` in proportion to ``weights``, giving each at least ``min_s`` if possible."""
    n = len(weights)
    if n == 0:
        return []
    if total < n * min_s - 1e-6:
        s = sum(weights)
        return [total * w / s for w in weights]
    min_s = min(min_s, total / n)  # float dust: "exactly enough" time must still count as enough
    fixed: set[int] = set()
    while True:
        free = [i for i in range(n) if i not in fixed]
        left = total - min_s * len(fixed)
        s = sum(weights[i] for i in free)
        out = [min_s if i in fixed else left * weights[i] / s for i in range(n)]
        short = {i for i in free if out[i] < min_s - 1e-9}
        if not short:
            return out
        fixed |= short


def _mark_anchors(card: CaptionCard, total: float) -> list[tuple[int, float]] | None:
    """(character offset in ``card.text``, seconds from the card start) for each timed bookmark."""
    if not card.narration or not card.marks:
        return None
    anchors: list[tuple[int, float]] = [(0, 0.0)]
    pos = 0
    for mark, segment in narration_segments(card.narration):
        words = " ".join(segment.split())
        if mark is not None and mark in card.marks and words:
            t = card.marks[mark]
            if anchors[-1][0] < pos and anchors[-1][1] < t < total:
                anchors.append((pos, t))
        if words:
            pos += len(words) + 1
    if pos - 1 != len(card.text) or len(anchors) == 1:
        return None  # the narration is not the text we were given: time proportionally instead
    anchors.append((len(card.text), total))
    return anchors


def _anchored_durations(
    card: CaptionCard, pieces: list[tuple[str, ...]], total: float
) -> list[list[float]] | None:
    """Cue durations with every bookmark's words starting exactly at the bookmark's time.

    Grouped in runs that end where a cue starts right at a bookmark: those boundaries are pinned.
    """
    anchors = _mark_anchors(card, total)
    if anchors is None:
        return None
    text = card.text

    def time_at(c: int) -> float:
        for (a0, t0), (a1, t1) in itertools.pairwise(anchors):
            if a0 <= c <= a1:
                span = _weight(text[a0:a1])
                return t0 + (t1 - t0) * (_weight(text[a0:c]) if c > a0 else 0.0) / span
        return total

    bounds = [0]
    for p in pieces:
        bounds.append(bounds[-1] + len(" ".join(p)) + 1)
    bounds[-1] = len(text)
    times = [time_at(c) for c in bounds]
    times[-1] = total
    pinned = {a for a, _ in anchors}
    runs: list[list[float]] = [[]]
    for i, (a, b) in enumerate(itertools.pairwise(times)):
        if i > 0 and bounds[i] in pinned:
            runs.append([])
        runs[-1].append(max(b - a, 1e-6))
    return runs


def build_cues(
    cards: Sequence[CaptionCard], *, max_line: int = MAX_LINE, min_cue_s: float = MIN_CUE_S
) -> list[Cue]:
    """Cues for every card, in time order, within each card's voice and never overlapping."""
    cues: list[Cue] = []
    ordered = sorted(cards, key=lambda c: c.start_s)
    for ci, card in enumerate(ordered):
        pieces = split_cue_texts(card.text, max_line)
        if not pieces or card.voice_duration_s <= 0:
            continue
        end = card.start_s + card.voice_duration_s
        if ci + 1 < len(ordered):
            end = min(end, ordered[ci + 1].start_s)
        total = end - card.start_s
        if total <= 0:
            continue
        anchored = _anchored_durations(card, pieces, total)
        if anchored is None:
            durations = _durations([_weight(" ".join(p)) for p in pieces], total, min_cue_s)
        else:
            durations = []
            for run in anchored:  # a bookmark's time is never moved to lengthen a short cue
                durations += _durations(run, sum(run), min_cue_s)
        t = card.start_s
        for lines, d in zip(pieces, durations, strict=True):
            cues.append(Cue(t, min(t + d, end), lines, card.card_id))
            t += d
    return cues


# --------------------------------------------------------------------------- writers


def _write_atomic(path: Path, text: str) -> Path:
    return atomic_write(path, text)


def _ms_spans(cues: Sequence[Cue]) -> list[tuple[int, int]]:
    """Cue times in whole milliseconds, still non-overlapping and non-empty after rounding."""
    spans: list[tuple[int, int]] = []
    for i, cue in enumerate(cues):
        start = round(cue.start_s * 1000)
        end = round(cue.end_s * 1000)
        if spans:
            start = max(start, spans[-1][1])
        if i + 1 < len(cues):
            end = min(end, round(cues[i + 1].start_s * 1000))
        spans.append((start, max(end, start + 1)))
    return spans


def _clock(ms: int, sep: str) -> str:
    h, rest = divmod(ms, 3_600_000)
    m, rest = divmod(rest, 60_000)
    s, ms = divmod(rest, 1000)
    return f"{h:02d}:{m:02d}:{s:02d}{sep}{ms:03d}"


def srt_text(cues: Sequence[Cue]) -> str:
    blocks = []
    for n, (cue, (a, b)) in enumerate(zip(cues, _ms_spans(cues), strict=True), start=1):
        blocks.append(f"{n}\n{_clock(a, ',')} --> {_clock(b, ',')}\n" + "\n".join(cue.lines) + "\n")
    return "\n".join(blocks)


def _vtt_escape(s: str) -> str:
    return s.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def vtt_text(cues: Sequence[Cue]) -> str:
    blocks = ["WEBVTT\n"]
    for cue, (a, b) in zip(cues, _ms_spans(cues), strict=True):
        body = "\n".join(_vtt_escape(line) for line in cue.lines)
        # "-->" may not appear in a cue's text
        body = body.replace("-->", "--&gt;")
        blocks.append(f"{_clock(a, '.')} --> {_clock(b, '.')}\n{body}\n")
    return "\n".join(blocks)


def write_srt(cues: Sequence[Cue], path: Path) -> Path:
    return _write_atomic(path, srt_text(cues))


def write_vtt(cues: Sequence[Cue], path: Path) -> Path:
    return _write_atomic(path, vtt_text(cues))


# --------------------------------------------------------------------------- chapters

Chapter = tuple[float, float, str]  # start_s, end_s, title


def chapters_from_cards(cards: Sequence[CaptionCard], total_s: float) -> list[Chapter]:
    """One chapter per card, from its start to the next card's start (the last to ``total_s``);
    the first starts at 0 so the lead-in belongs to it."""
    ordered = sorted(cards, key=lambda c: c.start_s)
    out: list[Chapter] = []
    for i, card in enumerate(ordered):
        start = 0.0 if i == 0 else card.start_s
        end = ordered[i + 1].start_s if i + 1 < len(ordered) else total_s
        out.append((start, max(end, start), card.title.strip() or card.card_id))
    return out


def ffmetadata_escape(value: str) -> str:
    """FFMETADATA values: backslash before ``=``, ``;``, ``#``, ``\\`` and newlines."""
    return re.sub(r"([=;#\\\n])", r"\\\1", value)


def ffmetadata_text(chapters: Sequence[Chapter], *, title: str | None = None) -> str:
    lines = [";FFMETADATA1"]
    if title:
        lines.append(f"title={ffmetadata_escape(title)}")
    spans = [(round(s * 1000), round(e * 1000), t) for s, e, t in sorted(chapters, key=lambda c: c[0])]
    for i, (start, end, name) in enumerate(spans):
        if i + 1 < len(spans):
            end = min(end, spans[i + 1][0])
        end = max(end, start + 1)
        lines += ["[CHAPTER]", "TIMEBASE=1/1000", f"START={start}", f"END={end}",
                  f"title={ffmetadata_escape(name)}"]
    return "\n".join(lines) + "\n"


def write_ffmetadata_chapters(chapters: Sequence[Chapter], path: Path, *, title: str | None = None) -> Path:
    """An FFMETADATA1 file ffmpeg reads with ``-f ffmetadata -i`` (one [CHAPTER] per entry)."""
    return _write_atomic(path, ffmetadata_text(chapters, title=title))


def parse_youtube_chapters(text: str, total_s: float | None = None) -> list[Chapter]:
    """The inverse of :func:`youtube_chapters_text` (for renders whose chapters were not recorded
    otherwise); each chapter ends where the next starts, the last at ``total_s`` when known."""
    starts: list[tuple[float, str]] = []
    for line in text.splitlines():
        m = re.match(r"^\s*(?:(\d+):)?(\d+):(\d{2})\s+(.+)$", line)
        if m:
            h, mi, s = int(m.group(1) or 0), int(m.group(2)), int(m.group(3))
            starts.append((float(h * 3600 + mi * 60 + s), m.group(4).strip()))
    out: list[Chapter] = []
    for i, (start, title) in enumerate(starts):
        end = starts[i + 1][0] if i + 1 < len(starts) else max(start, total_s or start)
        out.append((start, end, title))
    return out


def youtube_chapters_text(chapters: Sequence[Chapter]) -> str:
    """Chapter lines for a video description ("0:00 Intro"); the first is always at 0:00.

    YouTube shows chapters only if there are at least three, each at least 10 s long; the text is
    written regardless (it is still a useful table of contents).
    """
    lines = []
    ordered = sorted(chapters, key=lambda c: c[0])
    long_form = bool(ordered) and max(c[0] for c in ordered) >= 3600
    for i, (start, _end, name) in enumerate(ordered):
        secs = 0 if i == 0 else int(start)
        h, rest = divmod(secs, 3600)
        m, s = divmod(rest, 60)
        stamp = f"{h}:{m:02d}:{s:02d}" if long_form else f"{m}:{s:02d}"
        lines.append(f"{stamp} {' '.join(name.split())}")
    return "\n".join(lines) + ("\n" if lines else "")
