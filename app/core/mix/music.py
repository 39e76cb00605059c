"""The music bed: bundled tracks we synthesise ourselves, and the ffmpeg graph that lays one under
the narration.

Bundled tracks are generated here, deterministically, from a few chords (additive synthesis with
numpy: detuned harmonic voices, slow attack/release envelopes, a gentle tremolo) — nothing is
downloaded and nothing is copyrighted.  A track is a seamless loop: the release tail of the last
chord is wrapped onto the start.  It is rendered once per recipe and cached (content-addressed by a
hash of the recipe), written atomically.

The mix graph (pure builders, unit-tested without running anything):

- music is looped (``-stream_loop -1``) and trimmed to the video, faded in/out, and set to a level
  *relative to the narration*: ``volume`` 0.35 puts the bed 9 dB (20·log10 0.35) under the voice
  between sentences, whatever the loudness of the file (both are measured first, see
  :func:`measure_mix`);
- ducking: ``sidechaincompress`` keyed by the narration lowers the music while someone speaks;
- narration + ducked music are summed and normalised to the target loudness in two passes: pass
  one measures the very same graph (audio only, fast) with ``ebur128`` (the EBU R128 meter: integrated
  loudness and true peak), pass two applies the exact gain, plus a limiter only if that gain would
  push the true peak over the ceiling.  (Two-pass ``loudnorm`` in linear mode was tried first: its
  own measurement disagrees with R128 by 0.5–1 LU on short clips, so it missed the target.)
"""

from __future__ import annotations

import asyncio
import dataclasses
import hashlib
import json
import math
import os
import re
import wave
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import numpy.typing as npt
import platformdirs

from ..errors import RenderError
from ..infra.fs import atomic_open
from ..infra.proc import run_tool
from ..infra.progress import CancelToken
from ..script import BUNDLED_MUSIC, Settings

__all__ = [
    "BUNDLED_MUSIC", "DUCK", "LoudnessMeasure", "MusicBed", "bundled_track", "measure_loudness",
    "measure_loudness_args", "measure_mix", "measure_music_args", "measure_voice_args", "mix_graph",
    "music_cache_dir", "music_gain_db", "normalize_chain", "parse_ebur128_summary", "resolve_music",
    "synthesize_track",
]

TRACK_RATE = 48_000
#: true-peak ceiling handed to loudnorm; the measured peak of the AAC output stays under -1 dBTP
TRUE_PEAK_DB = -1.5
#: bump when the synthesis changes, so cached tracks are regenerated
RECIPE_VERSION = 2

FloatArray = npt.NDArray[np.float64]


@dataclass(frozen=True)
class DuckSettings:
    """``sidechaincompress`` settings.  Narration (after the speech compressor) sits around -20 dBFS
    RMS; a -40 dB threshold at 20:1 takes the music down by 15–20 dB under a voice, and the slow
    release bridges the pauses between words so the bed does not pump."""

    threshold: float = 0.01
    ratio: float = 20.0
    attack_ms: float = 20.0
    release_ms: float = 600.0


DUCK = DuckSettings()


@dataclass(frozen=True)
class MusicBed:
    """A resolved music bed: a file on disk and how to lay it under the narration.

    ``volume`` is the level relative to the narration (1.0 = as loud as the voice); ``gain_db`` is
    the gain that achieves it for this file and this narration, set by :func:`measure_mix` (None:
    ``volume`` is applied as a plain factor)."""

    path: Path
    volume: float = 0.35
    gain_db: float | None = None
    fade_in_s: float = 1.5
    fade_out_s: float = 2.5
    ducking: bool = True


@dataclass(frozen=True)
class LoudnessMeasure:
    """What pass one measured with ``ebur128``: integrated loudness and true peak of the mix."""

    integrated_lufs: float
    true_peak_db: float


# --------------------------------------------------------------------------- synthesis

