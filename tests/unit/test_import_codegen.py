"""Codegen importers: the corpus imports to its expected actions; unsupported lines are reported
with file, line, column and source line; nothing in a file is ever executed."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from app.core.draft.drafting import detect_kind, import_codegen
from app.core.draft.importers import CodegenImportError, ImportError_, import_source
from app.core.script import Script, validate_script

CORPUS = Path(__file__).resolve().parents[1] / "data" / "codegen"
EXPECTED = sorted(CORPUS.glob("*/*.expected.json"))


def _dump(actions: list) -> list:
    return [a.model_dump(mode="json", exclude_defaults=True) for a in actions]


def _cases() -> list[tuple[Path, Path]]:
    out = []
    for exp in EXPECTED:
        doc = json.loads(exp.read_text())
        if "files" in doc:
            out += [(exp.parent / f, exp) for f in doc["files"]]
    return out


@pytest.mark.parametrize(("path", "expected"), _cases(), ids=lambda p: p.name)
def test_corpus_file_imports_to_expected_actions(path: Path, expected: Path) -> None:
    result = import_codegen(path)
    assert result.skipped == []
    doc = json.loads(expected.read_text())
    assert _dump(result.actions) == doc["actions"]
    assert result.sessions == doc.get("sessions", [])
    # an import never produces a script the validator refuses (tabs, dialogs, frames, the session)
    settings = {"base_url": "http://localhost:8000/", "session": result.session}
    validate_script({"settings": settings, "cards": [{"id": "flow", "actions": doc["actions"]}]})


@pytest.mark.parametrize("flow", ["quickstart", "signed_in"])
def test_recorded_corpus_covers_every_flavour_and_all_agree(flow: str) -> None:
    """The five files Playwright's recorder wrote for one session import to one identical flow."""
    files = sorted((CORPUS / "recorded").glob(f"{flow}*.*[!n]"))
    flavours = {import_codegen(f).flavour for f in files}
    assert flavours == {"python-sync", "python-async", "python-pytest", "js-library", "ts-test"}
    flows = {json.dumps(_dump(import_codegen(f).actions)) for f in files}
    assert len(flows) == 1


def test_every_statement_and_locator_kind_is_covered() -> None:
    actions = import_codegen(CORPUS / "handwritten" / "every_form_sync.py").actions
    types = {a.type for a in actions}
    assert {
        "goto",
        "click",
        "dblclick",
        "fill",
        "type",
        "press",
        "check",
        "uncheck",
        "select",
        "hover",
        "upload",
        "scroll",
        "wait",
        "wait_for",
        "dialog",
        "close_page",
    } <= types
    locs = [a.target for a in actions if getattr(a, "target", None) is not None]
    kinds = {loc.kind() for loc in locs}
    assert kinds == {"role", "label", "placeholder", "text", "test_id", "alt", "title", "css"}
    assert any(loc.nth == 0 for loc in locs) and any(loc.nth == -1 for loc in locs)
    assert any(loc.nth == 2 for loc in locs) and any(loc.has_text for loc in locs)
    assert any(loc.within is not None and loc.within.within is not None for loc in locs)  # chains nest
    assert {loc.frame for loc in locs if loc.frame} == {"#editor", 'iframe[name="preview"]'}
    assert [a.opens for a in actions if getattr(a, "opens", None)] == ["page1"]
    assert [a.target.name for a in actions if getattr(a, "download", False)] == ["Export CSV"]
    click = next(a for a in actions if a.type == "click" and a.button == "right")
    assert click.modifiers == ["Shift", "ControlOrMeta"] and (click.position.x, click.position.y) == (12, 8.5)


