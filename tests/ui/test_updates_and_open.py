"""The desktop app's installer-facing behaviour: the opt-in update check shows "version X is available"
with a link (against a local server standing in for the release feed), Settings holds the switch and the
feed URL, the About box names the versions of Qt, Chromium, ffmpeg and the voice, and a job bundle handed
to the app (what the file manager does through the MIME type) opens as a project."""

from __future__ import annotations

import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from app.ui import update_notice
from app.ui.main_window import MainWindow, about_text
from app.ui.ops import Op
from app.ui.qt import QLabel
from app.workbench.storage import Store, load_settings

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "unit"))
from update_feed_fakes import FakeFeed

pytestmark = pytest.mark.ui
REPO = Path(__file__).resolve().parents[2]


@pytest.fixture
def window(store: Store, aloop: Any, dispose: Any) -> Iterator[MainWindow]:
    w = MainWindow(store)
    w.start()
    w.show()
    yield w
    aloop.run_until_complete(Op.wait_all())
    dispose(w)


@pytest.fixture
def feed() -> Iterator[FakeFeed]:
    f = FakeFeed()
    yield f
    f.close()


def test_update_check_is_opt_in_and_shows_a_link(window: MainWindow, run: Any, feed: FakeFeed) -> None:
    feed.serve({"version": "9.1.0", "url": "https://example.org/reelwright/9.1.0"})
    window.settings.update_feed_url = feed.url
    assert window.settings.update_check is False  # off until the user turns it on
    assert update_notice.start_if_enabled(window) is None
    assert feed.requests == 0

    window.settings.update_check = True
    task = update_notice.start_if_enabled(window)
    assert task is not None
    result = run(task)
    assert result is not None and result.newer is not None
    label = window.statusBar().findChild(QLabel, update_notice.NOTICE_NAME)
    assert isinstance(label, QLabel) and label.isVisible()
    assert "Reelwright 9.1.0 is available" in label.text()
    assert 'href="https://example.org/reelwright/9.1.0"' in label.text()
    assert label.openExternalLinks()
    # a restart the same day asks nobody
    assert run(update_notice.start_if_enabled(window)) is None  # type: ignore[arg-type]
    assert feed.requests == 1


def test_check_now_reports_up_to_date_and_failures_in_the_status_bar(window: MainWindow, run: Any,
                                                                      feed: FakeFeed) -> None:
    from app import __version__

    feed.serve({"version": __version__, "url": "https://example.org/"})
    window.settings.update_feed_url = feed.url
    run(update_notice.check_now(window))
    assert window.statusBar().currentMessage() == f"Reelwright {__version__} is the latest version."
    feed.status = 500
    run(update_notice.check_now(window))
    assert window.statusBar().currentMessage().startswith(f"Update check failed: release feed {feed.url}: HTTP 500")


def test_settings_hold_the_update_switch_and_feed(window: MainWindow, feed: FakeFeed) -> None:
    from app.ui.settings_dialog import SettingsDialog
    from app.workbench.storage import save_settings

    dlg = SettingsDialog(window.settings, window.store.root, window)
    assert not dlg.update_check.isChecked()
    dlg.update_check.setChecked(True)
    dlg.update_feed.setText(feed.url)
    s = dlg.result_settings()
    save_settings(window.store.root, s)
    again = load_settings(window.store.root)
    assert again.update_check is True and again.update_feed_url == feed.url


def test_about_names_qt_chromium_ffmpeg_and_voice_versions(qapp: Any) -> None:
    text = about_text()
    for part in ("Qt", "Chromium", "ffmpeg", "Voice", "en_US-joe-medium"):
        assert part in text, part


def test_a_job_bundle_opens_as_a_project(window: MainWindow, tmp_path: Path) -> None:
    from app.core.bundle import load_job, write_bundle
    from app.ui.app import _open_file

    example = REPO / "resources" / "examples" / "quickstart"
    with load_job(example / "script.json") as job:
        bundle = write_bundle(job.script, example, tmp_path / "tour.reelwright.zip")
    assert _open_file(window, bundle)
    project = next(p for p in window.store.list_projects() if p.name == "tour")
    assert window.settings.last_project == project.id
    assert project.data.script is not None and project.data.script["cards"]
    site = window.store.project_dir(project.id) / "site" / "index.html"
    assert site.is_file()
    # the project renders from its folder like the bundle did: the same job validates there
    from app.core.script import validate_script
    from app.workbench import services

    job = services.make_job(validate_script(project.data.script), window.store.project_dir(project.id))
    assert "index.html" in job.site_files()

    bad = tmp_path / "broken.reelwright.zip"
    bad.write_bytes(b"not a zip")
    assert not _open_file(window, bad)
    assert any("broken.reelwright.zip could not be opened" in p and "not a valid zip" in p
               for p in window.store.problems)
