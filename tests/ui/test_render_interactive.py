"""The Render view's "Interactive demo" checkbox (in the format bar, beside the caption options): a
script setting like the others (undoable, exported), and a render with it ticked writes
<name>.demo.html beside the video (real widgets, real core: Chromium, Piper, ffmpeg)."""

from __future__ import annotations

import shutil
from collections.abc import Callable, Coroutine, Iterator
from pathlib import Path
from typing import Any

import pytest

from app.core.script import validate_script
from app.ui.main_window import MainWindow
from app.ui.ops import Op
from app.ui.qt import Qt
from app.workbench.storage import ProjectData, Store

pytestmark = [pytest.mark.slow, pytest.mark.browser]

SITE = Path(__file__).parent / "flow_site"
Run = Callable[[Coroutine[Any, Any, Any]], Any]


@pytest.fixture
def window(store: Store, qtbot: Any, aloop: Any, dispose: Any) -> Iterator[MainWindow]:
    w = MainWindow(store)
    w.start()
    w.show()
    yield w
    w.close()
    aloop.run_until_complete(Op.wait_all())
    dispose(w)


def test_interactive_checkbox_is_saved_and_makes_the_demo(window: MainWindow, qtbot: Any, run: Run) -> None:
    script = {
        "title": "Acme tour",
        "settings": {"site": "site", "lead_in_ms": 200, "lead_out_ms": 300, "gap_ms": 200},
        "cards": [
            {"id": "start", "title": "Get started", "narration": "Press get started.",
             "actions": [{"type": "goto", "url": "/"},
                         {"type": "click", "target": {"role": "button", "name": "Get started"}}]},
        ],
    }
    p = window.projects.create("Demo", ProjectData(script=script))
    shutil.copytree(SITE, window.store.project_dir(p.id) / "site")
    rp = window.render_panel
    window.tabs.setCurrentWidget(rp)  # the Render view, as the user opens it
    box = rp.formats.interactive
    assert box.objectName() == "renderInteractive" and box.accessibleName() and box.toolTip()
    assert not box.isChecked()
    # beside the captions checkboxes, in the same row
    assert box.parentWidget() is rp.burn.parentWidget()
    qtbot.mouseClick(box, Qt.MouseButton.LeftButton)
    assert window.doc.data["settings"]["interactive"] is True
    validate_script(window.doc.to_data())  # the exported script carries it and is valid
    window.doc.undo_stack.undo()
    assert not box.isChecked() and not window.doc.data["settings"].get("interactive")
    qtbot.mouseClick(box, Qt.MouseButton.LeftButton)

    async def scenario() -> None:
        rp.select_size(854, 480)
        rp.select_fps(24)
        qtbot.mouseClick(rp.render_button, Qt.MouseButton.LeftButton)
        await Op.wait_all()

    run(scenario())
    assert "Complete" in rp.status.text(), rp.status.text()
    assert window.project is not None
    record = window.project.data.history[-1]
    video = Path(record.output or "")
    demo = video.with_name(video.stem + ".demo.html")
    assert demo.is_file() and "Get started" in demo.read_text(encoding="utf-8")
    assert demo.name in rp.status.text()
