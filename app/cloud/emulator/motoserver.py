"""``python -m app.cloud.emulator.motoserver``: moto's server with the fixes the emulator needs.

1. moto 5.2.5's Step Functions front end drops the ``cause`` of ``SendTaskFailure`` (it forwards only
   ``error``), although its execution engine stores it.  The cause is what tells a user which card and
   locator failed, so this wrapper forwards it.
2. With IAM enforcement on (``POST /moto-api/reset-auth``), moto authorizes assumed-role credentials by
   the role's policies alone: it keeps the *session policy* passed to ``AssumeRole`` but never applies
   it, and it accepts the credentials after they expire.  AWS grants a session only what both the role
   and the session policy allow, and refuses expired credentials (``ExpiredToken``).  The per-job
   credentials the state machine issues rest on exactly that, so this wrapper applies both rules.
   (Conditions are still not evaluated, in either policy: moto has no request context for them.)
3. moto's ``aws-sdk:*`` tasks put boto3's response on the state's data as it is, ``datetime`` objects
   included, which the engine then cannot serialize ("Object of type datetime is not JSON
   serializable"); Step Functions returns timestamps as ISO 8601 text.  The wrapper converts them
   (``2026-12-06T04:00:00Z``), so ``IssueJobCredentials`` can pass STS's ``Expiration`` on.

Then it runs the stock ``moto_server``.  Nothing else of moto is touched, and AWS needs no such thing.
"""

from __future__ import annotations

import json
import sys
from datetime import UTC, datetime
from typing import Any

from moto.core.exceptions import InvalidClientTokenIdError
from moto.core.responses import ActionResult, EmptyResult
from moto.core.utils import utcnow
from moto.iam.access_control import AssumedRoleAccessKey, IAMPolicy, IAMRequestBase, PermissionResult, S3IAMRequest
from moto.s3.exceptions import S3ClientError
from moto.server import main
from moto.stepfunctions.parser.asl.component.state.exec.state_task.service.state_task_service_aws_sdk import (
    StateTaskServiceAwsSdk,
)
from moto.stepfunctions.responses import StepFunctionResponse
from moto.sts.models import sts_backends

from app.cloud.emulator.iam import as_moto_evaluates


def _send_task_failure(self: StepFunctionResponse) -> ActionResult:
    # the parser backend (used once execution is on) takes the cause; the base class's stub does not
    backend: Any = self.stepfunction_backend
    backend.send_task_failure(self._get_param("taskToken"), error=self._get_param("error"),
                              cause=self._get_param("cause"))
    return EmptyResult()


StepFunctionResponse.send_task_failure = _send_task_failure  # type: ignore[method-assign]


class S3ExpiredTokenError(S3ClientError):
    def __init__(self) -> None:
        super().__init__("ExpiredToken", "The provided token has expired.")


_role_policy_check = IAMRequestBase.check_action_permitted


def _check_action_permitted(self: IAMRequestBase, resource: str) -> None:
    """The role's policies (moto's own check), then expiry and the session policy of the credentials."""
    _role_policy_check(self, resource)
    key = self._access_key
    if not isinstance(key, AssumedRoleAccessKey):
        return
    session = next((r for r in sts_backends[key.account_id][key.partition].assumed_roles
                    if r.access_key_id == key._access_key_id), None)
    if session is None:
        return
    if session.expiration <= utcnow():
        if isinstance(self, S3IAMRequest):
            raise S3ExpiredTokenError()
        raise InvalidClientTokenIdError()
    if not session.policy:
        return
    document = as_moto_evaluates([json.loads(session.policy)])[0]
    if IAMPolicy(json.dumps(document)).is_action_permitted(self._action, resource) != PermissionResult.PERMITTED:
        self._raise_access_denied()


IAMRequestBase.check_action_permitted = _check_action_permitted  # type: ignore[method-assign]

def as_step_functions_json(value: Any) -> Any:
    """``value`` with every datetime as Step Functions writes it: ISO 8601 UTC text."""
    if isinstance(value, datetime):
        when = value if value.tzinfo is not None else value.replace(tzinfo=UTC)
        return when.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
    if isinstance(value, dict):
        return {k: as_step_functions_json(v) for k, v in value.items()}
    if isinstance(value, list):
        return [as_step_functions_json(v) for v in value]
    return value


_sdk_task = StateTaskServiceAwsSdk._eval_service_task


def _eval_sdk_task(self: StateTaskServiceAwsSdk, env: Any, *args: Any, **kwargs: Any) -> None:
    _sdk_task(self, env, *args, **kwargs)
    env.stack.append(as_step_functions_json(env.stack.pop()))


StateTaskServiceAwsSdk._eval_service_task = _eval_sdk_task  # type: ignore[method-assign]

if __name__ == "__main__":
    main(sys.argv[1:])
