"""ffmpeg argv builders and output parsers (pure: nothing is run)."""

from __future__ import annotations

from pathlib import Path

import pytest

from app.core.errors import RenderError
from app.core.mix import (
    build_encode_args,
    build_mux_args,
    escape_filter_value,
    parse_ffmpeg_banner,
    parse_ffprobe_json,
    subtitle_style,
    temp_output,
)

FF = Path("/opt/ffmpeg")


def _after(args: list[str], flag: str) -> str:
    return args[args.index(flag) + 1]


def test_encode_args_exact() -> None:
    # /opt/ffmpeg does not exist here: probing it for zscale says no, so swscale converts
    args = build_encode_args(FF, fps=30, width=1280, height=720, out=Path("/o/v.mp4.part"))
    assert args == [
        "/opt/ffmpeg",
        "-hide_banner",
        "-nostats",
        "-loglevel",
        "error",
        "-y",
        "-f",
        "matroska",
        "-i",
        "-",
        "-an",
        "-vf",
        "scale=1280:720:flags=bicubic:out_range=tv,format=yuv420p,fps=30",
        "-fps_mode",
        "passthrough",
        "-c:v",
        "libx264",
        "-preset",
        "veryfast",
        "-crf",
        "20",
        "-pix_fmt",
        "yuv420p",
        "-g",
        "60",
        "-color_range",
        "tv",
        "-movflags",
        "+faststart",
        "-f",
        "mp4",
        "/o/v.mp4.part",
    ]
    # -r pads the end and ffmpeg's own rate logic drops or repeats frames with a tolerance: the
    # constant rate comes from the fps filter alone, at the end of the chain
    assert "-r" not in args


def test_encode_args_convert_with_zimg_where_ffmpeg_has_it() -> None:
    args = build_encode_args(FF, fps=30, width=1920, height=1080, out=Path("v.mp4"), zscale=True)
    assert _after(args, "-vf") == (
        "crop=trunc(iw/2)*2:trunc(ih/2)*2:0:0,"
        "zscale=w=1920:h=1080:f=bicubic:rangein=full:range=limited:matrixin=470bg:matrix=470bg,format=yuv420p,"
        "fps=30"
    )


def test_mux_args_copy_video_normalise_audio_and_chapters() -> None:
    args = build_mux_args(
        FF,
        video=Path("v.mp4"),
        narration=Path("n.wav"),
        out=Path("o.part"),
        chapters=Path("ch.txt"),
        duration_s=12.5,
        title="Demo",
    )
    assert args[:7] == ["/opt/ffmpeg", "-hide_banner", "-nostdin", "-nostats", "-loglevel", "error", "-y"]
    assert args[7:15] == ["-i", "v.mp4", "-i", "n.wav", "-f", "ffmetadata", "-i", "ch.txt"]
    assert _after(args, "-filter_complex") == (
        "[1:a]aresample=48000,acompressor=threshold=-26dB:ratio=3:attack=5:release=120:knee=4,"
        "loudnorm=I=-16:TP=-1.5:LRA=11,aresample=48000,"
        "aformat=sample_fmts=fltp:channel_layouts=stereo,apad=whole_dur=12.500000[aout]"
    )
    assert args[args.index("-map") : args.index("-map") + 4] == ["-map", "0:v:0", "-map", "[aout]"]
    assert _after(args, "-c:v") == "copy"
    assert [_after(args, f) for f in ("-c:a", "-b:a", "-ar", "-ac")] == ["aac", "192k", "48000", "2"]
    assert _after(args, "-map_metadata") == "2" and _after(args, "-map_chapters") == "2"
    assert _after(args, "-metadata") == "title=Demo"
    assert args[-7:] == ["-t", "12.500000", "-movflags", "+faststart", "-f", "mp4", "o.part"]
    assert "libx264" not in args and "-shortest" not in args


