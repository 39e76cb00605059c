"""``python -m app.cloud.emulator.motoserver``: moto's server with the fixes the emulator needs.

1. moto 5.2.5's Step Functions front end drops the ``cause`` of ``SendTaskFailure`` (it forwards only
   ``error``), although its execution engine stores it.  The cause is what tells a user which card and
   locator failed, so this wrapper forwards it.
2. With IAM enforcement on (``POST /moto-api/reset-auth``), moto authorizes assumed-role credentials by
   the role's policies alone: it keeps the *session policy* passed to ``AssumeRole`` but never applies
   it, and it accepts the credentials after they expire.  AWS grants a session only what both the role
   and the session policy allow, and refuses expired credentials (``ExpiredToken``).  The per-job
   credentials the state machine issues rest on exactly that, so this wrapper applies both rules.
   The session policy is evaluated here, conditions included for the one key a job's policy needs
   from a request: ``s3:prefix`` of a bucket listing (``StringLike``/``StringEquals``; a listing with
   no prefix does not match, as on AWS).  Other condition keys (the KMS encryption context, say) are
   not evaluated, and moto evaluates no condition of the role's own policies.
3. moto's ``aws-sdk:*`` tasks put boto3's response on the state's data as it is, ``datetime`` objects
   included, which the engine then cannot serialize ("Object of type datetime is not JSON
   serializable"); Step Functions returns timestamps as ISO 8601 text.  The wrapper converts them
   (``2026-12-06T04:00:00Z``), so ``IssueJobCredentials`` can pass STS's ``Expiration`` on.
4. moto names a task whose heartbeat timed out ``States.Timeout``; AWS names it
   ``States.HeartbeatTimeout`` (which the render step retries, stopping the lost task first).  This
   wrapper gives it AWS's name.
5. moto's ``GetCredentialsForIdentity`` hands every identity the same fixed keys, so nothing could
   tell from a signature which user sent a request.  With ``REELWRIGHT_EMULATOR_CREDENTIAL_SEED`` set
   (the emulator sets it), each identity gets its own keys instead
   (:func:`app.cloud.emulator.share.identity_credentials`), which is how the share signer's stand-in
   knows its caller, as API Gateway does from real credentials.  Still 90 seconds long, like moto's.
6. moto's Cognito ``SignUp`` ignores ``AdminCreateUserConfig.AllowAdminCreateUserOnly`` (the template's
   ``SignUpMode=invite``); AWS refuses with ``NotAuthorizedException`` "SignUp is not permitted for this
   user pool".  This wrapper refuses the same way, so the app's message for an invite-only stack is
   tested against the error AWS documents.
7. **IAM enforcement for the whole emulator** (``Emulator(iam_enforcement=True)``), for tests that run
   users, state machine and recorders with enforcement on.  With ``REELWRIGHT_EMULATOR_TENANT_ROLE`` set,
   ``GetCredentialsForIdentity`` returns credentials of that role (the template's ``TenantRole``) assumed
   with the tenant policy rendered for the identity as the session policy - what IAM's
   ``${cognito-identity.amazonaws.com:sub}`` does - so a user's requests are authorized as that one
   tenant's (fix 2 applies the session policy).  ``GetCredentialsForIdentity`` and
   ``RespondToAuthChallenge`` are unsigned on AWS, so they stay public here (moto lists ``InitiateAuth``
   but not these).  The access key ids in ``REELWRIGHT_EMULATOR_SERVICE_KEYS`` stand for AWS service
   principals of the stack (the event rule, Step Functions' own SDK calls as ``StateMachineRole``, the
   task role's callbacks): their requests are not authorized by moto; those roles' policies are checked
   statically (tests/unit).  Tenants' and recorders' job credentials are.
8. moto's DynamoDB applies a transaction (and an ``UpdateItem``) without a lock, and its server is
   threaded, so two at once on the same item can both pass a condition or lose one ``ADD``: two
   variants of a fan-out job releasing their slots together left the tenant's running count one too
   high.  DynamoDB serializes writes to an item; this wrapper serializes these calls.

Then it runs the stock ``moto_server``.  Nothing else of moto is touched, and AWS needs no such thing.
"""

from __future__ import annotations

import json
import os
import re
import sys
import threading
from datetime import UTC, datetime, timedelta
from typing import Any
from urllib.parse import parse_qs, urlsplit

