"""Regenerate the recorded codegen corpus by running Playwright's own recorder against the example site.

    .venv/bin/python tests/data/codegen/record_corpus.py [quickstart] [signed_in]

The recorder (the engine behind ``playwright codegen``) is enabled programmatically on a browser
context; this script then *uses the site like a person* — real mouse moves, clicks and keystrokes
through the input pipeline — and the recorder writes the code, in each language, exactly as
codegen would.  The per-action code comes from Playwright; the file header and footer are the ones
codegen prints around it (copied from Playwright's language generators).  Nothing here is used at
test time; the files it writes are checked in.
"""

from __future__ import annotations

import asyncio
import sys
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[3]
sys.path.insert(0, str(ROOT))

from playwright.async_api import Page, async_playwright  # noqa: E402

from app.core.infra.siteserver import SiteServer  # noqa: E402
from app.core.infra.tools import CHROMIUM_ARGS, find_browser  # noqa: E402

SITE = ROOT / "resources" / "examples" / "quickstart" / "site"
OUT = Path(__file__).resolve().parent / "recorded"

HEADERS = {
    "python": (
        "import re\nfrom playwright.sync_api import Playwright, sync_playwright, expect\n\n\n"
        "def run(playwright: Playwright) -> None:\n"
        "    browser = playwright.chromium.launch(headless=False)\n"
        "    context = browser.new_context()\n",
        "\n    # ---------------------\n    context.close()\n    browser.close()\n\n\n"
        "with sync_playwright() as playwright:\n    run(playwright)\n",
    ),
    "python-async": (
        "import asyncio\nimport re\nfrom playwright.async_api import Playwright, async_playwright, expect\n\n\n"
        "async def run(playwright: Playwright) -> None:\n"
        "    browser = await playwright.chromium.launch(headless=False)\n"
        "    context = await browser.new_context()\n",
        "\n    # ---------------------\n    await context.close()\n    await browser.close()\n\n\n"
        "async def main() -> None:\n    async with async_playwright() as playwright:\n"
        "        await run(playwright)\n\n\nasyncio.run(main())\n",
    ),
    "python-pytest": (
        "import re\nfrom playwright.sync_api import Page, expect\n\n\n"
        "def test_example(page: Page) -> None:\n",
        "",
    ),
    "javascript": (
        "const { chromium } = require('playwright');\n\n(async () => {\n"
        "  const browser = await chromium.launch({\n    headless: false\n  });\n"
        "  const context = await browser.newContext();\n",
        "\n  // ---------------------\n  await context.close();\n  await browser.close();\n})();\n",
    ),
    "playwright-test": (
        "import { test, expect } from '@playwright/test';\n\ntest('test', async ({ page }) => {\n",
        "});\n",
    ),
}
#: the same headers as codegen prints them with --load-storage=lumen.json (Playwright's language
#: generators: the storage state goes into the context options, or the pytest fixture / test.use)
SESSION_HEADERS = {
    "python": (
        HEADERS["python"][0].replace("browser.new_context()", 'browser.new_context(storage_state="lumen.json")'),
        HEADERS["python"][1],
    ),
    "python-async": (
        HEADERS["python-async"][0].replace("browser.new_context()",
                                           'browser.new_context(storage_state="lumen.json")'),
        HEADERS["python-async"][1],
    ),
    "python-pytest": (
        "import pytest\nimport re\nfrom playwright.sync_api import Page, expect\n\n\n"
        '@pytest.fixture(scope="session")\ndef browser_context_args(browser_context_args, playwright):\n'
        '    return {"storage_state": "lumen.json"}\n\n\n'
        "def test_example(page: Page) -> None:\n",
        "",
    ),
    "javascript": (
        HEADERS["javascript"][0].replace("browser.newContext();",
                                         "browser.newContext({\n    storageState: 'lumen.json'\n  });"),
        HEADERS["javascript"][1],
    ),
    "playwright-test": (
        "import { test, expect } from '@playwright/test';\n\ntest.use({\n  storageState: 'lumen.json'\n});\n\n"
        "test('test', async ({ page }) => {\n",
        "});\n",
    ),
}
FILES = {
    "python": "quickstart_sync.py",
    "python-async": "quickstart_async.py",
    "python-pytest": "quickstart_pytest.py",
    "javascript": "quickstart_library.js",
    "playwright-test": "quickstart.spec.ts",
}


class Sink:
    """Collects the recorder's events; an update replaces the code of the action it updates."""

    def __init__(self) -> None:
        self.codes: list[str] = []

    def action_added(self, page: Any, data: Any, code: str) -> None:
        self.codes.append(code)

    def action_updated(self, page: Any, data: Any, code: str) -> None:
        if self.codes:
            self.codes[-1] = code

    def signal_added(self, page: Any, data: Any, code: str) -> None:
        if code and self.codes:
            self.codes[-1] = code


async def human_click(page: Page, selector: str) -> None:
    loc = page.locator(selector).first
    await loc.scroll_into_view_if_needed()
    box = await loc.bounding_box()
    assert box is not None, selector
    x, y = box["x"] + box["width"] / 2, box["y"] + box["height"] / 2
    await page.mouse.move(x, y, steps=4)
    await page.wait_for_timeout(120)
    await page.mouse.click(x, y)
    await page.wait_for_timeout(250)


async def human_type(page: Page, selector: str, text: str) -> None:
    await human_click(page, selector)
    await page.keyboard.type(text, delay=20)
    await page.wait_for_timeout(250)


