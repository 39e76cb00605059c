#!/usr/bin/env python3
"""Deploy, health-check and roll back the Reelwright CloudFormation stack (used by deploy.yml).

    python build/stack.py deploy   --stack reelwright-dev --template infra/template.yaml \
                                   --param ImageUri=… [--param Key=Value …] [--snapshot out/stack-before.json]
    python build/stack.py health   --stack reelwright-dev
    python build/stack.py rollback --stack reelwright-dev --snapshot out/stack-before.json

``deploy`` first records the running stack (template + parameters) in ``--snapshot``; ``rollback``
redeploys exactly that when the health check of the new version fails (CloudFormation already
rolls back a deploy that fails by itself; this covers a deploy that succeeds but does not work).
``health`` checks every resource the outputs name: stack status, bucket (and that public access is
blocked), job table, state machine, user pool and ECS cluster.  Credentials come from the
environment (in CI: an OIDC-assumed role, never long-lived keys); ``AWS_ENDPOINT_URL`` points it at
a moto server for tests.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path
from typing import Any

import boto3
from botocore.exceptions import BotoCoreError, ClientError, WaiterError

GOOD = {"CREATE_COMPLETE", "UPDATE_COMPLETE"}


class StackError(Exception):
    """A deploy/health/rollback step failed; the message says which and why."""


def _cfn() -> Any:
    return boto3.client("cloudformation")


def describe(stack: str) -> dict[str, Any] | None:
    try:
        stacks = _cfn().describe_stacks(StackName=stack)["Stacks"]
    except ClientError as exc:
        if "does not exist" in str(exc):
            return None
        raise
    return stacks[0] if stacks else None


def snapshot(stack: str) -> dict[str, Any] | None:
    """The running stack's template and parameters, or None when there is no stack yet."""
    current = describe(stack)
    if current is None or current["StackStatus"] not in GOOD:
        return None
    body = _cfn().get_template(StackName=stack, TemplateStage="Original")["TemplateBody"]
    if not isinstance(body, str):
        body = json.dumps(body)
    params = {p["ParameterKey"]: p["ParameterValue"] for p in current.get("Parameters", [])}
    return {"stack": stack, "template": body, "parameters": params}


def deploy(stack: str, template: str, params: dict[str, str], capabilities: list[str]) -> str:
    """Create or update the stack and wait; returns the final status.  No change is success."""
    cfn = _cfn()
    args = {
        "StackName": stack,
        "TemplateBody": template,
        "Parameters": [{"ParameterKey": k, "ParameterValue": v} for k, v in sorted(params.items())],
        "Capabilities": capabilities,
    }
    exists = describe(stack) is not None
    try:
        if exists:
            cfn.update_stack(**args)
        else:
            cfn.create_stack(**args, OnFailure="ROLLBACK")
    except ClientError as exc:
        if "No updates are to be performed" in str(exc):
            return str(describe(stack)["StackStatus"])  # type: ignore[index]
        raise StackError(f"deploy of {stack} was refused: {exc}") from None
    waiter = cfn.get_waiter("stack_update_complete" if exists else "stack_create_complete")
    try:
        waiter.wait(StackName=stack, WaiterConfig={"Delay": 5, "MaxAttempts": 360})
    except WaiterError as exc:
        raise StackError(f"deploy of {stack} failed: {exc}") from None
    return str(describe(stack)["StackStatus"])  # type: ignore[index]


def health(stack: str, retries: int = 3, delay_s: float = 5.0) -> list[str]:
    """Checks the stack's resources through its outputs; returns the lines passed, raises on the first
    failure (after ``retries`` attempts, for resources that settle right after a deploy)."""
    for attempt in range(retries):
        try:
            return _health_once(stack)
        except StackError:
            if attempt == retries - 1:
                raise
            time.sleep(delay_s)
    return []


