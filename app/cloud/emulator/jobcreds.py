"""One job's credentials, issued in the emulator exactly as the deployed state machine issues them.

The production definition's own ``JobPolicy`` and ``IssueJobCredentials`` states (from
``template.yaml``, with the emulator's substitutions) run as a two-state machine in moto's Step
Functions: the session policy is built by the same intrinsic functions, and ``sts:assumeRole`` on the
seeded ``RecorderJobRole`` runs through moto's STS.  A test then holds what a recorder task of that job
holds, and can turn on IAM enforcement to see what those credentials reach
(:mod:`app.cloud.emulator.motoserver` applies the session policy, which moto alone does not).
"""

from __future__ import annotations

import copy
import json
import time
from dataclasses import dataclass
from typing import Any

from .local import Emulator
from .statemachine import production_definition, substitute

JOB_CREDENTIAL_STATES = ("JobPolicy", "IssueJobCredentials")


@dataclass(frozen=True)
class IssuedJobCredentials:
    #: the Render state's environment overrides, as the recorder receives them
    environment: dict[str, str]
    #: the session policy the state machine built
    policy: dict[str, Any]

    def client_keys(self) -> dict[str, str]:
        """``boto3.client(...)`` keyword arguments for these credentials."""
        return {"aws_access_key_id": self.environment["JOB_AWS_ACCESS_KEY_ID"],
                "aws_secret_access_key": self.environment["JOB_AWS_SECRET_ACCESS_KEY"],
                "aws_session_token": self.environment["JOB_AWS_SESSION_TOKEN"]}


def credential_machine(substitutions: dict[str, str]) -> dict[str, Any]:
    """The production states that issue a job's credentials, ending in a Succeed instead of Render
    (and without their Retry/Catch, so a failure shows as the execution's own)."""
    prod = production_definition()
    states = {name: copy.deepcopy(prod["States"][name]) for name in JOB_CREDENTIAL_STATES}
    if states["JobPolicy"]["Next"] != "IssueJobCredentials":
        raise ValueError("JobPolicy no longer leads to IssueJobCredentials; update app.cloud.emulator.jobcreds")
    issue = states["IssueJobCredentials"]
    issue.pop("Retry", None)
    issue.pop("Catch", None)
    issue["Next"] = "Issued"
    states["Issued"] = {"Type": "Succeed"}
    definition: dict[str, Any] = substitute({"StartAt": "JobPolicy", "States": states}, substitutions)
    return definition


def render_environment(definition: dict[str, Any], output: dict[str, Any]) -> dict[str, str]:
    """The ``JOB_AWS_*`` overrides of the production Render state, resolved against ``output``."""
    env = definition["States"]["Render"]["Parameters"]["Overrides"]["ContainerOverrides"][0]["Environment"]
    out: dict[str, str] = {}
    for entry in env:
        path = entry.get("Value.$", "")
        if entry["Name"].startswith("JOB_AWS_"):
            value: Any = output
            for part in path.removeprefix("$.").split("."):
                value = value[part]
            out[entry["Name"]] = str(value)
    return out


def issue_job_credentials(emu: Emulator, tenant: str, job_id: str, *, bucket: str | None = None,
                          timeout_s: float = 30.0) -> IssuedJobCredentials:
    """Credentials for ``tenants/<tenant>/jobs/<job_id>/``, issued by the template's states (blocking)."""
    sfn = emu.client("stepfunctions")
    arn = sfn.create_state_machine(
        name=f"job-credentials-{job_id}"[:80], definition=json.dumps(credential_machine(emu.substitutions)),
        roleArn=emu.resources["state_machine_role"])["stateMachineArn"]
    job = {"bucket": bucket or emu.resources["bucket"], "tenant": tenant, "jobId": job_id}
    execution = sfn.start_execution(stateMachineArn=arn, input=json.dumps({"job": job}))["executionArn"]
    deadline = time.monotonic() + timeout_s
    while True:
        described = sfn.describe_execution(executionArn=execution)
        if described["status"] == "SUCCEEDED":
            break
        if described["status"] != "RUNNING":
            raise RuntimeError(f"issuing job credentials ended {described['status']}: "
                               f"{described.get('error')}: {described.get('cause')}")
        if time.monotonic() > deadline:
            raise TimeoutError(f"issuing job credentials took more than {timeout_s} s")
        time.sleep(0.1)
    output = json.loads(described["output"])
    return IssuedJobCredentials(render_environment(production_definition(), output), output["jobPolicy"])