def test_mux_args_without_chapters_or_loudnorm() -> None:
    args = build_mux_args(
        FF,
        video=Path("v.mp4"),
        narration=Path("n.wav"),
        out=Path("o.mp4"),
        chapters=None,
        duration_s=3,
        loudnorm=False,
    )
    assert "ffmetadata" not in args and "-map_metadata" not in args
    assert _after(args, "-map_chapters") == "-1"
    graph = _after(args, "-filter_complex")
    assert "loudnorm" not in graph and "acompressor" not in graph and "apad=whole_dur=3.000000" in graph
    with pytest.raises(RenderError):
        build_mux_args(FF, video=Path("v"), narration=Path("n"), out=Path("o"), chapters=None, duration_s=0)


def test_mux_args_burn_in_reencodes_with_escaped_subtitles() -> None:
    srt = Path("/tmp/it's: a, [b].srt")
    args = build_mux_args(
        FF,
        video=Path("v.mp4"),
        narration=Path("n.wav"),
        out=Path("o.mp4"),
        chapters=None,
        duration_s=3,
        burn_subtitles=srt,
        width=1280,
        height=720,
        fps=25,
    )
    graph = _after(args, "-filter_complex")
    assert graph.startswith("[0:v]subtitles=filename=/tmp/it\\\\\\'s\\\\: a\\, \\[b\\].srt:force_style=")
    assert "FontSize=16" in graph and "[vout];[1:a]" in graph
    assert args[args.index("-map") : args.index("-map") + 4] == ["-map", "[vout]", "-map", "[aout]"]
    assert [_after(args, f) for f in ("-c:v", "-preset", "-crf", "-pix_fmt", "-g")] == [
        "libx264",
        "veryfast",
        "20",
        "yuv420p",
        "50",
    ]


def test_escape_filter_value_two_levels() -> None:
    assert escape_filter_value("plain.srt") == "plain.srt"
    assert escape_filter_value("a:b") == "a\\\\:b"  # level 1 '\:', then level 2 doubles the '\'
    assert escape_filter_value("a,b;c") == "a\\,b\\;c"
    assert escape_filter_value("it's") == "it\\\\\\'s"
    assert escape_filter_value("c:\\x") == "c\\\\:\\\\\\\\x"


def test_subtitle_style_scales_for_portrait() -> None:
    land = subtitle_style(1280, 720)
    port = subtitle_style(1080, 1920)
    assert "FontSize=16" in land and "MarginV=18" in land
    # portrait: as large as a line of burn_line_length() characters allows (about 73 px of 1920), and
    # lifted above the controls vertical players overlay (the burn-in layout is tested on real frames
    # in tests/integration/test_polish_structure_captions.py)
    assert "FontSize=11" in port and "MarginV=40" in port
    assert "Alignment=2" in port


def test_temp_output_is_a_hidden_sibling() -> None:
    t = temp_output(Path("/videos/demo.mp4"))
    assert t.parent == Path("/videos") and t.name.startswith(".demo.") and t.suffix == ".mp4"


FFPROBE_DOC = {
    "streams": [
        {
            "index": 0,
            "codec_type": "video",
            "codec_name": "h264",
            "width": 1280,
            "height": 720,
            "avg_frame_rate": "30/1",
            "pix_fmt": "yuv420p",
            "duration": "3.000000",
            "nb_frames": "90",
        },
        {
            "index": 1,
            "codec_type": "audio",
            "codec_name": "aac",
            "sample_rate": "48000",
            "channels": 2,
            "duration": "3.000000",
        },
    ],
    "chapters": [{"start_time": "0.000000", "end_time": "1.500000", "tags": {"title": "One"}}],
    "format": {"duration": "3.000000", "format_name": "mov,mp4", "tags": {"title": "T"}},
}