#: chord voicings (MIDI notes), four beats each; calm: I–vi–IV–V in C with sevenths, low and wide
_RECIPES: dict[str, dict[str, object]] = {
    "calm": {
        "chords": [[48, 55, 59, 64], [45, 52, 60, 64], [41, 53, 57, 64], [43, 50, 59, 62]],
        "chord_s": 4.0, "harmonics": 5, "arp": False,
    },
    "bright": {
        "chords": [[53, 60, 64, 69], [55, 62, 67, 71], [57, 64, 67, 72], [52, 59, 64, 67]],
        "chord_s": 3.0, "harmonics": 4, "arp": True,
    },
}


_TABLE_N = 16_384
_TABLE_I = np.arange(_TABLE_N + 1, dtype=np.float64)
_TABLE_X = _TABLE_I / _TABLE_N


def _midi_hz(note: float) -> float:
    return float(440.0 * 2.0 ** ((note - 69) / 12))


def _envelope(n: int, attack: int, release_from: int, release: int) -> FloatArray:
    """Raised-cosine attack, sustain, raised-cosine release (length ``n`` samples)."""
    env = np.ones(n)
    a = min(attack, n)
    env[:a] = 0.5 - 0.5 * np.cos(np.pi * np.arange(a) / max(1, a))
    r_end = min(release_from + release, n)
    if release_from < n:
        k = np.arange(r_end - release_from)
        env[release_from:r_end] = 0.5 + 0.5 * np.cos(np.pi * k / max(1, release))
        env[r_end:] = 0.0
    return env


def synthesize_track(name: str, rate: int = TRACK_RATE) -> FloatArray:
    """The bundled track ``name`` as float stereo samples, shape (n, 2), peak -3 dBFS; one loop.

    Deterministic: the same name gives bit-identical samples (no randomness, fixed detunes).
    """
    if name not in _RECIPES:
        raise RenderError(f"unknown bundled track '{name}' (known: {', '.join(BUNDLED_MUSIC)})")
    recipe = _RECIPES[name]
    chords: list[list[int]] = recipe["chords"]  # type: ignore[assignment]
    chord_s = float(recipe["chord_s"])  # type: ignore[arg-type]
    n_harm = int(recipe["harmonics"])  # type: ignore[call-overload]
    chord_n = int(chord_s * rate)
    loop_n = chord_n * len(chords)
    release_n = int(1.6 * rate)
    attack_n = int(1.0 * rate)
    seg_n = chord_n + release_n
    out = np.zeros((loop_n + seg_n, 2))
    t = np.arange(seg_n) / rate
    env = _envelope(seg_n, attack_n, chord_n, release_n)
    for ci, chord in enumerate(chords):
        seg = np.zeros((seg_n, 2))
        for vi, note in enumerate(chord):
            f0 = _midi_hz(note)
            pan = 0.3 + 0.4 * (vi / max(1, len(chord) - 1))  # spread the voicing left to right
            # one cycle of the voice's waveform, read at the voice's frequency (a wavetable: a few
            # array operations per voice instead of one sine per harmonic per sample)
            cycle = np.zeros(_TABLE_N + 1)
            for h in range(1, n_harm + 1):
                if f0 * h > 6000:  # a soft, dark pad: no bright partials
                    break
                cycle += np.sin(2 * np.pi * h * _TABLE_X + 0.7 * h + vi) / h**1.6
            for detune, side in ((-4.0, 0), (4.0, 1)):  # two voices a few cents apart: a chorus
                f = f0 * 2 ** (detune / 1200)
                # nearest entry of a 16k table: the phase error is a noise floor near -90 dB
                tone = cycle[(np.mod(f * t, 1.0) * _TABLE_N).astype(np.intp)]
                gain = (1 - pan) if side == 0 else pan
                seg[:, side] += tone * gain
        seg *= env[:, None]
        if recipe["arp"]:
            # a soft plucked arpeggio: each chord tone in turn, eighth notes, exponential decay
            step = chord_n // 8
            for k in range(8):
                note = chord[k % len(chord)] + 12
                start = k * step
                n = min(seg_n - start, int(0.9 * rate))
                tt = np.arange(n) / rate
                pluck = np.sin(2 * np.pi * _midi_hz(note) * tt) * np.exp(-tt * 5.0) * 0.35
                pluck *= np.minimum(1.0, tt / 0.004)  # no click at the onset
                side = k % 2
                seg[start:start + n, side] += pluck * 0.7
                seg[start:start + n, 1 - side] += pluck * 0.3
        start = ci * chord_n
        out[start:start + seg_n] += seg
    # wrap the tail of the last chord onto the start: the loop is seamless
    tail = out[loop_n:]
    out = out[:loop_n]
    out[: len(tail)] += tail
    # slow tremolo for movement (a whole number of cycles per loop, so it wraps too)
    cycles = max(1, round(loop_n / rate / 8))
    lfo = 1.0 + 0.12 * np.sin(2 * np.pi * cycles * np.arange(loop_n) / loop_n)
    out *= lfo[:, None]
    peak = float(np.max(np.abs(out)))
    return out * (10 ** (-3 / 20) / peak if peak > 0 else 1.0)


