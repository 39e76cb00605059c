"""Suite-wide settings: headless Qt, an isolated cache, and markers for what needs real tools."""

from __future__ import annotations

import os
import signal
import threading
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


def _terminated(signum: int, frame: object) -> None:
    raise KeyboardInterrupt(f"stopped by signal {signum}")


# A TERM (the suite's process fence, `scripts/run-tests.sh` stopped, a CI job cancelled) ends pytest
# the way Ctrl-C does: the render in flight cancels and the fixtures tear down.  Python's default
# ends the process on the spot, and the Playwright driver, Chromium (its own process group) and
# ffmpeg of a render test in flight then ran on as orphans.
if threading.current_thread() is threading.main_thread():
    signal.signal(signal.SIGTERM, _terminated)


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
