"""Per-job credentials: the template's roles and states (statically, including what moto cannot
enforce: trust, key policy, conditions), and the recorder's handling of the JOB_AWS_* credentials
(missing, partial, expired before the job, expiring during it).

The recorder runs here against fakes for S3 and Step Functions (named as such): these tests are about
which outcome it reports, not about AWS.  tests/integration/test_cloud_job_credentials.py shows with
moto's IAM enforcement on what the credentials reach.
"""

from __future__ import annotations

import asyncio
import json
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from botocore.exceptions import ClientError

from app.cloud.emulator.statemachine import load_template, production_definition
from app.cloud.layout import JobRef
from app.core.errors import Cancelled
from recorder import main as recorder_main
from recorder.jobcreds import AMBIENT_SWITCH, JobCredentials, JobCredentialsError, parse_expiration
from recorder.main import Outcome, Recorder, RecorderEnv

TENANT = "us-east-1:aaaaaaaa-1111-4111-8111-aaaaaaaaaaaa"
REF = JobRef(TENANT, "20261206-030000-aaaaaa")


def _statements(doc: dict[str, Any]) -> list[dict[str, Any]]:
    st = doc["Statement"]
    return st if isinstance(st, list) else [st]


def _actions(st: dict[str, Any]) -> list[str]:
    a = st.get("Action", [])
    return [a] if isinstance(a, str) else list(a)


# ---------------------------------------------------------------------- the template


def test_the_task_role_reaches_no_tenant_object() -> None:
    resources = load_template()["Resources"]
    role = resources["RecorderTaskRole"]["Properties"]
    actions = [a for p in role["Policies"] for st in _statements(p["PolicyDocument"]) for a in _actions(st)]
    assert actions == ["polly:SynthesizeSpeech"]
    # nor through a separate policy, nor through the session key
    for name, r in resources.items():
        if r["Type"] == "AWS::IAM::Policy" and {"Ref": "RecorderTaskRole"} in r["Properties"]["Roles"]:
            for st in _statements(r["Properties"]["PolicyDocument"]):
                assert all(a.startswith("states:SendTask") for a in _actions(st)), name
    key_policy = resources["SessionKey"]["Properties"]["KeyPolicy"]
    key_principals = json.dumps([s["Principal"] for s in key_policy["Statement"]])
    assert "RecorderTaskRole" not in key_principals and "RecorderJobRole" in key_principals


def test_only_the_state_machine_may_assume_the_job_role() -> None:
    resources = load_template()["Resources"]
    job = resources["RecorderJobRole"]["Properties"]
    assert job["MaxSessionDuration"] == 3600
    trust = _statements(job["AssumeRolePolicyDocument"])
    assert trust == [{"Effect": "Allow", "Principal": {"AWS": {"Fn::GetAtt": ["StateMachineRole", "Arn"]}},
                      "Action": "sts:AssumeRole"}]
    # the one grant of sts:AssumeRole on it in the whole template is the state machine role's
    grants = [name for name, r in resources.items() if "sts:AssumeRole" in json.dumps(r)
              and '"RecorderJobRole", "Arn"' in json.dumps(r) and name != "RecorderJobRole"]
    assert grants == ["JobCredentialsPolicy"]
    assert resources["JobCredentialsPolicy"]["Properties"]["Roles"] == [{"Ref": "StateMachineRole"}]
    # the job role's own policy is every job's union but stays inside tenants/ and grants no KMS,
    # no listing outside tenants/*/jobs/*, no deletes but session files
    for st in _statements(job["Policies"][0]["PolicyDocument"]):
        text = json.dumps(st)
        assert "kms:" not in text and "s3:*" not in text, st
        if any(a.startswith("s3:Delete") for a in _actions(st)):
            assert st["Resource"] == {"Fn::Sub": "${Bucket.Arn}/tenants/*/jobs/*/session.json"}
        if any(a.startswith("s3:List") for a in _actions(st)):
            assert st["Condition"] == {"StringLike": {"s3:prefix": ["tenants/*/jobs/*"]}}


