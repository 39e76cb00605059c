"""The script: the typed, versioned, declarative document at the centre of Reelwright.

A script has settings and ordered cards; a card has narration (optionally with
``<mark name="x"/>`` bookmarks) and a list of declarative browser actions, each aimed with a
Playwright-style locator.  Nothing in a script is ever executed as code: it is parsed once, here,
and every problem is reported with its card and field before anything launches.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from pathlib import Path, PurePosixPath
from typing import Annotated, Any, Literal, get_args
from urllib.parse import urlsplit

from pydantic import BaseModel, ConfigDict, Field, TypeAdapter, ValidationError, WithJsonSchema, field_validator

from . import limits as L
from .errors import Problem, ScriptError
from .keys import CLICK_MODIFIERS, KeyError_, check_modifier, parse_chord
from .urlpolicy import blocked_reason

SCRIPT_VERSION = 1

#: ARIA roles Playwright's ``get_by_role`` accepts.
ARIA_ROLES = frozenset(
    [
        "alert", "alertdialog", "application", "article", "banner", "blockquote", "button",
        "caption", "cell", "checkbox", "code", "columnheader", "combobox", "complementary",
        "contentinfo", "definition", "deletion", "dialog", "directory", "document", "emphasis",
        "feed", "figure", "form", "generic", "grid", "gridcell", "group", "heading", "img",
        "insertion", "link", "list", "listbox", "listitem", "log", "main", "marquee", "math",
        "meter", "menu", "menubar", "menuitem", "menuitemcheckbox", "menuitemradio", "navigation",
        "none", "note", "option", "paragraph", "presentation", "progressbar", "radio", "radiogroup",
        "region", "row", "rowgroup", "rowheader", "scrollbar", "search", "searchbox", "separator",
        "slider", "spinbutton", "status", "strong", "subscript", "superscript", "switch", "tab",
        "table", "tablist", "tabpanel", "term", "textbox", "time", "timer", "toolbar", "tooltip",
        "tree", "treegrid", "treeitem"
    ]
)

#: The locator fields that say *how* to find an element; a locator has exactly one.
LOCATOR_KINDS = ("role", "label", "placeholder", "text", "test_id", "alt", "title", "css")

MODIFIER_KEYS = CLICK_MODIFIERS
#: a click modifier: any string parses (so the rest of its card is still checked), the validator
#: then names the closest valid ones; the published schema lists them
ModifierName = Annotated[str, WithJsonSchema({"type": "string", "enum": list(CLICK_MODIFIERS)})]

_MARK_RE = re.compile(r"""<mark\s+name\s*=\s*["']([A-Za-z0-9_.-]+)["']\s*/?>""")
_TAG_LIKE_RE = re.compile(r"</?[A-Za-z][^>]*>")
_CARD_ID_RE = r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$"


_LocStr = Annotated[str, Field(max_length=L.MAX_LOCATOR_CHARS)]
_PathStr = Annotated[str, Field(max_length=L.MAX_PATH_CHARS)]
_UrlStr = Annotated[str, Field(max_length=L.MAX_URL_CHARS)]
_TitleStr = Annotated[str, Field(max_length=L.MAX_TITLE_CHARS)]
_TypedStr = Annotated[str, Field(max_length=L.MAX_TYPED_CHARS)]
_NarrationStr = Annotated[str, Field(max_length=L.MAX_NARRATION_CHARS)]
_VoiceId = Annotated[str, Field(max_length=200)]


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid", validate_assignment=False)


# --------------------------------------------------------------------------- locators


class Locator(_Model):
    """A Playwright-style locator.  Exactly one of the *kind* fields is set."""

    role: _LocStr | None = Field(None, description="ARIA role, as in get_by_role(role)")
    name: _LocStr | None = Field(None, description="accessible name, with role")
    label: _LocStr | None = None
    placeholder: _LocStr | None = None
    text: _LocStr | None = None
    test_id: _LocStr | None = None
    alt: _LocStr | None = None
    title: _LocStr | None = None
    css: _LocStr | None = Field(None, description="a plain CSS selector, as in page.locator(css); Playwright's "
                                "engine prefixes (xpath=, text=, id=, data-testid=, internal:...) are refused: "
                                "use the matching locator field")
    exact: bool = Field(False, description="match name/text/label exactly (case-sensitive, whole string)")
    has_text: _LocStr | None = Field(None, description="keep only elements containing this text")
    nth: int | None = Field(None, ge=-1, le=10_000, description="pick the n-th match (0-based; -1 is the last)")
    within: Locator | None = Field(None, description="search inside this locator (a chain)")
    frame: _LocStr | list[_LocStr] | None = Field(
        None, description="CSS selector of the iframe the element is inside; a list for nested iframes, outermost "
        "first (frame_locator(a).frame_locator(b) is [a, b])")

    def frames(self) -> list[str]:
        """The iframe selectors to enter, outermost first ([] when the element is in the page itself)."""
        if self.frame is None:
            return []
        return [self.frame] if isinstance(self.frame, str) else list(self.frame)

    def kind(self) -> str:
        for k in LOCATOR_KINDS:
            if getattr(self, k) is not None:
                return k
        return ""

    def describe(self) -> str:
        """A Playwright-like description, e.g. ``get_by_role("button", name="Save").nth(1)``."""

        def q(s: str) -> str:
            return json.dumps(s, ensure_ascii=False)

        parts: list[str] = []
        if self.within is not None:
            parts.append(self.within.describe())
        for sel in self.frames():
            parts.append(f"frame_locator({q(sel)})")
        k = self.kind()
        ex = ", exact=True" if self.exact else ""
        if k == "role":
            name = f", name={q(self.name)}" if self.name is not None else ""
            parts.append(f"get_by_role({q(self.role or '')}{name}{ex})")
        elif k == "css":
            parts.append(f"locator({q(self.css or '')})")
        elif k == "test_id":
            parts.append(f"get_by_test_id({q(self.test_id or '')})")
        elif k == "alt":
            parts.append(f"get_by_alt_text({q(self.alt or '')}{ex})")
        elif k:
            parts.append(f"get_by_{k}({q(getattr(self, k))}{ex})")
        if self.has_text is not None:
            parts.append(f"filter(has_text={q(self.has_text)})")
        if self.nth is not None:
            parts.append("first" if self.nth == 0 else "last" if self.nth == -1 else f"nth({self.nth})")
        return ".".join(parts)


def _target_from_shorthand(v: Any) -> Any:
    # A bare string is a CSS selector: the commonest hand-written case ("#email").
    if isinstance(v, str):
        return {"css": v}
    return v


Target = Annotated[Locator, Field(description="the element the action is aimed at")]


# --------------------------------------------------------------------------- actions


#: a tab's name, as codegen names its page variables: ``page`` (the first tab), ``page1``, ``popup``...
PageName = Annotated[str, Field(pattern=r"^[A-Za-z_][A-Za-z0-9_]{0,63}$")]
#: the name of the tab every flow starts on
FIRST_PAGE = "page"


class _Action(_Model):
    at: str | None = Field(None, description="fire on this narration bookmark (<mark name=.../>)")
    page: PageName | None = Field(
        None, description="the tab this action acts on: 'page' is the first tab; others are named by the action "
        "that opens them (opens=, or a new_page action). None = the tab the flow is on. Acting on another "
        "open tab switches the video to it")

    @field_validator("target", mode="before", check_fields=False)
    @classmethod
    def _shorthand(cls, v: Any) -> Any:
        return _target_from_shorthand(v)


class Position(_Model):
    x: float = Field(ge=-10_000, le=10_000)
    y: float = Field(ge=-10_000, le=10_000)


class Goto(_Action):
    """Navigate to a URL (absolute http(s), or a path relative to the script's site/base URL)."""

    type: Literal["goto"]
    url: str = Field(min_length=1, max_length=L.MAX_URL_CHARS)


class Click(_Action):
    type: Literal["click"]
    target: Target
    button: Literal["left", "right", "middle"] = "left"
    modifiers: list[ModifierName] = Field(default_factory=list)
    position: Position | None = Field(None, description="offset inside the element, in CSS pixels")
    new_page: bool = Field(False, description="the click opens a popup that is not named later (older scripts); "
                           "prefer opens=<name>")
    opens: PageName | None = Field(
        None, description="this action opens a popup (a new tab); it becomes the tab the flow is on, and later "
        "actions name it with page=<opens>")
    download: bool = Field(False, description="this action starts a download: the video shows a 'downloaded "
                           "<file name>' cue; the file itself is discarded")


class DblClick(_Action):
    type: Literal["dblclick"]
    target: Target
    button: Literal["left", "right", "middle"] = "left"
    modifiers: list[ModifierName] = Field(default_factory=list)
    position: Position | None = None
    opens: PageName | None = Field(
        None, description="this action opens a popup (a new tab); it becomes the tab the flow is on, and later "
        "actions name it with page=<opens>")
    download: bool = Field(False, description="this action starts a download: the video shows a 'downloaded "
                           "<file name>' cue; the file itself is discarded")


class Fill(_Action):
    """Replace the value of a field at once (use ``type`` to show typing)."""

    type: Literal["fill"]
    target: Target
    value: _TypedStr


class TypeText(_Action):
    """Type text keystroke by keystroke, visibly."""

    type: Literal["type"]
    target: Target
    text: _TypedStr
    delay_ms: int = Field(55, ge=0, le=1000, description="time between keystrokes")


class Press(_Action):
    """Press a key or chord, e.g. "Enter" or "Control+A"; into ``target`` if given."""

    type: Literal["press"]
    key: str = Field(min_length=1, max_length=100)
    target: Target | None = None
    opens: PageName | None = Field(
        None, description="this action opens a popup (a new tab); it becomes the tab the flow is on, and later "
        "actions name it with page=<opens>")
    download: bool = Field(False, description="this action starts a download: the video shows a 'downloaded "
                           "<file name>' cue; the file itself is discarded")


class Hover(_Action):
    type: Literal["hover"]
    target: Target


class Select(_Action):
    """Choose option(s) of a <select> by value or visible label."""

    type: Literal["select"]
    target: Target
    values: list[_LocStr] = Field(min_length=1, max_length=L.MAX_LIST_ITEMS)


class Check(_Action):
    type: Literal["check"]
    target: Target


class Uncheck(_Action):
    type: Literal["uncheck"]
    target: Target


class Scroll(_Action):
    """Scroll smoothly: an element into view, to the top/bottom, to ``y``, or ``by`` pixels."""

    type: Literal["scroll"]
    target: Target | None = None
    to: Literal["top", "bottom"] | None = None
    y: int | None = Field(None, ge=0, le=10_000_000)
    by: int | None = Field(None, ge=-10_000_000, le=10_000_000)


class WaitFor(_Action):
    """Wait until an element reaches a state, some text appears, or the URL matches."""

    type: Literal["wait_for"]
    target: Target | None = None
    text: _LocStr | None = None
    url: _UrlStr | None = Field(None, description="substring of the URL, or a glob with *")
    state: Literal["visible", "hidden", "attached", "detached"] = "visible"
    timeout_ms: int = Field(10_000, ge=0, le=120_000)


class Wait(_Action):
    type: Literal["wait"]
    ms: int = Field(ge=0, le=60_000)


class Highlight(_Action):
    """Draw attention to an element: a ring around it (and a callout label) for a while."""

    type: Literal["highlight"]
    target: Target
    duration_ms: int = Field(1500, ge=100, le=30_000)
    label: _TitleStr | None = None
    spotlight: bool = Field(False, description="dim everything but the target")


class Zoom(_Action):
    """Ease the camera in on an element (or the page centre), hold, and ease back out."""

    type: Literal["zoom"]
    target: Target | None = None
    scale: float = Field(1.6, ge=1.0, le=4.0)
    duration_ms: int = Field(1500, ge=0, le=30_000, description="how long to hold while zoomed")


class Upload(_Action):
    """Set files on an <input type=file>; files are asset paths inside the job bundle."""

    type: Literal["upload"]
    target: Target
    files: list[_PathStr] = Field(min_length=1, max_length=L.MAX_LIST_ITEMS)


class Dialog(_Action):
    """Answer the native dialog (alert, confirm or prompt) that the *next* action of this card raises, as
    codegen's ``page.once("dialog", ...)`` does.  The video shows the dialog (headless Chromium paints
    none) and the cursor pressing the chosen button."""

    type: Literal["dialog"]
    response: Literal["accept", "dismiss"] = "accept"
    text: _TypedStr | None = Field(None, description="what to type into a prompt() before accepting")


class NewPage(_Action):
    """Open a new, empty tab named ``page`` (codegen's ``context.new_page()``) and switch to it; a goto
    usually follows."""

    type: Literal["new_page"]


class ClosePage(_Action):
    """Close a tab (``page``; None = the tab the flow is on); the flow returns to the tab it came from."""

    type: Literal["close_page"]


class SwitchPage(_Action):
    """Bring the tab named ``page`` to the front (codegen's ``bring_to_front()``)."""

    type: Literal["switch_page"]


Action = Annotated[
    Goto | Click | DblClick | Fill | TypeText | Press | Hover | Select | Check | Uncheck | Scroll
    | WaitFor | Wait | Highlight | Zoom | Upload | Dialog | NewPage | ClosePage | SwitchPage,
    Field(discriminator="type"),
]

ACTION_TYPES: tuple[str, ...] = (
    "goto", "click", "dblclick", "fill", "type", "press", "hover", "select", "check", "uncheck",
    "scroll", "wait_for", "wait", "highlight", "zoom", "upload", "dialog", "new_page", "close_page",
    "switch_page",
)
#: actions that can raise a native dialog (they send real input or navigate)
DIALOG_TRIGGERS = frozenset({"click", "dblclick", "press", "fill", "type", "select", "check", "uncheck", "goto"})

# --------------------------------------------------------------------------- cards and settings


#: auto-zoom strength: off, a gentle push-in, or a strong close-up
CameraLevel = Literal["off", "gentle", "strong"]

_LANG_RE = r"^[a-z]{2,3}(-[A-Za-z0-9]{2,8})*$"


class Card(_Model):
    id: str = Field(pattern=_CARD_ID_RE, description="stable identifier, e.g. 'sign-in'")
    title: _TitleStr = ""
    narration: str = Field("", max_length=L.MAX_NARRATION_CHARS,
                           description='spoken text; may contain <mark name="x"/> bookmarks')
    actions: list[Action] = Field(default_factory=list, max_length=L.MAX_ACTIONS_PER_CARD)
    hold_ms: int = Field(0, ge=0, le=60_000, description="extra time to hold after the card")
    camera: CameraLevel | None = Field(None, description="auto-zoom for this card; None = settings.camera")
    narration_i18n: dict[Annotated[str, Field(max_length=35)], _NarrationStr] = Field(
        default_factory=dict, description='narration in other languages, e.g. {"de": "..."} (see settings.languages)')

    def marks(self) -> list[str]:
        return _MARK_RE.findall(self.narration)


class VoiceSettings(_Model):
    provider: Literal["piper", "espeak", "polly"] = "piper"
    voice: _VoiceId | None = Field(None, description="provider-specific voice id; None = the default voice")
    rate: float = Field(1.0, ge=0.5, le=2.0, description="speaking rate multiplier")


_COLOR_RE = r"^#(?:[0-9A-Fa-f]{3}|[0-9A-Fa-f]{6})$"
#: bundled music tracks (synthesised at render time, see app/core/music.py); "bundled:<name>"
BUNDLED_MUSIC = ("calm", "bright")


class Bumper(_Model):
    """An intro or outro card: a title page the renderer draws on the same timeline as the flow."""

    title: str = Field("", max_length=120)
    subtitle: str = Field("", max_length=200)
    logo: _PathStr | None = Field(None, description="image asset (SVG/PNG/JPEG/WebP/GIF) in the bundle")
    brand_color: str = Field("#4f46e5", pattern=_COLOR_RE, description="background colour, #rrggbb")
    text_color: str = Field("#ffffff", pattern=_COLOR_RE)
    font_family: str = Field('"Inter", "DejaVu Sans", system-ui, sans-serif', max_length=200,
                             pattern=r"^[A-Za-z0-9 ,\"'_-]+$", description="CSS font-family")
    stylesheet: _PathStr | None = Field(None, description="path of a stylesheet on the served site whose "
                                   "@font-face fonts the card should use, e.g. 'assets/app.css'")
    duration_ms: int = Field(3000, ge=1000, le=15_000, description="shortest time on screen")
    narration: str = Field("", max_length=L.MAX_NARRATION_CHARS,
                           description="optional spoken text while the card shows")


class LanguageVoice(_Model):
    """One voiceover language: narration comes from each card's ``narration_i18n[lang]``."""

    lang: str = Field(pattern=_LANG_RE, description="language tag, e.g. 'de' or 'pt-BR'")
    provider: Literal["piper", "espeak", "polly"] = "piper"
    voice: _VoiceId | None = Field(None, description="provider-specific voice id for this language")
    rate: float = Field(1.0, ge=0.5, le=2.0)


class Settings(_Model):
    width: int = Field(1280, ge=320, le=3840, multiple_of=2)
    height: int = Field(720, ge=240, le=3840, multiple_of=2)
    fps: Literal[24, 25, 30, 50, 60] = 30
    voice: VoiceSettings = Field(default_factory=VoiceSettings)
    captions: bool = Field(True, description="write SRT and WebVTT sidecars")
    burn_captions: bool = Field(False, description="also draw captions into the video")
    cursor: bool = Field(True, description="draw a visible cursor and click ripples")
    lead_in_ms: int = Field(600, ge=0, le=10_000, description="silence before the first card")
    lead_out_ms: int = Field(1000, ge=0, le=10_000, description="hold after the last card")
    gap_ms: int = Field(400, ge=0, le=10_000, description="pause between cards")
    site: _PathStr | None = Field(None, description="folder of a static site (in the bundle) to serve on loopback")
    session: _PathStr | None = Field(
        None, description="a signed-in session (Playwright storage state JSON, as codegen --save-storage writes) "
        "in the bundle, loaded into the browser before the first card. A secret: never copied into outputs")
    tab_transition: Literal["cut", "slide"] = Field("cut", description="how the video changes tabs")
    base_url: _UrlStr | None = Field(None, description="base for relative goto URLs when no site is served")
    camera: CameraLevel = Field("off", description="default auto-zoom on click/fill/type/select targets")
    cursor_scale: float | None = Field(None, ge=0.5, le=4.0,
                                       description="cursor size multiplier; None = automatic by format")
    device_scale_factor: float | None = Field(
        None, ge=1.0, le=4.0,
        description="page pixels per CSS pixel: the page is laid out at width/dsf x height/dsf; None = automatic")
    purpose: Literal["demo", "ad", "long-form"] = Field(
        "demo", description="ad: warn outside 15-60 s; long-form: 1-3+ minutes")
    target_s: float | None = Field(None, ge=5.0, le=3600.0,
                                   description="tighten gaps and holds to fit this length (narration is never cut)")
    language: str = Field("en", pattern=_LANG_RE, description="language of the cards' narration")
    languages: list[LanguageVoice] = Field(
        default_factory=list, max_length=20, description="extra voiceover languages; one output per language")
    music: _PathStr | None = Field(None, description="music bed: an audio asset in the bundle, or 'bundled:calm' / "
                              "'bundled:bright'")
    music_volume: float = Field(0.35, ge=0.0, le=1.0, description="music level between narration")
    music_fade_in_ms: int = Field(1500, ge=0, le=30_000)
    music_fade_out_ms: int = Field(2500, ge=0, le=30_000)
    music_ducking: bool = Field(True, description="lower the music under narration")
    loudness_lufs: float = Field(-16.0, ge=-30.0, le=-9.0, description="integrated loudness of the mix")
    intro: Bumper | None = Field(None, description="title card before the first card")
    outro: Bumper | None = Field(None, description="closing card after the last card")
    poster: bool = Field(False, description="write <name>.poster.png beside the video")
    poster_card: _VoiceId | None = Field(None, description="card id for the poster (default: first content card)")
    preview: Literal["none", "gif", "webp"] = Field("none", description="animated preview of the first seconds")
    preview_s: float = Field(4.0, ge=1.0, le=15.0)
    interactive: bool = Field(False, description="also write <name>.demo.html: a click-through demo of the same "
                              "render (a still, a hotspot and the narration per step) that works offline")
    key_badges: Literal["off", "auto", "mac", "windows", "linux"] = Field(
        "off", description="show pressed keys (and modifier clicks) on screen, labelled as on this platform's "
        "keyboard (ControlOrMeta: ⌘ on mac, Ctrl elsewhere); auto = the platform the video is rendered on")

    @field_validator("music")
    @classmethod
    def _music_source(cls, v: str | None) -> str | None:
        if v is None:
            return v
        if v.startswith("bundled:"):
            if v[len("bundled:"):] not in BUNDLED_MUSIC:
                raise ValueError(f"unknown bundled track '{v}' (known: "
                                 + ", ".join(f"bundled:{n}" for n in BUNDLED_MUSIC) + ")")
        elif _escapes_bundle(v):
            raise ValueError(f"'{v}' must be a path inside the job bundle")
        return v


class Script(_Model):
    version: Literal[1] = 1
    title: _TitleStr = "Untitled demo"
    settings: Settings = Field(default_factory=Settings)
    cards: list[Card] = Field(min_length=1, max_length=L.MAX_CARDS)

    def iter_actions(self) -> Iterator[tuple[int, Card, int, Any]]:
        for ci, card in enumerate(self.cards):
            for ai, action in enumerate(card.actions):
                yield ci, card, ai, action

    def to_json(self) -> str:
        return self.model_dump_json(indent=2, exclude_defaults=False)


# --------------------------------------------------------------------------- narration


def narration_segments(narration: str) -> list[tuple[str | None, str]]:
    """Split narration at bookmarks: ``[(mark_before_or_None, text), ...]``.

    The first segment has mark ``None``; each later one starts at its mark.
    """
    out: list[tuple[str | None, str]] = []
    pos = 0
    mark: str | None = None
    for m in _MARK_RE.finditer(narration):
        out.append((mark, narration[pos : m.start()]))
        mark = m.group(1)
        pos = m.end()
    out.append((mark, narration[pos:]))
    return out


def mark_names(narration: str) -> list[str]:
    """The bookmark names in ``narration``, in order (``<mark name="x"/>`` in any accepted spelling)."""
    return _MARK_RE.findall(narration)


def canonical_marks(narration: str) -> str:
    """``narration`` with every bookmark spelled ``<mark name="x"/>`` (quotes and spacing vary in input)."""
    return _MARK_RE.sub(lambda m: f'<mark name="{m.group(1)}"/>', narration)


def other_markup(narration: str) -> str | None:
    """The first tag in ``narration`` that is not a bookmark (markup the voice would read out), or None."""
    m = _TAG_LIKE_RE.search(_MARK_RE.sub("", narration))
    return m.group(0) if m else None


def plain_narration(narration: str) -> str:
    """Narration as spoken and captioned: bookmarks removed, control characters dropped, whitespace
    folded.  (Validation refuses control characters; this keeps a script built in code, bypassing
    validation, from putting terminal escapes into the captions or NULs into the voice.)"""
    return " ".join(_CONTROL_RE.sub("", _MARK_RE.sub(" ", narration)).split())


# --------------------------------------------------------------------------- validation


def _where(script_data: Any, loc: tuple[int | str, ...]) -> tuple[str, int | None, str | None, int | None, str]:
    """Turn a pydantic location into 'card 3 'id' › action 2 (click) › target'."""
    parts: list[str] = []
    card_index: int | None = None
    card_id: str | None = None
    action_index: int | None = None
    field_path: list[str] = []
    i = 0
    loc = tuple(loc)
    while i < len(loc):
        key = loc[i]
        if key == "cards" and i + 1 < len(loc) and isinstance(loc[i + 1], int):
            card_index = int(loc[i + 1])
            try:
                raw_id = script_data["cards"][card_index].get("id")
                card_id = raw_id if isinstance(raw_id, str) else None
            except (KeyError, IndexError, TypeError, AttributeError):
                card_id = None
            parts.append(f"card {card_index + 1}" + (f" '{card_id}'" if card_id else ""))
            i += 2
            continue
        if key == "actions" and i + 1 < len(loc) and isinstance(loc[i + 1], int):
            action_index = int(loc[i + 1])
            label = f"action {action_index + 1}"
            # the discriminator tag follows in pydantic's location
            if i + 2 < len(loc) and isinstance(loc[i + 2], str) and loc[i + 2] in ACTION_TYPES:
                label += f" ({loc[i + 2]})"
                i += 1
            parts.append(label)
            i += 2
            continue
        field_path.append(str(key))
        i += 1
    if field_path:
        parts.append(".".join(field_path))
    return " › ".join(parts) or "script", card_index, card_id, action_index, ".".join(field_path)


def _human(err: Any) -> str:
    typ = err.get("type", "")
    loc = err.get("loc", ())
    last = loc[-1] if loc else ""
    if typ == "missing":
        return "is required"
    if typ == "extra_forbidden":
        return f"unknown field '{last}'"
    if typ == "union_tag_invalid":
        tag = err.get("ctx", {}).get("tag", "?")
        return f"unknown action type '{tag}' (known: {', '.join(ACTION_TYPES)})"
    if typ == "union_tag_not_found":
        return "an action needs a 'type' field"
    if typ == "literal_error":
        return f"must be one of {err.get('ctx', {}).get('expected', '?')} (got {err.get('input')!r})"
    if typ == "string_pattern_mismatch" and last == "id":
        return (
            f"card id {err.get('input')!r} must start with a letter or digit and use only letters, "
            "digits, '-', '_' and '.' (max 64)"
        )
    if typ == "string_too_long":
        limit = err.get("ctx", {}).get("max_length", "?")
        got = len(err.get("input") or "")
        what = "narration" if last == "narration" or "narration_i18n" in loc else "text"
        return f"{what} is {got:,} characters long; the limit is {limit:,} (see docs/troubleshooting.md, Limits)"
    if typ == "too_long":
        limit = err.get("ctx", {}).get("max_length", "?")
        got = err.get("ctx", {}).get("actual_length", "?")
        noun = {"cards": "cards", "actions": "actions"}.get(str(last), "items")
        return f"{got} {noun}; the limit is {limit} (see docs/troubleshooting.md, Limits)"
    msg = str(err.get("msg", "is invalid"))
    return msg[0].lower() + msg[1:] if msg else "is invalid"


def _semantic_problems(script: Script, *, check_settings: bool = True) -> list[Problem]:
    problems: list[Problem] = []
    seen_ids: dict[str, int] = {}
    has_relative_goto = False

    def add(ci: int | None, ai: int | None, fld: str, message: str) -> None:
        parts = []
        cid = script.cards[ci].id if ci is not None else None
        if ci is not None:
            parts.append(f"card {ci + 1} '{cid}'")
        if ai is not None and ci is not None:
            act = script.cards[ci].actions[ai]
            parts.append(f"action {ai + 1} ({act.type})")
        if fld:
            parts.append(fld)
        problems.append(
            Problem(" › ".join(parts) or "script", message, card_index=ci, card_id=cid,
                    action_index=ai, field=fld or None)
        )

    if (bad := control_char_problem(script.title)) is not None:
        problems.append(Problem("title", bad, field="title"))
    total_actions = 0
    for ci, card in enumerate(script.cards):
        total_actions += len(card.actions)
        for fld, text in (("title", card.title), ("narration", card.narration),
                          *((f"narration_i18n › {lang}", t) for lang, t in card.narration_i18n.items())):
            bad = control_char_problem(text)
            if bad is not None:
                add(ci, None, fld, bad)
        if card.id in seen_ids:
            add(ci, None, "id", f"duplicate card id '{card.id}' (also card {seen_ids[card.id] + 1})")
        else:
            seen_ids[card.id] = ci
        marks = card.marks()
        dupes = sorted({m for m in marks if marks.count(m) > 1})
        for d in dupes:
            add(ci, None, "narration", f"bookmark '{d}' appears more than once")
        stripped = _MARK_RE.sub("", card.narration)
        bad_tag = _TAG_LIKE_RE.search(stripped)
        if bad_tag:
            add(ci, None, "narration",
                f"unsupported markup {bad_tag.group(0)!r}: only <mark name=\"x\"/> bookmarks are allowed")
        for ai, action in enumerate(card.actions):
            if action.at is not None and action.at not in marks:
                known = ", ".join(dict.fromkeys(marks)) or "none"
                add(ci, ai, "at", f"bookmark '{action.at}' is not in this card's narration (marks: {known})")
            for fld in ("target",):
                loc = getattr(action, fld, None)
                if isinstance(loc, Locator):
                    for problem in _locator_problems(loc):
                        add(ci, ai, fld, problem)
            if isinstance(action, Highlight) and action.label is not None:
                bad = control_char_problem(action.label)
                if bad is not None:
                    add(ci, ai, "label", bad)
            if isinstance(action, Goto):
                url_msg = _url_problem(action.url)
                if url_msg:
                    add(ci, ai, "url", url_msg)
                elif not urlsplit(action.url).scheme:
                    has_relative_goto = True
            if isinstance(action, Scroll):
                given = [k for k in ("target", "to", "y", "by") if getattr(action, k) is not None]
                if len(given) != 1:
                    add(ci, ai, "", "a scroll needs exactly one of target, to, y or by"
                        + (f" (got {', '.join(given)})" if given else ""))
            if isinstance(action, WaitFor):
                given = [k for k in ("target", "text", "url") if getattr(action, k) is not None]
                if len(given) != 1:
                    add(ci, ai, "", "a wait_for needs exactly one of target, text or url"
                        + (f" (got {', '.join(given)})" if given else ""))
                if action.url is not None and (bad := control_char_problem(action.url)) is not None:
                    add(ci, ai, "url", bad)
            if isinstance(action, Press):
                try:
                    parse_chord(action.key)
                except KeyError_ as exc:
                    add(ci, ai, "key", exc.message + (f" ({exc.hint})" if exc.hint else ""))
            if isinstance(action, Click | DblClick):
                for mod in action.modifiers:
                    try:
                        check_modifier(mod)
                    except KeyError_ as exc:
                        add(ci, ai, "modifiers", exc.message + (f" ({exc.hint})" if exc.hint else ""))
            if isinstance(action, Upload):
                for f in action.files:
                    if _escapes_bundle(f):
                        add(ci, ai, "files", f"'{f}' must be a path inside the job bundle")
    for ci, ai, fld, message in _page_flow_problems(script):
        add(ci, ai, fld, message)
    if total_actions > L.MAX_ACTIONS_PER_SCRIPT:
        problems.append(Problem("cards", f"{total_actions:,} actions in all; the limit is "
                                f"{L.MAX_ACTIONS_PER_SCRIPT:,} per script (see docs/troubleshooting.md, Limits)",
                                field="actions"))
    if not check_settings:  # the settings did not parse; their problems are already reported
        problems += _narration_total_problems(script, check_settings=False)
        return problems
    problems += _narration_total_problems(script)
    problems += _language_problems(script)
    s = script.settings
    if has_relative_goto and not s.site and not s.base_url:
        problems.append(Problem("settings", "a goto uses a relative URL but neither settings.site nor "
                                "settings.base_url is set", field="site"))
    if s.base_url:
        base_msg = _url_problem(s.base_url)
        if base_msg or not urlsplit(s.base_url).scheme:
            problems.append(Problem("settings › base_url", base_msg or "must be an absolute http(s) URL",
                                    field="base_url"))
    if s.session is not None:
        if _escapes_bundle(s.session):
            problems.append(Problem("settings › session", "must be a file inside the job bundle", field="session"))
        elif PurePosixPath(s.session).suffix.lower() != ".json":
            problems.append(Problem("settings › session", f"'{s.session}' is not a session file (Playwright "
                                    "storage state, a .json file)", field="session"))
    if s.site and _escapes_bundle(s.site):
        problems.append(Problem("settings › site", "must be a folder inside the job bundle", field="site"))
    if s.poster_card is not None and s.poster_card not in seen_ids:
        problems.append(Problem("settings › poster_card", f"no card has id '{s.poster_card}'", field="poster_card"))
    for which, bumper in (("intro", s.intro), ("outro", s.outro)):
        if bumper is None:
            continue
        for fld in ("title", "subtitle", "narration"):
            bad = control_char_problem(getattr(bumper, fld))
            if bad is not None:
                problems.append(Problem(f"settings › {which}.{fld}", bad, field=f"{which}.{fld}"))
        if bumper.logo is not None and _escapes_bundle(bumper.logo):
            problems.append(Problem(f"settings › {which}.logo", "must be a path inside the job bundle",
                                    field=f"{which}.logo"))
        elif bumper.logo is not None and PurePosixPath(bumper.logo).suffix.lower() not in LOGO_TYPES:
            problems.append(Problem(f"settings › {which}.logo",
                                    f"'{bumper.logo}' is not an image the title card can show "
                                    f"(use {', '.join(sorted(LOGO_TYPES))})", field=f"{which}.logo"))
        if bumper.stylesheet is not None and _escapes_bundle(bumper.stylesheet.lstrip("/")):
            problems.append(Problem(f"settings › {which}.stylesheet", "must be a path on the served site",
                                    field=f"{which}.stylesheet"))
    return problems


def _page_flow_problems(script: Script) -> list[tuple[int, int, str, str]]:
    """Tabs: every action names a tab that is open when it runs; dialogs precede the action that raises
    them.  Returns (card index, action index, field, message).

    The same rules the renderer follows: the flow is on one tab at a time; an action naming another
    open tab switches to it; opening a tab switches to it; closing the tab the flow is on returns to
    the tab that opened it (or the one it came from)."""
    out: list[tuple[int, int, str, str]] = []
    opener: dict[str, str | None] = {FIRST_PAGE: None}  # open tabs (in order) -> the tab they came from
    closed: set[str] = set()
    active = FIRST_PAGE
    anon = 0

    def known() -> str:
        return ", ".join(n for n in opener if not n.startswith("#")) or "none"

    def open_tab(name: str) -> None:
        nonlocal active
        opener[name] = active
        closed.discard(name)
        active = name

    for ci, card in enumerate(script.cards):
        for ai, a in enumerate(card.actions):
            name = a.page
            if a.type == "new_page":
                if name is None:
                    out.append((ci, ai, "page", "a new_page action names the tab it opens (page=...)"))
                elif name in opener:
                    out.append((ci, ai, "page", f"a tab named '{name}' is already open"))
                else:
                    open_tab(name)
                continue
            if name is not None and name not in opener:
                why = "was closed earlier" if name in closed else "is not open here"
                out.append((ci, ai, "page", f"the tab '{name}' {why} (open tabs: {known()})"))
                continue
            if a.type == "switch_page" and name is None:
                out.append((ci, ai, "page", "a switch_page action names the tab to bring to the front"))
            if name is not None:
                active = name
            if a.type == "close_page":
                if len(opener) <= 1:
                    out.append((ci, ai, "page", "cannot close the last open tab"))
                    continue
                back = opener.pop(active)
                if not active.startswith("#"):
                    closed.add(active)
                for tab, came_from in opener.items():  # tabs opened from the closed one now come from its opener
                    if came_from == active:
                        opener[tab] = back
                active = back if back in opener else next(reversed(opener))
                continue
            opened = getattr(a, "opens", None)
            if opened is not None:
                if opened in opener:
                    out.append((ci, ai, "opens", f"a tab named '{opened}' is already open"))
                else:
                    open_tab(opened)
            elif getattr(a, "new_page", False):
                anon += 1
                open_tab(f"#popup{anon}")
            if a.type == "dialog":
                nxt = card.actions[ai + 1] if ai + 1 < len(card.actions) else None
                if nxt is None or nxt.type not in DIALOG_TRIGGERS:
                    out.append((ci, ai, "", "a dialog answer must come right before the action that raises the "
                                "dialog (a click, key press, fill, select, check or goto in the same card)"))
                elif a.page is not None and nxt.page is not None and a.page != nxt.page:
                    out.append((ci, ai, "page", f"the dialog is on tab '{a.page}' but the next action is on "
                                f"'{nxt.page}'"))
                if a.text is not None and a.response == "dismiss":
                    out.append((ci, ai, "text", "prompt text is only typed when the dialog is accepted"))
                if a.text is not None and (bad := control_char_problem(a.text)) is not None:
                    out.append((ci, ai, "text", bad))
    return out


def _narration_total_problems(script: Script, *, check_settings: bool = True) -> list[Problem]:
    """The whole script's narration, per language, within MAX_SCRIPT_NARRATION_CHARS (bumpers count)."""
    totals: dict[str, int] = {}
    main = script.settings.language if check_settings else "en"
    for card in script.cards:
        totals[main] = totals.get(main, 0) + len(card.narration)
        for lang, text in card.narration_i18n.items():
            totals[lang] = totals.get(lang, 0) + len(text)
    if check_settings:
        for bumper in (script.settings.intro, script.settings.outro):
            if bumper is not None:
                totals[main] = totals.get(main, 0) + len(bumper.narration)
    return [Problem("cards › narration", f"the script's narration{'' if lang == main else f' in {lang!r}'} is "
                    f"{n:,} characters long; the limit is {L.MAX_SCRIPT_NARRATION_CHARS:,} per script "
                    "(see docs/troubleshooting.md, Limits)", field="narration")
            for lang, n in totals.items() if n > L.MAX_SCRIPT_NARRATION_CHARS]


#: C0 and C1 control characters and DEL; tab, newline and carriage return are ordinary whitespace
_CONTROL_RE = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f]")
_CONTROL_NAMES = {0x00: "NUL", 0x1B: "ESC (a terminal colour/escape code)", 0x07: "BEL", 0x08: "backspace",
                  0x7F: "DEL", 0x0C: "form feed", 0x0B: "vertical tab"}


