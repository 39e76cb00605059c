"""Which Amazon Polly voice reads each language of a cloud job.

The cloud voices with Polly only (the recorder image has no Piper or espeak-ng), so a script voiced
with Piper or espeak-ng on the desktop is mapped, at submission, to a neural Polly voice *of each
language*: a German translation is read by a German voice, not by the English default.  A Polly voice id
the user chose (provider ``polly`` with a voice) is kept.  A language Polly has no neural voice for is a
:class:`ScriptError` naming it, raised before anything is uploaded, never a failure inside the task.

Every door goes through :meth:`app.cloud.client.CloudClient.submit`, which calls :func:`polly_voiced`
on the script it uploads; the recorder calls it again when it voices with Polly, for a job submitted
by an older client.
"""

from __future__ import annotations

import re
from collections.abc import Iterable

from app.core.errors import Problem, ScriptError
from app.core.script import LanguageVoice, Script, VoiceSettings
from app.core.voice.polly_voices import BASE_LANGUAGE, NEURAL_VOICES, default_neural_voice

#: Polly voice ids are one capitalised word; a Piper model id or an espeak language is not one
POLLY_VOICE_RE = re.compile(r"^[A-Z][A-Za-z]{1,30}$")


def chosen_polly_voice(provider: str, voice: str | None) -> str | None:
    """The Polly voice id the user picked, when the voice is Polly's and names one."""
    return voice if provider == "polly" and voice and POLLY_VOICE_RE.match(voice) else None


def _unvoiceable(lang: str, where: str, field: str) -> Problem:
    langs = ", ".join(sorted(BASE_LANGUAGE))
    return Problem(where, f"cloud renders voice with Amazon Polly, which has no neural voice for language "
                          f"'{lang}': render this language locally, or choose a Polly voice id for it "
                          f"(Polly's neural voices cover {langs})", field=field)


def polly_voice_for(lang: str, provider: str, voice: str | None) -> str | None:
    """The Polly voice for one language's voice settings: the user's Polly voice, else the language's
    default neural voice; None when Polly has none for ``lang``."""
    return chosen_polly_voice(provider, voice) or default_neural_voice(lang)


def polly_voiced(script: Script, rendered: Iterable[str] | None = None) -> Script:
    """A copy of ``script`` whose voices are all Polly's, each in its own language.

    ``rendered`` names the languages the job will render (default: the script's own language).  A
    rendered language Polly cannot voice raises :class:`ScriptError` naming every such language; an
    extra language that is *not* rendered and that Polly cannot voice is dropped from the copy (with its
    cards' ``narration_i18n``), so it can fail nothing in the cloud.
    """
    base = script.settings.language
    wanted = set(rendered) if rendered is not None else {base}
    problems: list[Problem] = []
    s = script.model_copy(deep=True)
    v = s.settings.voice
    pick = polly_voice_for(base, v.provider, v.voice)
    if pick is not None:
        s.settings.voice = VoiceSettings(provider="polly", voice=pick, rate=v.rate)
    elif base in wanted:
        problems.append(_unvoiceable(base, f"settings › language '{base}'", "voice"))
    kept: list[LanguageVoice] = []
    dropped: set[str] = set()
    for i, lv in enumerate(s.settings.languages):
        pick = polly_voice_for(lv.lang, lv.provider, lv.voice)
        if pick is not None:
            kept.append(LanguageVoice(lang=lv.lang, provider="polly", voice=pick, rate=lv.rate))
        elif lv.lang in wanted:
            problems.append(_unvoiceable(lv.lang, f"settings › languages › {i + 1} '{lv.lang}'", "languages"))
        else:
            dropped.add(lv.lang)
    if problems:
        raise ScriptError(problems)
    s.settings.languages = kept
    for card in s.cards:
        for lang in dropped:
            card.narration_i18n.pop(lang, None)
    return s


__all__ = ["NEURAL_VOICES", "POLLY_VOICE_RE", "chosen_polly_voice", "polly_voice_for", "polly_voiced"]
