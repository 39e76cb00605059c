"""The bundled quickstart example: its script is valid and everything it aims at exists in its site.

Fast and browser-free; tests/unit/test_example_site.py replays the flow in Chromium.
"""

from __future__ import annotations

import re
from html.parser import HTMLParser
from pathlib import Path
from urllib.parse import urlsplit

import pytest

from app.core.script import Goto, Locator, Script, TypeText, load_script, plain_narration

EXAMPLE = Path(__file__).resolve().parents[2] / "resources" / "examples" / "quickstart"
SITE = EXAMPLE / "site"
PAGES = ("index.html", "signin.html", "dashboard.html", "project.html", "settings.html")


@pytest.fixture(scope="module")
def script() -> Script:
    return load_script(EXAMPLE / "script.json")


def _site_text() -> str:
    """All markup and script of the site: some names (task titles, card test ids) come from app.js."""
    return "\n".join(p.read_text(encoding="utf-8") for p in sorted(SITE.rglob("*")) if p.suffix in (".html", ".js"))


def _locators(loc: Locator) -> list[Locator]:
    return [loc, *(_locators(loc.within) if loc.within else [])]


def _all_locators(script: Script) -> list[tuple[str, Locator]]:
    out = []
    for _, card, ai, action in script.iter_actions():
        target = getattr(action, "target", None)
        if isinstance(target, Locator):
            out += [(f"{card.id} #{ai + 1} {action.type}", loc) for loc in _locators(target)]
    return out


def test_script_validates_and_serves_the_site(script: Script) -> None:
    assert script.settings.site == "site"
    assert script.title
    assert 7 <= len(script.cards) <= 9


def test_narration_is_about_a_minute(script: Script) -> None:
    words = sum(len(plain_narration(c.narration).split()) for c in script.cards)
    # ~150 words a minute; the actions add a little time of their own
    assert 130 <= words <= 175, words
    assert all(plain_narration(c.narration) for c in script.cards), "every card speaks"


def test_bookmarked_actions_exist(script: Script) -> None:
    marked = [a.at for _, _, _, a in script.iter_actions() if a.at]
    assert len(marked) >= 2


def test_every_page_exists() -> None:
    for page in PAGES:
        assert (SITE / page).is_file(), page


def test_goto_urls_point_at_site_files(script: Script) -> None:
    gotos = [a for _, _, _, a in script.iter_actions() if isinstance(a, Goto)]
    assert gotos, "the script must open the site"
    for goto in gotos:
        parts = urlsplit(goto.url)
        assert not parts.scheme and not parts.netloc, f"{goto.url} must be relative to the served site"
        assert (SITE / parts.path.lstrip("/")).is_file(), f"{goto.url} is not a file of the site"


def test_locators_name_things_the_site_has(script: Script) -> None:
    # Names the flow itself creates (a project it types in) count as present.
    typed = [a.text for _, _, _, a in script.iter_actions() if isinstance(a, TypeText)]
    text = "\n".join([_site_text(), *typed])
    checked = 0
    for where, loc in _all_locators(script):
        for kind in ("test_id", "label", "placeholder"):
            value = getattr(loc, kind)
            if value is None:
                continue
            if kind == "test_id":
                assert f'"data-testid": "{value}"' in text or f'data-testid="{value}"' in text, (where, value)
            elif kind == "placeholder":
                assert f'placeholder="{value}"' in text, (where, value)
            else:
                assert value in text, (where, value)
            checked += 1
        if loc.role is not None and loc.name is not None:
            assert loc.name in text, (where, loc.name)
            checked += 1
        if loc.has_text is not None:
            assert loc.has_text in text, (where, loc.has_text)
    assert checked >= 15


class _Refs(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.refs: list[str] = []
        self.ids: list[str] = []
        self.label_fors: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        a = dict(attrs)
        for key in ("href", "src"):
            if a.get(key):
                self.refs.append(str(a[key]))
        if a.get("id"):
            self.ids.append(str(a["id"]))
        if tag == "label" and a.get("for"):
            self.label_fors.append(str(a["for"]))


@pytest.mark.parametrize("page", PAGES)
def test_pages_are_self_contained_and_linked(page: str) -> None:
    parser = _Refs()
    parser.feed((SITE / page).read_text(encoding="utf-8"))
    for ref in parser.refs:
        parts = urlsplit(ref)
        assert not parts.scheme and not parts.netloc, f"{page}: external reference {ref}"
        if parts.path:
            assert (SITE / parts.path).is_file(), f"{page}: broken link {ref}"
    assert len(parser.ids) == len(set(parser.ids)), f"{page}: duplicate ids"
    for target in parser.label_fors:
        assert target in parser.ids, f"{page}: <label for={target}> names no element"


def test_css_and_js_are_local_and_deterministic() -> None:
    css = (SITE / "assets" / "app.css").read_text(encoding="utf-8")
    js = (SITE / "assets" / "app.js").read_text(encoding="utf-8")
    for name, text in (("app.css", css), ("app.js", js)):
        # the only URL allowed is the SVG namespace name, which is never fetched
        urls = set(re.findall(r"https?://[^\s'\")]+", text)) - {"http://www.w3.org/2000/svg"}
        assert not urls, f"{name} references {urls}"
    for url in re.findall(r"url\(\"?([^\")]+)", css):
        if not url.startswith("data:"):
            assert (SITE / "assets" / url).is_file(), url
    code = re.sub(r"/\*.*?\*/|//[^\n]*", "", js, flags=re.S)  # comments may mention them
    assert "Math.random" not in code
    assert not re.search(r"\bDate\b|performance\.now", code), "no clock-dependent content"
    # every animation and transition is at most 300 ms
    for dur in re.findall(r"(\d*\.?\d+)(m?s)\b", css):
        seconds = float(dur[0]) / (1000 if dur[1] == "ms" else 1)
        assert seconds <= 0.3, dur
