"""The drafting facade with the offline drafter: ordered files in, a validated script out, per-file
problems as warnings, narration that reads like speech and follows the prompt."""

from __future__ import annotations

import asyncio
import json
import re
from pathlib import Path

import pytest
from documents_fixtures import make_pdf, make_textless_pdf

from app.core.draft.drafting import DraftError, draft, import_codegen, rebase_local_urls
from app.core.errors import Cancelled
from app.core.infra.progress import CancelToken, Progress
from app.core.script import Settings, validate_script

ROOT = Path(__file__).resolve().parents[2]
DATA = ROOT / "tests" / "data"
RECORDED = DATA / "codegen" / "recorded" / "quickstart_sync.py"
TOUR = DATA / "codegen" / "handwritten" / "site_tour.spec.ts"
SITE = Settings(site="site")


def run(*args, **kw):  # type: ignore[no-untyped-def]
    return asyncio.run(draft(*args, **kw))


@pytest.fixture(scope="module")
def guide(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return make_pdf(tmp_path_factory.mktemp("docs") / "guide.pdf")


def _actions(script) -> list:  # type: ignore[no-untyped-def]
    return [a for c in script.cards for a in c.actions]


def test_codegen_plus_pdf_becomes_a_valid_narrated_script(guide: Path) -> None:
    res = run([RECORDED, guide], "", settings=SITE)
    s = res.script
    assert res.warnings == []
    validate_script(json.loads(s.to_json()))  # round-trips through the validator
    imported = rebase_local_urls(import_codegen(RECORDED).actions, SITE)
    assert _actions(s) == imported  # every action kept, in the recorded order
    assert s.cards[0].actions[0].type == "goto" and s.cards[0].actions[0].url == "/index.html"
    assert s.cards[-1].actions == [] and s.cards[0].title == "Introduction"
    assert len(s.cards) >= 5
    ids = [c.id for c in s.cards]
    assert len(set(ids)) == len(ids) and all(re.fullmatch(r"[a-z0-9][a-z0-9-]*", i) for i in ids)
    text = " ".join(c.narration for c in s.cards)
    assert "*" not in text and "`" not in text and "correct-horse" not in text  # speech; secrets unread
    assert "Spring launch" in text and "(page " in text  # from the actions, and cited from the PDF
    for c in s.cards:
        assert c.narration[0].isupper() and c.narration.rstrip()[-1] in ".!?"


def test_form_submission_is_one_card() -> None:
    s = run([RECORDED], "", settings=SITE).script
    signin = next(c for c in s.cards if any(getattr(a, "value", None) == "alex@northwind.test" for a in c.actions))
    # the link that opens the form, the focus clicks and fills, and the submit: one step
    assert [a.type for a in signin.actions] == ["click", "click", "fill", "click", "fill", "click"]
    assert signin.narration == (
        "First, click the hero cta, enter alex@northwind.test in the Email field, "
        "enter the password, and then click Sign in."
    )
    assert signin.title == "Sign in"
    create = s.cards[s.cards.index(signin) + 1]
    assert [a.type for a in create.actions] == ["click", "click", "fill", "select", "check", "click"]
    assert create.title == "Create project"
    assert s.cards[0].narration == (
        "This demo shows how to sign in, create project, draft the announcement, and save changes. "
        "We start on the home page."
    )


def test_drafts_are_deterministic(guide: Path) -> None:
    a = run([RECORDED, guide], "a tour", settings=SITE).script.to_json()
    b = run([RECORDED, guide], "a tour", settings=SITE).script.to_json()
    assert a == b


def test_prompt_shapes_length_tone_and_audience(guide: Path) -> None:
    short = run([RECORDED, guide], "a short video", settings=SITE).script
    long = run([RECORDED, guide], "a detailed walkthrough", settings=SITE).script
    friendly = run([RECORDED, guide], "friendly, for new users", settings=SITE).script
    formal = run([RECORDED, guide], "formal presentation for executives", settings=SITE).script

    def words(s) -> int:  # type: ignore[no-untyped-def]
        return sum(len(c.narration.split()) for c in s.cards)

    assert words(short) < words(long)
    assert "(page" not in " ".join(c.narration for c in short.cards)
    assert "let's" in " ".join(c.narration for c in friendly.cards)
    assert "Thanks for watching" in friendly.cards[-1].narration
    assert formal.cards[0].narration.startswith("This presentation demonstrates")
    titled = run([RECORDED], 'a tour titled "Meet Lumen"', settings=SITE).script
    assert titled.title == "Meet Lumen"


def test_file_order_is_flow_order() -> None:
    ab = _actions(run([RECORDED, TOUR], "", settings=SITE).script)
    ba = _actions(run([TOUR, RECORDED], "", settings=SITE).script)
    n1, n2 = len(import_codegen(RECORDED).actions), len(import_codegen(TOUR).actions)
    assert len(ab) == len(ba) == n1 + n2
    assert ab[:n1] == ba[n2:] and ab[n1:] == ba[:n2]


def test_unusable_files_are_warnings_not_failures(tmp_path: Path) -> None:
    locked = make_pdf(tmp_path / "locked.pdf", user_password="pw")
    scan = make_textless_pdf(tmp_path / "scan.pdf")
    broken = tmp_path / "broken.py"
    broken.write_text("from playwright.sync_api import Page\ndef test_a(page: Page):\n    page.goto(\n")
    partly = DATA / "codegen" / "handwritten" / "unsupported_handwritten.py"
    img = tmp_path / "logo.png"
    img.write_bytes(b"\x89PNG\r\n\x1a\n0000")
    res = run([locked, RECORDED, scan, broken, partly, img], "", settings=SITE)
    w = "\n".join(res.warnings)
    assert "locked.pdf: is password-protected" in w
    assert "scan.pdf: has no text layer" in w
    assert "broken.py: not used" in w and "not valid Python" in w
    assert "unsupported_handwritten.py:14:10: skipped `page.mouse.click(100, 200)`" in w
    assert "logo.png: image files are not read" in w
    assert len(_actions(res.script)) == len(import_codegen(RECORDED).actions) + 2


def test_documents_only_draft_narrates_sections(guide: Path) -> None:
    res = run([guide], "short")
    assert any("no browser flow" in w for w in res.warnings)
    assert [c.title for c in res.script.cards][1:4] == ["Getting started", "Creating a project", "Adding tasks"]
    assert all(c.actions == [] for c in res.script.cards)


def test_nothing_usable_is_a_draft_error(tmp_path: Path) -> None:
    f = tmp_path / "notes.bin"
    f.write_bytes(b"\0\0\0")
    with pytest.raises(DraftError) as info:
        run([f], "")
    assert "nothing to draft from" in str(info.value) and "notes.bin" in str(info.value)


def test_progress_and_cancel(guide: Path) -> None:
    events: list[Progress] = []
    run([RECORDED, guide], "", settings=SITE, on_progress=events.append)
    assert events[0].stage == "read" and events[-1].stage == "draft" and events[-1].fraction == 1.0
    assert [e.overall for e in events] == sorted(e.overall for e in events)

    async def cancelled() -> None:
        token = CancelToken()
        token.cancel()
        await draft([RECORDED], "", cancel=token)

    with pytest.raises(Cancelled):
        asyncio.run(cancelled())


def test_remote_urls_are_kept_and_local_ones_rebased_only_with_a_site() -> None:
    plain = run([RECORDED], "").script
    assert plain.cards[0].actions[0].url.startswith("http://127.0.0.1:")
    tour = run([DATA / "codegen" / "handwritten" / "every_form_async.py"], "", settings=SITE).script
    assert tour.cards[0].actions[0].url == "https://app.example.com/"


def test_drafting_core_imports_neither_qt_nor_boto3() -> None:
    """app/core stays free of Qt and boto3: Bedrock's client is imported only when it is used."""
    import subprocess
    import sys

    code = (
        "import sys, app.core.draft.drafting, app.core.draft.drafters.llm, app.core.draft.documents, app.cli_draft; "
        "bad = [m for m in ('PySide6', 'boto3', 'botocore') if m in sys.modules]; "
        "assert not bad, bad"
    )
    subprocess.run([sys.executable, "-c", code], check=True, cwd=Path(__file__).resolve().parents[2])


def test_card_ids_and_speech_cleaning() -> None:
    from app.core.draft.drafters.base import clean_speech, slugify, unique_ids

    assert slugify("Créer un projet — vite!") == "creer-un-projet-vite"
    assert slugify("***") == "card"
    assert unique_ids(["Sign in", "Sign in", "Sign in 2", "x" * 80]) == [
        "sign-in",
        "sign-in-2",
        "sign-in-2-3",
        "x" * 48,
    ]
    assert clean_speech("Click **New project** and `Save`, then <b>wait</b>.") == (
        "Click New project and Save, then wait."
    )
    assert clean_speech('Keep <mark name="a"/> marks') == 'Keep <mark name="a"/> marks'


def test_test_ids_are_named_by_what_the_site_shows(tmp_path: Path) -> None:
    from app.core.draft.drafters.base import DrafterConfig
    from app.core.draft.drafters.sitenames import read_site_names

    site = ROOT / "resources" / "examples" / "quickstart" / "site"
    names = read_site_names(site)
    assert names["testid:hero-cta"] == "Get started free"
    assert names["id:open-new-project"] == "New project"
    s = run([RECORDED], "", settings=SITE, config=DrafterConfig(site_dir=site)).script
    assert "First, click Get started free, enter alex@northwind.test" in s.cards[1].narration
    assert "hero cta" not in s.to_json()


def test_cli_resolves_the_site_next_to_the_output(tmp_path: Path) -> None:
    import shutil

    from app.cli import main

    shutil.copytree(ROOT / "resources" / "examples" / "quickstart" / "site", tmp_path / "site")
    out = tmp_path / "script.json"
    assert main(["import", str(RECORDED), "--site", "site", "--out", str(out), "-q"]) == 0
    assert "Get started free" in out.read_text()


def test_without_a_browser_the_draft_is_written_from_the_code(monkeypatch: pytest.MonkeyPatch) -> None:
    """observe=True but no Chromium: a warning says so, and the draft is the usual one (no run)."""
    from app.core.draft.drafters.base import DrafterConfig
    from app.core.draft.rubric import check_narration

    monkeypatch.setenv("REELWRIGHT_CHROMIUM", "/nonexistent/chromium")
    res = run([RECORDED], "", config=DrafterConfig(observe=True))
    assert res.observations is None
    assert len(res.warnings) == 1 and res.warnings[0].startswith("no browser to replay the flow (")
    assert "the narration is written from the recorded code" in res.warnings[0]
    plain = run([RECORDED], "").script
    assert res.script == plain and check_narration(res.script) == []
    # relative addresses and no site folder: nothing to replay against, said as much
    rel = run([RECORDED], "", settings=SITE, config=DrafterConfig(observe=True))
    assert rel.warnings == ["the flow was not replayed to see its pages (its addresses are relative and the "
                            "site's folder is not known); the narration is written from the recorded code"]


def test_the_app_drafts_with_the_silent_run_unless_its_settings_say_no() -> None:
    from app.workbench.services import drafter_config
    from app.workbench.storage import AppSettings

    assert drafter_config("offline", AppSettings()).observe is True
    assert drafter_config("offline", AppSettings.model_validate({"draft_observe": False})).observe is False
    assert AppSettings.model_validate_json("{}").draft_observe is True  # settings saved before this field
