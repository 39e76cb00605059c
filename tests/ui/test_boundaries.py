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


def test_core_cloud_and_workbench_import_without_pyside6() -> None:
    proc = _run("""
        import importlib, pkgutil, sys
        import app.core, app.cloud, app.workbench
        names = []
        for pkg in (app.core, app.cloud, app.workbench):
            for info in pkgutil.walk_packages(pkg.__path__, pkg.__name__ + "."):
                try:
                    importlib.import_module(info.name)
                except ImportError as exc:  # a module whose optional dependency is missing
                    print("skipped", info.name, exc, file=sys.stderr)
                names.append(info.name)
        import app.cli_gui, app.packaged  # registering the gui command, the bundle's entry: no Qt either
        qt = sorted(m for m in sys.modules if m.split(".")[0] in ("PySide6", "shiboken6", "qasync"))
        print(len(names), "modules;", "Qt loaded:", qt)
        assert not qt, qt
    """)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert "Qt loaded: []" in proc.stdout


def test_inside_app_ui_only_the_qt_module_imports_pyside6() -> None:
    """Qt is imported in one place (app/ui/qt.py); nothing else in app (packaged.py and the CLI
    modules included) or the recorder mentions it."""
    offenders = []
    for base in ("app", "recorder"):
        for path in (ROOT / base).rglob("*.py"):
            text = path.read_text(encoding="utf-8")
            rel = path.relative_to(ROOT).as_posix()
            if ("from PySide6" in text or "import PySide6" in text) and rel != "app/ui/qt.py":
                offenders.append(rel)
    assert offenders == []


def test_core_imports_nothing_above_it_and_app_never_imports_the_recorder() -> None:
    """``app.core`` is the bottom layer: no import of, and no module name string for, the cloud client,
    the UI, the CLI or the recorder (a name in a string is an import in disguise: importlib).  And
    ``recorder/`` is only the container's entry point: no module of ``app`` imports it."""
    import ast

    offenders = []
    for path in (ROOT / "app").rglob("*.py"):
        # the core sees nothing above it; no module of app imports the recorder (the container's door)
        above = ("app.cloud", "app.ui", "app.cli", "recorder") if "app/core/" in path.as_posix() else ("recorder",)
        rel = path.relative_to(ROOT).as_posix()
        tree = ast.parse(path.read_text(encoding="utf-8"))
        for node in ast.walk(tree):
            names: list[str] = []
            if isinstance(node, ast.Import):
                names = [a.name for a in node.names]
            elif isinstance(node, ast.ImportFrom):
                package = rel.removesuffix(".py").split("/")[:-1]  # app/core/voice/x.py -> app.core.voice
                base = package[: len(package) - node.level + 1] if node.level else []
                names = [".".join([*base, node.module] if node.module else base)]
            elif isinstance(node, ast.Call) and getattr(node.func, "attr", getattr(node.func, "id", "")) in (
                    "import_module", "__import__"):
                names = [a.value for a in node.args if isinstance(a, ast.Constant) and isinstance(a.value, str)]
            for name in names:
                if any(name == a or name.startswith(a + ".") for a in above):
                    offenders.append(f"{rel}:{getattr(node, 'lineno', 0)} {name}")
    assert offenders == []


def test_core_registries_start_without_aws_services_and_the_doors_add_them() -> None:
    proc = _run("""
        from app.core.draft.drafting import drafter_kinds
        from app.core.voice import registered_providers
        core = (drafter_kinds(), registered_providers())
        import app.cloud
        app.cloud.register_services()
        print(core, (drafter_kinds(), registered_providers()))
        assert "bedrock" not in core[0] and "polly" not in core[1], core
        assert "bedrock" in drafter_kinds() and "polly" in registered_providers()
        import sys
        assert not [m for m in sys.modules if m.startswith(("boto3", "botocore"))], "registering loaded AWS code"
    """)
    assert proc.returncode == 0, proc.stdout + proc.stderr
