"""The interactive twin of a video: ``<name>.demo.html``, a click-through demo that works offline.

Each step is a still of the video (WebP) with a pulsing hotspot on the target of the action the
viewer should do next, the card's narration as a caption, and the card's voice on arrival (muted
until the viewer turns sound on).  Steps come from the *same* capture as the video
(:mod:`app.core.capture.steps`): no second browser run, so both always agree.

Three layers, the first two pure:

* :func:`build_demo` turns step records + the script + voice marks into a :class:`Demo`
  (captions, hotspot boxes as fractions of the frame, accessible names, audio segments);
* :func:`demo_html` renders a :class:`Demo` whose media are already URIs into one HTML page with
  its CSS and script inline (no framework, no request leaves the file);
* :func:`make_interactive` encodes the stills (JPEG → WebP) and voice clips (WAV → MP3) with one
  ffmpeg each, and inlines them as ``data:`` URIs when small, else puts them in ``<name>.demo/``.
"""

from __future__ import annotations

import base64
import hashlib
import html
import json
import re
import shutil
from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from importlib import resources
from pathlib import Path
from typing import Literal

from ..capture.steps import VIEWER_ACTIONS, StepBox, StepRecord
from ..infra.progress import CancelToken
from ..script import Bumper, Locator, Script, plain_narration
from . import run_ffmpeg

__all__ = ["INLINE_LIMIT_BYTES", "Demo", "DemoStep", "build_audio_args", "build_demo", "build_webp_args",
           "demo_html", "hotspot_label", "make_interactive", "sentence_at_mark", "target_label"]

#: media up to this size (before base64) go into the HTML itself; above it, into ``<name>.demo/``
INLINE_LIMIT_BYTES = 6 * 1024 * 1024
WEBP_QUALITY = 78
MP3_BITRATE = "48k"

_MARK_TAG = r"""<mark\s+name\s*=\s*["']{name}["']\s*/?>"""
_SENTENCE_END = re.compile(r"[.!?…][\"'”’)\]]*(?:\s+|$)")


@dataclass(frozen=True)
class DemoStep:
    kind: Literal["card", "action", "end"]
    card_index: int
    title: str
    caption: str
    #: the still: a media key (``Demo.media`` before placement, ``Demo.uris`` after)
    image: str
    #: hotspot as fractions of the frame (left, top, width, height); None: no target (a card, a bare key)
    box: tuple[float, float, float, float] | None = None
    #: the hotspot's accessible name and visible hint, e.g. 'Click "Sign in" (button)'
    label: str = ""
    #: what the viewer sees typed for fill/type/press/select steps
    typed: str | None = None
    #: the voice clip (a media key) and the part of it to play on arrival; None: keep what plays
    audio: str | None = None
    audio_from_s: float = 0.0
    audio_to_s: float | None = None
    #: where the still is in the video
    frame: int = 0
    time_s: float = 0.0
    action_type: str | None = None


@dataclass(frozen=True)
class Demo:
    title: str
    width: int
    height: int
    steps: list[DemoStep]
    #: the outro's call to action (title, subtitle) shown on the last step
    cta: tuple[str, str] | None = None
    #: media key -> bytes (before placement); empty once :func:`place_media` has made URIs
    media: dict[str, bytes] = field(default_factory=dict)
    #: media key -> URI (after placement): the page lists each once, steps name them by key
    uris: dict[str, str] = field(default_factory=dict)


# ---------------------------------------------------------------------- text


def sentence_at_mark(narration: str, mark: str) -> str:
    """The sentence the bookmark ``mark`` sits in (or starts), as spoken; the whole narration if the
    bookmark is not there."""
    m = re.search(_MARK_TAG.format(name=re.escape(mark)), narration)
    if m is None:
        return plain_narration(narration)
    before = plain_narration(narration[: m.start()])
    after = plain_narration(narration[m.end():])
    starts = [e.end() for e in _SENTENCE_END.finditer(before)]
    head = before[starts[-1]:] if starts else before
    end = _SENTENCE_END.search(after)
    tail = after[: end.end()].rstrip() if end else after
    return " ".join(p for p in (head.strip(), tail.strip()) if p) or plain_narration(narration)


