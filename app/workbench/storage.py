"""The app's own storage: the file library, projects and app settings.  No Qt in here.

Layout under :func:`data_dir` (``platformdirs.user_data_dir("reelwright")``, or ``$REELWRIGHT_DATA_DIR``)::

    library.sqlite3           metadata (SQLite, WAL, busy timeout): files, projects, meta
    files/<ab>/<sha256>       file contents, content-addressed, written under a temp name + rename
    projects/<id>/            a project's working folder: its site assets and renders/
    settings.json             app settings (atomic write)

Two app instances may run at once: SQLite WAL plus a busy timeout serialises their writes, and blobs
are immutable files named by their hash, so neither can corrupt the other.  A corrupt project record
or a library entry whose file vanished is reported and skipped, never fatal.
"""

from __future__ import annotations

import contextlib
import json
import logging
import os
import shutil
import sqlite3
import tempfile
import threading
import time
import zipfile
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

import platformdirs
from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from app.core.infra.fs import atomic_path, atomic_write, hashing_copy, temp_sibling

log = logging.getLogger(__name__)

DATA_ENV = "REELWRIGHT_DATA_DIR"
DB_NAME = "library.sqlite3"
SCHEMA_VERSION = 1
BUSY_TIMEOUT_MS = 10_000

#: kinds the library accepts (what ``app.core.draft.drafting.detect_kind`` answers, minus "unknown")
SUPPORTED_KINDS = ("pdf", "playwright-python", "playwright-js", "playwright-ts", "markdown", "text",
                   "image", "audio")


class StorageError(Exception):
    """A library, project or backup operation failed; the message names the file or record."""


def data_dir() -> Path:
    env = os.environ.get(DATA_ENV)
    return Path(env) if env else Path(platformdirs.user_data_dir("reelwright"))


def detect_kind(path: Path) -> str:
    """The file's kind, as the core's importers see it."""
    from app.core.draft.drafting import detect_kind as core_detect

    return str(core_detect(path))


# --------------------------------------------------------------------------- records


@dataclass
class LibraryFile:
    id: int
    sha256: str
    name: str
    kind: str
    size: int
    added: float
    tags: list[str] = field(default_factory=list)

    @property
    def search_key(self) -> str:
        return f"{self.name}\n{self.kind}\n{' '.join(self.tags)}".casefold()


@dataclass
class ImportReport:
    imported: list[LibraryFile] = field(default_factory=list)
    already: list[LibraryFile] = field(default_factory=list)  # same content was in the library
    skipped: list[tuple[str, str]] = field(default_factory=list)  # (path, reason)

    def summary(self) -> str:
        parts = [f"{len(self.imported)} imported"]
        if self.already:
            parts.append(f"{len(self.already)} already in the library")
        if self.skipped:
            parts.append(f"{len(self.skipped)} skipped")
        return ", ".join(parts)


RenderStatus = Literal["Draft", "Rendering", "Complete", "Failed", "Cancelled"]


class RenderRecord(BaseModel):
    model_config = ConfigDict(extra="ignore")
    started: float
    status: RenderStatus = "Draft"
    target: Literal["local", "cloud"] = "local"
    output: str | None = None  # path of the MP4
    error: str | None = None
    card_index: int | None = None  # the failing card, when known
    duration_s: float | None = None
    elapsed_s: float | None = None
    #: (start s, end s, title) of each chapter, as the render reported them
    chapters: list[tuple[float, float, str]] = Field(default_factory=list)
    #: the output format it was rendered in, e.g. "1080×1920 30 fps" (None in older records)
    format: str | None = None
    #: the cloud job behind a cloud render (its outputs can be fetched later from the Cloud jobs view)
    job_id: str | None = None
    #: :func:`app.workbench.formats.script_digest` of the script it rendered (None: a translation, or an
    #: older record)
    script_digest: str | None = None


#: the output settings older projects kept beside the script (now they live in ``script.settings``)
LEGACY_RENDER_KEYS = ("width", "height", "fps", "captions", "burn_captions")


