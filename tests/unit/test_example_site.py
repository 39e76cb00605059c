"""The quickstart's web app in a real Chromium: the script's flow works end to end against it, and the
layout reflows for the portrait and square viewports the vertical and 1:1 formats use.

The replay here is a deliberately small reference mapping of script actions to Playwright calls,
independent of the renderer, so a broken example site fails here with a plain message rather than
deep inside a render.
"""

from __future__ import annotations

import functools
import http.server
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import expect

from app.core.script import Locator, Script, load_script

EXAMPLE = Path(__file__).resolve().parents[2] / "resources" / "examples" / "quickstart"
SITE = EXAMPLE / "site"
PAGES = ("index.html", "signin.html", "dashboard.html", "project.html?id=website-redesign", "settings.html")

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


def _locate(page: Any, loc: Locator) -> Any:
    root = _locate(page, loc.within) if loc.within is not None else page
    kind = loc.kind()
    if kind == "role":
        found = root.get_by_role(loc.role, name=loc.name, exact=loc.exact or None)
    elif kind == "label":
        found = root.get_by_label(loc.label, exact=loc.exact)
    elif kind == "placeholder":
        found = root.get_by_placeholder(loc.placeholder, exact=loc.exact)
    elif kind == "text":
        found = root.get_by_text(loc.text, exact=loc.exact)
    elif kind == "test_id":
        found = root.get_by_test_id(loc.test_id)
    elif kind == "css":
        found = root.locator(loc.css)
    else:
        raise AssertionError(f"the example uses a locator kind this replay does not know: {kind}")
    if loc.has_text is not None:
        found = found.filter(has_text=loc.has_text)
    if loc.nth is not None:
        found = found.nth(loc.nth)
    return found


def _replay(page: Any, base: str, script: Script, after_card: dict[str, Any]) -> None:
    for card in script.cards:
        for ai, action in enumerate(card.actions):
            where = f"card '{card.id}' action {ai + 1} ({action.type})"
            target = getattr(action, "target", None)
            el = _locate(page, target) if isinstance(target, Locator) else None
            if el is not None and action.type != "wait_for":
                el.first.wait_for(state="visible", timeout=5000)
                n = el.count()
                assert n == 1, f"{where}: {target.describe()} matches {n} elements, not exactly one"
            t = action.type
            if t == "goto":
                page.goto(base + action.url)
            elif t == "click":
                el.click()
            elif t == "type":
                el.press_sequentially(action.text)
            elif t == "fill":
                el.fill(action.value)
            elif t == "press":
                (el or page.keyboard).press(action.key)
            elif t == "hover":
                el.hover()
            elif t == "select":
                el.select_option(action.values)
            elif t == "check":
                el.check()
            elif t == "scroll":
                el.scroll_into_view_if_needed()
            elif t == "wait_for":
                el.wait_for(state=action.state, timeout=5000)
            elif t in ("highlight", "zoom"):
                assert el.is_visible(), f"{where}: nothing visible to {t}"
            else:
                raise AssertionError(f"{where}: the example uses an action this replay does not know")
        if card.id in after_card:
            after_card[card.id](page)


@pytest.mark.slow
def test_the_scripted_flow_works_on_the_site(browser: Any, base_url: str) -> None:
    script = load_script(EXAMPLE / "script.json")
    context = browser.new_context(viewport={"width": 1280, "height": 720})
    page = context.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda e: errors.append(str(e)))
    page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)

    def dashboard_seen(p: Any) -> None:
        assert p.get_by_test_id("project-card").count() == 6
        expect(p.locator("#greeting")).to_have_text("Welcome back, Alex")
        expect(p.locator(".sidebar [data-user-name]")).to_have_text("Alex Morgan")

    def project_created(p: Any) -> None:
        first = p.get_by_test_id("project-card").first
        assert "Holiday campaign" in first.inner_text()
        assert "0 of 5 tasks done" in first.inner_text()  # the campaign template's tasks
        expect(p.get_by_role("status")).to_have_text("Project “Holiday campaign” created")

    def tasks_done(p: Any) -> None:
        assert p.get_by_test_id("task-list").get_by_role("listitem").first.inner_text().startswith("Book influencer")
        expect(p.locator("#project-summary")).to_have_text("1 of 6 tasks done")

    def searched(p: Any) -> None:
        visible = [c.inner_text() for c in p.get_by_test_id("project-card").all() if c.is_visible()]
        assert len(visible) == 1 and "Q3 product launch" in visible[0]

    def settings_saved(p: Any) -> None:
        assert p.evaluate("document.documentElement.dataset.theme") == "dark"
        expect(p.get_by_role("status")).to_have_text("Settings saved")

    _replay(
        page,
        base_url,
        script,
        {
            "dashboard": dashboard_seen,
            "new-project": project_created,
            "tasks": tasks_done,
            "search": searched,
            "settings": settings_saved,
        },
    )
    # the end: back on the dashboard, still dark, the new project first, fonts bundled and loaded
    assert page.url.endswith("/dashboard.html")
    assert page.evaluate("document.documentElement.dataset.theme") == "dark"
    assert page.evaluate("document.fonts.check('16px Inter')")
    assert page.evaluate("[...document.fonts].filter(f => f.status === 'loaded').length") >= 2
    assert errors == []
    context.close()


