"""Pure tests of the cloud package: bucket layout, status documents, the state machine adaptation,
the tenant policy, the token store's keyring-less fallback, configuration and the Polly provider."""

from __future__ import annotations

import asyncio
import io
import json
import stat
import subprocess
import sys
from pathlib import Path
from typing import Any

import keyring
import keyring.backends.fail
import keyring.errors
import pytest
from keyring.backend import KeyringBackend

from app.cloud.client import CloudClient
from app.cloud.config import CloudConfig, load_config
from app.cloud.emulator.iam import (
    IDENTITY_VARIABLE,
    MOTO_OPERATIONS,
    PUT_OBJECT_OPERATIONS,
    as_moto_evaluates,
    tenant_policy,
    tenant_role_policies,
)
from app.cloud.emulator.statemachine import (
    OPTIMIZED_ECS,
    SDK_ECS,
    adapt_for_moto,
    load_template,
    production_definition,
    substitution_names,
)
from app.cloud.errors import CloudConfigError
from app.cloud.layout import JobRef, JobStatus, asset_key
from app.cloud.polly import PollyProvider, register
from app.cloud.tokens import Session, TokenStore
from app.core.script import VoiceSettings
from app.core.voice.base import VoiceError, get_provider, unregister_provider

ROOT = Path(__file__).resolve().parents[2]
TENANT = "us-east-1:0b5c6a51-1c1e-4c1a-9d0b-8e3f2a7c9d10"
OTHER = "eu-west-2:11111111-2222-3333-4444-555555555555"


# ---------------------------------------------------------------------- layout


def test_job_key_gives_tenant_and_job() -> None:
    ref = JobRef.from_job_key(f"tenants/{TENANT}/jobs/20261121-031502-9f3a1c/job.json")
    assert ref == JobRef(TENANT, "20261121-031502-9f3a1c")
    assert ref.status_key == f"tenants/{TENANT}/jobs/20261121-031502-9f3a1c/status.json"
    assert ref.out_key("video.mp4").endswith("/out/video.mp4")
    assert asset_key(TENANT, "a" * 64) == f"tenants/{TENANT}/assets/{'a' * 64}"


@pytest.mark.parametrize("key", [
    f"tenants/{TENANT}/jobs/../../{OTHER}/jobs/abcdef/job.json",  # traversal spelled in the key
    f"tenants/{TENANT}/x/jobs/abcdef/job.json",  # extra segment (the rule's * spans slashes)
    f"tenants/{TENANT}/jobs/abcdef/status.json",
    "tenants/not-an-identity/jobs/abcdef/job.json",
    f"/tenants/{TENANT}/jobs/abcdef/job.json",
    f"tenants/{TENANT}/jobs/ABC/job.json",
])
def test_anything_but_a_job_key_is_refused(key: str) -> None:
    with pytest.raises(ValueError, match="not a job key"):
        JobRef.from_job_key(key)


def test_output_names_cannot_leave_the_job() -> None:
    ref = JobRef(TENANT, "abcdef-1")
    for bad in ("../x", "a/b", "", ".."):
        with pytest.raises(ValueError):
            ref.out_key(bad)


def test_status_documents_written_by_the_state_machine_parse() -> None:
    complete = JobStatus.from_json("j1", {
        "status": "Complete", "jobId": "j1", "submitted": "2026-11-21T03:00:00Z",
        "result": {"title": "Demo", "duration_s": 12.5, "outputs": [
            {"name": "video.mp4", "key": "tenants/t/jobs/j1/out/video.mp4", "bytes": 10, "sha256": "ab" * 32}]}})
    assert complete.terminal and complete.title == "Demo" and complete.duration_s == 12.5
    assert [o.name for o in complete.outputs] == ["video.mp4"]
    failed = JobStatus.from_json("j2", {"status": "Failed", "error": {
        "Error": "Recorder.RenderFailed", "Cause": "card 2 'save' › action 1: no element"}})
    assert failed.error == "Recorder.RenderFailed"
    assert failed.describe() == "Failed: card 2 'save' › action 1: no element"
    rendering = JobStatus.from_json("j3", {"status": "Rendering", "stage": "capture", "progress": 0.42})
    assert not rendering.terminal and rendering.describe() == "Rendering 42% (capture)"
    assert JobStatus.from_json("j4", {"status": "bogus"}).state == "Queued"


