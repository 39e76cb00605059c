"""The TTS provider interface, the voice clip it leads to, and the provider registry.

A provider does one small thing: turn one plain-text segment into raw mono PCM.  Everything else
(normalising text, bookmarks, trimming, resampling, caching, timing) lives in
:class:`app.core.voice.service.VoiceService`, so every provider gets it for free and identically.
"""

from __future__ import annotations

import threading
from abc import ABC, abstractmethod
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ..errors import ReelwrightError, ToolMissingError
from ..script import VoiceSettings


class VoiceError(ReelwrightError):
    """Speech synthesis failed (the engine crashed, returned nothing, or the voice is unknown)."""


@dataclass(frozen=True)
class VoiceClip:
    """One card's narration, voiced.

    ``path`` is a 48 kHz mono s16 WAV whose first sample is the start of speech; ``duration_s`` is
    its sample count / 48000.  ``marks`` maps each ``<mark name="x"/>`` of the narration to the
    time (seconds from the clip start) the words after it begin.
    """

    path: Path
    duration_s: float
    marks: dict[str, float] = field(default_factory=dict)
    text: str = ""
    cache_key: str = ""


class TTSProvider(ABC):
    """A speech engine.  Subclasses set :attr:`name` and implement the two methods."""

    name: str = ""
    #: set when this provider stands in for the one that was asked for (e.g. espeak for piper)
    fallback_reason: str | None = None

    @abstractmethod
    def cache_identity(self, voice: VoiceSettings) -> dict[str, Any]:
        """Everything that changes the audio: provider, voice id, model, rate, format, version.

        This goes into the cache key; leaving something out means stale audio after a change.
        """

    @abstractmethod
    async def synthesize(self, text: str, voice: VoiceSettings) -> tuple[bytes, int]:
        """Raw mono s16le PCM and its sample rate for one plain-text segment (no markup)."""

    async def preload(self, voice: VoiceSettings | None = None) -> None:  # noqa: B027 - optional hook
        """Load models ahead of time (e.g. while the browser starts).  Default: nothing to do."""

    def describe(self) -> str:
        """A short human description for logs and the self-test."""
        if self.fallback_reason:
            return f"{self.name} (fallback: {self.fallback_reason})"
        return self.name


ProviderFactory = Callable[[], TTSProvider]

_REGISTRY: dict[str, ProviderFactory] = {}
_REGISTRY_LOCK = threading.Lock()

#: what to tell the user when a provider that lives in another package is not registered
_NOT_REGISTERED_HINTS = {
    "polly": "Amazon Polly is available in cloud renders only (the cloud package registers it); "
    "choose 'piper' or 'espeak' for a local render",
}


def register_provider(name: str, factory: ProviderFactory) -> None:
    """Make ``get_provider(name)`` return ``factory()``.  Registering a name again replaces it."""
    with _REGISTRY_LOCK:
        _REGISTRY[name] = factory


def unregister_provider(name: str) -> None:
    with _REGISTRY_LOCK:
        _REGISTRY.pop(name, None)


def registered_providers() -> list[str]:
    with _REGISTRY_LOCK:
        return sorted(_REGISTRY)


def get_provider(name: str) -> TTSProvider:
    """A provider by name.  Raises :class:`ToolMissingError` if none is registered under it.

    ``"piper"`` falls back to espeak-ng when Piper cannot be imported or its voice model is
    missing; the returned provider then has ``fallback_reason`` set (never a silent swap).
    """
    with _REGISTRY_LOCK:
        factory = _REGISTRY.get(name)
        known = sorted(_REGISTRY)
    if factory is None:
        raise ToolMissingError(
            f"the voice provider '{name}' is not available",
            hint=_NOT_REGISTERED_HINTS.get(name, f"available providers: {', '.join(known) or 'none'}"),
        )
    return factory()
