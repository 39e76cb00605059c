"""The music bed through real ffmpeg: ducking depth, loudness and true peak, measured.

The narration here is a syllable-modulated 3 kHz tone instead of speech, so the music (a pad whose
partials stay under 2 kHz) can be measured *in the final mix* by band energy: music RMS under the
"voice" against music RMS in the gaps.
"""

from __future__ import annotations

import asyncio
import re
import subprocess
import wave
from pathlib import Path

import numpy as np
import pytest

from app.core import mix
from app.core.infra.tools import find_ffmpeg
from app.core.mix import music

RATE = 48_000
DUR = 9.0
SPEECH = (2.5, 4.5)


def _narration(path: Path) -> Path:
    t = np.arange(int(DUR * RATE)) / RATE
    x = np.zeros_like(t)
    on = (t >= SPEECH[0]) & (t < SPEECH[1])
    syllables = 0.55 + 0.45 * np.sin(2 * np.pi * 4 * t)  # 4 syllables a second, never silent
    x[on] = 0.5 * np.sin(2 * np.pi * 3000 * t[on]) * syllables[on]
    with wave.open(str(path), "wb") as w:
        w.setnchannels(1)
        w.setsampwidth(2)
        w.setframerate(RATE)
        w.writeframes((x * 32767).astype("<i2").tobytes())
    return path


def _video(path: Path) -> Path:
    subprocess.run([str(find_ffmpeg()), "-hide_banner", "-loglevel", "error", "-y", "-f", "lavfi", "-i",
                    f"color=c=0x223344:s=160x90:r=10:d={DUR}", "-c:v", "libx264", "-preset", "ultrafast",
                    "-pix_fmt", "yuv420p", str(path)], check=True)
    return path


def _decode(path: Path) -> np.ndarray:
    raw = subprocess.run([str(find_ffmpeg()), "-hide_banner", "-loglevel", "error", "-i", str(path),
                          "-f", "f32le", "-ac", "1", "-ar", str(RATE), "-"], check=True, capture_output=True).stdout
    return np.frombuffer(raw, dtype="<f4").astype(np.float64)


def _band_db(x: np.ndarray, start: float, end: float, lo: float, hi: float) -> float:
    seg = x[int(start * RATE):int(end * RATE)]
    spec = np.fft.rfft(seg * np.hanning(len(seg)))
    freqs = np.fft.rfftfreq(len(seg), 1 / RATE)
    band = (freqs >= lo) & (freqs < hi)
    return float(10 * np.log10(np.sum(np.abs(spec[band]) ** 2) / len(seg) + 1e-20))


def _ebur128(path: Path) -> tuple[float, float]:
    err = subprocess.run([str(find_ffmpeg()), "-hide_banner", "-nostats", "-i", str(path), "-af",
                          "ebur128=peak=true", "-f", "null", "-"], capture_output=True, text=True).stderr
    summary = err[err.rindex("Summary:"):]
    i = float(re.search(r"I:\s+(-?[\d.]+) LUFS", summary).group(1))  # type: ignore[union-attr]
    peak = float(re.search(r"Peak:\s+(-?[\d.]+) dBFS", summary).group(1))  # type: ignore[union-attr]
    return i, peak


def _render(tmp: Path, bed: music.MusicBed, name: str) -> Path:
    ffmpeg = find_ffmpeg()
    narration = _narration(tmp / "narration.wav")
    video = tmp / "video.mp4" if (tmp / "video.mp4").exists() else _video(tmp / "video.mp4")
    levelled, measured = asyncio.run(music.measure_mix(
        ffmpeg, narration=narration, bed=bed, duration_s=DUR, target_lufs=-16.0,
        speech_chain=mix.SPEECH_COMPRESSOR))
    assert levelled.gain_db is not None
    out = tmp / f"{name}.mp4"
    args = mix.build_mux_args(ffmpeg, video=video, narration=narration, out=out, chapters=None,
                              duration_s=DUR, music=levelled, loudness=measured)
    asyncio.run(mix.run_ffmpeg(args, total_s=DUR))
    return out


@pytest.fixture(scope="module")
def calm(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return music.bundled_track("calm", tmp_path_factory.mktemp("music-cache"))


@pytest.mark.slow
def test_music_ducks_under_narration_and_mix_meets_loudness(tmp_path: Path, calm: Path) -> None:
    out = _render(tmp_path, music.MusicBed(calm, volume=0.35, fade_in_s=1.0, fade_out_s=2.0), "ducked")
    x = _decode(out)
    assert abs(len(x) / RATE - DUR) < 0.05
    under = _band_db(x, 3.0, 4.3, 60, 2000)
    gaps = [_band_db(x, 1.3, 2.4, 60, 2000), _band_db(x, 5.6, 6.6, 60, 2000)]
    depth = min(gaps) - under
    assert depth >= 8.0, f"music only {depth:.1f} dB lower under narration (under {under:.1f}, gaps {gaps})"
    # the voice itself is there, well above the ducked music; and volume 0.35 (-9 dB relative to the
    # voice) keeps the bed clearly under the voice even between sentences
    voice = _band_db(x, 3.0, 4.3, 2500, 3500)
    assert voice > under + 15
    assert voice - max(gaps) >= 6.0, (voice, gaps)
    # fades: the first 50 ms and the last 50 ms are near silent in the music band
    assert _band_db(x, 0.0, 0.05, 60, 2000) < min(gaps) - 20
    assert _band_db(x, DUR - 0.05, DUR, 60, 2000) < min(gaps) - 20
    integrated, peak = _ebur128(out)
    assert abs(integrated - (-16.0)) <= 1.0, integrated
    assert peak <= -1.0, peak


@pytest.mark.slow
def test_without_ducking_the_music_stays_level(tmp_path: Path, calm: Path) -> None:
    # the control for the measurement above: the same graph with ducking off keeps the bed level
    out = _render(tmp_path, music.MusicBed(calm, volume=0.35, fade_in_s=1.0, fade_out_s=2.0, ducking=False),
                  "level")
    x = _decode(out)
    under = _band_db(x, 3.0, 4.3, 60, 2000)
    gaps = [_band_db(x, 1.3, 2.4, 60, 2000), _band_db(x, 5.6, 6.6, 60, 2000)]
    assert max(gaps) - under < 3.0, (under, gaps)


@pytest.mark.slow
def test_a_short_music_file_loops_to_the_end(tmp_path: Path) -> None:
    # a 2 s, 440 Hz "track" under a 9 s video: it loops, so the tone is there all the way through
    track = tmp_path / "short.wav"
    t = np.arange(2 * RATE) / RATE
    tone = (0.4 * np.sin(2 * np.pi * 440 * t) * 32767).astype("<i2")
    with wave.open(str(track), "wb") as w:
        w.setnchannels(1)
        w.setsampwidth(2)
        w.setframerate(RATE)
        w.writeframes(tone.tobytes())
    x = _decode(_render(tmp_path, music.MusicBed(track, volume=0.35, fade_in_s=0.5, fade_out_s=0.5), "looped"))
    levels = [_band_db(x, a, a + 0.8, 400, 480) for a in (0.7, 5.4, 6.3, 7.5)]  # around the voice
    assert max(levels) - min(levels) < 3.0, levels
    assert min(levels) > _band_db(x, 0.7, 1.5, 600, 2000) + 20  # the tone, not broadband noise
