"""Per-tenant quotas (issue 15 part 2), proven in the emulator: a real moto server running the production
render state machine from ``template.yaml`` with ``MaxConcurrentJobsPerTenant`` = 1.

Fake, named as such: the *fake hung recorder* (``Emulator.fake_hung_jobs``), a task that never reports and
never heartbeats, so a job holds its slot for its four lost-heartbeat attempts (about 20 s with the
render heartbeat at 4 s) and then fails.  That makes both "a second job waits for the first" and "a
failed job releases its slot" observable without rendering a video.
"""

from __future__ import annotations

import asyncio
import hashlib
import json
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from app.cloud.emulator.local import Emulator
from app.cloud.layout import asset_key
from app.core import limits
from recorder.main import Outcome, Recorder, RecorderEnv
from tests.integration.test_cloud_emulator import EmulatorThread
from tests.integration.test_cloud_emulator_failures import (
    entered,
    job_key,
    job_tasks,
    status_doc,
    wait_execution,
    wait_until,
)

pytestmark = [pytest.mark.slow]

TENANT = "us-east-1:4a1e2b3c-5d6e-4f70-8a9b-0c1d2e3f4a5b"
OVER_QUOTA = "us-east-1:9f8e7d6c-5b4a-4392-8817-2a3b4c5d6e7f"
FIRST, SECOND = "20261206-000000-f1a51a", "20261206-000000-5ec0db"


@pytest.fixture(scope="module")
def emu(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Emulator]:
    thread = EmulatorThread(tmp_path_factory.mktemp("quotas"))
    thread.emu.render_heartbeat_s = 4
    thread.emu.max_concurrent_jobs = 1
    thread.emu.monthly_render_minutes = 30
    thread.emu.fake_hung_jobs = {FIRST, SECOND}
    with thread as e:
        yield e


def history(emu: Emulator, arn: str) -> list[dict[str, Any]]:
    events: list[dict[str, Any]] = emu.client("stepfunctions").get_execution_history(
        executionArn=arn, maxResults=1000)["events"]
    return events


def left(emu: Emulator, arn: str, state: str) -> list[datetime]:
    """When the execution left ``state`` (after success, or a caught failure)."""
    return [e["timestamp"] for e in history(emu, arn)
            if e["type"].endswith("StateExited") and e["stateExitedEventDetails"]["name"] == state]


def entered_at(emu: Emulator, arn: str, state: str) -> list[datetime]:
    return [e["timestamp"] for e in history(emu, arn)
            if e["type"].endswith("StateEntered") and e["stateEnteredEventDetails"]["name"] == state]


def task_times(emu: Emulator, key: str) -> list[tuple[float, float]]:
    """(started, exited) of the process of every ECS task of a job, as the Fargate stand-in ran them."""
    wait_until(lambda: all(emu.task_spans.get(t, (0, None))[1] is not None for t in job_tasks(emu, key)))
    spans = [emu.task_spans[t] for t in job_tasks(emu, key)]
    return [(start, end) for start, end in spans if end is not None]


def test_a_second_job_waits_for_the_tenants_only_slot_and_a_failed_job_releases_it(emu: Emulator) -> None:
    first = emu._start_execution(job_key(FIRST, TENANT))
    emu_wait_entered(emu, first, "Render")
    second = emu._start_execution(job_key(SECOND, TENANT))

    # while the first job renders, the second waits as Queued with a message saying why
    emu_wait_entered(emu, second, "WaitForSlot")
    waiting = status_doc(emu, job_key(SECOND, TENANT))
    assert waiting["status"] == "Queued", waiting
    assert waiting["message"] == "Waiting for one of your 1 running renders to finish", waiting
    assert "IssueJobCredentials" not in entered(emu, second)  # no credentials minted for a waiting job
    assert emu.usage(TENANT)["running"] == 1

    assert wait_execution(emu, first)["status"] == "FAILED"  # heartbeat lost 4 times
    assert wait_execution(emu, second, timeout=180)["status"] == "FAILED"

    # the second took its slot only after the first released it, and their tasks never overlapped
    released = left(emu, first, "ReleaseSlot")
    # the state after a TakeSlot that succeeded; a retry after a lost heartbeat comes back to it too
    # (fresh job credentials per attempt), so the slot was taken at its first entry
    taken = entered_at(emu, second, "JobPolicy")[:1]
    assert len(released) == 1 and len(taken) == 1, (released, taken)
    assert entered(emu, second).count("TakeSlot") == entered(emu, second).count("WaitForSlot") + 1
    assert taken[0] >= released[0], (taken, released)
    states = entered(emu, second)
    assert states.count("WaitForSlot") >= 2, states
    first_tasks = task_times(emu, job_key(FIRST, TENANT))
    second_tasks = task_times(emu, job_key(SECOND, TENANT))
    assert len(first_tasks) == 4 and len(second_tasks) == 4, (first_tasks, second_tasks)
    assert max(stop for _, stop in first_tasks) <= min(created for created, _ in second_tasks)

    # each failed job released its slot once (never below 0) and was charged the minimum minute
    month = datetime.now(UTC).strftime("USAGE#%Y-%m")
    usage = emu.usage(TENANT)
    assert usage["running"] == 0 and usage[month] == 2.0, usage
    for job_id in (FIRST, SECOND):
        row = emu.job_row(TENANT, job_id)
        assert row is not None and row["status"] == "Failed" and "slotHeld" not in row, row