def music_cache_dir() -> Path:
    env = os.environ.get("REELWRIGHT_MUSIC_CACHE")
    return Path(env) if env else Path(platformdirs.user_cache_dir("reelwright")) / "music"


def _write_stereo_wav_atomic(path: Path, samples: FloatArray, rate: int) -> Path:
    pcm = np.clip(np.round(samples * 32767), -32768, 32767).astype("<i2")
    with atomic_open(path) as raw, wave.open(raw, "wb") as w:
        w.setnchannels(2)
        w.setsampwidth(2)
        w.setframerate(rate)
        w.writeframes(np.ascontiguousarray(pcm).tobytes())
    return path


def bundled_track(name: str, cache_dir: Path | None = None) -> Path:
    """The WAV file of bundled track ``name``, synthesised on first use and cached."""
    key = hashlib.sha256(json.dumps({"name": name, "recipe": _RECIPES.get(name), "rate": TRACK_RATE,
                                     "version": RECIPE_VERSION}, sort_keys=True).encode()).hexdigest()[:16]
    folder = cache_dir or music_cache_dir()
    path = folder / f"{name}-{key}.wav"
    if path.is_file():
        return path
    folder.mkdir(parents=True, exist_ok=True)
    return _write_stereo_wav_atomic(path, synthesize_track(name), TRACK_RATE)


def resolve_music(settings: Settings, resolve_asset: Callable[[str], Path] | None,
                  cache_dir: Path | None = None) -> MusicBed | None:
    """The music bed for ``settings`` (None when there is no music).

    ``resolve_asset`` maps a bundle asset path to a file (``Job.resolve``).
    """
    if not settings.music or settings.music_volume <= 0:
        return None
    if settings.music.startswith("bundled:"):
        path = bundled_track(settings.music[len("bundled:"):], cache_dir)
    else:
        if resolve_asset is None:
            raise RenderError(f"music file '{settings.music}' needs a job to be read from")
        path = Path(resolve_asset(settings.music))
        if not path.is_file():
            raise RenderError(f"music file '{settings.music}' is missing from the job",
                              hint="add it to the bundle or pick a bundled track")
    return MusicBed(path=path, volume=settings.music_volume, fade_in_s=settings.music_fade_in_ms / 1000,
                    fade_out_s=settings.music_fade_out_ms / 1000, ducking=settings.music_ducking)


# --------------------------------------------------------------------------- the graph


#: below this the mix is (nearly) silent: leave it alone rather than amplify the noise floor
SILENCE_LUFS = -60.0


def normalize_chain(target_lufs: float, measured: LoudnessMeasure | None) -> list[str]:
    """Pass one: the R128 meter.  Pass two: the gain that lands on ``target_lufs``, and a lookahead
    limiter (delay-compensated, no auto level) only when the gained true peak would exceed the
    ceiling; its sample-peak limit sits 1 dB under the true-peak ceiling for the inter-sample and
    AAC overshoot."""
    if measured is None:
        return ["ebur128=peak=true"]
    if measured.integrated_lufs <= SILENCE_LUFS:
        return []
    gain = target_lufs - measured.integrated_lufs
    chain = [f"volume={gain:.2f}dB"]
    if measured.true_peak_db + gain > TRUE_PEAK_DB:
        limit = 10 ** ((TRUE_PEAK_DB - 1.0) / 20)
        chain.append(f"alimiter=limit={limit:.4f}:attack=5:release=80:level=false:latency=true")
    return chain


