"""The opt-in update check: is there a newer Reelwright than this one?

The app never updates itself.  When the user has turned the check on (Settings › Updates), it fetches
a small release feed at most once a day and, if the feed names a newer version, the UI shows
"Reelwright X is available" with a link to the download page.  Nothing else is sent or stored.

The feed is JSON, either our own form or a GitHub "latest release" answer::

    {"version": "0.2.0", "url": "https://…/download", "notes": "…"}
    {"tag_name": "v0.2.0", "html_url": "https://github.com/…/releases/tag/v0.2.0", "body": "…"}

When the last check happened is kept in ``updates.json`` in the data folder, so restarting the app
many times a day still asks the feed once.  No Qt here: the UI runs :func:`check_for_update` in a
worker thread.
"""

from __future__ import annotations

import json
import logging
import re
import time
import urllib.error
import urllib.request
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from app.core.errors import ReelwrightError
from app.core.infra.fs import atomic_write

log = logging.getLogger(__name__)

#: at most one request to the feed per this many seconds
CHECK_INTERVAL_S = 24 * 3600
STATE_FILE = "updates.json"
MAX_FEED_BYTES = 256 * 1024  # a release feed is a few hundred bytes; refuse anything that is not one

_VERSION = re.compile(r"^v?(\d+(?:\.\d+)*)(?:[-.]?(a|b|rc|alpha|beta|dev)\.?(\d*))?$", re.IGNORECASE)
_PRE_RANK = {"dev": 0, "a": 1, "alpha": 1, "b": 2, "beta": 2, "rc": 3}


class UpdateCheckError(ReelwrightError):
    """The feed could not be read or did not say which version is current."""


@dataclass(frozen=True)
class Release:
    version: str
    url: str
    notes: str = ""


@dataclass(frozen=True)
class UpdateResult:
    """What one check found: ``newer`` is None when this build is current (or newer than the feed)."""

    current: str
    latest: Release
    checked_at: float

    @property
    def newer(self) -> Release | None:
        return self.latest if version_key(self.latest.version) > version_key(self.current) else None

    def message(self) -> str:
        if self.newer is None:
            return f"Reelwright {self.current} is the latest version."
        return f"Reelwright {self.latest.version} is available (you have {self.current})."


def version_key(text: str) -> tuple[tuple[int, ...], int, int]:
    """A sortable key for ``1.2.3``, ``v1.2``, ``1.3.0rc1``, ``2.0-beta.2``: a final release sorts after its
    pre-releases, and ``1.2`` equals ``1.2.0``."""
    m = _VERSION.match(text.strip())
    if not m:
        raise UpdateCheckError(f"'{text}' is not a version number", hint="expected something like 1.2.3")
    nums = tuple(int(p) for p in m.group(1).split("."))
    while len(nums) > 1 and nums[-1] == 0:
        nums = nums[:-1]
    pre = m.group(2)
    if pre is None:
        return nums, 9, 0
    return nums, _PRE_RANK[pre.lower()], int(m.group(3) or 0)


def parse_feed(doc: Any, feed_url: str) -> Release:
    """The release a feed document names; errors name the feed and the missing field."""
    if not isinstance(doc, dict):
        raise UpdateCheckError(f"release feed {feed_url}: expected a JSON object, got {type(doc).__name__}")
    version = doc.get("version", doc.get("tag_name"))
    if not isinstance(version, str) or not version.strip():
        raise UpdateCheckError(f"release feed {feed_url}: no 'version' (or 'tag_name') field")
    try:
        version_key(version)  # refuse nonsense before anyone compares it
    except UpdateCheckError as exc:
        raise UpdateCheckError(f"release feed {feed_url}: {exc.message}") from None
    url = doc.get("url", doc.get("html_url", ""))
    if not isinstance(url, str) or not url.startswith(("https://", "http://")):
        raise UpdateCheckError(f"release feed {feed_url}: 'url' must be an http(s) link to the download page")
    notes = doc.get("notes", doc.get("body", ""))
    return Release(version.strip().removeprefix("v"), url, notes if isinstance(notes, str) else "")


def fetch_feed(feed_url: str, timeout_s: float = 10.0) -> Release:
    if not feed_url.startswith(("https://", "http://")):
        raise UpdateCheckError(f"release feed '{feed_url}' is not an http(s) URL", hint="see Settings › Updates")
    req = urllib.request.Request(feed_url, headers={"Accept": "application/json",
                                                    "User-Agent": "Reelwright update check"})
    try:
        with urllib.request.urlopen(req, timeout=timeout_s) as resp:  # the scheme was checked above
            body = resp.read(MAX_FEED_BYTES + 1)
    except urllib.error.HTTPError as exc:
        raise UpdateCheckError(f"release feed {feed_url}: HTTP {exc.code} {exc.reason}") from None
    except (urllib.error.URLError, OSError, TimeoutError) as exc:
        reason = getattr(exc, "reason", exc)
        raise UpdateCheckError(f"release feed {feed_url} is unreachable: {reason}") from None
    if len(body) > MAX_FEED_BYTES:
        raise UpdateCheckError(f"release feed {feed_url}: larger than {MAX_FEED_BYTES // 1024} KB, not a feed")
    try:
        doc = json.loads(body.decode("utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise UpdateCheckError(f"release feed {feed_url}: not JSON ({exc})") from None
    return parse_feed(doc, feed_url)


def _last_checked(state_path: Path) -> float:
    try:
        value = json.loads(state_path.read_text(encoding="utf-8")).get("last_checked", 0.0)
        return float(value) if isinstance(value, (int, float)) else 0.0
    except (OSError, ValueError, AttributeError):
        return 0.0  # no state (first check) or an unreadable one: checking again is harmless


def due(data_root: Path, now: float | None = None) -> bool:
    """Whether a day has passed since the last check that reached the feed."""
    now = time.time() if now is None else now
    last = _last_checked(data_root / STATE_FILE)
    return not (0 < now - last < CHECK_INTERVAL_S)


def check_for_update(feed_url: str, current: str, data_root: Path, *, force: bool = False,
                     now: float | None = None, timeout_s: float = 10.0) -> UpdateResult | None:
    """Ask the feed if a day has passed since the last check (or ``force``); None when not due.

    Only a check that got an answer is recorded, so a machine that was offline asks again next start."""
    now = time.time() if now is None else now
    if not force and not due(data_root, now):
        return None
    release = fetch_feed(feed_url, timeout_s)
    state = {"last_checked": now, "latest": release.version, "feed": feed_url}
    atomic_write(data_root / STATE_FILE, json.dumps(state, indent=2) + "\n")
    log.info("update check: feed %s names %s (this is %s)", feed_url, release.version, current)
    return UpdateResult(current, release, now)
