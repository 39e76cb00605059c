"""Cloud uploads and downloads stop within a second of a cancel, mid-request, against a moto S3 server.

The stop is triggered from inside the transfer (when the server has received the first bytes of a
request body), so the test does not depend on how fast this machine moves bytes; the time from the
stop to the transfer raising is measured and printed.  The async path is covered too: a CloudClient
upload cancelled through its CancelToken ends with Cancelled and leaves no thread running.
"""

from __future__ import annotations

import asyncio
import hashlib
import os
import socket
import subprocess
import sys
import threading
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import boto3
import pytest

from app.cloud import transfer
from app.core.errors import Cancelled

pytestmark = [pytest.mark.slow]

ROOT = Path(__file__).resolve().parents[2]
CANCEL_BOUND_S = 1.0
BUCKET = "reelwright-cancel-test"


@pytest.fixture(scope="module")
def s3() -> Iterator[Any]:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    server = subprocess.Popen(
        [sys.executable, "-m", "app.cloud.emulator.motoserver", "-H", "127.0.0.1", "-p", str(port)],
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, env=env)
    endpoint = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                urllib.request.urlopen(endpoint + "/moto-api/", timeout=2).close()
                break
            except OSError:
                if time.monotonic() > deadline or server.poll() is not None:
                    raise
                time.sleep(0.2)
        client = boto3.client("s3", endpoint_url=endpoint, region_name="us-east-1",
                              aws_access_key_id="testing", aws_secret_access_key="testing")
        client.create_bucket(Bucket=BUCKET)
        yield client
    finally:
        server.terminate()
        server.wait(10)


def _big(path: Path, mib: int) -> str:
    block = hashlib.sha256(b"seed").digest() * (1 << 15)  # 1 MiB, not all zeros
    with open(path, "wb") as f:
        for i in range(mib):
            f.write(block[i % 7:] + block[: i % 7])
    return hashlib.sha256(path.read_bytes()).hexdigest()


class StopAfter:
    """A stop check that turns true once ``after`` reads happened, and remembers when."""

    def __init__(self, after: int) -> None:
        self.after = after
        self.calls = 0
        self.t_stop: float | None = None

    def __call__(self) -> bool:
        self.calls += 1
        if self.calls > self.after and self.t_stop is None:
            self.t_stop = time.monotonic()
        return self.t_stop is not None


@pytest.mark.parametrize("multipart", [False, True], ids=["single request", "multipart"])
def test_upload_stops_mid_request(s3: Any, tmp_path: Path, multipart: bool) -> None:
    path = tmp_path / "asset.bin"
    sha = _big(path, 12)
    # a few reads into the body of the (first) request: botocore is hashing or sending it
    stop = StopAfter(after=6)
    with pytest.raises(Cancelled):
        try:
            transfer.upload_asset(s3, BUCKET, f"a/{multipart}", path, sha, should_stop=stop,
                                  resume_dir=tmp_path / "resume", part_size=8 << 20,
                                  threshold=1 if multipart else 64 << 20)
        finally:
            took = time.monotonic() - (stop.t_stop or time.monotonic())
    print(f"\nupload ({'multipart' if multipart else 'single request'}): stopped {took * 1000:.0f} ms after the "
          f"stop check turned true ({stop.calls} checks)")
    assert took <= CANCEL_BOUND_S
    assert transfer.head(s3, BUCKET, f"a/{multipart}") is None, "a cancelled upload must not create the object"
    if multipart:  # and it resumes later
        assert transfer.upload_asset(s3, BUCKET, "a/True", path, sha, resume_dir=tmp_path / "resume",
                                     part_size=8 << 20, threshold=1)
        assert s3.get_object(Bucket=BUCKET, Key="a/True")["Body"].read() == path.read_bytes()


def test_download_stops_mid_body_and_leaves_no_file(s3: Any, tmp_path: Path) -> None:
    path = tmp_path / "out.bin"
    sha = _big(path, 12)
    s3.put_object(Bucket=BUCKET, Key="dl", Body=path.read_bytes())
    stop = StopAfter(after=3)
    dest = tmp_path / "dl" / "out.bin"
    with pytest.raises(Cancelled):
        try:
            transfer.download_verified(s3, BUCKET, "dl", dest, sha, should_stop=stop)
        finally:
            took = time.monotonic() - (stop.t_stop or time.monotonic())
    print(f"\ndownload: stopped {took * 1000:.0f} ms after the stop check turned true")
    assert took <= CANCEL_BOUND_S
    assert not dest.exists() and not list(dest.parent.iterdir()), "no partial file"


def test_a_cancelled_upload_in_a_thread_ends_within_a_second(s3: Any, tmp_path: Path) -> None:
    """The way the client runs it: ``asyncio.to_thread`` and a CancelToken set from the loop."""
    from app.core.infra.progress import CancelToken

    path = tmp_path / "asset.bin"
    sha = _big(path, 40)

    async def scenario() -> float:
        cancel = CancelToken()
        started = asyncio.Event()
        loop = asyncio.get_running_loop()

        def on_bytes(_: int) -> None:
            loop.call_soon_threadsafe(started.set)

        work = asyncio.ensure_future(asyncio.to_thread(
            transfer.upload_asset, s3, BUCKET, "thread", path, sha, on_bytes=on_bytes,
            should_stop=lambda: cancel.cancelled, part_size=5 << 20, threshold=1))
        # the first part is up: the transfer is under way (or it failed: then say how)
        await asyncio.wait({work, asyncio.ensure_future(started.wait())}, timeout=120,
                           return_when=asyncio.FIRST_COMPLETED)
        assert not work.done(), work.exception() if work.done() else None
        t0 = time.monotonic()
        cancel.cancel()
        with pytest.raises(Cancelled):
            await work
        return time.monotonic() - t0

    before = set(threading.enumerate())  # other tests' loops may keep their own executor threads
    took = asyncio.run(scenario())
    print(f"\nupload in a thread: ended {took * 1000:.0f} ms after the cancel")
    assert took <= CANCEL_BOUND_S
    left = [t for t in set(threading.enumerate()) - before if t.name.startswith("asyncio_")]
    assert not left, f"a transfer thread outlived it: {left}"
