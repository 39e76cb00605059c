"""Resampling and silence trimming used on every voice clip (numpy measurements)."""

from __future__ import annotations

import numpy as np

from app.core.mix.audio import float_to_pcm, resample, trim_silence


def _tone(freq: float, rate: int, seconds: float, amp: float = 0.5) -> np.ndarray:
    t = np.arange(round(rate * seconds)) / rate
    return float_to_pcm(amp * np.sin(2 * np.pi * freq * t))


def test_resample_keeps_timing_and_waveform() -> None:
    x = _tone(440.0, 22050, 1.0)
    y = resample(x, 22050, 48000)
    assert len(y) == 48000
    ref = float_to_pcm(0.5 * np.sin(2 * np.pi * 440.0 * np.arange(48000) / 48000))
    # no delay and no distortion away from the edges: within a few LSB of the ideal 48 kHz tone
    assert np.abs(y[200:-200].astype(int) - ref[200:-200]).max() < 8


def test_resample_removes_nothing_audible_and_passes_silence() -> None:
    assert resample(np.zeros(1000, dtype=np.int16), 22050, 48000).max() == 0
    assert len(resample(np.zeros(0, dtype=np.int16), 22050, 48000)) == 0
    same = _tone(1000.0, 48000, 0.1)
    assert np.array_equal(resample(same, 48000, 48000), same)


def test_resample_impulse_lands_at_the_right_sample() -> None:
    x = np.zeros(22050, dtype=np.int16)
    x[11025] = 20000  # 0.5 s
    y = resample(x, 22050, 48000)
    assert abs(int(np.argmax(y)) - 24000) <= 1


def test_trim_silence_keeps_a_short_margin() -> None:
    rate = 22050
    speech = _tone(300.0, rate, 0.5)
    x = np.concatenate([np.zeros(int(0.28 * rate), np.int16), speech, np.zeros(int(0.4 * rate), np.int16)])
    y = trim_silence(x, rate)
    lead = int(np.nonzero(np.abs(y.astype(int)) > 327)[0][0])
    assert lead <= round(0.011 * rate)
    assert abs(len(y) - (len(speech) + 0.01 * rate + 0.06 * rate)) < 0.005 * rate
    assert len(trim_silence(np.zeros(500, np.int16), rate)) == 0


def test_both_resampler_paths_agree_with_the_ideal_tone() -> None:
    # 44.1k -> 48k runs the block (matrix) path; 22051 -> 48000 has a huge period: the gather path
    for rate in (44_100, 16_000, 22_051):
        x = _tone(440.0, rate, 0.25)
        y = resample(x, rate, 48_000)
        n = np.arange(len(y))
        ref = float_to_pcm(0.5 * np.sin(2 * np.pi * 440.0 * n / 48_000))
        assert len(y) == -(-len(x) * 48_000 // rate)
        assert np.abs(y[200:-200].astype(int) - ref[200:-200]).max() < 8, rate
