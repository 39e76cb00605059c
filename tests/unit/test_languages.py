"""Multi-language scripts: validation of translations, the per-language script, the translator hook."""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from typing import Any

import pytest

from app.core import languages
from app.core.errors import ScriptError
from app.core.script import validate_script


def _data(**card: Any) -> dict[str, Any]:
    return {
        "settings": {"base_url": "http://x.invalid",
                     "languages": [{"lang": "de", "provider": "espeak", "voice": "de", "rate": 0.9}]},
        "cards": [
            {"id": "one", "narration": 'Click <mark name="go"/> here.',
             "actions": [{"type": "click", "target": "#b", "at": "go"}],
             "narration_i18n": {"de": 'Klicken Sie <mark name="go"/> hier.'}, **card},
            {"id": "two", "narration": "Done.", "narration_i18n": {"de": "Fertig."}},
            {"id": "silent", "narration": ""},
        ],
    }


def test_script_for_language_swaps_narration_and_voice_only() -> None:
    s = validate_script(_data())
    assert languages.output_languages(s) == ["en", "de"]
    de = languages.script_for_language(s, "de")
    assert [c.narration for c in de.cards] == ['Klicken Sie <mark name="go"/> hier.', "Fertig.", ""]
    assert (de.settings.voice.provider, de.settings.voice.voice, de.settings.voice.rate) == ("espeak", "de", 0.9)
    assert de.settings.language == "de"
    assert de.cards[0].actions == s.cards[0].actions
    assert s.cards[0].narration.startswith("Click")  # the original is untouched
    assert languages.script_for_language(s, "en") == s


def test_missing_translation_and_unknown_language_are_named() -> None:
    data = _data()
    del data["cards"][1]["narration_i18n"]
    s = validate_script(data)
    with pytest.raises(ScriptError) as err:
        languages.script_for_language(s, "de")
    assert "card 2 'two'" in str(err.value) and "no 'de' narration" in str(err.value)
    with pytest.raises(ScriptError, match="no voice for language 'fr'"):
        languages.script_for_language(s, "fr")


def test_validation_checks_bookmarks_and_languages() -> None:
    with pytest.raises(ScriptError) as err:
        validate_script(_data(narration_i18n={"de": "Klicken Sie hier.", "fr": "Cliquez ici.", "EN_x": "?"}))
    text = str(err.value)
    assert "lacks bookmark(s) go" in text
    assert "'fr' is not in settings.languages" in text
    assert "'EN_x' is not a language tag" in text
    dup = _data()
    dup["settings"]["languages"].append({"lang": "de"})
    with pytest.raises(ScriptError, match="listed twice"):
        validate_script(dup)


class FakeTranslator:
    """Fake: stands in for an LLM translator (none runs here); tags each text and keeps the marks."""

    def __init__(self, drop_marks: bool = False) -> None:
        self.drop_marks = drop_marks
        self.calls: list[tuple[list[str], str, str]] = []

    async def translate(self, texts: Sequence[str], source: str, target: str) -> list[str]:
        self.calls.append((list(texts), source, target))
        out = [f"[{target}] {t}" for t in texts]
        return [t.replace('<mark name="go"/>', "") for t in out] if self.drop_marks else out


def test_translate_missing_fills_only_the_gaps_and_validates() -> None:
    data = _data()
    data["cards"][0]["narration_i18n"] = {}
    s = validate_script(data)
    fake = FakeTranslator()
    out = asyncio.run(languages.translate_missing(s, "de", fake))
    assert fake.calls == [(['Click <mark name="go"/> here.'], "en", "de")]
    assert out.cards[0].narration_i18n["de"] == '[de] Click <mark name="go"/> here.'
    assert out.cards[1].narration_i18n["de"] == "Fertig."
    with pytest.raises(ScriptError, match="lacks bookmark"):
        asyncio.run(languages.translate_missing(s, "de", FakeTranslator(drop_marks=True)))