def target_label(loc: Locator, action_type: str = "") -> str:
    """A human name for a locator's target: '"Sign in" button', 'the "Email" field', '"Remember me"'."""
    k = loc.kind()
    if k == "role":
        return f'"{loc.name}" {loc.role}' if loc.name else f"the {loc.role}"
    if k == "label":
        if action_type in ("check", "uncheck", "click", "dblclick"):
            return f'"{loc.label}"'  # a checkbox or switch named by its label
        return f'the "{loc.label}" {"list" if action_type == "select" else "field"}'
    if k == "placeholder":
        return f'the "{loc.placeholder}" field'
    if k == "text":
        return f'"{loc.text}"'
    if k == "alt":
        return f'the "{loc.alt}" image'
    if k == "title":
        return f'"{loc.title}"'
    if k == "test_id":
        return f"the {str(loc.test_id).replace('-', ' ').replace('_', ' ')}"
    return f"the element {loc.css}"


_VERBS = {"click": "Click", "dblclick": "Double-click", "fill": "Type into", "type": "Type into",
          "select": "Choose in", "check": "Check", "uncheck": "Uncheck", "upload": "Upload a file to"}


def hotspot_label(action: object) -> str:
    """What the hotspot says to a screen reader (and as its tooltip): the action on its target."""
    kind = str(getattr(action, "type", ""))
    target = getattr(action, "target", None)
    name = target_label(target, kind) if isinstance(target, Locator) else ""
    if kind == "press":
        key = str(getattr(action, "key", ""))
        return f"Press {key}" + (f" in {name}" if name else "")
    return f"{_VERBS.get(kind, kind.capitalize())} {name}".strip()


def _typed(action: object, secret: bool) -> str | None:
    kind = getattr(action, "type", "")
    if kind == "fill":
        text = str(getattr(action, "value", ""))
    elif kind == "type":
        text = str(getattr(action, "text", ""))
    elif kind == "select":
        return ", ".join(getattr(action, "values", []))
    elif kind == "press":
        return str(getattr(action, "key", ""))
    else:
        return None
    return "•" * min(len(text), 12) if secret else text


# ---------------------------------------------------------------------- the pure model


def _fraction_box(b: StepBox, vw: int, vh: int) -> tuple[float, float, float, float] | None:
    """A CSS-px box as fractions of the viewport, cut to the part on screen (None when none is: the
    hotspot is then a button in the middle, not an invisible one off the picture)."""
    if vw <= 0 or vh <= 0:
        return None
    x0, y0 = max(0.0, b.x / vw), max(0.0, b.y / vh)
    x1, y1 = min(1.0, (b.x + b.width) / vw), min(1.0, (b.y + b.height) / vh)
    if x1 <= x0 or y1 <= y0:
        return None
    return x0, y0, x1 - x0, y1 - y0


def build_demo(records: Sequence[StepRecord], script: Script, *, width: int, height: int,
               view: tuple[int, int], voices: Sequence[tuple[str | None, float, dict[str, float]]],
               outro_index: int | None = None, outro: Bumper | None = None,
               intro_index: int | None = None, intro: Bumper | None = None,
               end_still: StepRecord | None = None) -> Demo:
    """The demo's steps from what the capture recorded.

    ``voices[i]`` is card *i*'s (media key of its clip or None, clip length, bookmark offsets).
    Stills are referred to by media keys ``still:<frame>``; the caller supplies their bytes.
    The outro card (``outro_index``) becomes the final step with its call to action; without an
    outro, ``end_still`` (the last frame) does.
    """
    vw, vh = view
    steps: list[DemoStep] = []
    media: dict[str, bytes] = {}

    def still(rec: StepRecord) -> str:
        key = f"still:{hashlib.sha256(rec.jpeg).hexdigest()[:16]}"
        media.setdefault(key, rec.jpeg)
        return key

    for rec in records:
        card = script.cards[rec.card_index]
        clip, length, marks = voices[rec.card_index] if rec.card_index < len(voices) else (None, 0.0, {})
        narration = plain_narration(card.narration)
        viewer_marks = sorted({marks[a.at] for a in card.actions
                               if a.at is not None and a.at in marks and a.type in VIEWER_ACTIONS})
        if rec.kind == "card":
            if outro_index is not None and rec.card_index == outro_index:
                continue  # the final step, below
            to = viewer_marks[0] if viewer_marks else None
            if not narration and intro is not None and rec.card_index == intro_index:
                narration = intro.subtitle  # a silent intro card: its subtitle says what the tour is
            steps.append(DemoStep("card", rec.card_index, card.title or "", narration, still(rec),
                                  label="Continue", audio=clip if length > 0 else None, audio_to_s=to,
                                  frame=rec.frame, time_s=rec.time_s))
            continue
        assert rec.action_index is not None
        action = card.actions[rec.action_index]
        at = getattr(action, "at", None)
        caption, audio, start, to = narration, None, 0.0, None
        if at is not None:
            caption = sentence_at_mark(card.narration, at)
            if at in marks and clip is not None and length > 0:
                audio, start = clip, marks[at]
                later = [t for t in viewer_marks if t > start]
                to = later[0] if later else None
        box = _fraction_box(rec.box, vw, vh) if rec.box is not None else None
        steps.append(DemoStep("action", rec.card_index, card.title or "", caption, still(rec), box=box,
                              label=hotspot_label(action), typed=_typed(action, rec.secret), audio=audio,
                              audio_from_s=start, audio_to_s=to, frame=rec.frame, time_s=rec.time_s,
                              action_type=action.type))
    final = next((r for r in records if r.kind == "card" and r.card_index == outro_index), None) \
        if outro_index is not None else None
    cta = (outro.title, outro.subtitle) if outro is not None and (outro.title or outro.subtitle) else None
    last = final or end_still
    if last is not None:
        card = script.cards[last.card_index]
        clip, length, _ = voices[last.card_index] if last.card_index < len(voices) else (None, 0.0, {})
        caption = (plain_narration(card.narration) if final is not None else "") \
            or (outro.subtitle if outro is not None and final is not None else "") or "That's the tour."
        steps.append(DemoStep("end", last.card_index, (cta[0] if cta else "") or "The end", caption, still(last),
                              label="Start again", audio=clip if final is not None and length > 0 else None,
                              frame=last.frame, time_s=last.time_s))
    return Demo(script.title or "Demo", width, height, steps, cta, media)


