"""No stuck jobs (issue 15 part 3), each path proven by injecting its failure into the emulator: a real
moto server running the production render and sweeper state machines from ``template.yaml``.

Fakes, named as such: the *fake hung recorder* (``Emulator.fake_hung_jobs``: a task that never reports
and never heartbeats), and a *stand-in execution* (a one-state Wait machine) where a test needs a job row
whose execution is running or over without rendering anything.  The render step's heartbeat is 4 s here
(300 s deployed); everything else is the template's.
"""

from __future__ import annotations

import asyncio
import hashlib
import json
import os
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from app.cloud.emulator.local import Emulator
from recorder.main import Recorder, RecorderEnv
from tests.integration.test_cloud_emulator import EmulatorThread

pytestmark = [pytest.mark.slow]

TENANT = "us-east-1:0b5c1a2d-3e4f-4a5b-8c6d-7e8f9a0b1c2d"


def job_key(job_id: str, tenant: str = TENANT) -> str:
    return f"tenants/{tenant}/jobs/{job_id}/job.json"


def started_by(key: str) -> str:
    """What the render step passes as RunTask's StartedBy: States.Hash(job key, 'MD5')."""
    return hashlib.md5(key.encode()).hexdigest()  # an identifier, as the template uses it


@pytest.fixture(scope="module")
def emu(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Emulator]:
    thread = EmulatorThread(tmp_path_factory.mktemp("stuck"))
    thread.emu.render_heartbeat_s = 4
    thread.emu.fake_hung_jobs = {"20261206-000000-10571a", "20261206-000000-57ac4e", "20261206-000000-dup1ca",
                                 "20261206-000000-fa0a17", "20261206-000000-1057fa"}
    with thread as e:
        yield e


def wait_execution(emu: Emulator, arn: str, timeout: float = 120) -> dict[str, Any]:
    sfn = emu.client("stepfunctions")
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        done: dict[str, Any] = sfn.describe_execution(executionArn=arn)
        if done["status"] != "RUNNING":
            return done
        time.sleep(0.3)
    raise AssertionError(f"execution {arn} still running after {timeout} s")


def wait_until(pred: Any, timeout: float = 30) -> None:
    deadline = time.monotonic() + timeout
    while not pred():
        if time.monotonic() > deadline:
            raise AssertionError("condition not met in time")
        time.sleep(0.2)


def status_doc(emu: Emulator, key: str) -> dict[str, Any]:
    status_key = key.rsplit("/", 1)[0] + "/status.json"
    body = emu.client("s3").get_object(Bucket=emu.resources["bucket"], Key=status_key)["Body"].read()
    doc: dict[str, Any] = json.loads(body)
    return doc


def job_tasks(emu: Emulator, key: str) -> list[str]:
    """The tasks RunTask started for ``key``, running or stopped, each once: a task that stops between the
    two listings is in both (a fresh-clone CI run counted a retried variant's task twice)."""
    ecs = emu.client("ecs")
    arns: list[str] = []
    for desired in ("RUNNING", "STOPPED"):
        arns += ecs.list_tasks(cluster=emu.resources["cluster"], startedBy=started_by(key),
                               desiredStatus=desired)["taskArns"]
    return list(dict.fromkeys(arns))


def entered(emu: Emulator, arn: str) -> list[str]:
    history = emu.client("stepfunctions").get_execution_history(executionArn=arn, maxResults=1000)["events"]
    return [e["stateEnteredEventDetails"]["name"] for e in history if e["type"].endswith("StateEntered")]


# ---------------------------------------------------------------------- the render step's catch path


