"""Intro and outro cards: title pages the renderer draws on the same timeline as the flow.

A bumper is an ordinary card added in front of (or after) the script's cards: its actions are a
``goto`` to a generated page served on loopback (``/__reelwright/intro.html``) and a ``wait`` for
its duration, and its narration is optional.  So the plan, the captions and the chapters account for
it with no special case, and its motion — CSS animations — runs on the video's virtual clock like
any page: the same job gives the same frames.

Everything the user typed is HTML-escaped; the page has no script.
"""

from __future__ import annotations

import html
import shutil
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal

from ..errors import RenderError
from ..script import LOGO_TYPES, Bumper, Card, Goto, Script, Settings, Wait

__all__ = ["BUMPER_PREFIX", "BumperPlan", "bumper_html", "expand_with_bumpers", "renumber_error",
           "write_bumper_pages"]

#: URL folder the generated pages are served under (on the job's site server, or their own)
BUMPER_PREFIX = "__reelwright"

Kind = Literal["intro", "outro"]

_LOGO_TYPES = LOGO_TYPES


def _shade(hex_color: str, factor: float) -> str:
    """``hex_color`` darkened (factor < 1) or lightened toward white (factor > 1)."""
    h = hex_color.lstrip("#")
    if len(h) == 3:
        h = "".join(c * 2 for c in h)
    rgb = [int(h[i:i + 2], 16) for i in (0, 2, 4)]
    rgb = [round(c * factor) for c in rgb] if factor <= 1 else [round(c + (255 - c) * (factor - 1)) for c in rgb]
    return "#" + "".join(f"{max(0, min(255, c)):02x}" for c in rgb)


def bumper_html(bumper: Bumper, kind: Kind, *, logo_url: str | None = None,
                stylesheet_url: str | None = None) -> str:
    """The page of an intro/outro card.  Pure: the same bumper gives the same bytes."""
    e = html.escape
    bg = bumper.brand_color
    deep = _shade(bg, 0.62)
    glow = _shade(bg, 1.35)
    # Motion: the title rises and fades in, the subtitle follows, a rule grows under them; an outro
    # settles the other way round (logo first).  Short, eased, and all done within a second.
    link = f'<link rel="stylesheet" href="{e(stylesheet_url)}">' if stylesheet_url else ""
    logo = f'<img class="logo" src="{e(logo_url)}" alt="">' if logo_url else ""
    title = f'<h1 class="title">{e(bumper.title)}</h1>' if bumper.title else ""
    subtitle = f'<p class="subtitle">{e(bumper.subtitle)}</p>' if bumper.subtitle else ""
    order = (logo + title + '<div class="rule"></div>' + subtitle)
    return f"""<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>{e(bumper.title or kind)}</title>{link}
<style>
  html,body{{margin:0;height:100%;overflow:hidden}}
  /* the overlay's cursor has no business on a title card */
  reelwright-overlay{{display:none!important}}
  body.rw-bumper{{
    background:radial-gradient(120% 120% at 30% 20%,{glow} 0%,{bg} 45%,{deep} 100%);
    color:{bumper.text_color};font-family:{bumper.font_family};
    display:flex;align-items:center;justify-content:center;text-align:center;
    -webkit-font-smoothing:antialiased}}
  .rw-stage{{width:min(86vw,1400px);display:flex;flex-direction:column;align-items:center;gap:2.2vmin}}
  .logo{{max-height:14vmin;max-width:40vw;animation:rw-pop .7s cubic-bezier(.2,.8,.2,1) both}}
  .title{{margin:0;font-weight:700;letter-spacing:-.02em;line-height:1.08;font-size:clamp(24px,7.2vmin,120px);
    animation:rw-rise .8s cubic-bezier(.2,.8,.2,1) .15s both}}
  .subtitle{{margin:0;font-weight:500;opacity:.88;line-height:1.3;font-size:clamp(14px,3.3vmin,54px);
    max-width:80%;animation:rw-rise .8s cubic-bezier(.2,.8,.2,1) .4s both}}
  .rule{{height:.6vmin;min-height:3px;width:12vmin;border-radius:99px;background:{bumper.text_color};opacity:.55;
    transform-origin:center;animation:rw-grow .7s cubic-bezier(.2,.8,.2,1) .3s both}}
  body.outro .logo{{animation-delay:0s}} body.outro .title{{animation-delay:.2s}}
  @keyframes rw-rise{{from{{opacity:0;transform:translateY(3vmin)}}to{{opacity:1;transform:none}}}}
  @keyframes rw-pop{{from{{opacity:0;transform:scale(.85)}}to{{opacity:1;transform:none}}}}
  @keyframes rw-grow{{from{{transform:scaleX(0)}}to{{transform:scaleX(1)}}}}
</style></head>
<body class="rw-bumper {kind}"><main class="rw-stage">{order}</main></body></html>
"""


