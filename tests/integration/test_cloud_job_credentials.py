"""Per-job credentials with moto's IAM enforcement on: what a recorder task of job A can reach.

The credentials are issued by the template's own ``JobPolicy`` and ``IssueJobCredentials`` states
running in moto's Step Functions (:mod:`app.cloud.emulator.jobcreds`) against the seeded
``RecorderJobRole``; the emulator's moto server applies their session policy (moto alone would grant
the role's whole policy) and their expiry.  Then enforcement goes on and the credentials are tried on
job A's own objects, on another job of tenant A, on tenant B, and on the bucket root.  What moto cannot
show (conditions other than ``s3:prefix``, the KMS key policy, the role's trust) is listed in
docs/cloud.md and checked statically in tests/unit/test_cloud_jobcreds.py.
"""

from __future__ import annotations

import asyncio
import json
import tempfile
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import boto3
import pytest
from botocore.config import Config
from botocore.exceptions import ClientError

from app.cloud.emulator.jobcreds import IssuedJobCredentials, issue_job_credentials
from app.cloud.emulator.local import Emulator
from app.cloud.layout import JobRef
from recorder.jobcreds import JobCredentials
from recorder.main import Outcome, Recorder, RecorderEnv

TENANT_A = "us-east-1:aaaaaaaa-1111-4111-8111-aaaaaaaaaaaa"
TENANT_B = "us-east-1:bbbbbbbb-2222-4222-8222-bbbbbbbbbbbb"
JOB_A = "20261206-030000-aaaaaa"
OTHER_JOB_A = "20261206-030100-aaaaab"
JOB_B = "20261206-030000-bbbbbb"
ASSET = "a" * 64


def key(tenant: str, job: str, name: str) -> str:
    return f"tenants/{tenant}/jobs/{job}/{name}"


#: the longest names the policy must fit: S3's bucket name limit, and the job id pattern's (app.cloud.layout)
LONGEST_BUCKET = "b" * 63
LONGEST_JOB = "j" * 64
LONGEST: dict[str, Any] = {}


@pytest.fixture(scope="module")
def world() -> Iterator[tuple[Emulator, IssuedJobCredentials]]:
    """An emulator (no stand-ins: these job.json keys are not to be rendered) with objects of two
    tenants, job A's credentials issued, then IAM enforcement on."""
    emu = Emulator(workdir=Path(tempfile.mkdtemp(prefix="jobcreds-")), stand_ins=False)
    loop = asyncio.new_event_loop()
    loop.run_until_complete(emu.start())
    try:
        s3, bucket = emu.client("s3"), emu.resources["bucket"]
        for tenant, job in ((TENANT_A, JOB_A), (TENANT_A, OTHER_JOB_A), (TENANT_B, JOB_B)):
            for name in ("job.json", "status.json", "out/video.mp4"):
                s3.put_object(Bucket=bucket, Key=key(tenant, job, name), Body=f"{tenant} {job} {name}".encode())
            s3.put_object(Bucket=bucket, Key=key(tenant, job, "session.json"), Body=b'{"cookies": []}',
                          ServerSideEncryption="aws:kms", SSEKMSKeyId=emu.resources["session_key"])
        for tenant in (TENANT_A, TENANT_B):
            s3.put_object(Bucket=bucket, Key=f"tenants/{tenant}/assets/{ASSET}", Body=tenant.encode())
        creds = issue_job_credentials(emu, TENANT_A, JOB_A)
        LONGEST["policy"] = issue_job_credentials(emu, TENANT_B, LONGEST_JOB, bucket=LONGEST_BUCKET).policy
        # IAM enforcement on from here (moto: reset-auth with 0 requests left unauthenticated)
        req = urllib.request.Request(emu.endpoint + "/moto-api/reset-auth", data=b"0", method="POST",
                                     headers={"Content-Type": "text/plain"})
        urllib.request.urlopen(req).close()
        yield emu, creds
    finally:
        loop.run_until_complete(emu.stop())
        loop.close()