def test_a_lost_recorder_is_stopped_before_each_retry_and_the_job_fails_with_a_reason(emu: Emulator) -> None:
    """Injected: the recorder hangs (no report, no heartbeat), and a task of the job from an earlier attempt
    still runs too.  Each attempt loses its heartbeat; before each of the 3 retries the job's running tasks
    are found by StartedBy and stopped; after the last, the catch path stops the last task and the row and
    status.json end Failed with a reason.  A duplicate event for the job runs no render and starts no task."""
    job_id = "20261206-000000-10571a"
    key = job_key(job_id)
    first = emu._start_execution(key)
    second = emu._start_execution(key)  # the same S3 event delivered twice, at once
    orphan = run_fake_task(emu, key)  # a task of the job that outlived its attempt

    ends = {a: wait_execution(emu, a)["status"] for a in (first, second)}
    # whichever won the row's conditional put renders; the other ends at AlreadySubmitted, having run nothing
    arn, duplicate = (first, second) if "Render" in entered(emu, first) else (second, first)
    assert ends == {arn: "FAILED", duplicate: "SUCCEEDED"}, ends
    assert "Render" not in entered(emu, duplicate) and entered(emu, duplicate)[-1] == "AlreadySubmitted"

    states = entered(emu, arn)
    lost = ["LostHeartbeat", "FindLostRecorder", "StopLostRecorder", "WaitToRetryRender"]
    path = [s for s in states[states.index("Render"):] if s in ("Render", *lost, "ExplainLostHeartbeat",
                                                               "FindRecorder", "StopRecorder", "Failed")]
    assert path == ["Render", "LostHeartbeat", "FindLostRecorder", "StopLostRecorder", "WaitToRetryRender"] * 3 + [
        "Render", "LostHeartbeat", "ExplainLostHeartbeat", "FindRecorder", "StopRecorder", "Failed"], states
    assert states.count("IssueJobCredentials") == 4  # fresh credentials for each of the 4 attempts

    row = emu.job_row(TENANT, job_id)
    assert row is not None and row["status"] == "Failed", row
    reason = json.loads(row["failure"])
    assert reason["Error"] == "States.HeartbeatTimeout"
    assert "stopped reporting" in reason["Cause"] and "task was stopped" in reason["Cause"]
    doc = status_doc(emu, key)
    assert doc["status"] == "Failed" and doc["error"] == reason

    tasks = job_tasks(emu, key)
    assert len(tasks) == 5 and orphan in tasks, tasks  # 4 attempts and the orphan; none for the duplicate
    wait_until(lambda: all(t in emu.stopped_tasks for t in tasks))
    reasons = sorted(emu.stopped_tasks[t] for t in tasks)
    retried = "Reelwright - the recorder stopped reporting (heartbeat lost); the render is retried"
    assert reasons == sorted([retried] * 4 + ["Reelwright - the render step ended (States.HeartbeatTimeout)"]), reasons
    wait_until(lambda: all(t in emu.finished_tasks for t in tasks))  # the processes are gone too
    assert emu.client("ecs").list_tasks(cluster=emu.resources["cluster"], startedBy=started_by(key),
                                        desiredStatus="RUNNING")["taskArns"] == []


# ---------------------------------------------------------------------- the sweeper


def stand_in_execution(emu: Emulator, running: bool) -> str:
    """An execution that is running (a 10-minute Wait) or over (the same, stopped) - the stand-in for a
    render execution without rendering anything."""
    sfn = emu.client("stepfunctions")
    if "stand_in" not in emu.resources:
        emu.resources["stand_in"] = sfn.create_state_machine(
            name="stand-in-execution", roleArn="arn:aws:iam::123456789012:role/reelwright-state-machine",
            definition=json.dumps({"StartAt": "Wait", "States": {"Wait": {"Type": "Wait", "Seconds": 600,
                                                                          "End": True}}}))["stateMachineArn"]
    arn: str = sfn.start_execution(stateMachineArn=emu.resources["stand_in"],
                                   name=f"stand-in-{os.urandom(4).hex()}", input="{}")["executionArn"]
    if not running:
        sfn.stop_execution(executionArn=arn, error="States.Timeout", cause="stand-in for a render past its budget")
        wait_until(lambda: sfn.describe_execution(executionArn=arn)["status"] != "RUNNING")
    return arn


