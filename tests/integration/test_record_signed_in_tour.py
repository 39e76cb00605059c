"""Issue 13's "the Record button produces such a flow": the app's Record path (``services.record``, what
the Record button runs) records, for real, the signed-in tour — started signed in from a saved session
(``--load-session``) at reports.html, Help opens a popup, "Yes" is clicked there, the popup is closed,
"Delete report" raises a confirm, "Export CSV" downloads a file.

Playwright's recorder runs in a headed Chromium on a private Xvfb display and is driven over DevTools
with trusted input; the popup is a second DevTools target the driver attaches to, and closing it is the
user closing the tab (``Target.closeTarget``).  Codegen dismisses dialogs itself while recording, and
records that (``page.once("dialog", lambda dialog: dialog.dismiss())``): what users get, so asserted.

The recorded flow must land in the library, import (popup, close, dialog, download, session), validate,
join a project with a drafted script, and render with the popup's frames between the first page's.
"""

from __future__ import annotations

import asyncio
import itertools
import json
import shutil
import subprocess
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from recorder_driver import free_port, sign_in, signed_in_tour, write_devtools_wrapper, xvfb

from app.core.infra.progress import CancelToken
from app.core.infra.siteserver import SiteServer
from app.core.infra.tools import find_ffmpeg

REPO = Path(__file__).resolve().parents[2]
SITE = REPO / "resources" / "examples" / "quickstart" / "site"
SHOTS = REPO / ".reelwright-test"

pytestmark = [
    pytest.mark.slow,
    pytest.mark.browser,
    pytest.mark.skipif(not (shutil.which("Xvfb") and Path("/usr/bin/chromium").is_file()),
                       reason="needs Xvfb and /usr/bin/chromium"),
]


@pytest.fixture(scope="module")
def site() -> Iterator[str]:
    files = {p.relative_to(SITE).as_posix(): p for p in SITE.rglob("*") if p.is_file()}
    server = SiteServer(files).start()
    try:
        yield server.base_url
    finally:
        server.stop()


def _frames(mp4: Path, w: int, h: int) -> np.ndarray:
    raw = subprocess.run([str(find_ffmpeg()), "-v", "error", "-i", str(mp4), "-f", "rawvideo", "-pix_fmt", "rgb24",
                          "-"], capture_output=True, check=True, timeout=120).stdout
    return np.frombuffer(raw, np.uint8).reshape(-1, h, w, 3)


def _record_tour(site: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, target: str) -> tuple[Any, Any, str]:
    """A saved session in the library, then the tour recorded through ``services.record`` (what the Record
    button runs): the store, the outcome, the flow as it landed in the library."""
    from app.workbench import services
    from app.workbench.recorder import RecordRequest
    from app.workbench.sessions import SessionStore
    from app.workbench.storage import Store

    SHOTS.mkdir(exist_ok=True)
    data = tmp_path / "data"
    state = tmp_path / "signed-in.json"
    asyncio.run(sign_in(site, state))
    SessionStore(data).save("lumen", state)
    port = free_port()
    monkeypatch.setenv("REELWRIGHT_CHROMIUM", str(write_devtools_wrapper(tmp_path, port)))
    store = Store(data)
    req = RecordRequest(f"{site}/reports.html", load_session="lumen", target=target)
    with xvfb() as display:
        monkeypatch.setenv("DISPLAY", display)

        async def both() -> Any:
            rec = asyncio.ensure_future(services.record(store, req)(lambda _p: None, CancelToken()))
            await asyncio.to_thread(asyncio.run, signed_in_tour(port, site, display, SHOTS))
            return await asyncio.wait_for(rec, 30)

        try:
            outcome = asyncio.run(asyncio.wait_for(both(), 90))
        except BaseException:
            store.close()
            raise
    flow = store.blob_path(outcome.file.sha256).read_text()
    (SHOTS / f"record-tour-flow{Path(outcome.file.name).suffix}").write_text(flow)
    print("\n--- recorded ---\n" + flow)
    assert [f.id for f in store.list_files()] == [outcome.file.id]
    # the loaded session by its bundle path, not by where it lives in the user's data folder
    assert "sessions/lumen.json" in flow and str(data) not in flow
    assert any("dismissed" in w for w in outcome.warnings), outcome.warnings
    return store, outcome, flow


def _import(flow: str, name: str, tmp_path: Path) -> tuple[Any, list[dict[str, Any]]]:
    """Import the recorded flow; check the tour's shape: the popup, back to the first page, the dialog bound
    to Delete report, the download on Export CSV, the session."""
    from app.core.draft.importers import import_codegen

    work = tmp_path / "imp"
    work.mkdir()
    copy = work / name
    copy.write_text(flow)
    imported = import_codegen(copy)
    acts = [a.model_dump(exclude_none=True, exclude_defaults=True) for a in imported.actions]
    kinds = [a["type"] for a in acts]
    print(json.dumps(acts))
    assert kinds[0] == "goto" and acts[0]["url"].endswith("/reports.html"), acts
    help_click = next(i for i, a in enumerate(acts) if a.get("opens"))
    yes = next(i for i, a in enumerate(acts) if "Yes" in json.dumps(a))
    dialog = kinds.index("dialog")
    export = next(i for i, a in enumerate(acts) if a.get("download"))
    assert help_click < yes < dialog < export, acts
    assert acts[dialog].get("response") == "dismiss", acts[dialog]
    assert "Delete report" in json.dumps(acts[dialog + 1]) and "Export CSV" in json.dumps(acts[export])
    assert imported.session == "sessions/lumen.json", imported.session
    return imported, acts


