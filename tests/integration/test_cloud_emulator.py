"""The cloud path end to end through the emulator: a real moto server (Cognito SRP, S3, DynamoDB,
ECS, Step Functions running the production state machine) and real recorder subprocesses that render
with real Chromium, Piper and ffmpeg.

One emulator serves the module (it runs on its own event loop in a thread, as it would in its own
process); each test drives real ``CloudClient`` instances.  Renders use a tiny two-card script, and
the bundled example once.
"""

from __future__ import annotations

import asyncio
import dataclasses
import json
import os
import shutil
import stat
import subprocess
import sys
import threading
import time
import urllib.request
from collections.abc import Coroutine, Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, TypeVar
from urllib.parse import unquote

import pytest

from app.cloud import transfer
from app.cloud.auth import _jwt_claims
from app.cloud.client import CloudClient
from app.cloud.emulator.local import Emulator
from app.cloud.errors import AuthError, CloudError, NotSignedIn
from app.cloud.layout import JobRef, JobStatus, asset_key
from app.cloud.selftest import EXAMPLE, probe_mp4
from app.cloud.tokens import TokenStore
from app.core.bundle import RenderSettings
from app.core.errors import Cancelled
from app.core.infra.fs import sha256_file
from recorder.jobcreds import JobCredentials

pytestmark = [pytest.mark.slow, pytest.mark.browser]

HERE = Path(__file__).resolve().parent
TINY = HERE / "cloud" / "tiny" / "script.json"
PASSWORD = "Correct-Horse-42"
T = TypeVar("T")


class EmulatorThread:
    """The emulator on its own loop in a background thread."""

    def __init__(self, workdir: Path) -> None:
        self.emu = Emulator(workdir=workdir, heartbeat_s=2.0, cancel_poll_s=0.3, poll_s=0.2)
        self.loop = asyncio.new_event_loop()
        self.thread = threading.Thread(target=self.loop.run_forever, name="emulator", daemon=True)

    def run(self, coro: Coroutine[Any, Any, T], timeout: float = 120) -> T:
        return asyncio.run_coroutine_threadsafe(coro, self.loop).result(timeout)

    def __enter__(self) -> Emulator:
        self.thread.start()
        self.run(self.emu.start())
        return self.emu

    def __exit__(self, *exc: object) -> None:
        try:
            self.run(self.emu.stop(), 60)
        finally:
            self.loop.call_soon_threadsafe(self.loop.stop)
            self.thread.join(10)


@pytest.fixture(scope="module")
def emu(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Emulator]:
    with EmulatorThread(tmp_path_factory.mktemp("emulator")) as e:
        yield e


def new_client(emu: Emulator, home: Path) -> CloudClient:
    assert emu.config is not None
    return CloudClient(emu.config, TokenStore(emu.config.user_pool_id, home=home, use_keyring=False))


async def signed_up(emu: Emulator, home: Path, email: str) -> CloudClient:
    client = new_client(emu, home)
    await client.sign_up(email, PASSWORD)
    await client.confirm(email, "123456")  # moto accepts any code; there is no mail to read
    await client.sign_in(email, PASSWORD)
    return client


def variant(tmp: Path, mutate: Any) -> Path:
    """A copy of the tiny script (with its site) changed by ``mutate(script_dict)``."""
    shutil.copytree(TINY.parent / "site", tmp / "site")
    doc = json.loads(TINY.read_text())
    mutate(doc)
    out = tmp / "script.json"
    out.write_text(json.dumps(doc))
    return out


async def wait_for_state(client: CloudClient, job_id: str, state: str, timeout: float = 120) -> JobStatus:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        st = await client.status(job_id)
        if st.state == state or st.terminal:
            return st
        await asyncio.sleep(0.2)
    raise AssertionError(f"job {job_id} never reached {state}")


def wait_until(pred: Any, timeout: float = 30) -> None:
    deadline = time.monotonic() + timeout
    while not pred():
        if time.monotonic() > deadline:
            raise AssertionError("condition not met in time")
        time.sleep(0.1)


# ---------------------------------------------------------------------- accounts


def test_an_invite_only_stack_refuses_sign_up_in_words_and_an_invited_user_sets_a_password(
        emu: Emulator, tmp_path: Path) -> None:
    """SignUpMode=invite: a user pool with AllowAdminCreateUserOnly, as the template makes it (the
    emulator's moto wrapper refuses SignUp as AWS does). The operator invites with admin-create-user;
    the user's first sign-in with the temporary password asks for a new one."""
    idp = emu.client("cognito-idp")
    pool = idp.create_user_pool(PoolName="invite-only", UsernameAttributes=["email"],
                                AdminCreateUserConfig={"AllowAdminCreateUserOnly": True})["UserPool"]["Id"]
    app_client = idp.create_user_pool_client(
        UserPoolId=pool, ClientName="reelwright-desktop", GenerateSecret=False,
        ExplicitAuthFlows=["ALLOW_USER_SRP_AUTH", "ALLOW_REFRESH_TOKEN_AUTH", "ALLOW_USER_PASSWORD_AUTH"],
    )["UserPoolClient"]["ClientId"]
    assert emu.config is not None
    config = dataclasses.replace(emu.config, user_pool_id=pool, client_id=app_client)

    async def scenario() -> None:
        client = CloudClient(config, TokenStore(pool, home=tmp_path, use_keyring=False))
        with pytest.raises(AuthError, match="accepts invited accounts only") as refused:
            await client.sign_up("eve@example.com", PASSWORD)
        assert refused.value.code == "SignUpNotPermitted"
        # the operator's invitation (docs/cloud.md): Cognito mails a temporary password
        idp.admin_create_user(UserPoolId=pool, Username="ivy@example.com", TemporaryPassword="Temporary-Pass-1",
                              UserAttributes=[{"Name": "email", "Value": "ivy@example.com"},
                                              {"Name": "email_verified", "Value": "true"}])
        with pytest.raises(AuthError, match="temporary password") as first:
            await client.sign_in("ivy@example.com", "Temporary-Pass-1", flow="password")
        assert first.value.code == "NewPasswordRequired"
        session = await client.sign_in("ivy@example.com", "Temporary-Pass-1", flow="password",
                                       new_password=PASSWORD)
        assert session.username == "ivy@example.com" and session.id_token
        user = idp.admin_get_user(UserPoolId=pool, Username="ivy@example.com")
        assert user["UserStatus"] == "CONFIRMED"

    asyncio.run(scenario())


