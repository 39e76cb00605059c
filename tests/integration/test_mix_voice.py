"""Real Piper narration through the real mix: loudness on target, onsets on their frame."""

from __future__ import annotations

import asyncio
import re
import subprocess
from pathlib import Path

import pytest

from app.core.infra.tools import find_ffmpeg
from app.core.mix import build_mux_args, run_ffmpeg
from app.core.mix.audio import build_narration_track
from app.core.script import VoiceSettings
from app.core.voice import PiperProvider, VoiceService

pytestmark = pytest.mark.slow
FPS = 30


def _ffmpeg_stderr(*args: str) -> str:
    cmd = [str(find_ffmpeg()), "-hide_banner", "-nostdin", "-nostats", *args]
    return subprocess.run(cmd, capture_output=True, text=True, check=True, timeout=120).stderr


def test_piper_narration_is_normalised_and_starts_on_time(tmp_path: Path) -> None:
    texts = [
        "Welcome to the demo. This card introduces the app and what it is for.",
        "Now open the settings page, change the theme, and save your changes.",
    ]
    clips = asyncio.run(VoiceService(PiperProvider(), tmp_path / "cache").voice_all(texts, VoiceSettings()))
    starts = [0.6, round(0.6 + clips[0].duration_s + 0.8, 3)]
    total = starts[1] + clips[1].duration_s + 1.0
    track = build_narration_track(list(zip(starts, clips, strict=True)), total, tmp_path / "narration.wav")
    video = tmp_path / "v.mp4"
    subprocess.run(
        [
            str(find_ffmpeg()),
            "-loglevel",
            "error",
            "-f",
            "lavfi",
            "-i",
            f"color=c=gray:s=160x90:r={FPS}",
            "-t",
            f"{total}",
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
    out = tmp_path / "out.mp4"
    args = build_mux_args(
        find_ffmpeg(),
        video=video,
        narration=track,
        out=out,
        chapters=None,
        duration_s=total,
        width=160,
        height=90,
        fps=FPS,
    )
    asyncio.run(run_ffmpeg(args))

    report = _ffmpeg_stderr("-i", str(out), "-af", "ebur128=peak=true", "-f", "null", "-")
    integrated = float(re.findall(r"I:\s+(-?[\d.]+) LUFS", report)[-1])
    peak = float(re.findall(r"Peak:\s+(-?[\d.]+) dBFS", report)[-1])
    print(f"narration {integrated} LUFS, true peak {peak} dBFS")
    assert -17.5 <= integrated <= -14.5
    assert peak <= -1.0

    silences = _ffmpeg_stderr("-i", str(out), "-af", "silencedetect=n=-40dB:d=0.3", "-f", "null", "-")
    onsets = [float(t) for t in re.findall(r"silence_end: ([\d.]+)", silences)]
    assert len(onsets) >= 2
    for planned in starts:
        assert min(abs(o - planned) for o in onsets) <= 1 / FPS, (planned, onsets)