def test_record_path_records_the_signed_in_tour_with_popup_dialog_and_download(
        site: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from app.core.script import validate_script
    from app.workbench import recorder, services
    from app.workbench.storage import AppSettings

    store, outcome, flow = _record_tour(site, tmp_path, monkeypatch, "python")
    try:
        # what codegen wrote for each step of the tour
        assert 'new_context(storage_state="sessions/lumen.json")' in flow
        assert "expect_popup()" in flow and 'get_by_role("button", name="Yes").click()' in flow
        assert "    page1.close()\n" in flow  # the user closed the popup: a step, kept
        assert 'page.once("dialog", lambda dialog: dialog.dismiss())' in flow
        assert "expect_download()" in flow
        _, acts = _import(flow, outcome.file.name, tmp_path)
        yes = next(i for i, a in enumerate(acts) if "Yes" in json.dumps(a))
        assert acts[yes + 1] == {"type": "close_page"} and acts[yes + 2]["type"] == "dialog", acts

        # the project: what the Record button does next (add the file, draft with the session)
        project = store.create_project("Signed-in tour")
        project.data.files.append(outcome.file.id)
        base = services.default_script_settings(AppSettings(), None)
        base.session = "sessions/lumen.json"
        base.width, base.height, base.fps = 960, 540, 24
        result = asyncio.run(services.draft(store, [outcome.file], "", "offline", AppSettings(), base)(
            lambda _p: None, CancelToken()))
        project.data.script = result.script.model_dump(mode="json")
        store.save_project(project)
        script = validate_script(next(p for p in store.list_projects() if p.id == project.id).data.script)
        assert script.settings.session == "sessions/lumen.json"
        assert recorder.import_recorded(store, outcome.file) == len(acts)
        _render(script, site, store.root, tmp_path)
    finally:
        store.close()


def test_recorded_as_a_playwright_test_the_tour_switches_back_without_the_close(
        site: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Codegen's test flavours (TS test, pytest) never write ``close()`` for a tab the user closed: the flow
    simply acts on the first page again, which imports as the switch back to it."""
    from app.core.script import validate_script

    store, outcome, flow = _record_tour(site, tmp_path, monkeypatch, "playwright-test")
    try:
        assert outcome.file.name.endswith(".spec.ts")
        assert "test.use({" in flow and "waitForEvent('popup')" in flow and "waitForEvent('download')" in flow
        assert "page1.close()" not in flow
        imported, acts = _import(flow, outcome.file.name, tmp_path)
        assert "close_page" not in [a["type"] for a in acts]
        dialog = [a["type"] for a in acts].index("dialog")
        back = acts[dialog:dialog + 2]
        assert any(a.get("page") == "page" for a in back), back  # the first page, named: the switch back
        validate_script({"version": 1, "title": "t", "settings": {"session": "sessions/lumen.json"},
                         "cards": [{"id": "a", "title": "A", "narration": "Hi.",
                                    "actions": [a.model_dump(mode="json") for a in imported.actions]}]})
    finally:
        store.close()


def _render(script: Any, site: str, data: Path, tmp_path: Path) -> None:
    """Render the recorded tour; the popup's frames (help.html: no sidebar) sit between reports.html's."""
    from app.core.bundle import Job, RenderSettings
    from app.core.render import render
    from app.workbench.sessions import SessionStore

    job_dir = tmp_path / "job"
    (job_dir / "sessions").mkdir(parents=True)
    shutil.copyfile(SessionStore(data).require("lumen").path, job_dir / "sessions" / "lumen.json")
    w, h = 960, 540
    job = Job(script=script, render=RenderSettings(width=w, height=h, captions=False), root=job_dir, loose=True)
    res = asyncio.run(render(job, tmp_path / "out", name="tour"))
    frames = _frames(res.video, w, h)
    busy = frames[:, 100:500, 0:60].astype(np.int16).std(axis=(1, 2, 3))
    labels = np.where(busy > 20, "R", np.where(busy < 10, "H", "?"))
    first = int(np.argmax(labels == "R"))
    shown = [(str(k), len(list(g))) for k, g in itertools.groupby(labels[first:].tolist())]
    pages = [k for k, n in shown if n >= 3]
    for name, at in (("first", first + 2), ("popup", first + shown[0][1] + 3), ("last", len(frames) - 2)):
        subprocess.run([str(find_ffmpeg()), "-v", "error", "-y", "-i", str(res.video), "-vf", f"select=eq(n\\,{at})",
                        "-frames:v", "1", str(SHOTS / f"record-tour-{name}.png")], check=True, timeout=60)
    assert pages == ["R", "H", "R"], shown