def test_sign_up_sign_in_refresh_and_sign_out(emu: Emulator, tmp_path: Path) -> None:
    async def scenario() -> None:
        client = await signed_up(emu, tmp_path, "ada@example.com")
        store_file = tmp_path / "session.json"
        assert stat.S_IMODE(store_file.stat().st_mode) == 0o600
        assert client.store_warning and "session.json" in client.store_warning
        identity = await client.identity()
        assert identity.startswith("us-east-1:")
        # a new client (a restarted app) resumes the session from the store, same tenant
        again = new_client(emu, tmp_path)
        assert again.signed_in and again.username == "ada@example.com" and await again.identity() == identity
        old = again.auth.require().id_token
        refreshed = await again.refresh()
        assert refreshed.id_token and refreshed.refresh_token == again.auth.require().refresh_token
        assert refreshed.id_token != old or refreshed.access_token
        with pytest.raises(AuthError, match="already exists"):
            await client.sign_up("ada@example.com", PASSWORD)
        # moto's SRP accepts any password, so the wrong-password path is checked with
        # USER_PASSWORD_AUTH, which the emulator's app client allows (the deployed one does not)
        with pytest.raises(AuthError, match="wrong email or password"):
            await new_client(emu, tmp_path / "other").sign_in("ada@example.com", "Wrong-Password-1", flow="password")
        await client.forgot("ada@example.com")
        await client.sign_out()
        assert not client.signed_in and json.loads(store_file.read_text()) == {}
        with pytest.raises(NotSignedIn):
            await new_client(emu, tmp_path).identity()

    asyncio.run(scenario())


# ---------------------------------------------------------------------- the example, end to end


def test_example_renders_in_the_cloud_and_downloads_verified(emu: Emulator, tmp_path: Path) -> None:
    async def scenario() -> None:
        client = await signed_up(emu, tmp_path, "grace@example.com")
        uploads: list[float] = []
        # the example as it is, at 24 fps to keep the suite lean (the render override rides in job.json;
        # a smaller frame would switch the example site to its narrow layout)
        job_id = await client.submit(EXAMPLE, on_progress=lambda p: uploads.append(p.fraction),
                                     render=RenderSettings(fps=24))
        assert uploads[-1] == 1.0
        seen: list[JobStatus] = []
        final = await client.watch(job_id, on_status=seen.append, poll_s=0.3)
        states = [s.state for s in seen]
        assert final.state == "Complete", final.describe()
        assert states[-1] == "Complete" and "Rendering" in states
        assert states.index("Queued" if "Queued" in states else "Rendering") < states.index("Rendering")
        progress = [s.progress for s in seen if s.state == "Rendering" and s.progress is not None]
        assert progress == sorted(progress) and len(progress) >= 3  # Rendering with progress
        files = await client.fetch(job_id, tmp_path / "out")
        names = sorted(p.name for p in files)
        # the example asks for a poster: the cloud returns it like a local render (it used to be dropped)
        assert names == ["video.chapters.txt", "video.mp4", "video.poster.png", "video.srt",
                         "video.timeline.json", "video.vtt"]
        info = probe_mp4(tmp_path / "out" / "video.mp4")
        video = next(st for st in info["streams"] if st["codec_type"] == "video")
        assert (video["width"], video["height"]) == (1280, 720)
        assert abs(float(info["format"]["duration"]) - (final.duration_s or 0)) < 0.5
        srt = (tmp_path / "out" / "video.srt").read_text()
        assert "-->" in srt
        # the share link serves the same bytes (moto does not check the signature or expiry)
        url = await client.share(job_id, 600)
        assert "Expires=" in url or "X-Amz-Expires=" in url
        # a week asked: the presigned link dies with the credentials that signed it, and says so
        week = await client.share_link(job_id, 7 * 24 * 3600)
        creds_end = client.auth.credentials_expire
        assert creds_end is not None and week.expires <= creds_end < time.time() + 3600
        assert week.shortened and "sign-in credentials" in week.until_text()
        with urllib.request.urlopen(url, timeout=30) as resp:
            assert resp.read() == (tmp_path / "out" / "video.mp4").read_bytes()
        jobs = await client.list_jobs()
        assert [j.job_id for j in jobs] == [job_id]
        tenant = await client.identity()
        wait_until(lambda: (emu.job_row(tenant, job_id) or {}).get("status") == "Complete")
        # its render slot is released and the recorder's measured minutes are charged to this month
        row = emu.job_row(tenant, job_id) or {}
        usage = emu.usage(tenant)
        month = f"USAGE#{datetime.now(UTC):%Y-%m}"
        assert "slotHeld" not in row and usage["running"] == 0, (row, usage)
        assert 0 < float(row["minutes"]) < 10 and usage[month] >= float(row["minutes"]), (row, usage)
        # the job's tasks all exited cleanly (the recorder does not linger after reporting)
        wait_until(lambda: not emu.tasks)
        assert set(emu.finished_tasks.values()) <= {0}
        # the task got this job's own credentials from IssueJobCredentials (1 hour), as overrides
        ecs = emu.client("ecs")
        arns = ecs.list_tasks(cluster=emu.resources["cluster"], desiredStatus="STOPPED")["taskArns"]
        envs = [{e["name"]: e["value"] for co in task["overrides"]["containerOverrides"] for e in co["environment"]}
                for task in ecs.describe_tasks(cluster=emu.resources["cluster"], tasks=arns)["tasks"]]
        env = next(e for e in envs if e["JOB_KEY"].endswith(f"/jobs/{job_id}/job.json"))
        assert env["JOB_AWS_ACCESS_KEY_ID"] not in ("", "emulator") and env["JOB_AWS_SESSION_TOKEN"]
        issued = JobCredentials.from_environ(env)
        assert issued is not None and 3000 < issued.seconds_left() <= 3600, env["JOB_AWS_EXPIRATION"]

    asyncio.run(scenario())


