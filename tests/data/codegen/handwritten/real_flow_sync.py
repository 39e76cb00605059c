# Hand-written in codegen's Python (sync) shape: a signed-in flow across tabs — a popup acted on and
# closed, the first page again, a confirm dismissed and a prompt answered, a download, a new tab with
# nested frames.
import re
from playwright.sync_api import Playwright, sync_playwright, expect


def run(playwright: Playwright) -> None:
    browser = playwright.chromium.launch(headless=False)
    context = browser.new_context(storage_state="auth.json")
    page = context.new_page()
    page.goto("http://localhost:8000/reports.html")
    with page.expect_popup() as page1_info:
        page.get_by_role("link", name="Help").click()
    page1 = page1_info.value
    expect(page1.get_by_role("heading", name="Help")).to_be_visible()
    page1.get_by_role("link", name="Keyboard shortcuts").click()
    page.once("dialog", lambda dialog: dialog.dismiss())
    page.get_by_role("button", name="Delete report").click()
    page1.bring_to_front()
    page1.close()
    page.once("dialog", lambda dialog: dialog.accept("Q3 numbers"))
    page.get_by_role("button", name="Rename").click()
    with page.expect_download() as download_info:
        page.get_by_role("button", name="Export CSV").click()
    download = download_info.value
    download.save_as("report.csv")
    page2 = context.new_page()
    page2.goto("http://localhost:8000/help.html")
    page2.frame_locator("#outer").frame_locator("iframe[name=\"inner\"]").get_by_role("button", name="Play").click()
    page2.locator("#embed").content_frame.get_by_text("Chart").click()
    page.get_by_role("link", name="Dashboard").click()
    page2.close()

    # ---------------------
    context.close()
    browser.close()


with sync_playwright() as playwright:
    run(playwright)
