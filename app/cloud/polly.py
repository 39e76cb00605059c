"""Amazon Polly as a TTS provider for cloud renders (neural voices).

The core knows nothing of boto3: the recorder calls :func:`register` at start-up, which adds
``"polly"`` to the core's provider registry.  The provider asks Polly for raw 16 kHz PCM (Polly's
``pcm`` format is signed 16-bit little-endian mono), which is exactly what the core's
``TTSProvider.synthesize`` returns; the voice service does the rest (trim, resample, cache).
"""

from __future__ import annotations

import asyncio
from typing import Any

from botocore.exceptions import BotoCoreError, ClientError

from app.core.script import VoiceSettings
from app.core.voice.base import TTSProvider, VoiceError, register_provider

from .voices import POLLY_VOICE_RE

DEFAULT_VOICE = "Joanna"
ENGINE = "neural"
SAMPLE_RATE = 16_000
PROVIDER_VERSION = 1


def polly_voice_id(voice: VoiceSettings) -> str:
    """The Polly voice to ask for: the script's when it is a Polly id, else :data:`DEFAULT_VOICE` (a Piper
    model id or an espeak language means nothing to Polly).  Submission maps every language to a Polly
    voice of its own (:mod:`app.cloud.voices`), so the default is a last resort."""
    return voice.voice if voice.voice and POLLY_VOICE_RE.match(voice.voice) else DEFAULT_VOICE


class PollyProvider(TTSProvider):
    """Neural Polly voices.  ``client`` is a boto3 Polly client (or anything with ``synthesize_speech``)."""

    name = "polly"

    def __init__(self, client: Any = None) -> None:
        if client is None:
            import boto3

            client = boto3.client("polly")
        self.client = client

    def cache_identity(self, voice: VoiceSettings) -> dict[str, Any]:
        return {"provider": "polly", "engine": ENGINE, "voice": polly_voice_id(voice),
                "rate": voice.rate, "format": f"pcm_s16le_{SAMPLE_RATE}", "version": PROVIDER_VERSION}

    def _ssml(self, text: str, rate: float) -> tuple[str, str]:
        if abs(rate - 1.0) < 1e-6:
            return text, "text"
        from xml.sax.saxutils import escape

        return f'<speak><prosody rate="{round(rate * 100)}%">{escape(text)}</prosody></speak>', "ssml"

    def _synthesize_blocking(self, text: str, voice: VoiceSettings) -> bytes:
        body, kind = self._ssml(text, voice.rate)
        try:
            resp = self.client.synthesize_speech(
                Engine=ENGINE, OutputFormat="pcm", SampleRate=str(SAMPLE_RATE),
                VoiceId=polly_voice_id(voice), Text=body, TextType=kind,
            )
            stream = resp["AudioStream"]
            try:
                pcm: bytes = stream.read()
            finally:
                stream.close()
        except (ClientError, BotoCoreError) as exc:
            raise VoiceError(f"Amazon Polly could not voice the narration: {exc}") from None
        if len(pcm) < 2 * SAMPLE_RATE // 100:  # under 10 ms of audio for real text: not speech
            raise VoiceError(f"Amazon Polly returned no audio ({len(pcm)} bytes) for voice "
                             f"'{polly_voice_id(voice)}'")
        if len(pcm) % 2:
            pcm = pcm[:-1]
        return pcm

    async def synthesize(self, text: str, voice: VoiceSettings) -> tuple[bytes, int]:
        pcm = await asyncio.to_thread(self._synthesize_blocking, text, voice)
        return pcm, SAMPLE_RATE


def register(client_factory: Any = None) -> None:
    """Register ``"polly"`` with the core's voice registry (the recorder does this at start)."""
    register_provider("polly", lambda: PollyProvider(client_factory() if client_factory else None))
