"""Builders for bad inputs too big or too binary to commit: zip bundles (encrypted, bombs, odd
compression, lying headers), folder bundles with symlinks, deep or huge JSON, PDFs, sparse files.

A case names a builder and its parameters (``"build": [["zip_bundle", {...}], ...]``); the runner
calls ``BUILDERS[name](case_dir, **params)`` in the case's temporary folder before running the CLI.
Everything is built from the real writer (``write_bundle``) and then damaged the way a broken tool or
an attacker would, so the reader is tested against real bytes.
"""

from __future__ import annotations

import io
import json
import os
import shutil
import struct
import zipfile
import zlib
from collections.abc import Callable
from pathlib import Path
from typing import Any

#: the script every bundle case starts from (its site is written by the builder)
BASE_SCRIPT: dict[str, Any] = {
    "title": "Bad-input base",
    "settings": {"site": "site"},
    "cards": [{"id": "home", "narration": "Open the home page.",
               "actions": [{"type": "goto", "url": "/index.html"}]}],
}
SITE_HTML = "<!doctype html><title>base</title><button id=save>Save</button>"


def _good_bundle(case: Path, out: str, script: dict[str, Any] | None = None) -> Path:
    from app.core.bundle import write_bundle
    from app.core.script import validate_script

    src = case / ".src"
    (src / "site").mkdir(parents=True, exist_ok=True)
    (src / "site" / "index.html").write_text(SITE_HTML, encoding="utf-8")
    path = write_bundle(validate_script(script or BASE_SCRIPT), src, case / out)
    shutil.rmtree(src)
    return path


def _rewrite(zip_path: Path, edit: Callable[[zipfile.ZipFile, zipfile.ZipFile], None]) -> None:
    tmp = zip_path.with_suffix(".rewrite")
    with zipfile.ZipFile(zip_path) as src, zipfile.ZipFile(tmp, "w", zipfile.ZIP_DEFLATED) as dst:
        edit(src, dst)
    os.replace(tmp, zip_path)


def _copy_all(src: zipfile.ZipFile, dst: zipfile.ZipFile, skip: set[str] | None = None) -> None:
    for info in src.infolist():
        if skip and info.filename in skip:
            continue
        dst.writestr(info, src.read(info))


def _patch_headers(data: bytearray, *, flag_or: int = 0, method: int | None = None,
                   file_size: int | None = None) -> None:
    """Patch every local and central header in raw zip bytes (the zipfile writer would refuse)."""
    for sig, flag_off, method_off, size_off in ((b"PK\x03\x04", 6, 8, 22), (b"PK\x01\x02", 8, 10, 24)):
        pos = data.find(sig)
        while pos != -1:
            if flag_or:
                (flags,) = struct.unpack_from("<H", data, pos + flag_off)
                struct.pack_into("<H", data, pos + flag_off, flags | flag_or)
            if method is not None:
                struct.pack_into("<H", data, pos + method_off, method)
            if file_size is not None:
                struct.pack_into("<I", data, pos + size_off, file_size)
            pos = data.find(sig, pos + 4)