@pytest.mark.parametrize("name", ["unsupported_handwritten.py", "unsupported_handwritten.spec.ts"])
def test_unsupported_lines_are_all_reported_with_location(name: str) -> None:
    path = CORPUS / "handwritten" / name
    expected = json.loads((CORPUS / "handwritten" / "unsupported.expected.json").read_text())[name]
    with pytest.raises(ImportError_) as info:
        import_codegen(path)
    err = info.value
    assert [[p.line, p.column] for p in err.problems] == expected
    lines = path.read_text().splitlines()
    for p in err.problems:
        assert p.source_line == lines[p.line - 1]
        assert f"{path}:{p.line}:{p.column}:" in str(err)
    text = str(err)
    assert "helper function" in text and "defined at line" in text and "loops and conditionals" in text


def test_skip_unsupported_keeps_the_rest_and_reports_each_skip() -> None:
    path = CORPUS / "handwritten" / "unsupported_handwritten.py"
    result = import_codegen(path, skip_unsupported=True)
    assert [(s.line, s.column) for s in result.skipped][:3] == [(11, 5), (12, 5), (14, 10)]
    assert _dump(result.actions) == [
        {"type": "goto", "url": "https://app.example.com/"},
        {"type": "click", "target": {"role": "button", "name": "Save"}},
    ]


def test_files_are_parsed_never_executed(tmp_path: Path) -> None:
    marker = tmp_path / "executed"
    py = tmp_path / "evil.py"
    py.write_text(
        f"from playwright.sync_api import Page\nimport os\nos.system('touch {marker}')\n"
        f"__import__('os').system('touch {marker}')\n\n"
        "def test_x(page: Page) -> None:\n    page.goto('https://example.com/')\n"
        f"    page.evaluate(\"require('fs').writeFileSync('{marker}', '')\")\n"
    )
    js = tmp_path / "evil.spec.ts"
    js.write_text(
        "import { test } from '@playwright/test';\n"
        f"require('fs').writeFileSync('{marker}', '');\n"
        "test('t', async ({ page }) => {\n  await page.goto('https://example.com/');\n"
        f"  await page.evaluate(() => require('child_process').execSync('touch {marker}'));\n}});\n"
    )
    for f in (py, js):
        with pytest.raises(CodegenImportError) as info:
            import_codegen(f)
        assert info.value.problems
    assert not marker.exists()


@pytest.mark.parametrize(
    ("name", "source", "line", "col", "words"),
    [
        (
            "bad.py",
            "from playwright.sync_api import Page\ndef test_a(page: Page):\n    page.goto('x'\n",
            3,
            14,
            "not valid Python",
        ),
        (
            "bad.spec.ts",
            "import { test } from '@playwright/test';\ntest('a', async ({ page }) => {\n  await page.goto('x';\n});\n",
            3,
            22,
            "not valid JavaScript/TypeScript",
        ),
    ],
)
def test_syntax_errors_name_the_place(tmp_path: Path, name: str, source: str, line: int, col: int, words: str) -> None:
    f = tmp_path / name
    f.write_text(source)
    with pytest.raises(CodegenImportError) as info:
        import_codegen(f)
    p = info.value.problems[0]
    assert (p.line, words in p.reason) == (line, True)
    assert abs(p.column - col) <= 3


