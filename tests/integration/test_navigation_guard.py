"""The browser never goes to a link-local or cloud-metadata address during a render: not by the script
(the validator refuses such a ``goto``) and not by the page (a link, ``location.href``, an iframe),
which the session's navigation guard refuses with the validator's own policy.  Real Chromium."""

from __future__ import annotations

import asyncio
import json
from pathlib import Path

import pytest

from app.core.bundle import load_job
from app.core.errors import RenderError
from app.core.render import check

pytestmark = [pytest.mark.browser]

METADATA = "http://169.254.169.254/latest/meta-data/"


def _job(tmp_path: Path, body: str) -> Path:
    site = tmp_path / "site"
    site.mkdir()
    (site / "index.html").write_text(f"<!doctype html><title>t</title><h1>Home</h1>{body}", encoding="utf-8")
    script = {"settings": {"site": "site"}, "cards": [
        {"id": "open", "narration": "Open the page.", "actions": [{"type": "goto", "url": "/index.html"}]},
        {"id": "leave", "narration": "Follow the link.", "actions": [
            {"type": "click", "target": {"role": "link", "name": "Instance data"}},
            {"type": "wait_for", "target": {"text": "never shown"}, "timeout_ms": 2000}]},
    ]}
    path = tmp_path / "script.json"
    path.write_text(json.dumps(script), encoding="utf-8")
    return path


def test_a_link_to_the_metadata_endpoint_is_refused_in_the_browser(tmp_path: Path,
                                                                  caplog: pytest.LogCaptureFixture) -> None:
    job = load_job(_job(tmp_path, f'<a href="{METADATA}">Instance data</a>'))
    with job, pytest.raises(RenderError) as exc, caplog.at_level("WARNING"):
        asyncio.run(check(job))
    # the click happened, the navigation did not (refused before any connection was tried, which here,
    # with no network, would also fail — hence the log check): the next step meets the error page
    assert "card 2 'leave'" in str(exc.value)
    assert f"blocked a navigation to {METADATA}" in caplog.text


def test_the_guard_refuses_page_made_navigations_and_frames_and_lets_the_site_through(tmp_path: Path) -> None:
    from app.core.capture import BrowserSession, NullSink
    from app.core.infra.siteserver import SiteServer
    from app.core.infra.tools import find_browser

    site = tmp_path / "site"
    site.mkdir()
    (site / "index.html").write_text(
        '<!doctype html><h1>Home</h1><iframe src="http://[fd00:ec2::254]/"></iframe>'
        '<script>setTimeout(() => { location.href = "http://0xA9FEA9FE/latest/"; }, 50)</script>',
        encoding="utf-8")
    server = SiteServer({"index.html": site / "index.html"}).start()

    async def run() -> tuple[dict[str, str], str]:
        session = BrowserSession(find_browser(), 640, 360, 30, NullSink(), capture=False)
        await session.start()
        try:
            clock = await session.start_clock()
            assert session.page is not None
            await session.page.evaluate("u => { location.href = u; }", server.base_url + "/index.html")
            for _ in range(90):  # three seconds of video time: the page's own redirect fires at 50 ms
                await clock.step()
                if session.page.url.startswith("chrome-error://"):
                    break
            return dict(session.blocked), session.page.url
        finally:
            await session.close()

    try:
        blocked, url = asyncio.run(run())
    finally:
        server.stop()
    assert url.startswith("chrome-error://"), url
    assert "http://0xa9fea9fe/latest/" in {u.lower() for u in blocked} or any("169.254" in u for u in blocked)
    assert any("fd00:ec2::254" in u for u in blocked), blocked
    assert all("metadata" in why or "link-local" in why for why in blocked.values()), blocked