def control_char_problem(text: str) -> str | None:
    """Why ``text`` cannot be spoken or captioned as it is: the first control character in it."""
    m = _CONTROL_RE.search(text)
    if m is None:
        return None
    code = ord(m.group(0))
    name = _CONTROL_NAMES.get(code, "a control character")
    return (f"contains {name} U+{code:04X} at character {m.start() + 1}; remove it (control characters "
            "cannot be spoken and must not reach the captions)")


#: image types the intro/outro page can show
LOGO_TYPES = frozenset({".svg", ".png", ".jpg", ".jpeg", ".webp", ".gif"})


def _language_problems(script: Script) -> list[Problem]:
    """Translations must name a configured language and keep the bookmarks actions fire on."""
    problems: list[Problem] = []
    s = script.settings
    langs = [lv.lang for lv in s.languages]
    for i, lang in enumerate(langs):
        if lang in langs[:i]:
            problems.append(Problem(f"settings › languages › {i + 1}", f"language '{lang}' is listed twice",
                                    field="languages"))
    for ci, card in enumerate(script.cards):
        where = f"card {ci + 1} '{card.id}' › narration_i18n"
        used = [a.at for a in card.actions if a.at is not None]
        for lang, text in card.narration_i18n.items():
            if not re.match(_LANG_RE, lang):
                problems.append(Problem(where, f"'{lang}' is not a language tag (e.g. 'de', 'pt-BR')",
                                        card_index=ci, card_id=card.id, field="narration_i18n"))
                continue
            if lang not in langs and lang != s.language:
                problems.append(Problem(f"{where} › {lang}", f"'{lang}' is not in settings.languages",
                                        card_index=ci, card_id=card.id, field="narration_i18n"))
            marks = _MARK_RE.findall(text)
            missing = [m for m in dict.fromkeys(used) if m not in marks]
            if missing:
                problems.append(Problem(f"{where} › {lang}",
                                        f"the translation lacks bookmark(s) {', '.join(missing)} that actions fire on",
                                        card_index=ci, card_id=card.id, field="narration_i18n"))
            bad_tag = _TAG_LIKE_RE.search(_MARK_RE.sub("", text))
            if bad_tag:
                problems.append(Problem(f"{where} › {lang}", f"unsupported markup {bad_tag.group(0)!r}",
                                        card_index=ci, card_id=card.id, field="narration_i18n"))
    return problems