def mix_graph(
    *,
    voice_in: str,
    music_in: str,
    bed: MusicBed,
    duration_s: float,
    target_lufs: float = -16.0,
    measured: LoudnessMeasure | None = None,
    speech_chain: str = "",
    out_label: str = "aout",
) -> str:
    """The filtergraph mixing narration (input label ``voice_in``, e.g. ``1:a``) with the music
    bed (``music_in``, an input looped with ``-stream_loop -1``) into ``[out_label]``.

    With ``measured`` None the graph ends in the ``ebur128`` meter (pass one); with the values from
    :func:`parse_ebur128_summary` it ends in the normalising gain (pass two).
    """
    if duration_s <= 0 or not math.isfinite(duration_s):
        raise RenderError(f"the video must last a positive time (got {duration_s} s)")
    d = f"{duration_s:.6f}"
    stereo = "aformat=sample_fmts=fltp:sample_rates=48000:channel_layouts=stereo"
    # Every input of a multi-input filter (sidechaincompress, amix) gets fixed 1024-sample frames:
    # they process whatever both inputs have ready, so with ffmpeg's threads varying the chunking
    # the mix came out differently from run to run (up to 0.9 % of the signal RMS).
    fixed = "asetnsamples=n=1024:p=0"
    voice = ["aresample=48000"] + ([speech_chain] if speech_chain else []) + [stereo, f"apad=whole_dur={d}", fixed]
    fade_in = min(bed.fade_in_s, duration_s / 2)
    fade_out = min(bed.fade_out_s, duration_s / 2)
    music = ["aresample=48000", stereo, f"atrim=duration={d}", "asetpts=N/SR/TB",
             f"volume={bed.gain_db:.2f}dB" if bed.gain_db is not None else f"volume={bed.volume:.4f}"]
    if fade_in > 0:
        music.append(f"afade=t=in:st=0:d={fade_in:.3f}")
    if fade_out > 0:
        music.append(f"afade=t=out:st={duration_s - fade_out:.3f}:d={fade_out:.3f}")
    music.append(fixed)
    parts = []
    if bed.ducking:
        parts.append(f"[{voice_in}]{','.join(voice)},asplit=2[rw_voice][rw_key]")
        parts.append(f"[{music_in}]{','.join(music)}[rw_bed]")
        parts.append(f"[rw_bed][rw_key]sidechaincompress=threshold={DUCK.threshold:g}:ratio={DUCK.ratio:g}"
                     f":attack={DUCK.attack_ms:g}:release={DUCK.release_ms:g}:makeup=1,{fixed}[rw_music]")
    else:
        parts.append(f"[{voice_in}]{','.join(voice)}[rw_voice]")
        parts.append(f"[{music_in}]{','.join(music)}[rw_music]")
    tail = ["amix=inputs=2:duration=first:normalize=0", fixed, *normalize_chain(target_lufs, measured),
            "aresample=48000", stereo, f"apad=whole_dur={d}", f"atrim=duration={d}"]
    parts.append(f"[rw_voice][rw_music]{','.join(tail)}[{out_label}]")
    return ";".join(parts)


def music_input_args(bed: MusicBed) -> list[str]:
    """Input options for the music file: looped forever (the graph trims it to the video)."""
    return ["-stream_loop", "-1", "-i", str(bed.path)]


def measure_loudness_args(ffmpeg: Path, *, narration: Path, bed: MusicBed, duration_s: float,
                          target_lufs: float = -16.0, speech_chain: str = "") -> list[str]:
    """Pass one: run the mix graph (audio only) into the R128 meter; its summary is on stderr."""
    graph = mix_graph(voice_in="0:a", music_in="1:a", bed=bed, duration_s=duration_s,
                      target_lufs=target_lufs, measured=None, speech_chain=speech_chain)
    return [str(ffmpeg), "-hide_banner", "-nostdin", "-nostats", "-loglevel", "info", "-y",
            "-i", str(narration), *music_input_args(bed), "-filter_complex", graph, "-map", "[aout]",
            "-t", f"{duration_s:.6f}", "-f", "null", "-"]