def test_the_state_machine_issues_job_credentials_before_render() -> None:
    states = production_definition()["States"]
    # the tenant's quotas come first: no credentials for a job over its minutes or waiting for a slot
    assert states["PublishQueued"]["Next"] == "CheckMonthlyMinutes"
    assert states["CheckMonthlyMinutes"]["Next"] == "ReadVariants" and states["FanOutOrNot"]["Default"] == "CheckCancel"
    assert [c["Next"] for c in states["CheckCancel"]["Catch"]] == ["TakeSlot", "TakeSlot"]
    assert states["TakeSlot"]["Next"] == "JobPolicy"
    assert states["JobPolicy"]["Type"] == "Pass" and states["JobPolicy"]["Next"] == "IssueJobCredentials"
    issue = states["IssueJobCredentials"]
    assert issue["Resource"] == "arn:aws:states:::aws-sdk:sts:assumeRole"
    params = issue["Parameters"]
    assert params == {"RoleArn": "${RecorderJobRole}", "RoleSessionName.$": "$.job.jobId", "DurationSeconds": 3600,
                      "Policy.$": "States.JsonToString($.jobPolicy)"}
    assert issue["Next"] == "Render"
    assert issue["Catch"] == [{"ErrorEquals": ["States.ALL"], "ResultPath": "$.error", "Next": "FailedDocument"}]
    # the session policy: every S3 resource is built from the job's own tenant and id; the session key
    # only for this job's session.json
    policy = json.dumps(states["JobPolicy"]["Parameters"])
    for st in states["JobPolicy"]["Parameters"]["Statement"]:
        resource = st.get("Resource.$") or st.get("Resource")
        if st["Action"] == "kms:Decrypt":
            assert resource == "${SessionKey}" and st["Action"] == "kms:Decrypt"
            context = st["Condition"]["StringEquals"]["kms:EncryptionContext:aws:s3:arn.$"]
            assert "/tenants/{}/jobs/{}/session.json" in context and "$.job.tenant, $.job.jobId" in context
        elif "s3:ListBucket" in st["Action"]:
            assert st["Condition"]["StringLike"]["s3:prefix.$"] == (
                "States.Array(States.Format('tenants/{}/jobs/{}/*', $.job.tenant, $.job.jobId))")
        else:
            assert resource.count("/tenants/{}/") == resource.count("States.Format('arn:${Partition}:s3:::{}/"), st
            assert "$.job.tenant" in resource, st
    assert "*/jobs/*" not in policy and "tenants/*" not in policy
    # the credentials reach the task only as its environment; the status documents never carry them
    for name, state in states.items():
        if name.endswith("Document"):
            assert "jobCredentials" not in json.dumps(state), name


def test_each_fan_out_variant_gets_the_jobs_credentials_only_after_its_slot() -> None:
    """A variant's task gets credentials of its own, under the very session policy of a single render (the
    template spells it twice - CloudFormation refuses YAML aliases - so this keeps the copies equal), and
    what an iteration hands back to status.json never includes them."""
    states = production_definition()["States"]
    inner = states["RenderVariants"]["ItemProcessor"]["States"]
    # a variant's first step looks for the owner's cancel marker (no credentials yet), then takes a slot
    assert states["RenderVariants"]["ItemProcessor"]["StartAt"] == "CheckVariantCancel"
    assert [c["Next"] for c in inner["CheckVariantCancel"]["Catch"]] == ["TakeVariantSlot", "TakeVariantSlot"]
    assert inner["TakeVariantSlot"]["Next"] == "VariantPolicy"
    assert inner["VariantPolicy"]["Next"] == "IssueVariantCredentials"
    assert inner["VariantPolicy"]["Parameters"] == states["JobPolicy"]["Parameters"]
    issue = inner["IssueVariantCredentials"]
    assert issue["Parameters"] == states["IssueJobCredentials"]["Parameters"]
    assert issue["Next"] == "RenderVariant" and issue["Catch"][0]["Next"] == "VariantFailed"
    for name in ("VariantCompleteResult", "VariantCancelledResult", "VariantFailedResult"):
        assert inner[name]["End"] is True and "jobCredentials" not in json.dumps(inner[name]), name
        assert "$.variant" in inner[name]["Parameters"].values(), name


# ---------------------------------------------------------------------- the recorder's credentials