def _escapes_bundle(rel: str) -> bool:
    # The same rule as bundle._safe_rel (which also reads '\\' as a separator), so a path this accepts
    # can always be bundled.
    p = PurePosixPath(rel.replace("\\", "/"))
    return p.is_absolute() or ".." in p.parts or not p.parts


def _locator_problems(loc: Locator) -> list[str]:
    out: list[str] = []
    kinds = [k for k in LOCATOR_KINDS if getattr(loc, k) is not None]
    if not kinds:
        out.append(f"a locator needs one of {', '.join(LOCATOR_KINDS)}")
    elif len(kinds) > 1:
        out.append(f"a locator takes one of {', '.join(LOCATOR_KINDS)}, not several ({', '.join(kinds)})")
    if loc.name is not None and loc.role is None:
        out.append("'name' goes with 'role'")
    if loc.role is not None and loc.role not in ARIA_ROLES:
        out.append(f"'{loc.role}' is not an ARIA role")
    for k in kinds:
        if getattr(loc, k) == "":
            out.append(f"'{k}' is empty")
    if loc.css is not None and (bad := css_engine_problem(loc.css)) is not None:
        out.append(bad)
    if isinstance(loc.frame, list) and not loc.frame:
        out.append("frame: an empty list (leave frame out when the element is in the page itself)")
    for sel in loc.frames():
        if sel == "":
            out.append("frame: an empty selector")
        elif (bad := css_engine_problem(sel)) is not None:
            out.append(f"frame: {bad}")
    if loc.within is not None:
        out += [f"within: {m}" for m in _locator_problems(loc.within)]
    return out


