"""espeak-ng: the robotic but tiny and very fast fallback voice (a Debian package, no model).

Text goes in on stdin (never on the command line, so narration can't be read as an option) and
a WAV comes out on stdout.  No shell is involved.
"""

from __future__ import annotations

import shutil
import struct
import subprocess
from functools import lru_cache
from pathlib import Path
from typing import Any

from ..errors import ToolMissingError
from ..infra.proc import run_tool
from ..script import VoiceSettings
from .base import TTSProvider, VoiceError

DEFAULT_VOICE = "en-us"
#: espeak-ng's default speaking rate in words per minute
BASE_WPM = 175


def find_espeak() -> Path:
    for name in ("espeak-ng", "espeak"):
        w = shutil.which(name)
        if w:
            return Path(w)
    raise ToolMissingError("espeak-ng is not installed", hint="apt-get install espeak-ng")


@lru_cache(maxsize=4)
def _espeak_version(exe: Path) -> str:
    try:
        out = subprocess.run([str(exe), "--version"], capture_output=True, text=True, timeout=10, check=False)
    except (OSError, subprocess.TimeoutExpired):
        return "unknown"
    return out.stdout.strip().splitlines()[0] if out.stdout.strip() else "unknown"


def parse_wav_bytes(data: bytes) -> tuple[bytes, int]:
    """PCM payload and rate of a mono s16 RIFF WAV held in memory.

    espeak-ng writing to a pipe cannot seek back to fix the header, so the sizes in it are bogus
    (0x7fffffff); take everything after the ``data`` chunk header instead of trusting them.
    """
    if len(data) < 12 or data[:4] != b"RIFF" or data[8:12] != b"WAVE":
        raise VoiceError("espeak-ng did not produce WAV audio")
    pos = 12
    rate = 0
    while pos + 8 <= len(data):
        cid, size = data[pos : pos + 4], struct.unpack("<I", data[pos + 4 : pos + 8])[0]
        body = pos + 8
        if cid == b"fmt ":
            fmt, channels, rate = struct.unpack("<HHI", data[body : body + 8])
            bits = struct.unpack("<H", data[body + 14 : body + 16])[0]
            if fmt != 1 or channels != 1 or bits != 16:
                raise VoiceError(
                    f"espeak-ng produced unexpected audio (format {fmt}, {channels} ch, {bits} bit)"
                )
        elif cid == b"data":
            if not rate:
                raise VoiceError("espeak-ng WAV has no format chunk")
            pcm = data[body:]
            return pcm[: len(pcm) // 2 * 2], rate
        pos = body + size + (size & 1)
    raise VoiceError("espeak-ng WAV has no audio data")


class EspeakProvider(TTSProvider):
    """espeak-ng via a subprocess.  ``rate`` scales the words-per-minute speed."""

    name = "espeak"

    def __init__(self, fallback_reason: str | None = None) -> None:
        self.fallback_reason = fallback_reason

    def _voice_id(self, voice: VoiceSettings) -> str:
        # A Piper/Polly voice id means nothing to espeak; only honour ids meant for it.
        if voice.provider == "espeak" and voice.voice:
            return voice.voice
        return DEFAULT_VOICE

    def cache_identity(self, voice: VoiceSettings) -> dict[str, Any]:
        exe = find_espeak()
        return {
            "provider": self.name,
            "provider_version": _espeak_version(exe),
            "voice": self._voice_id(voice),
            "wpm": round(BASE_WPM * voice.rate),
            "format": "s16le-mono",
        }

    async def synthesize(self, text: str, voice: VoiceSettings) -> tuple[bytes, int]:
        exe = find_espeak()
        argv = [str(exe), "--stdout", "-v", self._voice_id(voice), "-s", str(round(BASE_WPM * voice.rate))]
        run = await run_tool(argv, stdin=text.encode("utf-8"), collect_stdout=True,
                             missing_hint="apt-get install espeak-ng")
        if not run.ok:
            raise VoiceError(f"espeak-ng failed (exit {run.returncode}): {run.tail(1)}")
        out = run.stdout
        return parse_wav_bytes(out)
