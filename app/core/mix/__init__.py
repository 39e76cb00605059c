"""ffmpeg: argv builders (pure, unit-tested), a cancellable runner with progress, and a prober.

The builders return complete argv lists and run nothing, so tests can assert the exact flags.
:func:`run_ffmpeg` runs one in its own process group (no shell), reports progress from
``-progress pipe:1``, keeps the tail of stderr for the error message, honours a
:class:`~app.core.infra.progress.CancelToken` within a second, and renames a temp output into place only
when ffmpeg succeeded — so a failed or cancelled run never leaves a partial file.
"""

from __future__ import annotations

import json
import math
import os
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from ..errors import Cancelled, RenderError
from ..infra.proc import run_tool
from ..infra.progress import CancelToken
from ..infra.tools import ffmpeg_has_filter, find_ffmpeg, find_ffprobe
from .music import LoudnessMeasure, MusicBed, mix_graph, music_input_args

#: loudness target for narration: -16 LUFS integrated, -1.5 dBTP, the usual web/podcast level
LOUDNORM = "loudnorm=I=-16:TP=-1.5:LRA=11"
#: TTS speech is peak-normalised with a high crest factor: one-pass loudnorm alone then stops at
#: about -18 LUFS (its true-peak limit bites first).  A gentle compressor in front (no lookahead,
#: so no delay: onsets stay on their frame) brings measured output to about -16.5 LUFS.
SPEECH_COMPRESSOR = "acompressor=threshold=-26dB:ratio=3:attack=5:release=120:knee=4"
AUDIO_RATE = 48_000
AUDIO_BITRATE = "192k"
#: x264 for every video encode.  ``ultrafast`` would halve the capture encoder's CPU (issue 19: 1080p
#: renders 10 % faster) but makes the published video 2-2.7x larger (the example as make demo renders
#: it: 19.9 MB instead of 7.4 MB); at 720p the render does not get faster, so it is not used
#: (docs/performance.md, "Issue 19").
X264_PRESET = "veryfast"
X264_CRF = 20

# --------------------------------------------------------------------------- filtergraph escaping


def escape_filter_value(value: str) -> str:
    """Escape a string used as a filter option value inside a filtergraph.

    ffmpeg parses a graph twice: the option value (``\\``, ``'`` and ``:`` are special) and then
    the graph itself (``\\``, ``'``, ``[``, ``]``, ``,`` and ``;``).  Escape for both levels, in
    that order, so a path like ``/tmp/it's: a, b.srt`` reaches libass intact.
    """
    level1 = re.sub(r"([\\':])", r"\\\1", value)
    return re.sub(r"([\\'\[\],;])", r"\\\1", level1)


# --------------------------------------------------------------------------- subtitle style


#: DejaVu Sans, the burn-in font: average advance of a caption character (spaces included) per px of size
_CAPTION_CHAR_EM = 0.47
#: the caption block may use this share of the frame width (the rest is the safe margin)
_CAPTION_WIDTH = 0.86


def _portraitness(width: int, height: int) -> float:
    """0.0 for 16:9 (or wider), 1.0 for 9:16 (or taller), in between for 1:1, 4:5 ..."""
    aspect = width / height
    return max(0.0, min(1.0, (16 / 9 - aspect) / (16 / 9 - 9 / 16)))


def burn_line_length(width: int, height: int) -> int:
    """Characters per burned-in caption line: 42 on landscape, down to 26 on 9:16 portrait, so the
    text can be large on a narrow frame and still break on phrases into at most two lines."""
    return round(42 - (42 - 26) * _portraitness(width, height))


