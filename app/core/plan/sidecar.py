"""The ``<name>.timeline.json`` sidecar: the rendered video's plan as it was performed.

Chapters say where each card starts; a player's timeline strip also wants where each narration clip
lies and when each action fires.  The render writes this document beside the MP4 (published with the
other outputs), and :func:`read_timeline_document` reads it back for the app.  Pure: no Qt, no I/O
beyond the one read.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ..script import Script
from .timeline import Timeline

FORMAT = "reelwright-timeline"
VERSION = 1
SUFFIX = ".timeline.json"


def timeline_document(timeline: Timeline, script: Script,
                      content_indexes: Sequence[int] | None = None) -> dict[str, Any]:
    """The sidecar's content.  ``script`` is the performed one (intro/outro cards included);
    ``content_indexes`` are the timeline indexes of the user's own cards, in order (all by default):
    each of those gets its position in the user's script as ``script_index``, bumpers get None."""
    order = list(content_indexes) if content_indexes is not None else list(range(len(timeline.cards)))
    script_index = {ti: si for si, ti in enumerate(order)}
    cards = []
    for ct in timeline.cards:
        actions = script.cards[ct.index].actions if ct.index < len(script.cards) else []
        cards.append({
            "index": ct.index,
            "script_index": script_index.get(ct.index),
            "id": ct.card_id,
            "title": ct.title,
            "start_s": round(ct.start_s, 6),
            "end_s": round(ct.end_s, 6),
            "voice_start_s": round(ct.voice_start_s, 6),
            "voice_duration_s": round(ct.voice_duration_s, 6),
            "actions": [{"index": at.action_index,
                         "type": actions[at.action_index].type if at.action_index < len(actions) else "",
                         "start_s": round(at.start_s, 6), "fire_s": round(at.fire_s, 6),
                         "end_s": round(at.end_s, 6)} for at in ct.actions],
        })
    return {"format": FORMAT, "version": VERSION, "fps": timeline.fps,
            "duration_s": round(timeline.duration_s, 6), "cards": cards}


def timeline_json(timeline: Timeline, script: Script, content_indexes: Sequence[int] | None = None) -> str:
    return json.dumps(timeline_document(timeline, script, content_indexes), indent=1, ensure_ascii=False) + "\n"


@dataclass(frozen=True)
class ActionMark:
    index: int
    type: str
    fire_s: float
    end_s: float | None = None  # when it was done (sidecars of this version always say)


@dataclass(frozen=True)
class CardSpan:
    """One card of a rendered video, in video seconds."""

    id: str
    title: str
    start_s: float
    end_s: float
    voice_start_s: float
    voice_duration_s: float
    script_index: int | None
    actions: tuple[ActionMark, ...] = ()


@dataclass(frozen=True)
class VideoTimeline:
    duration_s: float
    cards: tuple[CardSpan, ...]
    fps: int | None = None

    def card_for_script_index(self, i: int) -> CardSpan | None:
        return next((c for c in self.cards if c.script_index == i), None)


def _f(value: Any, what: str) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise ValueError(f"{what} is not a number")
    return float(value)


def parse_timeline_document(doc: Any) -> VideoTimeline:
    """The sidecar's content as typed spans; ValueError names what is wrong."""
    if not isinstance(doc, dict) or doc.get("format") != FORMAT:
        raise ValueError(f"not a {FORMAT} document")
    if doc.get("version") != VERSION:
        raise ValueError(f"{FORMAT} version {doc.get('version')!r} is not supported")
    cards = []
    for n, c in enumerate(doc.get("cards") or []):
        if not isinstance(c, dict):
            raise ValueError(f"card {n + 1} is not an object")
        si = c.get("script_index")
        actions = tuple(ActionMark(int(a.get("index", i)), str(a.get("type", "")), _f(a.get("fire_s"), "fire_s"),
                                   _f(a["end_s"], "end_s") if a.get("end_s") is not None else None)
                        for i, a in enumerate(c.get("actions") or []) if isinstance(a, dict))
        cards.append(CardSpan(str(c.get("id", "")), str(c.get("title", "")), _f(c.get("start_s"), "start_s"),
                              _f(c.get("end_s"), "end_s"), _f(c.get("voice_start_s"), "voice_start_s"),
                              _f(c.get("voice_duration_s"), "voice_duration_s"),
                              si if isinstance(si, int) and not isinstance(si, bool) else None, actions))
    fps = doc.get("fps")
    return VideoTimeline(_f(doc.get("duration_s"), "duration_s"), tuple(cards),
                         fps if isinstance(fps, int) and not isinstance(fps, bool) and fps > 0 else None)


def read_timeline_document(path: Path) -> VideoTimeline:
    """Read a sidecar; ValueError (naming the file) if it is not one, OSError if it cannot be read."""
    try:
        return parse_timeline_document(json.loads(path.read_text(encoding="utf-8")))
    except (ValueError, TypeError) as exc:
        raise ValueError(f"{path.name}: {exc}") from None


def sidecar_for(video: Path) -> Path:
    """Where a video's timeline sidecar lies (``video.mp4`` → ``video.timeline.json``)."""
    return video.with_name(video.stem + SUFFIX)
