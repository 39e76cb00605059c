"""Multi-language voiceover: one script, one output per language.

The cards' ``narration`` is in ``settings.language``; each extra language in ``settings.languages``
names its voice (provider, voice id, rate) and takes its text from every card's
``narration_i18n[lang]``.  A language's render is an ordinary render of a derived script — its own
narration and voice — so timing is re-planned from that language's measured speech (longer German
narration gets longer cards), captions come out in that language, and the browser flow is the same.
Outputs are ``<name>.<lang>.mp4`` with ``.srt``/``.vtt``/``.chapters.txt`` beside them.

Translation is not done here.  :class:`Translator` is the hook a drafter with an LLM fills in;
:func:`translate_missing` uses it to fill in missing ``narration_i18n`` entries, keeping bookmarks.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence
from pathlib import Path
from typing import Protocol

from .bundle import Job
from .errors import Cancelled, Problem, ReelwrightError, ScriptError
from .infra.progress import CancelToken, Progress, ProgressCallback
from .infra.tools import Browser
from .render import RenderResult, render
from .script import Script, VoiceSettings, mark_names, validate_script
from .voice.polly_voices import neural_voices

#: the bundled Piper voice (``voice/piper.py``; named here so listing voices loads no TTS engine)
BUNDLED_PIPER_VOICE = "en_US-joe-medium"


def voice_suggestions(provider: str, lang: str) -> list[str]:
    """Voice ids to offer for ``lang``: Piper's bundled voice (English), espeak-ng's language, Polly's."""
    base = lang.split("-")[0].lower()
    if provider == "piper":
        return [BUNDLED_PIPER_VOICE]
    if provider == "espeak":
        return list(dict.fromkeys([lang.lower(), base]))
    if provider == "polly":
        return neural_voices(lang)
    return []


def default_voice_for(lang: str) -> tuple[str, str]:
    """(provider, voice) a new language starts with: the bundled Piper voice speaks English only;
    espeak-ng speaks every language offline."""
    provider = "piper" if lang.split("-")[0].lower() == "en" else "espeak"
    return provider, voice_suggestions(provider, lang)[0]


def output_languages(script: Script) -> list[str]:
    """The base language first, then every configured extra language."""
    base = script.settings.language
    return [base, *[lv.lang for lv in script.settings.languages if lv.lang != base]]


def missing_translations(script: Script, lang: str) -> list[str]:
    """Ids of cards that speak in the base language but have no text for ``lang``."""
    if lang == script.settings.language:
        return []
    return [c.id for c in script.cards if c.narration.strip() and not c.narration_i18n.get(lang, "").strip()]


def script_for_language(script: Script, lang: str) -> Script:
    """The script as voiced in ``lang``: its narration and its voice; the flow is unchanged.

    Raises :class:`ScriptError` naming every card without a translation.
    """
    s = script.model_copy(deep=True)
    if lang == script.settings.language:
        return s
    voice = next((lv for lv in script.settings.languages if lv.lang == lang), None)
    if voice is None:
        known = ", ".join(output_languages(script))
        raise ScriptError([Problem("settings › languages", f"no voice for language '{lang}' (configured: {known})",
                                   field="languages")])
    missing = missing_translations(script, lang)
    if missing:
        raise ScriptError([
            Problem(f"card {i + 1} '{c.id}' › narration_i18n", f"no '{lang}' narration", card_index=i,
                    card_id=c.id, field="narration_i18n")
            for i, c in enumerate(script.cards) if c.id in missing])
    for card in s.cards:
        if card.narration.strip():
            card.narration = card.narration_i18n[lang]
    s.settings.voice = VoiceSettings(provider=voice.provider, voice=voice.voice, rate=voice.rate)
    s.settings.language = lang
    return s


def job_for_language(job: Job, lang: str) -> Job:
    """The job with its script voiced in ``lang``; a ``--voice`` override still applies to every language."""
    return dataclasses.replace(job, script=script_for_language(job.script, lang))


async def render_languages(
    job: Job,
    output_dir: Path,
    on_progress: ProgressCallback | None = None,
    cancel: CancelToken | None = None,
    *,
    name: str = "video",
    languages: Sequence[str] | None = None,
    browser: Browser | None = None,
) -> dict[str, RenderResult]:
    """Render one output per language: ``output_dir/<name>.<lang>.mp4`` (+ captions and chapters).

    Every language's script is derived (and checked for missing translations) before the first
    render starts, so a missing translation stops the run before anything is voiced.
    """
    langs = list(languages) if languages is not None else output_languages(job.script)
    jobs = {lang: job_for_language(job, lang) for lang in langs}
    cancel = cancel or CancelToken()
    results: dict[str, RenderResult] = {}
    for i, (lang, sub) in enumerate(jobs.items()):
        def relay(p: Progress, i: int = i, lang: str = lang) -> None:
            if on_progress is not None:
                overall = (i + (p.overall if p.overall is not None else p.fraction)) / len(jobs)
                on_progress(Progress(p.stage, p.fraction, f"[{lang}] {p.message}", overall, None))

        results[lang] = await render(sub, output_dir, relay, cancel, name=f"{name}.{lang}", browser=browser)
    return results