def queued_row(emu: Emulator, job_id: str, execution: str, status: str = "Queued", slot_held: bool = False) -> None:
    """A job row as RecordQueued writes it; ``slot_held``: as TakeSlot leaves it (and one more running)."""
    ddb = emu.client("dynamodb")
    item = {"pk": {"S": f"TENANT#{TENANT}"}, "sk": {"S": f"JOB#{job_id}"}, "status": {"S": status},
            "submitted": {"S": "2026-12-06T00:00:00Z"}, "execution": {"S": execution}}
    if slot_held:
        item["slotHeld"] = {"BOOL": True}
        ddb.update_item(TableName=emu.resources["table"],
                        Key={"pk": {"S": f"TENANT#{TENANT}"}, "sk": {"S": "USAGE#RUNNING"}},
                        UpdateExpression="ADD running :one", ExpressionAttributeValues={":one": {"N": "1"}})
    ddb.put_item(TableName=emu.resources["table"], Item=item)


def run_fake_task(emu: Emulator, key: str) -> str:
    """A task of the job still running (the fake hung recorder), tagged as the render step tags it."""
    ec2 = emu.client("ec2")
    vpc = ec2.describe_vpcs(Filters=[{"Name": "isDefault", "Values": ["true"]}])["Vpcs"][0]["VpcId"]
    subnet = ec2.describe_subnets(Filters=[{"Name": "vpc-id", "Values": [vpc]}])["Subnets"][0]["SubnetId"]
    sg = ec2.describe_security_groups(Filters=[{"Name": "vpc-id", "Values": [vpc]}])["SecurityGroups"][0]["GroupId"]
    task = emu.client("ecs").run_task(
        cluster=emu.resources["cluster"], taskDefinition=emu.resources["task_definition"], launchType="FARGATE",
        startedBy=started_by(key), overrides={"containerOverrides": [{"name": "recorder", "environment": [
            {"name": "JOB_BUCKET", "value": emu.resources["bucket"]}, {"name": "JOB_KEY", "value": key},
            {"name": "TASK_TOKEN", "value": "none"}]}]},
        networkConfiguration={"awsvpcConfiguration": {"subnets": [subnet], "securityGroups": [sg]}})["tasks"][0]
    arn: str = task["taskArn"]
    wait_until(lambda: arn in emu.tasks)
    return arn


def test_the_sweeper_fails_a_job_whose_execution_ended_and_leaves_a_running_one(emu: Emulator) -> None:
    """Injected: a row still Queued whose execution is over (stopped at its budget) with its task still
    running.  The sweeper fails the row (Reelwright.Stuck), stops the task and publishes Failed; a row
    whose execution runs, and a finished row, are left alone.  The sweep fails loudly (the alarm's signal)."""
    stuck_id, running_id, done_id = "20261206-000000-57ac4e", "20261206-000000-a11ve0", "20261206-000000-d0ne00"
    stuck_key = job_key(stuck_id)
    queued_row(emu, stuck_id, stand_in_execution(emu, running=False), slot_held=True)
    running_before = emu.usage(TENANT)["running"]
    queued_row(emu, running_id, stand_in_execution(emu, running=True))
    queued_row(emu, done_id, stand_in_execution(emu, running=False), status="Complete")
    task = run_fake_task(emu, stuck_key)

    sweep = emu.sweep_once()
    assert sweep["status"] == "FAILED" and sweep.get("error") == "Reelwright.Stuck", sweep

    row = emu.job_row(TENANT, stuck_id)
    assert row is not None and row["status"] == "Failed" and row.get("finished"), row
    reason = json.loads(row["failure"])
    assert reason["Error"] == "Reelwright.Stuck" and "ended (ABORTED)" in reason["Cause"], reason
    doc = status_doc(emu, stuck_key)
    assert doc["status"] == "Failed" and doc["error"] == reason and doc["jobId"] == stuck_id
    wait_until(lambda: task in emu.stopped_tasks and task in emu.finished_tasks)
    assert "sweeper" in emu.stopped_tasks[task]
    # the stuck job's render slot is released, once
    assert "slotHeld" not in row and emu.usage(TENANT)["running"] == running_before - 1

    assert (emu.job_row(TENANT, running_id) or {})["status"] == "Queued"
    assert (emu.job_row(TENANT, done_id) or {})["status"] == "Complete"
    # nothing left to sweep: the next sweep succeeds and changes nothing
    again = emu.sweep_once()
    assert again["status"] == "SUCCEEDED", again
    assert (emu.job_row(TENANT, running_id) or {})["status"] == "Queued"
    assert emu.usage(TENANT)["running"] == running_before - 1


