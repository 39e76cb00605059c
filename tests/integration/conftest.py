"""Fixtures shared by the integration tests: the packaged app, built once per session."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="session")
def packaged_bundle(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    """dist/Reelwright built with the real spec (or ``$REELWRIGHT_PACKAGED_BUNDLE``, an existing build)."""
    existing = os.environ.get("REELWRIGHT_PACKAGED_BUNDLE")
    if existing:
        path = Path(existing).resolve()
        assert (path / "Reelwright").is_file(), f"REELWRIGHT_PACKAGED_BUNDLE={existing} is not a build"
        yield path
        return
    dist = tmp_path_factory.mktemp("dist")
    t0 = time.monotonic()
    out = subprocess.run(
        [sys.executable, "-m", "PyInstaller", "--noconfirm", "--log-level", "WARN", "--distpath", str(dist),
         "--workpath", str(REPO / "build" / "work"), str(REPO / "build" / "reelwright.spec")],
        cwd=REPO, capture_output=True, text=True, timeout=1200, check=False)
    assert out.returncode == 0, out.stderr[-4000:]
    print(f"\nbuild: {time.monotonic() - t0:.0f} s")
    yield dist / "Reelwright"
    shutil.rmtree(dist, ignore_errors=True)  # ~550 MB; pytest would keep three sessions' worth