def test_cloud_renders_return_what_local_renders_do(emu: Emulator, tmp_path: Path) -> None:
    """Poster, preview and chapters come back from the cloud exactly as a local render writes them:
    every door lists RenderResult.files(), and the chapters travel in the job status."""

    def polish(doc: dict[str, Any]) -> None:
        doc.setdefault("settings", {}).update({"poster": True, "preview": "gif"})

    async def scenario() -> None:
        client = await signed_up(emu, tmp_path, "hedy@example.com")  # one account per test: the emulator is shared
        job_id = await client.submit(variant(tmp_path, polish))
        final = await client.watch(job_id, poll_s=0.3)
        assert final.state == "Complete", final.describe()
        files = await client.fetch(job_id, tmp_path / "out")
        assert sorted(p.name for p in files) == ["video.chapters.txt", "video.mp4", "video.poster.png",
                                                  "video.preview.gif", "video.srt", "video.timeline.json",
                                                  "video.vtt"]
        # the status carries the render's own chapters; the downloaded chapters.txt says the same
        from app.core.mix.captions import youtube_chapters_text

        assert final.chapters and final.chapters[0][0] == 0.0
        assert youtube_chapters_text(final.chapters) == (tmp_path / "out" / "video.chapters.txt").read_text()

    asyncio.run(scenario())


def test_a_big_interactive_demo_comes_back_from_the_cloud_as_one_file(emu: Emulator, tmp_path: Path,
                                                                       monkeypatch: pytest.MonkeyPatch) -> None:
    """Above the inline limit a local render puts the demo's media in ``<name>.demo/``; the cloud
    stores outputs by bare name (a key never holds "/"), so the recorder keeps the page whole: one
    ``.demo.html`` with its stills and voice inlined, which still opens after the download."""
    from app.core.bundle import load_job, write_bundle
    from app.core.mix import interactive
    from recorder.main import Recorder, RecorderEnv

    monkeypatch.setattr(interactive, "INLINE_LIMIT_BYTES", 0)  # every demo counts as big (in this process)
    s3 = emu.client("s3")
    bucket = "reelwright-demo-direct"
    s3.create_bucket(Bucket=bucket)
    (tmp_path / "src").mkdir()
    script = variant(tmp_path / "src", lambda doc: doc["settings"].update({"interactive": True}))
    job = load_job(script)
    try:
        bundle = write_bundle(job.script, job.root, tmp_path / "bundle")
    finally:
        job.close()
    doc = json.loads((bundle / "job.json").read_text())
    ref = JobRef("us-east-1:00000000-0000-4000-8000-000000000002", "20261205-000000-fedcba")
    for sha in set(doc["assets"].values()):
        s3.put_object(Bucket=bucket, Key=asset_key(ref.tenant, sha), Body=(bundle / "assets" / sha).read_bytes())
    s3.put_object(Bucket=bucket, Key=ref.job_key, Body=json.dumps(doc).encode())

    async def scenario() -> dict[str, Any]:
        rec = Recorder(RecorderEnv(bucket=bucket, job_key=ref.job_key, task_token="t"), s3=s3,
                       sfn=emu.client("stepfunctions"))
        (tmp_path / "work").mkdir()
        return await rec.run_job(tmp_path / "work")

    result = asyncio.run(scenario())
    outputs = {o["name"]: o["key"] for o in result["outputs"]}
    assert "video.demo.html" in outputs and "video.mp4" in outputs, sorted(outputs)
    assert not any(n.endswith((".webp", ".mp3")) or "/" in n for n in outputs), sorted(outputs)
    page = s3.get_object(Bucket=bucket, Key=outputs["video.demo.html"])
    assert page["ContentType"].startswith("text/html")
    text = page["Body"].read().decode("utf-8")
    assert "data:image/webp;base64," in text and "video.demo/" not in text


# ---------------------------------------------------------------------- failures, cancel, retries

#: what the state machine's look for a cancel marker fails with when there is none (AWS, moto)
CANCEL_MARKER_ABSENT = {"S3.NoSuchKeyException", "S3.NotFoundException", "s3.s3Exception"}