def test_the_sweeper_fails_a_stuck_fan_out_variant_releases_its_slot_and_stops_only_its_task(emu: Emulator) -> None:
    """Injected: a fan-out variant's slot row (JOB#<job>#<variant>, as TakeVariantSlot writes it) whose
    execution is over, its task still running, and a sibling variant's task too.  The sweeper fails the
    variant's row, releases its slot once and stops its task - found by the variant's own StartedBy -
    and leaves the sibling's task alone."""
    job_id = "20261206-000000-fa0a17"
    key = job_key(job_id)
    execution = stand_in_execution(emu, running=False)
    queued_row(emu, f"{job_id}#de-9x16", execution, status="Rendering", slot_held=True)
    running_before = emu.usage(TENANT)["running"]
    stuck_task = run_fake_task(emu, f"{key}#de-9x16")
    sibling_task = run_fake_task(emu, f"{key}#en-9x16")

    sweep = emu.sweep_once()
    assert sweep["status"] == "FAILED" and sweep.get("error") == "Reelwright.Stuck", sweep
    row = emu.job_row(TENANT, f"{job_id}#de-9x16")
    assert row is not None and row["status"] == "Failed" and "slotHeld" not in row, row
    assert emu.usage(TENANT)["running"] == running_before - 1
    wait_until(lambda: stuck_task in emu.stopped_tasks)
    assert "sweeper" in emu.stopped_tasks[stuck_task]
    assert sibling_task not in emu.stopped_tasks
    assert status_doc(emu, key)["status"] == "Failed"
    emu.client("ecs").stop_task(cluster=emu.resources["cluster"], task=sibling_task, reason="test over")
    assert emu.sweep_once()["status"] == "SUCCEEDED"  # released once: nothing left to sweep
    assert emu.usage(TENANT)["running"] == running_before - 1


def test_a_fan_out_variant_that_loses_its_heartbeat_on_every_attempt_fails_the_job_naming_it(emu: Emulator) -> None:
    """Injected: a fan-out job whose variant's recorder hangs on every attempt (the fake hung recorder: no
    report, no heartbeat).  The variant is retried as a single job's render is - its lost task stopped
    before each of 3 retries, fresh credentials each time, its slot kept - and after the 4th attempt its
    last task is stopped, it ends Failed with a reason naming it, its slot is released, and the job ends
    Failed naming the variant."""
    from app.cloud.layout import Variant, variants_metadata

    job_id = "20261206-000000-1057fa"
    key = job_key(job_id)
    name = Variant.of("de", "480x270").name
    running_before = emu.usage(TENANT).get("running", 0)
    emu.client("s3").put_object(Bucket=emu.resources["bucket"], Key=key, Body=b"{}",
                                Metadata={"variants": variants_metadata([Variant.of("de", "480x270")])})
    wait_until(lambda: key in emu.executions, 20)  # the event rule stand-in starts it
    done = wait_execution(emu, emu.executions[key], 180)
    assert done["status"] in ("SUCCEEDED", "FAILED"), done

    states = entered(emu, emu.executions[key])
    lost = ["RenderVariant", "LostVariantHeartbeat", "FindLostVariantRecorder", "StopLostVariantRecorder",
            "WaitToRetryVariant"]
    path = [s for s in states if s in (*lost, "ExplainVariantLostHeartbeat", "FindVariantRecorder",
                                       "StopVariantRecorder", "VariantFailed", "ReleaseVariantSlot")]
    assert path == lost * 3 + ["RenderVariant", "LostVariantHeartbeat", "ExplainVariantLostHeartbeat",
                               "FindVariantRecorder", "StopVariantRecorder", "VariantFailed",
                               "ReleaseVariantSlot"], states
    assert states.count("IssueVariantCredentials") == 4 and states.count("TakeVariantSlot") == 1

    row = emu.job_row(TENANT, job_id)
    assert row is not None and row["status"] == "Failed", row
    reason = json.loads(row["failure"])
    assert reason["Error"] == "Reelwright.VariantsFailed" and name in reason["Cause"], reason
    doc = status_doc(emu, key)
    assert doc["status"] == "Failed" and doc["error"] == reason
    [variant] = doc["variants"]
    assert variant["status"] == "Failed" and variant["error"]["Error"] == "States.HeartbeatTimeout", variant
    assert f"variant {name} stopped reporting" in variant["error"]["Cause"], variant
    # its slot is released (once) and its row says how it ended
    variant_row = emu.job_row(TENANT, f"{job_id}#{name}")
    assert variant_row is not None and "slotHeld" not in variant_row and variant_row["status"] == "Failed"
    assert emu.usage(TENANT).get("running", 0) == running_before
    # every attempt's task was stopped: 3 by the retries, the last by the catch path
    tasks = job_tasks(emu, f"{key}#{name}")
    assert len(tasks) == 4, tasks
    wait_until(lambda: all(t in emu.stopped_tasks for t in tasks))
    retried = "Reelwright - the variant's recorder stopped reporting (heartbeat lost); the variant is retried"
    assert sorted(emu.stopped_tasks[t] for t in tasks) == sorted(
        [retried] * 3 + ["Reelwright - the variant's render step ended"]), [emu.stopped_tasks[t] for t in tasks]
    wait_until(lambda: all(t in emu.finished_tasks for t in tasks))


