"""Translating narration with the drafter backends, against the drafting tests' named fakes: the
loopback chat-completions server (FakeChatCompletionsServer) and a Stubber-backed Bedrock client
(FakeBedrockConverse).  Bookmarks must survive; bad answers are asked for again; a card that cannot be
translated is named."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from draft_fakes import FakeBedrockConverse, FakeChatCompletionsServer, converse_text, converse_tool_use

import app.cloud
from app.core import languages
from app.core.draft.drafters.base import DrafterConfig, DraftError
from app.core.draft.drafters.translate import (
    TRANSLATION_FORMAT,
    LLMTranslator,
    translation_problem,
)
from app.core.errors import Cancelled
from app.core.infra.progress import CancelToken, Progress
from app.core.script import validate_script

app.cloud.register_drafters()

SOURCE = 'Click <mark name="go"/> the button, then <mark name="done"/> wait.'
GERMAN = 'Klicken Sie <mark name="go"/> auf die Schaltfläche und warten Sie <mark name="done"/> kurz.'


@pytest.fixture()
def chat() -> Iterator[FakeChatCompletionsServer]:
    fake = FakeChatCompletionsServer()
    yield fake
    fake.close()


def openai_config(fake: FakeChatCompletionsServer) -> DrafterConfig:
    return DrafterConfig(kind="openai", openai_base_url=fake.base_url, openai_model="fake-llm", retry_backoff_s=0,
                         timeout_s=10)


def two_cards() -> Any:
    return validate_script({
        "settings": {"base_url": "http://x.invalid",
                     "languages": [{"lang": "de", "provider": "espeak", "voice": "de"}]},
        "cards": [
            {"id": "one", "narration": SOURCE, "actions": [{"type": "click", "target": "#b", "at": "go"}]},
            {"id": "two", "narration": "That is all."},
        ],
    })


def test_openai_translation_keeps_marks_and_asks_for_the_translation_schema(chat: FakeChatCompletionsServer) -> None:
    chat.reply_content(json.dumps({"text": GERMAN.replace('"go"/>', "'go' />")}))  # a spelling variant of a mark
    out = asyncio.run(LLMTranslator(openai_config(chat)).translate([SOURCE], "en", "de"))
    assert out == [GERMAN]  # the mark is written back in its canonical spelling
    (_headers, body), = chat.requests
    fmt = body["response_format"]
    assert fmt["type"] == "json_schema" and fmt["json_schema"]["schema"] == TRANSLATION_FORMAT.schema
    system, user = body["messages"][0]["content"], body["messages"][1]["content"]
    assert "verbatim" in system and "German (de)" in user and json.dumps(SOURCE) in user


def test_an_answer_that_drops_a_mark_or_adds_markup_is_asked_again_with_the_problem(
        chat: FakeChatCompletionsServer) -> None:
    chat.reply_content(json.dumps({"text": "Klicken Sie auf die Schaltfläche und warten Sie kurz."}))
    chat.reply_content(json.dumps({"text": GERMAN + " <script>alert(1)</script>"}))
    chat.reply_content("```json\n" + json.dumps({"text": GERMAN}) + "\n```")
    out = asyncio.run(LLMTranslator(openai_config(chat)).translate([SOURCE], "en", "de"))
    assert out == [GERMAN]
    second, third = (body["messages"][1]["content"] for _h, body in chat.requests[1:])
    assert "drops bookmark(s) go, done" in second
    assert "carries markup '<script>'" in third


def test_a_card_that_never_translates_is_named_and_earlier_cards_are_kept(chat: FakeChatCompletionsServer) -> None:
    script = two_cards()
    chat.reply_content(json.dumps({"text": GERMAN}))
    for _ in range(3):
        chat.reply_content(json.dumps({"text": "Das ist alles. <mark name=\"go\"/>"}))
    seen: list[Progress] = []
    with pytest.raises(languages.TranslationFailed) as err:
        asyncio.run(languages.translate_cards(script, "de", LLMTranslator(openai_config(chat)),
                                              on_progress=seen.append))
    assert err.value.card_id == "two" and err.value.card_index == 1
    assert str(err.value).startswith("card 2 'two': fake-llm at ") and "adds bookmark(s) go" in str(err.value)
    assert err.value.done == {"one": GERMAN}
    assert [p.message for p in seen][:2] == ["card 1 'one' into de", "card 2 'two' into de"]


def test_translate_cards_fills_only_the_missing_cards_unless_named(chat: FakeChatCompletionsServer) -> None:
    data = two_cards().model_dump(mode="json")
    data["cards"][0]["narration_i18n"] = {"de": GERMAN}
    script = validate_script(data)
    chat.reply_content(json.dumps({"text": "Das ist alles."}))
    t = LLMTranslator(openai_config(chat))
    assert asyncio.run(languages.translate_cards(script, "de", t)) == {"two": "Das ist alles."}
    chat.reply_content(json.dumps({"text": GERMAN}))
    assert asyncio.run(languages.translate_cards(script, "de", t, card_ids=["one"])) == {"one": GERMAN}


def test_cancel_stops_between_requests(chat: FakeChatCompletionsServer) -> None:
    token = CancelToken()
    token.cancel("stopped by the user")
    with pytest.raises(Cancelled):
        asyncio.run(languages.translate_cards(two_cards(), "de", LLMTranslator(openai_config(chat), cancel=token),
                                              cancel=token))
    assert chat.requests == []


def test_bedrock_translation_uses_the_translation_tool() -> None:
    fake = FakeBedrockConverse(tool=TRANSLATION_FORMAT.name)
    fake.answer(converse_text("Sure! Here it is."))  # no tool use: asked again
    fake.answer(converse_tool_use({"text": GERMAN}, tool=TRANSLATION_FORMAT.name))
    cfg = DrafterConfig(kind="bedrock", bedrock_model_id=fake.model_id, bedrock_client_factory=fake.factory,
                        retry_backoff_s=0)
    assert asyncio.run(LLMTranslator(cfg).translate([SOURCE], "en", "de")) == [GERMAN]
    fake.assert_all_used()


def test_bedrock_access_denied_fails_at_once() -> None:
    fake = FakeBedrockConverse(tool=TRANSLATION_FORMAT.name)
    fake.error("AccessDeniedException", "not authorized to perform bedrock:InvokeModel", 403)
    cfg = DrafterConfig(kind="bedrock", bedrock_model_id=fake.model_id, bedrock_client_factory=fake.factory)
    with pytest.raises(DraftError, match="refused access"):
        asyncio.run(LLMTranslator(cfg).translate([SOURCE], "en", "de"))


@pytest.mark.parametrize(("answer", "problem"), [
    ("", "empty"),
    (GERMAN.replace('<mark name="done"/>', ""), "drops bookmark(s) done"),
    (GERMAN + ' <mark name="go"/>', "order or count"),
    ('Erst <mark name="done"/> dann <mark name="go"/>.', "order or count"),
    (GERMAN + " <b>fett</b>", "markup '<b>'"),
    (GERMAN + "\x1b[31m", "ESC"),
    (GERMAN + "x" * 5000, "characters long"),
], ids=["empty", "dropped", "repeated", "reordered", "markup", "control", "long"])
def test_translation_problems(answer: str, problem: str) -> None:
    found = translation_problem(SOURCE, answer)
    assert found is not None and problem in found
    assert translation_problem(SOURCE, GERMAN) is None


def test_mark_mismatch_sentence_for_the_editor() -> None:
    assert languages.mark_mismatch(SOURCE, GERMAN) is None
    assert languages.mark_mismatch(SOURCE, "Klicken.") == "bookmarks do not match the base narration: missing go, done"
    assert "extra x" in (languages.mark_mismatch("Hi.", 'Hallo <mark name="x"/>.') or "")



# --------------------------------------------------------------------------- reelwright translate


def test_cli_translate_adds_the_language_and_writes_the_script(tmp_path: Path, chat: FakeChatCompletionsServer,
                                                                capsys: pytest.CaptureFixture[str],
                                                                monkeypatch: pytest.MonkeyPatch) -> None:
    from app.cli import main
    from app.core.script import load_script

    monkeypatch.setenv("REELWRIGHT_CLOUD_HOME", str(tmp_path / "cloud"))  # no cloud configured here
    src = tmp_path / "script.json"
    data = two_cards().model_dump(mode="json", exclude_defaults=True)
    data["settings"].pop("languages")
    src.write_text(json.dumps(data))
    chat.reply_content(json.dumps({"text": GERMAN}))
    chat.reply_content(json.dumps({"text": "Das ist alles."}))
    out = tmp_path / "de.json"
    assert main(["translate", str(src), "--lang", "de", "--openai-base-url", chat.base_url,
                 "--openai-model", "fake-llm", "--out", str(out)]) == 0
    s = load_script(out)
    assert [lv.model_dump() for lv in s.settings.languages] == [
        {"lang": "de", "provider": "espeak", "voice": "de", "rate": 1.0}]
    assert [c.narration_i18n for c in s.cards] == [{"de": GERMAN}, {"de": "Das ist alles."}]
    assert "added language de (espeak de)" in capsys.readouterr().err

    # a card that never translates: named, exit code 2, nothing written
    for _ in range(3):
        chat.reply_content(json.dumps({"text": "Klicken Sie hier."}))
    again = tmp_path / "again.json"
    assert main(["translate", str(out), "--lang", "de", "--cards", "one", "--openai-base-url", chat.base_url,
                 "--openai-model", "fake-llm", "--attempts", "3", "--out", str(again), "-q"]) == 2
    err = capsys.readouterr().err
    assert "card 1 'one'" in err and "drops bookmark(s) go, done" in err and "Traceback" not in err
    assert not again.exists()
    assert main(["translate", str(out), "--lang", "de", "--cards", "nope", "-q"]) == 2
    assert "no card with id nope" in capsys.readouterr().err


def test_the_bundled_piper_voice_is_named_once() -> None:
    from app.core.voice.piper import DEFAULT_VOICE_ID

    assert languages.BUNDLED_PIPER_VOICE == DEFAULT_VOICE_ID
    assert languages.default_voice_for("en-GB") == ("piper", DEFAULT_VOICE_ID)
    assert languages.default_voice_for("pt-BR") == ("espeak", "pt-br")
    assert languages.voice_suggestions("polly", "de") == ["Vicki", "Daniel"]