def place_media(demo: Demo, uris: dict[str, str]) -> Demo:
    """The demo with its media placed: each key's URI (``data:`` or a relative path), used once in
    the page however many steps show it."""
    steps = [s if s.audio is None or s.audio in uris else replace(s, audio=None) for s in demo.steps]
    return replace(demo, steps=steps, media={}, uris=dict(uris))


# ---------------------------------------------------------------------- the page

def _asset(name: str) -> str:
    """The page's own CSS or script (package data beside this module: shipped in the bundle)."""
    return resources.files(__package__).joinpath(name).read_text(encoding="utf-8")


def _json_for_script(value: object) -> str:
    """JSON safe inside a <script> element (no '</', no '<!--')."""
    return json.dumps(value, ensure_ascii=False, separators=(",", ":")).replace("<", "\\u003c")


#: nothing may leave the file: media are data: URIs or files beside it, the style and script are inline
_CSP = ("default-src 'none'; img-src data: 'self' file:; media-src data: 'self' file:; style-src 'unsafe-inline'; "
        "script-src 'unsafe-inline'")


def demo_html(demo: Demo) -> str:
    """The whole page.  Pure: the same demo gives the same bytes.  Every text is escaped; the data
    travels as JSON in a non-executable script element."""
    e = html.escape
    data = {
        "title": demo.title,
        "cta": list(demo.cta) if demo.cta else None,
        "media": {k: demo.uris[k] for k in sorted(demo.uris)},
        "steps": [{"kind": s.kind, "title": s.title, "caption": s.caption, "image": s.image,
                   "box": [round(v, 6) for v in s.box] if s.box else None, "label": s.label, "typed": s.typed,
                   "audio": s.audio, "audio_from": round(s.audio_from_s, 3),
                   "audio_to": round(s.audio_to_s, 3) if s.audio_to_s is not None else None,
                   "frame": s.frame, "time": round(s.time_s, 4), "action": s.action_type}
                  for s in demo.steps],
    }
    ar = f"{demo.width} / {demo.height}"
    return f"""<!doctype html>
<html lang="en"><head><meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta http-equiv="Content-Security-Policy" content="{_CSP}">
<meta name="generator" content="Reelwright">
<title>{e(demo.title)} — interactive demo</title>
<style>{_asset("interactive.css")}</style></head>
<body style="--ar: {ar}">
<main>
<header><h1>{e(demo.title)}</h1><span id="count" aria-hidden="true"></span>
<button id="sound" class="tool" type="button" aria-pressed="false"
 title="Voice on or off (M)">🔇 Sound off</button></header>
<div id="stage" class="stage" role="group" aria-label="Demo screen">
<img id="still" alt="" width="{demo.width}" height="{demo.height}"></div>
<section class="panel" aria-label="Step"><div class="text"><h2 id="step-title"></h2><p id="caption"></p>
<p id="hint" class="hint"></p></div><button id="next" class="next" type="button">Start →</button></section>
<nav id="progress" class="progress" aria-label="Steps"></nav>
<div id="live" class="sr" aria-live="polite"></div>
<audio id="voice" preload="auto"></audio>
</main>
<script id="demo-data" type="application/json">{_json_for_script(data)}</script>
<script>{_asset("interactive.js")}</script>
</body></html>
"""


