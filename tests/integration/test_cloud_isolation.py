"""Tenant isolation with moto's IAM enforcement on: credentials carrying the policy the template
gives tenant B (rendered for B's identity id, as IAM does at request time) cannot read or write
tenant A's prefix, and cannot touch job rows at all.

moto ignores policy Conditions, so the ``s3:prefix`` condition on ListBucket cannot be exercised
here; ``tests/unit/test_cloud.py`` checks statically that it is scoped by the identity variable.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from typing import Any

import boto3
import pytest
from botocore.exceptions import ClientError

from app.cloud.emulator.iam import as_moto_evaluates, tenant_policy
from app.cloud.emulator.local import REPO_ROOT, free_port

TENANT_A = "us-east-1:aaaaaaaa-1111-4111-8111-aaaaaaaaaaaa"
TENANT_B = "us-east-1:bbbbbbbb-2222-4222-8222-bbbbbbbbbbbb"
BUCKET = "reelwright-isolation"
TABLE = "reelwright-jobs"


@pytest.fixture(scope="module")
def moto(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    port = free_port()
    log = open(tmp_path_factory.mktemp("moto") / "moto.log", "wb")  # noqa: SIM115 - closed below
    proc = subprocess.Popen([sys.executable, "-m", "app.cloud.emulator.motoserver", "-H", "127.0.0.1", "-p", str(port)],
                            cwd=REPO_ROOT, env=dict(os.environ, MOTO_PORT=str(port)), stdout=log,
                            stderr=subprocess.STDOUT, start_new_session=True)
    endpoint = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                urllib.request.urlopen(endpoint + "/moto-api/", timeout=1).close()
                break
            except (urllib.error.URLError, ConnectionError):
                assert time.monotonic() < deadline, "moto_server did not start"
                time.sleep(0.1)
        yield endpoint
    finally:
        os.killpg(proc.pid, signal.SIGTERM)
        proc.wait(10)
        log.close()


def client(endpoint: str, service: str, keys: dict[str, str]) -> Any:
    return boto3.client(service, endpoint_url=endpoint, region_name="us-east-1", **keys)


def user_with_policies(iam: Any, name: str, documents: list[dict[str, Any]]) -> dict[str, str]:
    iam.create_user(UserName=name)
    for i, doc in enumerate(documents):
        iam.put_user_policy(UserName=name, PolicyName=f"p{i}", PolicyDocument=json.dumps(doc))
    key = iam.create_access_key(UserName=name)["AccessKey"]
    return {"aws_access_key_id": key["AccessKeyId"], "aws_secret_access_key": key["SecretAccessKey"]}


def denied(call: Any, **kw: Any) -> bool:
    try:
        call(**kw)
    except ClientError as exc:
        code = exc.response.get("Error", {}).get("Code", "")
        status = exc.response.get("ResponseMetadata", {}).get("HTTPStatusCode")
        return code in ("AccessDenied", "AccessDeniedException") or status == 403
    return False


def test_tenant_b_cannot_reach_tenant_a(moto: str) -> None:
    anyone = {"aws_access_key_id": "setup", "aws_secret_access_key": "setup"}
    iam = client(moto, "iam", anyone)
    admin = user_with_policies(iam, "admin", [{"Version": "2012-10-17", "Statement": [
        {"Effect": "Allow", "Action": "*", "Resource": "*"}]}])
    tenant_b = user_with_policies(iam, "tenant-b", as_moto_evaluates(tenant_policy(TENANT_B, BUCKET)))
    s3 = client(moto, "s3", anyone)
    s3.create_bucket(Bucket=BUCKET)
    s3.put_bucket_versioning(Bucket=BUCKET, VersioningConfiguration={"Status": "Enabled"})
    session_key = client(moto, "kms", anyone).create_key()["KeyMetadata"]["Arn"]
    a_session = f"tenants/{TENANT_A}/jobs/20261121-000000-aaaaaa/session.json"
    a_session_version = s3.put_object(Bucket=BUCKET, Key=a_session, Body=b'{"cookies": []}',
                                      ServerSideEncryption="aws:kms", SSEKMSKeyId=session_key,
                                      Tagging="reelwright-session=true")["VersionId"]
    a_job = f"tenants/{TENANT_A}/jobs/20261121-000000-aaaaaa/job.json"
    a_asset = f"tenants/{TENANT_A}/assets/{'a' * 64}"
    for key in (a_job, a_asset, f"tenants/{TENANT_A}/jobs/20261121-000000-aaaaaa/status.json"):
        s3.put_object(Bucket=BUCKET, Key=key, Body=b"{}")
    ddb = client(moto, "dynamodb", anyone)
    ddb.create_table(TableName=TABLE, BillingMode="PAY_PER_REQUEST",
                     KeySchema=[{"AttributeName": "pk", "KeyType": "HASH"},
                                {"AttributeName": "sk", "KeyType": "RANGE"}],
                     AttributeDefinitions=[{"AttributeName": "pk", "AttributeType": "S"},
                                           {"AttributeName": "sk", "AttributeType": "S"}])
    a_row = {"pk": {"S": f"TENANT#{TENANT_A}"}, "sk": {"S": "JOB#20261121-000000-aaaaaa"}}
    ddb.put_item(TableName=TABLE, Item={**a_row, "status": {"S": "Complete"}})

    # IAM enforcement on from here (moto: reset-auth with 0 requests left unauthenticated)
    req = urllib.request.Request(moto + "/moto-api/reset-auth", data=b"0", method="POST",
                                 headers={"Content-Type": "text/plain"})  # a form type would hide the body
    urllib.request.urlopen(req).close()

    b_s3 = client(moto, "s3", tenant_b)
    b_ddb = client(moto, "dynamodb", tenant_b)
    # B works in its own prefix...
    b_key = f"tenants/{TENANT_B}/jobs/20261121-000000-bbbbbb/job.json"
    b_s3.put_object(Bucket=BUCKET, Key=b_key, Body=b"{}")
    assert b_s3.get_object(Bucket=BUCKET, Key=b_key)["Body"].read() == b"{}"
    upload = b_s3.create_multipart_upload(Bucket=BUCKET, Key=f"tenants/{TENANT_B}/assets/{'b' * 64}")
    b_s3.abort_multipart_upload(Bucket=BUCKET, Key=f"tenants/{TENANT_B}/assets/{'b' * 64}",
                                UploadId=upload["UploadId"])
    # ...including its own session files, which it may also take back
    b_session = f"tenants/{TENANT_B}/jobs/20261121-000000-bbbbbb/session.json"
    put = b_s3.put_object(Bucket=BUCKET, Key=b_session, Body=b"{}", ServerSideEncryption="aws:kms",
                          SSEKMSKeyId=session_key, Tagging="reelwright-session=true")
    assert b_s3.get_object(Bucket=BUCKET, Key=b_session)["Body"].read() == b"{}"
    b_s3.delete_object(Bucket=BUCKET, Key=b_session, VersionId=put["VersionId"])
    # ...and nowhere else: not A's session (read, overwrite or delete)
    assert denied(b_s3.get_object, Bucket=BUCKET, Key=a_session)
    assert denied(b_s3.get_object, Bucket=BUCKET, Key=a_session, VersionId=a_session_version)
    assert denied(b_s3.head_object, Bucket=BUCKET, Key=a_session)
    assert denied(b_s3.put_object, Bucket=BUCKET, Key=a_session, Body=b"{}", ServerSideEncryption="aws:kms",
                  SSEKMSKeyId=session_key)
    assert denied(b_s3.delete_object, Bucket=BUCKET, Key=a_session)
    assert denied(b_s3.delete_object, Bucket=BUCKET, Key=a_session, VersionId=a_session_version)
    # and B may delete only session files of its own, nothing else it wrote
    assert denied(b_s3.delete_object, Bucket=BUCKET, Key=b_key)
    assert denied(b_s3.get_object, Bucket=BUCKET, Key=a_job)
    assert denied(b_s3.head_object, Bucket=BUCKET, Key=a_asset)
    assert denied(b_s3.put_object, Bucket=BUCKET, Key=a_job, Body=b"{}")  # overwrite A's job
    assert denied(b_s3.put_object, Bucket=BUCKET, Key=f"tenants/{TENANT_A}/jobs/x/cancel", Body=b"")
    assert denied(b_s3.create_multipart_upload, Bucket=BUCKET, Key=f"tenants/{TENANT_A}/assets/{'c' * 64}")
    assert denied(b_s3.put_object, Bucket=BUCKET, Key="tenants/other.json", Body=b"{}")
    assert denied(b_s3.put_object, Bucket=BUCKET, Key=f"tenants/{TENANT_B}-x/jobs/y/job.json", Body=b"{}")
    # job rows: users hold no DynamoDB permission at all, so neither A's row nor any other
    assert denied(b_ddb.get_item, TableName=TABLE, Key=a_row)
    assert denied(b_ddb.query, TableName=TABLE, KeyConditionExpression="pk = :p",
                  ExpressionAttributeValues={":p": {"S": f"TENANT#{TENANT_A}"}})
    assert denied(b_ddb.scan, TableName=TABLE)
    assert denied(b_ddb.put_item, TableName=TABLE, Item={**a_row, "status": {"S": "Failed"}})
    # nor may they start or read executions directly
    assert denied(client(moto, "stepfunctions", tenant_b).list_state_machines)
    # the denials are the policy's doing: an administrator still reaches A's data
    admin_s3 = client(moto, "s3", admin)
    assert admin_s3.get_object(Bucket=BUCKET, Key=a_job)["Body"].read() == b"{}"
    assert admin_s3.get_object(Bucket=BUCKET, Key=a_session)["Body"].read() == b'{"cookies": []}'
    admin_row = client(moto, "dynamodb", admin).get_item(TableName=TABLE, Key=a_row)["Item"]
    assert admin_row["status"] == {"S": "Complete"}
