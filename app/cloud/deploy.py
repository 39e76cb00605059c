"""Deploy or update the Reelwright Cloud stack with boto3, and read a stack's outputs into a config."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import boto3
from botocore.exceptions import BotoCoreError, ClientError, WaiterError

from .config import CloudConfig
from .errors import CloudError
from .template import TEMPLATE

WAIT = {"Delay": 10, "MaxAttempts": 360}  # up to an hour: interface endpoints and Cognito are slow


def _cfn(region: str | None, endpoint_url: str | None) -> Any:
    kw: dict[str, Any] = {}
    if region:
        kw["region_name"] = region
    if endpoint_url:
        kw["endpoint_url"] = endpoint_url
    return boto3.client("cloudformation", **kw)


def _stack_exists(cfn: Any, stack: str) -> bool:
    try:
        stacks = cfn.describe_stacks(StackName=stack)["Stacks"]
    except ClientError as exc:
        if "does not exist" in str(exc):
            return False
        raise
    return bool(stacks) and stacks[0]["StackStatus"] != "DELETE_COMPLETE"


def deploy(stack: str, image: str, *, region: str | None = None, parameters: dict[str, str] | None = None,
           template: Path = TEMPLATE, endpoint_url: str | None = None,
           log: Callable[[str], None] = print) -> CloudConfig:
    """Create or update ``stack`` from ``template`` and wait; return the config its outputs give."""
    cfn = _cfn(region, endpoint_url)
    params = {"ImageUri": image, **(parameters or {})}
    args: dict[str, Any] = {
        "StackName": stack,
        "TemplateBody": template.read_text(encoding="utf-8"),
        "Parameters": [{"ParameterKey": k, "ParameterValue": v} for k, v in sorted(params.items())],
        "Capabilities": ["CAPABILITY_IAM"],
        "Tags": [{"Key": "app", "Value": "reelwright"}],
    }
    try:
        if _stack_exists(cfn, stack):
            log(f"updating stack {stack}…")
            try:
                cfn.update_stack(**args)
            except ClientError as exc:
                if "No updates are to be performed" not in str(exc):
                    raise
                log("no changes")
                return stack_config(stack, region=region, endpoint_url=endpoint_url)
            cfn.get_waiter("stack_update_complete").wait(StackName=stack, WaiterConfig=WAIT)
        else:
            log(f"creating stack {stack}…")
            cfn.create_stack(**args, OnFailure="ROLLBACK")
            cfn.get_waiter("stack_create_complete").wait(StackName=stack, WaiterConfig=WAIT)
    except WaiterError as exc:
        raise CloudError(f"stack {stack} did not deploy: {exc}",
                         hint=f"aws cloudformation describe-stack-events --stack-name {stack}") from None
    except (ClientError, BotoCoreError) as exc:
        raise CloudError(f"could not deploy stack {stack}: {exc}") from None
    return stack_config(stack, region=region, endpoint_url=endpoint_url)


def stack_config(stack: str, *, region: str | None = None, endpoint_url: str | None = None) -> CloudConfig:
    """The app's configuration from a deployed stack's outputs."""
    cfn = _cfn(region, endpoint_url)
    try:
        s = cfn.describe_stacks(StackName=stack)["Stacks"][0]
    except (ClientError, BotoCoreError) as exc:
        raise CloudError(f"cannot read stack {stack}: {exc}") from None
    outputs = {o["OutputKey"]: o["OutputValue"] for o in s.get("Outputs", [])}
    return CloudConfig.from_stack_outputs(outputs, stack=stack, endpoint_url=endpoint_url)
