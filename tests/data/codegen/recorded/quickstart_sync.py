import re
from playwright.sync_api import Playwright, sync_playwright, expect


def run(playwright: Playwright) -> None:
    browser = playwright.chromium.launch(headless=False)
    context = browser.new_context()
    page = context.new_page()
    page.goto("http://127.0.0.1:46053/index.html")
    page.get_by_test_id("hero-cta").click()
    page.get_by_role("textbox", name="Email").click()
    page.get_by_role("textbox", name="Email").fill("alex@northwind.test")
    page.get_by_role("textbox", name="Password").click()
    page.get_by_role("textbox", name="Password").fill("correct-horse")
    page.get_by_role("button", name="Sign in").click()
    page.get_by_role("button", name="New project").click()
    page.get_by_role("textbox", name="Project name").click()
    page.get_by_role("textbox", name="Project name").fill("Spring launch")
    page.get_by_label("Template").select_option("launch")
    page.get_by_role("checkbox", name="Invite my team Jordan, Priya").check()
    page.get_by_role("button", name="Create project").click()
    page.get_by_test_id("project-grid").get_by_role("link", name="Spring launch").click()
    page.get_by_test_id("new-task").click()
    page.get_by_test_id("new-task").fill("Draft the announcement")
    page.get_by_test_id("new-task").press("Enter")
    page.get_by_role("link", name="Settings").click()
    page.get_by_label("Theme").select_option("dark")
    page.get_by_role("button", name="Save changes").click()

    # ---------------------
    context.close()
    browser.close()


with sync_playwright() as playwright:
    run(playwright)