# ---------------------------------------------------------------------- state machine


def test_adaptation_for_moto_changes_only_the_render_step_and_camel_cases_sdk_calls() -> None:
    prod = production_definition()
    values = {k: f"<{k}>" for k in substitution_names()}
    moto = adapt_for_moto(prod, values)
    assert prod["States"]["Render"]["Resource"] == OPTIMIZED_ECS
    render = moto["States"]["Render"]
    assert render["Resource"] == SDK_ECS
    params = render["Parameters"]
    assert params["cluster"] == "<Cluster>" and params["launchType"] == "FARGATE"
    assert "capacityProviderStrategy" not in params
    env = params["overrides"]["containerOverrides"][0]["environment"]
    assert {"name": "TASK_TOKEN", "value.$": "$$.Task.Token"} in env
    assert render["HeartbeatSeconds"] == prod["States"]["Render"]["HeartbeatSeconds"]
    # the Retry became a counted loop with the same errors and attempts, ahead of the original catches
    assert "Retry" not in render
    rule = prod["States"]["Render"]["Retry"][0]
    assert render["Catch"][0] == {"ErrorEquals": rule["ErrorEquals"], "ResultPath": "$.error",
                                  "Next": "MotoRetry0Check"}
    assert render["Catch"][1:] == prod["States"]["Render"]["Catch"]
    check = moto["States"]["MotoRetry0Check"]
    assert check["Choices"][1]["NumericLessThan"] == rule["MaxAttempts"] and check["Default"] == "MotoRetry0Out"
    # out of attempts, each error goes where the production Catch sends it
    assert moto["States"]["MotoRetry0Out"] == {"Type": "Pass", "Next": "FindRecorder"}
    assert moto["States"]["WaitToRetryRender"]["Seconds"] == 1  # retry_interval_s, as the loop's own Wait
    assert prod["States"]["WaitForSlot"]["Seconds"] == 30 and moto["States"]["WaitForSlot"]["Seconds"] == 1
    assert moto["States"]["MotoRetry0Wait"]["Next"] == "Render"
    assert set(moto["States"]) - set(prod["States"]) == {f"MotoRetry0{n}" for n in ("Check", "Init", "Bump", "Wait",
                                                                                     "Out")}
    # aws-sdk:ecs calls take and return camelCase names in boto3 (moto), PascalCase on AWS
    find = moto["States"]["FindRecorder"]
    assert find["Parameters"] == {"cluster": "<Cluster>", "startedBy.$": "States.Hash($.job.key, 'MD5')",
                                  "desiredStatus": "RUNNING"}
    assert find["ResultSelector"] == {"taskArns.$": "$.taskArns"}
    stop = moto["States"]["StopRecorder"]["ItemProcessor"]["States"]["StopTask"]
    assert set(stop["Parameters"]) == {"cluster", "task.$", "reason.$"}
    assert stop["ResultSelector"] == {"stopped.$": "$.task.taskArn"}
    for name, state in prod["States"].items():
        if name not in ("Render", "FindRecorder", "StopRecorder", "FindLostRecorder", "StopLostRecorder",
                        "WaitToRetryRender", "WaitForSlot", "RenderVariants"):
            text = json.dumps(state)
            for k in values:
                text = text.replace(f"${{{k}}}", f"<{k}>")
            expected = json.loads(text)
            assert moto["States"][name] == expected, name
    # the fan-out's per-variant render step gets the same changes, inside the map, and nothing else there does
    inner_prod = prod["States"]["RenderVariants"]["ItemProcessor"]["States"]
    inner = moto["States"]["RenderVariants"]["ItemProcessor"]["States"]
    variant = inner["RenderVariant"]
    assert inner_prod["RenderVariant"]["Resource"] == OPTIMIZED_ECS and variant["Resource"] == SDK_ECS
    assert variant["Parameters"]["launchType"] == "FARGATE" and "capacityProviderStrategy" not in variant["Parameters"]
    assert {"name": "VARIANT", "value.$": "States.JsonToString($.variant)"} in (
        variant["Parameters"]["overrides"]["containerOverrides"][0]["environment"])
    assert "Retry" not in variant and variant["Catch"][0]["Next"] == "MotoVariantRetry0Check"
    assert inner["MotoVariantRetry0Out"] == {"Type": "Pass", "Next": "FindVariantRecorder"}
    assert inner_prod["WaitForVariantSlot"]["Seconds"] == 30 and inner["WaitForVariantSlot"]["Seconds"] == 1
    assert inner_prod["WaitToRetryVariant"]["Seconds"] == 15 and inner["WaitToRetryVariant"]["Seconds"] == 1
    assert set(inner) - set(inner_prod) == {f"MotoVariantRetry0{n}" for n in ("Check", "Init", "Bump", "Wait", "Out")}
    for name, state in inner_prod.items():
        if name not in ("RenderVariant", "WaitForVariantSlot", "WaitToRetryVariant", "FindVariantRecorder",
                        "StopVariantRecorder", "FindLostVariantRecorder", "StopLostVariantRecorder"):
            text = json.dumps(state)
            for k in values:
                text = text.replace(f"${{{k}}}", f"<{k}>")
            assert inner[name] == json.loads(text), name
    with pytest.raises(KeyError, match="no substitution"):
        adapt_for_moto(prod, {})


