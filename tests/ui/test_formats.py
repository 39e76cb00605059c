"""Formats in the Render view: the format, fps, purpose and target length, captions, poster and preview
are the script's settings — chosen with the real widgets, undone, saved and reopened, carried by the job a
render starts with, and (once) rendered for real at a small square size, checked with ffprobe."""

from __future__ import annotations

import asyncio
import json
import shutil
import sqlite3
import subprocess
from collections.abc import Callable, Coroutine, Iterator
from pathlib import Path
from typing import Any

import pytest

from app.core.script import validate_script
from app.ui.main_window import MainWindow
from app.ui.ops import Op
from app.ui.qt import QComboBox, Qt
from app.workbench.storage import ProjectData, Store

pytestmark = pytest.mark.ui

SITE = Path(__file__).parent / "flow_site"
Run = Callable[[Coroutine[Any, Any, Any]], Any]
SCRIPT = {"title": "Tour", "settings": {"base_url": "http://127.0.0.1:9/"},
          "cards": [{"id": "a", "title": "First", "narration": "Hello there, this is the first card of a tour.",
                     "actions": []},
                    {"id": "b", "title": "Second", "narration": "And this is the second one. Bye now.",
                     "actions": []}]}


@pytest.fixture
def window(store: Store, aloop: Any, dispose: Any) -> Iterator[MainWindow]:
    w = MainWindow(store)
    w.start()
    w.show()
    yield w
    w.close()
    aloop.run_until_complete(Op.wait_all())
    dispose(w)


def _choose(combo: QComboBox, value: Any) -> None:
    i = combo.findData(value)
    assert i >= 0, f"{value!r} is not offered by {combo.objectName()}"
    combo.setCurrentIndex(i)


def _settings(window: MainWindow) -> dict[str, Any]:
    return dict(window.doc.data.get("settings") or {})


def _stored_settings(data_dir: Path, project_id: int) -> dict[str, Any]:
    with sqlite3.connect(data_dir / "library.sqlite3") as db:  # what a restart would read
        data = json.loads(db.execute("SELECT data FROM projects WHERE id=?", (project_id,)).fetchone()[0])
    return dict(data["script"]["settings"])


