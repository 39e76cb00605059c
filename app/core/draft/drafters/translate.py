"""Translating narration with a drafter's model (OpenAI-compatible endpoint, or Bedrock when ``app.cloud``
has registered it): the :class:`~app.core.languages.Translator` the app and the CLI use.

One request per text, so a problem is reported for the card it belongs to.  The model's answer is
data: it is parsed as JSON, checked and used as plain narration, never executed or rendered as markup.
An answer is refused (and asked for again, with the problem stated) when it changes the bookmarks —
the same ``<mark name="x"/>`` names in the same order — carries any other markup or control
characters, is empty, or is far longer than the source.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import Any

from ...infra.progress import CancelToken
from ...limits import MAX_NARRATION_CHARS
from ...script import canonical_marks, control_char_problem, mark_names, other_markup
from .base import DrafterConfig, DraftError
from .llm import (
    AnswerFormat,
    AnswerProblem,
    Backend,
    Transient,
    _in_thread,
    _sleep_or_cancel,
    make_backend,
    parse_json_text,
)

TRANSLATION_FORMAT = AnswerFormat(
    "submit_translation",
    "Submit the translated narration.",
    {
        "type": "object",
        "additionalProperties": False,
        "required": ["text"],
        "properties": {"text": {"type": "string", "description": "the translated narration, bookmarks kept"}},
    },
)

SYSTEM_PROMPT = """You translate the spoken narration of a product-demo video.
Rules:
- Translate the text the user gives from the source language into the target language, as natural
  spoken sentences a voice will read aloud. Keep product names, button labels in quotes and numbers.
- The text may contain bookmark tags like <mark name="open-menu"/>. Copy every bookmark tag verbatim
  (same name, same spelling), exactly once each, in the same order, at the place in the translated
  sentence where the same word is spoken. Never add, drop, rename or translate a bookmark.
- No other markup, no markdown, no notes, no quotes around the whole text, no explanations.
Answer only with the JSON object {"text": "<the translation>"}."""


class TranslationError(DraftError):
    """A text could not be translated (the model kept failing, or its answers were unusable)."""


def language_name(tag: str) -> str:
    """A readable name for a language tag in the prompt ("de" -> "German (de)"); unknown tags as given."""
    names = {"en": "English", "de": "German", "fr": "French", "es": "Spanish", "it": "Italian",
             "pt": "Portuguese", "nl": "Dutch", "sv": "Swedish", "da": "Danish", "no": "Norwegian",
             "nb": "Norwegian", "fi": "Finnish", "pl": "Polish", "cs": "Czech", "ru": "Russian",
             "uk": "Ukrainian", "tr": "Turkish", "el": "Greek", "ja": "Japanese", "ko": "Korean",
             "zh": "Chinese", "ar": "Arabic", "he": "Hebrew", "hi": "Hindi"}
    base = tag.split("-")[0].lower()
    return f"{names[base]} ({tag})" if base in names else tag


def translation_problem(source: str, translation: str) -> str | None:
    """Why ``translation`` cannot stand for ``source`` (None when it can); the sentence is fed back."""
    if source.strip() and not translation.strip():
        return "the translation is empty"
    bad = control_char_problem(translation)
    if bad:
        return f"the translation {bad}"
    tag = other_markup(translation)
    if tag:
        return f"the translation carries markup {tag!r}; only the <mark name=\"...\"/> bookmarks may appear"
    want, got = mark_names(source), mark_names(translation)
    if want != got:
        missing = [m for m in want if m not in got]
        extra = [m for m in got if m not in want]
        parts = []
        if missing:
            parts.append(f"drops bookmark(s) {', '.join(missing)}")
        if extra:
            parts.append(f"adds bookmark(s) {', '.join(extra)}")
        if not parts:
            parts.append(f"has the bookmarks in another order or count ({', '.join(got)} instead of "
                         f"{', '.join(want)})")
        return "the translation " + " and ".join(parts) + "; keep every <mark name=\"...\"/> tag exactly once, in order"
    limit = min(MAX_NARRATION_CHARS, max(200, 4 * len(source)))
    if len(translation) > limit:
        return f"the translation is {len(translation):,} characters long for a {len(source):,}-character text"
    return None


def answer_text(data: Any) -> str:
    """The ``text`` of a translation answer (a JSON object), or AnswerProblem."""
    if not isinstance(data, dict) or not isinstance(data.get("text"), str):
        raise AnswerProblem('the answer must be a JSON object {"text": "..."}')
    return canonical_marks(data["text"].strip())


class LLMTranslator:
    """Translates through the drafter backend ``config.kind`` (``openai``, ``bedrock``…), text by text."""

    def __init__(self, config: DrafterConfig, backend: Backend | None = None,
                 cancel: CancelToken | None = None) -> None:
        self.config = config
        self.backend = backend or make_backend(config)
        self.label = self.backend.label
        self.cancel = cancel

    async def translate(self, texts: Sequence[str], source: str, target: str) -> list[str]:
        return [await self.translate_one(t, source, target) for t in texts]

    async def translate_one(self, text: str, source: str, target: str) -> str:
        if not text.strip():
            return text
        cancel = self.cancel
        attempts = max(1, self.config.max_attempts)
        user = (f"Source language: {language_name(source)}\nTarget language: {language_name(target)}\n"
                f"Text:\n{json.dumps(text, ensure_ascii=False)}")
        problem = ""
        for attempt in range(1, attempts + 1):
            if cancel is not None:
                cancel.raise_if_cancelled()
            prompt = user if not problem else (f"{user}\n\nA previous answer could not be used: {problem}\n"
                                               "Answer again, complete and valid.")
            try:
                raw = await _in_thread(self.backend.ask, SYSTEM_PROMPT, prompt, TRANSLATION_FORMAT, cancel=cancel)
            except Transient as exc:
                problem = str(exc)
                if attempt < attempts and self.config.retry_backoff_s > 0:
                    await _sleep_or_cancel(self.config.retry_backoff_s * attempt, cancel)
                continue
            except AnswerProblem as exc:
                problem = str(exc)
                continue
            try:
                if raw.truncated:
                    raise AnswerProblem("the answer was cut off at the output token limit")
                out = answer_text(raw.data if raw.data is not None else parse_json_text(raw.text))
            except AnswerProblem as exc:
                problem = str(exc)
                continue
            problem = translation_problem(text, out) or ""
            if not problem:
                return out
        raise TranslationError(f"{self.label} gave no usable translation in {attempts} attempt(s): {problem}",
                               hint="try again, pick another model, or translate this card by hand")