@pytest.mark.parametrize(
    ("stmt", "reason"),
    [
        ('page.locator("#f").set_input_files("/etc/passwd")', "absolute path"),
        ('page.get_by_label("Plan").select_option(index=2)', "by index"),
        ('page.get_by_text(re.compile("pro.*plan")).click()', "regular expression"),
        ('page.get_by_role("buton", name="Save").click()', "not an ARIA role"),
        ('page.get_by_role("button").click(click_count=3)', "click_count=3"),
        ('page.get_by_role("button").click(trial=True)', "trial click"),
        ('page.get_by_role("button").filter(has=page.get_by_text("x")).click()', "option 'has'"),
        ('page.frame_locator("#a >> nth=0").get_by_text("x").click()', "iframe selector of .frame_locator()"),
        ('page.get_by_title("x").content_frame.get_by_text("x").click()', "content_frame is supported right after"),
        ('page.frame_locator("iframe").first.get_by_text("x").click()', "picks an iframe by position"),
        ('page.frame_locator().get_by_role("button").click()', "could not name this (nested) iframe"),
        ('page.locator("iframe").nth(1).content_frame.get_by_text("x").click()', "content_frame is supported"),
        ('page.locator("//iframe").content_frame.get_by_text("x").click()', "looks like an XPath"),
        ('page.get_by_role("row").frame_locator("#a").get_by_text("x").click()', "frame inside a located element"),
        ('page.once("dialog", lambda dialog: print(dialog.message))', "dialog handler must call dialog.accept()"),
        ('page.once("dialog", handle)', "needs a function that accepts or dismisses"),
        ('page.once("dialog", lambda dialog: dialog.accept(text))', "prompt text as a string literal"),
        ("page.on('request', lambda r: r)", "handlers are not supported"),
        ('browser.new_context(storage_state={"cookies": []})', "browser setup"),
        ('page.get_by_role("button")', "does nothing"),
        ('page.keyboard.type("hello")', "keyboard.press"),
        ("page = context.new_page()", "already names an open page"),
        ("page1.close()", "'page1' is not a page of this flow"),
        ("x = 1 + 2", "computed at run time"),
    ],
)
def test_specific_unsupported_statements(tmp_path: Path, stmt: str, reason: str) -> None:
    f = tmp_path / "flow_sync.py"
    f.write_text(
        "import re\nfrom playwright.sync_api import Playwright, sync_playwright\n\n"
        "def run(playwright: Playwright) -> None:\n    browser = playwright.chromium.launch()\n"
        "    context = browser.new_context()\n    page = context.new_page()\n"
        f"    page.goto('https://example.com/')\n    {stmt}\n\n"
        "with sync_playwright() as playwright:\n    run(playwright)\n"
    )
    with pytest.raises(CodegenImportError) as info:
        import_codegen(f)
    (p,) = info.value.problems
    assert p.line == 9 and reason in p.reason, p.reason


def test_acting_on_the_first_page_after_following_a_popup_switches_back(tmp_path: Path) -> None:
    f = tmp_path / "popup.spec.ts"
    f.write_text(
        "import { test } from '@playwright/test';\ntest('t', async ({ page }) => {\n"
        "  await page.goto('https://example.com/');\n  const page1Promise = page.waitForEvent('popup');\n"
        "  await page.getByRole('link', { name: 'Docs' }).click();\n  const page1 = await page1Promise;\n"
        "  await page1.getByRole('link', { name: 'API' }).click();\n"
        "  await page.getByRole('button', { name: 'Save' }).click();\n});\n"
    )
    res = import_codegen(f)
    assert [(a.type, a.page, getattr(a, "opens", None)) for a in res.actions] == [
        ("goto", None, None), ("click", None, "page1"), ("click", None, None), ("click", "page", None)
    ]


def test_js_strings_regex_and_numbers_are_decoded(tmp_path: Path) -> None:
    f = tmp_path / "esc.js"
    f.write_text(
        "const { chromium } = require('playwright');\n(async () => {\n"
        "  const browser = await chromium.launch();\n  const context = await browser.newContext();\n"
        "  const page = await context.newPage();\n"
        "  await page.goto(`https://example.com/?q=1`);\n"
        '  await page.getByLabel(\'It\\\'s \\u00e9t\\u{e9} \\"ok\\"\\n\').fill("tab\\there");\n'
        "  await page.getByText(/^Price \\$5\\.00$/).click({ position: { x: -1, y: 0x10 } });\n"
        "  await browser.close();\n})();\n"
    )
    res = import_codegen(f)
    assert _dump(res.actions)[1:] == [
        {"type": "fill", "target": {"label": 'It\'s été "ok"\n'}, "value": "tab\there"},
        {"type": "click", "target": {"text": "Price $5.00", "exact": True}, "position": {"x": -1.0, "y": 16.0}},
    ]