def job_s3(emu: Emulator, creds: IssuedJobCredentials) -> Any:
    return boto3.client("s3", endpoint_url=emu.endpoint, region_name=emu.region, **creds.client_keys())


def error_code(call: Any, **kw: Any) -> str | None:
    """The error code of ``call(**kw)``, or None when it succeeds."""
    try:
        call(**kw)
    except ClientError as exc:
        code = exc.response.get("Error", {}).get("Code", "")
        status = exc.response.get("ResponseMetadata", {}).get("HTTPStatusCode")
        return "AccessDenied" if status == 403 else str(code)
    return None


def test_the_state_machine_issues_credentials_for_one_tenants_job(world: tuple[Emulator, IssuedJobCredentials]) -> None:
    emu, creds = world
    env = creds.environment
    assert set(env) == {"JOB_AWS_ACCESS_KEY_ID", "JOB_AWS_SECRET_ACCESS_KEY", "JOB_AWS_SESSION_TOKEN",
                        "JOB_AWS_EXPIRATION"}
    assert env["JOB_AWS_ACCESS_KEY_ID"] not in ("emulator", "ak")
    # the recorder reads them as the task would, and they last the hour asked for
    parsed = JobCredentials.from_environ(env)
    assert parsed is not None and 3500 < parsed.seconds_left() <= 3600, env["JOB_AWS_EXPIRATION"]
    # every S3 resource of the session policy names tenant A's job (or A's assets, or the bucket for listing)
    text = json.dumps(creds.policy)
    assert TENANT_B not in text and OTHER_JOB_A not in text
    bucket = emu.resources["bucket"]
    for st in creds.policy["Statement"]:
        resources = st["Resource"] if isinstance(st["Resource"], list) else [st["Resource"]]
        for r in resources:
            assert (r.startswith(f"arn:aws:s3:::{bucket}/tenants/{TENANT_A}/jobs/{JOB_A}/")
                    or r == f"arn:aws:s3:::{bucket}/tenants/{TENANT_A}/assets/*"
                    or r == f"arn:aws:s3:::{bucket}" or r == emu.resources["session_key"]), (st, r)
    listing = next(s for s in creds.policy["Statement"] if "s3:ListBucket" in s["Action"])
    assert listing["Condition"] == {"StringLike": {"s3:prefix": [f"tenants/{TENANT_A}/jobs/{JOB_A}/*"]}}
    decrypt = next(s for s in creds.policy["Statement"] if s["Action"] == "kms:Decrypt")
    assert decrypt["Condition"]["StringEquals"]["kms:EncryptionContext:aws:s3:arn"] == (
        f"arn:aws:s3:::{bucket}/{key(TENANT_A, JOB_A, 'session.json')}")


def test_the_session_policy_fits_sts_limit_for_the_longest_names(
        world: tuple[Emulator, IssuedJobCredentials]) -> None:
    """AWS refuses a session policy over 2,048 characters (moto does not check): a job id or bucket
    name at its longest must still fit, or every such job would fail at IssueJobCredentials."""
    _, creds = world
    compact = json.dumps(LONGEST["policy"], separators=(",", ":"))  # States.JsonToString's form
    assert LONGEST_BUCKET in compact and LONGEST_JOB in compact
    print(f"session policy: {len(json.dumps(creds.policy, separators=(',', ':')))} characters for this job, "
          f"{len(compact)} with a 63-character bucket and a 64-character job id (limit 2048)")
    assert len(compact) <= 2048