BANNER = """Input #0, mov,mp4,m4a,3gp,3g2,mj2, from 'o.mp4':
  Metadata:
    major_brand     : isom
  Duration: 00:00:03.00, start: 0.000000, bitrate: 120 kb/s
  Chapters:
    Chapter #0:0: start 0.000000, end 1.500000
      Metadata:
        title           : One
    Chapter #0:1: start 1.500000, end 3.000000
      Metadata:
        title           : Two, with = sign
  Stream #0:0[0x1](und): Video: h264 (High) (avc1 / 0x31637661), yuv420p(progressive), 320x240 \
[SAR 1:1 DAR 4:3], 40 kb/s, 30 fps, 30 tbr, 15360 tbn (default)
  Stream #0:1[0x2](und): Audio: aac (LC) (mp4a / 0x6134706D), 48000 Hz, stereo, fltp, 75 kb/s (default)
"""


def test_parse_ffprobe_json() -> None:
    info = parse_ffprobe_json(FFPROBE_DOC)
    assert info.duration_s == 3.0 and info.tags == {"title": "T"}
    assert info.video is not None and (info.video.codec, info.video.fps, info.video.frames) == (
        "h264",
        30.0,
        90,
    )
    assert info.audio is not None and (info.audio.sample_rate, info.audio.channels) == (48000, 2)
    assert [(c.start_s, c.end_s, c.title) for c in info.chapters] == [(0.0, 1.5, "One")]


def test_parse_ffmpeg_banner() -> None:
    info = parse_ffmpeg_banner(BANNER.replace("\\\n", ""))
    assert info.duration_s == 3.0
    v, a = info.video, info.audio
    assert v is not None and (v.codec, v.width, v.height, v.fps, v.pix_fmt) == (
        "h264",
        320,
        240,
        30.0,
        "yuv420p",
    )
    assert a is not None and (a.codec, a.sample_rate, a.channels) == ("aac", 48000, 2)
    assert [(c.start_s, c.end_s, c.title) for c in info.chapters] == [
        (0.0, 1.5, "One"),
        (1.5, 3.0, "Two, with = sign"),
    ]



def test_audio_args_use_the_mux_graph_and_the_planned_length() -> None:
    from app.core.mix import build_audio_args

    args = build_audio_args(FF, narration=Path("/w/n.wav"), out=Path("/w/audio.m4a"), duration_s=54.1666666)
    mux = build_mux_args(FF, video=Path("/w/v.mp4"), narration=Path("/w/n.wav"), out=Path("/w/o.mp4"),
                         chapters=None, duration_s=54.1666666)
    # the same filters, in the same order, as the encode-at-mux path (only the input label differs)
    assert _after(mux, "-filter_complex") == _after(args, "-filter_complex").replace("[0:a]", "[1:a]", 1)
    assert _after(args, "-c:a") == "aac" and _after(args, "-t") == "54.166667"
    assert args[-3:] == ["-f", "mp4", "/w/audio.m4a"]
    with pytest.raises(RenderError):
        build_audio_args(FF, narration=Path("/w/n.wav"), out=Path("/w/a.m4a"), duration_s=0)


def test_mux_args_copy_an_encoded_audio_track() -> None:
    args = build_mux_args(FF, video=Path("/w/v.mp4"), narration=Path("/w/a.m4a"), out=Path("/w/o.mp4"),
                          chapters=Path("/w/ch.txt"), duration_s=3.0, audio_encoded=True)
    assert "-filter_complex" not in args
    assert args.count("copy") == 2 and _after(args, "-c:a") == "copy" and "1:a:0" in args
    assert _after(args, "-map_chapters") == "2"
    burn = build_mux_args(FF, video=Path("/w/v.mp4"), narration=Path("/w/a.m4a"), out=Path("/w/o.mp4"),
                          chapters=None, duration_s=3.0, audio_encoded=True, burn_subtitles=Path("/w/s.srt"))
    assert _after(burn, "-c:v") == "libx264" and _after(burn, "-c:a") == "copy"
    assert _after(burn, "-filter_complex").startswith("[0:v]subtitles=")
