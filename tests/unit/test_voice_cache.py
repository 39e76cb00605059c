"""Voice cache keys, segment assembly and the provider registry (pure, no synthesis)."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from app.core.errors import ToolMissingError
from app.core.mix.audio import SAMPLE_RATE, write_wav_atomic
from app.core.script import VoiceSettings
from app.core.voice import (
    EspeakProvider,
    PiperProvider,
    VoiceClip,
    VoiceService,
    cache_size_bytes,
    clear_cache,
    get_provider,
    register_provider,
    registered_providers,
    unregister_provider,
)
from app.core.voice.espeak import parse_wav_bytes
from app.core.voice.service import _assemble, cache_key, normalise_text, segment_layout


def _key(provider: PiperProvider | EspeakProvider, narration: str, **voice: object) -> str:
    return VoiceService(provider, Path("/nonexistent")).cache_key(narration, VoiceSettings(**voice))  # type: ignore[arg-type]


def test_same_input_same_key_and_whitespace_does_not_matter() -> None:
    p = PiperProvider()
    a = _key(p, "Open the   settings\npage.")
    assert a == _key(p, "  Open the settings page. ")
    assert len(a) == 64 and int(a, 16) >= 0


@pytest.mark.parametrize(
    "change",
    [
        {"narration": "Open the settings page!"},  # text
        {"narration": 'Open the <mark name="x"/>settings page.'},  # bookmark layout
        {"narration": 'Open the <mark name="y"/>settings page.'},  # bookmark name
        {"rate": 1.25},  # speaking rate
        {"voice": "en_US-other-medium"},  # voice id (the manim-voiceover bug)
        {"provider": "espeak"},  # provider
    ],
)
def test_key_changes_with_everything_that_changes_the_audio(
    change: dict[str, object], tmp_path: Path
) -> None:
    base_text = "Open the settings page."
    base = _key(PiperProvider(), base_text)
    text = str(change.get("narration", base_text))
    if "provider" in change:
        assert _key(EspeakProvider(), text) != base
    elif "voice" in change:
        # a different Piper model file: identity reads the model's name, size and config hash
        model = tmp_path / "en_US-other-medium.onnx"
        model.write_bytes(b"x" * 10)
        (tmp_path / "en_US-other-medium.onnx.json").write_text("{}")
        assert _key(PiperProvider(), text, voice=str(model)) != base
    else:
        voice = {k: v for k, v in change.items() if k != "narration"}
        assert _key(PiperProvider(), text, **voice) != base


def test_identity_names_provider_model_rate_and_version() -> None:
    ident = PiperProvider().cache_identity(VoiceSettings(rate=1.1))
    assert ident["provider"] == "piper"
    assert ident["voice"] == "en_US-joe-medium"
    assert ident["rate"] == 1.1
    assert ident["model"]["model_name"] == "en_US-joe-medium.onnx"
    assert ident["model"]["model_size"] > 1_000_000
    assert len(ident["model"]["config_sha256"]) == 64
    assert ident["provider_version"] and ident["format"] == "s16le-mono"
    esp = EspeakProvider().cache_identity(VoiceSettings(provider="espeak", rate=1.5))
    assert esp["provider"] == "espeak" and esp["wpm"] == round(175 * 1.5)
    assert "eSpeak" in esp["provider_version"] or "espeak" in esp["provider_version"].lower()


def test_cache_key_is_canonical_json_of_its_inputs() -> None:
    ident = {"provider": "p", "b": 1, "a": 2}
    k1 = cache_key(ident, [(None, "a"), ("m", "b")])
    k2 = cache_key(dict(reversed(list(ident.items()))), [(None, "a"), ("m", "b")])
    assert k1 == k2
    assert k1 != cache_key(ident, [(None, "a b")])


def test_normalise_and_layout() -> None:
    assert normalise_text("  A\u0301  b\n\tc ") == "\u00c1 b c"
    layout = segment_layout('Hi <mark name="a"/>there  <mark name="b"/>')
    assert layout == [(None, "Hi"), ("a", "there"), ("b", "")]


def test_assemble_places_marks_where_their_words_start() -> None:
    one = np.ones(4800, dtype=np.int16)  # 0.1 s
    two = np.full(9600, 2, dtype=np.int16)  # 0.2 s
    empty = np.zeros(0, dtype=np.int16)
    samples, marks = _assemble([(None, one), ("a", empty), ("b", two), ("end", empty)], pause_s=0.15)
    # "a" has no words of its own: it shares "b"'s start, after the pause
    assert marks == {"a": 0.25, "b": 0.25, "end": 0.45}
    assert len(samples) == 4800 + 7200 + 9600
    assert samples[4800:12000].max() == 0 and samples[12000] == 2
    # narration opening with a mark: the mark is at 0 and no leading pause is added
    samples, marks = _assemble([(None, empty), ("start", one)], pause_s=0.15)
    assert marks == {"start": 0.0} and len(samples) == 4800


def test_registry_and_clear_errors() -> None:
    assert {"piper", "espeak"} <= set(registered_providers())
    unregister_provider("polly")  # a door (CLI, app) earlier in this process may have registered it
    with pytest.raises(ToolMissingError) as e:
        get_provider("polly")
    assert "polly" in str(e.value) and "cloud" in str(e.value)

    class FakeTTS(EspeakProvider):
        """A fake registered under a test name; only its registration is exercised."""

        name = "fake-test"

    register_provider("fake-test", FakeTTS)
    try:
        assert isinstance(get_provider("fake-test"), FakeTTS)
    finally:
        unregister_provider("fake-test")
    with pytest.raises(ToolMissingError):
        get_provider("fake-test")
    p = get_provider("piper")
    assert isinstance(p, PiperProvider) and p.fallback_reason is None


def test_cached_entry_is_reused_and_torn_entries_are_not(tmp_path: Path) -> None:
    svc = VoiceService(PiperProvider(), tmp_path)
    key = svc.cache_key("Hello.", VoiceSettings())
    wav = tmp_path / f"{key}.wav"
    write_wav_atomic(wav, np.ones(SAMPLE_RATE // 2, dtype=np.int16))
    meta = {"schema": 1, "cache_key": key, "duration_s": 0.5, "marks": {}, "text": "Hello."}
    (tmp_path / f"{key}.json").write_text(json.dumps(meta))
    import os

    os.utime(tmp_path / f"{key}.json", (1_000_000, 1_000_000))
    hit = svc._cached(key)
    assert hit == VoiceClip(wav, 0.5, {}, "Hello.", key)
    assert (tmp_path / f"{key}.json").stat().st_mtime > 1_000_000  # a hit marks the entry as used
    # the WAV does not match its metadata (a torn copy): treated as a miss
    meta["duration_s"] = 0.7
    (tmp_path / f"{key}.json").write_text(json.dumps(meta))
    assert svc._cached(key) is None
    (tmp_path / f"{key}.json").write_text("{not json")
    assert svc._cached(key) is None
    assert cache_size_bytes(tmp_path) > SAMPLE_RATE
    (tmp_path / "keep.txt").write_text("not ours")
    assert clear_cache(tmp_path) > SAMPLE_RATE
    assert [p.name for p in tmp_path.iterdir()] == ["keep.txt"]
    assert cache_size_bytes(tmp_path / "missing") == 0


def test_parse_espeak_wav_with_streaming_header() -> None:
    pcm = np.arange(-50, 50, dtype="<i2").tobytes()
    fmt = (1).to_bytes(2, "little") + (1).to_bytes(2, "little") + (22050).to_bytes(4, "little")
    fmt += (44100).to_bytes(4, "little") + (2).to_bytes(2, "little") + (16).to_bytes(2, "little")
    data = b"RIFF" + b"\xff\xff\xff\x7f" + b"WAVE" + b"fmt " + (16).to_bytes(4, "little") + fmt
    data += b"data" + b"\xff\xff\xff\x7f" + pcm
    assert parse_wav_bytes(data) == (pcm, 22050)
    from app.core.voice import VoiceError

    with pytest.raises(VoiceError):
        parse_wav_bytes(b"garbage")


def test_prune_cache_drops_least_recently_used(tmp_path: Path) -> None:
    import os

    from app.core.voice import prune_cache

    for i, name in enumerate(["old", "mid", "new"]):
        write_wav_atomic(tmp_path / f"{name}.wav", np.ones(SAMPLE_RATE, dtype=np.int16))  # ~96 kB
        meta = tmp_path / f"{name}.json"
        meta.write_text("{}")
        os.utime(meta, (1_000_000 + i, 1_000_000 + i))
    size = cache_size_bytes(tmp_path)
    freed = prune_cache(size - 1, tmp_path)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["mid.json", "mid.wav", "new.json", "new.wav"]
    assert freed == size - cache_size_bytes(tmp_path)
    assert prune_cache(10**9, tmp_path) == 0
    assert prune_cache(0, tmp_path) > 0 and list(tmp_path.iterdir()) == []