@pytest.mark.parametrize("size", [(1280, 720), (1920, 1080), (1080, 1920), (1080, 1080)])
def test_layout_reflows_without_horizontal_overflow(browser: Any, base_url: str, size: tuple[int, int]) -> None:
    width, height = size
    context = browser.new_context(viewport={"width": width, "height": height})
    page = context.new_page()
    try:
        for path in PAGES:
            page.goto(f"{base_url}/{path}")
            overflow = page.evaluate("document.scrollingElement.scrollWidth - innerWidth")
            assert overflow <= 0, f"{path} at {width}x{height} scrolls sideways by {overflow}px"
        page.goto(f"{base_url}/dashboard.html")
        sidebar = page.locator(".sidebar").bounding_box()
        search = page.get_by_placeholder("Search projects")
        assert search.is_visible()
        cards = page.get_by_test_id("project-card")
        columns = len({round(cards.nth(i).bounding_box()["x"]) for i in range(cards.count())})
        root_px = page.evaluate("parseFloat(getComputedStyle(document.documentElement).fontSize)")
        if width > height:
            # the same layout at every landscape size, scaled as a whole (1280 wide = 15 px to the rem)
            assert root_px == pytest.approx(15 * width / 1280, rel=0.01)
            assert sidebar["width"] == pytest.approx(240 * width / 1280, abs=2) and sidebar["height"] == height
            assert columns == 3
        else:
            # the sidebar becomes a bar across the top; the nav stays reachable
            assert sidebar["width"] == width and sidebar["height"] < 160
            assert page.get_by_role("link", name="Settings").is_visible()
            assert columns == (2 if height > width else 3)
            # type grows for phone-sized video
            assert root_px >= 18
    finally:
        context.close()


def test_dialog_stays_out_of_the_top_layer_and_search_has_an_empty_state(browser: Any, base_url: str) -> None:
    context = browser.new_context(viewport={"width": 1280, "height": 720})
    page = context.new_page()
    try:
        page.goto(f"{base_url}/dashboard.html")
        page.get_by_role("button", name="New project").click()
        dialog = page.get_by_role("dialog", name="New project")
        assert dialog.is_visible()
        # a modal (top-layer) dialog would cover the renderer's cursor overlay and escape its zoom
        assert page.evaluate("document.querySelector('#new-project').matches(':modal')") is False
        assert page.evaluate("document.activeElement.id") == "project-name"
        page.get_by_role("button", name="Create project").click()
        expect(page.get_by_role("alert").filter(has_text="Give your project a name.")).to_be_visible()
        page.keyboard.press("Escape")
        expect(dialog).to_be_hidden()
        assert page.get_by_test_id("project-card").count() == 6
        # fill, not press_sequentially: twice today, on a machine at load 10, the last of the typed keys
        # never reached the page (it showed “zebr”), a browser-input flake this test is not about
        page.get_by_placeholder("Search projects").fill("zebra")
        # the page updates on the input event; assertions that follow an action wait for it
        expect(page.get_by_text("No projects match “zebra”")).to_be_visible()
        expect(page.locator("#shown-count")).to_have_text("0 of 6 projects")
    finally:
        context.close()


def test_settings_rename_updates_the_shell_and_persists(browser: Any, base_url: str) -> None:
    context = browser.new_context(viewport={"width": 1280, "height": 720})
    page = context.new_page()
    try:
        page.goto(f"{base_url}/settings.html")
        page.get_by_label("Full name").fill("Sam Rivera")
        page.get_by_role("button", name="Save changes").click()
        expect(page.locator(".sidebar [data-user-name]")).to_have_text("Sam Rivera")
        expect(page.locator(".sidebar [data-user-avatar]")).to_have_text("SR")
        page.get_by_role("link", name="Dashboard").click()
        page.wait_for_url("**/dashboard.html")
        expect(page.locator("#greeting")).to_have_text("Welcome back, Sam")
        expect(page.locator(".sidebar [data-user-avatar]")).to_have_text("SR")
    finally:
        context.close()