def test_import_result_builds_a_valid_script() -> None:
    res = import_codegen(CORPUS / "handwritten" / "every_form_sync.py")
    script = Script(cards=[{"id": "all", "actions": [a.model_dump() for a in res.actions]}])
    assert len(script.cards[0].actions) == len(res.actions)


@pytest.mark.parametrize(
    ("name", "content", "kind"),
    [
        ("flow.py", "from playwright.sync_api import Page\n", "playwright-python"),
        ("helper.py", "print('hi')\n", "unknown"),
        ("flow.spec.ts", "import { test } from '@playwright/test';\n", "playwright-ts"),
        ("flow.js", "const { chromium } = require('playwright');\n", "playwright-js"),
        ("notes.md", "# Title\ntext\n", "markdown"),
        ("notes.txt", "plain\n", "text"),
        ("guide.pdf", "%PDF-1.4\n", "pdf"),
        ("shot.png", "\x89PNG\r\n\x1a\n", "image"),
        ("voice.wav", "RIFF\0\0\0\0WAVE", "audio"),
        ("noext", "from playwright.sync_api import Page\n\ndef test_a(page: Page):\n    pass\n", "playwright-python"),
        ("README", "## Heading\nbody\n", "markdown"),
        ("blob.bin", "\0\1\2", "unknown"),
    ],
)
def test_detect_kind(tmp_path: Path, name: str, content: str, kind: str) -> None:
    f = tmp_path / name
    f.write_bytes(content.encode("latin-1"))
    assert detect_kind(f) == kind


def test_unreadable_and_non_codegen_files_raise_the_importer_error(tmp_path: Path) -> None:
    with pytest.raises(CodegenImportError, match="cannot read"):
        import_codegen(tmp_path / "missing.py")
    (tmp_path / "latin.py").write_bytes(b"page.goto('\xe9')")
    with pytest.raises(CodegenImportError, match="not UTF-8"):
        import_codegen(tmp_path / "latin.py")
    with pytest.raises(CodegenImportError, match="not a Playwright codegen file"):
        import_source("hello", tmp_path / "x.md", "markdown")
    (tmp_path / "empty.py").write_text("from playwright.sync_api import Page\n")
    with pytest.raises(CodegenImportError, match="no browser actions"):
        import_codegen(tmp_path / "empty.py")


def test_device_and_context_options_are_setup(tmp_path: Path) -> None:
    """codegen --device / --viewport-size emit spread options; they configure the browser, not the flow."""
    py = tmp_path / "device_sync.py"
    py.write_text(
        "from playwright.sync_api import Playwright, sync_playwright, expect\n\n\n"
        "def run(playwright: Playwright) -> None:\n"
        "    browser = playwright.chromium.launch(headless=False)\n"
        '    context = browser.new_context(**playwright.devices["iPhone 13"])\n'
        "    page = context.new_page()\n"
        '    page.goto("https://example.com/")\n\n'
        "    # ---------------------\n    context.close()\n    browser.close()\n\n\n"
        "with sync_playwright() as playwright:\n    run(playwright)\n"
    )
    js = tmp_path / "device.js"
    js.write_text(
        "const { chromium, devices } = require('playwright');\n\n(async () => {\n"
        "  const browser = await chromium.launch({\n    headless: false\n  });\n"
        "  const context = await browser.newContext({\n    ...devices['iPhone 13'],\n  });\n"
        "  const page = await context.newPage();\n  await page.goto('https://example.com/');\n"
        "  await context.close();\n  await browser.close();\n})();\n"
    )
    for f in (py, js):
        assert _dump(import_codegen(f).actions) == [{"type": "goto", "url": "https://example.com/"}]


def test_popup_promise_without_a_click_is_reported(tmp_path: Path) -> None:
    f = tmp_path / "popup.spec.ts"
    f.write_text(
        "import { test } from '@playwright/test';\ntest('t', async ({ page }) => {\n"
        "  await page.goto('https://example.com/');\n  const page1Promise = page.waitForEvent('popup');\n"
        "  const page1 = await page1Promise;\n});\n"
    )
    with pytest.raises(CodegenImportError) as info:
        import_codegen(f)
    assert info.value.problems[0].line == 5 and "opened the popup" in info.value.problems[0].reason


