"""Property tests: any mutation of a valid codegen file either imports or raises the importer's own
error type — never another exception (no crash, no traceback for the user) — and what imports is a
script the validator accepts (tabs, dialogs, downloads, frames and sessions included)."""

from __future__ import annotations

import contextlib
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from app.core.draft.importers import CodegenImportError, ImportResult, import_source
from app.core.script import validate_script

CORPUS = Path(__file__).resolve().parents[1] / "data" / "codegen"
SOURCES = {
    "python-sync": (CORPUS / "handwritten" / "every_form_sync.py", "playwright-python"),
    "python-async": (CORPUS / "handwritten" / "every_form_async.py", "playwright-python"),
    "ts-test": (CORPUS / "handwritten" / "every_form.spec.ts", "playwright-ts"),
    "js-library": (CORPUS / "handwritten" / "every_form_library.js", "playwright-js"),
    # tabs, dialogs, downloads, nested frames and a session, in every flavour
    "tabs-python-sync": (CORPUS / "handwritten" / "real_flow_sync.py", "playwright-python"),
    "tabs-python-async": (CORPUS / "handwritten" / "real_flow_async.py", "playwright-python"),
    "tabs-python-pytest": (CORPUS / "handwritten" / "real_flow_pytest.py", "playwright-python"),
    "tabs-ts-test": (CORPUS / "handwritten" / "real_flow.spec.ts", "playwright-ts"),
    "tabs-js-library": (CORPUS / "handwritten" / "real_flow_library.js", "playwright-js"),
}
TEXTS = {k: (p.read_text(), p, kind) for k, (p, kind) in SOURCES.items()}
# characters that matter to the parsers: brackets, quotes, operators, escapes, unicode
NASTY = st.sampled_from(
    [*"()[]{}'\"`\\.,;:=+-*/<>!?&|#@$%^~\n\t ",
     "\u00e9", "\u202e", "\x00", "\ud800", "await ", "async ", "page", "expect(", "=>",
     # the tab/dialog/download/frame/session shapes, spliced anywhere
     "page1", "page2", "popup", ".close()", ".bring_to_front()", ".bringToFront()", "context.new_page()",
     "page.once(\"dialog\", lambda dialog: dialog.accept(\"x\"))\n", "dialog.dismiss()", ".accept('\x07')",
     "page.on('dialog', d => d.accept())\n", "page.waitForEvent('popup')", "page.waitForEvent('download')",
     "Promise.all([", ".expect_popup()", ".expect_download()", "_info.value", ".frame_locator(\"#f\")",
     ".content_frame", ".contentFrame()", ".frameLocator('x >> y')", "storage_state=", "storageState: ",
     "\"auth.json\"", "'../x'", "# --load-storage=s.json\n", "save_as(", "goto(\"ftp://x\")"]
)


@st.composite
def mutated(draw: st.DrawFn) -> tuple[str, Path, str]:
    key = draw(st.sampled_from(sorted(TEXTS)))
    text, path, kind = TEXTS[key]
    for _ in range(draw(st.integers(1, 4))):
        op = draw(st.sampled_from(["delete", "insert", "replace", "dup_line", "drop_line", "swap_lines", "truncate"]))
        lines = text.split("\n")
        if op == "truncate":
            text = text[: draw(st.integers(0, len(text)))]
        elif op in ("dup_line", "drop_line", "swap_lines") and len(lines) > 2:
            i = draw(st.integers(0, len(lines) - 1))
            j = draw(st.integers(0, len(lines) - 1))
            if op == "dup_line":
                lines.insert(j, lines[i])
            elif op == "drop_line":
                del lines[i]
            else:
                lines[i], lines[j] = lines[j], lines[i]
            text = "\n".join(lines)
        else:
            pos = draw(st.integers(0, len(text)))
            ins = draw(st.one_of(NASTY, st.text(max_size=6)))
            if op == "delete":
                text = text[:pos] + text[pos + draw(st.integers(1, 8)) :]
            elif op == "insert":
                text = text[:pos] + ins + text[pos:]
            else:
                text = text[:pos] + ins + text[pos + len(ins) :]
    return text, path, kind


@settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(mutated(), st.booleans())
def test_mutated_codegen_never_raises_anything_but_the_importer_error(case: tuple[str, Path, str], skip: bool) -> None:
    text, path, kind = case
    try:
        result = import_source(text, path, kind, skip_unsupported=skip)  # type: ignore[arg-type]
    except CodegenImportError as exc:
        assert exc.problems and all(p.reason for p in exc.problems)
        assert str(exc)  # renders without error
    else:
        assert isinstance(result, ImportResult)
        if result.actions:  # what imports is a script the validator accepts
            validate_script({"settings": {"base_url": "http://localhost:8000/", "session": result.session},
                             "cards": [{"id": "flow", "actions": [a.model_dump(mode="json") for a in result.actions]}]})


@settings(max_examples=150, deadline=None)
@given(st.text(max_size=400), st.sampled_from(["playwright-python", "playwright-ts", "playwright-js"]))
def test_arbitrary_text_never_crashes_the_importers(text: str, kind: str) -> None:
    with contextlib.suppress(CodegenImportError):
        import_source(text, Path("fuzz.txt"), kind)  # type: ignore[arg-type]


def test_deep_nesting_is_an_importer_error() -> None:
    deep = (
        "from playwright.sync_api import Page\ndef test_a(page: Page):\n    page.goto("
        + "[" * 5000
        + "]" * 5000
        + ")\n"
    )
    with pytest.raises(CodegenImportError) as py_exc:
        import_source(deep, Path("deep.py"), "playwright-python")
    assert "deep.py:3:" in str(py_exc.value) and "nested" in str(py_exc.value)
    js = (
        "import { test } from '@playwright/test';\ntest('a', async ({ page }) => {\n  await page.goto("
        + "[" * 3000
        + "]" * 3000
        + ");\n});\n"
    )
    with pytest.raises(CodegenImportError) as js_exc:
        import_source(js, Path("deep.ts"), "playwright-ts")
    assert "deep.ts:" in str(js_exc.value) and "nests expressions too deeply" in str(js_exc.value)
