# Hand-written in codegen's Python (async) shape: the real_flow_sync.py flow with await.
import asyncio
import re
from playwright.async_api import Playwright, async_playwright, expect


async def run(playwright: Playwright) -> None:
    browser = await playwright.chromium.launch(headless=False)
    context = await browser.new_context(storage_state="auth.json")
    page = await context.new_page()
    await page.goto("http://localhost:8000/reports.html")
    async with page.expect_popup() as page1_info:
        await page.get_by_role("link", name="Help").click()
    page1 = await page1_info.value
    await expect(page1.get_by_role("heading", name="Help")).to_be_visible()
    await page1.get_by_role("link", name="Keyboard shortcuts").click()
    page.once("dialog", lambda dialog: asyncio.ensure_future(dialog.dismiss()))
    await page.get_by_role("button", name="Delete report").click()
    await page1.bring_to_front()
    await page1.close()
    page.once("dialog", lambda dialog: dialog.accept(prompt_text="Q3 numbers"))
    await page.get_by_role("button", name="Rename").click()
    async with page.expect_download() as download_info:
        await page.get_by_role("button", name="Export CSV").click()
    download = await download_info.value
    await download.save_as("report.csv")
    page2 = await context.new_page()
    await page2.goto("http://localhost:8000/help.html")
    await page2.frame_locator("#outer").frame_locator("iframe[name=\"inner\"]").get_by_role("button", name="Play").click()
    await page2.locator("#embed").content_frame.get_by_text("Chart").click()
    await page.get_by_role("link", name="Dashboard").click()
    await page2.close()

    # ---------------------
    await context.close()
    await browser.close()


async def main() -> None:
    async with async_playwright() as playwright:
        await run(playwright)


asyncio.run(main())
