"""Observations into words, without a browser: what changed between two page states, the ARIA
snapshot's first line, the site's name from its titles, and the phrases the offline drafter uses."""

from __future__ import annotations

from app.core.draft.drafters.seen import consequence, landing, opens_clause, page_label, product_from_titles
from app.core.draft.observe import Change, Observation, PageState, Target, changes_between, parse_aria_line

HOME = PageState(title="Lumen Tasks — the calm task tracker for busy teams",
                 heading="The calm task tracker for busy teams.", url="http://h/index.html")
SIGNIN = PageState(title="Sign in · Lumen Tasks", heading="Welcome back", url="http://h/signin.html")
DASH = PageState(title="Dashboard · Lumen Tasks", heading="Welcome back, Alex", headings=["Projects"],
                 url="http://h/dashboard.html", items=["Website redesign"])


def test_changes_between_page_states() -> None:
    assert changes_between(HOME, SIGNIN) == [Change(kind="page", text="Sign in · Lumen Tasks"),
                                             Change(kind="heading", text="Welcome back")]
    dialog = DASH.model_copy(update={"dialog": "New project", "headings": ["Projects", "New project"]})
    assert changes_between(DASH, dialog) == [Change(kind="dialog", text="New project")]
    done = DASH.model_copy(update={"messages": ["Project “Spring launch” created"],
                                   "items": ["Spring launch", "Website redesign"]})
    assert changes_between(dialog, done) == [
        Change(kind="dialog_closed", text="New project"),
        Change(kind="message", text="Project “Spring launch” created"),
        Change(kind="item", text="Spring launch"),
    ]
    assert changes_between(DASH, DASH.model_copy(update={"url": "http://h/dashboard.html#top"})) == []
    assert changes_between(None, HOME) == [Change(kind="page", text=HOME.title)]


def test_aria_snapshot_first_line() -> None:
    assert parse_aria_line('- link "Get started free":\n  - /url: signin.html') == ("link", "Get started free")
    assert parse_aria_line('- textbox "Say \\"hi\\"":') == ("textbox", 'Say "hi"')
    assert parse_aria_line("- heading [level=1]") == ("heading", None)
    assert parse_aria_line("- generic: text") == (None, None)
    assert parse_aria_line("") == (None, None)


def test_site_name_from_titles() -> None:
    assert product_from_titles([HOME.title, SIGNIN.title, DASH.title]) == "Lumen Tasks"
    assert product_from_titles(["Locators | Playwright", "Installation | Playwright"]) == "Playwright"
    assert product_from_titles(["Untitled"]) == ""


def test_page_labels() -> None:
    assert page_label(HOME, "Lumen Tasks") == "the Lumen Tasks home page"
    assert page_label(SIGNIN, "Lumen Tasks") == "the Sign in page"
    assert page_label(DASH, "Lumen Tasks") == "the Dashboard"
    docs = PageState(title="Locators | Playwright", heading="Locators")
    assert page_label(docs, "Playwright") == "the Locators page"
    assert page_label(PageState(title="", heading="Pricing"), "") == "the Pricing page"


def test_consequences_read_like_speech() -> None:
    click = Observation(index=1, type="click", target=Target(role="link", name="Get started free"),
                        before=HOME, after=SIGNIN, changes=changes_between(HOME, SIGNIN))
    assert consequence(click, "Lumen Tasks") == "the Sign in page opens, which says Welcome back"
    assert opens_clause(click, "Lumen Tasks") == "to open the Sign in page"
    docs = PageState(title="Locators | Playwright", heading="Locators", url="http://d/docs/locators")
    start = PageState(title="Installation | Playwright", heading="Installation", url="http://d/docs/intro")
    side = Observation(index=2, type="click", target=Target(role="link", name="Locators", region="sidebar"),
                       before=start, after=docs, changes=changes_between(start, docs))
    assert consequence(side, "Playwright") == "the Locators page opens"
    toast = Observation(index=3, type="click", after=DASH, changes=[Change(kind="message", text="Settings saved")])
    assert consequence(toast, "") == "a message appears: Settings saved"
    ask = Observation(index=4, type="click", after=DASH,
                      changes=[Change(kind="native_dialog", text="Delete this report?")])
    assert consequence(ask, "") == "the browser asks: Delete this report?"
    goto = Observation(index=0, type="goto", after=HOME, changes=changes_between(None, HOME))
    assert landing(goto, "Lumen Tasks") == "the Lumen Tasks home page, which says The calm task tracker for busy teams"
    assert consequence(Observation(index=5, type="fill", after=DASH), "") is None
