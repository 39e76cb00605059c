"""Cloud voices: every language a cloud job renders is read by a neural Amazon Polly voice *of that
language* (the recorder image has no Piper or espeak-ng), a Polly voice the user chose is kept, and a
language Polly cannot voice is refused at submission, naming it, before anything reaches the network.
(The voice each variant's task asks the fake Polly for is checked in tests/integration/test_cloud_fanout.py.)"""

from __future__ import annotations

import asyncio
import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from app.cloud.client import CloudClient
from app.cloud.config import CloudConfig
from app.cloud.layout import Variant
from app.cloud.tokens import TokenStore
from app.cloud.voices import polly_voiced
from app.core.bundle import Job, RenderSettings
from app.core.errors import ScriptError
from app.core.languages import voice_suggestions
from app.core.script import Script, validate_script
from app.core.voice.polly_voices import NEURAL_VOICES, neural_voices, polly_language

REPO = Path(__file__).resolve().parents[2]


def script(languages: list[dict[str, Any]], voice: dict[str, Any] | None = None, lang: str = "en") -> Script:
    i18n = {lv["lang"]: f"text in {lv['lang']}" for lv in languages}
    return validate_script({"settings": {"language": lang, "voice": voice or {"provider": "piper"},
                                         "languages": languages},
                            "cards": [{"id": "a", "narration": "Open the page.", "narration_i18n": i18n}]})


def test_the_table_names_neural_voices_by_polly_language_code() -> None:
    assert polly_language("de") == "de-DE" and polly_language("DE_at") == "de-AT"
    assert polly_language("pt-BR") == "pt-BR" and polly_language("pt") == "pt-PT"
    assert polly_language("de-LU") == "de-DE"  # a region Polly lacks: the language's main voice
    assert polly_language("zh-Hans") == "cmn-CN" and polly_language("no") == "nb-NO"
    for lang in ("uk", "ru", "el", "xx"):  # Russian has standard voices only; the others none
        assert polly_language(lang) is None and neural_voices(lang) == []
    assert neural_voices("en-GB")[0] == "Amy" and neural_voices("fr-CA")[0] == "Gabrielle"
    # every id is one capitalised ASCII word, as Polly spells them (Lea, not Léa)
    assert all(v.isascii() and v.isalpha() and v[0].isupper() for vs in NEURAL_VOICES.values() for v in vs)
    # the languages editor offers the same voices
    assert voice_suggestions("polly", "de") == ["Vicki", "Daniel"]
    assert voice_suggestions("polly", "es-MX") == ["Mia", "Andres"]


def test_each_language_gets_a_polly_voice_of_its_own_and_a_chosen_one_wins() -> None:
    s = script([{"lang": "de", "provider": "espeak", "voice": "de"},
                {"lang": "fr", "provider": "piper"},
                {"lang": "pt-BR", "provider": "polly", "voice": "Thiago", "rate": 1.2},
                {"lang": "es", "provider": "polly"}],  # Polly without a voice: the language's default
               voice={"provider": "piper", "voice": "en_US-joe-medium", "rate": 0.9})
    out = polly_voiced(s, ["en", "de", "fr", "pt-BR", "es"])
    assert (out.settings.voice.provider, out.settings.voice.voice, out.settings.voice.rate) == ("polly", "Joanna", 0.9)
    assert [(lv.lang, lv.provider, lv.voice, lv.rate) for lv in out.settings.languages] == [
        ("de", "polly", "Vicki", 1.0), ("fr", "polly", "Lea", 1.0), ("pt-BR", "polly", "Thiago", 1.2),
        ("es", "polly", "Lucia", 1.0)]
    assert s.settings.voice.provider == "piper"  # a copy: the user's script is untouched
    # a base language other than English is mapped too
    de = polly_voiced(script([], voice={"provider": "espeak", "voice": "de"}, lang="de-AT"))
    assert de.settings.voice.voice == "Hannah"
    # a Polly voice chosen for the base language wins
    assert polly_voiced(script([], voice={"provider": "polly", "voice": "Brian"})).settings.voice.voice == "Brian"


