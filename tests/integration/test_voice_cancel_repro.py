"""Real Piper: voicing stops within a second of a cancel, and the same text always gives the same audio.

Before: Piper voiced a whole segment in a thread and the cancel was looked at between segments (19 s
to stop a 2,800-character narration; a 1 MB one ignored Ctrl-C for 11 minutes), and its in-graph
noise made every synthesis of a text different.
"""

from __future__ import annotations

import asyncio
import subprocess
import sys
import time
from pathlib import Path

import pytest

from app.core.errors import Cancelled
from app.core.infra.progress import CancelToken
from app.core.script import VoiceSettings
from app.core.voice import PiperProvider, VoiceService

pytestmark = pytest.mark.slow

ROOT = Path(__file__).resolve().parents[2]
#: ~5,000 characters of ordinary narration
LONG = " ".join(f"Step {i} shows the viewer one more part of the product, and explains why it matters to the "
                "people who use it every single day." for i in range(45))
#: the issue's bound, plus slack for this shared, loaded 2-core machine (said in the report)
BOUND_S = 1.0 + 0.5


def test_long_narration_stops_within_a_second_of_the_token(tmp_path: Path) -> None:
    assert len(LONG) >= 5000

    async def scenario() -> tuple[float, float]:
        provider = PiperProvider()
        await provider.preload(VoiceSettings())
        service = VoiceService(provider, tmp_path)
        cancel = CancelToken()
        work = asyncio.ensure_future(service.voice(LONG, VoiceSettings(), cancel))
        # any moment of the voicing must do: this one is after loading, a few sentences in
        await asyncio.sleep(2.0)
        assert not work.done()
        t0 = time.monotonic()
        cancel.cancel()
        with pytest.raises(Cancelled):
            await work
        token_latency = time.monotonic() - t0
        # the same through a task cancel (what the CLI's signal handler also does)
        work = asyncio.ensure_future(service.voice(LONG + " Again.", VoiceSettings()))
        await asyncio.sleep(2.0)
        t0 = time.monotonic()
        work.cancel()
        with pytest.raises(asyncio.CancelledError):
            await work
        return token_latency, time.monotonic() - t0

    token_s, task_s = asyncio.run(scenario())
    print(f"\nvoicing {len(LONG)} characters: stopped {token_s * 1000:.0f} ms after the token, "
          f"{task_s * 1000:.0f} ms after a task cancel")
    assert token_s <= BOUND_S and task_s <= BOUND_S
    assert not list(tmp_path.glob("*.wav")), "a cancelled clip must not be cached"


def _voice_in_a_new_process(cache: Path, texts: list[str]) -> list[bytes]:
    code = f"""
import asyncio, sys
from pathlib import Path
from app.core.script import VoiceSettings
from app.core.voice import PiperProvider, VoiceService
async def go():
    s = VoiceService(PiperProvider(), Path({str(cache)!r}))
    for t in {texts!r}:
        clip = await s.voice(t, VoiceSettings())
        print(clip.path.name)
asyncio.run(go())
"""
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=300, check=True,
                         env={"PYTHONPATH": str(ROOT), "PATH": "/usr/bin:/bin"})
    return [(cache / name).read_bytes() for name in out.stdout.split()]


def test_the_same_text_gives_the_same_audio_whatever_was_voiced_before(tmp_path: Path) -> None:
    text = 'Open the settings. <mark name="here"/> Then choose a plan that suits the team.'
    # one process voices it first; another voices two other texts before it
    first = _voice_in_a_new_process(tmp_path / "a", [text])[0]
    later = _voice_in_a_new_process(tmp_path / "b", ["Something else entirely.", "And one more, longer, line.",
                                                     text])[-1]
    assert first == later, "Piper's noise depends on what the process voiced before"