def subtitle_style(width: int, height: int) -> str:
    """A readable libass ``force_style`` for SRT burn-in at any aspect ratio.

    libass lays SRT out on a 288-line canvas scaled to the video height, so sizes are in 288-line
    units.  The font is 5.5 % of the frame height, but never so large that a full line of
    :func:`burn_line_length` characters overflows 86 % of the width: 40 px at 720p, about 80 px on a
    1080x1920 portrait frame (with shorter lines).  The bottom margin is the title-safe 6 % on
    landscape and grows to 14 % on portrait, above the controls that vertical players overlay.
    """
    font_px = min(0.055 * height, _CAPTION_WIDTH * width / (burn_line_length(width, height) * _CAPTION_CHAR_EM))
    font = max(8, round(font_px * 288 / height))
    margin_v = round(288 * (0.0625 + (0.14 - 0.0625) * _portraitness(width, height)))
    margin_h = round(384 * (1 - _CAPTION_WIDTH) / 2)  # SRT's canvas is 384 units wide
    return ",".join(
        [
            "FontName=DejaVu Sans",
            f"FontSize={font}",
            "PrimaryColour=&H00FFFFFF",
            "OutlineColour=&H00000000",
            "BackColour=&H40000000",  # 75 % opaque box: readable over any page
            "BorderStyle=4",  # an opaque box behind the text (libass); falls back to outline elsewhere
            "Outline=1",
            "Shadow=0",
            f"MarginV={margin_v}",
            f"MarginL={margin_h}",
            f"MarginR={margin_h}",
            "Alignment=2",
        ]
    )


# --------------------------------------------------------------------------- builders


def to_tv_range(width: int, height: int, *, zscale: bool) -> str:
    """The filter that turns the capture's full-range JPEG frames (BT.601, as JPEG is) into the
    TV-range yuv420p every player expects, at ``width`` x ``height``.

    zimg (``zscale``) does it for about a tenth of swscale's CPU (0.2 s against 2.2 s for the
    example's 1643 frames), so it is used where the ffmpeg build has it; the output is tagged
    BT.601, which players then decode with the right matrix."""
    if zscale:
        # zimg refuses 4:2:0 frames of odd size, which a fractional device scale gives (855x480 for
        # 854x480 at 2/3): drop the odd column or row first (free; a no-op on even frames)
        return ("crop=trunc(iw/2)*2:trunc(ih/2)*2:0:0,"
                f"zscale=w={width}:h={height}:f=bicubic:rangein=full:range=limited:matrixin=470bg:matrix=470bg,"
                "format=yuv420p")
    return f"scale={width}:{height}:flags=bicubic:out_range=tv,format=yuv420p"


def build_encode_args(ffmpeg: Path, *, fps: int, width: int, height: int, out: Path,
                      zscale: bool | None = None) -> list[str]:
    """The encoder the capture stage pipes its frames into (stdin) -> H.264 yuv420p MP4.

    The frames come as JPEG blocks in a Matroska stream, each at its frame's time, a repeated
    frame left out (:class:`app.core.capture.encoder.FfmpegSink`).  The ``fps`` filter, last in the
    chain, puts them back on the constant rate (frame *n* at n/fps, a repeat where a frame was left
    out), so the video's clock is the plan's clock; ``-fps_mode passthrough`` keeps ffmpeg's own
    rate logic (which drops and duplicates with a tolerance) out of it.  A keyframe every two
    seconds keeps seeking snappy.  ``zscale``: convert with zimg (None: where this ffmpeg has it).
    """
    if zscale is None:
        zscale = ffmpeg_has_filter(ffmpeg, "zscale")
    return [
        str(ffmpeg), "-hide_banner", "-nostats", "-loglevel", "error", "-y",
        "-f", "matroska", "-i", "-",
        "-an",
        "-vf", f"{to_tv_range(width, height, zscale=zscale)},fps={fps}", "-fps_mode", "passthrough",
        "-c:v", "libx264", "-preset", X264_PRESET, "-crf", str(X264_CRF), "-pix_fmt", "yuv420p",
        "-g", str(2 * fps), "-color_range", "tv",
        "-movflags", "+faststart", "-f", "mp4", str(out),
    ]


