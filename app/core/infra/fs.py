"""Files written whole or not at all, and content hashes: the one implementation every package uses.

A reader (another process, the next run, a user's file manager) never sees a half-written file: data
goes to a uniquely named temp file beside the target and is renamed over it only when complete; on any
failure (including cancel) the temp file is removed.  Temp files follow the umask like any new file,
except ``private=True`` ones (tokens, sessions), which are 0600 from the moment they exist.
"""

from __future__ import annotations

import contextlib
import hashlib
import os
import secrets
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import IO

CHUNK = 1 << 20

BytesCallback = Callable[[int], None]
StopCheck = Callable[[], bool]


def temp_sibling(path: Path, *, private: bool = False) -> tuple[int, Path]:
    """Create an empty, uniquely named temp file next to ``path``; returns (fd, path).

    Unlike ``tempfile.mkstemp`` (always 0600) the mode follows the umask unless ``private``, so the
    file keeps ordinary permissions once it is renamed into place.
    """
    path.parent.mkdir(parents=True, exist_ok=True)
    mode = 0o600 if private else 0o666
    while True:
        tmp = path.with_name(f".{path.name}.{os.getpid()}.{secrets.token_hex(4)}.part")
        try:
            return os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, mode), tmp
        except FileExistsError:
            continue


@contextlib.contextmanager
def atomic_path(path: Path, *, private: bool = False) -> Iterator[Path]:
    """A temp path beside ``path`` for a writer that takes a file name (ffmpeg, zipfile, a copy): it
    becomes ``path`` when the block ends normally, and is removed when the block raises."""
    fd, tmp = temp_sibling(path, private=private)
    os.close(fd)
    try:
        yield tmp
        os.replace(tmp, path)
    finally:
        tmp.unlink(missing_ok=True)


@contextlib.contextmanager
def atomic_open(path: Path, *, private: bool = False, durable: bool = False) -> Iterator[IO[bytes]]:
    """Open a temp file beside ``path`` for binary writing; it becomes ``path`` when the block ends
    normally.  ``durable`` also flushes it to the disk before the rename (settings, records)."""
    fd, tmp = temp_sibling(path, private=private)
    try:
        with os.fdopen(fd, "wb") as f:
            yield f
            if durable:
                f.flush()
                os.fsync(f.fileno())
        os.replace(tmp, path)
    finally:
        tmp.unlink(missing_ok=True)


def atomic_write(path: Path, data: str | bytes, *, private: bool = False, durable: bool = False) -> Path:
    """Write ``data`` (text as UTF-8, line ends as given) to ``path`` whole or not at all."""
    with atomic_open(path, private=private, durable=durable) as f:
        f.write(data.encode("utf-8") if isinstance(data, str) else data)
    return path


def _never() -> bool:
    return False


def hashing_copy(src: IO[bytes], dest: IO[bytes], *, on_bytes: BytesCallback | None = None,
                 should_stop: StopCheck = _never, stopped: Callable[[], BaseException] | None = None,
                 chunk: int = CHUNK) -> tuple[str, int]:
    """Copy ``src`` to ``dest`` in chunks, hashing as it goes; returns (sha256 hex, bytes).

    ``should_stop`` is checked before every chunk; when it says stop, ``stopped()`` is raised (a
    ``Cancelled`` from the caller's package, typically).
    """
    h = hashlib.sha256()
    size = 0
    for block in iter(lambda: src.read(chunk), b""):
        if should_stop():
            raise stopped() if stopped is not None else InterruptedError("copy stopped")
        dest.write(block)
        h.update(block)
        size += len(block)
        if on_bytes is not None:
            on_bytes(len(block))
    return h.hexdigest(), size


def sha256_file(path: Path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(CHUNK), b""):
            h.update(chunk)
    return h.hexdigest()
