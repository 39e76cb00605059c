import asyncio
import re
from playwright.async_api import Playwright, async_playwright, expect


async def run(playwright: Playwright) -> None:
    browser = await playwright.chromium.launch(headless=False)
    context = await browser.new_context()
    page = await context.new_page()
    await page.goto("http://127.0.0.1:46053/index.html")
    await page.get_by_test_id("hero-cta").click()
    await page.get_by_role("textbox", name="Email").click()
    await page.get_by_role("textbox", name="Email").fill("alex@northwind.test")
    await page.get_by_role("textbox", name="Password").click()
    await page.get_by_role("textbox", name="Password").fill("correct-horse")
    await page.get_by_role("button", name="Sign in").click()
    await page.get_by_role("button", name="New project").click()
    await page.get_by_role("textbox", name="Project name").click()
    await page.get_by_role("textbox", name="Project name").fill("Spring launch")
    await page.get_by_label("Template").select_option("launch")
    await page.get_by_role("checkbox", name="Invite my team Jordan, Priya").check()
    await page.get_by_role("button", name="Create project").click()
    await page.get_by_test_id("project-grid").get_by_role("link", name="Spring launch").click()
    await page.get_by_test_id("new-task").click()
    await page.get_by_test_id("new-task").fill("Draft the announcement")
    await page.get_by_test_id("new-task").press("Enter")
    await page.get_by_role("link", name="Settings").click()
    await page.get_by_label("Theme").select_option("dark")
    await page.get_by_role("button", name="Save changes").click()

    # ---------------------
    await context.close()
    await browser.close()


async def main() -> None:
    async with async_playwright() as playwright:
        await run(playwright)


asyncio.run(main())