def test_a_tenant_over_its_monthly_minutes_gets_quota_reached_and_no_task(emu: Emulator) -> None:
    month = datetime.now(UTC).strftime("USAGE#%Y-%m")
    emu.client("dynamodb").put_item(TableName=emu.resources["table"], Item={
        "pk": {"S": f"TENANT#{OVER_QUOTA}"}, "sk": {"S": month}, "minutes": {"N": "30.5"}})
    key = job_key("20261206-000000-0ecafe", OVER_QUOTA)
    arn = emu._start_execution(key)

    done = wait_execution(emu, arn)
    assert done["status"] == "SUCCEEDED"  # the tenant's own limit is not a service failure (no alarm)
    states = entered(emu, arn)
    assert states[-1] == "QuotaReached", states
    assert not {"TakeSlot", "IssueJobCredentials", "Render"} & set(states), states
    assert job_tasks(emu, key) == []

    doc = status_doc(emu, key)
    assert doc["status"] == "Failed" and doc["error"]["Error"] == "Reelwright.QuotaReached", doc
    assert "30 render minutes" in doc["error"]["Cause"], doc
    row = emu.job_row(OVER_QUOTA, "20261206-000000-0ecafe")
    assert row is not None and json.loads(row["failure"])["Error"] == "Reelwright.QuotaReached", row
    assert emu.usage(OVER_QUOTA) == {month: 30.5}  # nothing taken, nothing charged


def emu_wait_entered(emu: Emulator, arn: str, state: str, timeout: float = 60) -> None:
    import time

    deadline = time.monotonic() + timeout
    while state not in entered(emu, arn):
        if time.monotonic() > deadline:
            raise AssertionError(f"{arn} never entered {state}: {entered(emu, arn)}")
        time.sleep(0.2)


def test_the_recorder_refuses_an_oversized_asset_before_downloading_it(
        emu: Emulator, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """A tenant can PUT any size up to S3's 5 GiB (IAM cannot cap it), so the recorder sizes every asset
    with HeadObject first.  The limit is lowered to 1,000 bytes here instead of uploading 512 MiB."""
    monkeypatch.setattr(limits, "MAX_ASSET_BYTES", 1000)
    s3 = emu.client("s3")
    bucket = emu.resources["bucket"]
    small, big = b"x" * 10, b"y" * 5000
    shas = [hashlib.sha256(b).hexdigest() for b in (small, big)]
    for body, sha in zip((small, big), shas, strict=True):
        s3.put_object(Bucket=bucket, Key=asset_key(OVER_QUOTA, sha), Body=body)
    # over its monthly minutes, so the job.json below starts no render of its own (QuotaReached)
    emu.client("dynamodb").put_item(TableName=emu.resources["table"], Item={
        "pk": {"S": f"TENANT#{OVER_QUOTA}"}, "sk": {"S": datetime.now(UTC).strftime("USAGE#%Y-%m")},
        "minutes": {"N": "30.5"}})
    key = job_key("20261206-000000-b19a55", OVER_QUOTA)
    s3.put_object(Bucket=bucket, Key=key, Body=json.dumps(
        {"assets": {"site/a.txt": shas[0], "site/big.bin": shas[1]}}).encode())

    async def scenario() -> None:
        rec = Recorder(RecorderEnv(bucket=bucket, job_key=key, task_token="t", work_dir=tmp_path), s3=s3,
                       sfn=emu.client("stepfunctions"))
        with pytest.raises(Outcome) as refused:
            await rec._download_bundle(tmp_path / "job")
        assert refused.value.error == "Recorder.InvalidJob"
        assert f"asset {shas[1][:12]}… is 5,000 bytes; one asset may be at most 1,000" in refused.value.cause

    asyncio.run(scenario())
    assert not any((tmp_path / "job" / "assets").iterdir())  # nothing was downloaded
