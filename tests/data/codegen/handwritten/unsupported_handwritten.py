# A hand-written test with shapes codegen never emits: each is reported with its line and column.
from playwright.sync_api import Page, expect


def log_in(page: Page) -> None:
    page.get_by_label("Email").fill("alex@example.com")


def test_projects(page: Page) -> None:
    page.goto("https://app.example.com/")
    log_in(page)
    for name in ["One", "Two"]:
        page.get_by_label("Project name").fill(name)
    page.mouse.click(100, 200)
    page.get_by_role("button", name="Save").click()
    page.get_by_role("link", name=f"Project {1}").click()
    page.get_by_role("button").drag_to(page.get_by_role("list"))
    expect(page).to_have_title("Projects")
    page.reload()