async def flow(page: Page, base: str) -> None:
    """The quickstart story: land, sign in, create a project, add a task, change a setting."""
    await page.goto(f"{base}/index.html")
    await page.wait_for_timeout(300)
    await human_click(page, "[data-testid=hero-cta]")
    await page.wait_for_url("**/signin.html")
    await human_type(page, "#email", "alex@northwind.test")
    await human_type(page, "#password", "correct-horse")
    await human_click(page, "#signin-form button[type=submit]")
    await page.wait_for_url("**/dashboard.html")
    await page.wait_for_timeout(300)
    await human_click(page, "#open-new-project")
    await human_type(page, "#project-name", "Spring launch")
    await page.locator("#project-template").select_option("launch")
    await page.wait_for_timeout(250)
    await human_click(page, "#invite-team")
    await human_click(page, "#new-project-form button[type=submit]")
    await page.wait_for_timeout(300)
    await human_click(page, "#project-grid h3 a >> text=Spring launch")
    await page.wait_for_url("**/project.html?id=spring-launch")
    await page.wait_for_timeout(300)
    await human_type(page, "#new-task", "Draft the announcement")
    await page.keyboard.press("Enter")
    await page.wait_for_timeout(300)
    await human_click(page, "nav a[href='settings.html']")
    await page.wait_for_url("**/settings.html")
    await page.wait_for_timeout(300)
    await page.locator("#theme").select_option("dark")
    await page.wait_for_timeout(250)
    await human_click(page, "#settings-form button[type=submit]")
    await page.wait_for_timeout(300)


async def sign_in(page: Page, base: str) -> None:
    """What a person does once with `codegen --save-storage=lumen.json`: sign in."""
    await page.goto(f"{base}/signin.html")
    await human_type(page, "#email", "maya@northwind.test")
    await human_type(page, "#password", "correct-horse")
    await human_click(page, "#signin-form button[type=submit]")
    await page.wait_for_url("**/dashboard.html")


async def signed_in_flow(page: Page, base: str) -> None:
    """Signed in from the saved session: open the help popup, answer it, close it, delete the report
    (a confirm dialog), export the CSV (a download) and press a button in a nested iframe on the first
    page."""
    await page.goto(f"{base}/reports.html")
    await page.wait_for_timeout(300)
    async with page.expect_popup() as popup_info:
        await human_click(page, "text=Help")
    popup = await popup_info.value
    await popup.wait_for_load_state()
    await popup.wait_for_timeout(800)  # the recorder attaches to the new tab
    await human_click(popup, "#helpful-yes")
    await popup.wait_for_timeout(1500)  # the recorder keeps a tab's last action pending for a moment
    await popup.close()
    await page.bring_to_front()
    await page.wait_for_timeout(300)
    page.once("dialog", lambda dialog: asyncio.ensure_future(dialog.accept()))
    await human_click(page, "#delete-report")
    async with page.expect_download() as download_info:
        await human_click(page, "#export-csv")
    await (await download_info.value).delete()
    await page.wait_for_timeout(300)
    # a button in an iframe (the trend chart; this recorder names a nested iframe's frame_locator()
    # with no selector at all, so the nested legend is left to the hand-written corpus)
    legend = page.frame_locator("#trend-frame")
    await legend.get_by_role("button", name="Highlight this week").scroll_into_view_if_needed()
    box = await legend.get_by_role("button", name="Highlight this week").bounding_box()
    assert box is not None
    await page.mouse.move(box["x"] + box["width"] / 2, box["y"] + box["height"] / 2, steps=4)
    await page.wait_for_timeout(120)
    await page.mouse.click(box["x"] + box["width"] / 2, box["y"] + box["height"] / 2)
    await page.wait_for_timeout(1500)  # the recorder commits a tab's last action after a moment


async def record(language: str, base: str, *, session: Path | None = None) -> str:
    async with async_playwright() as p:
        browser = await p.chromium.launch(executable_path=str(find_browser().path), args=list(CHROMIUM_ARGS))
        context = await browser.new_context(viewport={"width": 1280, "height": 720},
                                            storage_state=str(session) if session else None)
        sink = Sink()
        await context._impl_obj._start_recording({"language": language}, sink)  # the codegen recorder
        page = await context.new_page()
        await (signed_in_flow if session else flow)(page, base)
        await context._impl_obj._stop_recording()
        await browser.close()
    head, foot = (SESSION_HEADERS if session else HEADERS)[language]
    body = "\n".join(c for c in sink.codes if c.strip())
    return head + body + "\n" + foot


async def save_session(base: str, path: Path) -> None:
    async with async_playwright() as p:
        browser = await p.chromium.launch(executable_path=str(find_browser().path), args=list(CHROMIUM_ARGS))
        context = await browser.new_context(viewport={"width": 1280, "height": 720})
        await sign_in(await context.new_page(), base)
        await context.storage_state(path=str(path))
        await browser.close()


async def main() -> None:
    files = {p.relative_to(SITE).as_posix(): p for p in SITE.rglob("*") if p.is_file()}
    with SiteServer(files) as server:
        # a fixed-looking origin, as a person recording on their machine would have
        base = server.base_url
        OUT.mkdir(parents=True, exist_ok=True)
        only = set(sys.argv[1:]) or {"quickstart", "signed_in"}
        if "quickstart" in only:
            for language, name in FILES.items():
                code = await record(language, base)
                (OUT / name).write_text(code, encoding="utf-8")
                print(f"wrote {OUT / name} ({code.count(chr(10))} lines)")
        if "signed_in" in only:
            session = OUT / "lumen.json"
            await save_session(base, session)
            print(f"wrote {session}")
            for language, name in FILES.items():
                name = name.replace("quickstart", "signed_in")
                code = await record(language, base, session=session)
                (OUT / name).write_text(code, encoding="utf-8")
                print(f"wrote {OUT / name} ({code.count(chr(10))} lines)")


if __name__ == "__main__":
    asyncio.run(main())