def test_dynamodb_expressions_use_every_placeholder_they_declare() -> None:
    """Guards against YAML eating an expression (an unquoted '#s' starts a comment)."""
    for name, state in production_definition()["States"].items():
        params = state.get("Parameters", {})
        # transactWriteItems (TakeSlot, ReleaseSlot) carry one such set per item
        for update in [params, *(item["Update"] for item in params.get("TransactItems", []))]:
            expr = update.get("UpdateExpression")
            if expr is None:
                continue
            expr += " " + update.get("ConditionExpression", "")
            for placeholder in [*update.get("ExpressionAttributeNames", {}),
                                *update.get("ExpressionAttributeValues", {})]:
                assert placeholder in expr, (name, placeholder, expr)


def test_tenant_comes_from_the_key_not_the_job_content() -> None:
    prod = production_definition()
    text = json.dumps(prod)
    # the only inputs the machine reads are the event's bucket/key/time and its own results
    assert "$.detail.object.key" in text
    assert "$.detail.requestParameters" not in text and "$.script" not in text
    env = prod["States"]["Render"]["Parameters"]["Overrides"]["ContainerOverrides"][0]["Environment"]
    assert {e["Name"] for e in env} == {"JOB_BUCKET", "JOB_KEY", "TASK_TOKEN", "JOB_AWS_ACCESS_KEY_ID",
                                        "JOB_AWS_SECRET_ACCESS_KEY", "JOB_AWS_SESSION_TOKEN", "JOB_AWS_EXPIRATION"}
    # the job's credentials come from the machine's own IssueJobCredentials state, nothing else
    creds = {e["Name"]: e["Value.$"] for e in env if e["Name"].startswith("JOB_AWS_")}
    assert all(v.startswith("$.jobCredentials.") for v in creds.values()), creds


# ---------------------------------------------------------------------- IAM


def _statements(doc: dict[str, Any]) -> list[dict[str, Any]]:
    st = doc["Statement"]
    return st if isinstance(st, list) else [st]