class Translator(Protocol):
    """Translates narration (the drafter's LLM plugs in here).  Must keep ``<mark name="x"/>`` tags."""

    async def translate(self, texts: Sequence[str], source: str, target: str) -> list[str]: ...


async def translate_missing(script: Script, lang: str, translator: Translator) -> Script:
    """A copy of ``script`` with missing ``narration_i18n[lang]`` filled in by ``translator``.

    The result is validated like any script, so a translation that dropped a bookmark an action
    fires on is reported instead of silently shifting the action.
    """
    todo = missing_translations(script, lang)
    if not todo:
        return script.model_copy(deep=True)
    cards = [c for c in script.cards if c.id in todo]
    texts = await translator.translate([c.narration for c in cards], script.settings.language, lang)
    if len(texts) != len(cards):
        raise ScriptError([Problem("narration_i18n", f"the translator returned {len(texts)} texts for "
                                   f"{len(cards)} cards")])
    data = script.model_dump(mode="json")
    by_id = dict(zip(todo, texts, strict=True))
    for card in data["cards"]:
        if card["id"] in by_id:
            card["narration_i18n"] = {**card.get("narration_i18n", {}), lang: by_id[card["id"]]}
    return validate_script(data)


class TranslationFailed(ReelwrightError):
    """Translating one card failed; names the card (the cards before it are kept in ``done``)."""

    exit_code = 2  # as a failed draft

    def __init__(self, message: str, *, card_index: int, card_id: str, done: dict[str, str],
                 hint: str | None = None) -> None:
        super().__init__(message, hint=hint)
        self.card_index, self.card_id, self.done = card_index, card_id, done


def mark_mismatch(base: str, translation: str) -> str | None:
    """How the bookmarks of ``translation`` differ from the base narration's (None when they match):
    the sentence the side-by-side editor shows under a card."""
    want, got = mark_names(base), mark_names(translation)
    if want == got:
        return None
    missing = [m for m in dict.fromkeys(want) if got.count(m) < want.count(m)]
    extra = [m for m in dict.fromkeys(got) if got.count(m) > want.count(m)]
    parts = []
    if missing:
        parts.append(f"missing {', '.join(missing)}")
    if extra:
        parts.append(f"extra {', '.join(extra)}")
    if not parts:
        parts.append(f"order {', '.join(got)} differs from {', '.join(want)}")
    return "bookmarks do not match the base narration: " + "; ".join(parts)


async def translate_cards(
    script: Script,
    lang: str,
    translator: Translator,
    *,
    card_ids: Sequence[str] | None = None,
    on_progress: ProgressCallback | None = None,
    cancel: CancelToken | None = None,
) -> dict[str, str]:
    """Translate cards one by one: ``card_ids`` (all of them, even translated ones), or else the cards
    missing a ``lang`` translation.  Returns ``{card id: translation}``.

    A card the translator cannot do stops the run with :class:`TranslationFailed` naming it (with the
    cards done before it); a cancel between cards raises ``Cancelled``.
    """
    if lang == script.settings.language:
        raise ScriptError([Problem("settings › language", f"'{lang}' is the script's own language")])
    wanted = list(card_ids) if card_ids is not None else missing_translations(script, lang)
    cards = [(i, c) for i, c in enumerate(script.cards) if c.id in wanted and c.narration.strip()]
    done: dict[str, str] = {}
    for n, (i, card) in enumerate(cards):
        if cancel is not None and cancel.cancelled:
            raise Cancelled(cancel.reason)
        if on_progress is not None:
            on_progress(Progress("translate", n / len(cards), f"card {i + 1} '{card.id}' into {lang}"))
        try:
            texts = await translator.translate([card.narration], script.settings.language, lang)
        except Cancelled:
            raise
        except ReelwrightError as exc:
            raise TranslationFailed(f"card {i + 1} '{card.id}': {exc.message}", card_index=i, card_id=card.id,
                                    done=done, hint=exc.hint) from None
        if len(texts) != 1:
            raise TranslationFailed(f"card {i + 1} '{card.id}': the translator returned {len(texts)} texts for one",
                                    card_index=i, card_id=card.id, done=done)
        done[card.id] = texts[0]
    if on_progress is not None:
        on_progress(Progress("translate", 1.0, f"{len(done)} card(s) translated into {lang}"))
    return done
