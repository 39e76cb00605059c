# Hand-written against the quickstart example site in codegen's pytest shape, using the locator and
# assertion forms the recorder did not produce (placeholder, text, first/nth, filter, chains, expect).
import re
from playwright.sync_api import Page, expect


def test_site_tour(page: Page) -> None:
    page.goto("http://localhost:8000/index.html")
    expect(page.get_by_role("heading", name="The calm task tracker")).to_be_visible()
    page.get_by_role("link", name="Sign in").first.click()
    page.get_by_placeholder("you@company.com").fill("alex@northwind.test")
    page.get_by_label("Password").fill("correct-horse")
    page.get_by_role("button", name="Sign in", exact=True).click()
    page.wait_for_url("**/dashboard.html")
    page.get_by_test_id("search").fill("launch")
    expect(page.get_by_test_id("project-card").filter(has_text="Q3 product launch")).to_be_visible()
    page.get_by_test_id("search").clear()
    page.get_by_test_id("project-card").nth(1).hover()
    page.get_by_test_id("project-grid").get_by_role("link", name=re.compile(r"^Billing migration$")).click()
    expect(page.locator("#project-title")).to_have_text("Billing migration")
    page.get_by_text("Settings").first.click()
    page.get_by_role("switch", name="Weekly summary").check()
    page.get_by_label("Density").select_option(label="Compact")
    page.get_by_role("button", name="Save changes").click()