def test_test_classes_are_reported_as_out_of_scope(tmp_path: Path) -> None:
    f = tmp_path / "classy.py"
    f.write_text(
        "from playwright.sync_api import Page\n\n\nclass TestSuite:\n"
        "    def test_a(self, page: Page) -> None:\n        page.goto('https://example.com/')\n"
    )
    with pytest.raises(CodegenImportError) as info:
        import_codegen(f)
    (p,) = info.value.problems
    assert p.line == 4 and "test classes are out of scope" in p.reason


def _py_flow(tmp_path: Path, body: str, name: str = "tabs_sync.py", context: str = "") -> Path:
    f = tmp_path / name
    f.write_text(
        "from playwright.sync_api import Playwright, sync_playwright, expect\n\n"
        "def run(playwright: Playwright) -> None:\n    browser = playwright.chromium.launch()\n"
        f"    context = browser.new_context({context})\n    page = context.new_page()\n"
        "    page.goto('https://example.com/')\n"
        + "".join(f"    {line}\n" for line in body.strip().splitlines())
        + "\nwith sync_playwright() as playwright:\n    run(playwright)\n"
    )
    return f


def test_a_dialog_on_another_tab_switches_with_the_answer_and_page_on_warns(tmp_path: Path) -> None:
    f = _py_flow(tmp_path, """
with page.expect_popup() as popup_info:
    page.get_by_role("link", name="Help").click()
popup = popup_info.value
popup.get_by_role("link", name="FAQ").hover()
page.on("dialog", lambda dialog: dialog.accept())
page.get_by_role("button", name="Delete").hover()
page.get_by_role("button", name="Delete").click()
popup.once("dialog", lambda dialog: dialog.dismiss())
""")
    res = import_codegen(f)
    assert _dump(res.actions)[1:] == [
        {"type": "click", "target": {"role": "link", "name": "Help"}, "opens": "popup"},
        {"type": "hover", "target": {"role": "link", "name": "FAQ"}},
        {"type": "hover", "target": {"role": "button", "name": "Delete"}, "page": "page"},  # not a trigger
        {"type": "dialog"},
        {"type": "click", "target": {"role": "button", "name": "Delete"}},
    ]
    assert len(res.warnings) == 2
    assert "page.on(\"dialog\", ...) answers every dialog on 'page'" in res.warnings[0]
    assert res.warnings[0].startswith("tabs_sync.py:12:")
    assert "answers no dialog" in res.warnings[1] and res.warnings[1].startswith("tabs_sync.py:15:")


def test_closing_returns_to_the_opener_and_a_closed_page_is_reported(tmp_path: Path) -> None:
    f = _py_flow(tmp_path, """
page1 = context.new_page()
page1.goto('https://example.com/a')
with page1.expect_popup() as page2_info:
    page1.get_by_text("Open").click()
page2 = page2_info.value
page1.close()
page2.get_by_text("In the popup").click()
page2.close()
page.get_by_text("Back home").click()
page1.get_by_text("Gone").click()
""")
    with pytest.raises(CodegenImportError) as info:
        import_codegen(f)
    (p,) = info.value.problems
    assert p.line == 17 and "acts on 'page1' after it was closed (line 13)" in p.reason
    res = import_codegen(f, skip_unsupported=True)
    assert [(a.type, a.page, getattr(a, "opens", None)) for a in res.actions] == [
        ("goto", None, None), ("new_page", "page1", None), ("goto", None, None), ("click", None, "page2"),
        ("close_page", "page1", None),  # closing a tab returns to its opener (page), as the validator says
        ("click", "page2", None), ("close_page", None, None),  # page2's opener was page1: back to page
        ("click", None, None),
    ]


