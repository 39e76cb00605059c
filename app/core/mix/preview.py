"""A poster (PNG of a chosen card) and an animated preview (GIF or WebP of the first seconds).

Argv builders are pure; :func:`make_poster` / :func:`make_preview` run them through
:func:`app.core.mix.run_ffmpeg` into a temp name that is renamed only when ffmpeg succeeded.
"""

from __future__ import annotations

from pathlib import Path
from typing import Literal

from ..errors import RenderError
from ..infra.progress import CancelToken
from ..plan.timeline import Timeline
from ..script import Settings
from . import run_ffmpeg

__all__ = ["PREVIEW_FPS", "PREVIEW_SIZE", "THUMBNAIL_WIDTH", "build_poster_args", "build_preview_args",
           "build_thumbnail_args", "make_poster", "make_preview", "make_thumbnail", "poster_card_index",
           "poster_time"]

#: the long side of the preview, in pixels: small enough for a README or a chat message
PREVIEW_SIZE = 480
PREVIEW_FPS = 12
#: a storyboard thumbnail's width in pixels (the app's card list draws it at about half that)
THUMBNAIL_WIDTH = 240


def poster_card_index(timeline: Timeline, settings: Settings, content_indexes: list[int]) -> int:
    """The card the poster shows: ``settings.poster_card`` if set, else the first content card
    (not an intro/outro), else the first card."""
    if settings.poster_card is not None:
        for ct in timeline.cards:
            if ct.card_id == settings.poster_card:
                return ct.index
        raise RenderError(f"poster_card '{settings.poster_card}' is not a card of this script")
    return content_indexes[0] if content_indexes else 0


def poster_time(timeline: Timeline, settings: Settings, index: int) -> float:
    """When the card looks most like itself: its last frame before the gap to the next card (its
    actions have run by then).  Never before the card starts."""
    ct = timeline.cards[index]
    is_last = index == len(timeline.cards) - 1
    gap = 0.0 if is_last else settings.gap_ms / 1000
    t = ct.end_s - gap - 2 / timeline.fps
    return max(ct.start_s, min(t, timeline.duration_s - 1 / timeline.fps))


def build_poster_args(ffmpeg: Path, *, video: Path, at_s: float, out: Path) -> list[str]:
    """One frame at ``at_s`` as PNG (accurate seek: ``-ss`` after ``-i`` decodes up to the frame)."""
    return [str(ffmpeg), "-hide_banner", "-nostdin", "-nostats", "-loglevel", "error", "-y",
            "-i", str(video), "-ss", f"{max(0.0, at_s):.6f}", "-frames:v", "1", "-update", "1",
            "-c:v", "png", "-f", "image2", str(out)]


def _scale(width: int, height: int, size: int) -> str:
    return f"scale={size}:-2:flags=lanczos" if width >= height else f"scale=-2:{size}:flags=lanczos"


def build_preview_args(ffmpeg: Path, *, video: Path, out: Path, kind: Literal["gif", "webp"], seconds: float,
                       width: int, height: int, size: int = PREVIEW_SIZE, fps: int = PREVIEW_FPS) -> list[str]:
    """The first ``seconds`` of ``video`` as a looping animation, long side ``size`` px.

    GIF: a palette computed from these frames (``palettegen``/``paletteuse`` with ordered dither and
    rectangle diffs, so static parts cost nothing).  WebP: lossy animated WebP, much smaller.
    """
    if seconds <= 0:
        raise RenderError("a preview needs a positive length")
    head = [str(ffmpeg), "-hide_banner", "-nostdin", "-nostats", "-loglevel", "error", "-y",
            "-t", f"{seconds:.3f}", "-i", str(video), "-an"]
    base = f"fps={fps},{_scale(width, height, size)}"
    if kind == "gif":
        graph = (f"[0:v]{base},split[a][b];[a]palettegen=max_colors=256:stats_mode=diff[p];"
                 "[b][p]paletteuse=dither=bayer:bayer_scale=3:diff_mode=rectangle[out]")
        return [*head, "-filter_complex", graph, "-map", "[out]", "-loop", "0", "-f", "gif", str(out)]
    return [*head, "-vf", base, "-c:v", "libwebp_anim", "-lossless", "0", "-q:v", "70",
            "-compression_level", "4", "-loop", "0", "-f", "webp", str(out)]


async def make_poster(ffmpeg: Path, video: Path, at_s: float, out: Path,
                      cancel: CancelToken | None = None) -> Path:
    tmp = out.with_name(f".{out.name}.part")
    await run_ffmpeg(build_poster_args(ffmpeg, video=video, at_s=at_s, out=tmp), cancel=cancel,
                     out_tmp=tmp, out=out)
    return out


async def make_preview(ffmpeg: Path, video: Path, out: Path, *, kind: Literal["gif", "webp"], seconds: float,
                       width: int, height: int, cancel: CancelToken | None = None) -> Path:
    tmp = out.with_name(f".{out.name}.part")
    await run_ffmpeg(build_preview_args(ffmpeg, video=video, out=tmp, kind=kind, seconds=seconds, width=width,
                                        height=height), cancel=cancel, out_tmp=tmp, out=out)
    return out


def build_thumbnail_args(ffmpeg: Path, *, src: Path, out: Path, at_s: float | None = None,
                         width: int = THUMBNAIL_WIDTH) -> list[str]:
    """A small JPEG, ``width`` px wide, of the frame at ``at_s`` of a video, or of a still image when
    ``at_s`` is None.  The seek is on the input: ffmpeg jumps to the keyframe before ``at_s`` and
    decodes from there (still the exact frame), instead of decoding the video from its start."""
    seek = ["-ss", f"{max(0.0, at_s):.6f}"] if at_s is not None else []
    return [str(ffmpeg), "-hide_banner", "-nostdin", "-nostats", "-loglevel", "error", "-y",
            *seek, "-i", str(src), "-frames:v", "1", "-update", "1",
            "-vf", f"scale={width}:-2:flags=lanczos", "-q:v", "4", "-f", "image2", "-c:v", "mjpeg", str(out)]


async def make_thumbnail(ffmpeg: Path, src: Path, out: Path, *, at_s: float | None = None,
                         cancel: CancelToken | None = None) -> Path:
    """:func:`build_thumbnail_args` run into ``out`` whole or not at all."""
    tmp = out.with_name(f".{out.name}.part")
    await run_ffmpeg(build_thumbnail_args(ffmpeg, src=src, out=tmp, at_s=at_s), cancel=cancel, out_tmp=tmp, out=out)
    return out