#: Playwright selector engines, and the locator field that says the same thing declaratively
_ENGINE_FIELDS = {
    "css": 'the same selector without "css="', "xpath": "a role, label, text or CSS locator (XPath is not supported)",
    "text": '"text"', "id": 'css "#the-id"', "data-testid": '"test_id"', "data-test-id": '"test_id"',
    "data-test": '"test_id"', "role": '"role" and "name"', "nth": '"nth"', "visible": "a CSS selector",
    "has-text": '"has_text"', "react": "a CSS selector", "vue": "a CSS selector", "_react": "a CSS selector",
    "_vue": "a CSS selector", "left-of": "a CSS selector", "right-of": "a CSS selector", "above": "a CSS selector",
    "below": "a CSS selector", "near": "a CSS selector",
}
_ENGINE_RE = re.compile(r"^\s*(internal:[\w-]+|[A-Za-z_][\w-]*)\s*=", re.I)


def css_engine_problem(selector: str) -> str | None:
    """Why ``selector`` is not a plain CSS selector: a Playwright engine prefix (``xpath=``, ``text=``,
    ``internal:role=`` ...), an XPath, or a ``>>`` chain.  The ``css`` field is passed to
    ``page.locator`` as it is, so such a prefix would silently switch engines; it is refused with the
    locator field that says the same thing."""
    s = selector.strip()
    m = _ENGINE_RE.match(s)
    if m:  # "name=" can never start a CSS selector, so any engine name is a mistake
        use = _ENGINE_FIELDS.get(m.group(1).lower(),
                                 "a locator field (role, label, placeholder, text, test_id, alt, title)")
        return (f"'{selector}' uses Playwright's '{m.group(1)}=' selector engine; 'css' takes a plain CSS "
                f"selector — use {use}")
    if s.startswith(("//", "..", "(//")):
        return f"'{selector}' looks like an XPath; 'css' takes a CSS selector (XPath is not supported)"
    if ">>" in s:
        return f"'{selector}' chains selectors with '>>'; use 'within' for a locator inside another"
    return None


