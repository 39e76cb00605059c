"""Suite-wide settings: headless Qt, an isolated cache, and markers for what needs real tools."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

# Qt must be told before it loads, or it aborts on a machine without a display.
os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
# Voice clips are content-addressed: share one cache across the run (and across runs locally), but
# never the user's own.
_ROOT = Path(__file__).resolve().parents[1]
os.environ.setdefault("XDG_CACHE_HOME", str(_ROOT / ".reelwright-test" / "cache"))
os.environ.setdefault("REELWRIGHT_TEST", "1")


@pytest.fixture
def data_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A throwaway data folder for the workbench (library, projects, settings)."""
    d = tmp_path / "data"
    monkeypatch.setenv("REELWRIGHT_DATA_DIR", str(d))
    return d


@pytest.fixture
def store(data_dir: Path) -> Iterator[Any]:
    from app.workbench.storage import Store

    s = Store(data_dir)
    yield s
    s.close()
