"""The packaged entry point (app/packaged.py) run from source: argument routing, the Qt plugin
check against the real PySide6 install, and where logs go."""

from __future__ import annotations

import logging
import os
import sys

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

from pathlib import Path

import pytest

from app import __version__, packaged
from app.ui import browser_setup


def test_qt_plugin_report_loads_the_real_plugins() -> None:
    ok, lines = browser_setup.qt_plugin_report()
    assert ok, lines
    assert lines[0].startswith("platform plugin 'offscreen' loaded from ")
    assert any(line.startswith("multimedia backend plays MP4") for line in lines)
    formats = next(line for line in lines if line.startswith("image formats: "))
    assert "jpeg" in formats and "png" in formats


def test_cli_routing(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as info:
        packaged.main(["--cli", "--version"])
    assert info.value.code == 0
    assert capsys.readouterr().out.strip() == f"reelwright {__version__}"
    assert packaged.main(["--version"]) == 0
    assert capsys.readouterr().out.strip() == f"Reelwright {__version__}"
    # --verbose adds every part a render uses (what a bug report needs; the About box shows the same)
    assert packaged.main(["--version", "--verbose"]) == 0
    out = capsys.readouterr().out
    for part in ("Qt ", "Chromium ", "ffmpeg ", "Voice ", "Piper"):
        assert part in out, out


def test_the_app_name_is_not_the_cli_name() -> None:
    # a double-clicked /opt/reelwright/Reelwright must open the window, not print the CLI's usage
    assert not packaged.is_cli_name("/opt/reelwright/Reelwright")
    assert packaged.is_cli_name("/usr/bin/reelwright") == (sys.platform != "win32")
    assert packaged.is_cli_name("/opt/reelwright/reelwright-cli")


def test_self_test_and_smoke_screenshot_are_exclusive(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as info:
        packaged.build_parser().parse_args(["--self-test", "--smoke-screenshot", "x.png"])
    assert info.value.code == 2
    assert "not allowed with argument" in capsys.readouterr().err


def test_logs_go_to_the_user_log_folder(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("REELWRIGHT_LOG_DIR", str(tmp_path / "logs"))
    root = logging.getLogger()
    before, level = list(root.handlers), root.level
    try:
        path = packaged.setup_logging()
        assert path == tmp_path / "logs" / "reelwright.log"
        logging.getLogger("reelwright.test").info("hello from the packaged app")
        for h in root.handlers:
            h.flush()
        assert "hello from the packaged app" in path.read_text(encoding="utf-8")
    finally:
        for h in root.handlers[:]:
            if h not in before:
                root.removeHandler(h)
                h.close()
        root.setLevel(level)