def test_a_9_16_ad_of_30_s_is_written_to_the_script_undone_reopened_and_rendered_as_such(
        window: MainWindow, qtbot: Any, data_dir: Path, dispose: Any, tmp_path: Path,
        monkeypatch: pytest.MonkeyPatch) -> None:
    p = window.projects.create("Ad", ProjectData(script=json.loads(json.dumps(SCRIPT))))
    window.tabs.setCurrentWidget(window.render_panel)
    bar = window.render_panel.formats
    assert bar.format.currentData() == "16:9" and bar.purpose.currentData() == "demo"
    assert not bar.target.isEnabled() and not bar.custom_width.isVisible()
    assert "Output 1280×720 at 30 fps" in bar.refresh_summary().size_text()  # type: ignore[union-attr]
    stack = window.doc.undo_stack
    start = stack.index()

    _choose(bar.format, "9:16")
    assert (_settings(window)["width"], _settings(window)["height"]) == (1080, 1920)
    _choose(bar.purpose, "ad")
    s = _settings(window)
    # the same fields `reelwright render --preset ad --target 30s` writes
    assert s["purpose"] == "ad" and s["target_s"] == 30.0 and s["camera"] == "gentle" and s["gap_ms"] == 250
    assert bar.target.isEnabled() and bar.target.value() == 30
    assert stack.index() == start + 2  # one undo step per choice (the ad's five fields are one)
    summary = bar.refresh_summary()
    assert summary is not None and summary.planned_s is not None
    assert "page laid out at 540×960 CSS px, drawn at 2×" in bar.summary.text()
    # the narration is not voiced yet: the plan says its lengths are estimated from the words
    assert f"Planned ≈ {summary.planned_s:.1f} s / target 30 s — fits" in bar.summary.text()
    assert "narration estimated" in bar.summary.text()
    # two short cards make a short ad: the purpose says so before the render does
    assert "shorter than 15 s" in bar.warnings.text()

    # a target outside the ad range is warned about before rendering; arrow steps merge into one step
    bar.target.setValue(85)
    bar.target.setValue(90)
    assert _settings(window)["target_s"] == 90.0 and stack.index() == start + 3
    bar.refresh_summary()
    assert bar.warnings.isVisibleTo(bar) and "outside 15–60 s" in bar.warnings.text()
    stack.undo()
    assert _settings(window)["target_s"] == 30.0 and bar.target.value() == 30
    bar.refresh_summary()
    assert "outside 15–60 s" not in bar.warnings.text()

    # captions burned in, a poster and a GIF preview: script settings too
    qtbot.mouseClick(bar.burn, Qt.MouseButton.LeftButton)
    qtbot.mouseClick(bar.poster, Qt.MouseButton.LeftButton)
    _choose(bar.preview, "gif")
    _choose(bar.fps, 25)
    s = _settings(window)
    assert (s["burn_captions"], s["poster"], s["preview"], s["fps"]) == (True, True, "gif", 25)
    validate_script(window.doc.to_data())  # the exported script carries them and is valid

    # undo walks back through every choice; the widgets follow the document
    for _ in range(4):
        stack.undo()
    assert not bar.burn.isChecked() and not bar.poster.isChecked() and bar.fps.currentData() == 30
    stack.undo()  # the ad
    assert bar.purpose.currentData() == "demo" and not bar.target.isEnabled()
    assert "target_s" not in _settings(window) and "camera" not in _settings(window)
    stack.undo()  # the format
    assert bar.format.currentData() == "16:9" and "width" not in _settings(window)
    for _ in range(6):
        stack.redo()
    assert bar.format.currentData() == "9:16" and bar.purpose.currentData() == "ad" and bar.burn.isChecked()

    # the render's job is the script as saved: its format, purpose, target, captions, poster, preview
    assert window.doc.script is not None
    job = window.renders.build_job(window.doc.script, window.store.project_dir(p.id))
    eff = job.effective_settings()
    assert (eff.width, eff.height, eff.fps, eff.purpose, eff.target_s) == (1080, 1920, 25, "ad", 30.0)
    assert eff.burn_captions and eff.poster and eff.preview == "gif"
    # "Render as…" 1:1 renders once in that size; the script keeps 9:16
    once = window.renders.build_job(window.doc.script, window.store.project_dir(p.id), "1:1")
    assert (once.effective_settings().width, once.effective_settings().height) == (1080, 1080)
    assert (once.script.settings.width, once.script.settings.height) == (1080, 1920)
    assert [a.objectName() for a in window.render_panel.render_as_menu.actions()] == \
        ["renderAs:16:9", "renderAs:1080p", "renderAs:9:16", "renderAs:1:1"]

    # Script › Export script JSON… carries the format: the CLI renders the exported file as a 9:16 ad
    from app.core.bundle import load_job
    from app.ui import qt

    exported = tmp_path / "ad.json"
    monkeypatch.setattr(qt.QFileDialog, "getSaveFileName", staticmethod(lambda *a, **k: (str(exported), "")))
    window.export_script()
    with load_job(exported) as cli_job:
        c = cli_job.effective_settings()
        assert (c.width, c.height, c.purpose, c.target_s, c.burn_captions) == (1080, 1920, "ad", 30.0, True)

    # saved with the project; another project and back, then a restart, show them again
    window.projects.save_now()
    stored = _stored_settings(data_dir, p.id)
    assert (stored["width"], stored["purpose"], stored["target_s"], stored["preview"]) == (1080, "ad", 30.0, "gif")
    window.projects.create("Other", ProjectData(script=json.loads(json.dumps(SCRIPT))))
    assert bar.format.currentData() == "16:9" and bar.purpose.currentData() == "demo"
    window.projects.open(p.id)
    assert bar.format.currentData() == "9:16" and bar.purpose.currentData() == "ad" and bar.target.value() == 30
    window.projects.save_now()
    w2 = MainWindow(window.store)
    try:
        w2.start()
        w2.projects.open(p.id)
        b2 = w2.render_panel.formats
        assert (b2.format.currentData(), b2.purpose.currentData(), b2.target.value()) == ("9:16", "ad", 30)
        assert b2.burn.isChecked() and b2.poster.isChecked() and b2.preview.currentData() == "gif"
        assert b2.fps.currentData() == 25
    finally:
        dispose(w2)


