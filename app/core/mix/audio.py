"""PCM audio helpers and the narration track.

Everything here works on 16-bit mono PCM WAV files, the format every voice clip is stored in, at
:data:`SAMPLE_RATE` (48 kHz, the rate of the final AAC track, so the mix never resamples speech
twice).  The narration track is built sample-exactly in Python rather than with a chain of ffmpeg
``adelay`` filters: placement is then a pure, testable function whose output can be checked sample
by sample, and ffmpeg only has to normalise and encode one input.
"""

from __future__ import annotations

import math
import wave
from collections.abc import Iterator, Sequence
from functools import lru_cache
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np
import numpy.typing as npt

from ..errors import RenderError
from ..infra.fs import atomic_open

if TYPE_CHECKING:
    from ..voice.base import VoiceClip

#: the sample rate of every voice clip and of the narration track
SAMPLE_RATE = 48_000

Int16Array = npt.NDArray[np.int16]
FloatArray = npt.NDArray[np.float64]


class AudioFormatError(RenderError):
    """A WAV file is not what the pipeline writes (mono, 16-bit PCM) or cannot be read."""


# --------------------------------------------------------------------------- WAV files


def read_wav(path: Path) -> tuple[Int16Array, int]:
    """The samples (int16, mono) and sample rate of a 16-bit mono PCM WAV file."""
    try:
        with wave.open(str(path), "rb") as w:
            if w.getnchannels() != 1 or w.getsampwidth() != 2:
                raise AudioFormatError(
                    f"{path}: expected mono 16-bit PCM, got {w.getnchannels()} channel(s) of "
                    f"{8 * w.getsampwidth()}-bit samples"
                )
            rate = w.getframerate()
            data = w.readframes(w.getnframes())
    except (OSError, EOFError, wave.Error) as exc:
        raise AudioFormatError(f"{path}: cannot read WAV audio: {exc}") from None
    return np.frombuffer(data, dtype="<i2").astype(np.int16), rate


def wav_duration(path: Path) -> float:
    """Duration of a WAV file in seconds, from its sample count (never estimated)."""
    try:
        with wave.open(str(path), "rb") as w:
            return w.getnframes() / float(w.getframerate())
    except (OSError, EOFError, wave.Error) as exc:
        raise AudioFormatError(f"{path}: cannot read WAV audio: {exc}") from None


def write_wav_atomic(path: Path, samples: Int16Array | Iterator[Int16Array], rate: int = SAMPLE_RATE) -> Path:
    """Write mono s16 PCM to ``path`` through a temp file in the same folder and ``os.replace``.

    ``samples`` is one array or an iterator of arrays (written in order, so a long track never has
    to sit in memory at once).  A reader never sees a half-written file.
    """
    with atomic_open(path) as raw, wave.open(raw, "wb") as w:
        w.setnchannels(1)
        w.setsampwidth(2)
        w.setframerate(rate)
        chunks = [samples] if isinstance(samples, np.ndarray) else samples
        for chunk in chunks:
            w.writeframes(np.ascontiguousarray(chunk, dtype="<i2").tobytes())
    return path


# --------------------------------------------------------------------------- signal helpers


def pcm_to_float(samples: Int16Array) -> FloatArray:
    return samples.astype(np.float64) / 32768.0


def float_to_pcm(samples: FloatArray) -> Int16Array:
    return np.clip(np.round(samples * 32767.0), -32768, 32767).astype(np.int16)


@lru_cache(maxsize=8)
def _polyphase_filter(up: int, down: int, half_taps: int) -> FloatArray:
    """Kaiser-windowed sinc, one row of ``2*half_taps`` coefficients per output phase."""
    cutoff = 0.95 * min(1.0, up / down)  # fraction of the input Nyquist to keep
    beta = 8.6  # ~ -86 dB stop band
    phases = np.arange(up, dtype=np.float64)[:, None] / up  # fractional input offset of each phase
    k = np.arange(-half_taps + 1, half_taps + 1, dtype=np.float64)[None, :]
    x = k - phases  # distance (in input samples) from each tap to the output instant
    window = np.i0(beta * np.sqrt(np.clip(1.0 - (x / half_taps) ** 2, 0.0, 1.0))) / np.i0(beta)
    h = cutoff * np.sinc(cutoff * x) * window
    # each phase sums to exactly one so DC (and silence) pass unchanged
    h /= h.sum(axis=1, keepdims=True)
    return h


def resample(samples: Int16Array, rate_in: int, rate_out: int = SAMPLE_RATE) -> Int16Array:
    """Band-limited resampling (polyphase Kaiser-windowed sinc, 32 taps per phase), pure numpy.

    The output has exactly ``ceil(len * rate_out / rate_in)`` samples and output sample ``n`` is
    the input signal at time ``n / rate_out``: no delay is introduced, so offsets stay exact.
    """
    if rate_in == rate_out or len(samples) == 0:
        return samples.astype(np.int16, copy=True)
    g = math.gcd(rate_in, rate_out)
    up, down = rate_out // g, rate_in // g
    half = 16
    h = _polyphase_filter(up, down, half)
    n_out = math.ceil(len(samples) * up / down)
    if up <= 1024:
        return float_to_pcm(_resample_blocks(pcm_to_float(samples), up, down, h, n_out))
    # unusual rate pairs (a huge period): gather taps per output sample instead
    x = np.concatenate([np.zeros(half, dtype=np.float64), pcm_to_float(samples), np.zeros(2 * half)])
    out = np.empty(n_out, dtype=np.float64)
    step = 1 << 16  # bounded memory for long clips
    for lo in range(0, n_out, step):
        n = np.arange(lo, min(n_out, lo + step), dtype=np.int64)
        num = n * down
        base = num // up  # input sample at or before the output instant
        phase = num % up
        idx = base[:, None] + np.arange(-half + 1, half + 1)[None, :] + half
        out[lo : lo + len(n)] = np.einsum("ij,ij->i", x[idx], h[phase])
    return float_to_pcm(out)