def test_every_tenant_grant_is_scoped_by_the_identity_variable() -> None:
    template = load_template()
    resources = template["Resources"]
    # only one role is assumable by Cognito identities, and the identity pool hands out only that one
    cognito_roles = [name for name, r in resources.items() if r["Type"] == "AWS::IAM::Role"
                     and "cognito-identity.amazonaws.com" in json.dumps(r["Properties"]["AssumeRolePolicyDocument"])]
    assert cognito_roles == ["TenantRole"]
    attachment = resources["IdentityPoolRoles"]["Properties"]["Roles"]
    assert attachment == {"authenticated": {"Fn::GetAtt": ["TenantRole", "Arn"]}}
    trust = json.dumps(resources["TenantRole"]["Properties"]["AssumeRolePolicyDocument"])
    assert "cognito-identity.amazonaws.com:aud" in trust and "authenticated" in trust
    statements = [s for d in tenant_role_policies() for s in _statements(d)]
    assert statements
    bedrock = [s for s in statements if s["Action"] == "bedrock:InvokeModel"]
    assert [s["Sid"] for s in bedrock] == ["InvokeConfiguredModels", "InvokeConfiguredInferenceProfiles"]
    for s in bedrock:
        # the configured model ids only (a template parameter), never every model
        assert s["Effect"] == "Allow" and "BedrockModelIds" in json.dumps(s["Resource"]), s
        assert '"*"' not in json.dumps(s["Resource"]) and "/*" not in json.dumps(s["Resource"]), s
    for s in statements:
        if s in bedrock:
            continue
        assert s["Effect"] == "Allow"
        actions = s["Action"] if isinstance(s["Action"], list) else [s["Action"]]
        assert all(a.startswith("s3:") and "*" not in a for a in actions), s
        if actions == ["s3:ListBucket"]:
            # listing is scoped by the prefix condition (the bucket is the resource)
            assert s["Condition"] == {"StringLike": {"s3:prefix": [f"tenants/{IDENTITY_VARIABLE}/*"]}}, s
        else:
            targets = s["Resource"] if isinstance(s["Resource"], list) else [s["Resource"]]
            # in !Sub, ${!x} is the escape for a literal ${x}: IAM sees the policy variable
            own = "${Bucket.Arn}/tenants/${!cognito-identity.amazonaws.com:sub}/"
            assert len(targets) == 1 and set(targets[0]) == {"Fn::Sub"}, s
            path = targets[0]["Fn::Sub"]
            # the whole own prefix, or a part of it (the session files the tenant may take back)
            assert path.startswith(own) and "${" not in path[len(own):] and ".." not in path, s
            if "s3:DeleteObject" in actions:
                assert path == own + "jobs/*/session.json", s
    # other policies attached to the tenant role elsewhere would bypass the check above; the one
    # exception (it exists only with share links on) may call the share signer's route and nothing else
    for name, r in resources.items():
        if r["Type"] in ("AWS::IAM::Policy", "AWS::IAM::ManagedPolicy"):
            if name == "ShareApiInvokePolicy":
                assert r["Condition"] == "ShareLinksOn"
                (grant,) = _statements(r["Properties"]["PolicyDocument"])
                assert grant["Effect"] == "Allow" and grant["Action"] == "execute-api:Invoke", grant
                assert grant["Resource"]["Fn::Sub"].endswith(":${ShareApi}/v1/POST/share"), grant
                continue
            assert "TenantRole" not in json.dumps(r["Properties"].get("Roles", [])), name


def test_tenant_policy_renders_for_one_identity() -> None:
    docs = tenant_policy(TENANT, "bkt")
    text = json.dumps(docs)
    assert f"arn:aws:s3:::bkt/tenants/{TENANT}/*" in text and "${" not in text and OTHER not in text


def test_tenant_may_invoke_only_the_configured_bedrock_models() -> None:
    """moto's own IAM evaluator (the one its server enforces with) on the rendered tenant policy."""
    from moto.iam.access_control import IAMPolicy, PermissionResult

    def allowed(docs: list[dict[str, Any]], action: str, resource: str) -> bool:
        results = [IAMPolicy(json.dumps(d)).is_action_permitted(action, resource) for d in docs]
        return PermissionResult.PERMITTED in results and PermissionResult.DENIED not in results

    default = tenant_policy(TENANT, "bkt")
    model = "anthropic.claude-3-5-sonnet-20240620-v1:0"  # the parameter's default = the app's default model
    assert allowed(default, "bedrock:InvokeModel", f"arn:aws:bedrock:us-east-1::foundation-model/{model}")
    assert allowed(default, "bedrock:InvokeModel", f"arn:aws:bedrock:eu-west-1::foundation-model/{model}")
    assert not allowed(default, "bedrock:InvokeModel", "arn:aws:bedrock:us-east-1::foundation-model/"
                       "anthropic.claude-3-opus-20240229-v1:0")
    assert not allowed(default, "bedrock:InvokeModelWithResponseStream",
                       f"arn:aws:bedrock:us-east-1::foundation-model/{model}")
    assert not allowed(default, "bedrock:CreateModelCustomizationJob", "*")
    ids = ["amazon.nova-lite-v1:0", "us.anthropic.claude-3-5-sonnet-20241022-v2:0"]
    chosen = tenant_policy(TENANT, "bkt", BedrockModelIds=ids)
    assert allowed(chosen, "bedrock:InvokeModel", "arn:aws:bedrock:us-west-2::foundation-model/amazon.nova-lite-v1:0")
    assert allowed(chosen, "bedrock:InvokeModel",
                   f"arn:aws:bedrock:us-east-1:123456789012:inference-profile/{ids[1]}")
    assert not allowed(chosen, "bedrock:InvokeModel", f"arn:aws:bedrock:us-east-1::foundation-model/{model}")
    # the S3 grants are unchanged by the parameter: still the tenant's own prefix only
    assert allowed(chosen, "s3:GetObject", f"arn:aws:s3:::bkt/tenants/{TENANT}/jobs/x/job.json")
    assert not allowed(chosen, "s3:GetObject", f"arn:aws:s3:::bkt/tenants/{OTHER}/jobs/x/job.json")


