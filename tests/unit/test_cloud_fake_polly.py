"""The emulator's fake Polly (``app.cloud.emulator.polly``) and the recorder's voice rules for an image
without Piper.

The fake is served on loopback and called by the real ``PollyProvider`` through a real boto3 Polly client
(botocore's REST-JSON protocol, ``pcm`` at 16 kHz); it voices with the host's real Piper.
"""

from __future__ import annotations

import asyncio
from collections.abc import Iterator

import boto3
import pytest
from botocore.exceptions import ClientError

from app.cloud.emulator.polly import FakePolly
from app.cloud.polly import DEFAULT_VOICE, PollyProvider, polly_voice_id
from app.core.errors import ToolMissingError
from app.core.script import LanguageVoice, Settings, VoiceSettings
from app.core.voice.base import get_provider, register_provider, unregister_provider
from app.core.voice.piper import piper_unavailable_reason

pytestmark = pytest.mark.skipif(piper_unavailable_reason() is not None, reason="the fake Polly voices with Piper")


@pytest.fixture()
def fake() -> Iterator[FakePolly]:
    f = FakePolly()
    f.start()
    try:
        yield f
    finally:
        f.stop()


def _client(endpoint: str) -> object:
    return boto3.client("polly", endpoint_url=endpoint, region_name="us-east-1",
                        aws_access_key_id="emulator", aws_secret_access_key="emulator")


def test_polly_provider_voices_through_the_fake_as_16k_pcm(fake: FakePolly) -> None:
    provider = PollyProvider(_client(fake.endpoint))
    text = "Open the settings page and choose a plan."
    pcm, rate = asyncio.run(provider.synthesize(text, VoiceSettings(provider="polly")))
    fast, _ = asyncio.run(provider.synthesize(text, VoiceSettings(provider="polly", rate=1.6)))
    assert rate == 16_000 and len(pcm) % 2 == 0
    seconds = len(pcm) / 2 / rate
    assert 1.0 < seconds < 8.0, seconds  # a sentence of speech, not a stub
    assert max(abs(int.from_bytes(pcm[i:i + 2], "little", signed=True)) for i in range(0, len(pcm), 2)) > 1000
    # the SSML prosody rate reaches the voice: 1.6x is clearly shorter
    assert len(fast) < 0.8 * len(pcm), (len(fast), len(pcm))
    assert fake.requests == [("Joanna", 200), ("Joanna", 200)]


def test_the_fake_refuses_what_polly_refuses(fake: FakePolly) -> None:
    client = _client(fake.endpoint)
    cases = [
        ({"OutputFormat": "mp3", "VoiceId": "Joanna", "Text": "hi"}, "ValidationException"),
        ({"OutputFormat": "pcm", "SampleRate": "22050", "VoiceId": "Joanna", "Text": "hi"},
         "InvalidSampleRateException"),
        ({"OutputFormat": "pcm", "VoiceId": "Joanna", "Text": "<speak><prosody>hi</speak>", "TextType": "ssml"},
         "InvalidSsmlException"),
        ({"OutputFormat": "pcm", "VoiceId": "Joanna", "Text": "x" * 3001}, "TextLengthExceededException"),
    ]
    for kwargs, code in cases:
        with pytest.raises(ClientError) as err:
            client.synthesize_speech(**kwargs)  # type: ignore[attr-defined]
        assert err.value.response["Error"]["Code"] == code, kwargs
    assert [status for _, status in fake.requests] == [400] * len(cases)


def test_polly_gets_a_polly_voice_id_when_a_job_is_overridden_to_polly() -> None:
    assert polly_voice_id(VoiceSettings(provider="polly", voice="Matthew")) == "Matthew"
    for other in ("en_US-joe-medium", "de", None):
        assert polly_voice_id(VoiceSettings(provider="polly", voice=other)) == DEFAULT_VOICE


def test_recorder_without_piper_fails_by_name(monkeypatch: pytest.MonkeyPatch) -> None:
    """In the deployed image (no piper-tts), asking for Piper is a ToolMissing naming it, not espeak."""
    import recorder.main as rm
    from app.core.voice import _piper_or_espeak

    monkeypatch.setattr("app.core.voice.piper.piper_unavailable_reason",
                        lambda: "piper-tts is not importable (no module named 'piper')")
    try:
        rm.register_cloud_voices(lambda: _client("http://127.0.0.1:9"))
        with pytest.raises(ToolMissingError, match=r"'piper' is not in this recorder image.*Amazon Polly"):
            get_provider("piper")
        assert isinstance(get_provider("polly"), PollyProvider)
        rm.check_voices(Settings(voice=VoiceSettings(provider="polly")))  # Polly only: fine
        with pytest.raises(ToolMissingError, match="'piper'"):  # a language still on Piper is caught early
            rm.check_voices(Settings(voice=VoiceSettings(provider="polly"),
                                     languages=[LanguageVoice(lang="de", provider="piper")]))
    finally:
        register_provider("piper", _piper_or_espeak)
        unregister_provider("polly")