# ---------------------------------------------------------------------- a straggler recorder


def test_a_straggler_recorders_progress_cannot_overwrite_the_final_status(emu: Emulator, tmp_path: Path) -> None:
    """Injected: the state machine publishes Failed while the recorder still runs.  The recorder's next
    progress write is refused by S3 (412, If-Match) and it publishes nothing more: status.json stays
    Failed.  A recorder that starts after the job is final writes nothing at all."""
    job_id = "20261206-000000-57a991"
    key = job_key(job_id)
    s3 = emu.client("s3")
    bucket = emu.resources["bucket"]
    status_key = key.rsplit("/", 1)[0] + "/status.json"
    s3.put_object(Bucket=bucket, Key=status_key, Body=json.dumps({"status": "Queued", "jobId": job_id}).encode())

    async def scenario() -> None:
        rec = Recorder(RecorderEnv(bucket=bucket, job_key=key, task_token="t", work_dir=tmp_path), s3=s3,
                       sfn=emu.client("stepfunctions"))
        await rec._put_status({"status": "Rendering", "stage": "capture", "progress": 0.2})
        assert status_doc(emu, key)["status"] == "Rendering"
        await rec._put_status({"status": "Rendering", "stage": "capture", "progress": 0.3})
        assert status_doc(emu, key)["progress"] == 0.3
        # the state machine gives up on the task and publishes Failed (its PublishFailed state, unconditional)
        failed = {"status": "Failed", "jobId": job_id, "error": {"Error": "States.Timeout", "Cause": "test"}}
        s3.put_object(Bucket=bucket, Key=status_key, Body=json.dumps(failed).encode())
        await rec._put_status({"status": "Rendering", "stage": "encode", "progress": 0.9})
        assert rec._status_refused
        assert status_doc(emu, key) == failed
        await rec._put_status({"status": "Rendering", "stage": "upload", "progress": 0.99})
        assert status_doc(emu, key) == failed
        # a late recorder (e.g. a retry's task starting after the job was failed) writes nothing
        late = Recorder(RecorderEnv(bucket=bucket, job_key=key, task_token="t", work_dir=tmp_path), s3=s3,
                       sfn=emu.client("stepfunctions"))
        await late._put_status({"status": "Rendering", "stage": "prepare", "progress": 0.0})
        assert late._status_refused and status_doc(emu, key) == failed

    asyncio.run(scenario())
    versions = s3.list_object_versions(Bucket=bucket, Prefix=status_key)["Versions"]
    assert len(versions) == 4  # Queued, two progress writes, Failed - nothing after it