def test_moto_gets_its_operation_names_only_where_the_iam_action_is_granted() -> None:
    docs = tenant_policy(TENANT, "bkt")
    moto_docs = as_moto_evaluates(docs)
    assert "s3:CreateMultipartUpload" not in json.dumps(docs)  # the template stays in AWS's terms
    for doc, moto_doc in zip(docs, moto_docs, strict=True):
        for st, moto_st in zip(doc["Statement"], moto_doc["Statement"], strict=True):
            actions = [st["Action"]] if isinstance(st["Action"], str) else st["Action"]
            added = set(moto_st["Action"] if isinstance(moto_st["Action"], list) else [moto_st["Action"]])
            added -= set(actions)
            assert added == {op for a in actions for op in MOTO_OPERATIONS.get(a, ())}
            assert ("s3:PutObject" in actions) == (set(PUT_OBJECT_OPERATIONS) <= added)
            assert ("s3:ListBucket" in actions) == ("s3:ListObjectsV2" in added)
            assert moto_st["Resource"] == st["Resource"]


# ---------------------------------------------------------------------- tokens and config


def test_session_falls_back_to_a_private_file_with_a_warning(tmp_path: Path) -> None:
    store = TokenStore("pool-1", home=tmp_path, use_keyring=False)
    assert store.backend == "file" and store.warning and str(store.file_path) in store.warning
    assert store.load() is None
    store.save(Session("a@example.com", "id", "access", "refresh", TENANT))
    assert stat.S_IMODE(store.file_path.stat().st_mode) == 0o600
    other_pool = TokenStore("pool-2", home=tmp_path, use_keyring=False)
    other_pool.save(Session("b@example.com", "i2", "a2", "r2"))
    assert store.load() == Session("a@example.com", "id", "access", "refresh", TENANT)
    store.clear()
    assert store.load() is None and other_pool.load() is not None
    assert stat.S_IMODE(store.file_path.stat().st_mode) == 0o600


class FakeKeyring(KeyringBackend):
    """A fake OS keyring in memory (this machine has no keyring backend)."""

    priority = 1

    def __init__(self) -> None:
        self.items: dict[tuple[str, str], str] = {}

    def get_password(self, service: str, username: str) -> str | None:
        return self.items.get((service, username))

    def set_password(self, service: str, username: str, password: str) -> None:
        self.items[(service, username)] = password

    def delete_password(self, service: str, username: str) -> None:
        if self.items.pop((service, username), None) is None:
            raise keyring.errors.PasswordDeleteError("not found")  # as real backends do


def test_session_goes_to_the_keyring_when_there_is_one(tmp_path: Path) -> None:
    previous = keyring.get_keyring()
    fake = FakeKeyring()
    try:
        keyring.set_keyring(keyring.backends.fail.Keyring())  # type: ignore[no-untyped-call]
        assert TokenStore("p", home=tmp_path).backend == "file"
        keyring.set_keyring(fake)
        store = TokenStore("p", home=tmp_path)
        assert store.backend == "keyring" and store.warning is None
        store.save(Session("a@example.com", "id", "access", "refresh"))
        assert store.load() == Session("a@example.com", "id", "access", "refresh")
        assert not store.file_path.exists() and ("reelwright-cloud", "p") in fake.items
        store.clear()
        store.clear()  # twice: nothing left is fine
        assert store.load() is None
    finally:
        keyring.set_keyring(previous)