def test_bad_locator_fails_the_job_naming_the_card(emu: Emulator, tmp_path: Path) -> None:
    def break_locator(doc: dict[str, Any]) -> None:
        doc["cards"][1]["actions"][0]["target"] = {"role": "button", "name": "Publish"}

    async def scenario() -> None:
        client = await signed_up(emu, tmp_path, "linus@example.com")
        job_id = await client.submit(variant(tmp_path, break_locator))
        final = await client.watch(job_id, poll_s=0.3)
        assert final.state == "Failed"
        assert final.error == "Recorder.RenderFailed"
        assert "card 2 'save'" in (final.cause or "") and "Publish" in (final.cause or "")
        # the failure screenshot is kept with the job, not on the finished task's disk
        shot = (final.cause or "").split("screenshot of that moment: ")[1].split(" in the job's outputs")[0]
        ref = JobRef(await client.identity(), job_id)
        assert emu.client("s3").head_object(Bucket=emu.resources["bucket"], Key=ref.out_key(shot))["ContentLength"] > 0
        with pytest.raises(CloudError, match="only complete jobs"):
            await client.fetch(job_id, tmp_path / "out")
        tenant = await client.identity()
        wait_until(lambda: (emu.job_row(tenant, job_id) or {}).get("status") == "Failed")
        assert "card 2" in (emu.job_row(tenant, job_id) or {})["failure"]

    asyncio.run(scenario())


def test_cancel_ends_cancelled_and_stops_the_task(emu: Emulator, tmp_path: Path) -> None:
    def make_long(doc: dict[str, Any]) -> None:
        doc["cards"][1]["hold_ms"] = 60_000  # a minute of video: still rendering when cancelled

    async def scenario() -> None:
        client = await signed_up(emu, tmp_path, "barbara@example.com")
        job_id = await client.submit(variant(tmp_path, make_long))
        st = await wait_for_state(client, job_id, "Rendering")
        assert st.state == "Rendering"
        task_arns = set(emu.tasks)
        t0 = time.monotonic()
        await client.cancel(job_id)
        final = await client.watch(job_id, poll_s=0.2)
        assert final.state == "Cancelled", final.describe()
        assert time.monotonic() - t0 < 20
        tenant = await client.identity()
        wait_until(lambda: (emu.job_row(tenant, job_id) or {}).get("status") == "Cancelled")
        # the recorder process ended, and its task is stopped
        wait_until(lambda: task_arns and all(a in emu.finished_tasks for a in task_arns))
        tasks = emu.client("ecs").describe_tasks(cluster=emu.resources["cluster"], tasks=sorted(task_arns))["tasks"]
        assert all(t["desiredStatus"] == "STOPPED" for t in tasks)

    asyncio.run(scenario())


def test_spot_interruption_is_retried_and_completes(emu: Emulator, tmp_path: Path) -> None:
    """StopTask makes the stand-in SIGTERM the recorder, as Fargate does when Spot capacity goes.
    The job signs in: the interrupted attempt leaves the session for the retry, which deletes it."""

    async def scenario() -> None:
        client = await signed_up(emu, tmp_path, "edsger@example.com")
        job_id = await client.submit(with_session(tmp_path / "job"))
        await wait_for_state(client, job_id, "Rendering")
        first = set(emu.tasks)
        assert len(first) >= 1
        ecs = emu.client("ecs")
        for arn in first:
            ecs.stop_task(cluster=emu.resources["cluster"], task=arn, reason="Spot interruption (test)")
        final = await client.watch(job_id, poll_s=0.3)
        assert final.state == "Complete", final.describe()
        assert all(emu.finished_tasks.get(a) == 0 for a in first)  # reported Interrupted and exited
        key = JobRef(await client.identity(), job_id).job_key
        history = emu.client("stepfunctions").get_execution_history(executionArn=emu.executions[key])["events"]
        failures = [e["taskFailedEventDetails"]["error"] for e in history if e["type"] == "TaskFailed"]
        # the one failure besides "no cancel marker" (CheckCancel's HeadObject before taking a slot: a
        # 404, moto's s3.s3Exception) is the interruption
        assert [f for f in failures if f not in CANCEL_MARKER_ABSENT] == ["Recorder.Interrupted"]
        assert session_versions(emu, JobRef(await client.identity(), job_id).session_key) == []

    asyncio.run(scenario())


# ---------------------------------------------------------------------- uploads


def test_uploads_are_content_addressed_and_multipart_resumes(emu: Emulator, tmp_path: Path,
                                                             monkeypatch: pytest.MonkeyPatch) -> None:
    async def scenario() -> None:
        client = await signed_up(emu, tmp_path, "radia@example.com")
        tenant = await client.identity()
        s3 = emu.client("s3")
        bucket = emu.resources["bucket"]
        # a 11 MiB asset in 5 MiB parts: stop after the first part, then resume
        big = tmp_path / "big.bin"
        big.write_bytes(bytes(range(256)) * (11 * 4096))
        sha = sha256_file(big)
        key = asset_key(tenant, sha)
        parts: list[int] = []

        def stop_after_first_part() -> bool:
            return len(parts) >= 1

        with pytest.raises(Cancelled):
            transfer.upload_asset(s3, bucket, key, big, sha, on_bytes=parts.append, should_stop=stop_after_first_part,
                                  resume_dir=tmp_path / "resume", part_size=5 * 1024 * 1024, threshold=1)
        assert parts == [5 * 1024 * 1024] and transfer.head(s3, bucket, key) is None
        sent: list[int] = []
        assert transfer.upload_asset(s3, bucket, key, big, sha, on_bytes=sent.append,
                                     resume_dir=tmp_path / "resume", part_size=5 * 1024 * 1024, threshold=1)
        assert sent == [5 * 1024 * 1024, 5 * 1024 * 1024, 1024 * 1024]  # part 1 came from S3's list
        assert s3.get_object(Bucket=bucket, Key=key)["Body"].read() == big.read_bytes()
        assert not list((tmp_path / "resume").iterdir())
        # already there: nothing is sent again
        assert not transfer.upload_asset(s3, bucket, key, big, sha, resume_dir=tmp_path / "resume")
        # a corrupted download is refused and leaves no file
        with pytest.raises(CloudError, match="checksum mismatch"):
            transfer.download_verified(s3, bucket, key, tmp_path / "dl" / "big.bin", "0" * 64)
        assert not (tmp_path / "dl" / "big.bin").exists()
        # submitting the same bundle twice uploads its assets once (a spy around the real upload)
        calls: list[str] = []
        real = transfer.upload_asset

        def spy(*a: Any, **kw: Any) -> bool:
            sent_now = real(*a, **kw)
            calls.append("sent" if sent_now else "skipped")
            return sent_now

        monkeypatch.setattr(transfer, "upload_asset", spy)
        for expected in ("sent", "skipped"):
            calls.clear()
            job_id = await client.submit(TINY)
            await client.cancel(job_id)  # the recorder sees the marker before it renders anything
            assert calls == [expected]
        final = await client.watch(job_id, poll_s=0.3)
        assert final.state == "Cancelled"

    asyncio.run(scenario())