from moto.cognitoidentity.models import CognitoIdentityBackend
from moto.cognitoidp.exceptions import NotAuthorizedError
from moto.cognitoidp.models import CognitoIdpBackend
from moto.core.authorization import ActionAuthenticatorMixin
from moto.core.exceptions import InvalidClientTokenIdError
from moto.core.responses import ActionResult, EmptyResult
from moto.core.utils import utcnow
from moto.dynamodb.models import DynamoDBBackend
from moto.iam.access_control import AssumedRoleAccessKey, IAMRequestBase, S3IAMRequest
from moto.s3.exceptions import S3ClientError
from moto.server import main
from moto.stepfunctions.parser.asl.component.common.error_name.failure_event import FailureEvent
from moto.stepfunctions.parser.asl.component.common.error_name.states_error_name import StatesErrorName
from moto.stepfunctions.parser.asl.component.common.error_name.states_error_name_type import StatesErrorNameType
from moto.stepfunctions.parser.asl.component.state.exec.state_task.service.state_task_service_aws_sdk import (
    StateTaskServiceAwsSdk,
)
from moto.stepfunctions.parser.asl.component.state.exec.state_task.state_task import StateTask
from moto.stepfunctions.parser.asl.eval.callback.callback import HeartbeatTimeoutError
from moto.stepfunctions.responses import StepFunctionResponse
from moto.sts.models import sts_backends

from app.cloud.emulator.iam import as_moto_evaluates, tenant_policy
from app.cloud.emulator.motoserver_env import BUCKET_ENV, SERVICE_KEYS_ENV, TENANT_ROLE_ENV
from app.cloud.emulator.share import CREDENTIAL_SEED_ENV, identity_credentials


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
#: bucket listings, by IAM action and by the operation names moto >= 5.2.6 asks for
LISTINGS = ("s3:ListBucket", "s3:ListBucketVersions", "s3:ListObjects", "s3:ListObjectsV2", "s3:ListObjectVersions")


_SERVICE_KEYS = frozenset(k for k in os.environ.get(SERVICE_KEYS_ENV, "").split(",") if k)
_request_init = IAMRequestBase.__init__
_signature_check = IAMRequestBase.check_signature


def _request_principal(self: IAMRequestBase, account_id: str, method: str, path: str, data: dict[str, str],
                       body: bytes, headers: dict[str, str], action: str) -> None:
    scope = headers.get("Authorization", "").split("Credential=", 1)[-1].split("/", 1)[0]
    self._service_principal = scope in _SERVICE_KEYS  # type: ignore[attr-defined]
    if self._service_principal:  # type: ignore[attr-defined]
        self._action = action
        return
    _request_init(self, account_id, method, path, data, body, headers, action)


def _check_signature(self: IAMRequestBase) -> None:
    if getattr(self, "_service_principal", False):
        return
    _signature_check(self)


if _SERVICE_KEYS:
    IAMRequestBase.__init__ = _request_principal  # type: ignore[method-assign]
    IAMRequestBase.check_signature = _check_signature  # type: ignore[method-assign]
    ActionAuthenticatorMixin.PUBLIC_OPERATIONS = [
        *ActionAuthenticatorMixin.PUBLIC_OPERATIONS, "AWSCognitoIdentityService.GetCredentialsForIdentity",
        "AWSCognitoIdentityProviderService.RespondToAuthChallenge"]


def _check_action_permitted(self: IAMRequestBase, resource: str) -> None:
    """The role's policies (moto's own check), then expiry and the session policy of the credentials."""
    if getattr(self, "_service_principal", False):
        return
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
    context: dict[str, str | None] = {}
    if self._action in LISTINGS:
        query = parse_qs(urlsplit(self._path).query, keep_blank_values=True)
        context["s3:prefix"] = query["prefix"][0] if query.get("prefix") else None
    if not session_policy_allows(document, self._action, resource, context):
        self._raise_access_denied()


def _like(pattern: str, value: str) -> bool:
    """IAM's wildcard match: ``*`` any run of characters, ``?`` one, case-sensitive."""
    regex = re.escape(pattern).replace(r"\*", ".*").replace(r"\?", ".")
    return re.fullmatch(regex, value, flags=re.DOTALL) is not None


def _listed(value: Any) -> list[str]:
    return [value] if isinstance(value, str) else list(value or [])


def _conditions_hold(condition: dict[str, dict[str, Any]], context: dict[str, str | None]) -> bool:
    for operator, keys in condition.items():
        for key, expected in keys.items():
            if key not in context:
                continue  # not a key this emulator knows for the request: not evaluated (documented)
            actual = context[key]
            if actual is None:
                return False  # the request lacks the key: a String* condition does not match
            match = _like if operator == "StringLike" else (lambda a, b: a == b) if operator == "StringEquals" else None
            if match is None:
                continue
            if not any(match(e, actual) for e in _listed(expected)):
                return False
    return True