def test_config_from_stack_outputs_and_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("REELWRIGHT_CLOUD_HOME", str(tmp_path / "home"))
    outputs = {"Region": "eu-west-1", "UserPoolId": "eu-west-1_abc", "UserPoolClientId": "cid",
               "IdentityPoolId": "eu-west-1:pool", "BucketName": "bkt", "JobTableName": "t"}
    cfg = CloudConfig.from_stack_outputs(outputs, stack="prod")
    assert cfg.login_provider == "cognito-idp.eu-west-1.amazonaws.com/eu-west-1_abc"
    assert cfg.client_kwargs() == {"region_name": "eu-west-1"}
    path = cfg.save(tmp_path / "c.json")
    assert load_config(path) == cfg
    with pytest.raises(CloudConfigError, match="missing bucket"):
        CloudConfig.from_stack_outputs({k: v for k, v in outputs.items() if k != "BucketName"})
    with pytest.raises(CloudConfigError, match="reelwright cloud configure"):
        load_config(tmp_path / "absent.json")
    client = CloudClient.from_saved_config(path)
    assert client.config == cfg and not client.signed_in


# ---------------------------------------------------------------------- Polly


class FakePollyClient:
    """A fake of boto3's Polly client (Polly does not exist offline; moto's returns 8 zero bytes)."""

    def __init__(self, pcm: bytes) -> None:
        self.pcm = pcm
        self.calls: list[dict[str, Any]] = []

    def synthesize_speech(self, **kw: Any) -> dict[str, Any]:
        self.calls.append(kw)
        return {"AudioStream": io.BytesIO(self.pcm), "ContentType": "audio/pcm"}


def test_polly_provider_asks_for_neural_pcm_and_keys_the_cache_by_voice() -> None:
    fake = FakePollyClient(b"\x01\x00" * 16000)
    provider = PollyProvider(fake)
    pcm, rate = asyncio.run(provider.synthesize("Hello <there>", VoiceSettings(provider="polly", rate=1.25)))
    assert rate == 16000 and len(pcm) == 32000
    call = fake.calls[0]
    assert call["Engine"] == "neural" and call["OutputFormat"] == "pcm" and call["VoiceId"] == "Joanna"
    assert call["TextType"] == "ssml" and "&lt;there&gt;" in call["Text"] and 'rate="125%"' in call["Text"]
    a = provider.cache_identity(VoiceSettings(provider="polly", voice="Matthew"))
    b = provider.cache_identity(VoiceSettings(provider="polly", voice="Joanna"))
    assert a != b and a["engine"] == "neural" and a["provider"] == "polly"


def test_polly_provider_refuses_an_empty_answer() -> None:
    with pytest.raises(VoiceError, match="no audio"):
        asyncio.run(PollyProvider(FakePollyClient(b"\x00" * 8)).synthesize("Hi", VoiceSettings()))


def test_register_adds_polly_to_the_core_registry() -> None:
    try:
        register(lambda: FakePollyClient(b"\x00\x01" * 400))
        assert isinstance(get_provider("polly"), PollyProvider)
    finally:
        unregister_provider("polly")


# ---------------------------------------------------------------------- boundaries


def test_cloud_and_recorder_never_import_qt_and_core_never_imports_boto3() -> None:
    code = (
        "import sys\n"
        "import app.core.render, app.core.bundle, app.core.voice\n"
        "assert 'boto3' not in sys.modules and 'botocore' not in sys.modules, 'app.core imported boto3'\n"
        "import app.cloud.client, app.cloud.polly, app.cloud.deploy, app.cli_cloud\n"
        "import recorder.main, app.cloud.emulator.local, app.cloud.selftest, app.cloud.emulator.iam\n"
        "bad = sorted(m for m in sys.modules if m.split('.')[0] in ('PySide6', 'shiboken6', 'qasync'))\n"
        "assert not bad, bad\n"
    )
    out = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, timeout=120)
    assert out.returncode == 0, out.stderr


def test_cli_without_configuration_prints_a_sentence(tmp_path: Path) -> None:
    env = {"PATH": "/usr/bin:/bin", "REELWRIGHT_CLOUD_HOME": str(tmp_path), "HOME": str(tmp_path)}
    out = subprocess.run([sys.executable, "-m", "app.cli_cloud", "cloud", "list"], cwd=ROOT, env=env,
                         capture_output=True, text=True, timeout=120)
    assert out.returncode == 4
    assert "error: no cloud configuration" in out.stderr and "Traceback" not in out.stderr
