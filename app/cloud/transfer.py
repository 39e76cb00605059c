"""S3 transfers: content-addressed uploads (skip what is there), resumable multipart, verified downloads.

Blocking functions, meant for ``asyncio.to_thread``.  ``on_bytes(n)`` is called as bytes move;
``should_stop()`` is polled every :data:`IO_CHUNK` bytes — also while botocore reads a request body
to hash or send it, through :class:`StoppableReader` — so a cancel takes effect within a fraction
of a second even in the middle of an 8 MiB part on a slow link, not only between parts.
"""

from __future__ import annotations

import io
import json
from collections.abc import Callable
from pathlib import Path
from typing import IO, Any

from botocore.exceptions import ClientError

from app.core.errors import Cancelled
from app.core.infra.fs import atomic_path, hashing_copy

from .errors import CloudError, IntegrityError

PART_SIZE = 8 * 1024 * 1024  # S3's minimum is 5 MiB (except the last part)
MULTIPART_THRESHOLD = 16 * 1024 * 1024
#: objects uploaded by clients are temporary: the bucket's lifecycle expires this tag after 7 days
TEMP_TAGGING = "reelwright-temporary=true"

#: how much is read (and so sent or received) between two looks at ``should_stop``
IO_CHUNK = 256 * 1024

BytesCallback = Callable[[int], None]
StopCheck = Callable[[], bool]


class StoppableReader(io.RawIOBase):
    """A request body that raises :class:`Cancelled` when ``should_stop()`` says so.

    botocore reads a body in chunks to hash it and again to send it; every read of at most
    :data:`IO_CHUNK` bytes looks at the stop check first, and an exception from a body read is not
    one botocore retries, so it ends the request where it is.
    """

    def __init__(self, raw: IO[bytes], should_stop: StopCheck, what: str = "upload cancelled") -> None:
        super().__init__()
        self._raw = raw
        self._should_stop = should_stop
        self._what = what

    def readable(self) -> bool:
        return True

    def seekable(self) -> bool:
        return True

    def seek(self, offset: int, whence: int = io.SEEK_SET) -> int:
        return self._raw.seek(offset, whence)

    def tell(self) -> int:
        return self._raw.tell()

    def read(self, size: int | None = -1) -> bytes:
        if self._should_stop():
            raise Cancelled(self._what)
        if size is None or size < 0:
            # read everything, still looking at the stop check between chunks
            parts = []
            while chunk := self.read(IO_CHUNK):
                parts.append(chunk)
            return b"".join(parts)
        return self._raw.read(min(size, IO_CHUNK))

    def readinto(self, buffer: Any) -> int:
        data = self.read(len(buffer))
        buffer[: len(data)] = data
        return len(data)


def _never() -> bool:
    return False


def _nothing(_: int) -> None:
    return None


def head(s3: Any, bucket: str, key: str) -> dict[str, Any] | None:
    try:
        resp: dict[str, Any] = s3.head_object(Bucket=bucket, Key=key)
        return resp
    except ClientError as exc:
        if exc.response.get("Error", {}).get("Code") in ("404", "NoSuchKey", "NotFound"):
            return None
        raise


def upload_asset(s3: Any, bucket: str, key: str, path: Path, sha256: str, *,
                 on_bytes: BytesCallback = _nothing, should_stop: StopCheck = _never,
                 resume_dir: Path | None = None, part_size: int = PART_SIZE,
                 threshold: int = MULTIPART_THRESHOLD) -> bool:
    """Upload ``path`` to ``key`` unless an object with this sha256 is already there.

    Returns True when bytes were sent.  Large files go multipart; the upload id is remembered in
    ``resume_dir`` so an interrupted upload continues with the parts S3 already has.
    """
    size = path.stat().st_size
    existing = head(s3, bucket, key)
    if existing is not None and existing.get("Metadata", {}).get("sha256") == sha256 \
            and existing.get("ContentLength") == size:
        on_bytes(size)
        return False
    if size < threshold:
        if should_stop():
            raise Cancelled("upload cancelled")
        with open(path, "rb") as f:
            s3.put_object(Bucket=bucket, Key=key, Body=StoppableReader(f, should_stop), ContentLength=size,
                          Metadata={"sha256": sha256}, Tagging=TEMP_TAGGING)
        on_bytes(size)
        return True
    _multipart(s3, bucket, key, path, sha256, size, on_bytes, should_stop, resume_dir, part_size)
    return True


