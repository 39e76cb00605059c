"""The emulator's **fake Amazon Polly**: ``SynthesizeSpeech`` served on loopback, voiced with Piper.

Polly cannot exist offline (moto's answers 8 zero bytes), and the deployed recorder image voices with
Polly only (it carries no Piper, see docs/cloud.md "The recorder image").  So that the image runs
unchanged in the emulator, the emulator serves this stand-in and points the task's Polly client at it
(``AWS_ENDPOINT_URL_POLLY``).  It is a **fake**: the audio is the host's Piper voice whatever ``VoiceId``
says, so it proves the recorder's Polly path end to end (request shape, ``pcm`` at 16 kHz, SSML prosody
rate, errors), not Polly's voices.

What it answers, as Polly's REST API does for what :mod:`app.cloud.polly` sends:

* ``POST /v1/speech`` with a JSON body (``Engine``, ``OutputFormat``, ``SampleRate``, ``Text``,
  ``TextType``, ``VoiceId``): the audio as the body, ``Content-Type: audio/pcm`` (signed 16-bit
  little-endian mono at ``SampleRate``) and ``x-amzn-RequestCharacters``;
* ``OutputFormat`` other than ``pcm`` (the recorder never asks for mp3/ogg/json speech marks), a sample
  rate Polly does not offer for pcm, an unknown engine, empty or over-long text, or SSML that does not
  parse: a 400 with ``x-amzn-ErrorType`` and a JSON ``message``, which botocore raises as ``ClientError``.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import re
import threading
import xml.etree.ElementTree as ET
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

SPEECH_PATH = "/v1/speech"
PCM_RATES = ("8000", "16000")  # Polly's pcm sample rates
ENGINES = ("standard", "neural", "long-form", "generative")
MAX_TEXT_CHARS = 3000  # Polly's limit on billed characters per request
#: Polly voice ids are one capitalised word (Joanna, Matthew, Vicki...)
VOICE_ID_RE = re.compile(r"^[A-Z][A-Za-z]{1,30}$")


class PollyError(Exception):
    def __init__(self, kind: str, message: str, status: int = 400) -> None:
        super().__init__(message)
        self.kind, self.message, self.status = kind, message, status


def _text_and_rate(text: str, text_type: str) -> tuple[str, float]:
    """The words to speak and the prosody rate (1.0 = normal) of a request's text or SSML."""
    if text_type != "ssml":
        return text, 1.0
    try:
        root = ET.fromstring(text)
    except ET.ParseError as exc:
        raise PollyError("InvalidSsmlException", f"Invalid SSML request: {exc}") from None
    if root.tag != "speak":
        raise PollyError("InvalidSsmlException", "Invalid SSML request: the root element must be <speak>")
    rate = 1.0
    for el in root.iter("prosody"):
        value = el.get("rate", "")
        if value.endswith("%"):
            try:
                rate = float(value[:-1]) / 100
            except ValueError:
                raise PollyError("InvalidSsmlException", f"Invalid SSML request: prosody rate {value!r}") from None
    return "".join(root.itertext()), rate


def synthesize_pcm(text: str, rate: float, sample_rate: int) -> bytes:
    """Piper's voice as signed 16-bit mono PCM at ``sample_rate`` (the fake's one voice)."""
    import numpy as np

    from app.core.mix.audio import resample
    from app.core.script import VoiceSettings
    from app.core.voice.piper import PiperProvider

    pcm, rate_in = asyncio.run(PiperProvider().synthesize(text, VoiceSettings(provider="piper", rate=rate)))
    samples = np.frombuffer(pcm, dtype="<i2")
    return bytes(resample(samples, rate_in, sample_rate).astype("<i2").tobytes())


