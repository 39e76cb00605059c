"""deploy.yml's deploy → health check → rollback (build/stack.py), run for real against a moto server
on loopback standing in for CloudFormation, S3 and DynamoDB."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

REPO = Path(__file__).resolve().parents[2]
STACK_PY = REPO / "build" / "stack.py"

TEMPLATE = """
AWSTemplateFormatVersion: "2010-09-09"
Parameters:
  TableName:
    Type: String
Resources:
  Bucket:
    Type: AWS::S3::Bucket
    Properties:
      PublicAccessBlockConfiguration:
        BlockPublicAcls: true
        BlockPublicPolicy: true
        IgnorePublicAcls: true
        RestrictPublicBuckets: true
  JobTable:
    Type: AWS::DynamoDB::Table
    Properties:
      TableName: !Ref TableName
      BillingMode: PAY_PER_REQUEST
      AttributeDefinitions: [{AttributeName: id, AttributeType: S}]
      KeySchema: [{AttributeName: id, KeyType: HASH}]
Outputs:
  BucketName:
    Value: !Ref Bucket
  JobTableName:
    Value: %s
"""
GOOD = TEMPLATE % "!Ref JobTable"
#: deploys fine but points the app at a table that does not exist: only the health check notices
BROKEN = TEMPLATE % "no-such-table"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.fixture(scope="module")
def moto_env(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, str]]:
    port = free_port()
    exe = Path(sys.executable).parent / "moto_server"
    proc = subprocess.Popen([str(exe), "-H", "127.0.0.1", "-p", str(port)], stdout=subprocess.DEVNULL,
                            stderr=subprocess.DEVNULL)
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 30
    while True:
        try:
            urllib.request.urlopen(f"{url}/moto-api/", timeout=1).close()
            break
        except OSError:
            if time.monotonic() > deadline or proc.poll() is not None:
                proc.kill()
                pytest.fail("moto_server did not start")
            time.sleep(0.1)
    env = {**os.environ, "AWS_ENDPOINT_URL": url, "AWS_ACCESS_KEY_ID": "testing", "AWS_SECRET_ACCESS_KEY": "testing",
           "AWS_DEFAULT_REGION": "us-east-1", "AWS_CONFIG_FILE": os.devnull,
           "AWS_SHARED_CREDENTIALS_FILE": os.devnull}
    env.pop("AWS_PROFILE", None)
    yield env
    proc.terminate()
    proc.wait(10)


def stack(env: dict[str, str], *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, str(STACK_PY), *args], env=env, capture_output=True, text=True,
                          timeout=120, check=False)


def aws(env: dict[str, str], service: str) -> Any:
    import boto3

    return boto3.client(service, endpoint_url=env["AWS_ENDPOINT_URL"], region_name="us-east-1",  # type: ignore[call-overload]
                        aws_access_key_id="testing", aws_secret_access_key="testing")


def outputs(env: dict[str, str], name: str) -> dict[str, str]:
    desc = aws(env, "cloudformation").describe_stacks(StackName=name)["Stacks"][0]
    return {o["OutputKey"]: o["OutputValue"] for o in desc.get("Outputs", [])}


@pytest.mark.slow
def test_deploy_health_then_a_bad_release_is_rolled_back(moto_env: dict[str, str], tmp_path: Path) -> None:
    good, broken, snap = tmp_path / "good.yaml", tmp_path / "broken.yaml", tmp_path / "snap.json"
    good.write_text(GOOD)
    broken.write_text(BROKEN)

    first = stack(moto_env, "deploy", "--stack", "rw-dev", "--template", str(good), "--param", "TableName=jobs-v1",
                  "--snapshot", str(snap))
    assert first.returncode == 0, first.stderr
    assert "deployed rw-dev: CREATE_COMPLETE" in first.stdout
    assert json.loads(snap.read_text()) is None  # nothing ran before the first deploy

    # moto's CloudFormation skips PublicAccessBlockConfiguration, so the check sees an open bucket —
    # exactly what it is for; then block it as real CloudFormation would have
    unblocked = stack(moto_env, "health", "--stack", "rw-dev", "--retries", "1")
    assert unblocked.returncode == 1 and "has no public access block" in unblocked.stderr
    s3 = aws(moto_env, "s3")
    s3.put_public_access_block(Bucket=outputs(moto_env, "rw-dev")["BucketName"], PublicAccessBlockConfiguration={
        "BlockPublicAcls": True, "BlockPublicPolicy": True, "IgnorePublicAcls": True, "RestrictPublicBuckets": True})
    healthy = stack(moto_env, "health", "--stack", "rw-dev", "--retries", "1")
    assert healthy.returncode == 0, healthy.stdout + healthy.stderr
    assert "public access blocked" in healthy.stdout and "job table jobs-v1 ACTIVE" in healthy.stdout

    # a release that deploys but does not work
    second = stack(moto_env, "deploy", "--stack", "rw-dev", "--template", str(broken), "--param",
                   "TableName=jobs-v1", "--snapshot", str(snap))
    assert second.returncode == 0, second.stderr
    assert outputs(moto_env, "rw-dev")["JobTableName"] == "no-such-table"
    sick = stack(moto_env, "health", "--stack", "rw-dev", "--retries", "1")
    assert sick.returncode == 1
    assert "no-such-table" in sick.stderr

    back = stack(moto_env, "rollback", "--snapshot", str(snap))
    assert back.returncode == 0, back.stderr
    assert outputs(moto_env, "rw-dev")["JobTableName"] == "jobs-v1"
    assert stack(moto_env, "health", "--stack", "rw-dev", "--retries", "1").returncode == 0


@pytest.mark.slow
def test_rollback_without_a_previous_stack_is_a_clear_error(moto_env: dict[str, str], tmp_path: Path) -> None:
    snap = tmp_path / "snap.json"
    snap.write_text("null\n")
    out = stack(moto_env, "rollback", "--snapshot", str(snap))
    assert out.returncode == 1
    assert "no stack before this deploy" in out.stderr
    missing = stack(moto_env, "health", "--stack", "never-deployed", "--retries", "1")
    assert missing.returncode == 1 and "does not exist" in missing.stderr
