"""Reading the user's prompt for what it says about audience, tone and length."""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Literal

Length = Literal["short", "normal", "long"]
Tone = Literal["neutral", "friendly", "formal"]
Audience = Literal["general", "developers", "beginners", "business"]

_SHORT = re.compile(
    r"\b(short|brief|concise|quick|terse|snappy|minimal|tl;?dr|under a minute|"
    r"(\d{1,2}|thirty|fifteen|twenty)[- ]?(s|sec|secs|second|seconds))\b",
    re.I,
)
_LONG = re.compile(
    r"\b(detailed|in[- ]depth|thorough|long|comprehensive|step[- ]by[- ]step|deep dive|"
    r"explain (everything|each)|full)\b",
    re.I,
)
_FRIENDLY = re.compile(r"\b(friendly|casual|warm|fun|playful|upbeat|relaxed|conversational|enthusiastic)\b", re.I)
_FORMAL = re.compile(r"\b(formal|professional|corporate|neutral tone|serious|business-like)\b", re.I)
_DEVS = re.compile(r"\b(developers?|engineers?|devs|technical|programmers?|api|integrators?|qa|testers?)\b", re.I)
_BEGINNERS = re.compile(
    r"\b(beginners?|new users?|newcomers?|first[- ]time|non[- ]technical|novices?|"
    r"customers?|end[- ]users?|onboarding)\b",
    re.I,
)
_BUSINESS = re.compile(
    r"\b(executives?|managers?|stakeholders?|sales|buyers?|decision[- ]makers?|"
    r"investors?|leadership|marketing)\b",
    re.I,
)
_TITLE = re.compile(r"""\b(?:titled|called|named|title)\s*[:=]?\s*["“']([^"”']{3,80})["”']""", re.I)


@dataclass(frozen=True)
class Style:
    length: Length = "normal"
    tone: Tone = "neutral"
    audience: Audience = "general"
    title: str | None = None

    @property
    def doc_sentences_per_card(self) -> int:
        return {"short": 0, "normal": 1, "long": 2}[self.length]


def style_from_prompt(prompt: str) -> Style:
    length: Length = "short" if _SHORT.search(prompt) else "long" if _LONG.search(prompt) else "normal"
    tone: Tone = "friendly" if _FRIENDLY.search(prompt) else "formal" if _FORMAL.search(prompt) else "neutral"
    audience: Audience = (
        "developers"
        if _DEVS.search(prompt)
        else "beginners"
        if _BEGINNERS.search(prompt)
        else "business"
        if _BUSINESS.search(prompt)
        else "general"
    )
    m = _TITLE.search(prompt)
    return Style(length, tone, audience, m.group(1).strip() if m else None)