@pytest.mark.parametrize(
    ("name", "source"),
    [
        ("old.spec.ts", "import { test } from '@playwright/test';\ntest('t', async ({ page }) => {\n"
         "  await page.goto('https://example.com/');\n"
         "  await Promise.all([page.waitForNavigation(), page.getByText('Next').click()]);\n"
         "  const [popup] = await Promise.all([page.waitForEvent('popup'), page.getByText('Docs').click()]);\n"
         "  page.on('dialog', function (dialog) { void dialog.accept(`It's ok`); });\n"
         "  await popup.getByText('Save').click();\n  await page.getByText('Done').click();\n});\n"),
        ("old_sync.py", "from playwright.sync_api import Page\n\n# codegen --load-storage=\"s.json\" x\n"
         "def test_t(page: Page) -> None:\n    page.goto('https://example.com/')\n"
         "    with page.expect_navigation():\n        page.get_by_text('Next').click()\n"
         "    with page.context.expect_page() as popup_info:\n        page.get_by_text('Docs').click()\n"
         "    popup = popup_info.value\n    page.on('dialog', lambda dialog: dialog.accept(\"It's ok\"))\n"
         "    popup.get_by_text('Save').click()\n    page.get_by_text('Done').click()\n"),
    ],
)
def test_older_and_hand_written_shapes(tmp_path: Path, name: str, source: str) -> None:
    f = tmp_path / name
    f.write_text(source)
    res = import_codegen(f)
    assert _dump(res.actions) == [
        {"type": "goto", "url": "https://example.com/"},
        {"type": "click", "target": {"text": "Next"}},
        {"type": "click", "target": {"text": "Docs"}, "opens": "popup"},
        {"type": "click", "target": {"text": "Save"}},
        {"type": "dialog", "text": "It's ok", "page": "page"},
        {"type": "click", "target": {"text": "Done"}},
    ]
    assert res.sessions == (["s.json"] if name.endswith(".py") else [])


@pytest.mark.parametrize(
    ("context", "words"),
    [('storage_state="auth"', "not a storage-state file"), ("storage_state=state", "must name a file")],
)
def test_a_session_that_is_not_a_file_names_the_line(tmp_path: Path, context: str, words: str) -> None:
    with pytest.raises(CodegenImportError) as info:
        import_codegen(_py_flow(tmp_path, "page.get_by_text('x').click()", context=context))
    (p,) = info.value.problems
    assert p.line == 5 and words in p.reason, p.reason