def _health_once(stack: str) -> list[str]:
    current = describe(stack)
    if current is None:
        raise StackError(f"stack {stack} does not exist")
    if current["StackStatus"] not in GOOD:
        raise StackError(f"stack {stack} is {current['StackStatus']}")
    out = {o["OutputKey"]: o["OutputValue"] for o in current.get("Outputs", [])}
    passed = [f"stack {stack} is {current['StackStatus']}"]
    try:
        if "BucketName" in out:
            s3 = boto3.client("s3")
            s3.head_bucket(Bucket=out["BucketName"])
            try:
                block = s3.get_public_access_block(Bucket=out["BucketName"])["PublicAccessBlockConfiguration"]
            except ClientError as exc:
                if "NoSuchPublicAccessBlockConfiguration" not in str(exc):
                    raise
                raise StackError(f"bucket {out['BucketName']} has no public access block") from None
            if not all(block.values()):
                raise StackError(f"bucket {out['BucketName']} does not block public access: {block}")
            passed.append(f"bucket {out['BucketName']} reachable, public access blocked")
        if "JobTableName" in out:
            status = boto3.client("dynamodb").describe_table(TableName=out["JobTableName"])["Table"]["TableStatus"]
            if status != "ACTIVE":
                raise StackError(f"job table {out['JobTableName']} is {status}")
            passed.append(f"job table {out['JobTableName']} ACTIVE")
        if "StateMachineArn" in out:
            sm = boto3.client("stepfunctions").describe_state_machine(stateMachineArn=out["StateMachineArn"])
            if sm.get("status", "ACTIVE") != "ACTIVE":
                raise StackError(f"state machine {out['StateMachineArn']} is {sm.get('status')}")
            passed.append("state machine ACTIVE")
        if "UserPoolId" in out:
            boto3.client("cognito-idp").describe_user_pool(UserPoolId=out["UserPoolId"])
            passed.append(f"user pool {out['UserPoolId']} exists")
        if "ClusterName" in out:
            clusters = boto3.client("ecs").describe_clusters(clusters=[out["ClusterName"]])["clusters"]
            if not clusters or clusters[0].get("status") != "ACTIVE":
                raise StackError(f"ECS cluster {out['ClusterName']} is not ACTIVE")
            passed.append(f"ECS cluster {out['ClusterName']} ACTIVE")
    except (ClientError, BotoCoreError) as exc:
        raise StackError(f"health check of {stack} failed: {exc}") from None
    return passed


def rollback(snapshot_path: Path, capabilities: list[str]) -> str:
    if not snapshot_path.is_file():
        raise StackError(f"no snapshot at {snapshot_path}: nothing to roll back to (first deploy?)")
    snap = json.loads(snapshot_path.read_text(encoding="utf-8"))
    if snap is None:
        raise StackError("the snapshot says there was no stack before this deploy: nothing to roll back to")
    return deploy(snap["stack"], snap["template"], snap["parameters"], capabilities)


def _params(items: list[str]) -> dict[str, str]:
    out: dict[str, str] = {}
    for item in items:
        key, sep, value = item.partition("=")
        if not sep or not key:
            raise SystemExit(f"error: --param wants Key=Value, not {item!r}")
        out[key] = value
    return out


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    sub = p.add_subparsers(dest="cmd", required=True)
    d = sub.add_parser("deploy")
    d.add_argument("--stack", required=True)
    d.add_argument("--template", type=Path, required=True)
    d.add_argument("--param", action="append", default=[])
    d.add_argument("--snapshot", type=Path, help="write the running stack here before deploying")
    h = sub.add_parser("health")
    h.add_argument("--stack", required=True)
    h.add_argument("--retries", type=int, default=3)
    r = sub.add_parser("rollback")
    r.add_argument("--snapshot", type=Path, required=True)
    for sp in (d, r):
        sp.add_argument("--capability", action="append", default=["CAPABILITY_NAMED_IAM", "CAPABILITY_AUTO_EXPAND"])
    args = p.parse_args(argv)
    try:
        if args.cmd == "deploy":
            if args.snapshot:
                args.snapshot.parent.mkdir(parents=True, exist_ok=True)
                args.snapshot.write_text(json.dumps(snapshot(args.stack)) + "\n", encoding="utf-8")
            status = deploy(args.stack, args.template.read_text(encoding="utf-8"), _params(args.param),
                            sorted(set(args.capability)))
            print(f"deployed {args.stack}: {status}")
        elif args.cmd == "health":
            for line in health(args.stack, retries=args.retries):
                print(f"  ok  {line}")
            print("healthy")
        else:
            status = rollback(args.snapshot, sorted(set(args.capability)))
            print(f"rolled back: {status}")
    except StackError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