def test_job_a_reaches_its_own_job(world: tuple[Emulator, IssuedJobCredentials]) -> None:
    emu, creds = world
    s3, bucket = job_s3(emu, creds), emu.resources["bucket"]
    body = s3.get_object(Bucket=bucket, Key=key(TENANT_A, JOB_A, "job.json"))["Body"].read()
    assert body == f"{TENANT_A} {JOB_A} job.json".encode()
    assert s3.get_object(Bucket=bucket, Key=f"tenants/{TENANT_A}/assets/{ASSET}")["Body"].read() == TENANT_A.encode()
    assert s3.get_object(Bucket=bucket, Key=key(TENANT_A, JOB_A, "session.json"))["Body"].read() == b'{"cookies": []}'
    s3.put_object(Bucket=bucket, Key=key(TENANT_A, JOB_A, "status.json"), Body=b'{"status": "Rendering"}')
    s3.put_object(Bucket=bucket, Key=key(TENANT_A, JOB_A, "out/video.mp4"), Body=b"new video")
    upload = s3.create_multipart_upload(Bucket=bucket, Key=key(TENANT_A, JOB_A, "out/big.mp4"))
    s3.abort_multipart_upload(Bucket=bucket, Key=key(TENANT_A, JOB_A, "out/big.mp4"), UploadId=upload["UploadId"])
    listed = s3.list_objects_v2(Bucket=bucket, Prefix=f"tenants/{TENANT_A}/jobs/{JOB_A}/")
    assert {o["Key"] for o in listed["Contents"]} >= {key(TENANT_A, JOB_A, "job.json")}
    versions = s3.list_object_versions(Bucket=bucket, Prefix=key(TENANT_A, JOB_A, "session.json"))["Versions"]
    assert len(versions) == 1
    s3.delete_object(Bucket=bucket, Key=key(TENANT_A, JOB_A, "session.json"), VersionId=versions[0]["VersionId"])


def test_job_a_reaches_nothing_of_tenant_b(world: tuple[Emulator, IssuedJobCredentials]) -> None:
    emu, creds = world
    s3, bucket = job_s3(emu, creds), emu.resources["bucket"]
    for name in ("job.json", "status.json", "session.json", "out/video.mp4"):
        assert error_code(s3.get_object, Bucket=bucket, Key=key(TENANT_B, JOB_B, name)) == "AccessDenied", name
        assert error_code(s3.put_object, Bucket=bucket, Key=key(TENANT_B, JOB_B, name), Body=b"x") == "AccessDenied"
    assert error_code(s3.get_object, Bucket=bucket, Key=f"tenants/{TENANT_B}/assets/{ASSET}") == "AccessDenied"
    assert error_code(s3.put_object, Bucket=bucket, Key=f"tenants/{TENANT_B}/assets/{'b' * 64}",
                      Body=b"x") == "AccessDenied"
    assert error_code(s3.delete_object, Bucket=bucket, Key=key(TENANT_B, JOB_B, "session.json")) == "AccessDenied"
    assert error_code(s3.create_multipart_upload, Bucket=bucket,
                      Key=key(TENANT_B, JOB_B, "out/big.mp4")) == "AccessDenied"
    assert error_code(s3.list_objects_v2, Bucket=bucket, Prefix=f"tenants/{TENANT_B}/") == "AccessDenied"