class ProjectRenderSettings(BaseModel):
    """What a project keeps about rendering that is not part of the video: where it renders.

    The format (size, fps, captions, purpose, target length, poster, preview) is the script's
    (``script.settings``), so an exported script or job renders the same everywhere.  Projects saved
    before that kept size, fps and captions here; they are read (never written back) and moved into the
    script by :meth:`ProjectData._migrate_render_settings`.
    """

    model_config = ConfigDict(extra="ignore")
    target: Literal["local", "cloud"] = "local"
    # legacy fields: read from old projects for the migration, excluded when saving
    width: int | None = Field(None, exclude=True)
    height: int | None = Field(None, exclude=True)
    fps: int | None = Field(None, exclude=True)
    captions: bool | None = Field(None, exclude=True)
    burn_captions: bool | None = Field(None, exclude=True)

    def legacy(self) -> dict[str, Any]:
        """The output settings an old project stored here (empty for a current one)."""
        return {k: getattr(self, k) for k in LEGACY_RENDER_KEYS if getattr(self, k) is not None}


class ProjectData(BaseModel):
    """Everything a project holds besides its name and id (stored as JSON in the projects table)."""

    model_config = ConfigDict(extra="ignore")
    files: list[int] = Field(default_factory=list)  # ordered library file ids: the drafter's reading order
    prompt: str = ""
    drafter: str = "offline"
    #: raw script JSON: may be mid-edit and invalid; a script without cards holds only settings
    #: (chosen before the first draft, which starts from them)
    script: dict[str, Any] | None = None
    render: ProjectRenderSettings = Field(default_factory=ProjectRenderSettings)
    history: list[RenderRecord] = Field(default_factory=list)
    selected_card: int = 0

    @model_validator(mode="after")
    def _migrate_render_settings(self) -> ProjectData:
        """Move size/fps/captions that an older app saved in ``render`` into the script's settings.

        The old app applied them as overrides on top of the script, so they win over what the script
        says: the migrated project renders exactly as it did.  A project without a script gets one
        holding only those settings (no cards), which its first draft starts from."""
        legacy = self.render.legacy()
        if not legacy:
            return self
        script = dict(self.script) if isinstance(self.script, dict) else {"cards": []}
        settings = script.get("settings")
        settings = dict(settings) if isinstance(settings, dict) else {}
        settings.update(legacy)
        script["settings"] = settings
        self.script = script
        self.render = ProjectRenderSettings(target=self.render.target)
        return self


def has_cards(script: dict[str, Any] | None) -> bool:
    """Whether a project's raw script has cards (one without holds only settings: not drafted yet)."""
    return bool(isinstance(script, dict) and script.get("cards"))


@dataclass
class Project:
    id: int
    name: str
    data: ProjectData
    updated: float


#: where the opt-in update check asks for the latest release (GitHub's "latest release" answer)
DEFAULT_UPDATE_FEED_URL = "https://api.github.com/repos/reelwright/reelwright/releases/latest"


class AppSettings(BaseModel):
    model_config = ConfigDict(extra="ignore")
    voice_provider: str = "piper"
    voice: str | None = None
    voice_rate: float = 1.0
    width: int = 1280
    height: int = 720
    fps: int = 30
    drafter: str = "offline"
    bedrock_region: str = "us-east-1"
    bedrock_model: str = "anthropic.claude-3-5-sonnet-20240620-v1:0"
    openai_base_url: str = "http://127.0.0.1:11434/v1"
    openai_model: str = "llama3.1"
    #: replay a flow silently before drafting, so the narration names what the viewer sees
    draft_observe: bool = True
    window_geometry: str = ""  # base64 of QMainWindow.saveGeometry()
    window_state: str = ""
    last_project: int | None = None
    # the update check is opt-in (no request leaves the machine until the user turns it on); the feed
    # is a small JSON document, see app/workbench/updates.py
    update_check: bool = False
    update_feed_url: str = DEFAULT_UPDATE_FEED_URL