def _url_problem(url: str) -> str | None:
    if (bad := control_char_problem(url)) is not None:
        return bad
    try:
        parts = urlsplit(url)
    except ValueError as exc:
        return f"'{url}' is not a valid URL ({exc})"
    if parts.scheme and parts.scheme.lower() not in ("http", "https"):
        return f"URL scheme '{parts.scheme}:' is not allowed (use http, https or a relative path)"
    if parts.scheme and not parts.netloc:
        return f"'{url}' has no host"
    return blocked_reason(url)


_SCRIPT_ADAPTER: TypeAdapter[Script] = TypeAdapter(Script)


_CARD_ADAPTER: TypeAdapter[Card] = TypeAdapter(Card)


def _salvage(data: dict[str, Any]) -> tuple[Script, bool]:
    """The parts of an invalid script that are valid on their own, card indexes preserved (cards that
    do not parse become empty placeholders), and whether the settings parsed."""
    raw_cards = data.get("cards")
    cards: list[Card] = []
    for i, raw in enumerate(raw_cards if isinstance(raw_cards, list) else []):
        try:
            cards.append(_CARD_ADAPTER.validate_python(raw))
        except ValidationError:
            cards.append(Card.model_construct(id=f"\x00unparsed-{i}", title="", narration="", actions=[],
                                              hold_ms=0))
    try:
        settings, ok = Settings.model_validate(data.get("settings") or {}), True
    except ValidationError:
        settings, ok = Settings(), False
    return Script.model_construct(settings=settings, cards=cards), ok