def _resample_blocks(x: FloatArray, up: int, down: int, h: FloatArray, n_out: int) -> FloatArray:
    """The polyphase sum as one matrix product.

    The pattern of (input position, phase) repeats every ``up`` outputs / ``down`` inputs, so
    block ``b`` of outputs is ``x[b*down : b*down + down + taps] @ M`` for one fixed matrix ``M``
    holding each output's filter at its offset.  BLAS does the rest (~40x faster than gathering).
    """
    taps = h.shape[1]
    half = taps // 2
    j = np.arange(up)
    base = (j * down) // up
    phase = (j * down) % up
    m = np.zeros((down + taps, up), dtype=np.float64)
    m[base[:, None] + np.arange(taps)[None, :], j[:, None]] = h[phase]
    blocks = math.ceil(n_out / up)
    need = (blocks - 1) * down + down + taps
    xp = np.zeros(max(need, len(x) + half - 1), dtype=np.float64)
    xp[half - 1 : half - 1 + len(x)] = x
    windows = np.lib.stride_tricks.sliding_window_view(xp, down + taps)[::down][:blocks]
    return (windows @ m).reshape(-1)[:n_out]


def trim_silence(
    samples: Int16Array,
    rate: int,
    *,
    threshold_db: float = -40.0,
    keep_lead_s: float = 0.01,
    keep_tail_s: float = 0.06,
) -> Int16Array:
    """Cut leading and trailing silence, keeping a few ms around the speech.

    TTS engines pad every utterance (Piper ~50–280 ms in front).  Trimming makes a clip start when
    the voice starts, so "narration begins at the card's start" holds to the frame.  A clip that is
    all silence comes back empty.
    """
    if len(samples) == 0:
        return samples
    threshold = 32768.0 * 10 ** (threshold_db / 20.0)
    loud = np.nonzero(np.abs(samples.astype(np.int32)) > threshold)[0]
    if len(loud) == 0:
        return samples[:0]
    start = max(0, int(loud[0]) - round(keep_lead_s * rate))
    end = min(len(samples), int(loud[-1]) + 1 + round(keep_tail_s * rate))
    return samples[start:end]


# --------------------------------------------------------------------------- narration track


def _zeros(n: int, chunk: int = SAMPLE_RATE * 10) -> Iterator[Int16Array]:
    while n > 0:
        k = min(n, chunk)
        yield np.zeros(k, dtype=np.int16)
        n -= k


def build_narration_track(
    placements: Sequence[tuple[float, VoiceClip]], total_s: float, out_wav: Path
) -> Path:
    """One 48 kHz mono WAV, ``total_s`` long, with each clip starting at its time, sample-exact.

    A clip's first sample lands at ``round(start_s * 48000)``; everything else is digital silence.
    Clips must not overlap and must end within ``total_s`` (the planner guarantees both, so a
    violation is a bug and raises :class:`RenderError` rather than being papered over).  The file
    is streamed to a temp name and renamed.
    """
    if total_s < 0 or not math.isfinite(total_s):
        raise RenderError(f"narration track length must be a positive number of seconds (got {total_s})")
    total = round(total_s * SAMPLE_RATE)
    ordered = sorted(((round(start * SAMPLE_RATE), start, clip) for start, clip in placements),
                     key=lambda t: t[0])
    spans: list[tuple[int, Path]] = []
    prev_end = 0
    prev_label = ""
    for start, start_s, clip in ordered:
        label = f"clip {clip.cache_key[:12] or clip.path.name} at {start_s:.3f} s"
        if start < 0:
            raise RenderError(f"narration {label} starts before the video")
        if clip.duration_s <= 0:
            continue
        n = round(clip.duration_s * SAMPLE_RATE)
        if start < prev_end:
            raise RenderError(
                f"narration {label} overlaps {prev_label} by {(prev_end - start) / SAMPLE_RATE:.3f} s",
                hint="this is a planner bug: cards must not overlap",
            )
        # a clip may end within 2 samples past the end from independent rounding of start and total
        if start + n > total + 2:
            raise RenderError(
                f"narration {label} ({clip.duration_s:.3f} s) runs past the end of the video "
                f"({total_s:.3f} s)",
                hint="this is a planner bug: the video must last until the narration ends",
            )
        spans.append((start, clip.path))
        prev_end, prev_label = start + n, label

    def stream() -> Iterator[Int16Array]:
        pos = 0
        for start, path in spans:
            samples, rate = read_wav(path)
            if rate != SAMPLE_RATE:
                raise AudioFormatError(f"{path}: voice clips must be {SAMPLE_RATE} Hz (got {rate} Hz)")
            yield from _zeros(start - pos)
            samples = samples[: max(0, total - start)]
            yield samples
            pos = start + len(samples)
        yield from _zeros(total - pos)

    return write_wav_atomic(out_wav, stream(), SAMPLE_RATE)
