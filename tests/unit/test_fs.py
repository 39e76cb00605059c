"""The one atomic-write and hashing implementation (app/core/infra/fs.py) every package uses."""

from __future__ import annotations

import hashlib
import io
import os
import stat
from pathlib import Path

import pytest

from app.core.errors import Cancelled
from app.core.infra.fs import atomic_open, atomic_path, atomic_write, hashing_copy, sha256_file


def _mode(p: Path) -> int:
    return stat.S_IMODE(p.stat().st_mode)


def test_atomic_write_replaces_whole_and_follows_the_umask(tmp_path: Path) -> None:
    target = tmp_path / "sub" / "out.json"
    atomic_write(target, "first")
    atomic_write(target, "sécond\n")
    assert target.read_bytes() == "sécond\n".encode()
    old = os.umask(0o022)
    try:
        atomic_write(target, b"bytes")
    finally:
        os.umask(old)
    assert _mode(target) == 0o644  # an ordinary file, not mkstemp's 0600 (exported scripts were)
    assert [p.name for p in target.parent.iterdir()] == ["out.json"]  # no temp left


def test_private_files_are_0600_from_the_start(tmp_path: Path) -> None:
    target = tmp_path / "session.json"
    seen: list[int] = []
    with atomic_open(target, private=True) as f:
        (tmp,) = tmp_path.glob(".session.json.*.part")
        seen.append(_mode(tmp))  # the temp file, before any byte is written
        f.write(b"{}")
    assert seen == [0o600] and _mode(target) == 0o600


def test_a_failed_write_leaves_the_old_file_and_no_temp(tmp_path: Path) -> None:
    target = tmp_path / "video.mp4"
    target.write_bytes(b"old")
    with pytest.raises(RuntimeError), atomic_open(target) as f:
        f.write(b"half of the new")
        raise RuntimeError("disk full, say")
    assert target.read_bytes() == b"old"
    assert [p.name for p in tmp_path.iterdir()] == ["video.mp4"]
    with pytest.raises(Cancelled), atomic_path(tmp_path / "new.zip") as tmp:
        tmp.write_bytes(b"partial")
        raise Cancelled("cancelled")
    assert [p.name for p in tmp_path.iterdir()] == ["video.mp4"]


def test_hashing_copy_hashes_counts_reports_and_stops(tmp_path: Path) -> None:
    data = os.urandom(3 * (1 << 20) + 17)
    out = io.BytesIO()
    got: list[int] = []
    sha, size = hashing_copy(io.BytesIO(data), out, on_bytes=got.append)
    assert (sha, size) == (hashlib.sha256(data).hexdigest(), len(data))
    assert out.getvalue() == data and sum(got) == len(data) and len(got) == 4
    calls = iter([False, True])
    with pytest.raises(Cancelled, match="download cancelled"):
        hashing_copy(io.BytesIO(data), io.BytesIO(), should_stop=lambda: next(calls),
                     stopped=lambda: Cancelled("download cancelled"))
    f = tmp_path / "blob"
    f.write_bytes(data)
    assert sha256_file(f) == sha