# ---------------------------------------------------------------------- isolation in the recorder


def test_recorder_reads_assets_only_from_the_submitting_tenant(emu: Emulator, tmp_path: Path) -> None:
    """Tenant B names the sha256 of an asset only tenant A uploaded: the recorder looks under B."""

    async def scenario() -> None:
        a = await signed_up(emu, tmp_path / "a", "alice@example.com")
        b = await signed_up(emu, tmp_path / "b", "bob@example.com")
        job_a = await a.submit(TINY)
        await a.cancel(job_a)
        tenant_a, tenant_b = await a.identity(), await b.identity()
        s3 = emu.client("s3")
        bucket = emu.resources["bucket"]
        doc = json.loads(s3.get_object(Bucket=bucket, Key=JobRef(tenant_a, job_a).job_key)["Body"].read())
        forged = JobRef(tenant_b, "20990101-000000-f0f0f0")
        # B writes under its own prefix (all IAM allows); the job names A's asset by hash and claims A
        doc["tenant"] = tenant_a
        s3.put_object(Bucket=bucket, Key=forged.job_key, Body=json.dumps(doc).encode())
        final = await b.watch(forged.job_id, poll_s=0.3)
        assert final.state == "Failed" and final.error == "Recorder.InvalidJob"
        assert "missing from the upload" in (final.cause or "")
        assert [j.job_id for j in await b.list_jobs()] == [forged.job_id]
        assert forged.job_id not in [j.job_id for j in await a.list_jobs()]

    asyncio.run(scenario())


# ---------------------------------------------------------------------- signed-in sessions and live apps

SECRET = "sid-" + "5ecret" * 5  # the cookie value: it must never show up outside the session object


def with_session(tmp: Path, mutate: Any = None) -> Path:
    """The tiny script signing in with a session file next to it (as `reelwright record` saves one)."""
    tmp.mkdir(parents=True, exist_ok=True)

    def m(doc: dict[str, Any]) -> None:
        doc["settings"]["session"] = "sessions/app.json"
        if mutate is not None:
            mutate(doc)
    path = variant(tmp, m)
    (tmp / "sessions").mkdir()
    state = {"cookies": [{"name": "sid", "value": SECRET, "domain": "127.0.0.1", "path": "/", "expires": -1,
                          "httpOnly": True, "secure": False, "sameSite": "Lax"}], "origins": []}
    session = tmp / "sessions" / "app.json"
    session.write_text(json.dumps(state))
    session.chmod(0o600)
    return path


def session_versions(emu: Emulator, key: str) -> list[dict[str, Any]]:
    resp = emu.client("s3").list_object_versions(Bucket=emu.resources["bucket"], Prefix=key)
    return [v for v in resp.get("Versions", []) + resp.get("DeleteMarkers", []) if v["Key"] == key]


def record_puts(client: CloudClient) -> list[tuple[str, dict[str, str]]]:
    """(URL, headers) of every PutObject the client sends from now on."""
    sent: list[tuple[str, dict[str, str]]] = []

    def hook(request: Any, **_: Any) -> None:
        sent.append((request.url, {k.lower(): (v.decode() if isinstance(v, bytes) else str(v))
                                   for k, v in request.headers.items()}))
    client._s3_client().meta.events.register("before-send.s3.PutObject", hook)
    return sent


def assert_no_secret_anywhere(emu: Emulator, tenant: str, job_id: str, files: list[Path]) -> None:
    s3 = emu.client("s3")
    bucket = emu.resources["bucket"]
    ref = JobRef(tenant, job_id)
    for key in (ref.job_key, ref.status_key):
        assert SECRET.encode() not in s3.get_object(Bucket=bucket, Key=key)["Body"].read(), key
    for f in files:
        assert SECRET.encode() not in f.read_bytes(), f
    for log in (emu.workdir / "tasks").glob("*.log"):
        assert SECRET not in log.read_text(errors="replace"), log
    # the session never went up as a content-addressed (7-day) asset
    listed = s3.list_objects_v2(Bucket=bucket, Prefix=f"tenants/{tenant}/assets/").get("Contents", [])
    for obj in listed:
        assert SECRET.encode() not in s3.get_object(Bucket=bucket, Key=obj["Key"])["Body"].read(), obj["Key"]


