"""Suite-wide settings: headless Qt, an isolated cache, and markers for what needs real tools."""

from __future__ import annotations

import os
from pathlib import Path

# Qt must be told before it loads, or it aborts on a machine without a display.
os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
# Voice clips are content-addressed: share one cache across the run (and across runs locally), but
# never the user's own.
_ROOT = Path(__file__).resolve().parents[1]
os.environ.setdefault("XDG_CACHE_HOME", str(_ROOT / ".reelwright-test" / "cache"))
os.environ.setdefault("REELWRIGHT_TEST", "1")