def _audio_graph(*, voice_in: str, music_in: str | None, duration_s: float, loudnorm: bool,
                 music: MusicBed | None, loudness: LoudnessMeasure | None, target_lufs: float) -> str:
    """The final audio's filter graph, ``[aout]``: the same for the mux and for the audio encoded
    while the video is captured (:func:`build_audio_args`), so both give the same samples."""
    if music is not None:
        assert music_in is not None
        return mix_graph(voice_in=voice_in, music_in=music_in, bed=music, duration_s=duration_s,
                         target_lufs=target_lufs, measured=loudness,
                         speech_chain=SPEECH_COMPRESSOR if loudnorm else "")
    chain = ["aresample=48000"]
    if loudnorm:
        # loudnorm works at 192 kHz internally; bring it back to 48 kHz
        chain += [SPEECH_COMPRESSOR, LOUDNORM, f"aresample={AUDIO_RATE}"]
    chain += ["aformat=sample_fmts=fltp:channel_layouts=stereo", f"apad=whole_dur={duration_s:.6f}"]
    return f"[{voice_in}]{','.join(chain)}[aout]"


def build_audio_args(
    ffmpeg: Path,
    *,
    narration: Path,
    out: Path,
    duration_s: float,
    loudnorm: bool = True,
    music: MusicBed | None = None,
    loudness: LoudnessMeasure | None = None,
    target_lufs: float = -16.0,
) -> list[str]:
    """The final audio track alone (AAC in MP4), encoded while the video is still being captured:
    :func:`build_mux_args` with ``audio_encoded=True`` then copies it.  Same graph, same length, so
    the samples are bit for bit those of the mux's own encode."""
    if duration_s <= 0 or not math.isfinite(duration_s):
        raise RenderError(f"the video must last a positive time (got {duration_s} s)")
    dur = f"{duration_s:.6f}"
    args = [str(ffmpeg), "-hide_banner", "-nostdin", "-nostats", "-loglevel", "error", "-y", "-i", str(narration)]
    if music is not None:
        args += music_input_args(music)
    graph = _audio_graph(voice_in="0:a", music_in="1:a" if music is not None else None, duration_s=duration_s,
                         loudnorm=loudnorm, music=music, loudness=loudness, target_lufs=target_lufs)
    args += ["-filter_complex", graph, "-map", "[aout]",
             "-c:a", "aac", "-b:a", AUDIO_BITRATE, "-ar", str(AUDIO_RATE), "-ac", "2",
             "-t", dur, "-f", "mp4", str(out)]
    return args