def test_session_travels_encrypted_and_is_gone_when_the_job_ends(emu: Emulator, tmp_path: Path) -> None:
    """One job completes, one fails on a bad locator: both sessions went up with SSE-KMS under the
    session key, were put back into the render's bundle, and no version of either is left."""

    def break_locator(doc: dict[str, Any]) -> None:
        doc["cards"][1]["actions"][0]["target"] = {"role": "button", "name": "Publish"}

    async def scenario() -> None:
        client = await signed_up(emu, tmp_path / "home", "ada.session@example.com")
        puts = record_puts(client)
        good, bad = await asyncio.gather(client.submit(with_session(tmp_path / "good")),
                                         client.submit(with_session(tmp_path / "bad", break_locator)))
        tenant = await client.identity()
        assert emu.config is not None and emu.config.session_key_id
        for job_id in (good, bad):
            key = JobRef(tenant, job_id).session_key
            (headers,) = [h for url, h in puts if unquote(url.split("?")[0]).endswith(key)]
            assert headers["x-amz-server-side-encryption"] == "aws:kms"
            assert headers["x-amz-server-side-encryption-aws-kms-key-id"] == emu.config.session_key_id
            assert headers["x-amz-server-side-encryption-bucket-key-enabled"].lower() == "false"
            assert "reelwright-session=true" in headers["x-amz-tagging"]
        # the session is uploaded right before job.json, which starts the job
        order = [url.split("?")[0].rsplit("/", 1)[-1] for url, _ in puts]
        assert order.count("session.json") == 2 and order.count("job.json") == 2
        ok = await client.watch(good, poll_s=0.3)
        failed = await client.watch(bad, poll_s=0.3)
        assert ok.state == "Complete", ok.describe()
        assert failed.state == "Failed" and failed.error == "Recorder.RenderFailed", failed.describe()
        for job_id in (good, bad):
            assert session_versions(emu, JobRef(tenant, job_id).session_key) == []
        files = await client.fetch(good, tmp_path / "out")
        assert any(f.suffix == ".mp4" for f in files)
        assert_no_secret_anywhere(emu, tenant, good, files)
        assert_no_secret_anywhere(emu, tenant, bad, [])

    asyncio.run(scenario())


def test_a_cancelled_job_takes_its_session_with_it(emu: Emulator, tmp_path: Path) -> None:
    def make_long(doc: dict[str, Any]) -> None:
        doc["cards"][1]["hold_ms"] = 60_000

    async def scenario() -> None:
        client = await signed_up(emu, tmp_path / "home", "barbara.session@example.com")
        job_id = await client.submit(with_session(tmp_path / "job", make_long))
        await wait_for_state(client, job_id, "Rendering")
        key = JobRef(await client.identity(), job_id).session_key
        # while the job runs the session is at rest under the session key, tagged for the backstop
        s3 = emu.client("s3")
        head = s3.head_object(Bucket=emu.resources["bucket"], Key=key)
        assert emu.config is not None
        assert head["ServerSideEncryption"] == "aws:kms" and head["SSEKMSKeyId"] == emu.config.session_key_id
        tags = s3.get_object_tagging(Bucket=emu.resources["bucket"], Key=key)["TagSet"]
        assert {"Key": "reelwright-session", "Value": "true"} in tags
        await client.cancel(job_id)
        final = await client.watch(job_id, poll_s=0.2)
        assert final.state == "Cancelled", final.describe()
        assert session_versions(emu, key) == []  # deleted before the recorder reported the cancel

    asyncio.run(scenario())


def test_recorder_puts_the_session_back_into_the_bundle_privately(emu: Emulator, tmp_path: Path) -> None:
    """The recorder's own steps, against the emulator's S3 in a bucket no rule watches: the session
    lands in the render's bundle under the name the script uses, 0600, checked against the submitted
    hash; a different file is refused; every version is deleted afterwards."""
    import hashlib

    from app.core.bundle import load_job, write_bundle
    from recorder.main import Outcome, Recorder, RecorderEnv

    s3 = emu.client("s3")
    bucket = "reelwright-direct"
    s3.create_bucket(Bucket=bucket)
    s3.put_bucket_versioning(Bucket=bucket, VersioningConfiguration={"Status": "Enabled"})
    script = with_session(tmp_path / "src")
    job = load_job(script)
    try:
        bundle = write_bundle(job.script, job.root, tmp_path / "bundle")
    finally:
        job.close()
    doc = json.loads((bundle / "job.json").read_text())
    body = (tmp_path / "src" / "sessions" / "app.json").read_bytes()
    doc["assets"].pop("sessions/app.json", None)
    doc["session"] = {"name": "sessions/app.json", "sha256": hashlib.sha256(body).hexdigest()}
    ref = JobRef("us-east-1:00000000-0000-4000-8000-000000000001", "20261205-000000-abcdef")
    for sha in set(doc["assets"].values()):
        s3.put_object(Bucket=bucket, Key=asset_key(ref.tenant, sha), Body=(bundle / "assets" / sha).read_bytes())
    s3.put_object(Bucket=bucket, Key=ref.job_key, Body=json.dumps(doc).encode())
    assert emu.config is not None
    for _ in range(2):  # two versions: all of them go
        s3.put_object(Bucket=bucket, Key=ref.session_key, Body=body, ServerSideEncryption="aws:kms",
                      SSEKMSKeyId=emu.config.session_key_id)

    async def scenario() -> None:
        rec = Recorder(RecorderEnv(bucket=bucket, job_key=ref.job_key, task_token="t"), s3=s3,
                       sfn=emu.client("stepfunctions"))
        await rec._download_bundle(tmp_path / "work")
        loaded = load_job(tmp_path / "work")
        try:
            session = loaded.resolve("sessions/app.json")
            assert session.read_bytes() == body
            assert stat.S_IMODE(session.stat().st_mode) == 0o600
        finally:
            loaded.close()
        # a session that is not the one submitted is refused
        s3.put_object(Bucket=bucket, Key=ref.session_key, Body=b'{"cookies": [], "origins": []}',
                      ServerSideEncryption="aws:kms", SSEKMSKeyId=emu.config.session_key_id)
        with pytest.raises(Outcome, match="does not match"):
            await rec._download_bundle(tmp_path / "work2")
        await rec._delete_session()
        versions = s3.list_object_versions(Bucket=bucket, Prefix=ref.session_key)
        assert not versions.get("Versions") and not versions.get("DeleteMarkers")
        with pytest.raises(Outcome, match="session file is missing"):
            await rec._download_bundle(tmp_path / "work3")

    asyncio.run(scenario())