def load_settings(root: Path) -> AppSettings:
    p = root / "settings.json"
    try:
        return AppSettings.model_validate_json(p.read_text(encoding="utf-8"))
    except FileNotFoundError:
        return AppSettings()
    except (OSError, ValueError, ValidationError) as exc:
        log.warning("settings file %s is unreadable (%s); using defaults", p, exc)
        return AppSettings()


def save_settings(root: Path, settings: AppSettings) -> None:
    atomic_write(root / "settings.json", settings.model_dump_json(indent=2), durable=True)


# --------------------------------------------------------------------------- the store

_SCHEMA = """
CREATE TABLE IF NOT EXISTS files (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    sha256 TEXT NOT NULL,
    name TEXT NOT NULL,
    kind TEXT NOT NULL,
    size INTEGER NOT NULL,
    added REAL NOT NULL,
    tags TEXT NOT NULL DEFAULT '',
    deleted INTEGER NOT NULL DEFAULT 0
);
CREATE INDEX IF NOT EXISTS files_sha ON files(sha256);
CREATE TABLE IF NOT EXISTS projects (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    name TEXT NOT NULL,
    data TEXT NOT NULL,
    updated REAL NOT NULL
);
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
"""


class Store:
    """The library and the projects.  Thread-safe: ops may run its methods in a worker thread."""

    def __init__(self, root: Path | None = None) -> None:
        self.root = Path(root) if root is not None else data_dir()
        self.root.mkdir(parents=True, exist_ok=True)
        (self.root / "files").mkdir(exist_ok=True)
        (self.root / "projects").mkdir(exist_ok=True)
        self._lock = threading.RLock()
        self.problems: list[str] = []  # what was reported and skipped while loading
        try:
            self._db = sqlite3.connect(self.root / DB_NAME, timeout=BUSY_TIMEOUT_MS / 1000,
                                       check_same_thread=False, isolation_level=None)
            self._db.execute(f"PRAGMA busy_timeout={BUSY_TIMEOUT_MS}")
            self._db.execute("PRAGMA journal_mode=WAL")
            self._db.execute("PRAGMA synchronous=NORMAL")
            with self._tx():
                for stmt in _SCHEMA.split(";"):
                    if stmt.strip():
                        self._db.execute(stmt)
                self._db.execute("INSERT OR IGNORE INTO meta(key, value) VALUES ('schema', ?)",
                                 (str(SCHEMA_VERSION),))
        except sqlite3.DatabaseError as exc:
            raise StorageError(f"the library database {self.root / DB_NAME} cannot be opened: {exc}") from exc

    # -- plumbing

    @contextlib.contextmanager
    def _tx(self) -> Iterator[sqlite3.Connection]:
        with self._lock:
            self._db.execute("BEGIN IMMEDIATE")
            try:
                yield self._db
            except BaseException:
                self._db.execute("ROLLBACK")
                raise
            self._db.execute("COMMIT")

    def close(self) -> None:
        with self._lock:
            self._db.close()

    def blob_path(self, sha256: str) -> Path:
        return self.root / "files" / sha256[:2] / sha256

    def project_dir(self, project_id: int) -> Path:
        d = self.root / "projects" / str(project_id)
        d.mkdir(parents=True, exist_ok=True)
        return d

    def meta_get(self, key: str) -> str | None:
        with self._lock:
            row = self._db.execute("SELECT value FROM meta WHERE key=?", (key,)).fetchone()
        return str(row[0]) if row else None

    def meta_set(self, key: str, value: str) -> None:
        with self._tx() as db:
            db.execute("INSERT OR REPLACE INTO meta(key, value) VALUES (?, ?)", (key, value))

    # -- files

    def list_files(self) -> list[LibraryFile]:
        """Every live library entry; entries whose content vanished are reported and skipped."""
        with self._lock:
            rows = self._db.execute(
                "SELECT id, sha256, name, kind, size, added, tags FROM files WHERE deleted=0 ORDER BY id"
            ).fetchall()
        out: list[LibraryFile] = []
        for r in rows:
            try:
                f = LibraryFile(int(r[0]), str(r[1]), str(r[2]), str(r[3]), int(r[4]), float(r[5]),
                                [t for t in str(r[6]).split(",") if t])
            except (TypeError, ValueError) as exc:
                self.problems.append(f"library entry {r[0]} is corrupt ({exc}); skipped")
                continue
            out.append(f)
        return out

    def check_blobs(self, files: Iterable[LibraryFile]) -> list[LibraryFile]:
        """The entries whose stored content is missing (reported by the UI, not deleted)."""
        return [f for f in files if not self.blob_path(f.sha256).is_file()]

    def get_file(self, file_id: int) -> LibraryFile | None:
        with self._lock:
            r = self._db.execute("SELECT id, sha256, name, kind, size, added, tags FROM files "
                                 "WHERE id=? AND deleted=0", (file_id,)).fetchone()
        if not r:
            return None
        return LibraryFile(int(r[0]), str(r[1]), str(r[2]), str(r[3]), int(r[4]), float(r[5]),
                           [t for t in str(r[6]).split(",") if t])

    def _store_blob(self, src: Path) -> tuple[str, int]:
        # the content address is known only once the copy is hashed: copy to a temp file, then rename
        fd, tmp = temp_sibling(self.root / "files" / "import")
        try:
            with os.fdopen(fd, "wb") as out, open(src, "rb") as f:
                sha, size = hashing_copy(f, out)
            dest = self.blob_path(sha)
            dest.parent.mkdir(exist_ok=True)
            if dest.is_file():
                os.unlink(tmp)
            else:
                os.replace(tmp, dest)
            return sha, size
        except BaseException:
            with contextlib.suppress(OSError):
                os.unlink(tmp)
            raise

    def import_paths(self, paths: Iterable[Path], *, detect: Callable[[Path], str] = detect_kind,
                     cancelled: Callable[[], bool] = lambda: False,
                     progress: Callable[[int, int, str], None] | None = None) -> ImportReport:
        """Import files (folders are walked); unreadable or unsupported ones are skipped with a reason."""
        expanded: list[Path] = []
        for p in paths:
            p = Path(p)
            if p.is_dir():
                expanded += sorted(q for q in p.rglob("*")
                                   if q.is_file() and not any(part.startswith(".") for part in
                                                              q.relative_to(p).parts))
            else:
                expanded.append(p)
        report = ImportReport()
        pending: list[tuple[str, str, str, int]] = []
        for i, p in enumerate(expanded):
            if cancelled():
                break
            if progress:
                progress(i, len(expanded), p.name)
            try:
                kind = detect(p)
            except (OSError, ValueError) as exc:
                report.skipped.append((str(p), f"cannot read it: {exc}"))
                continue
            if kind not in SUPPORTED_KINDS:
                report.skipped.append((str(p), "unsupported file type"))
                continue
            try:
                sha, size = self._store_blob(p)
            except OSError as exc:
                report.skipped.append((str(p), f"cannot read it: {exc.strerror or exc}"))
                continue
            pending.append((sha, p.name, kind, size))
        now = time.time()
        with self._tx() as db:
            for sha, name, kind, size in pending:
                row = db.execute("SELECT id FROM files WHERE sha256=? AND deleted=0", (sha,)).fetchone()
                if row:
                    existing = self._row(db, int(row[0]))
                    if existing:
                        report.already.append(existing)
                    continue
                cur = db.execute("INSERT INTO files(sha256, name, kind, size, added) VALUES (?,?,?,?,?)",
                                 (sha, name, kind, size, now))
                report.imported.append(LibraryFile(int(cur.lastrowid or 0), sha, name, kind, size, now))
        return report

    @staticmethod
    def _row(db: sqlite3.Connection, file_id: int) -> LibraryFile | None:
        r = db.execute("SELECT id, sha256, name, kind, size, added, tags FROM files WHERE id=?",
                       (file_id,)).fetchone()
        if not r:
            return None
        return LibraryFile(int(r[0]), str(r[1]), str(r[2]), str(r[3]), int(r[4]), float(r[5]),
                           [t for t in str(r[6]).split(",") if t])

    def add_records(self, records: Iterable[tuple[str, str, str, int]]) -> None:
        """Insert (sha256, name, kind, size) rows in one transaction (restores, tests and benchmarks)."""
        now = time.time()
        with self._tx() as db:
            db.executemany("INSERT INTO files(sha256, name, kind, size, added) VALUES (?,?,?,?,?)",
                           [(s, n, k, z, now) for s, n, k, z in records])

    def rename_file(self, file_id: int, name: str) -> None:
        name = name.strip()
        if not name or "/" in name or "\\" in name:
            raise StorageError(f"'{name}' is not a valid file name")
        with self._tx() as db:
            db.execute("UPDATE files SET name=? WHERE id=?", (name, file_id))

    def set_tags(self, file_id: int, tags: Iterable[str]) -> None:
        clean = sorted({t.strip().replace(",", " ") for t in tags if t.strip()})
        with self._tx() as db:
            db.execute("UPDATE files SET tags=? WHERE id=?", (",".join(clean), file_id))

    def delete_files(self, ids: Iterable[int]) -> None:
        """Soft delete (undoable with :meth:`restore_files`); purged at the next start."""
        with self._tx() as db:
            db.executemany("UPDATE files SET deleted=1 WHERE id=?", [(i,) for i in ids])

    def restore_files(self, ids: Iterable[int]) -> None:
        with self._tx() as db:
            db.executemany("UPDATE files SET deleted=0 WHERE id=?", [(i,) for i in ids])

    def purge_deleted(self) -> int:
        """Drop soft-deleted entries and blobs nothing refers to; returns the number of blobs removed."""
        with self._tx() as db:
            db.execute("DELETE FROM files WHERE deleted=1")
            live = {str(r[0]) for r in db.execute("SELECT sha256 FROM files")}
        removed = 0
        for sub in (self.root / "files").iterdir():
            if not sub.is_dir():
                continue
            for blob in sub.iterdir():
                if blob.name not in live and not blob.name.startswith("."):
                    with contextlib.suppress(OSError):
                        blob.unlink()
                        removed += 1
        return removed

    # -- projects

    def list_projects(self) -> list[Project]:
        """Every readable project; corrupt records are reported in :attr:`problems` and skipped."""
        with self._lock:
            rows = self._db.execute("SELECT id, name, data, updated FROM projects ORDER BY id").fetchall()
        out: list[Project] = []
        for r in rows:
            try:
                data = ProjectData.model_validate_json(r[2])
            except (ValidationError, ValueError, TypeError) as exc:
                first = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
                self.problems.append(f"project {r[0]} '{r[1]}' is corrupt and was skipped: {first}")
                continue
            out.append(Project(int(r[0]), str(r[1]), data, float(r[3])))
        return out

    def create_project(self, name: str, data: ProjectData | None = None) -> Project:
        data = data or ProjectData()
        now = time.time()
        with self._tx() as db:
            cur = db.execute("INSERT INTO projects(name, data, updated) VALUES (?,?,?)",
                             (name, data.model_dump_json(), now))
        return Project(int(cur.lastrowid or 0), name, data, now)

    def save_project(self, project: Project) -> None:
        project.updated = time.time()
        with self._tx() as db:
            db.execute("UPDATE projects SET name=?, data=?, updated=? WHERE id=?",
                       (project.name, project.data.model_dump_json(), project.updated, project.id))

    def rename_project(self, project: Project, name: str) -> None:
        if not name.strip():
            raise StorageError("a project needs a name")
        project.name = name.strip()
        self.save_project(project)

    def duplicate_project(self, project: Project, name: str | None = None) -> Project:
        copy = self.create_project(name or f"{project.name} (copy)",
                                   project.data.model_copy(deep=True, update={"history": []}))
        src = self.project_dir(project.id)
        dst = self.project_dir(copy.id)
        for item in src.iterdir():
            if item.name == "renders":
                continue
            if item.is_dir():
                shutil.copytree(item, dst / item.name, dirs_exist_ok=True)
            else:
                shutil.copy2(item, dst / item.name)
        return copy

    def delete_project(self, project_id: int) -> None:
        with self._tx() as db:
            db.execute("DELETE FROM projects WHERE id=?", (project_id,))
        shutil.rmtree(self.root / "projects" / str(project_id), ignore_errors=True)