def test_a_session_in_a_subfolder_becomes_a_session_asset_and_the_cli_names_it(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    from app.cli import main

    f = _py_flow(tmp_path, "page.get_by_text('x').click()\ncontext.storage_state(path='after.json')",
                 context='storage_state="state/signed-in.json"')
    res = import_codegen(f)
    assert res.sessions == ["state/signed-in.json"] and res.session == "sessions/signed-in.json"
    assert "saves its signed-in session to 'after.json'" in res.warnings[0]
    out = tmp_path / "draft.json"
    assert main(["import", str(f), "--out", str(out)]) == 0
    err = capsys.readouterr().err
    assert 'needs the signed-in session state/signed-in.json (settings.session = "sessions/signed-in.json")' in err
    assert "note: tabs_sync.py:9: the flow saves its signed-in session to 'after.json'" in err
    script = json.loads(out.read_text())  # the drafted script runs signed in
    assert script["settings"]["session"] == "sessions/signed-in.json"


def test_an_action_the_validator_would_refuse_is_reported_at_its_line(tmp_path: Path) -> None:
    f = _py_flow(tmp_path, "page.once('dialog', lambda d: d.accept('a\\x1bb'))\npage.get_by_text('x').click()")
    with pytest.raises(CodegenImportError) as info:
        import_codegen(f)
    (p,) = info.value.problems
    assert p.line == 8 and "ESC" in p.reason and "dialog action" in p.reason


@pytest.mark.parametrize(
    ("handler", "answer"),
    [
        ("dialog => dialog.accept()", {"type": "dialog"}),
        ("d => d.dismiss()", {"type": "dialog", "response": "dismiss"}),
        ("dialog => dialog.accept('Q3')", {"type": "dialog", "text": "Q3"}),
        ("async dialog => await dialog.accept(`x`)", {"type": "dialog", "text": "x"}),
        ("(dialog) => { dialog.dismiss().catch(() => {}); }", {"type": "dialog", "response": "dismiss"}),
        ("dialog => {\n    console.log(`Dialog message: ${dialog.message()}`);\n"
         "    dialog.dismiss().catch(() => {});\n  }", {"type": "dialog", "response": "dismiss"}),
        ("async function (dialog) { return dialog.accept('y'); }", {"type": "dialog", "text": "y"}),
        ("dialog => dialog.message()", "must call dialog.accept() or dialog.dismiss()"),
        ("dialog => { dialog.accept(); dialog.dismiss(); }", "exactly once"),
        ("(a, b) => a.accept()", "one parameter"),
        ("dialog => dialog.accept(name)", "string literal"),
        ("dialog => other.accept()", "must call dialog.accept()"),
        ("handler", "needs a function"),
    ],
)
def test_js_dialog_handler_forms(tmp_path: Path, handler: str, answer: dict | str) -> None:
    f = tmp_path / "dialogs.spec.ts"
    f.write_text(
        "import { test } from '@playwright/test';\ntest('t', async ({ page }) => {\n"
        "  await page.goto('https://example.com/');\n"
        f"  page.once('dialog', {handler});\n"
        "  await page.getByRole('button', { name: 'Delete' }).click();\n});\n"
    )
    if isinstance(answer, str):
        with pytest.raises(CodegenImportError) as info:
            import_codegen(f)
        (p,) = info.value.problems
        assert p.line == 4 and answer in p.reason, p.reason
        return
    assert _dump(import_codegen(f).actions)[1:] == [
        answer, {"type": "click", "target": {"role": "button", "name": "Delete"}}
    ]


@pytest.mark.parametrize(
    ("source", "frame"),
    [
        ("page.frameLocator('#a').frameLocator('#b').frameLocator('#c').getByText('x')", ["#a", "#b", "#c"]),
        ("page.locator('#a').contentFrame().locator('#b').contentFrame().getByText('x')", ["#a", "#b"]),
        ("page.frameLocator('#a').locator('#b').contentFrame().getByText('x')", ["#a", "#b"]),
        ("page.locator('iframe[title=\"Map\"]').contentFrame().getByText('x')", 'iframe[title="Map"]'),
    ],
)
def test_nested_frames_in_js(tmp_path: Path, source: str, frame: str | list[str]) -> None:
    f = tmp_path / "frames.spec.ts"
    f.write_text(
        "import { test } from '@playwright/test';\ntest('t', async ({ page }) => {\n"
        f"  await page.goto('https://example.com/');\n  await {source}.click();\n}});\n"
    )
    assert _dump(import_codegen(f).actions)[1] == {"type": "click", "target": {"text": "x", "frame": frame}}


def test_a_named_python_dialog_handler(tmp_path: Path) -> None:
    f = tmp_path / "named_test.py"
    f.write_text(
        "from playwright.sync_api import Page\n\n\ndef test_t(page: Page) -> None:\n"
        "    def handle_dialog(dialog):\n        print(f'Dialog message: {dialog.message}')\n"
        "        dialog.accept('Q3')\n\n    page.on('dialog', handle_dialog)\n"
        "    page.goto('https://example.com/')\n"
        "    def helper(x):\n        x.click()\n"
    )
    with pytest.raises(CodegenImportError) as info:
        import_codegen(f)
    (p,) = info.value.problems
    assert p.line == 11 and "nested definition" in p.reason
    res = import_codegen(f, skip_unsupported=True)
    assert _dump(res.actions) == [{"type": "dialog", "text": "Q3"}, {"type": "goto", "url": "https://example.com/"}]
