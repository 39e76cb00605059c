"""build/archive.py: the release artefact keeps the layout and permissions, and its checksum verifies."""

from __future__ import annotations

import hashlib
import os
import subprocess
import sys
import tarfile
from pathlib import Path

import pytest

from app import __version__

REPO = Path(__file__).resolve().parents[2]


@pytest.mark.skipif(sys.platform != "linux", reason="the Linux artefact is a tar.gz")
def test_archive_keeps_layout_permissions_and_checksum(tmp_path: Path) -> None:
    bundle = tmp_path / "Reelwright"
    (bundle / "_internal").mkdir(parents=True)
    exe = bundle / "Reelwright"
    exe.write_bytes(b"\x7fELF stand-in")
    exe.chmod(0o755)
    (bundle / "_internal" / "data.txt").write_text("hello")
    (bundle / "_internal" / "link").symlink_to("data.txt")
    out = subprocess.run([sys.executable, str(REPO / "build" / "archive.py"), str(bundle), "--out-dir",
                          str(tmp_path / "out")], capture_output=True, text=True, timeout=60, check=False)
    assert out.returncode == 0, out.stderr
    archive = next((tmp_path / "out").glob("*.tar.gz"))
    assert archive.name.startswith(f"Reelwright-{__version__}-linux-")
    assert sorted(p.name for p in (tmp_path / "out").iterdir()) == [archive.name, archive.name + ".sha256"]
    digest, name = (tmp_path / "out" / (archive.name + ".sha256")).read_text().split()
    assert name == archive.name and digest == hashlib.sha256(archive.read_bytes()).hexdigest()
    with tarfile.open(archive) as tar:
        members = {m.name: m for m in tar.getmembers()}
    top = f"Reelwright-{__version__}"
    assert members[f"{top}/Reelwright"].mode & 0o111
    assert members[f"{top}/_internal/link"].issym()
    assert not any(n.endswith(".part") for n in os.listdir(tmp_path / "out"))


def test_a_missing_bundle_is_a_clear_error(tmp_path: Path) -> None:
    out = subprocess.run([sys.executable, str(REPO / "build" / "archive.py"), str(tmp_path / "nope")],
                         capture_output=True, text=True, timeout=60, check=False)
    assert out.returncode == 2 and "is not a built bundle" in out.stderr
