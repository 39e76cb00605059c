"""Music bed: synthesis of the bundled tracks and the pure ffmpeg graph/argv builders."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from app.core import mix, music
from app.core.errors import RenderError
from app.core.script import Settings, validate_script


def test_bundled_tracks_are_deterministic_seamless_loops() -> None:
    a = music.synthesize_track("calm")
    b = music.synthesize_track("calm")
    assert np.array_equal(a, b)
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
    assert not np.array_equal(music.synthesize_track("bright")[: len(a) // 2], a[: len(a) // 2])


def test_unknown_track_is_a_clear_error() -> None:
    with pytest.raises(RenderError, match="unknown bundled track 'loud'"):
        music.synthesize_track("loud")


def test_bundled_track_is_cached_by_recipe(tmp_path: Path) -> None:
    p = music.bundled_track("calm", tmp_path)
    assert p.is_file() and p.suffix == ".wav"
    mtime = p.stat().st_mtime_ns
    assert music.bundled_track("calm", tmp_path) == p
    assert p.stat().st_mtime_ns == mtime
    assert not [q for q in tmp_path.iterdir() if q.name.startswith(".")]  # no temp file left


def test_resolve_music_from_settings(tmp_path: Path) -> None:
    assert music.resolve_music(Settings(), None) is None
    s = Settings(music="bundled:calm", music_volume=0.2, music_fade_in_ms=500, music_ducking=False)
    bed = music.resolve_music(s, None, tmp_path)
    assert bed is not None and bed.path.parent == tmp_path
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
    assert "amix=inputs=2:duration=first:normalize=0,loudnorm=I=-16:TP=-1.5:LRA=11:print_format=json" in g
    assert g.endswith("[aout]")
    m = music.LoudnessMeasure(-23.1, -4.2, 6.0, -33.5, 0.3)
    g2 = music.mix_graph(voice_in="1:a", music_in="2:a", bed=bed, duration_s=10.0, measured=m,
                         target_lufs=-14)
    assert ("loudnorm=I=-14:TP=-1.5:LRA=11:measured_I=-23.10:measured_TP=-4.20:measured_LRA=6.00"
            ":measured_thresh=-33.50:offset=0.30:linear=true") in g2
    # fades never overlap on a short video
    short = music.mix_graph(voice_in="0:a", music_in="1:a", bed=bed, duration_s=2.0)
    assert "afade=t=in:st=0:d=1.000" in short and "afade=t=out:st=1.000:d=1.000" in short
    flat = music.mix_graph(voice_in="0:a", music_in="1:a",
                           bed=music.MusicBed(Path("/m.wav"), ducking=False), duration_s=5.0)
    assert "sidechaincompress" not in flat and "asplit" not in flat


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


def test_measure_args_and_parse() -> None:
    bed = music.MusicBed(Path("/m.wav"))
    args = music.measure_loudness_args(Path("ffmpeg"), narration=Path("n.wav"), bed=bed, duration_s=3.0)
    assert args[-3:] == ["-f", "null", "-"] and "print_format=json" in args[args.index("-filter_complex") + 1]
    stderr = """[Parsed_loudnorm_9 @ 0x1]
{
\t"input_i" : "-27.61",
\t"input_tp" : "-9.53",
\t"input_lra" : "4.20",
\t"input_thresh" : "-37.90",
\t"output_i" : "-16.2",
\t"target_offset" : "0.20"
}
"""
    m = music.parse_loudnorm_json("noise {not json}\n" + stderr)
    assert m == music.LoudnessMeasure(-27.61, -9.53, 4.2, -37.9, 0.2)
    silent = music.parse_loudnorm_json(stderr.replace('"-27.61"', '"-inf"'))
    assert silent.input_i == -99.0
    with pytest.raises(RenderError, match="no result"):
        music.parse_loudnorm_json("nothing here")
