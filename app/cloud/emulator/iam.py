"""The tenant policy as IAM evaluates it for one identity, rendered from ``template.yaml``.

IAM substitutes ``${cognito-identity.amazonaws.com:sub}`` with the caller's identity id at request
time.  :func:`tenant_policy` performs the same substitution (and fills in the bucket ARN), so a test
can give moto's IAM a user carrying exactly the policy tenant B would hold.
"""

from __future__ import annotations

import copy
import json
from pathlib import Path
from typing import Any

from ..template import TEMPLATE
from .statemachine import load_template

IDENTITY_VARIABLE = "${cognito-identity.amazonaws.com:sub}"
TENANT_ROLE = "TenantRole"
JOB_ROLE = "RecorderJobRole"
# AWS authorizes the multipart-upload calls with s3:PutObject, HeadObject with s3:GetObject, and bucket
# listings with s3:ListBucket / s3:ListBucketVersions.  moto >= 5.2.6 asks its IAM for the operation's
# own name instead ("s3:CreateMultipartUpload", "s3:HeadObject", "s3:ListObjectsV2"), which no real
# policy grants; the emulator adds these names wherever the IAM action is allowed, so moto decides as
# AWS would.
PUT_OBJECT_OPERATIONS = ("s3:CreateMultipartUpload", "s3:UploadPart", "s3:CompleteMultipartUpload")
MOTO_OPERATIONS = {
    "s3:PutObject": PUT_OBJECT_OPERATIONS,
    "s3:GetObject": ("s3:HeadObject",),
    "s3:ListBucket": ("s3:ListObjects", "s3:ListObjectsV2"),
    "s3:ListBucketVersions": ("s3:ListObjectVersions",),
}


def role_policies(role: str, path: Path = TEMPLATE) -> list[dict[str, Any]]:
    """The inline policy documents of the template's role ``role`` (unrendered)."""
    props = load_template(path)["Resources"][role]["Properties"]
    return [copy.deepcopy(p["PolicyDocument"]) for p in props.get("Policies", [])]


def tenant_role_policies(path: Path = TEMPLATE) -> list[dict[str, Any]]:
    """The policy documents of the role the identity pool gives signed-in users (unrendered)."""
    return role_policies(TENANT_ROLE, path)


def job_role_policy(bucket: str, path: Path = TEMPLATE) -> list[dict[str, Any]]:
    """``RecorderJobRole``'s policies for ``bucket`` (JSON-ready): every job's union, which the
    state machine narrows to one job with a session policy each time it assumes the role."""
    docs = [_render(d, f"arn:aws:s3:::{bucket}", "", {}) for d in role_policies(JOB_ROLE, path)]
    text = json.dumps(docs)
    if "Fn::" in text or "${" in text:
        raise ValueError(f"unrendered CloudFormation left in the job role's policy: {text}")
    return docs


def template_parameters(path: Path = TEMPLATE, **given: str | list[str]) -> dict[str, Any]:
    """The template's parameters with their defaults (a CommaDelimitedList as a list), then ``given``."""
    out: dict[str, Any] = {}
    for name, spec in (load_template(path).get("Parameters") or {}).items():
        default = spec.get("Default")
        if default is not None and spec.get("Type") == "CommaDelimitedList" and isinstance(default, str):
            default = default.split(",")
        out[name] = default
    out.update(given)
    return out


def _render(obj: Any, bucket_arn: str, identity: str, params: dict[str, Any]) -> Any:
    if isinstance(obj, str):
        return obj.replace(IDENTITY_VARIABLE, identity)
    if isinstance(obj, list):
        return [_render(v, bucket_arn, identity, params) for v in obj]
    if isinstance(obj, dict):
        if set(obj) == {"Fn::Sub"} and isinstance(obj["Fn::Sub"], str):
            text = obj["Fn::Sub"].replace("${Bucket.Arn}", bucket_arn).replace("${!", "${")
            return text.replace(IDENTITY_VARIABLE, identity)
        if set(obj) == {"Fn::GetAtt"} and obj["Fn::GetAtt"] == ["Bucket", "Arn"]:
            return bucket_arn
        if set(obj) == {"Ref"} and obj["Ref"] in params:
            return params[obj["Ref"]]
        if set(obj) == {"Fn::Join"}:  # the Bedrock model ARNs: one per configured model id
            sep, parts = obj["Fn::Join"]
            rendered = _render(parts, bucket_arn, identity, params)
            return str(sep).join(str(p) for p in rendered)
        if set(obj) == {"Fn::Split"}:
            sep, text = obj["Fn::Split"]
            return str(_render(text, bucket_arn, identity, params)).split(sep)
        return {k: _render(v, bucket_arn, identity, params) for k, v in obj.items()}
    return obj


def tenant_policy(identity: str, bucket: str, path: Path = TEMPLATE,
                  **parameters: str | list[str]) -> list[dict[str, Any]]:
    """The tenant role's policies as they apply to ``identity`` in ``bucket`` (JSON-ready), with the
    template's parameter defaults unless ``parameters`` (e.g. ``BedrockModelIds=[...]``) are given."""
    params = template_parameters(path, **parameters)
    docs = [_render(d, f"arn:aws:s3:::{bucket}", identity, params) for d in tenant_role_policies(path)]
    text = json.dumps(docs)
    if "Fn::" in text or "${" in text:
        raise ValueError(f"unrendered CloudFormation left in the tenant policy: {text}")
    return docs


def as_moto_evaluates(docs: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """``docs`` with the operation names of :data:`MOTO_OPERATIONS` granted wherever their IAM action is.

    Only for handing a policy to moto: the template itself stays in AWS's terms.
    """
    out = copy.deepcopy(docs)
    for doc in out:
        statements = doc.get("Statement", [])
        for st in statements if isinstance(statements, list) else [statements]:
            actions = st.get("Action")
            listed = [actions] if isinstance(actions, str) else list(actions or [])
            extra = [op for action in listed for op in MOTO_OPERATIONS.get(action, ()) if op not in listed]
            if extra:
                st["Action"] = listed + extra
    return out
