# Hand-written in codegen's Python (async) shape: popups, downloads and assertions with await.
import asyncio
import re
from playwright.async_api import Playwright, async_playwright, expect


async def run(playwright: Playwright) -> None:
    browser = await playwright.chromium.launch(headless=False)
    context = await browser.new_context()
    page = await context.new_page()
    await page.goto("https://app.example.com/")
    await page.get_by_role("link", name="Sign in").first.click()
    await page.get_by_label("Email").fill("alex@example.com")
    await page.get_by_label("Password").fill("s3cret!pass")
    await page.get_by_role("button", name="Sign in").click()
    await expect(page.get_by_role("heading", name="Welcome back")).to_be_visible()
    async with page.expect_popup() as page1_info:
        await page.get_by_role("link", name="Release notes").click()
    page1 = await page1_info.value
    await page1.get_by_role("link", name="Version 2.0").click()
    await page1.close()

    # ---------------------
    await context.close()
    await browser.close()


async def main() -> None:
    async with async_playwright() as playwright:
        await run(playwright)


asyncio.run(main())