# --------------------------------------------------------------------------- backup


BACKUP_FORMAT = "reelwright-backup"


def export_backup(store: Store, archive: Path, *, include_sessions: bool = False) -> Path:
    """Write the library, all projects and settings to one zip (temp name + rename).

    Saved sessions (sign-ins: secrets, see :mod:`app.workbench.sessions`) are left out unless
    ``include_sessions``; so is any session copy a render left in a project folder.
    """
    archive = Path(archive)
    with tempfile.TemporaryDirectory(prefix="reelwright-backup-") as td, atomic_path(archive) as tmp:
        snap = Path(td) / DB_NAME
        with store._lock:
            dest = sqlite3.connect(snap)
            store._db.backup(dest)  # a consistent snapshot even while the app writes
            dest.close()
        with zipfile.ZipFile(tmp, "w", compression=zipfile.ZIP_DEFLATED) as zf:
            zf.writestr("backup.json", json.dumps({"format": BACKUP_FORMAT, "version": 1,
                                                   "created": time.time()}))
            zf.write(snap, DB_NAME)
            for base in ("files", "projects"):
                for p in sorted((store.root / base).rglob("*")):
                    rel = p.relative_to(store.root)
                    if base == "projects" and len(rel.parts) > 3 and rel.parts[2] == "sessions":
                        continue  # a render's private session copy: never in a backup
                    if p.is_file() and not p.name.startswith("."):
                        zf.write(p, rel.as_posix())
            if include_sessions:
                from .sessions import SessionStore

                for s in SessionStore(store.root).list():
                    zf.write(s.path, f"sessions/{s.path.name}")
            if (store.root / "settings.json").is_file():
                zf.write(store.root / "settings.json", "settings.json")
    return archive