def build_mux_args(
    ffmpeg: Path,
    *,
    video: Path,
    narration: Path,
    out: Path,
    chapters: Path | None,
    duration_s: float,
    loudnorm: bool = True,
    burn_subtitles: Path | None = None,
    width: int = 1280,
    height: int = 720,
    fps: int = 30,
    title: str | None = None,
    music: MusicBed | None = None,
    loudness: LoudnessMeasure | None = None,
    target_lufs: float = -16.0,
    audio_encoded: bool = False,
) -> list[str]:
    """Mux the captured video with the narration track into the final MP4.

    - video: copied as is (``-c:v copy``) unless subtitles are burned in, then re-encoded with
      libx264 yuv420p through the ``subtitles`` filter;
    - narration: loudness-normalised, resampled to 48 kHz, padded with silence to exactly
      ``duration_s`` (``apad=whole_dur``; a bare ``apad`` never ends), AAC 192k stereo;
    - chapters: from an FFMETADATA file, via ``-map_metadata``/``-map_chapters``;
    - music: a looped, faded, ducked bed (see :mod:`app.core.mix.music`), summed with the narration and
      normalised with pass-two ``loudnorm`` values (``loudness``, measured on the same graph);
    - ``-t duration_s`` so both streams end together; ``+faststart`` puts ``moov`` first.

    With ``audio_encoded``, ``narration`` is already the final AAC track (music and all, encoded
    during the capture by :func:`build_audio_args`) and is copied.

    ``out`` should be a temp name in the destination folder (see :func:`run_ffmpeg`); the format
    is given explicitly so the temp name needs no ``.mp4`` suffix.
    """
    if duration_s <= 0 or not math.isfinite(duration_s):
        raise RenderError(f"the video must last a positive time (got {duration_s} s)")
    dur = f"{duration_s:.6f}"
    args = [str(ffmpeg), "-hide_banner", "-nostdin", "-nostats", "-loglevel", "error", "-y",
            "-i", str(video), "-i", str(narration)]
    if chapters is not None:
        args += ["-f", "ffmetadata", "-i", str(chapters)]
    video_graph = None
    if burn_subtitles is not None:
        style = subtitle_style(width, height)
        sub = (f"subtitles=filename={escape_filter_value(str(burn_subtitles))}"
               f":force_style={escape_filter_value(style)}")
        video_graph = f"[0:v]{sub},format=yuv420p[vout]"
    if audio_encoded:
        graph, audio_map, audio_codec = video_graph, "1:a:0", ["-c:a", "copy"]
    else:
        if music is not None:
            args += music_input_args(music)
        audio_graph = _audio_graph(voice_in="1:a", music_in=f"{3 if chapters is not None else 2}:a",
                                   duration_s=duration_s, loudnorm=loudnorm, music=music, loudness=loudness,
                                   target_lufs=target_lufs)
        graph = f"{video_graph};{audio_graph}" if video_graph else audio_graph
        audio_map = "[aout]"
        audio_codec = ["-c:a", "aac", "-b:a", AUDIO_BITRATE, "-ar", str(AUDIO_RATE), "-ac", "2"]
    if graph is not None:
        args += ["-filter_complex", graph]
    if video_graph is not None:
        args += ["-map", "[vout]", "-map", audio_map,
                 "-c:v", "libx264", "-preset", X264_PRESET, "-crf", str(X264_CRF), "-pix_fmt", "yuv420p",
                 "-g", str(2 * fps)]
    else:
        args += ["-map", "0:v:0", "-map", audio_map, "-c:v", "copy"]
    args += audio_codec
    if chapters is not None:
        args += ["-map_metadata", "2", "-map_chapters", "2"]
    else:
        args += ["-map_chapters", "-1"]
    if title:
        args += ["-metadata", f"title={title}"]
    args += ["-t", dur, "-movflags", "+faststart", "-f", "mp4", str(out)]
    return args


def temp_output(out: Path) -> Path:
    """A temp name next to ``out`` (same folder, so the final rename is atomic)."""
    return out.with_name(f".{out.stem}.{os.getpid()}.part{out.suffix}")


# --------------------------------------------------------------------------- running


_PROGRESS_RE = re.compile(r"^out_time_(?:us|ms)=(\d+)$")
_FFMPEG_HINT = "pip install imageio-ffmpeg"


async def run_ffmpeg(
    args: Sequence[str],
    *,
    cancel: CancelToken | None = None,
    on_progress: Callable[[float], None] | None = None,
    total_s: float | None = None,
    out_tmp: Path | None = None,
    out: Path | None = None,
) -> None:
    """Run ffmpeg (through :func:`~app.core.infra.proc.run_tool`) and wait for it.

    ``on_progress`` gets the fraction done (0..1) from ``-progress pipe:1``'s ``out_time_us``
    when ``total_s`` is known.  On success ``out_tmp`` is renamed to ``out``; on failure or
    cancel ``out_tmp`` is removed.  Raises :class:`RenderError` with the end of ffmpeg's stderr,
    or :class:`Cancelled` (the process group is stopped within about a second).
    """
    argv = [str(a) for a in args]
    if not argv:
        raise ValueError("run_ffmpeg needs an argv")
    # progress to stdout; a global option, so it may go right after the program name
    argv[1:1] = ["-progress", "pipe:1"]

    def progress_line(line: str) -> None:
        m = _PROGRESS_RE.match(line.strip())
        if m and on_progress is not None and total_s:
            # both keys carry microseconds (out_time_ms is misnamed in ffmpeg)
            on_progress(max(0.0, min(1.0, int(m.group(1)) / 1e6 / total_s)))

    try:
        run = await run_tool(argv, cancel=cancel, on_stdout_line=progress_line, missing_hint=_FFMPEG_HINT)
        if not run.ok:
            if cancel is not None and cancel.cancelled:
                raise Cancelled(cancel.reason)
            raise RenderError(f"ffmpeg failed (exit {run.returncode}):\n    {run.tail(30)}",
                              hint="run with --verbose to see the full command")
    except BaseException:
        if out_tmp is not None:
            out_tmp.unlink(missing_ok=True)
        raise
    if on_progress is not None:
        on_progress(1.0)
    if out_tmp is not None and out is not None:
        os.replace(out_tmp, out)


