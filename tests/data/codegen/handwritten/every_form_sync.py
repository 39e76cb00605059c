# Hand-written in codegen's Python (sync) shape: one statement per form Reelwright imports.
import re
from playwright.sync_api import Playwright, sync_playwright, expect


def run(playwright: Playwright) -> None:
    browser = playwright.chromium.launch(headless=False)
    context = browser.new_context(viewport={"width": 1280, "height": 720})
    context.set_default_timeout(5000)
    page = context.new_page()
    page.once("dialog", lambda dialog: dialog.dismiss())
    page.goto("https://app.example.com/dashboard")
    page.get_by_role("button", name="New project", exact=True).click()
    page.get_by_role("button", name="Menu").click(button="right", modifiers=["Shift", "ControlOrMeta"], position={"x": 12, "y": 8.5})
    page.get_by_text("Spring launch").dblclick()
    page.get_by_label("Project name").fill("Q3 roadmap")
    page.get_by_placeholder("Search projects").type("roadmap", delay=80)
    page.get_by_placeholder("Search projects").press("Control+A")
    page.get_by_placeholder("Search projects").clear()
    page.get_by_test_id("invite").check()
    page.get_by_test_id("invite").uncheck()
    page.get_by_label("Template").select_option("launch")
    page.get_by_label("Tags").select_option(["design", "web"])
    page.get_by_label("Owner").select_option(label="Alex Morgan")
    page.get_by_alt_text("Team avatar").hover()
    page.get_by_title("Close").click()
    page.locator("#upload").set_input_files("files/brief.pdf")
    page.locator("#upload").set_input_files(["a.png", "b.png"])
    page.locator("li.task").first.click()
    page.locator("li.task").last.click()
    page.locator("li.task").nth(2).click()
    page.locator("li.task").filter(has_text="Draft").click()
    page.locator("div").filter(has_text=re.compile(r"^Pro plan$")).click()
    page.get_by_role("row", name="Alice").get_by_role("button", name="Edit").click()
    page.get_by_test_id("board").locator(".card").nth(1).get_by_text("Due").click()
    page.frame_locator("#editor").get_by_role("textbox").fill("Hello")
    page.locator("iframe[name=\"preview\"]").content_frame.get_by_role("link", name="Open").click()
    page.get_by_role("link", name=re.compile(r"^Docs$")).click()
    page.keyboard.press("Escape")
    page.wait_for_timeout(500)
    page.wait_for_url("**/dashboard")
    page.get_by_role("heading", name="Projects").scroll_into_view_if_needed()
    expect(page.get_by_role("heading", name="Projects")).to_be_visible()
    expect(page.get_by_role("status")).to_have_text("Saved")
    expect(page.locator("#toast")).to_contain_text("created")
    expect(page.get_by_role("dialog")).not_to_be_visible()
    expect(page.get_by_test_id("invite")).to_be_checked()
    expect(page).to_have_url("https://app.example.com/dashboard")
    with page.expect_download() as download_info:
        page.get_by_role("link", name="Export CSV").click()
    download = download_info.value
    with page.expect_popup() as page1_info:
        page.get_by_role("link", name="Help center").click()
    page1 = page1_info.value
    page1.get_by_role("searchbox").fill("billing")
    page1.close()

    # ---------------------
    context.storage_state(path="auth.json")
    context.close()
    browser.close()


with sync_playwright() as playwright:
    run(playwright)
