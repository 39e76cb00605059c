"""Every corpus file recorded or written for the quickstart example site imports to a flow that
runs in a real Chromium against the real site (``render.check``: no voice, no video).

Files that import to the same flow (the five flavours of one recording are checked to be identical
in tests/unit/test_import_codegen.py) share one browser run, keyed by the script they produce.
"""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest

from app.core.bundle import Job
from app.core.draft.drafting import draft, import_codegen
from app.core.render import CheckResult, check
from app.core.script import Settings

pytestmark = [pytest.mark.slow, pytest.mark.browser]

ROOT = Path(__file__).resolve().parents[2]
EXAMPLE = ROOT / "resources" / "examples" / "quickstart"
CORPUS = ROOT / "tests" / "data" / "codegen"
SITE_FILES = [
    *sorted((CORPUS / "recorded").glob("quickstart*.*[!n]")),
    CORPUS / "handwritten" / "site_tour_pytest.py",
    CORPUS / "handwritten" / "site_tour.spec.ts",
    CORPUS / "handwritten" / "short_signin.spec.ts",
]
_checked: dict[str, CheckResult] = {}


@pytest.mark.parametrize("path", SITE_FILES, ids=lambda p: p.name)
def test_imported_flow_passes_check_against_the_example_site(path: Path) -> None:
    res = asyncio.run(draft([path], "", settings=Settings(site="site", width=960, height=540)))
    assert res.warnings == []
    key = res.script.to_json()
    if key not in _checked:
        job = Job(script=res.script, root=EXAMPLE, loose=True)
        _checked[key] = asyncio.run(check(job))
    result = _checked[key]
    assert result.actions_run == len(import_codegen(path).actions)
    assert result.duration_s > 0


def test_the_recorded_signed_in_flow_passes_check_with_its_session(tmp_path: Path) -> None:
    """Recorded by Playwright's recorder with a saved session (record_corpus.py signed_in): the popup,
    the dismissed confirm and the download replay signed in, the session found beside the flow."""
    import shutil

    from app.core.bundle import load_job

    flow = CORPUS / "recorded" / "signed_in_sync.py"
    res = asyncio.run(draft([flow], "", settings=Settings(site="site", width=960, height=540)))
    assert res.script.settings.session == "sessions/lumen.json"
    shutil.copytree(EXAMPLE / "site", tmp_path / "site")
    (tmp_path / "sessions").mkdir()
    shutil.copyfile(CORPUS / "recorded" / "lumen.json", tmp_path / "sessions" / "lumen.json")
    (tmp_path / "script.json").write_text(res.script.to_json(), encoding="utf-8")
    result = asyncio.run(check(load_job(tmp_path / "script.json")))
    assert result.actions_run == len(import_codegen(flow).actions) == 7
    assert not [w for w in result.warnings if "dialog" in w or "download" in w], result.warnings