def validate_script(data: Any, *, source: str | Path | None = None) -> Script:
    """Parse and validate script data; raise :class:`ScriptError` listing *every* problem."""
    if not isinstance(data, dict):
        raise ScriptError([Problem("script", "must be a JSON object")], source=source)
    try:
        script = _SCRIPT_ADAPTER.validate_python(data)
    except ValidationError as exc:
        problems = []
        for err in exc.errors(include_url=False):
            where, ci, cid, ai, fld = _where(data, tuple(err["loc"]))
            problems.append(Problem(where, _human(err), card_index=ci, card_id=cid, action_index=ai,
                                    field=fld or None))
        # Report the semantic problems of everything that did parse too, so one fix-and-rerun
        # round shows every problem.
        salvaged, settings_ok = _salvage(data)
        problems += _semantic_problems(salvaged, check_settings=settings_ok)
        raise ScriptError(problems, source=source) from None
    problems = _semantic_problems(script)
    if problems:
        raise ScriptError(problems, source=source)
    return script


_JSON_STRING_RE = re.compile(r'"(?:[^"\\\n]|\\.)*"')
_JSON_BRACKET_RE = re.compile(r"[\[\]{}]")
_JSON_LONG_NUMBER_RE = re.compile(rf"[-+0-9.eE]{{{L.MAX_NUMBER_CHARS + 1},}}")


