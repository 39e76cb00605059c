"""``reelwright gui --smoke-screenshot``: a real process opens the main window with the bundled example,
paints, saves a PNG and exits 0 (what packaged builds run as their self-check)."""

from __future__ import annotations

import json
import os
import sqlite3
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

ROOT = Path(__file__).resolve().parents[2]
pytestmark = pytest.mark.ui


def test_smoke_screenshot_shows_the_example_project(tmp_path: Path, qapp: Any) -> None:
    shot = tmp_path / "shot.png"
    data = tmp_path / "data"
    env = dict(os.environ, QT_QPA_PLATFORM="offscreen", REELWRIGHT_DATA_DIR=str(data))
    proc = subprocess.run([sys.executable, "-m", "app", "gui", "--smoke-screenshot", str(shot)],
                          cwd=ROOT, env=env, capture_output=True, text=True, timeout=120, check=False)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert "first paint after" in proc.stdout
    from app.ui.qt import QImage

    img = QImage(str(shot))
    assert img.width() >= 1000 and img.height() >= 600
    # not a blank frame: many distinct colours across the window
    colours = {img.pixel(x, y) for x in range(0, img.width(), 37) for y in range(0, img.height(), 23)}
    assert len(colours) > 20
    # the example was loaded: library files, their order in the project, and its cards
    with sqlite3.connect(data / "library.sqlite3") as db:
        files = {r[0]: r[1] for r in db.execute("SELECT id, name FROM files")}
        [(name, raw)] = db.execute("SELECT name, data FROM projects").fetchall()
    project = json.loads(raw)
    example = json.loads((ROOT / "resources/examples/quickstart/script.json").read_text())
    assert name == "Quickstart example"
    assert project["files"] and all(i in files for i in project["files"])
    assert [c["id"] for c in project["script"]["cards"]] == [c["id"] for c in example["cards"]]
    assert (data / "projects" / str(1) / "site" / "index.html").is_file()
