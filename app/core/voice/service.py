"""VoiceService: narration text in, a trimmed 48 kHz clip with bookmark times out, cached.

The provider only turns plain text into PCM; this class owns everything around it, the same for
every provider (the manim-voiceover split):

1. normalise the text (Unicode NFC, whitespace folded) and split it at ``<mark name="x"/>``;
2. synthesise each segment (blocking work in a worker thread), trim its leading and trailing
   silence, resample to 48 kHz;
3. join the segments with a short natural pause and record where each mark's words begin;
4. store the clip content-addressed: key = sha256 of canonical JSON of the provider's
   :meth:`~app.core.voice.base.TTSProvider.cache_identity` (voice, model, rate, version …), the
   segment layout and :data:`SCHEMA_VERSION`.  One WAV + one JSON per entry, written atomically.

Durations are sample counts, never estimates.
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import json
import os
import time
import unicodedata
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import platformdirs

from ..errors import Cancelled, ToolMissingError
from ..infra.fs import atomic_write
from ..infra.progress import CancelToken, Progress, ProgressCallback
from ..mix.audio import (
    SAMPLE_RATE,
    AudioFormatError,
    Int16Array,
    resample,
    trim_silence,
    wav_duration,
    write_wav_atomic,
)
from ..script import VoiceSettings, narration_segments
from .base import TTSProvider, VoiceClip, VoiceError, get_provider

#: bump when the processing below changes (trim, pause, resampler): old cache entries then miss
SCHEMA_VERSION = 1
#: silence inserted where a bookmark splits the narration (a natural breath, not a stop)
SEGMENT_PAUSE_S = 0.15


def default_cache_dir() -> Path:
    """The user's voice cache, or ``REELWRIGHT_VOICE_CACHE`` (the cloud emulator gives its tasks their own,
    as a cloud task never sees the desktop's cache)."""
    env = os.environ.get("REELWRIGHT_VOICE_CACHE")
    return Path(env) if env else Path(platformdirs.user_cache_dir("reelwright")) / "voice"


def normalise_text(text: str) -> str:
    """Unicode NFC, whitespace folded to single spaces, stripped."""
    return " ".join(unicodedata.normalize("NFC", text).split())


def segment_layout(narration: str) -> list[tuple[str | None, str]]:
    """Narration split at its bookmarks, each segment's text normalised."""
    return [(mark, normalise_text(text)) for mark, text in narration_segments(narration)]


def cache_key(identity: dict[str, Any], layout: Sequence[tuple[str | None, str]]) -> str:
    """sha256 of the canonical JSON of everything that determines the clip."""
    doc = {
        "schema": SCHEMA_VERSION,
        "provider": identity,
        "segments": [[mark, text] for mark, text in layout],
        "pause_s": SEGMENT_PAUSE_S,
        "sample_rate": SAMPLE_RATE,
    }
    blob = json.dumps(doc, sort_keys=True, ensure_ascii=False, separators=(",", ":"))
    return hashlib.sha256(blob.encode("utf-8")).hexdigest()


@dataclass
class VoiceStats:
    """What a service did: cache hits/misses and time spent synthesising (for logs and benchmarks)."""

    hits: int = 0
    misses: int = 0
    synth_s: float = 0.0  # wall time inside the provider
    audio_s: float = 0.0  # seconds of speech synthesised

    @property
    def real_time_factor(self) -> float | None:
        return self.synth_s / self.audio_s if self.audio_s > 0 else None


def _assemble(
    pieces: list[tuple[str | None, Int16Array]], pause_s: float
) -> tuple[Int16Array, dict[str, float]]:
    """Join trimmed 48 kHz segments; marks land where the words after them start."""
    out: list[Int16Array] = []
    pos = 0
    marks: dict[str, float] = {}
    pending: list[str] = []
    pause = np.zeros(round(pause_s * SAMPLE_RATE), dtype=np.int16)
    for mark, samples in pieces:
        if mark is not None:
            pending.append(mark)
        if len(samples) == 0:
            continue
        if pos > 0:
            out.append(pause)
            pos += len(pause)
        for m in pending:
            marks[m] = pos / SAMPLE_RATE
        pending.clear()
        out.append(samples)
        pos += len(samples)
    for m in pending:  # bookmarks after the last words: the end of the clip
        marks[m] = pos / SAMPLE_RATE
    return (np.concatenate(out) if out else np.zeros(0, dtype=np.int16)), marks


