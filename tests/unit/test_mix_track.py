"""The narration track: clips placed sample-exactly, silence elsewhere, bugs refused."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from app.core.errors import RenderError
from app.core.mix.audio import SAMPLE_RATE, read_wav, wav_duration, write_wav_atomic
from app.core.voice import VoiceClip


def _clip(tmp_path: Path, name: str, seconds: float, value: int) -> VoiceClip:
    n = round(seconds * SAMPLE_RATE)
    samples = np.full(n, value, dtype=np.int16)
    samples[0] = value + 1  # a marker on the very first sample
    path = write_wav_atomic(tmp_path / f"{name}.wav", samples)
    return VoiceClip(path, n / SAMPLE_RATE, {}, name, name)


def test_clips_land_on_their_exact_sample(tmp_path: Path) -> None:
    from app.core.mix.audio import build_narration_track

    a = _clip(tmp_path, "a", 0.5, 1000)
    b = _clip(tmp_path, "b", 0.25, 2000)
    empty = VoiceClip(tmp_path / "none.wav", 0.0, {}, "", "empty")
    out = build_narration_track([(1.2345, b), (0.6, a), (3.0, empty)], 3.5, tmp_path / "track.wav")
    samples, rate = read_wav(out)
    assert rate == SAMPLE_RATE and len(samples) == round(3.5 * SAMPLE_RATE)
    assert wav_duration(out) == 3.5
    sa, sb = round(0.6 * SAMPLE_RATE), round(1.2345 * SAMPLE_RATE)
    assert samples[sa - 1] == 0 and samples[sa] == 1001 and samples[sa + 1] == 1000
    assert samples[sa + 24000 - 1] == 1000 and samples[sa + 24000] == 0
    assert samples[sb - 1] == 0 and samples[sb] == 2001 and samples[sb + 12000 - 1] == 2000
    assert samples[sb + 12000] == 0
    assert np.count_nonzero(samples) == 24000 + 12000
    assert not list(tmp_path.glob("*.part"))


def test_overlap_and_overrun_are_refused(tmp_path: Path) -> None:
    from app.core.mix.audio import build_narration_track

    a = _clip(tmp_path, "a", 1.0, 1)
    b = _clip(tmp_path, "b", 1.0, 2)
    with pytest.raises(RenderError, match="overlaps"):
        build_narration_track([(0.0, a), (0.99, b)], 5.0, tmp_path / "t.wav")
    with pytest.raises(RenderError, match="runs past the end"):
        build_narration_track([(4.5, a)], 5.0, tmp_path / "t.wav")
    assert not (tmp_path / "t.wav").exists()
    # back to back is fine
    out = build_narration_track([(0.0, a), (1.0, b)], 2.0, tmp_path / "t.wav")
    samples, _ = read_wav(out)
    assert samples[47999] == 1 and samples[48000] == 3


def test_empty_track_is_silence(tmp_path: Path) -> None:
    from app.core.mix.audio import build_narration_track

    out = build_narration_track([], 0.5, tmp_path / "silent.wav")
    samples, _ = read_wav(out)
    assert len(samples) == 24000 and not samples.any()


def test_track_file_has_ordinary_permissions(tmp_path: Path) -> None:
    import os
    import stat

    from app.core.mix.audio import build_narration_track

    old = os.umask(0o022)
    try:
        out = build_narration_track([], 0.1, tmp_path / "t.wav")
    finally:
        os.umask(old)
    assert stat.S_IMODE(out.stat().st_mode) == 0o644
    assert [p.name for p in tmp_path.iterdir()] == ["t.wav"]

