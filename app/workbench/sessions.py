"""Session assets: saved sign-ins (Playwright storage-state JSON, as ``codegen --save-storage`` writes).

A session file holds cookies and local storage — a live sign-in, so a secret.  The library keeps them
apart from its content-addressed files, in ``<data folder>/sessions/<name>.json``:

- the folder is 0700 and every file 0600, written under a temporary name and renamed;
- the UI and the logs show a session's *name* only (:meth:`SessionAsset.masked`), never its content;
- library backups leave the folder out unless the user opts in (:func:`app.workbench.storage.export_backup`);
- a script names one as ``settings.session = "sessions/<name>.json"``; a project render gets a private
  copy in the project folder for the render's duration only (:func:`materialize`).

No Qt in here.
"""

from __future__ import annotations

import contextlib
import json
import logging
import os
import re
import stat
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from app.core.errors import ReelwrightError
from app.core.infra.fs import atomic_open

log = logging.getLogger(__name__)

SESSIONS_DIR = "sessions"
#: a session's name: what the user typed, and the file's stem; no path separators, no dot first
_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._ -]{0,63}$")
#: a storage state larger than this is not a sign-in (Playwright writes a few KB)
MAX_SESSION_BYTES = 8 << 20


class SessionError(ReelwrightError):
    """A session could not be saved, found or read; the message names the session, never its content."""

    exit_code = 2


@dataclass(frozen=True)
class SessionAsset:
    name: str
    size: int
    saved: float
    path: Path

    @property
    def bundle_path(self) -> str:
        """What a script's ``settings.session`` says to use this session."""
        return f"{SESSIONS_DIR}/{self.name}.json"

    def masked(self) -> str:
        """How the UI shows it: the name and when it was saved, never what is inside."""
        return f"{self.name} — signed-in session (contents hidden), saved {self.saved_text}"

    @property
    def saved_text(self) -> str:
        return time.strftime("%Y-%m-%d %H:%M", time.localtime(self.saved))


def clean_name(name: str) -> str:
    """The session name for ``name`` (a trailing ``.json`` is dropped); raises SessionError if unusable."""
    n = name.strip()
    if n.lower().endswith(".json"):
        n = n[:-5]
    n = n.strip()
    if not _NAME.match(n) or n.endswith(".") or n.endswith(" "):
        raise SessionError(f"'{name}' is not a usable session name: use letters, digits, spaces, '.', '-' "
                           "or '_' (up to 64), starting with a letter or digit")
    return n


def name_from_bundle_path(rel: str) -> str | None:
    """The session name a script's ``settings.session`` refers to (``sessions/<name>.json``), if any."""
    parts = rel.replace("\\", "/").split("/")
    if len(parts) != 2 or parts[0] != SESSIONS_DIR:
        return None
    try:
        return clean_name(parts[1])
    except SessionError:
        return None


def check_storage_state(path: Path) -> None:
    """Raise SessionError unless ``path`` looks like a Playwright storage state (cookies/origins)."""
    try:
        size = path.stat().st_size
        if size > MAX_SESSION_BYTES:
            raise SessionError(f"{path.name} is {size} bytes: too large for a saved sign-in")
        data = json.loads(path.read_text(encoding="utf-8"))
    except OSError as exc:
        raise SessionError(f"{path.name}: cannot read it ({exc.strerror or exc})") from exc
    except ValueError as exc:
        # the message must not quote the content: json's error says only where it failed
        raise SessionError(f"{path.name} is not JSON (a Playwright storage state was expected)") from exc
    if not isinstance(data, dict) or not isinstance(data.get("cookies", []), list) \
            or not isinstance(data.get("origins", []), list) or not ({"cookies", "origins"} & set(data)):
        raise SessionError(f"{path.name} is not a Playwright storage state (no 'cookies' or 'origins')")


class SessionStore:
    """The saved sessions of one data folder."""

    def __init__(self, root: Path) -> None:
        self.dir = Path(root) / SESSIONS_DIR

    def _ensure_dir(self) -> Path:
        self.dir.mkdir(mode=0o700, parents=True, exist_ok=True)
        with contextlib.suppress(OSError):
            os.chmod(self.dir, 0o700)
        return self.dir

    def path(self, name: str) -> Path:
        return self.dir / f"{clean_name(name)}.json"

    def get(self, name: str) -> SessionAsset | None:
        p = self.path(name)
        try:
            st = p.stat()
        except OSError:
            return None
        return SessionAsset(p.stem, st.st_size, st.st_mtime, p)

    def require(self, name: str) -> SessionAsset:
        s = self.get(name)
        if s is None:
            have = ", ".join(a.name for a in self.list()) or "none yet"
            raise SessionError(f"there is no saved session '{name}' in the library (saved sessions: {have})")
        return s

    def list(self) -> list[SessionAsset]:
        if not self.dir.is_dir():
            return []
        out: list[SessionAsset] = []
        for p in sorted(self.dir.glob("*.json")):
            if p.name.startswith("."):
                continue
            try:
                st = p.stat()
                name = clean_name(p.stem)
            except (OSError, SessionError):
                continue
            out.append(SessionAsset(name, st.st_size, st.st_mtime, p))
        return out

    def save(self, name: str, src: Path) -> SessionAsset:
        """Store the storage state at ``src`` as session ``name`` (replacing one of the same name)."""
        name = clean_name(name)
        check_storage_state(src)
        dest = self._ensure_dir() / f"{name}.json"
        with atomic_open(dest, private=True, durable=True) as out, open(src, "rb") as f:
            out.write(f.read())
        os.chmod(dest, 0o600)
        log.info("saved session '%s' to the library", name)
        got = self.get(name)
        assert got is not None
        return got

    def delete(self, name: str) -> None:
        with contextlib.suppress(FileNotFoundError):
            self.path(name).unlink()

    def repair_permissions(self) -> None:
        """0700 for the folder, 0600 for each file (after a restore, a copy by hand...)."""
        if not self.dir.is_dir():
            return
        os.chmod(self.dir, 0o700)
        for p in self.dir.iterdir():
            if p.is_file() and stat.S_IMODE(p.stat().st_mode) != 0o600:
                os.chmod(p, 0o600)


@contextlib.contextmanager
def materialize(store: SessionStore, session_rel: str | None, job_root: Path) -> Iterator[Path | None]:
    """Put the session a script names where its job resolves it (``<job_root>/sessions/<name>.json``,
    0600) for the duration of a render or check, and remove it afterwards.

    Yields the copy's path, or None when the script names no library session (or the job root already
    holds the file, e.g. an opened bundle).  Raises SessionError when the named session is missing.
    """
    name = name_from_bundle_path(session_rel) if session_rel else None
    if name is None:
        yield None
        return
    target = Path(job_root) / SESSIONS_DIR / f"{name}.json"
    if target.is_file() and store.get(name) is None:
        yield None  # the project brought its own copy (an opened bundle)
        return
    src = store.require(name)
    target.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
    with atomic_open(target, private=True) as out, open(src.path, "rb") as f:
        out.write(f.read())
    try:
        yield target
    finally:
        with contextlib.suppress(OSError):
            target.unlink()
        with contextlib.suppress(OSError):
            target.parent.rmdir()