def creds_env(expires: datetime | str) -> dict[str, str]:
    when = expires if isinstance(expires, str) else expires.strftime("%Y-%m-%dT%H:%M:%SZ")
    return {"JOB_AWS_ACCESS_KEY_ID": "ASIAJOBA", "JOB_AWS_SECRET_ACCESS_KEY": "secret-a",
            "JOB_AWS_SESSION_TOKEN": "token-a", "JOB_AWS_EXPIRATION": when}


def base_env(**extra: str) -> dict[str, str]:
    return {"JOB_BUCKET": "bucket", "JOB_KEY": REF.job_key, "TASK_TOKEN": "task-token",
            "AWS_DEFAULT_REGION": "us-east-1", **extra}


@pytest.mark.parametrize(("text", "expected"), [
    ("2026-12-06T04:00:00Z", datetime(2026, 12, 6, 4, 0, tzinfo=UTC)),
    ("2026-12-06T04:00:00.123000+00:00", datetime(2026, 12, 6, 4, 0, 0, 123000, tzinfo=UTC)),
    ("2026-12-06T05:00:00+01:00", datetime(2026, 12, 6, 4, 0, tzinfo=UTC)),
    ("2026-12-06T04:00:00", datetime(2026, 12, 6, 4, 0, tzinfo=UTC)),
    ("1796529600", datetime(2026, 12, 6, 4, 0, tzinfo=UTC)),
])
def test_expiration_is_read_in_the_forms_sts_and_step_functions_write(text: str, expected: datetime) -> None:
    assert parse_expiration(text) == expected


def test_job_credentials_come_whole_or_the_job_says_what_is_missing() -> None:
    full = JobCredentials.from_environ(creds_env("2026-12-06T04:00:00Z"))
    assert full is not None and full.access_key_id == "ASIAJOBA" and full.session_token == "token-a"
    assert "secret-a" not in repr(full) and "token-a" not in repr(full)
    partial = creds_env("2026-12-06T04:00:00Z")
    del partial["JOB_AWS_SESSION_TOKEN"]
    with pytest.raises(JobCredentialsError, match="JOB_AWS_SESSION_TOKEN not set"):
        JobCredentials.from_environ(partial)
    with pytest.raises(JobCredentialsError, match="not a time"):
        JobCredentials.from_environ(creds_env("tomorrow"))
    with pytest.raises(JobCredentialsError, match=AMBIENT_SWITCH):
        JobCredentials.from_environ({})
    assert JobCredentials.from_environ({AMBIENT_SWITCH: "1"}) is None


def test_the_recorder_signs_s3_with_the_job_credentials() -> None:
    env = RecorderEnv.from_environ(base_env(**creds_env(datetime.now(UTC) + timedelta(hours=1))))
    assert env.credentials is not None and env.credentials_error is None
    rec = Recorder(env, sfn=FakeStepFunctions())
    signing = rec.s3._request_signer._credentials
    assert (signing.access_key, signing.secret_key, signing.token) == ("ASIAJOBA", "secret-a", "token-a")


class FakeStepFunctions:
    """Records what the recorder reports through its task token (Step Functions cannot run here)."""

    def __init__(self) -> None:
        self.calls: list[tuple[str, dict[str, Any]]] = []

    def send_task_failure(self, **kw: Any) -> None:
        self.calls.append(("failure", kw))

    def send_task_success(self, **kw: Any) -> None:
        self.calls.append(("success", kw))

    def send_task_heartbeat(self, **kw: Any) -> None:
        self.calls.append(("heartbeat", kw))


class FakeS3:
    """An empty bucket that records every request: no cancel marker, no session file."""

    def __init__(self) -> None:
        self.calls: list[str] = []

    def __getattr__(self, name: str) -> Any:
        def call(*args: Any, **kw: Any) -> Any:
            self.calls.append(name)
            raise ClientError({"Error": {"Code": "404", "Message": "Not Found"}}, name)
        return call


def recorder(env: dict[str, str], tmp_path: Path) -> tuple[Recorder, FakeS3, FakeStepFunctions]:
    renv = RecorderEnv.from_environ({**env, "REELWRIGHT_WORK_DIR": str(tmp_path), "HEARTBEAT_S": "3600"})
    s3, sfn = FakeS3(), FakeStepFunctions()
    return Recorder(renv, s3=s3, sfn=sfn), s3, sfn