def test_job_a_reaches_no_other_job_of_its_tenant_nor_the_bucket_root(
        world: tuple[Emulator, IssuedJobCredentials]) -> None:
    emu, creds = world
    s3, bucket = job_s3(emu, creds), emu.resources["bucket"]
    for name in ("job.json", "status.json", "session.json", "out/video.mp4"):
        assert error_code(s3.get_object, Bucket=bucket, Key=key(TENANT_A, OTHER_JOB_A, name)) == "AccessDenied"
        assert error_code(s3.put_object, Bucket=bucket, Key=key(TENANT_A, OTHER_JOB_A, name),
                          Body=b"x") == "AccessDenied"
    # its own job.json and session.json are read-only; nothing outside status.json and out/ is writable
    assert error_code(s3.put_object, Bucket=bucket, Key=key(TENANT_A, JOB_A, "job.json"), Body=b"{}") == "AccessDenied"
    assert error_code(s3.put_object, Bucket=bucket, Key=key(TENANT_A, JOB_A, "cancel"), Body=b"") == "AccessDenied"
    assert error_code(s3.delete_object, Bucket=bucket, Key=key(TENANT_A, JOB_A, "job.json")) == "AccessDenied"
    assert error_code(s3.put_object, Bucket=bucket, Key=f"tenants/{TENANT_A}/assets/{'c' * 64}",
                      Body=b"x") == "AccessDenied"
    for prefix in (None, "", "tenants/", f"tenants/{TENANT_A}/", f"tenants/{TENANT_A}/jobs/{OTHER_JOB_A}/"):
        kw = {"Bucket": bucket} if prefix is None else {"Bucket": bucket, "Prefix": prefix}
        assert error_code(s3.list_objects_v2, **kw) == "AccessDenied", prefix
        assert error_code(s3.list_object_versions, **kw) == "AccessDenied", prefix
    assert error_code(s3.list_buckets) == "AccessDenied"


def test_a_recorder_with_job_a_credentials_cannot_load_tenant_bs_job(
        world: tuple[Emulator, IssuedJobCredentials], tmp_path: Path) -> None:
    """The recorder's own download path, signed with job A's credentials, pointed at B's job key (as a
    compromised or confused task would be): S3 refuses, and the job fails naming the key."""
    emu, creds = world
    ref = JobRef(TENANT_B, JOB_B)
    env = RecorderEnv(bucket=emu.resources["bucket"], job_key=ref.job_key, task_token="unused")
    rec = Recorder(env, s3=job_s3(emu, creds), sfn=object())
    with pytest.raises(Outcome) as failed:
        asyncio.run(rec._download_bundle(tmp_path / "bundle"))
    assert failed.value.error == "Recorder.InvalidJob"
    assert ref.job_key in failed.value.cause and "AccessDenied" in failed.value.cause


def test_expired_job_credentials_are_refused(world: tuple[Emulator, IssuedJobCredentials]) -> None:
    """moto issues whatever duration is asked; the emulator's server refuses them once past it, as S3
    does (``ExpiredToken``) - which the recorder reports as Recorder.CredentialsExpired."""
    emu, _ = world
    # STS's minimum is 900 s and botocore checks it; moto takes 1 s, so this client does not check
    sts = boto3.client("sts", endpoint_url=emu.endpoint, region_name=emu.region, aws_access_key_id="emulator",
                       aws_secret_access_key="emulator", config=Config(parameter_validation=False))
    req = urllib.request.Request(emu.endpoint + "/moto-api/reset-auth", data=b"1", method="POST",
                                 headers={"Content-Type": "text/plain"})
    urllib.request.urlopen(req).close()  # one more request without authentication: this assume_role
    short = sts.assume_role(RoleArn=emu.resources["job_role"], RoleSessionName="short", DurationSeconds=1,
                            Policy=json.dumps(issue_policy(emu)))["Credentials"]
    keys = {"aws_access_key_id": short["AccessKeyId"], "aws_secret_access_key": short["SecretAccessKey"],
            "aws_session_token": short["SessionToken"]}
    s3 = boto3.client("s3", endpoint_url=emu.endpoint, region_name=emu.region, **keys)
    time.sleep(1.5)
    bucket = emu.resources["bucket"]
    assert error_code(s3.get_object, Bucket=bucket, Key=key(TENANT_A, JOB_A, "job.json")) == "ExpiredToken"


def issue_policy(emu: Emulator) -> dict[str, Any]:
    bucket = emu.resources["bucket"]
    return {"Version": "2012-10-17", "Statement": [{
        "Effect": "Allow", "Action": "s3:GetObject",
        "Resource": f"arn:aws:s3:::{bucket}/tenants/{TENANT_A}/jobs/{JOB_A}/*"}]}
