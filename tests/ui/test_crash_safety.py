"""Crash safety with real processes: a killed app loses at most the last second of typing, and two app
processes writing the same library at once leave it intact."""

from __future__ import annotations

import json
import os
import signal
import sqlite3
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest

from app.workbench.storage import ProjectData, Store

ROOT = Path(__file__).resolve().parents[2]
pytestmark = [pytest.mark.ui, pytest.mark.slow]

_TYPIST = textwrap.dedent('''
    import asyncio, os, sys
    import qasync
    from app.ui.app import create_app
    from app.ui.main_window import MainWindow
    from app.ui.qt import QTest
    from app.workbench.storage import Store

    app = create_app()
    loop = qasync.QEventLoop(app)
    asyncio.set_event_loop(loop)

    async def main():
        w = MainWindow(Store())
        w.start()
        w.show()
        w.editor.select_card(0)
        w.editor.narration.setFocus()
        w.editor.narration.selectAll()
        for i in range(1000):  # type forever, one word every 50 ms, until killed
            QTest.keyClicks(w.editor.narration, f"w{i} ")
            print(f"typed w{i}", flush=True)
            await asyncio.sleep(0.05)

    with loop:
        loop.run_until_complete(main())
''')


def test_a_killed_app_loses_at_most_the_last_second_of_typing(data_dir: Path) -> None:
    s = Store(data_dir)
    s.create_project("Typing", ProjectData(script={"title": "T", "settings": {"base_url": "http://127.0.0.1:9/"},
                                                   "cards": [{"id": "a", "narration": "old", "actions": []}]}))
    s.close()
    env = dict(os.environ, QT_QPA_PLATFORM="offscreen", REELWRIGHT_DATA_DIR=str(data_dir))
    proc = subprocess.Popen([sys.executable, "-c", _TYPIST], cwd=ROOT, env=env, stdout=subprocess.PIPE,
                            stderr=subprocess.DEVNULL, text=True)
    assert proc.stdout is not None
    typed: list[tuple[float, str]] = []
    try:
        for line in proc.stdout:
            typed.append((time.monotonic(), line.split()[1]))
            if len(typed) == 60:  # ~3 s of typing
                break
        killed = time.monotonic()
        proc.send_signal(signal.SIGKILL)
    finally:
        proc.kill()
        proc.wait()
    with sqlite3.connect(data_dir / "library.sqlite3") as db:
        data = json.loads(db.execute("SELECT data FROM projects").fetchone()[0])
    saved_words = data["script"]["cards"][0]["narration"].split()
    assert saved_words, "nothing was autosaved"
    last_saved = saved_words[-1]
    assert last_saved in {w for _, w in typed}, saved_words
    saved_at = next(t for t, word in typed if word == last_saved)
    assert killed - saved_at <= 1.0, f"lost {killed - saved_at:.2f} s of typing"
    assert saved_words == [w for _, w in typed][: len(saved_words)]  # a prefix: nothing torn


_WRITER = textwrap.dedent('''
    import sys
    from pathlib import Path
    from app.workbench.storage import Store
    s = Store(Path(sys.argv[1]))
    for i in range(150):
        s.add_records([(f"{sys.argv[2]}{i:063x}", f"{sys.argv[2]}-{i}", "text", i)])
        p = s.create_project(f"{sys.argv[2]}-{i}")
        p.data.prompt = "x" * i
        s.save_project(p)
    s.close()
''')


def test_two_app_processes_share_the_library_without_corruption(data_dir: Path) -> None:
    Store(data_dir).close()
    procs = [subprocess.Popen([sys.executable, "-c", _WRITER, str(data_dir), tag], cwd=ROOT,
                              stderr=subprocess.PIPE, text=True) for tag in ("a", "b")]
    errs = [p.communicate(timeout=120)[1] for p in procs]
    assert [p.returncode for p in procs] == [0, 0], errs
    s = Store(data_dir)
    assert len(s.list_files()) == 300 and len(s.list_projects()) == 300 and s.problems == []
    s.close()
    with sqlite3.connect(data_dir / "library.sqlite3") as db:
        assert db.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