# --------------------------------------------------------------------------- probing


@dataclass(frozen=True)
class StreamInfo:
    index: int
    kind: str  # "video", "audio", "subtitle", "data"
    codec: str
    width: int | None = None
    height: int | None = None
    fps: float | None = None
    pix_fmt: str | None = None
    sample_rate: int | None = None
    channels: int | None = None
    duration_s: float | None = None
    frames: int | None = None


@dataclass(frozen=True)
class ChapterInfo:
    start_s: float
    end_s: float
    title: str


@dataclass(frozen=True)
class MediaInfo:
    duration_s: float
    streams: list[StreamInfo] = field(default_factory=list)
    chapters: list[ChapterInfo] = field(default_factory=list)
    format_name: str = ""
    tags: dict[str, str] = field(default_factory=dict)

    def first(self, kind: str) -> StreamInfo | None:
        return next((s for s in self.streams if s.kind == kind), None)

    @property
    def video(self) -> StreamInfo | None:
        return self.first("video")

    @property
    def audio(self) -> StreamInfo | None:
        return self.first("audio")


def _rate(text: str | None) -> float | None:
    if not text or text in ("0/0", "N/A"):
        return None
    if "/" in text:
        num, den = text.split("/", 1)
        return float(num) / float(den) if float(den) else None
    return float(text)


def _float(text: object) -> float | None:
    try:
        return float(str(text))
    except ValueError:
        return None


def parse_ffprobe_json(doc: dict[str, object]) -> MediaInfo:
    fmt = doc.get("format") or {}
    assert isinstance(fmt, dict)
    streams: list[StreamInfo] = []
    for s in doc.get("streams") or []:  # type: ignore[attr-defined]
        frames = s.get("nb_frames")
        streams.append(StreamInfo(
            index=int(s.get("index", len(streams))),
            kind=str(s.get("codec_type", "")),
            codec=str(s.get("codec_name", "")),
            width=s.get("width"), height=s.get("height"),
            fps=_rate(s.get("avg_frame_rate")) if s.get("codec_type") == "video" else None,
            pix_fmt=s.get("pix_fmt"),
            sample_rate=int(s["sample_rate"]) if s.get("sample_rate") else None,
            channels=s.get("channels"),
            duration_s=_float(s.get("duration")),
            frames=int(frames) if frames and str(frames).isdigit() else None,
        ))
    chapters = [
        ChapterInfo(float(c["start_time"]), float(c["end_time"]), str((c.get("tags") or {}).get("title", "")))
        for c in doc.get("chapters") or []  # type: ignore[attr-defined]
    ]
    return MediaInfo(
        duration_s=_float(fmt.get("duration")) or 0.0,
        streams=streams,
        chapters=chapters,
        format_name=str(fmt.get("format_name", "")),
        tags={str(k): str(v) for k, v in (fmt.get("tags") or {}).items()},
    )


_DURATION_RE = re.compile(r"Duration: (\d+):(\d+):(\d+(?:\.\d+)?)")
_STREAM_RE = re.compile(r"^\s*Stream #\d+:(\d+)(?:\[\w+\])?(?:\(\w+\))?: (\w+): (\w+)(.*)$")
_CHAPTER_RE = re.compile(r"^\s*Chapter #\d+:\d+: start (-?[\d.]+), end (-?[\d.]+)")
_TITLE_RE = re.compile(r"^\s*title\s*: (.*)$")