def _json_structure_problem(text: str, what: str) -> Problem | None:
    """Nesting deeper than MAX_JSON_DEPTH or an absurdly long number, found on the text itself —
    before ``json.loads`` recurses (a 200,000-deep array exhausts the stack) or converts."""
    bare = _JSON_STRING_RE.sub('""', text)  # strings hide brackets; raw newlines never match, so lines stay
    depth = 0
    for m in _JSON_BRACKET_RE.finditer(bare):
        if m.group() in "[{":
            depth += 1
            if depth > L.MAX_JSON_DEPTH:
                return Problem(what, f"nested more than {L.MAX_JSON_DEPTH} levels deep (the limit; see "
                               "docs/troubleshooting.md, Limits)", line=bare.count("\n", 0, m.start()) + 1)
        else:
            depth -= 1
    long_number = _JSON_LONG_NUMBER_RE.search(bare)
    if long_number is not None:
        return Problem(what, f"a number {len(long_number.group()):,} characters long; numbers are limited to "
                       f"{L.MAX_NUMBER_CHARS} characters", line=bare.count("\n", 0, long_number.start()) + 1)
    return None


def _no_constants(name: str) -> Any:
    raise ValueError(f"{name} is not a number JSON allows")


def parse_json_text(text: str, *, source: str | Path | None = None, what: str = "script") -> Any:
    """JSON text to Python data, every failure a :class:`ScriptError` naming the line.

    Guards what ``json.loads`` does not: size, nesting depth, number length, NaN/Infinity.
    """
    if len(text) > L.MAX_SCRIPT_BYTES:
        raise ScriptError([Problem(what, f"{len(text):,} characters long; the limit is "
                                   f"{L.MAX_SCRIPT_BYTES // 2**20} MiB")], source=source)
    problem = _json_structure_problem(text, what)
    if problem is not None:
        raise ScriptError([problem], source=source)
    try:
        return json.loads(text, parse_constant=_no_constants)
    except json.JSONDecodeError as exc:
        raise ScriptError(
            [Problem(what, f"not valid JSON: {exc.msg} (column {exc.colno})", line=exc.lineno)],
            source=source,
        ) from None
    except RecursionError:  # (the depth check above makes this unreachable; kept as the last guard)
        raise ScriptError([Problem(what, "nested too deeply")], source=source) from None
    except ValueError as exc:  # NaN/Infinity, or an int beyond sys.get_int_max_str_digits()
        raise ScriptError([Problem(what, f"not valid JSON: {exc}")], source=source) from None


