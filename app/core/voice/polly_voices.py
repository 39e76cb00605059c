"""Amazon Polly's neural voices by language: which Polly voice reads a language in a cloud render.

Pure data (no boto3): the cloud voices with Polly's ``neural`` engine only (the recorder image carries
no Piper or espeak-ng), so a cloud submission maps each language to one of these voices, and the
languages editor offers them.  Keys are Polly's own language codes; a script's tag is matched exactly
first (``pt-BR``), then by its base language (``de-LU`` -> ``de`` -> ``de-DE``).  Standard-only voices
(Russian, Romanian, Icelandic, Welsh ...) are left out on purpose: the engine is neural.

Source: the "Available voices" table of the Amazon Polly developer guide (neural column), 2024.
"""

from __future__ import annotations

#: Polly language code -> its neural voice ids, the default first
NEURAL_VOICES: dict[str, tuple[str, ...]] = {
    "ar-AE": ("Hala", "Zayd"),
    "ca-ES": ("Arlet",),
    "cmn-CN": ("Zhiyu",),
    "cs-CZ": ("Jitka",),
    "da-DK": ("Sofie",),
    "de-AT": ("Hannah",),
    "de-CH": ("Sabrina",),
    "de-DE": ("Vicki", "Daniel"),
    "en-AU": ("Olivia",),
    "en-GB": ("Amy", "Emma", "Brian", "Arthur"),
    "en-IE": ("Niamh",),
    "en-IN": ("Kajal",),
    "en-NZ": ("Aria",),
    "en-US": ("Joanna", "Matthew", "Ruth", "Stephen", "Danielle", "Gregory", "Ivy", "Joey", "Justin",
              "Kendra", "Kevin", "Kimberly", "Salli"),
    "en-ZA": ("Ayanda",),
    "es-ES": ("Lucia", "Sergio"),
    "es-MX": ("Mia", "Andres"),
    "es-US": ("Lupe", "Pedro"),
    "fi-FI": ("Suvi",),
    "fr-BE": ("Isabelle",),
    "fr-CA": ("Gabrielle", "Liam"),
    "fr-FR": ("Lea", "Remi"),
    "hi-IN": ("Kajal",),
    "it-IT": ("Bianca", "Adriano"),
    "ja-JP": ("Takumi", "Kazuha", "Tomoko"),
    "ko-KR": ("Seoyeon",),
    "nb-NO": ("Ida",),
    "nl-BE": ("Lisa",),
    "nl-NL": ("Laura",),
    "pl-PL": ("Ola",),
    "pt-BR": ("Camila", "Vitoria", "Thiago"),
    "pt-PT": ("Ines",),
    "sv-SE": ("Elin",),
    "tr-TR": ("Burcu",),
    "yue-CN": ("Hiujin",),
}

#: a bare language (or a region Polly has no voice for) -> the Polly language code that reads it
BASE_LANGUAGE: dict[str, str] = {
    "ar": "ar-AE", "ca": "ca-ES", "zh": "cmn-CN", "cmn": "cmn-CN", "cs": "cs-CZ", "da": "da-DK",
    "de": "de-DE", "en": "en-US", "es": "es-ES", "fi": "fi-FI", "fr": "fr-FR", "hi": "hi-IN",
    "it": "it-IT", "ja": "ja-JP", "ko": "ko-KR", "nb": "nb-NO", "no": "nb-NO", "nl": "nl-NL",
    "pl": "pl-PL", "pt": "pt-PT", "sv": "sv-SE", "tr": "tr-TR", "yue": "yue-CN",
}

_BY_LOWER = {code.lower(): code for code in NEURAL_VOICES}


def polly_language(lang: str) -> str | None:
    """The Polly language code whose voices read ``lang`` (a BCP 47 tag), or None when Polly has no
    neural voice for it."""
    tag = lang.strip().replace("_", "-").lower()
    if tag in _BY_LOWER:
        return _BY_LOWER[tag]
    return BASE_LANGUAGE.get(tag.split("-")[0])


def neural_voices(lang: str) -> list[str]:
    """Polly's neural voice ids for ``lang``, the default first; [] when there are none."""
    code = polly_language(lang)
    return list(NEURAL_VOICES[code]) if code is not None else []


def default_neural_voice(lang: str) -> str | None:
    voices = neural_voices(lang)
    return voices[0] if voices else None


def all_neural_voice_ids() -> set[str]:
    return {v for voices in NEURAL_VOICES.values() for v in voices}