def test_a_custom_size_and_an_old_projects_render_settings(window: MainWindow, store: Store) -> None:
    # a project saved by the previous app kept its size/fps beside the script: it opens in the script
    p = store.create_project("Old", ProjectData())
    old = {"script": json.loads(json.dumps(SCRIPT)),
           "render": {"width": 854, "height": 480, "fps": 24, "captions": True, "burn_captions": True}}
    with sqlite3.connect(store.root / "library.sqlite3") as db:
        db.execute("UPDATE projects SET data=? WHERE id=?", (json.dumps(old), p.id))
    window.projects.open(p.id)
    bar = window.render_panel.formats
    assert bar.format.currentData() == "custom" and bar.custom_width.isVisibleTo(bar)
    assert (bar.custom_width.value(), bar.custom_height.value(), bar.fps.currentData()) == (854, 480, 24)
    assert bar.burn.isChecked()
    assert "page laid out at 1280×719 CSS px" in bar.refresh_summary().size_text()  # type: ignore[union-attr]
    # a custom size typed in the boxes (odd numbers become even)
    bar.custom_width.setValue(641)
    assert _settings(window)["width"] == 640
    window.doc.undo_stack.undo()
    assert _settings(window)["width"] == 854 and bar.custom_width.value() == 854


def test_a_new_project_starts_from_the_app_default_format_and_its_first_draft_keeps_a_chosen_one(
        window: MainWindow) -> None:
    window.settings.width, window.settings.height, window.settings.fps = 1920, 1080, 60
    window.projects.create("Fresh")
    bar = window.render_panel.formats
    assert (bar.format.currentData(), bar.fps.currentData()) == ("1080p", 60)
    _choose(bar.format, "1:1")
    window.projects.save_now()
    assert window.project is not None and window.project.data.script is not None
    assert window.project.data.script["settings"]["width"] == 1080 and window.project.data.script["cards"] == []
    from app.workbench import services

    base = services.default_script_settings(window.settings, window.doc.to_data().get("settings"))
    assert (base.width, base.height, base.fps) == (1080, 1080, 60)


def test_every_format_control_has_a_name_an_accessible_name_and_a_tooltip(window: MainWindow) -> None:
    from app.ui.qt import QWidget

    bar = window.render_panel.formats
    controls = [w for w in bar.findChildren(QWidget) if w.objectName().startswith(("render", "format"))]
    assert len(controls) >= 11
    for w in [*controls, window.render_panel.render_as]:
        assert w.accessibleName() and w.toolTip(), w.objectName()


@pytest.mark.slow
@pytest.mark.browser
def test_a_square_render_from_the_render_view_has_the_scripts_size(window: MainWindow, run: Run) -> None:
    script = {"title": "Square", "settings": {"site": "site", "lead_in_ms": 200, "lead_out_ms": 300},
              "cards": [{"id": "welcome", "title": "Welcome", "narration": "This is Acme Notes.",
                         "actions": [{"type": "goto", "url": "/"}]}]}
    p = window.projects.create("Square", ProjectData(script=script))
    shutil.copytree(SITE, window.store.project_dir(p.id) / "site")
    bar = window.render_panel.formats
    _choose(bar.format, "custom")
    bar.custom_width.setValue(480)
    bar.custom_height.setValue(480)
    _choose(bar.fps, 24)
    assert (_settings(window)["width"], _settings(window)["height"]) == (480, 480)

    async def scenario() -> None:
        window.render_panel.render_button.click()
        await Op.wait_all()

    run(scenario())
    assert window.project is not None
    record = window.project.data.history[-1]
    assert record.status == "Complete", record.error
    assert record.format == "480×480 24 fps" and record.output
    out = subprocess.run(["ffprobe", "-v", "error", "-select_streams", "v:0", "-show_entries",
                          "stream=width,height,r_frame_rate", "-of", "json", record.output],
                         capture_output=True, text=True, check=True)
    [stream] = json.loads(out.stdout)["streams"]
    assert (stream["width"], stream["height"], stream["r_frame_rate"]) == (480, 480, "24/1")
    assert "480×480 24 fps" in window.render_panel.history.item(0).text()

    # the render voiced the card: the summary now plans with the clip's exact length, not an estimate
    async def looked_up() -> None:
        lookup = bar._lookup or bar.look_up_voiced()
        if lookup is not None:
            await lookup
            await asyncio.sleep(0)  # its done callback

    run(looked_up())
    assert bar.cached_timings and "estimated" not in bar.summary.text(), bar.summary.text()
    # beside the plan, the length the render really had; after an edit, marked as the older script's
    assert record.script_digest and record.duration_s
    assert f"Last render {record.duration_s:.1f} s of video" in bar.summary.text(), bar.summary.text()
    assert "before the latest edits" not in bar.summary.text()
    _choose(bar.fps, 30)
    bar.refresh_summary()
    assert f"Last render {record.duration_s:.1f} s of video, before the latest edits" in bar.summary.text()
    window.doc.undo_stack.undo()
    bar.refresh_summary()
    assert "before the latest edits" not in bar.summary.text(), bar.summary.text()
