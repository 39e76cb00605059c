"""Music bed: synthesis of the bundled tracks and the pure ffmpeg graph/argv builders."""

from __future__ import annotations

import wave
from pathlib import Path

import numpy as np
import pytest

from app.core import mix
from app.core.errors import RenderError
from app.core.mix import music
from app.core.script import Settings, validate_script


@pytest.fixture(scope="module")
def calm() -> np.ndarray:
    return music.synthesize_track("calm")


@pytest.fixture(scope="module")
def cache(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("music-cache")
    music.bundled_track("calm", folder)  # synthesised again, independently of the calm fixture
    return folder


def test_bundled_track_is_a_seamless_stereo_pad(calm: np.ndarray) -> None:
    a = calm
    assert a.shape[1] == 2 and a.shape[0] == 16 * music.TRACK_RATE
    assert np.max(np.abs(a)) == pytest.approx(10 ** (-3 / 20), rel=1e-6)
    # seamless: the jump from the last sample to the first is no bigger than an ordinary step
    steps = np.abs(np.diff(a, axis=0)).max()
    assert np.abs(a[0] - a[-1]).max() <= steps * 1.01
    # stereo, not two copies of one channel
    assert not np.allclose(a[:, 0], a[:, 1])
    # a pad, not noise: nearly all energy under 2 kHz
    spec = np.abs(np.fft.rfft(a[: music.TRACK_RATE * 4, 0])) ** 2
    freqs = np.fft.rfftfreq(music.TRACK_RATE * 4, 1 / music.TRACK_RATE)
    assert spec[freqs < 2000].sum() / spec.sum() > 0.99


def test_unknown_track_is_a_clear_error() -> None:
    with pytest.raises(RenderError, match="unknown bundled track 'loud'"):
        music.synthesize_track("loud")


def test_bundled_track_is_deterministic_and_cached(cache: Path, calm: np.ndarray) -> None:
    (p,) = cache.iterdir()
    assert p.is_file() and p.suffix == ".wav"
    with wave.open(str(p), "rb") as w:
        assert (w.getnchannels(), w.getsampwidth(), w.getframerate()) == (2, 2, music.TRACK_RATE)
        pcm = np.frombuffer(w.readframes(w.getnframes()), "<i2").reshape(-1, 2)
    assert np.array_equal(pcm, np.clip(np.round(calm * 32767), -32768, 32767).astype("<i2"))
    mtime = p.stat().st_mtime_ns
    assert music.bundled_track("calm", cache) == p
    assert p.stat().st_mtime_ns == mtime  # cached: not rewritten
    assert [q.name for q in cache.iterdir()] == [p.name]  # no temp file left


def test_resolve_music_from_settings(tmp_path: Path, cache: Path) -> None:
    assert music.resolve_music(Settings(), None) is None
    s = Settings(music="bundled:calm", music_volume=0.2, music_fade_in_ms=500, music_ducking=False)
    bed = music.resolve_music(s, None, cache)
    assert bed is not None and bed.path.parent == cache
    assert (bed.volume, bed.fade_in_s, bed.fade_out_s, bed.ducking) == (0.2, 0.5, 2.5, False)
    track = tmp_path / "song.ogg"
    track.write_bytes(b"x")
    bed = music.resolve_music(Settings(music="song.ogg"), lambda rel: tmp_path / rel)
    assert bed is not None and bed.path == track
    with pytest.raises(RenderError, match=r"'gone\.ogg' is missing"):
        music.resolve_music(Settings(music="gone.ogg"), lambda rel: tmp_path / rel)
    assert music.resolve_music(Settings(music="bundled:calm", music_volume=0), None) is None


def test_music_settings_validate() -> None:
    base = {"cards": [{"id": "a"}]}
    validate_script({**base, "settings": {"music": "bundled:bright"}})
    for bad, msg in (("bundled:techno", "unknown bundled track"), ("/etc/x.ogg", "inside the job bundle")):
        with pytest.raises(Exception, match=msg):
            validate_script({**base, "settings": {"music": bad}})


def test_mix_graph_ducks_loops_fades_and_normalises() -> None:
    bed = music.MusicBed(Path("/m.wav"), volume=0.3, fade_in_s=1.5, fade_out_s=2.0)
    g = music.mix_graph(voice_in="1:a", music_in="3:a", bed=bed, duration_s=10.0, measured=None)
    assert "[1:a]aresample=48000" in g and "[3:a]aresample=48000" in g
    assert "asplit=2[rw_voice][rw_key]" in g
    assert "[rw_bed][rw_key]sidechaincompress=threshold=0.01:ratio=20" in g
    assert "atrim=duration=10.000000" in g and "volume=0.3000" in g
    assert "afade=t=in:st=0:d=1.500" in g and "afade=t=out:st=8.000:d=2.000" in g
    fixed = "asetnsamples=n=1024:p=0"
    assert f"amix=inputs=2:duration=first:normalize=0,{fixed},ebur128=peak=true," in g  # pass one: measure
    # every input of sidechaincompress and amix comes in fixed frames: the mix is reproducible
    assert f"apad=whole_dur=10.000000,{fixed},asplit=2" in g and f"makeup=1,{fixed}[rw_music]" in g
    assert f"d=2.000,{fixed}[rw_bed]" in g
    assert g.endswith("[aout]")
    quiet = music.LoudnessMeasure(-23.1, -12.2)
    g2 = music.mix_graph(voice_in="1:a", music_in="2:a", bed=bed, duration_s=10.0, measured=quiet,
                         target_lufs=-14)
    assert f"normalize=0,{fixed},volume=9.10dB,aresample" in g2 and "alimiter" not in g2  # linear gain only
    # fades never overlap on a short video
    short = music.mix_graph(voice_in="0:a", music_in="1:a", bed=bed, duration_s=2.0)
    assert "afade=t=in:st=0:d=1.000" in short and "afade=t=out:st=1.000:d=1.000" in short
    flat = music.mix_graph(voice_in="0:a", music_in="1:a",
                           bed=music.MusicBed(Path("/m.wav"), ducking=False), duration_s=5.0)
    assert "sidechaincompress" not in flat and "asplit" not in flat


def test_normalize_chain_limits_only_when_the_peak_would_clip() -> None:
    assert music.normalize_chain(-16, None) == ["ebur128=peak=true"]
    assert music.normalize_chain(-16, music.LoudnessMeasure(-20.0, -8.0)) == ["volume=4.00dB"]
    peaky = music.normalize_chain(-16, music.LoudnessMeasure(-24.0, -3.0))
    assert peaky[0] == "volume=8.00dB" and peaky[1].startswith("alimiter=limit=0.7499:")
    assert "level=false" in peaky[1] and "latency=true" in peaky[1]
    assert music.normalize_chain(-16, music.LoudnessMeasure(-70.0, -99.0)) == []  # silence stays silence


def test_mux_args_with_music_input_after_chapters() -> None:
    bed = music.MusicBed(Path("/music/bed.wav"))
    args = mix.build_mux_args(Path("ffmpeg"), video=Path("v.mp4"), narration=Path("n.wav"), out=Path("o"),
                              chapters=Path("c.ffmeta"), duration_s=4.0, music=bed)
    i = args.index("/music/bed.wav")
    assert args[i - 3:i] == ["-stream_loop", "-1", "-i"]
    inputs = [args[k + 1] for k, a in enumerate(args) if a == "-i"]
    assert inputs == ["v.mp4", "n.wav", "c.ffmeta", "/music/bed.wav"]
    graph = args[args.index("-filter_complex") + 1]
    assert "[3:a]" in graph and "[1:a]" in graph and mix.SPEECH_COMPRESSOR in graph
    assert args[args.index("-map_metadata") + 1] == "2"
    no_chapters = mix.build_mux_args(Path("ffmpeg"), video=Path("v.mp4"), narration=Path("n.wav"),
                                     out=Path("o"), chapters=None, duration_s=4.0, music=bed)
    assert "[2:a]" in no_chapters[no_chapters.index("-filter_complex") + 1]


SUMMARY = """[Parsed_ebur128_7 @ 0x55] t: 8.9  TARGET:-23 LUFS    M: -20.1 S: -21.0     I: -22.1 LUFS
[Parsed_ebur128_7 @ 0x55] Summary:

  Integrated loudness:
    I:         -22.2 LUFS
    Threshold: -32.6 LUFS

  Loudness range:
    LRA:         4.9 LU
    Threshold: -42.6 LUFS
    LRA low:   -25.1 LUFS
    LRA high:  -20.2 LUFS

  True peak:
    Peak:      -12.2 dBFS
"""


def test_measure_args_and_parse() -> None:
    bed = music.MusicBed(Path("/m.wav"))
    args = music.measure_loudness_args(Path("ffmpeg"), narration=Path("n.wav"), bed=bed, duration_s=3.0)
    assert args[-3:] == ["-f", "null", "-"] and "ebur128=peak=true" in args[args.index("-filter_complex") + 1]
    assert args[args.index("-loglevel") + 1] == "info"  # the summary is printed at info level
    assert music.parse_ebur128_summary(SUMMARY) == music.LoudnessMeasure(-22.2, -12.2)
    silent = music.parse_ebur128_summary(SUMMARY.replace("-12.2 dBFS", "-inf dBFS"))
    assert silent.true_peak_db == -99.0
    with pytest.raises(RenderError, match="no result"):
        music.parse_ebur128_summary("nothing here")


def test_music_level_is_relative_to_the_narration() -> None:
    bed = music.MusicBed(Path("/m.wav"), volume=0.35)
    voice = music.LoudnessMeasure(-20.0, -3.0)
    track = music.LoudnessMeasure(-12.5, -3.0)
    gain = music.music_gain_db(bed, voice, track, -16.0)
    assert gain == pytest.approx(-20.0 + 20 * np.log10(0.35) + 12.5)  # 9.1 dB under the voice
    # no narration: relative to the target instead; a silent file is left alone
    assert music.music_gain_db(bed, music.LoudnessMeasure(-70.0, -99.0), track, -16.0) == pytest.approx(
        -16.0 + 20 * np.log10(0.35) + 12.5)
    assert music.music_gain_db(bed, voice, music.LoudnessMeasure(-70.0, -99.0), -16.0) == 0.0
    levelled = music.MusicBed(Path("/m.wav"), volume=0.35, gain_db=-6.5)
    g = music.mix_graph(voice_in="0:a", music_in="1:a", bed=levelled, duration_s=5.0)
    assert "volume=-6.50dB" in g and "volume=0.3500" not in g


def test_measure_voice_and_music_args() -> None:
    v = music.measure_voice_args(Path("ffmpeg"), narration=Path("n.wav"), speech_chain="acompressor")
    assert v[v.index("-af") + 1] == "aresample=48000,acompressor,ebur128=peak=true"
    m = music.measure_music_args(Path("ffmpeg"), bed=music.MusicBed(Path("/m.wav")), seconds=12)
    assert m[m.index("-i") - 2:m.index("-i") + 2] == ["-stream_loop", "-1", "-i", "/m.wav"]
    assert m[m.index("-t") + 1] == "12.000" and m[-3:] == ["-f", "null", "-"]