def measure_voice_args(ffmpeg: Path, *, narration: Path, speech_chain: str = "") -> list[str]:
    """The narration as it enters the mix (after the speech chain), into the R128 meter."""
    chain = ",".join(["aresample=48000", *([speech_chain] if speech_chain else []), "ebur128=peak=true"])
    return [str(ffmpeg), "-hide_banner", "-nostdin", "-nostats", "-loglevel", "info", "-y",
            "-i", str(narration), "-af", chain, "-f", "null", "-"]


def measure_music_args(ffmpeg: Path, *, bed: MusicBed, seconds: float = 60.0) -> list[str]:
    """The music file as it is (up to ``seconds``, looped if shorter), into the R128 meter."""
    return [str(ffmpeg), "-hide_banner", "-nostdin", "-nostats", "-loglevel", "info", "-y",
            *music_input_args(bed), "-t", f"{seconds:.3f}", "-af", "aresample=48000,ebur128=peak=true",
            "-f", "null", "-"]


def music_gain_db(bed: MusicBed, voice: LoudnessMeasure, music: LoudnessMeasure, target_lufs: float) -> float:
    """The gain that puts the bed ``20·log10(volume)`` dB under the narration (under the target
    when there is no narration)."""
    relative = 20 * math.log10(max(bed.volume, 1e-4))
    reference = voice.integrated_lufs if voice.integrated_lufs > SILENCE_LUFS else target_lufs
    if music.integrated_lufs <= SILENCE_LUFS:
        return 0.0  # a silent file stays silent; never +60 dB of noise
    return reference + relative - music.integrated_lufs


_SUMMARY_I_RE = re.compile(r"Integrated loudness:\s*\n\s*I:\s+(-?[\d.]+|-inf) LUFS")
_SUMMARY_PEAK_RE = re.compile(r"True peak:\s*\n\s*Peak:\s+(-?[\d.]+|-inf) dBFS")


def parse_ebur128_summary(stderr: str) -> LoudnessMeasure:
    """Integrated loudness and true peak from the ``Summary:`` the ebur128 filter prints last."""
    at = stderr.rfind("Summary:")
    summary = stderr[at:] if at >= 0 else ""
    i = _SUMMARY_I_RE.search(summary)
    peak = _SUMMARY_PEAK_RE.search(summary)
    if i is None or peak is None:
        raise RenderError("ffmpeg's loudness measurement printed no result")

    def num(text: str) -> float:
        v = float(text)
        return v if math.isfinite(v) else -99.0

    return LoudnessMeasure(num(i.group(1)), num(peak.group(1)))


async def measure_loudness(args: list[str], *, cancel: CancelToken | None = None) -> LoudnessMeasure:
    """Run a :func:`measure_loudness_args` argv and parse what the meter measured."""
    run = await run_tool(args, cancel=cancel, collect_stderr=True, missing_hint="pip install imageio-ffmpeg")
    text = run.stderr
    if not run.ok:
        raise RenderError(f"ffmpeg failed measuring loudness (exit {run.returncode}):\n    {run.tail(8)}")
    return parse_ebur128_summary(text)


async def measure_mix(ffmpeg: Path, *, narration: Path, bed: MusicBed, duration_s: float, target_lufs: float,
                      speech_chain: str = "", cancel: CancelToken | None = None
                      ) -> tuple[MusicBed, LoudnessMeasure]:
    """Measure the narration and the music, set the bed's level relative to the voice, then measure
    the whole mix (pass one).  Returns the levelled bed and the values for pass two."""
    voice, music = await asyncio.gather(
        measure_loudness(measure_voice_args(ffmpeg, narration=narration, speech_chain=speech_chain), cancel=cancel),
        measure_loudness(measure_music_args(ffmpeg, bed=bed, seconds=min(duration_s, 60.0)), cancel=cancel))
    levelled = dataclasses.replace(bed, gain_db=music_gain_db(bed, voice, music, target_lufs))
    mix = await measure_loudness(measure_loudness_args(ffmpeg, narration=narration, bed=levelled,
                                                       duration_s=duration_s, target_lufs=target_lufs,
                                                       speech_chain=speech_chain), cancel=cancel)
    return levelled, mix
