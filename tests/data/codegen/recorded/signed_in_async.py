import asyncio
import re
from playwright.async_api import Playwright, async_playwright, expect


async def run(playwright: Playwright) -> None:
    browser = await playwright.chromium.launch(headless=False)
    context = await browser.new_context(storage_state="lumen.json")
    page = await context.new_page()
    await page.goto("http://127.0.0.1:46621/reports.html")
    async with page.expect_popup() as page1_info:
        await page.get_by_role("link", name="Help").click()
    page1 = await page1_info.value
    await page1.get_by_role("button", name="Yes").click()
    page.once("dialog", lambda dialog: dialog.dismiss())
    await page.get_by_role("button", name="Delete report").click()
    async with page.expect_download() as download_info:
        await page.get_by_role("button", name="Export CSV").click()
    download = await download_info.value
    await page.locator("iframe[name=\"trend\"]").content_frame.get_by_role("button", name="Highlight this week").click()

    # ---------------------
    await context.close()
    await browser.close()


async def main() -> None:
    async with async_playwright() as playwright:
        await run(playwright)


asyncio.run(main())