def _multipart(s3: Any, bucket: str, key: str, path: Path, sha256: str, size: int,
               on_bytes: BytesCallback, should_stop: StopCheck, resume_dir: Path | None,
               part_size: int) -> None:
    state_file = resume_dir / f"{sha256}.upload.json" if resume_dir else None
    upload_id: str | None = None
    done: dict[int, str] = {}
    if state_file and state_file.is_file():
        try:
            state = json.loads(state_file.read_text(encoding="utf-8"))
            if state.get("key") == key and state.get("part_size") == part_size:
                upload_id = str(state["upload_id"])
                for page in s3.get_paginator("list_parts").paginate(Bucket=bucket, Key=key, UploadId=upload_id):
                    for p in page.get("Parts", []):
                        done[int(p["PartNumber"])] = str(p["ETag"])
        except (ValueError, KeyError, ClientError):
            upload_id, done = None, {}  # stale or aborted upload: start over
    if upload_id is None:
        upload_id = str(s3.create_multipart_upload(Bucket=bucket, Key=key, Metadata={"sha256": sha256},
                                                   Tagging=TEMP_TAGGING)["UploadId"])
        if state_file:
            state_file.parent.mkdir(parents=True, exist_ok=True)
            state_file.write_text(json.dumps({"key": key, "upload_id": upload_id, "part_size": part_size}),
                                  encoding="utf-8")
    n_parts = max(1, -(-size // part_size))
    with open(path, "rb") as f:
        for number in range(1, n_parts + 1):
            length = min(part_size, size - (number - 1) * part_size)
            if number in done:
                on_bytes(length)
                continue
            if should_stop():
                raise Cancelled("upload cancelled (it will resume from here next time)")
            f.seek((number - 1) * part_size)
            body = f.read(length)
            etag = s3.upload_part(Bucket=bucket, Key=key, UploadId=upload_id, PartNumber=number,
                                  Body=StoppableReader(io.BytesIO(body), should_stop,
                                                       "upload cancelled (it will resume from here next time)"),
                                  ContentLength=length)["ETag"]
            done[number] = str(etag)
            on_bytes(length)
    s3.complete_multipart_upload(
        Bucket=bucket, Key=key, UploadId=upload_id,
        MultipartUpload={"Parts": [{"PartNumber": n, "ETag": e} for n, e in sorted(done.items())]},
    )
    if state_file:
        state_file.unlink(missing_ok=True)


def download_verified(s3: Any, bucket: str, key: str, dest: Path, sha256: str, *,
                      on_bytes: BytesCallback = _nothing, should_stop: StopCheck = _never) -> Path:
    """Download to ``dest`` via a temporary name; refuse (and delete) it if the sha256 differs."""
    if should_stop():
        raise Cancelled("download cancelled")
    try:
        body = s3.get_object(Bucket=bucket, Key=key)["Body"]
    except ClientError as exc:
        raise CloudError(f"could not download {key}: {exc}") from None
    with atomic_path(dest) as tmp:  # renamed into place only if the checksum matches
        try:
            with open(tmp, "wb") as f:
                got, _ = hashing_copy(body, f, on_bytes=on_bytes, should_stop=should_stop, chunk=IO_CHUNK,
                                      stopped=lambda: Cancelled("download cancelled"))
        finally:
            body.close()  # a cancelled download must not keep its connection streaming
        if got != sha256:
            raise IntegrityError(f"{dest.name}: checksum mismatch (expected {sha256[:12]}…, got "
                                 f"{got[:12]}…); the file was not saved")
    return dest