def failure_of(sfn: FakeStepFunctions) -> dict[str, Any]:
    failures = [kw for kind, kw in sfn.calls if kind == "failure"]
    assert len(failures) == 1, sfn.calls
    return failures[0]


def test_credentials_expired_before_the_job_starts_fail_it_before_any_s3_request(tmp_path: Path) -> None:
    expired = datetime.now(UTC) - timedelta(minutes=5)
    rec, s3, sfn = recorder(base_env(**creds_env(expired)), tmp_path)
    assert asyncio.run(rec.run()) == 1
    failure = failure_of(sfn)
    assert failure["error"] == "Recorder.CredentialsExpired"
    assert expired.strftime("%Y-%m-%dT%H:%M:%S") in failure["cause"] and "60 minutes" in failure["cause"]
    assert "get_object" not in s3.calls and "download_file" not in s3.calls and "upload_file" not in s3.calls


def test_credentials_expiring_mid_render_stop_it_with_a_clear_error(tmp_path: Path,
                                                                    monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(recorder_main, "CREDENTIALS_MARGIN_S", 0.0)
    rec, s3, sfn = recorder(base_env(**creds_env(datetime.now(UTC) + timedelta(seconds=2))), tmp_path)
    # the expiry time has whole seconds; the render must outlast it
    rendering: list[float] = []

    async def render_forever(work: Path) -> dict[str, Any]:
        """A render that only stops when cancelled, as app.core.render does."""
        while True:
            rec.cancel.raise_if_cancelled()
            rendering.append(asyncio.get_running_loop().time())
            await asyncio.sleep(0.05)

    monkeypatch.setattr(rec, "run_job", render_forever)
    assert asyncio.run(asyncio.wait_for(rec.run(), 10)) == 1
    failure = failure_of(sfn)
    assert failure["error"] == "Recorder.CredentialsExpired", failure
    assert "expired at" in failure["cause"] and "role chaining" in failure["cause"]
    assert len(rendering) > 5 and "upload_file" not in s3.calls
    assert [kind for kind, _ in sfn.calls if kind == "success"] == []


def test_an_s3_error_after_expiry_is_reported_as_the_expiry(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """S3 refusing an expired token surfaces as some other failure (a job.json it 'cannot read'); the
    recorder names the real cause and keeps the first error."""
    rec, _, sfn = recorder(base_env(**creds_env(datetime.now(UTC) + timedelta(hours=1))), tmp_path)

    async def expired_midway(work: Path) -> dict[str, Any]:
        past = datetime.now(UTC) - timedelta(seconds=1)
        rec.env.credentials = JobCredentials("ASIAJOBA", "secret-a", "token-a", past)
        raise Outcome("Recorder.InvalidJob", "cannot read job.json: ExpiredToken")

    monkeypatch.setattr(rec, "run_job", expired_midway)
    assert asyncio.run(rec.run()) == 1
    failure = failure_of(sfn)
    assert failure["error"] == "Recorder.CredentialsExpired"
    assert "then: Recorder.InvalidJob: cannot read job.json: ExpiredToken" in failure["cause"]


def test_a_cancel_while_credentials_are_valid_stays_a_cancel(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    rec, _, sfn = recorder(base_env(**creds_env(datetime.now(UTC) + timedelta(hours=1))), tmp_path)

    async def cancelled(work: Path) -> dict[str, Any]:
        raise Cancelled("cancelled by its owner")

    monkeypatch.setattr(rec, "run_job", cancelled)
    assert asyncio.run(rec.run()) == 0
    assert failure_of(sfn)["error"] == "Recorder.Cancelled"


def test_a_task_started_without_job_credentials_reports_it(tmp_path: Path) -> None:
    rec, s3, sfn = recorder(base_env(), tmp_path)
    assert asyncio.run(rec.run()) == 1
    failure = failure_of(sfn)
    assert failure["error"] == "Recorder.CredentialsMissing"
    assert "JOB_AWS_ACCESS_KEY_ID" in failure["cause"] and AMBIENT_SWITCH in failure["cause"]
    assert "get_object" not in s3.calls