def restore_backup(archive: Path, root: Path) -> Path:
    """Replace the data folder ``root`` with a backup's content.

    The current folder is kept next to it as ``<root>.before-restore-<time>``; returns that path.
    The store using ``root`` must be closed first.
    """
    archive = Path(archive)
    try:
        zf = zipfile.ZipFile(archive)
    except (OSError, zipfile.BadZipFile) as exc:
        raise StorageError(f"{archive}: not a Reelwright backup ({exc})") from exc
    with zf:
        try:
            head = json.loads(zf.read("backup.json"))
        except (KeyError, ValueError) as exc:
            raise StorageError(f"{archive}: not a Reelwright backup (no backup.json)") from exc
        if head.get("format") != BACKUP_FORMAT:
            raise StorageError(f"{archive}: not a Reelwright backup")
        root = Path(root)
        root.parent.mkdir(parents=True, exist_ok=True)
        staging = Path(tempfile.mkdtemp(prefix=".restore-", dir=root.parent))
        try:
            for info in zf.infolist():
                name = info.filename
                parts = Path(name).parts
                if name.startswith("/") or ".." in parts or not (
                        name in (DB_NAME, "settings.json", "backup.json")
                        or parts[0] in ("files", "projects", "sessions")):
                    raise StorageError(f"{archive}: unexpected entry '{name}'")
                if not info.is_dir():
                    zf.extract(info, staging)
            (staging / "backup.json").unlink(missing_ok=True)
            with sqlite3.connect(staging / DB_NAME) as db:
                db.execute("PRAGMA integrity_check").fetchone()
        except BaseException:
            shutil.rmtree(staging, ignore_errors=True)
            raise
    from .sessions import SessionStore

    SessionStore(staging).repair_permissions()  # zip members come out with the umask's mode
    kept = root.with_name(f"{root.name}.before-restore-{int(time.time())}")
    if root.exists():
        os.replace(root, kept)
    os.replace(staging, root)
    return kept