# ---------------------------------------------------------------------- media and the file


def build_webp_args(ffmpeg: Path, *, pattern_in: Path, pattern_out: Path, width: int, height: int,
                    quality: int = WEBP_QUALITY) -> list[str]:
    """Every numbered JPEG still to a WebP still at the output size, in one ffmpeg run.  The capture
    can come back a pixel off the output size (855 px for 854 at a device scale of 2/3): the still is
    scaled as the video encoder scales it, so both show the same picture."""
    return [str(ffmpeg), "-hide_banner", "-nostdin", "-nostats", "-loglevel", "error", "-y",
            "-f", "image2", "-i", str(pattern_in), "-vf", f"scale={width}:{height}:flags=bicubic",
            "-c:v", "libwebp", "-lossless", "0", "-quality", str(quality),
            "-compression_level", "4", "-f", "image2", str(pattern_out)]


def build_audio_args(ffmpeg: Path, clips: Sequence[tuple[Path, Path]], *, bitrate: str = MP3_BITRATE) -> list[str]:
    """Each (WAV, MP3) pair in one ffmpeg run: mono MP3, which every browser plays."""
    args = [str(ffmpeg), "-hide_banner", "-nostdin", "-nostats", "-loglevel", "error", "-y"]
    for src, _ in clips:
        args += ["-i", str(src)]
    for i, (_, out) in enumerate(clips):
        args += ["-map", f"{i}:a", "-ac", "1", "-c:a", "libmp3lame", "-b:a", bitrate, "-f", "mp3", str(out)]
    return args


_MIME = {".webp": "image/webp", ".mp3": "audio/mpeg"}


async def make_interactive(ffmpeg: Path, demo: Demo, clips: dict[str, Path], work: Path, *, name: str,
                           cancel: CancelToken | None = None,
                           inline_limit: int | None = INLINE_LIMIT_BYTES) -> tuple[Path, Path | None]:
    """Encode the demo's media and write the page into ``work``: returns (the HTML, the media folder
    or None when everything is inline).  They are published as ``<name>.demo.html`` and
    ``<name>.demo/`` beside the video.

    ``demo.media`` holds the stills (JPEG) by key; ``clips`` maps each audio key to its WAV.
    ``inline_limit=None`` inlines whatever the size (one file, for stores that keep no folders)."""
    folder = work / "demo-media"
    if folder.exists():
        shutil.rmtree(folder)
    folder.mkdir(parents=True)
    stills = [k for k in demo.media]
    names: dict[str, Path] = {}
    if stills:
        for i, key in enumerate(stills, 1):
            (folder / f"in-{i:03d}.jpg").write_bytes(demo.media[key])
        await run_ffmpeg(build_webp_args(ffmpeg, pattern_in=folder / "in-%03d.jpg",
                                         pattern_out=folder / "step-%03d.webp", width=demo.width,
                                         height=demo.height), cancel=cancel)
        for i, key in enumerate(stills, 1):
            (folder / f"in-{i:03d}.jpg").unlink()
            names[key] = folder / f"step-{i:03d}.webp"
    used_audio = sorted({s.audio for s in demo.steps if s.audio is not None and s.audio in clips})
    if used_audio:
        pairs = [(clips[k], folder / f"voice-{i:02d}.mp3") for i, k in enumerate(used_audio, 1)]
        await run_ffmpeg(build_audio_args(ffmpeg, pairs), cancel=cancel)
        names.update({k: out for k, (_, out) in zip(used_audio, pairs, strict=True)})
    total = sum(p.stat().st_size for p in names.values())
    inline = inline_limit is None or total <= inline_limit
    uris: dict[str, str] = {}
    for key, path in names.items():
        if inline:
            uris[key] = f"data:{_MIME[path.suffix]};base64," + base64.b64encode(path.read_bytes()).decode("ascii")
        else:
            uris[key] = f"{name}.demo/{path.name}"
    page = work / "demo.html"
    page.write_text(demo_html(place_media(demo, uris)), encoding="utf-8")
    if inline:
        shutil.rmtree(folder)
        return page, None
    return page, folder
