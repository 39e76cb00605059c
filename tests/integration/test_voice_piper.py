"""Real Piper and espeak-ng: bookmark timing, trimmed silence, the cache, and the fallback."""

from __future__ import annotations

import asyncio
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest

from app.core.errors import Cancelled
from app.core.infra.progress import CancelToken, Progress
from app.core.mix.audio import SAMPLE_RATE, read_wav
from app.core.script import VoiceSettings
from app.core.voice import EspeakProvider, PiperProvider, VoiceService, load_provider

pytestmark = pytest.mark.slow

#: -40 dBFS, the level silencedetect-style measurements treat as silence
THRESHOLD = 328


def _onset_s(samples: np.ndarray, start: int = 0) -> float:
    loud = np.nonzero(np.abs(samples[start:].astype(np.int32)) > THRESHOLD)[0]
    return (start + int(loud[0])) / SAMPLE_RATE


class CountingPiper(PiperProvider):
    """The real Piper provider, counting how often it is asked to synthesise."""

    def __init__(self) -> None:
        self.calls = 0

    async def synthesize(self, text: str, voice: VoiceSettings) -> tuple[bytes, int]:
        self.calls += 1
        return await super().synthesize(text, voice)


def test_piper_two_segments_mark_offset_and_cache(tmp_path: Path) -> None:
    async def go() -> None:
        t0 = time.monotonic()
        provider = CountingPiper()
        await provider.preload()
        load_s = time.monotonic() - t0
        svc = VoiceService(provider, tmp_path)
        narration = 'Open the settings page. <mark name="save"/> Then click save.'
        t0 = time.monotonic()
        clip = await svc.voice(narration, VoiceSettings())
        synth_s = time.monotonic() - t0
        print(f"piper load {load_s:.2f}s, voice {synth_s:.2f}s for {clip.duration_s:.2f}s "
              f"(RTF {svc.stats.real_time_factor:.3f})")
        assert provider.calls == 2
        samples, rate = read_wav(clip.path)
        assert rate == SAMPLE_RATE and clip.duration_s == len(samples) / SAMPLE_RATE
        assert 1.5 < clip.duration_s < 5.0
        # Piper pads ~0.05-0.28 s; after trimming speech starts within 15 ms
        assert _onset_s(samples) < 0.015
        # the mark sits where "Then" starts: speech resumes within 15 ms after it, and before it
        # there is the inter-segment pause (no speech in the 100 ms preceding the mark)
        mark = clip.marks["save"]
        m = round(mark * SAMPLE_RATE)
        assert 0.8 < mark < clip.duration_s - 0.5
        assert _onset_s(samples, m) - mark < 0.015
        assert np.abs(samples[m - round(0.1 * SAMPLE_RATE) : m].astype(np.int32)).max() <= THRESHOLD
        assert clip.text == "Open the settings page. Then click save."

        # same narration (different whitespace): a cache hit, no synthesis, same file
        t0 = time.monotonic()
        respaced = 'Open the settings page.<mark name="save"/>   Then click save.'
        again = await svc.voice(respaced, VoiceSettings())
        assert again == clip and provider.calls == 2 and time.monotonic() - t0 < 0.1
        # a new rate is a new clip, and a faster one
        faster = await svc.voice(narration, VoiceSettings(rate=1.5))
        assert provider.calls == 4 and faster.cache_key != clip.cache_key
        assert faster.duration_s < clip.duration_s * 0.85

    asyncio.run(go())


def test_voice_all_reports_progress_and_cancels(tmp_path: Path) -> None:
    async def go() -> None:
        svc = VoiceService(await load_provider("espeak"), tmp_path)
        events: list[Progress] = []
        clips = await svc.voice_all(["First card.", "", "Third card."], VoiceSettings(), events.append)
        assert [c.duration_s > 0.3 for c in clips] == [True, False, True]
        assert clips[1].marks == {} and clips[1].text == ""
        assert [round(e.fraction, 2) for e in events] == [0.0, 0.33, 0.67, 1.0]
        assert all(e.stage == "voice" for e in events)
        token = CancelToken()
        token.cancel()
        with pytest.raises(Cancelled):
            await svc.voice_all(["Never voiced."], VoiceSettings(), cancel=token)

    asyncio.run(go())


def test_espeak_provider_voices_marks(tmp_path: Path) -> None:
    async def go() -> None:
        svc = VoiceService(EspeakProvider(), tmp_path)
        clip = await svc.voice('Hello <mark name="w"/> world', VoiceSettings(provider="espeak"))
        samples, _ = read_wav(clip.path)
        assert _onset_s(samples) < 0.015
        assert 0.2 < clip.marks["w"] < clip.duration_s - 0.2

    asyncio.run(go())


def test_piper_falls_back_to_espeak_when_unimportable(tmp_path: Path) -> None:
    code = f"""
import asyncio, sys
sys.modules["piper"] = None  # make 'import piper' fail as if piper-tts were not installed
from app.core.voice import get_provider, VoiceService
from app.core.script import VoiceSettings
p = get_provider("piper")
print("NAME", p.name)
print("REASON", p.fallback_reason)
svc = VoiceService(p, __import__("pathlib").Path({str(tmp_path)!r}))
clip = asyncio.run(svc.voice("Fallback works.", VoiceSettings()))
print("DURATION", clip.duration_s)
"""
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60, check=True)
    lines = dict(line.split(" ", 1) for line in out.stdout.splitlines())
    assert lines["NAME"] == "espeak"
    assert "piper-tts is not importable" in lines["REASON"]
    assert float(lines["DURATION"]) > 0.5


def test_unloadable_piper_model_falls_back_with_reason(tmp_path: Path) -> None:
    model = tmp_path / "broken.onnx"
    model.write_bytes(b"not an onnx model")
    (tmp_path / "broken.onnx.json").write_text('{"audio": {"sample_rate": 22050}}')
    provider = asyncio.run(load_provider("piper", VoiceSettings(voice=str(model))))
    assert isinstance(provider, EspeakProvider)
    assert provider.fallback_reason and "broken.onnx" in provider.fallback_reason


def test_warm_cache_skips_loading_the_model(tmp_path: Path) -> None:
    """With every clip cached, a render does not load Piper (~1 s of CPU beside the browser's
    start-up); one uncached narration and it does.  Fresh processes, so nothing is loaded yet."""
    code = """
import asyncio, sys
from app.core.script import VoiceSettings
from app.core.voice import VoiceService, load_provider
from app.core.voice.piper import is_loaded
narrations = sys.argv[1:]
async def go():
    provider = await load_provider("piper", VoiceSettings(), narrations)
    print("loaded-before-voicing", is_loaded())
    await VoiceService(provider).voice_all(narrations, VoiceSettings())
asyncio.run(go())
"""
    env = {**__import__("os").environ, "XDG_CACHE_HOME": str(tmp_path / "cache")}

    def run(*narrations: str) -> str:
        out = subprocess.run([sys.executable, "-c", code, *narrations], capture_output=True, text=True,
                             env=env, timeout=120, check=True)
        return out.stdout.strip()

    assert run("A cached line.") == "loaded-before-voicing True"  # cold cache: loaded up front
    assert list((tmp_path / "cache").rglob("*.wav"))
    assert run("A cached line.") == "loaded-before-voicing False"
    assert run("A cached line.", "And a new one.") == "loaded-before-voicing True"