def parse_ffmpeg_banner(stderr: str) -> MediaInfo:
    """The same information from ``ffmpeg -i FILE``'s stderr (for when there is no ffprobe)."""
    duration = 0.0
    m = _DURATION_RE.search(stderr)
    if m:
        duration = int(m.group(1)) * 3600 + int(m.group(2)) * 60 + float(m.group(3))
    streams: list[StreamInfo] = []
    chapters: list[ChapterInfo] = []
    chapter: tuple[float, float] | None = None
    in_chapters = False
    for line in stderr.splitlines():
        if line.strip().startswith("Chapters:"):
            in_chapters = True
            continue
        cm = _CHAPTER_RE.match(line)
        if cm:
            if chapter is not None:
                chapters.append(ChapterInfo(chapter[0], chapter[1], ""))
            chapter = (float(cm.group(1)), float(cm.group(2)))
            continue
        tm = _TITLE_RE.match(line)
        if tm and in_chapters and chapter is not None:
            chapters.append(ChapterInfo(chapter[0], chapter[1], tm.group(1).strip()))
            chapter = None
            continue
        sm = _STREAM_RE.match(line)
        if sm:
            in_chapters = False
            if chapter is not None:
                chapters.append(ChapterInfo(chapter[0], chapter[1], ""))
                chapter = None
            idx, kind, codec, rest = int(sm.group(1)), sm.group(2).lower(), sm.group(3), sm.group(4)
            size = re.search(r"\b(\d{2,5})x(\d{2,5})\b", rest)
            fps = re.search(r"([\d.]+) fps", rest)
            pix = re.search(r"^\s*(?:\([^)]*\)\s*)*(?:\([^)]*\))?,\s*(\w+)", rest)
            rate = re.search(r"(\d+) Hz", rest)
            channels = None
            if kind == "audio":
                channels = 2 if ", stereo" in rest else 1 if ", mono" in rest else None
            streams.append(StreamInfo(
                index=idx, kind=kind, codec=codec,
                width=int(size.group(1)) if size else None, height=int(size.group(2)) if size else None,
                fps=float(fps.group(1)) if fps else None,
                pix_fmt=pix.group(1) if pix and kind == "video" else None,
                sample_rate=int(rate.group(1)) if rate else None, channels=channels,
            ))
    if chapter is not None:
        chapters.append(ChapterInfo(chapter[0], chapter[1], ""))
    return MediaInfo(duration_s=duration, streams=streams, chapters=chapters)


async def probe(path: Path) -> MediaInfo:
    """Duration, streams and chapters of a media file (ffprobe if installed, else ``ffmpeg -i``)."""
    if not Path(path).is_file():
        raise RenderError(f"cannot probe {path}: no such file")
    ffprobe = find_ffprobe()
    if ffprobe is not None:
        run = await run_tool([ffprobe, "-v", "error", "-print_format", "json", "-show_format", "-show_streams",
                              "-show_chapters", path], collect_stdout=True)
        if not run.ok:
            raise RenderError(f"ffprobe cannot read {path}: {run.tail(3)}")
        return parse_ffprobe_json(json.loads(run.stdout))
    run = await run_tool([find_ffmpeg(), "-hide_banner", "-nostdin", "-i", path], collect_stderr=True,
                         missing_hint=_FFMPEG_HINT)
    if "Duration:" not in run.stderr:
        last = run.stderr_tail[-1] if run.stderr_tail else "no output"
        raise RenderError(f"ffmpeg cannot read {path}: {last}")
    return parse_ffmpeg_banner(run.stderr)


def mp4_top_level_atoms(path: Path) -> list[str]:
    """The names of an MP4's top-level boxes in file order (``moov`` before ``mdat`` = faststart)."""
    names: list[str] = []
    with open(path, "rb") as f:
        size_total = os.fstat(f.fileno()).st_size
        pos = 0
        while pos + 8 <= size_total:
            f.seek(pos)
            header = f.read(16)
            size = int.from_bytes(header[:4], "big")
            names.append(header[4:8].decode("latin-1"))
            if size == 1:
                size = int.from_bytes(header[8:16], "big")
            elif size == 0:
                break
            if size < 8:
                break
            pos += size
    return names
