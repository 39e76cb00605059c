import pytest
import re
from playwright.sync_api import Page, expect


@pytest.fixture(scope="session")
def browser_context_args(browser_context_args, playwright):
    return {"storage_state": "lumen.json"}


def test_example(page: Page) -> None:
    page.goto("http://127.0.0.1:46621/reports.html")
    with page.expect_popup() as page1_info:
        page.get_by_role("link", name="Help").click()
    page1 = page1_info.value
    page1.get_by_role("button", name="Yes").click()
    page.once("dialog", lambda dialog: dialog.dismiss())
    page.get_by_role("button", name="Delete report").click()
    with page.expect_download() as download_info:
        page.get_by_role("button", name="Export CSV").click()
    download = download_info.value
    page.locator("iframe[name=\"trend\"]").content_frame.get_by_role("button", name="Highlight this week").click()