def session_policy_allows(document: dict[str, Any], action: str, resource: str,
                          context: dict[str, str | None]) -> bool:
    """Whether a session policy allows ``action`` on ``resource`` (an explicit deny wins)."""
    statements = document.get("Statement", [])
    allowed = False
    for st in statements if isinstance(statements, list) else [statements]:
        if not any(_like(a.lower(), action.lower()) for a in _listed(st.get("Action"))):
            continue
        if not any(_like(r, resource) for r in _listed(st.get("Resource"))):
            continue
        if not _conditions_hold(st.get("Condition") or {}, context):
            continue
        if st.get("Effect") == "Deny":
            return False
        allowed = True
    return allowed


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


_timed_out_from_error = StateTask._from_error


def _from_error(self: StateTask, env: Any, ex: Exception) -> FailureEvent:
    event: FailureEvent = _timed_out_from_error(self, env, ex)
    if not isinstance(ex, HeartbeatTimeoutError):
        return event
    name = StatesErrorNameType.StatesHeartbeatTimeout
    details: Any = event.event_details
    for spec in (details or {}).values():
        if isinstance(spec, dict) and "error" in spec:
            spec["error"] = name.to_name()
    return FailureEvent(env=env, error_name=StatesErrorName(typ=name), event_type=event.event_type,
                        event_details=details)


StateTask._from_error = _from_error  # type: ignore[method-assign]


_SEED = os.environ.get(CREDENTIAL_SEED_ENV)


def _credentials_for_identity(self: CognitoIdentityBackend, identity_id: str) -> str:
    role = os.environ.get(TENANT_ROLE_ENV)
    if role:  # fix 7: the tenant role, narrowed to this identity as IAM's policy variable would
        policy = as_moto_evaluates(tenant_policy(identity_id, os.environ[BUCKET_ENV]))
        merged = {"Version": "2012-10-17", "Statement": [st for doc in policy for st in doc["Statement"]]}
        assumed = sts_backends[self.account_id]["aws"].assume_role(
            region_name=self.region_name, role_session_name="tenant", role_arn=role, policy=json.dumps(merged),
            duration=3600, external_id="")
        return json.dumps({"Credentials": {
            "AccessKeyId": assumed.access_key_id, "SecretKey": assumed.secret_access_key,
            "SessionToken": assumed.session_token,
            "Expiration": assumed.expiration.replace(tzinfo=UTC).timestamp()}, "IdentityId": identity_id})
    assert _SEED is not None
    key_id, secret, token = identity_credentials(_SEED, identity_id)
    expiration = utcnow() + timedelta(seconds=90)
    return json.dumps({"Credentials": {"AccessKeyId": key_id, "SecretKey": secret, "SessionToken": token,
                                       "Expiration": expiration.replace(tzinfo=UTC).timestamp()},
                       "IdentityId": identity_id})


if _SEED or os.environ.get(TENANT_ROLE_ENV):
    CognitoIdentityBackend.get_credentials_for_identity = _credentials_for_identity  # type: ignore[method-assign]


_moto_sign_up = CognitoIdpBackend.sign_up


def _sign_up(self: CognitoIdpBackend, client_id: str, *args: Any, **kwargs: Any) -> Any:
    for pool in self.user_pools.values():
        admin_only = pool.extended_config.get("AdminCreateUserConfig", {}).get("AllowAdminCreateUserOnly")
        if client_id in pool.clients and admin_only:
            raise NotAuthorizedError("SignUp is not permitted for this user pool")
    return _moto_sign_up(self, client_id, *args, **kwargs)


CognitoIdpBackend.sign_up = _sign_up  # type: ignore[method-assign]

_WRITES = threading.RLock()  # re-entrant: a transaction calls update_item itself


def _serialized(method: Any) -> Any:
    def call(self: DynamoDBBackend, *args: Any, **kwargs: Any) -> Any:
        with _WRITES:
            return method(self, *args, **kwargs)
    return call


DynamoDBBackend.transact_write_items = _serialized(DynamoDBBackend.transact_write_items)  # type: ignore[method-assign]
DynamoDBBackend.update_item = _serialized(DynamoDBBackend.update_item)  # type: ignore[method-assign]
DynamoDBBackend.put_item = _serialized(DynamoDBBackend.put_item)  # type: ignore[method-assign]

if __name__ == "__main__":
    main(sys.argv[1:])