@dataclass
class BumperPlan:
    """What :func:`expand_with_bumpers` did: the new script and settings, and where the bumpers are."""

    script: Script
    settings: Settings
    intro_index: int | None = None
    outro_index: int | None = None
    content_indexes: list[int] = field(default_factory=list)


def write_bumper_pages(settings: Settings, folder: Path, resolve_asset: Callable[[str], Path], *,
                       same_origin_site: bool) -> dict[str, Path]:
    """Write the intro/outro pages (and logo copies) into ``folder``.

    Returns URL path (under :data:`BUMPER_PREFIX`) -> file, ready to add to a site server.
    ``resolve_asset`` maps a bundle asset path to a file (``Job.resolve``).  A stylesheet is linked
    only when the pages share the site's origin.
    """
    files: dict[str, Path] = {}
    folder.mkdir(parents=True, exist_ok=True)
    for kind, bumper in (("intro", settings.intro), ("outro", settings.outro)):
        if bumper is None:
            continue
        logo_url = None
        if bumper.logo:
            src = Path(resolve_asset(bumper.logo))
            ext = Path(bumper.logo).suffix.lower()
            if ext not in _LOGO_TYPES:
                raise RenderError(f"{kind} logo '{bumper.logo}' is not an image the page can show "
                                  f"(use {', '.join(sorted(_LOGO_TYPES))})")
            name = f"{kind}-logo{ext}"
            dest = folder / name
            shutil.copyfile(src, dest)
            files[f"{BUMPER_PREFIX}/{name}"] = dest
            logo_url = name  # relative to the page
        sheet = "/" + bumper.stylesheet.lstrip("/") if (bumper.stylesheet and same_origin_site) else None
        page = folder / f"{kind}.html"
        page.write_text(bumper_html(bumper, kind, logo_url=logo_url, stylesheet_url=sheet),  # type: ignore[arg-type]
                        encoding="utf-8")
        files[f"{BUMPER_PREFIX}/{kind}.html"] = page
    return files


def _unique_id(wanted: str, taken: set[str]) -> str:
    cid, n = wanted, 2
    while cid in taken:
        cid = f"{wanted}-{n}"
        n += 1
    taken.add(cid)
    return cid


def expand_with_bumpers(script: Script, settings: Settings, base_url: str | None) -> BumperPlan:
    """The script with an intro card in front and an outro card at the end (when set).

    ``base_url`` is where :data:`BUMPER_PREFIX` pages are served.  With an intro the lead-in is
    dropped: the title card *is* the opening, not a blank page before it.
    """
    intro, outro = settings.intro, settings.outro
    n = len(script.cards)
    if intro is None and outro is None:
        return BumperPlan(script, settings, None, None, list(range(n)))
    if base_url is None:
        raise ValueError("bumper pages need a base URL")
    taken = {c.id for c in script.cards}

    def card(kind: Kind, bumper: Bumper) -> Card:
        url = f"{base_url.rstrip('/')}/{BUMPER_PREFIX}/{kind}.html"
        return Card(id=_unique_id(kind, taken), title=bumper.title or kind.capitalize(),
                    narration=bumper.narration,
                    actions=[Goto(type="goto", url=url), Wait(type="wait", ms=bumper.duration_ms)])

    cards = list(script.cards)
    new_settings = settings.model_copy(deep=True)
    intro_index = outro_index = None
    offset = 0
    if intro is not None:
        cards.insert(0, card("intro", intro))
        intro_index, offset = 0, 1
        new_settings.lead_in_ms = 0
    if outro is not None:
        cards.append(card("outro", outro))
        outro_index = len(cards) - 1
    new_script = script.model_copy(update={"cards": cards})
    return BumperPlan(new_script, new_settings, intro_index, outro_index, [i + offset for i in range(n)])


def renumber_error(err: RenderError, plan: BumperPlan) -> None:
    """Make an error raised while performing the expanded script name the *user's* card: with an
    intro, the performer's card 3 is the script's card 2 (and the intro itself is "the intro card")."""
    index = err.card_index
    if index is None or (plan.intro_index is None and plan.outro_index is None):
        return
    old = f"card {index + 1}" + (f" '{err.card_id}'" if err.card_id else "")
    if index in (plan.intro_index, plan.outro_index):
        label = "the intro card" if index == plan.intro_index else "the outro card"
        err.card_index = None
    else:
        err.card_index = plan.content_indexes.index(index)
        label = f"card {err.card_index + 1}" + (f" '{err.card_id}'" if err.card_id else "")
    if err.message.startswith(old):
        err.message = label + err.message[len(old):]

