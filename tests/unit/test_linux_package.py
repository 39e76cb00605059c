"""What the .deb declares (control fields from bundle_policy) and that the desktop entry, the MIME types and
the app agree with each other.  The package itself is built and installed by the slow install test."""

from __future__ import annotations

import configparser
import sys
import xml.etree.ElementTree as ET
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(REPO / "build"))
import linux_package  # noqa: E402
from bundle_policy import COMPRESSED_BUDGET_BYTES, LINUX_DEPENDS, SIZE_BUDGET_BYTES  # noqa: E402

from app import __version__  # noqa: E402
from app.workbench.job_import import BUNDLE_SUFFIX, project_name_for  # noqa: E402

MIME_NS = "{http://www.freedesktop.org/standards/shared-mime-info}"


def test_budgets_are_the_issue_16_numbers() -> None:
    assert SIZE_BUDGET_BYTES == 560_000_000
    assert COMPRESSED_BUDGET_BYTES == 200_000_000


def test_control_declares_dependencies_and_recommends_the_headless_shell() -> None:
    fields = dict(line.split(": ", 1) for line in linux_package.control_text(531065).splitlines()
                  if line and not line.startswith(" "))
    assert fields["Package"] == "reelwright" and fields["Version"] == __version__
    assert fields["Installed-Size"] == "531065"
    depends = [d.strip() for d in fields["Depends"].split(",")]
    assert depends == LINUX_DEPENDS
    # Qt's xcb platform plugin fails to load without these (the ENVIRONMENT.md list), and text needs a font
    for lib in ("libxcb-cursor0", "libxcb-icccm4", "libxcb-keysyms1", "libxkbcommon-x11-0", "libegl1"):
        assert lib in depends
    assert any(d.startswith("fonts-") for d in depends)
    assert fields["Recommends"].split(", ")[0] == "chromium-headless-shell"


def test_desktop_entry_opens_the_mime_types_the_package_registers() -> None:
    entry = configparser.ConfigParser(interpolation=None)
    entry.optionxform = str  # type: ignore[assignment,method-assign]
    entry.read(REPO / "build" / "linux" / "reelwright.desktop", encoding="utf-8")
    desktop = entry["Desktop Entry"]
    assert desktop["Exec"] == "/opt/reelwright/Reelwright %f"  # the app, with one file to open
    assert desktop["Icon"] == "reelwright"
    declared = {t for t in desktop["MimeType"].split(";") if t}
    root = ET.parse(REPO / "build" / "linux" / "reelwright-mime.xml").getroot()
    registered = {m.get("type"): [g.get("pattern") for g in m.iter(f"{MIME_NS}glob")]
                  for m in root.iter(f"{MIME_NS}mime-type")}
    assert declared == set(registered) == set(linux_package.MIME_TYPES)
    assert registered["application/x-reelwright-job"] == [f"*{BUNDLE_SUFFIX}"]
    assert project_name_for(Path(f"/home/u/tour{BUNDLE_SUFFIX}")) == "tour"


def test_refuses_a_folder_that_is_not_a_build_and_unknown_formats(tmp_path: Path) -> None:
    assert linux_package.main([str(tmp_path), "--out-dir", str(tmp_path / "out")]) == 2
    fake_build = tmp_path / "Reelwright"
    fake_build.mkdir()
    (fake_build / "Reelwright").write_bytes(b"")
    assert linux_package.main([str(fake_build), "--formats", "rpm", "--out-dir", str(tmp_path / "out")]) == 2
    assert not (tmp_path / "out").exists() or not any((tmp_path / "out").iterdir())
