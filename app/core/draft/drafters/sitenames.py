"""Human names for test ids and element ids, read from the static site a flow runs against.

Codegen often aims at ``get_by_test_id("hero-cta")``; the viewer sees a button saying "Get started
free".  When the draft knows the site folder, the narration uses what the page shows.  Only static
HTML is read (elements that scripts create keep their test-id name); fields are named by their label
elsewhere, so inputs are skipped here.
"""

from __future__ import annotations

import contextvars
from collections.abc import Mapping
from html.parser import HTMLParser
from pathlib import Path
from types import MappingProxyType

MAX_FILES = 200
MAX_BYTES = 2 * 1024 * 1024
_VOID = frozenset(
    {"area", "base", "br", "col", "embed", "hr", "img", "input", "link", "meta", "source", "track", "wbr"}
)
_SKIP = frozenset({"input", "textarea", "select", "script", "style", "template"})

#: names found for the draft being written (set by the offline drafter for its duration)
SITE_NAMES: contextvars.ContextVar[Mapping[str, str]] = contextvars.ContextVar(
    "site_names", default=MappingProxyType({})
)


class _Collector(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.stack: list[tuple[str, list[str], list[str]]] = []  # (tag, keys, text parts)
        self.names: dict[str, str] = {}
        self.skip_depth = 0

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        a = {k: v or "" for k, v in attrs}
        keys = []
        if a.get("data-testid"):
            keys.append(f"testid:{a['data-testid']}")
        if a.get("id"):
            keys.append(f"id:{a['id']}")
        if tag in _SKIP:
            if tag not in _VOID:
                self.skip_depth += 1
            return
        label = a.get("aria-label") or (a.get("alt") if tag == "img" else "") or ""
        if keys and label:
            for k in keys:
                self.names.setdefault(k, " ".join(label.split()))
            keys = []
        if tag not in _VOID:
            self.stack.append((tag, keys, []))

    def handle_endtag(self, tag: str) -> None:
        if tag in _SKIP:
            self.skip_depth = max(0, self.skip_depth - 1)
            return
        for i in range(len(self.stack) - 1, -1, -1):
            if self.stack[i][0] == tag:
                for _tag, keys, parts in self.stack[i:][::-1]:
                    text = " ".join("".join(parts).split())
                    if keys and text and len(text) <= 60:
                        for k in keys:
                            self.names.setdefault(k, text)
                del self.stack[i:]
                return

    def handle_data(self, data: str) -> None:
        if self.skip_depth:
            return
        for _, _, parts in self.stack:
            parts.append(data)


def read_site_names(site_dir: Path) -> dict[str, str]:
    """``{"testid:hero-cta": "Get started free", "id:open-new-project": "New project", ...}``."""
    names: dict[str, str] = {}
    try:
        pages = sorted(p for p in site_dir.rglob("*") if p.suffix.lower() in (".html", ".htm") and p.is_file())
    except OSError:
        return names
    for page in pages[:MAX_FILES]:
        try:
            if page.stat().st_size > MAX_BYTES:
                continue
            html = page.read_text(encoding="utf-8", errors="replace")
        except OSError:
            continue
        c = _Collector()
        c.feed(html)
        c.close()
        for k, v in c.names.items():
            names.setdefault(k, v)
    return names