def test_a_language_polly_cannot_voice_is_an_input_error_naming_it_when_it_is_rendered() -> None:
    s = script([{"lang": "de", "provider": "espeak", "voice": "de"},
                {"lang": "uk", "provider": "espeak", "voice": "uk"}])
    with pytest.raises(ScriptError) as err:
        polly_voiced(s, ["en", "de", "uk"])
    assert err.value.exit_code == 2
    assert len(err.value.problems) == 1 and "'uk'" in str(err.value) and "Amazon Polly" in str(err.value)
    # not rendered: dropped from the uploaded copy (with its narration), so nothing in the cloud trips on it
    out = polly_voiced(s, ["de"])
    assert [lv.lang for lv in out.settings.languages] == ["de"]
    assert out.cards[0].narration_i18n == {"de": "text in de"}
    validate_script(out.model_dump(mode="json"))  # still a valid script
    # a Polly voice the user names for such a language is theirs to choose
    chosen = script([{"lang": "uk", "provider": "polly", "voice": "Tatyana"}])
    assert polly_voiced(chosen, ["uk"]).settings.languages[0].voice == "Tatyana"
    # the base language too
    with pytest.raises(ScriptError, match="'el'"):
        polly_voiced(script([], voice={"provider": "espeak", "voice": "el"}, lang="el"))


def test_a_render_override_of_the_provider_drops_the_other_providers_voice_id() -> None:
    s = polly_voiced(script([{"lang": "de", "provider": "espeak", "voice": "de"}]))
    assert Job(s, RenderSettings(voice_provider="piper")).effective_settings().voice.voice is None
    assert Job(s, RenderSettings(voice_provider="polly")).effective_settings().voice.voice == "Joanna"


def _client(tmp: Path) -> CloudClient:
    cfg = CloudConfig(region="us-east-1", user_pool_id="us-east-1_pool", client_id="c", identity_pool_id="i",
                      bucket="b")
    return CloudClient(cfg, TokenStore("pool", home=tmp / "home", use_keyring=False))


def _multilingual(tmp: Path) -> Path:
    doc = {"version": 1, "title": "t",
           "settings": {"base_url": "https://app.example.com/", "voice": {"provider": "piper"},
                        "languages": [{"lang": "de", "provider": "espeak", "voice": "de"},
                                      {"lang": "uk", "provider": "espeak", "voice": "uk"}]},
           "cards": [{"id": "open", "narration": "Open it.", "narration_i18n": {"de": "Öffne es.", "uk": "Відкрий."},
                      "actions": [{"type": "goto", "url": "/"}]}]}
    path = tmp / "script.json"
    path.write_text(json.dumps(doc, ensure_ascii=False), encoding="utf-8")
    return path


def test_submission_refuses_an_unvoiceable_variant_before_the_network(tmp_path: Path) -> None:
    """No cloud exists behind this client: the refusal comes before any sign-in or upload."""
    variants = [Variant.of("de", None), Variant.of("uk", None)]
    with pytest.raises(ScriptError, match=r"languages › 2 'uk'.*no neural voice for language 'uk'"):
        asyncio.run(_client(tmp_path).submit(_multilingual(tmp_path), variants=variants))


def test_submission_uploads_the_polly_voiced_script(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """What the client puts as job.json (the S3 calls are captured, no cloud is reached): German is read
    by Vicki, the unrendered Ukrainian is dropped, and a local provider override is not carried."""
    client = _client(tmp_path)
    puts: list[dict[str, Any]] = []

    class S3:
        def put_object(self, **kw: Any) -> dict[str, Any]:
            puts.append(kw)
            return {}

    async def identity() -> str:
        return "us-east-1:0b5c2d7e-1111-4111-8111-123456789abc"

    async def call(fn: Any, *args: Any, **kwargs: Any) -> Any:
        if getattr(fn, "__name__", "") == "upload_asset":
            return None
        return fn(S3(), *args, **kwargs)

    monkeypatch.setattr(client, "identity", identity)
    monkeypatch.setattr(client, "_call", call)
    asyncio.run(client.submit(_multilingual(tmp_path), variants=[Variant.of("en", None), Variant.of("de", None)],
                              render=RenderSettings(voice_provider="espeak")))
    doc = json.loads(puts[-1]["Body"])
    voices = doc["script"]["settings"]
    assert voices["voice"]["provider"] == "polly" and voices["voice"]["voice"] == "Joanna"
    assert [(lv["lang"], lv["voice"]) for lv in voices["languages"]] == [("de", "Vicki")]
    assert "voice_provider" not in doc["render"]


def test_cli_submit_exits_2_naming_the_language(tmp_path: Path) -> None:
    config = _client(tmp_path).config.save(tmp_path / "config.json")
    env = {**os.environ, "REELWRIGHT_CLOUD_HOME": str(tmp_path / "home"), "REELWRIGHT_NO_KEYRING": "1"}
    out = subprocess.run([sys.executable, "-m", "app.cli", "cloud", "--config", str(config), "submit",
                          str(_multilingual(tmp_path)), "--languages", "de,uk"],
                         cwd=REPO, env=env, capture_output=True, text=True, timeout=120)
    assert out.returncode == 2, out.stdout + out.stderr
    assert "'uk'" in out.stderr and "Amazon Polly" in out.stderr, out.stderr
    assert "Traceback" not in out.stderr
