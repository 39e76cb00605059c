"""Real ffmpeg (the bundled static build): encode, mux, burn-in, probe, failure and cancel."""

from __future__ import annotations

import asyncio
import io
import os
import re
import subprocess
import time
from pathlib import Path

import numpy as np
import pytest

from app.core import mix
from app.core.capture.encoder import FfmpegSink, jpeg_size, matroska_mjpeg
from app.core.errors import Cancelled, RenderError
from app.core.infra.progress import CancelToken
from app.core.infra.tools import find_ffmpeg
from app.core.mix import (
    build_encode_args,
    build_mux_args,
    mp4_top_level_atoms,
    probe,
    run_ffmpeg,
    temp_output,
)
from app.core.mix.audio import build_narration_track, write_wav_atomic
from app.core.mix.captions import CaptionCard, build_cues, write_ffmetadata_chapters, write_srt
from app.core.voice import VoiceClip

pytestmark = pytest.mark.slow

FPS = 30
W, H = 320, 240

CHAPTER_TITLES = ["Intro=start; #1 \\ ok", "Second card"]


@pytest.fixture(scope="module")
def media(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    d = tmp_path_factory.mktemp("mix")
    ff = str(find_ffmpeg())
    video = d / "video.mp4"
    subprocess.run(
        [
            ff,
            "-loglevel",
            "error",
            "-y",
            "-f",
            "lavfi",
            "-i",
            f"testsrc=size={W}x{H}:rate={FPS}",
            "-t",
            "3",
            "-c:v",
            "libx264",
            "-preset",
            "ultrafast",
            "-pix_fmt",
            "yuv420p",
            str(video),
        ],
        check=True,
        timeout=60,
    )
    t = np.arange(24_000) / 48_000
    write_wav_atomic(d / "clip.wav", (np.sin(2 * np.pi * 300 * t) * 8000).astype(np.int16))
    clip = VoiceClip(d / "clip.wav", 0.5, {}, "tone", "tone")
    narration = build_narration_track([(1.0, clip), (2.0, clip)], 3.0, d / "narration.wav")
    chapters = write_ffmetadata_chapters(
        [(0.0, 1.5, CHAPTER_TITLES[0]), (1.5, 3.0, CHAPTER_TITLES[1])], d / "chapters.txt", title="Mix test"
    )
    return {"dir": d, "video": video, "narration": narration, "chapters": chapters}


def _silences(path: Path) -> list[tuple[str, float]]:
    out = subprocess.run(
        [
            str(find_ffmpeg()),
            "-hide_banner",
            "-nostdin",
            "-i",
            str(path),
            "-af",
            "silencedetect=n=-40dB:d=0.1",
            "-f",
            "null",
            "-",
        ],
        capture_output=True,
        text=True,
        check=True,
        timeout=60,
    ).stderr
    return [(m.group(1), float(m.group(2))) for m in re.finditer(r"silence_(start|end): ([\d.]+)", out)]


def _gray_frame(path: Path, at_s: float) -> np.ndarray:
    raw = subprocess.run(
        [
            str(find_ffmpeg()),
            "-loglevel",
            "error",
            "-ss",
            f"{at_s}",
            "-i",
            str(path),
            "-frames:v",
            "1",
            "-f",
            "rawvideo",
            "-pix_fmt",
            "gray",
            "-",
        ],
        capture_output=True,
        check=True,
        timeout=60,
    ).stdout
    return np.frombuffer(raw, dtype=np.uint8).reshape(H, W)


def test_mux_video_narration_chapters(media: dict[str, Path]) -> None:
    out = media["dir"] / "final.mp4"
    tmp = temp_output(out)
    args = build_mux_args(
        find_ffmpeg(),
        video=media["video"],
        narration=media["narration"],
        out=tmp,
        chapters=media["chapters"],
        duration_s=3.0,
        width=W,
        height=H,
        fps=FPS,
    )
    fractions: list[float] = []
    t0 = time.monotonic()
    asyncio.run(run_ffmpeg(args, on_progress=fractions.append, total_s=3.0, out_tmp=tmp, out=out))
    print(f"mux 3 s (copy video, loudnorm audio): {time.monotonic() - t0:.2f} s")
    assert out.is_file() and not tmp.exists() and fractions[-1] == 1.0

    info = asyncio.run(probe(out))
    v, a = info.video, info.audio
    assert v is not None and (v.codec, v.pix_fmt, v.width, v.height, v.fps) == ("h264", "yuv420p", W, H, 30.0)
    assert a is not None and (a.codec, a.sample_rate, a.channels) == ("aac", 48_000, 2)
    assert abs(info.duration_s - 3.0) <= 1 / FPS
    assert a.duration_s is not None and abs(a.duration_s - 3.0) <= 1 / FPS
    assert [(c.start_s, c.end_s, c.title) for c in info.chapters] == [
        (0.0, 1.5, CHAPTER_TITLES[0]),
        (1.5, 3.0, CHAPTER_TITLES[1]),
    ]
    assert info.tags.get("title") == "Mix test"
    atoms = mp4_top_level_atoms(out)
    assert atoms.index("moov") < atoms.index("mdat")  # +faststart

    # narration onsets survive loudnorm and AAC to within a frame
    events = _silences(out)
    ends = [t for kind, t in events if kind == "end" and t < 2.95]
    assert len(ends) == 2 and abs(ends[0] - 1.0) <= 1 / FPS and abs(ends[1] - 2.0) <= 1 / FPS

    # the fallback prober (no ffprobe: parse ffmpeg's banner) agrees
    mp = pytest.MonkeyPatch()
    mp.setattr(mix, "find_ffprobe", lambda: None)
    try:
        info2 = asyncio.run(probe(out))
    finally:
        mp.undo()
    assert info2.video is not None and (info2.video.codec, info2.video.pix_fmt) == ("h264", "yuv420p")
    assert info2.audio is not None and info2.audio.sample_rate == 48_000
    assert abs(info2.duration_s - info.duration_s) < 0.02
    assert [c.title for c in info2.chapters] == CHAPTER_TITLES


def test_burn_in_subtitles_from_an_awkward_path(media: dict[str, Path]) -> None:
    cues = build_cues([CaptionCard("a", "A", 0.5, 2.0, "Captions are burned in")])
    srt = write_srt(cues, media["dir"] / "it's: a, [b].srt")
    out = media["dir"] / "burned.mp4"
    args = build_mux_args(
        find_ffmpeg(),
        video=media["video"],
        narration=media["narration"],
        out=out,
        chapters=None,
        duration_s=3.0,
        burn_subtitles=srt,
        width=W,
        height=H,
        fps=FPS,
    )
    asyncio.run(run_ffmpeg(args))
    info = asyncio.run(probe(out))
    assert info.video is not None and info.video.pix_fmt == "yuv420p" and info.video.frames == 90
    before, after = _gray_frame(media["video"], 1.0), _gray_frame(out, 1.0)
    band = slice(int(H * 0.75), H)
    # the caption changes the bottom band and nothing near the top
    assert np.abs(after[band].astype(int) - before[band]).mean() > 5
    assert np.abs(after[: H // 3].astype(int) - before[: H // 3]).mean() < 3
    late_diff = np.abs(_gray_frame(out, 2.8)[band].astype(int) - _gray_frame(media["video"], 2.8)[band])
    assert late_diff.mean() < 3  # the cue ended at 2.5 s


def _testsrc_jpegs(ff: Path, frames: int, size: str = f"{W}x{H}") -> list[bytes]:
    """``frames`` distinct JPEG frames of ffmpeg's test pattern, one bytes object each."""
    stream = subprocess.run(
        [str(ff), "-loglevel", "error", "-f", "lavfi", "-i", f"testsrc=size={size}:rate=30",
         "-frames:v", str(frames), "-f", "image2pipe", "-c:v", "mjpeg", "-q:v", "3", "-"],
        capture_output=True, check=True, timeout=60).stdout
    parts = stream.split(b"\xff\xd9\xff\xd8")
    jpegs = [p + b"\xff\xd9" if i == 0 else b"\xff\xd8" + p + (b"" if i == len(parts) - 1 else b"\xff\xd9")
             for i, p in enumerate(parts)]
    assert len(jpegs) == frames and all(jpeg_size(j) == tuple(map(int, size.split("x"))) for j in jpegs)
    return jpegs


def _decoded_md5s(ff: Path, video: Path) -> list[str]:
    lines = subprocess.run([str(ff), "-v", "error", "-i", str(video), "-map", "0:v", "-f", "framemd5", "-"],
                           capture_output=True, text=True, check=True, timeout=60).stdout.splitlines()
    return [line.rsplit(",", 1)[1].strip() for line in lines if not line.startswith("#")]


def test_encoder_turns_piped_jpegs_into_constant_rate_h264(tmp_path: Path) -> None:
    ff = find_ffmpeg()
    out = tmp_path / "enc.mp4"
    subprocess.run(build_encode_args(ff, fps=30, width=W, height=H, out=out),
                   input=matroska_mjpeg(_testsrc_jpegs(ff, 45), 30), check=True, timeout=60)
    info = asyncio.run(probe(out))
    assert info.video is not None
    assert (info.video.codec, info.video.pix_fmt, info.video.fps, info.video.frames) == (
        "h264",
        "yuv420p",
        30.0,
        45,
    )
    assert abs(info.duration_s - 1.5) < 1e-3
    atoms = mp4_top_level_atoms(out)
    assert atoms.index("moov") < atoms.index("mdat")


@pytest.mark.parametrize("fps", [24, 30, 60])
@pytest.mark.parametrize("tail", ["ends-on-a-repeat", "ends-on-a-new-frame"])
def test_repeated_frames_are_piped_once_and_the_video_is_the_same(tmp_path: Path, fps: int, tail: str) -> None:
    """A page at rest repeats its frame: the sink pipes it once, and the fps filter repeats it.  The
    H.264 stream must be bit for bit the one made by piping every frame (the way before), at every
    frame rate (frame times in the stream are rounded to the microsecond), repeats at the end included."""
    ff = find_ffmpeg()
    distinct = _testsrc_jpegs(ff, 8)
    runs = [1, 5, 1, 1, 17, 2, 1, 9] if tail == "ends-on-a-repeat" else [3, 1, 12, 1, 1, 4, 7, 1]
    frames = [jpeg for jpeg, n in zip(distinct, runs, strict=True) for _ in range(n)]

    async def through_the_sink(out: Path) -> FfmpegSink:
        sink = FfmpegSink(build_encode_args(ff, fps=fps, width=W, height=H, out=out), fps=fps)
        await sink.start()
        for jpeg in frames:
            await sink.write(jpeg)
        await sink.finish()
        return sink

    new = tmp_path / "new.mp4"
    sink = asyncio.run(through_the_sink(new))
    assert sink.frames == len(frames)
    assert sink.piped == len(runs) + (1 if tail == "ends-on-a-repeat" else 0)  # the last repeat closes the video

    # the way before: every frame piped as a JPEG, timed by -framerate
    old = tmp_path / "old.mp4"
    args = build_encode_args(ff, fps=fps, width=W, height=H, out=old)
    i = args.index("matroska")
    args[i - 1:i + 3] = ["-f", "image2pipe", "-c:v", "mjpeg", "-framerate", str(fps), "-i", "-"]
    vf = args.index("-vf") + 1
    args[vf] = args[vf].removesuffix(f",fps={fps}")
    subprocess.run(args, input=b"".join(frames), check=True, timeout=60)

    assert len(_decoded_md5s(ff, new)) == len(frames)
    assert _decoded_md5s(ff, new) == _decoded_md5s(ff, old)
    h264 = [subprocess.run([str(ff), "-v", "error", "-i", str(v), "-map", "0:v", "-c", "copy", "-f", "h264", "-"],
                           capture_output=True, check=True, timeout=60).stdout for v in (new, old)]
    assert h264[0] == h264[1]
    info = asyncio.run(probe(new))
    assert info.video is not None and info.video.fps == fps
    assert abs(info.duration_s - len(frames) / fps) < 1e-3


def test_encoder_stream_names_a_frame_that_is_not_a_jpeg() -> None:
    with pytest.raises(RenderError, match="not a JPEG"):
        jpeg_size(b"\x89PNG\r\n\x1a\n")
    with pytest.raises(RenderError, match="without a size"):
        jpeg_size(b"\xff\xd8\xff\xd9")


@pytest.mark.parametrize("zscale", [True, False], ids=["zimg", "swscale"])
@pytest.mark.parametrize("frame_w", [W, W + 1], ids=["even", "odd-width"])
def test_encoder_maps_full_range_jpegs_to_tv_range(tmp_path: Path, zscale: bool, frame_w: int) -> None:
    """Chromium's frames are full-range JPEG: black must land on Y=16, white on Y=235, and a mid
    grey in between, with zimg (what the bundled ffmpeg has) and with the swscale fallback alike.
    A fractional device scale gives frames one pixel wider than the output, of odd width (855 for
    854): zimg refuses odd 4:2:0 frames, so the encoder must cope."""
    from PIL import Image

    ff = find_ffmpeg()
    if zscale:
        from app.core.infra.tools import ffmpeg_has_filter

        assert ffmpeg_has_filter(ff, "zscale")  # the bundled static build has zimg
    frames: list[bytes] = []
    for level in (0, 128, 255):
        buf = io.BytesIO()
        Image.new("RGB", (frame_w, H), (level, level, level)).save(buf, format="JPEG", quality=95)
        frames += [buf.getvalue()] * 3
    out = tmp_path / "range.mp4"
    subprocess.run(build_encode_args(ff, fps=30, width=W, height=H, out=out, zscale=zscale),
                   input=matroska_mjpeg(frames, 30), check=True, timeout=60)
    raw = subprocess.run([str(ff), "-loglevel", "error", "-i", str(out), "-f", "rawvideo", "-c:v", "rawvideo", "-"],
                         capture_output=True, check=True, timeout=60).stdout  # yuv420p as coded: Y planes
    y = np.frombuffer(raw, np.uint8).reshape(-1, W * H * 3 // 2)[:, : W * H]
    assert y.shape[0] == 9
    means = [float(y[i].mean()) for i in (1, 4, 7)]
    assert abs(means[0] - 16) <= 1.5 and abs(means[2] - 235) <= 1.5, means
    assert abs(means[1] - (16 + 128 * 219 / 255)) <= 2, means


def test_ffmpeg_failure_names_the_problem_and_leaves_nothing(tmp_path: Path) -> None:
    out = tmp_path / "out.mp4"
    tmp = temp_output(out)
    args = build_mux_args(
        find_ffmpeg(),
        video=tmp_path / "missing.mp4",
        narration=tmp_path / "n.wav",
        out=tmp,
        chapters=None,
        duration_s=1,
    )
    with pytest.raises(RenderError) as e:
        asyncio.run(run_ffmpeg(args, out_tmp=tmp, out=out))
    assert "missing.mp4" in str(e.value) and "ffmpeg failed" in str(e.value)
    assert list(tmp_path.iterdir()) == []


def _ffmpeg_processes_writing(path: Path) -> list[int]:
    pids = []
    for pid in os.listdir("/proc"):
        if not pid.isdigit():
            continue
        try:
            cmd = Path(f"/proc/{pid}/cmdline").read_bytes().split(b"\0")
        except OSError:
            continue
        if str(path).encode() in cmd:
            pids.append(int(pid))
    return pids


def test_cancel_stops_ffmpeg_within_a_second(tmp_path: Path) -> None:
    out = tmp_path / "long.mp4"
    tmp = temp_output(out)
    args = [
        str(find_ffmpeg()),
        "-hide_banner",
        "-nostdin",
        "-y",
        "-f",
        "lavfi",
        "-i",
        "testsrc2=size=1280x720:rate=30",
        "-t",
        "600",
        "-c:v",
        "libx264",
        "-preset",
        "medium",
        "-f",
        "mp4",
        str(tmp),
    ]

    async def go() -> float:
        token = CancelToken()
        seen = asyncio.Event()

        def progress(f: float) -> None:
            seen.set()

        task = asyncio.create_task(
            run_ffmpeg(args, cancel=token, on_progress=progress, total_s=600, out_tmp=tmp, out=out)
        )
        await asyncio.wait_for(seen.wait(), 30)  # ffmpeg is encoding for real
        assert _ffmpeg_processes_writing(tmp)
        t0 = time.monotonic()
        token.cancel("user cancelled")
        with pytest.raises(Cancelled, match="user cancelled"):
            await task
        return time.monotonic() - t0

    elapsed = asyncio.run(go())
    print(f"cancel took {elapsed:.3f} s")
    assert elapsed < 1.0
    assert not tmp.exists() and not out.exists()
    assert _ffmpeg_processes_writing(tmp) == []



@pytest.mark.parametrize("with_music", [False, True], ids=["narration", "narration+music"])
def test_audio_encoded_during_capture_matches_the_mux_encode(media: dict[str, Path], with_music: bool) -> None:
    """The audio track made beside the capture and then copied decodes to exactly the samples of
    the encode-at-mux path, with the same length: the background path changes speed, not sound."""
    from app.core.mix.music import MusicBed, measure_mix

    ff = find_ffmpeg()
    d = media["dir"]
    bed = None
    loudness = None
    if with_music:
        t = np.arange(48_000 * 2) / 48_000
        write_wav_atomic(d / "bed.wav", (np.sin(2 * np.pi * 220 * t) * 6000).astype(np.int16))
        bed, loudness = asyncio.run(measure_mix(ff, narration=media["narration"],
                                                bed=MusicBed(path=d / "bed.wav"), duration_s=3.0,
                                                target_lufs=-16.0, speech_chain=mix.SPEECH_COMPRESSOR))
    m4a = d / f"audio-{with_music}.m4a"
    asyncio.run(run_ffmpeg(mix.build_audio_args(ff, narration=media["narration"], out=m4a, duration_s=3.0,
                                                music=bed, loudness=loudness)))
    outs = {}
    for kind in ("copied", "usual"):
        out = d / f"{kind}-{with_music}.mp4"
        encoded = kind == "copied"
        asyncio.run(run_ffmpeg(build_mux_args(
            ff, video=media["video"], narration=m4a if encoded else media["narration"], out=out,
            chapters=media["chapters"], duration_s=3.0, width=W, height=H, fps=FPS, audio_encoded=encoded,
            music=None if encoded else bed, loudness=None if encoded else loudness)))
        outs[kind] = out
    pcm = {k: subprocess.run([str(ff), "-v", "error", "-i", str(p), "-map", "0:a", "-f", "s16le", "-"],
                             capture_output=True, check=True, timeout=60).stdout for k, p in outs.items()}
    assert len(pcm["copied"]) > 0.9 * 3.0 * 48_000 * 4
    # bit for bit, music included (its graph feeds fixed-size frames to sidechaincompress and amix;
    # before that, two runs of one argv differed by up to 0.9 % of the signal RMS)
    assert pcm["copied"] == pcm["usual"]
    for out in outs.values():
        info = asyncio.run(probe(out))
        assert info.audio is not None and info.audio.duration_s is not None
        assert abs(info.audio.duration_s - 3.0) < 0.002 and abs(info.duration_s - 3.0) <= 1 / FPS
        assert [c.title for c in info.chapters] == CHAPTER_TITLES


def test_music_mix_is_reproducible(media: dict[str, Path]) -> None:
    """The same job renders the same audio: eight runs of the music graph give identical bytes."""
    from app.core.mix.music import MusicBed

    ff = find_ffmpeg()
    d = media["dir"]
    t = np.arange(48_000 * 2) / 48_000
    write_wav_atomic(d / "bed-repro.wav", (np.sin(2 * np.pi * 220 * t) * 6000).astype(np.int16))
    bed = MusicBed(path=d / "bed-repro.wav", gain_db=-17.0)
    runs = set()
    for i in range(8):
        out = d / f"repro-{i}.m4a"
        asyncio.run(run_ffmpeg(mix.build_audio_args(ff, narration=media["narration"], out=out, duration_s=3.0,
                                                    music=bed)))
        runs.add(subprocess.run([str(ff), "-v", "error", "-i", str(out), "-f", "s16le", "-"],
                                capture_output=True, check=True, timeout=60).stdout)
    assert len(runs) == 1 and len(next(iter(runs))) > 3.0 * 0.9 * 48_000 * 4
