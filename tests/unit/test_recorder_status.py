"""The recorder's conditional status writes, against a fake S3 (the real one is in
``tests/integration/test_cloud_emulator_failures.py``): which condition each write carries, and when it stops."""

from __future__ import annotations

import asyncio
import io
import json
from pathlib import Path
from typing import Any

from botocore.exceptions import ClientError

from recorder.main import Recorder, RecorderEnv

KEY = "tenants/us-east-1:0b5c1a2d-3e4f-4a5b-8c6d-7e8f9a0b1c2d/jobs/20261206-000000-abcdef/job.json"


class FakeS3:
    """Keeps one status.json with an ETag; put_object honours IfMatch/IfNoneMatch as S3 does."""

    def __init__(self, doc: dict[str, Any] | None = None, readable: bool = True) -> None:
        self.body = json.dumps(doc).encode() if doc is not None else None
        self.etag = 0
        self.readable = readable
        self.puts: list[dict[str, Any]] = []

    def get_object(self, **kw: Any) -> dict[str, Any]:
        if not self.readable:
            raise ClientError({"Error": {"Code": "AccessDenied"}}, "GetObject")
        if self.body is None:
            raise ClientError({"Error": {"Code": "NoSuchKey"}}, "GetObject")
        return {"Body": io.BytesIO(self.body), "ETag": f'"{self.etag}"'}

    def put_object(self, **kw: Any) -> dict[str, Any]:
        self.puts.append({k: v for k, v in kw.items() if k in ("IfMatch", "IfNoneMatch")})
        if ("IfMatch" in kw and kw["IfMatch"] != f'"{self.etag}"') or ("IfNoneMatch" in kw and self.body is not None):
            raise ClientError({"Error": {"Code": "PreconditionFailed"}}, "PutObject")
        self.someone_writes(kw["Body"])
        return {"ETag": f'"{self.etag}"'}

    def someone_writes(self, body: bytes) -> None:
        self.body, self.etag = body, self.etag + 1


def publish(s3: FakeS3, tmp: Path, *docs: dict[str, Any], between: Any = None) -> Recorder:
    rec = Recorder(RecorderEnv(bucket="b", job_key=KEY, task_token="t", work_dir=tmp), s3=s3, sfn=object())

    async def run() -> None:
        for i, doc in enumerate(docs):
            await rec._put_status(doc)
            if between is not None and i == 0:
                between()

    asyncio.run(run())
    return rec


def test_the_first_write_is_over_the_state_machines_document_and_the_next_over_its_own(tmp_path: Path) -> None:
    s3 = FakeS3({"status": "Queued"})
    rec = publish(s3, tmp_path, {"status": "Rendering"}, {"status": "Rendering"})
    assert s3.puts == [{"IfMatch": '"0"'}, {"IfMatch": '"1"'}] and not rec._status_refused


def test_no_status_yet_means_create_only(tmp_path: Path) -> None:
    s3 = FakeS3(None)
    publish(s3, tmp_path, {"status": "Rendering"})
    assert s3.puts == [{"IfNoneMatch": "*"}]


def test_after_someone_else_writes_one_refusal_ends_publishing(tmp_path: Path) -> None:
    s3 = FakeS3({"status": "Queued"})
    rec = publish(s3, tmp_path, {"status": "Rendering"}, {"status": "Rendering"}, {"status": "Rendering"},
                  between=lambda: s3.someone_writes(b'{"status": "Failed"}'))
    assert rec._status_refused and len(s3.puts) == 2  # the refused one, then nothing
    assert json.loads(s3.body or b"") == {"status": "Failed"}


def test_a_job_already_final_gets_no_write_at_all(tmp_path: Path) -> None:
    s3 = FakeS3({"status": "Cancelled"})
    rec = publish(s3, tmp_path, {"status": "Rendering"}, {"status": "Rendering"})
    assert s3.puts == [] and rec._status_refused


def test_without_read_access_the_first_write_is_unconditional_and_the_rest_still_guarded(tmp_path: Path) -> None:
    s3 = FakeS3({"status": "Queued"}, readable=False)
    publish(s3, tmp_path, {"status": "Rendering"}, {"status": "Rendering"})
    assert s3.puts == [{}, {"IfMatch": '"1"'}]  # the second only over the first's ETag