def zip_bundle(case: Path, out: str = "job.zip", mutate: str = "none", **p: Any) -> None:
    """A real bundle zip, then damaged according to ``mutate``."""
    path = _good_bundle(case, out, p.get("script"))
    if mutate == "none":
        return
    if mutate == "add_entry":  # e.g. traversal names, stray files
        def add(src: zipfile.ZipFile, dst: zipfile.ZipFile) -> None:
            _copy_all(src, dst)
            info = zipfile.ZipInfo(p["entry"])
            if p.get("symlink"):
                info.external_attr = (0o120777 << 16)
            dst.writestr(info, p.get("content", "owned"))
        _rewrite(path, add)
    elif mutate == "job_json":  # replace job.json with this text / document
        doc = p["doc"]
        text = doc if isinstance(doc, str) else json.dumps(doc)

        def replace(src: zipfile.ZipFile, dst: zipfile.ZipFile) -> None:
            _copy_all(src, dst, skip={"job.json"})
            dst.writestr("job.json", text)
        _rewrite(path, replace)
    elif mutate == "drop_job_json":
        _rewrite(path, lambda s, d: _copy_all(s, d, skip={"job.json"}))
    elif mutate == "drop_assets":
        _rewrite(path, lambda s, d: _copy_all(s, d, skip={n for n in s.namelist() if n.startswith("assets/")}))
    elif mutate == "corrupt_asset":
        def corrupt(src: zipfile.ZipFile, dst: zipfile.ZipFile) -> None:
            for info in src.infolist():
                data = src.read(info)
                dst.writestr(info, data + b"tampered" if info.filename.startswith("assets/") else data)
        _rewrite(path, corrupt)
    elif mutate == "duplicate":
        def dup(src: zipfile.ZipFile, dst: zipfile.ZipFile) -> None:
            import warnings
            _copy_all(src, dst)
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                dst.writestr("job.json", src.read("job.json"))
        _rewrite(path, dup)
    elif mutate in ("encrypt", "bzip2", "lzma", "method99", "lie_size"):
        data = bytearray(path.read_bytes())
        if mutate == "encrypt":
            _patch_headers(data, flag_or=0x1)
        elif mutate == "lie_size":
            _patch_headers(data, file_size=3)
        else:
            _patch_headers(data, method={"bzip2": 12, "lzma": 14, "method99": 99}[mutate])
        path.write_bytes(bytes(data))
    elif mutate == "truncate":
        data = path.read_bytes()
        path.write_bytes(data[: len(data) // 2])
    elif mutate == "many_entries":
        def many(src: zipfile.ZipFile, dst: zipfile.ZipFile) -> None:
            _copy_all(src, dst)
            for i in range(int(p["count"])):
                dst.writestr(zipfile.ZipInfo(f"assets/{i:064x}"), b"")
        _rewrite(path, many)
    elif mutate == "bomb":
        _add_bomb(path, int(p["mb"]))
    else:
        raise ValueError(f"unknown zip mutation {mutate!r}")


def _add_bomb(path: Path, mb: int) -> None:
    """Append an asset of ``mb`` MiB of zeros, deflated (about 1000:1), without holding it in memory."""
    name = "assets/" + "0" * 64
    comp = zlib.compressobj(9, zlib.DEFLATED, -15)
    chunk = b"\0" * (1 << 20)
    buf = io.BytesIO()
    crc = 0
    for _ in range(mb):
        buf.write(comp.compress(chunk))
        crc = zlib.crc32(chunk, crc)
    buf.write(comp.flush())
    info = zipfile.ZipInfo(name)
    info.compress_type = zipfile.ZIP_DEFLATED
    with zipfile.ZipFile(path, "a") as zf:
        # write the pre-compressed stream by hand: header sizes must be the real ones
        zf.fp.seek(zf.start_dir)  # type: ignore[union-attr]
        info.header_offset = zf.start_dir
        info.CRC = crc
        info.compress_size = buf.tell()
        info.file_size = mb << 20
        zf.fp.write(info.FileHeader(zip64=False))  # type: ignore[union-attr]
        zf.fp.write(buf.getvalue())  # type: ignore[union-attr]
        zf.start_dir = zf.fp.tell()  # type: ignore[union-attr]
        zf.filelist.append(info)
        zf.NameToInfo[name] = info
        zf._didModify = True


def folder_bundle(case: Path, out: str = "job", mutate: str = "none", **p: Any) -> None:
    """A real folder bundle, then damaged: an asset replaced by a symlink, job.json a symlink..."""
    path = _good_bundle(case, out, p.get("script"))
    assets = sorted((path / "assets").iterdir())
    if mutate == "asset_symlink":
        target = assets[0]
        target.unlink()
        target.symlink_to(p.get("target", "/etc/passwd"))
    elif mutate == "job_json_symlink":
        real = case / "elsewhere.json"
        os.replace(path / "job.json", real)
        (path / "job.json").symlink_to(real)
    elif mutate == "remove_asset":
        assets[0].unlink()
    elif mutate == "corrupt_asset":
        assets[0].write_bytes(assets[0].read_bytes() + b"tampered")
    elif mutate == "job_json":
        doc = p["doc"]
        (path / "job.json").write_text(doc if isinstance(doc, str) else json.dumps(doc), encoding="utf-8")
    elif mutate != "none":
        raise ValueError(f"unknown folder mutation {mutate!r}")


def repeat(case: Path, path: str, parts: list[list[Any]]) -> None:
    """A text file of repeated pieces: ``[["[", 200000], ["]", 200000]]`` — deep or huge JSON."""
    with open(case / path, "w", encoding="utf-8") as f:
        for text, count in parts:
            f.write(str(text) * int(count))


def script_of(case: Path, path: str = "s.json", cards: int = 1, actions: int = 0, narration: int = 0,
              action: dict[str, Any] | None = None, settings: dict[str, Any] | None = None) -> None:
    """A script with ``cards`` cards of ``actions`` actions and ``narration`` characters each."""
    act = action or {"type": "wait", "ms": 10}
    words = ("Reelwright narrates this card. " * (narration // 30 + 1))[:narration]
    doc = {"settings": settings or {}, "cards": [
        {"id": f"c{i}", "narration": words, "actions": [act] * actions} for i in range(cards)]}
    (case / path).write_text(json.dumps(doc), encoding="utf-8")


def sparse(case: Path, path: str, size: int, head: str = "") -> None:
    """A file of ``size`` bytes that takes no disk space (for asset size limits)."""
    target = case / path
    target.parent.mkdir(parents=True, exist_ok=True)
    with open(target, "wb") as f:
        f.write(head.encode("latin-1"))
        f.truncate(size)


def pdf(case: Path, path: str, kind: str) -> None:
    """PDFs a user might drop: password-protected, blank (no text layer), truncated, misnamed."""
    from pypdf import PdfWriter

    writer = PdfWriter()
    writer.add_blank_page(width=200, height=200)
    if kind == "encrypted":
        writer.encrypt(user_password="secret", owner_password="owner")
    buf = io.BytesIO()
    writer.write(buf)
    data = buf.getvalue()
    if kind == "truncated":
        data = data[: len(data) // 3]
    elif kind == "html":
        data = b"<!doctype html><p>not a pdf</p>"
    (case / path).write_bytes(data)


def binary(case: Path, path: str, hex: str, repeat: int = 1) -> None:
    """Raw bytes (hex), e.g. a NUL inside a script or a PNG header in a .py file."""
    (case / path).write_bytes(bytes.fromhex(hex) * repeat)


BUILDERS: dict[str, Callable[..., None]] = {
    "zip_bundle": zip_bundle, "folder_bundle": folder_bundle, "repeat": repeat, "script_of": script_of,
    "sparse": sparse, "pdf": pdf, "binary": binary,
}


def mkdir(case: Path, path: str) -> None:
    """An empty folder (a site folder with no files)."""
    (case / path).mkdir(parents=True, exist_ok=True)


BUILDERS["mkdir"] = mkdir