def test_a_live_app_host_fails_fast_when_the_deployment_has_no_egress(emu: Emulator, tmp_path: Path) -> None:
    """The emulator runs tasks as the template's default (LiveAppEgress=off): a job pointing at a
    remote host fails before any browser starts, naming the host and what would allow it."""

    def live(doc: dict[str, Any]) -> None:
        del doc["settings"]["site"]
        doc["settings"]["base_url"] = "https://app.example.com/"

    async def scenario() -> None:
        client = await signed_up(emu, tmp_path / "home", "linus.live@example.com")
        job_id = await client.submit(variant(tmp_path, live))
        final = await client.watch(job_id, poll_s=0.3)
        assert final.state == "Failed" and final.error == "Recorder.HostNotAllowed", final.describe()
        assert "app.example.com" in (final.cause or "") and "LiveAppEgress=off" in (final.cause or "")

    asyncio.run(scenario())


def test_with_egress_on_only_listed_hosts_pass_the_recorders_check(emu: Emulator, tmp_path: Path) -> None:
    """Tasks started while the deployment says LiveAppEgress=on get the list; a host not on it fails
    before a browser starts, and so does plain HTTP to a listed host (the firewall passes HTTPS only)."""

    def live(url: str) -> Any:
        def m(doc: dict[str, Any]) -> None:
            del doc["settings"]["site"]
            doc["settings"]["base_url"] = url
        return m

    async def scenario() -> None:
        client = await signed_up(emu, tmp_path / "home", "margaret.live@example.com")
        (tmp_path / "a").mkdir()
        (tmp_path / "b").mkdir()
        other = await client.submit(variant(tmp_path / "a", live("https://other.example.net/")))
        plain = await client.submit(variant(tmp_path / "b", live("http://app.example.com/")))
        for job_id, expected in ((other, "not on this deployment's egress allow-list (app.example.com)"),
                                 (plain, "HTTPS on port 443 only")):
            final = await client.watch(job_id, poll_s=0.3)
            assert final.state == "Failed" and final.error == "Recorder.HostNotAllowed", final.describe()
            assert expected in (final.cause or "") and "settings › base_url" in (final.cause or "")

    emu.live_app_egress, emu.egress_allowed_hosts = "on", "app.example.com"
    try:
        asyncio.run(scenario())
    finally:
        emu.live_app_egress, emu.egress_allowed_hosts = "off", ""


# ---------------------------------------------------------------------- load


def test_five_users_submit_at_once_and_all_complete(emu: Emulator, tmp_path: Path,
                                                    record_property: Any) -> None:
    async def scenario() -> float:
        clients = await asyncio.gather(*(signed_up(emu, tmp_path / f"u{i}", f"user{i}@example.com")
                                         for i in range(5)))
        t0 = time.monotonic()
        job_ids = await asyncio.gather(*(c.submit(TINY) for c in clients))
        finals = await asyncio.gather(*(c.watch(j, poll_s=0.5) for c, j in zip(clients, job_ids, strict=True)))
        wall = time.monotonic() - t0
        assert [f.state for f in finals] == ["Complete"] * 5, [f.describe() for f in finals]
        for c, j in zip(clients, job_ids, strict=True):
            files = await c.fetch(j, tmp_path / j)
            probe_mp4(next(f for f in files if f.suffix == ".mp4"))
        return wall

    wall = asyncio.run(scenario())
    record_property("five_users_wall_s", round(wall, 1))
    print(f"5 concurrent users: all complete in {wall:.1f} s wall time")


# ---------------------------------------------------------------------- the CLI


def test_cli_signs_up_submits_waits_fetches_and_lists(emu: Emulator, tmp_path: Path) -> None:
    assert emu.config is not None
    config = emu.config.save(tmp_path / "config.json")
    env = {**os.environ, "REELWRIGHT_CLOUD_HOME": str(tmp_path / "home"), "REELWRIGHT_NO_KEYRING": "1"}
    root = HERE.parent.parent

    def cli(*args: str, stdin: str = "") -> subprocess.CompletedProcess[str]:
        return subprocess.run([sys.executable, "-m", "app.cli", "cloud", "--config", str(config), *args],
                              input=stdin, cwd=root, env=env, capture_output=True, text=True, timeout=300)

    out = cli("login", "--email", "cli@example.com", "--sign-up", "--code", "1", "--password-stdin",
              stdin=PASSWORD + "\n")
    assert out.returncode == 0, out.stderr
    assert "signed in as cli@example.com" in out.stdout and "no OS keyring" in out.stderr
    out = cli("submit", str(TINY), "--fetch", str(tmp_path / "out"))
    assert out.returncode == 0, out.stderr
    job_id = out.stdout.splitlines()[0]
    assert "Complete" in out.stdout and (tmp_path / "out" / "video.mp4").is_file()
    probe_mp4(tmp_path / "out" / "video.mp4")
    out = cli("status", job_id, "--json")
    assert out.returncode == 0 and json.loads(out.stdout[out.stdout.index("{"):])["state"] == "Complete"
    out = cli("list")
    assert out.returncode == 0 and job_id in out.stdout
    # share: the URL alone on stdout, and its real end on stderr (a week asked; the credentials end it)
    out = cli("share", job_id, "--expires", str(7 * 24 * 3600))
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip().startswith("http") and len(out.stdout.strip().splitlines()) == 1
    assert "this link works until" in out.stderr and "credentials" in out.stderr, out.stderr
    out = cli("status", "no-such-job-123")
    assert out.returncode == 4 and "error: no cloud job 'no-such-job-123'" in out.stderr
    assert "Traceback" not in out.stderr
    assert cli("logout").returncode == 0
    out = cli("list")
    assert out.returncode == 5 and "not signed in" in out.stderr