def answer(body: bytes) -> tuple[bytes, int]:
    """(PCM audio, request characters) for one SynthesizeSpeech body, or :class:`PollyError`."""
    try:
        req: dict[str, Any] = json.loads(body or b"{}")
    except ValueError:
        raise PollyError("SerializationException", "the request body is not JSON") from None
    if not isinstance(req, dict):
        raise PollyError("SerializationException", "the request body is not a JSON object")
    fmt, sr = req.get("OutputFormat"), str(req.get("SampleRate") or "16000")
    voice, engine = str(req.get("VoiceId") or ""), str(req.get("Engine") or "standard")
    text, text_type = str(req.get("Text") or ""), str(req.get("TextType") or "text")
    if fmt != "pcm":
        raise PollyError("ValidationException", f"the fake Polly only answers OutputFormat 'pcm' (asked {fmt!r})")
    if sr not in PCM_RATES:
        raise PollyError("InvalidSampleRateException", f"Invalid sample rate {sr} for output format pcm")
    if engine not in ENGINES:
        raise PollyError("ValidationException", f"Value '{engine}' at 'engine' failed to satisfy constraint")
    if not VOICE_ID_RE.match(voice):
        raise PollyError("ValidationException", f"Value '{voice}' at 'voiceId' failed to satisfy constraint")
    words, rate = _text_and_rate(text, text_type)
    if not words.strip():
        raise PollyError("ValidationException", "Text must not be empty")
    if len(words) > MAX_TEXT_CHARS:
        raise PollyError("TextLengthExceededException",
                         f"Maximum text length has been exceeded ({len(words)} > {MAX_TEXT_CHARS})")
    return synthesize_pcm(words, rate, int(sr)), len(words)


@dataclass
class FakePolly:
    """``start()`` serves ``endpoint`` on loopback; ``requests`` records (VoiceId, status) and ``spoken``
    (VoiceId, Text as sent) of every request answered with audio, so a test can see which voice was asked
    to read which words (the audio itself is Piper's whatever the voice); ``stop()``."""

    requests: list[tuple[str, int]] = field(default_factory=list)
    spoken: list[tuple[str, str]] = field(default_factory=list)
    _server: ThreadingHTTPServer | None = None
    #: Piper runs one synthesis at a time (its own lock); requests queue here rather than in threads
    _lock: threading.Lock = field(default_factory=threading.Lock)

    @property
    def endpoint(self) -> str:
        assert self._server is not None, "the fake Polly is not started"
        return f"http://127.0.0.1:{self._server.server_address[1]}"

    def start(self) -> str:
        fake = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, fmt: str, *args: Any) -> None:  # quiet: the emulator logs tasks
                pass

            def do_POST(self) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                body = self.rfile.read(length)
                voice = text = ""
                with contextlib.suppress(ValueError, AttributeError):
                    req = json.loads(body or b"{}")
                    voice, text = str(req.get("VoiceId") or ""), str(req.get("Text") or "")
                try:
                    if self.path.split("?")[0] != SPEECH_PATH:
                        raise PollyError("UnknownOperationException", f"no operation at {self.path}", 404)
                    with fake._lock:
                        audio, chars = answer(body)
                except PollyError as exc:
                    fake.requests.append((voice, exc.status))
                    out = json.dumps({"message": exc.message}).encode()
                    self.send_response(exc.status)
                    self.send_header("x-amzn-ErrorType", exc.kind)
                    self.send_header("Content-Type", "application/json")
                    self.send_header("Content-Length", str(len(out)))
                    self.end_headers()
                    self.wfile.write(out)
                    return
                fake.requests.append((voice, 200))
                fake.spoken.append((voice, text))
                self.send_response(200)
                self.send_header("Content-Type", "audio/pcm")
                self.send_header("x-amzn-RequestCharacters", str(chars))
                self.send_header("Content-Length", str(len(audio)))
                self.end_headers()
                self.wfile.write(audio)

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        threading.Thread(target=self._server.serve_forever, name="fake-polly", daemon=True).start()
        return self.endpoint

    def stop(self) -> None:
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            self._server = None