def _prepare_segment(pcm: bytes, rate: int) -> Int16Array:
    samples = np.frombuffer(pcm[: len(pcm) // 2 * 2], dtype="<i2").astype(np.int16)
    return resample(trim_silence(samples, rate), rate, SAMPLE_RATE)


def _write_json_atomic(path: Path, doc: dict[str, Any]) -> None:
    atomic_write(path, json.dumps(doc, sort_keys=True, indent=1, ensure_ascii=False))


class VoiceService:
    """Voices narration with one provider, through a content-addressed cache."""

    def __init__(self, provider: TTSProvider, cache_dir: Path | None = None,
                 *, pause_s: float = SEGMENT_PAUSE_S) -> None:
        self.provider = provider
        self.cache_dir = Path(cache_dir) if cache_dir is not None else default_cache_dir()
        self.pause_s = pause_s
        self.stats = VoiceStats()

    # ------------------------------------------------------------------ keys and cache files

    def cache_key(self, narration: str, voice: VoiceSettings) -> str:
        return cache_key(self.provider.cache_identity(voice), segment_layout(narration))

    def _paths(self, key: str) -> tuple[Path, Path]:
        return self.cache_dir / f"{key}.wav", self.cache_dir / f"{key}.json"

    def _cached(self, key: str) -> VoiceClip | None:
        wav, meta = self._paths(key)
        try:
            doc = json.loads(meta.read_text(encoding="utf-8"))
            if doc.get("schema") != SCHEMA_VERSION or doc.get("cache_key") != key:
                return None
            duration = wav_duration(wav)
        except (OSError, ValueError, KeyError, TypeError, AudioFormatError):
            return None
        if abs(duration - float(doc["duration_s"])) > 0.5 / SAMPLE_RATE:
            return None  # a WAV from a different entry or a torn copy: synthesise again
        with contextlib.suppress(OSError):
            os.utime(meta)  # last use, for prune_cache's least-recently-used order
        return VoiceClip(wav, duration, {str(k): float(v) for k, v in doc["marks"].items()},
                         str(doc["text"]), key)

    def cached(self, narration: str, voice: VoiceSettings) -> VoiceClip | None:
        """The clip already in the cache for ``narration`` (its measured length and bookmarks), or None;
        never synthesises — the app plans lengths from it without loading a voice."""
        try:
            return self._cached(self.cache_key(narration, voice))
        except (OSError, VoiceError, ToolMissingError):
            return None

    def all_cached(self, narrations: Sequence[str], voice: VoiceSettings) -> bool:
        """True when every narration's clip is already in the cache (nothing to synthesise)."""
        try:
            return all(self._cached(self.cache_key(n, voice)) is not None for n in narrations)
        except (OSError, VoiceError, ToolMissingError):
            return False  # e.g. the model file is missing: let loading report it

    # ------------------------------------------------------------------ voicing

    async def voice(
        self, narration: str, voice: VoiceSettings, cancel: CancelToken | None = None
    ) -> VoiceClip:
        """The clip for one card's narration (from the cache when possible)."""
        layout = segment_layout(narration)
        key = cache_key(self.provider.cache_identity(voice), layout)
        hit = self._cached(key)
        if hit is not None:
            self.stats.hits += 1
            return hit
        self.stats.misses += 1
        pieces: list[tuple[str | None, Int16Array]] = []
        for mark, text in layout:
            if cancel is not None:
                cancel.raise_if_cancelled()
            if not any(ch.isalnum() for ch in text):
                pieces.append((mark, np.zeros(0, dtype=np.int16)))
                continue
            t0 = time.monotonic()
            pcm, rate = await self._synthesize(text, voice, cancel)
            self.stats.synth_s += time.monotonic() - t0
            if rate <= 0:
                raise VoiceError(f"{self.provider.name} returned audio with sample rate {rate}")
            self.stats.audio_s += len(pcm) / 2 / rate
            pieces.append((mark, await asyncio.to_thread(_prepare_segment, pcm, rate)))
        samples, marks = _assemble(pieces, self.pause_s)
        text = " ".join(t for _, t in layout if t)
        if text and any(ch.isalnum() for ch in text) and len(samples) == 0:
            raise VoiceError(f"{self.provider.describe()} produced only silence for {text[:80]!r}")
        wav, meta = self._paths(key)
        self.cache_dir.mkdir(parents=True, exist_ok=True)
        await asyncio.to_thread(write_wav_atomic, wav, samples, SAMPLE_RATE)
        duration = len(samples) / SAMPLE_RATE
        _write_json_atomic(meta, {
            "schema": SCHEMA_VERSION, "cache_key": key, "duration_s": duration, "samples": len(samples),
            "sample_rate": SAMPLE_RATE, "marks": marks, "text": text,
            "provider": self.provider.cache_identity(voice),
        })
        return VoiceClip(wav, duration, marks, text, key)

    async def _synthesize(self, text: str, voice: VoiceSettings, cancel: CancelToken | None) -> tuple[bytes, int]:
        """The provider's synthesis, stopped as soon as ``cancel`` fires (not at the next segment).

        A caller that only sets the token (the desktop app's cancel button) gets the same prompt
        stop as one that cancels the task: the synthesis task is cancelled, which makes Piper stop
        after its current sentence and espeak-ng be killed.
        """
        if cancel is None:
            return await self.provider.synthesize(text, voice)
        cancel.raise_if_cancelled()
        synth = asyncio.ensure_future(self.provider.synthesize(text, voice))
        stopper = asyncio.ensure_future(cancel.wait())
        try:
            await asyncio.wait({synth, stopper}, return_when=asyncio.FIRST_COMPLETED)
        finally:
            # whatever happened (a result, a cancel of either kind), neither task outlives this call
            # and neither leaves an exception nobody retrieved
            stopper.cancel()
            if not synth.done():
                synth.cancel()
            await asyncio.gather(synth, stopper, return_exceptions=True)
        if synth.cancelled():
            raise Cancelled(cancel.reason)
        return synth.result()

    async def voice_all(
        self,
        narrations: Sequence[str],
        voice: VoiceSettings,
        on_progress: ProgressCallback | None = None,
        cancel: CancelToken | None = None,
    ) -> list[VoiceClip]:
        """Voice each narration in order (sequentially: synthesis is CPU bound), reporting per card."""
        clips: list[VoiceClip] = []
        n = len(narrations)
        for i, narration in enumerate(narrations):
            if cancel is not None:
                cancel.raise_if_cancelled()
            if on_progress is not None:
                on_progress(Progress("voice", i / n if n else 0.0, f"voicing card {i + 1} of {n}"))
            clips.append(await self.voice(narration, voice, cancel))
        if on_progress is not None:
            on_progress(Progress("voice", 1.0, f"voiced {n} card{'s' if n != 1 else ''}"))
        return clips

    # ------------------------------------------------------------------ housekeeping

    def cache_size_bytes(self) -> int:
        return cache_size_bytes(self.cache_dir)

    def clear_cache(self) -> int:
        return clear_cache(self.cache_dir)

    def prune_cache(self, max_bytes: int) -> int:
        return prune_cache(max_bytes, self.cache_dir)


def cache_size_bytes(cache_dir: Path | None = None) -> int:
    """Bytes used by the voice cache (for the app's settings page)."""
    root = Path(cache_dir) if cache_dir is not None else default_cache_dir()
    if not root.is_dir():
        return 0
    total = 0
    for p in root.iterdir():
        if p.is_file():
            try:
                total += p.stat().st_size
            except OSError:
                continue
    return total


def clear_cache(cache_dir: Path | None = None) -> int:
    """Delete every cached clip; returns the bytes freed.  Only removes files this cache writes."""
    root = Path(cache_dir) if cache_dir is not None else default_cache_dir()
    if not root.is_dir():
        return 0
    freed = 0
    for p in root.iterdir():
        if p.is_file() and (p.suffix in (".wav", ".json") or p.name.endswith(".part")):
            try:
                size = p.stat().st_size
                p.unlink()
                freed += size
            except OSError:
                continue
    return freed


def prune_cache(max_bytes: int, cache_dir: Path | None = None) -> int:
    """Delete least-recently-used clips until the cache holds at most ``max_bytes``; returns bytes
    freed.  An entry's last use is its JSON's mtime (a cache hit touches it)."""
    root = Path(cache_dir) if cache_dir is not None else default_cache_dir()
    if not root.is_dir():
        return 0
    entries: list[tuple[float, int, list[Path]]] = []
    for meta in root.glob("*.json"):
        files = [meta, meta.with_suffix(".wav")]
        try:
            used = meta.stat().st_mtime
            size = sum(f.stat().st_size for f in files if f.exists())
        except OSError:
            continue
        entries.append((used, size, files))
    total = cache_size_bytes(root)
    freed = 0
    for _used, size, files in sorted(entries, key=lambda e: (e[0], str(e[2][0]))):
        if total - freed <= max_bytes:
            break
        for f in reversed(files):  # the WAV first: an entry without its JSON is never trusted
            with contextlib.suppress(OSError):
                f.unlink()
        freed += size
    return freed


async def load_provider(name: str, voice: VoiceSettings | None = None,
                        narrations: Sequence[str] | None = None) -> TTSProvider:
    """``get_provider(name)`` with its model loaded; Piper falls back to espeak-ng if loading fails.

    The fallback is reported through the returned provider's ``fallback_reason``.  Given the
    ``narrations`` about to be voiced, the model is not loaded when every clip is already cached:
    loading Piper costs ~1 s of CPU that would otherwise compete with the browser's start-up.
    """
    provider = get_provider(name)
    if narrations is not None and voice is not None and VoiceService(provider).all_cached(narrations, voice):
        return provider
    try:
        await provider.preload(voice)
    except (VoiceError, ToolMissingError) as exc:
        if provider.name != "piper":
            raise
        from .espeak import EspeakProvider, find_espeak

        find_espeak()  # raises ToolMissingError naming espeak-ng if that is missing too
        return EspeakProvider(fallback_reason=f"the Piper voice could not be loaded: {exc.message}")
    return provider


__all__ = [
    "SCHEMA_VERSION", "SEGMENT_PAUSE_S", "VoiceService", "VoiceStats", "cache_key", "cache_size_bytes",
    "clear_cache", "default_cache_dir", "load_provider", "normalise_text", "prune_cache", "segment_layout",
]
