"""Architecture boundaries of the app: only ``app.ui`` imports Qt, and only when the GUI starts."""

from __future__ import annotations

import subprocess
import sys
import textwrap
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def _run(code: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-c", textwrap.dedent(code)], cwd=ROOT, capture_output=True,
                          text=True, timeout=120, check=False)


def test_core_and_cloud_import_without_pyside6() -> None:
    proc = _run("""
        import importlib, pkgutil, sys
        import app.core, app.cloud
        names = []
        for pkg in (app.core, app.cloud):
            for info in pkgutil.walk_packages(pkg.__path__, pkg.__name__ + "."):
                try:
                    importlib.import_module(info.name)
                except ImportError as exc:  # a module whose optional dependency is missing
                    print("skipped", info.name, exc, file=sys.stderr)
                names.append(info.name)
        import app.cli_gui  # registering the gui command must not load Qt either
        qt = sorted(m for m in sys.modules if m.split(".")[0] in ("PySide6", "shiboken6", "qasync"))
        print(len(names), "modules;", "Qt loaded:", qt)
        assert not qt, qt
    """)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert "Qt loaded: []" in proc.stdout


def test_inside_app_ui_only_the_qt_module_imports_pyside6() -> None:
    """Qt is imported in one place (app/ui/qt.py); the pipeline packages never mention it."""
    offenders = []
    for base in ("app/ui", "app/core", "app/cloud", "recorder"):
        for path in (ROOT / base).rglob("*.py"):
            text = path.read_text(encoding="utf-8")
            rel = path.relative_to(ROOT).as_posix()
            if ("from PySide6" in text or "import PySide6" in text) and rel != "app/ui/qt.py":
                offenders.append(rel)
    assert offenders == []
