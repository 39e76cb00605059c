"""The packaging policy shared by the spec and the bundle check (build/bundle_policy.py): what is
dropped, what must be inside, and that it agrees with what the code actually imports."""

from __future__ import annotations

import ast
import importlib.util
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(REPO / "build"))
import bundle_policy as policy  # noqa: E402


@pytest.mark.parametrize(("path", "dropped"), [
    ("PySide6/Qt/plugins/platformthemes/libqgtk3.so", True),
    ("libgtk-3.so.0", True),
    ("PySide6/Qt/translations/qtbase_de.qm", True),
    ("piper/espeak-ng-data/de_dict", True),
    ("piper/espeak-ng-data/en_dict", False),
    ("piper/espeak-ng-data/phondata", False),
    ("botocore/data/ec2/2016-11-15/service-2.json.gz", True),
    ("botocore/data/s3/2006-03-01/service-2.json.gz", False),
    ("botocore/data/endpoints.json", False),
    ("PySide6/Qt/plugins/platforms/libqxcb.so", False),
    ("PySide6/Qt/plugins/platforms/libqoffscreen.so", False),
    ("PySide6/Qt/plugins/multimedia/libffmpegmediaplugin.so", False),
    ("playwright/driver/package/lib/vite/traceViewer/index.html", True),
    ("playwright/driver/package/lib/coreBundle.js", False),
    ("PySide6\\Qt\\translations\\qt_fr.qm", True),  # Windows separators
])
def test_what_is_dropped(path: str, dropped: bool) -> None:
    assert policy.is_dropped(path) is dropped


def test_botocore_can_be_kept_whole_and_toc_filtering() -> None:
    assert not policy.is_dropped("botocore/data/ec2/2016-11-15/service-2.json.gz", keep_all_botocore=True)
    toc = [("libgtk-3.so.0", "/usr/lib/libgtk-3.so.0", "BINARY"), ("PySide6/QtCore.abi3.so", "/x", "EXTENSION")]
    assert policy.drop_unused(toc) == [toc[1]]


def test_every_kept_botocore_service_exists() -> None:
    import botocore

    data = Path(botocore.__file__).parent / "data"
    assert [s for s in policy.BOTOCORE_SERVICES if not (data / s).is_dir()] == []


def test_services_the_code_calls_are_kept() -> None:
    used: set[str] = set()
    for path in list((REPO / "app").rglob("*.py")) + list((REPO / "recorder").rglob("*.py")):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if (isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute) and node.func.attr == "client"
                    and node.args and isinstance(node.args[0], ast.Constant) and isinstance(node.args[0].value, str)):
                used.add(node.args[0].value)
    assert used, "no boto3 client calls found: the scan is broken"
    # (kms: only the emulator seeds a key; the app never calls KMS itself, S3 does)
    assert used - set(policy.BOTOCORE_SERVICES) <= {"iam", "ec2", "cloudformation", "logs", "kms"}, used


def test_dynamic_modules_exist() -> None:
    missing = [m for m in policy.DYNAMIC_MODULES if importlib.util.find_spec(m) is None]
    assert missing == []


def test_excluded_modules_are_not_imported_by_the_app() -> None:
    excluded = set(policy.EXCLUDED_MODULES)
    dev_only = [REPO / Path(*p.split(".")) for p in policy.DEV_ONLY_PACKAGES]
    offenders = []
    for path in (REPO / "app").rglob("*.py"):
        if any(path.is_relative_to(d) for d in dev_only):
            continue  # not in the bundle: the development tools may use moto
        tree = ast.parse(path.read_text(encoding="utf-8"))
        optional = {id(n) for t in ast.walk(tree) if isinstance(t, ast.Try)
                    and any(isinstance(h.type, ast.Name) and h.type.id in ("ImportError", "ModuleNotFoundError")
                            for h in t.handlers) for stmt in t.body for n in ast.walk(stmt)}
        for node in ast.walk(tree):
            names = []
            if id(node) in optional:
                continue  # an optional import with a fallback (e.g. the tab slide without Pillow)
            if isinstance(node, ast.Import):
                names = [a.name for a in node.names]
            elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
                names = [node.module] + [f"{node.module}.{a.name}" for a in node.names]
            for n in names:
                if any(n == e or n.startswith(e + ".") for e in excluded):
                    offenders.append(f"{path.relative_to(REPO)}: {n}")
    assert offenders == []


@pytest.mark.parametrize("plat", ["linux", "darwin", "win32"])
def test_required_files_cover_every_platform(plat: str) -> None:
    reqs = policy.required_files(plat)
    whats = [r.what for r in reqs]
    assert len(whats) == len(set(whats))
    for needed in ("Qt platform plugin", "Qt multimedia backend (preview player)", "ffmpeg binary",
                   "Playwright driver: node", "Piper voice model", "onnxruntime", "bundled example script"):
        assert needed in whats
    node = next(r for r in reqs if r.what == "Playwright driver: node")
    assert node.patterns == (("playwright/driver/node.exe",) if plat == "win32" else ("playwright/driver/node",))