def test_deploy_creates_then_updates_the_stack(emu: Emulator, monkeypatch: pytest.MonkeyPatch) -> None:
    """Against moto's CloudFormation, which accepts the template but skips Cognito resources: the stack is
    created, a second deploy takes the update path, and the missing outputs are named, not a traceback."""
    from app.cloud.deploy import deploy
    from app.cloud.errors import CloudConfigError

    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "emulator")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "emulator")
    logs: list[str] = []
    for _ in range(2):
        with pytest.raises(CloudConfigError, match="missing user_pool_id, client_id, identity_pool_id"):
            deploy("reelwright-test", "123456789012.dkr.ecr.us-east-1.amazonaws.com/recorder:1", region="us-east-1",
                   endpoint_url=emu.endpoint, log=logs.append)
    assert logs[:2] == ["creating stack reelwright-test…", "updating stack reelwright-test…"]
    stack = emu.client("cloudformation").describe_stacks(StackName="reelwright-test")["Stacks"][0]
    outputs = {o["OutputKey"] for o in stack.get("Outputs", [])}
    assert {"BucketName", "Region"} <= outputs
    assert {p["ParameterKey"]: p["ParameterValue"] for p in stack["Parameters"]}["ImageUri"].endswith("recorder:1")


def test_credentials_refresh_before_they_expire(emu: Emulator, tmp_path: Path) -> None:
    """The identity pool's credentials (90 s in moto) are renewed by botocore before expiry, and an
    id token close to its own expiry is renewed with the refresh token on the way."""
    from datetime import UTC, datetime, timedelta

    async def scenario() -> None:
        client = await signed_up(emu, tmp_path, "katherine@example.com")
        session = client.auth.boto_session()
        creds = session.get_credentials()
        first_expiry = creds._expiry_time
        assert 0 < (first_expiry - datetime.now(UTC)).total_seconds() <= 90
        assert creds._advisory_refresh_timeout < 90  # scaled to the short lifetime
        # pretend time passed: the credentials are inside the refresh window, the id token nearly expired
        creds._expiry_time = datetime.now(UTC) + timedelta(seconds=2)
        old_token = client.auth.require().id_token
        assert _jwt_claims(old_token)["exp"] > datetime.now(UTC).timestamp()
        header, _, signature = old_token.split(".")
        client.auth.require().id_token = f"{header}.e30.{signature}"  # claims without "exp": treated as expired
        frozen = creds.get_frozen_credentials()
        assert frozen.access_key and creds._expiry_time > datetime.now(UTC) + timedelta(seconds=30)
        assert client.auth.require().id_token != old_token  # renewed through the refresh token
        assert emu.config is not None
        assert session.client("s3", **emu.config.client_kwargs()).list_buckets()["Buckets"]

    asyncio.run(scenario())


# ---------------------------------------------------------------------- no stuck jobs (issue 15)


def _execution_done(emu: Emulator, arn: str, timeout: float = 90) -> str:
    sfn = emu.client("stepfunctions")
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        status: str = sfn.describe_execution(executionArn=arn)["status"]
        if status != "RUNNING":
            return status
        time.sleep(0.3)
    raise AssertionError(f"execution {arn} still running after {timeout} s")


def test_a_publish_state_that_errors_still_ends_the_job_row_failed_with_a_reason(emu: Emulator) -> None:
    """Injected failure: the S3 event names a bucket that does not exist, so every Publish* state errors.
    Their Catch sends the job on, and the row ends Failed with the S3 error as its reason (it used to
    stay Queued).  No recorder is started for it.  A duplicate event for the same job starts nothing."""
    tenant, job_id = "us-east-1:publish-fails", "job-publish-fails"
    key = f"tenants/{tenant}/jobs/{job_id}/job.json"
    tasks_before = set(emu.tasks) | set(emu.finished_tasks)
    arn = emu._start_execution(key, bucket="reelwright-no-such-bucket")
    assert _execution_done(emu, arn) == "FAILED"
    row = emu.job_row(tenant, job_id)
    assert row is not None and row["status"] == "Failed", row
    assert "NoSuchBucket" in row["failure"] or "bucket" in row["failure"].lower(), row["failure"]
    assert row.get("finished")
    history = emu.client("stepfunctions").get_execution_history(executionArn=arn)["events"]
    entered = [e["stateEnteredEventDetails"]["name"] for e in history if e["type"].endswith("StateEntered")]
    assert "Render" not in entered and entered[-1] == "Failed", entered
    # the same job.json event again: the conditional putItem sends it to AlreadySubmitted
    again = emu._start_execution(key, bucket="reelwright-no-such-bucket")
    assert _execution_done(emu, again) == "SUCCEEDED"
    row2 = emu.job_row(tenant, job_id)
    assert row2 is not None and row2["status"] == "Failed" and row2["execution"] == row["execution"]
    assert set(emu.tasks) | set(emu.finished_tasks) == tasks_before  # no recorder ran for it