def read_json_file(path: Path, *, what: str = "script") -> Any:
    """Read and parse a JSON file (a script or a job.json), refusing non-files and oversized ones."""
    try:
        st = path.stat()
        if not path.is_file():
            raise ScriptError([Problem(what, "is not a regular file")], source=path)
        if st.st_size > L.MAX_SCRIPT_BYTES:
            raise ScriptError([Problem(what, f"the file is {st.st_size:,} bytes; the limit is "
                                       f"{L.MAX_SCRIPT_BYTES // 2**20} MiB")], source=path)
        text = path.read_text(encoding="utf-8-sig")
    except UnicodeDecodeError as exc:
        raise ScriptError([Problem(what, f"cannot read the file: not UTF-8 text (byte {exc.start})")],
                          source=path) from None
    except OSError as exc:
        raise ScriptError([Problem(what, f"cannot read the file: {exc.strerror or exc}")], source=path) from None
    return parse_json_text(text, source=path, what=what)


def parse_script_json(text: str, *, source: str | Path | None = None) -> Script:
    return validate_script(parse_json_text(text, source=source), source=source)


def load_script(path: str | Path) -> Script:
    p = Path(path)
    return validate_script(read_json_file(p), source=p)


def _allow_target_shorthand(node: Any) -> None:
    # The model accepts a bare string as a CSS target (see _target_from_shorthand); pydantic's schema
    # only knows the Locator object, so say "string or Locator" wherever a target is.
    if isinstance(node, dict):
        props = node.get("properties")
        if isinstance(props, dict) and isinstance(props.get("target"), dict):
            t = props["target"]
            ref = {"$ref": "#/$defs/Locator"}
            shorthand = {"type": "string", "description": "shorthand for {\"css\": ...}"}
            if t.get("$ref") == ref["$ref"]:
                props["target"] = {"description": t.get("description", ""), "anyOf": [shorthand, ref]}
            elif any(isinstance(o, dict) and o.get("$ref") == ref["$ref"] for o in t.get("anyOf", [])):
                t["anyOf"] = [shorthand, *t["anyOf"]]
        for v in node.values():
            _allow_target_shorthand(v)
    elif isinstance(node, list):
        for v in node:
            _allow_target_shorthand(v)


def script_json_schema() -> dict[str, Any]:
    schema = Script.model_json_schema()
    _allow_target_shorthand(schema)
    schema["$schema"] = "https://json-schema.org/draft/2020-12/schema"
    schema["$id"] = "https://reelwright.invalid/schema/script-v1.json"
    return schema


#: the frame rates a script may ask for (the model's ``fps`` field is their source)
FPS_OPTIONS: tuple[int, ...] = get_args(Settings.model_fields["fps"].annotation)
