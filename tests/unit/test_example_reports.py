"""The example site's reports page in a real Chromium, driven by Playwright itself (not the renderer):
it lets only a signed-in visitor in, and its buttons raise a confirm, a prompt and a CSV download whose
outcome the page shows."""

from __future__ import annotations

import functools
import http.server
import json
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import expect

SITE = Path(__file__).resolve().parents[2] / "resources" / "examples" / "quickstart" / "site"
SIGNED_IN = json.dumps({"user": {"email": "alex@lumen.example", "name": "Alex Morgan", "initials": "AM"}})

pytestmark = pytest.mark.browser


class _QuietHandler(http.server.SimpleHTTPRequestHandler):
    def log_message(self, format: str, *args: Any) -> None:
        pass


@pytest.fixture(scope="module")
def base_url() -> Iterator[str]:
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), functools.partial(_QuietHandler, directory=str(SITE)))
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_port}"
    finally:
        server.shutdown()
        server.server_close()


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    from playwright.sync_api import sync_playwright

    from app.core.infra.tools import CHROMIUM_ARGS, find_browser

    with sync_playwright() as p:
        b = p.chromium.launch(executable_path=str(find_browser("headless-shell").path), args=list(CHROMIUM_ARGS))
        yield b
        b.close()


def _page(browser: Any, base_url: str, stored: str | None) -> Any:
    state = {"cookies": [], "origins": [] if stored is None else [
        {"origin": base_url, "localStorage": [{"name": "lumen-tasks.v1", "value": stored}]}]}
    context = browser.new_context(storage_state=state, accept_downloads=True)
    page = context.new_page()
    page.goto(f"{base_url}/reports.html")
    return page


@pytest.mark.parametrize("stored", [None, json.dumps({"user": None})], ids=["no-state", "signed-out"])
def test_a_visitor_who_is_not_signed_in_is_sent_to_sign_in(browser: Any, base_url: str, stored: str | None) -> None:
    page = _page(browser, base_url, stored)
    expect(page).to_have_url(f"{base_url}/signin.html")
    expect(page.get_by_label("Password")).to_be_visible()
    page.context.close()


def test_confirm_prompt_and_export(browser: Any, base_url: str) -> None:
    page = _page(browser, base_url, SIGNED_IN)
    expect(page.get_by_role("heading", name="Reports", exact=True)).to_be_visible()
    expect(page.get_by_role("link", name="Help")).to_have_attribute("target", "_blank")

    page.once("dialog", lambda d: d.dismiss())
    page.get_by_role("button", name="Delete report").click()
    expect(page.get_by_text("Kept the report.")).to_be_visible()

    seen: list[tuple[str, str]] = []
    page.once("dialog", lambda d: (seen.append((d.type, d.default_value)), d.accept("Q4 summary")))
    page.get_by_role("button", name="Rename").click()
    expect(page.get_by_role("heading", name="Q4 summary")).to_be_visible()
    assert seen == [("prompt", "Weekly summary")]

    with page.expect_download() as info:
        page.get_by_role("button", name="Export CSV").click()
    download = info.value
    assert download.suggested_filename == "weekly-summary.csv"
    assert Path(download.path()).read_text(encoding="utf-8").startswith("project,completed,opened,due next week")
    download.delete()

    page.once("dialog", lambda d: d.accept())
    page.get_by_role("button", name="Delete report").click()
    expect(page.get_by_text("Report deleted")).to_be_visible()
    expect(page.get_by_role("button", name="Delete report")).to_be_hidden()
    page.context.close()
