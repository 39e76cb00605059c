"""Pages of a bundled site load the same way in every render (real Chromium, Piper, ffmpeg).

Found with the example's plain flow: a page whose deferred script sets the theme was sometimes
styled *before* the script ran, so the theme came in through the page's CSS transition in one render
and was there from the first frame in another.  Cause: the order in which the stylesheet and the
script arrived from the loopback site server, which follows the machine's load.  The server now
lets the browser cache everything but documents, so every page after the first takes its assets from
the cache, in the same order every time (``app/core/infra/siteserver.py``).

The site here is that case boiled down.  Its script sets a dark theme and reports (to the site server,
as a request for ``report?...``) whether the page had been styled before it ran: then the theme starts
a transition and ``document.getAnimations()`` is not empty.
"""

from __future__ import annotations

import asyncio
import json
from pathlib import Path
from typing import Any, ClassVar
from urllib.parse import parse_qs, urlsplit

import pytest

import app.core.render as render_module
from app.core.bundle import load_job
from app.core.infra.siteserver import SiteServer
from app.core.render import render

pytestmark = [pytest.mark.slow, pytest.mark.browser]

ROOT = Path(__file__).resolve().parents[2]
FONT = ROOT / "resources/examples/quickstart/site/assets/fonts/inter-regular.woff"
HOPS = 8  # clicks from page to page after the first load

PAGE = """<!doctype html><html lang="en"><head><meta charset="utf-8"><title>Page {name}</title>
<link rel="preload" href="f.woff" as="font" type="font/woff" crossorigin>
<link rel="stylesheet" href="s.css"><script src="t.js" defer></script></head>
<body><h1>Page {name}</h1><nav><a href="{other}.html">Next</a></nav>
{rows}</body></html>"""

CSS = """@font-face { font-family: "Inter"; src: url("f.woff") format("woff"); font-display: block; }
html { background: #fff; color: #111; font: 16px/1.4 Inter, sans-serif;
       transition: background-color 0.3s, color 0.3s; }
html[data-theme=dark] { background: #111827; color: #e5e7eb; }
nav a { display: inline-block; padding: 8px 16px; border-radius: 6px; background: #4f46e5; color: #fff; }
.row { display: flex; gap: 8px; } .row span { flex: 1; padding: 4px; border: 1px solid #9ca3af; }"""

JS = """document.documentElement.dataset.theme = "dark";
const styledBefore = document.getAnimations().length > 0;  // the theme started a transition
fetch("report?page=" + location.pathname.slice(1) + "&styled_before=" + styledBefore);"""


class _SpiedServer(SiteServer):
    """The real site server, remembered so the test can read what the browser asked it for."""

    started: ClassVar[list[SiteServer]] = []

    def start(self) -> SiteServer:
        _SpiedServer.started.append(self)
        return super().start()


def _site(root: Path) -> None:
    site = root / "site"
    site.mkdir(parents=True)
    rows = "\n".join(f'<div class="row">{"".join(f"<span>cell {r}.{c}</span>" for c in range(6))}</div>'
                     for r in range(40))
    for name, other in (("a", "b"), ("b", "a")):
        (site / f"{name}.html").write_text(PAGE.format(name=name.upper(), other=other, rows=rows), encoding="utf-8")
    (site / "s.css").write_text(CSS, encoding="utf-8")
    (site / "t.js").write_text(JS, encoding="utf-8")
    (site / "f.woff").write_bytes(FONT.read_bytes())


def test_every_page_after_the_first_is_styled_after_its_deferred_script(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    _site(tmp_path)
    cards: list[dict[str, Any]] = [
        {"id": "open", "narration": "The first page.", "actions": [{"type": "goto", "url": "/a.html"}]}]
    cards += [{"id": f"hop-{i}", "narration": "And the next one.",
               "actions": [{"type": "click", "target": {"role": "link", "name": "Next"}}]} for i in range(HOPS)]
    script = {"title": "Page loads", "settings": {"site": "site", "width": 640, "height": 360, "fps": 30,
                                                  "device_scale_factor": 1, "lead_in_ms": 200,
                                                  "lead_out_ms": 200, "gap_ms": 100},
              "cards": cards}
    (tmp_path / "script.json").write_text(json.dumps(script), encoding="utf-8")
    monkeypatch.setattr(_SpiedServer, "started", [])
    monkeypatch.setattr(render_module, "SiteServer", _SpiedServer)

    asyncio.run(render(load_job(tmp_path / "script.json"), tmp_path / "out", name="loads"))

    (server,) = _SpiedServer.started
    reports = [parse_qs(urlsplit(r).query) for r in server.requests if r.startswith("/report?")]
    pages = [(r["page"][0], r["styled_before"][0]) for r in reports]
    assert [p for p, _ in pages] == ["a.html", "b.html"] * (HOPS // 2) + ["a.html"], pages
    # The first load fetches the assets from the server, in an order the machine decides: not asserted.
    assert all(styled == "false" for _, styled in pages[1:]), f"styled before the page's script ran: {pages}"
    # Every later page took its assets from the browser's cache.
    assets = [r for r in server.requests if r in ("/s.css", "/t.js", "/f.woff")]
    assert sorted(assets) == ["/f.woff", "/s.css", "/t.js"], server.requests
    assert server.requests.count("/a.html") + server.requests.count("/b.html") == HOPS + 1
