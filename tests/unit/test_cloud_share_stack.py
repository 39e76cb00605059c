"""Week-long share links in the template (``SharePublicKey``), read statically, and the share signer
Lambda's inline code run for real.

The template: the bucket's default encryption is SSE-S3 (CloudFront's origin access control cannot use
the aws/s3 KMS key) while session files keep SessionKey; the distribution's only origin is the bucket
through OAC, every behaviour needs a signature from the stack's key group, HTTPS only; the bucket lets
that distribution (AWS:SourceArn) read job outputs and nothing else; the private key's secret is
created empty and readable by the signer only; tenants may invoke the signing API and nothing more.

The Lambda's code is the template's text, executed here: it must answer exactly what
``app.cloud.cfsign.handle_share_request`` answers (the same link, byte for byte — PKCS#1 v1.5 signatures
are deterministic), on cfsign's own test cases, and its links verify with the public key.
"""

from __future__ import annotations

import ast
import json
import types
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import padding, rsa

from app.cloud.cfsign import canned_policy, cf_b64_decode, handle_share_request
from app.cloud.config import STACK_OUTPUTS, CloudConfig
from app.cloud.emulator.statemachine import load_template

TENANT = "eu-west-1:1111-2222"
KEY = f"tenants/{TENANT}/jobs/20261205-abc/out/video.mp4"
NOW = 1_800_000_000.0
SHARE_RESOURCES = ("SharePublicKeyResource", "ShareKeyGroup", "ShareOriginAccessControl", "ShareDistribution",
                   "ShareKeySecret", "ShareKeySecretPolicy", "ShareSignerLogGroup", "ShareSignerRole", "ShareSigner",
                   "ShareApi", "ShareApiResource", "ShareApiMethod", "ShareApiDeployment", "ShareApiStage",
                   "ShareSignerPermission", "ShareApiInvokePolicy")
#: test_cloud_cfsign's refused keys, each a different way of reaching past one's own outputs
REFUSED_KEYS = [
    "tenants/eu-west-1:9999-other/jobs/20261205-abc/out/video.mp4",
    f"tenants/{TENANT}-x/jobs/j/out/video.mp4",
    f"tenants/{TENANT}/jobs/20261205-abc/session.json",
    f"tenants/{TENANT}/jobs/20261205-abc/out/../session.json",
    f"tenants/{TENANT}/assets/abc",
    f"tenants/{TENANT}/jobs/20261205-abc/out/",
    f"tenants/{TENANT}/jobs/20261205-abc/out/de-9x16/sub/video.mp4",  # deeper than a variant's folder
    f"tenants/{TENANT}/jobs/20261205-abc/out/de-9x16/",
]
#: a fan-out variant's output, one folder deeper than a single job's
VARIANT_KEY = f"tenants/{TENANT}/jobs/20261205-abc/out/de-9x16/video.mp4"


@pytest.fixture(scope="module")
def template() -> dict[str, Any]:
    return load_template()


@pytest.fixture(scope="module")
def resources(template: dict[str, Any]) -> dict[str, Any]:
    return dict(template["Resources"])


# ---------------------------------------------------------------------- the template


def test_the_bucket_defaults_to_sse_s3_and_session_files_keep_their_own_key(resources: dict[str, Any]) -> None:
    rules = resources["Bucket"]["Properties"]["BucketEncryption"]["ServerSideEncryptionConfiguration"]
    assert [r["ServerSideEncryptionByDefault"] for r in rules] == [{"SSEAlgorithm": "AES256"}]
    assert "alias/aws/s3" not in json.dumps(resources)
    statements = [s for s in resources["BucketPolicy"]["Properties"]["PolicyDocument"]["Statement"] if "Sid" in s]
    encryption = [s for s in statements if "encryption" in json.dumps(s.get("Condition", {}))]
    # exactly one statement is about encryption: session.json must name SessionKey; no other put is asked
    # for aws:kms (the recorder's per-job session policy grants no KMS action)
    assert [s["Sid"] for s in encryption] == ["SessionsUseTheSessionKey"]
    session = encryption[0]
    assert session["Effect"] == "Deny"
    assert session["Resource"] == {"Fn::Sub": "${Bucket.Arn}/tenants/*/jobs/*/session.json"}
    assert session["Condition"]["StringNotEquals"] == {
        "s3:x-amz-server-side-encryption-aws-kms-key-id": {"Fn::GetAtt": ["SessionKey", "Arn"]}}


def test_the_client_still_uploads_session_files_under_the_session_key() -> None:
    import inspect

    from app.cloud.client import CloudClient

    source = inspect.getsource(CloudClient.submit)
    assert 'ServerSideEncryption="aws:kms", SSEKMSKeyId=self.config.session_key_id' in source


def test_sharing_is_off_by_default_and_every_share_resource_hangs_on_it(template: dict[str, Any],
                                                                        resources: dict[str, Any]) -> None:
    param = template["Parameters"]["SharePublicKey"]
    assert param["Default"] == ""
    assert template["Conditions"]["ShareLinksOn"] == {"Fn::Not": [{"Fn::Equals": [{"Ref": "SharePublicKey"}, ""]}]}
    for name in SHARE_RESOURCES:
        assert resources[name].get("Condition") == "ShareLinksOn", name
    for name in ("ShareApiUrl", "ShareDomain", "ShareKeySecretArn"):
        assert template["Outputs"][name]["Condition"] == "ShareLinksOn"
    public_key = resources["SharePublicKeyResource"]["Properties"]["PublicKeyConfig"]
    assert public_key["EncodedKey"] == {"Ref": "SharePublicKey"}
    assert resources["ShareKeyGroup"]["Properties"]["KeyGroupConfig"]["Items"] == [{"Ref": "SharePublicKeyResource"}]


def test_the_distribution_serves_the_bucket_through_oac_to_signed_https_requests_only(
        resources: dict[str, Any]) -> None:
    config = resources["ShareDistribution"]["Properties"]["DistributionConfig"]
    (origin,) = config["Origins"]
    assert origin["DomainName"] == {"Fn::GetAtt": ["Bucket", "RegionalDomainName"]}
    assert origin["OriginAccessControlId"] == {"Fn::GetAtt": ["ShareOriginAccessControl", "Id"]}
    assert origin["S3OriginConfig"] == {"OriginAccessIdentity": ""}  # no legacy OAI
    oac = resources["ShareOriginAccessControl"]["Properties"]["OriginAccessControlConfig"]
    assert (oac["OriginAccessControlOriginType"], oac["SigningBehavior"], oac["SigningProtocol"]) == (
        "s3", "always", "sigv4")
    behaviours = [config["DefaultCacheBehavior"], *config.get("CacheBehaviors", [])]
    for b in behaviours:
        assert b["TrustedKeyGroups"] == [{"Ref": "ShareKeyGroup"}], b
        assert "TrustedSigners" not in b  # no root-account CloudFront key pairs
        assert b["ViewerProtocolPolicy"] == "https-only"
        assert b["AllowedMethods"] == ["GET", "HEAD"]
        assert b["TargetOriginId"] == origin["Id"]


def test_the_bucket_lets_that_distribution_read_job_outputs_and_nothing_else(resources: dict[str, Any]) -> None:
    statements = resources["BucketPolicy"]["Properties"]["PolicyDocument"]["Statement"]
    conditional = [s["Fn::If"] for s in statements if "Fn::If" in s]
    assert len(conditional) == 1
    condition, statement, otherwise = conditional[0]
    assert condition == "ShareLinksOn" and otherwise == {"Ref": "AWS::NoValue"}
    assert statement["Effect"] == "Allow"
    assert statement["Principal"] == {"Service": "cloudfront.amazonaws.com"}
    assert statement["Action"] == "s3:GetObject"
    assert statement["Resource"] == {"Fn::Sub": "${Bucket.Arn}/tenants/*/jobs/*/out/*"}
    assert statement["Condition"] == {"StringEquals": {"AWS:SourceArn": {"Fn::Sub": (
        "arn:${AWS::Partition}:cloudfront::${AWS::AccountId}:distribution/${ShareDistribution}")}}}
    # the bucket stays private: public access blocks are all on (a service principal with SourceArn is not public)
    block = resources["Bucket"]["Properties"]["PublicAccessBlockConfiguration"]
    assert all(block.values()) and len(block) == 4


def test_the_private_key_is_never_in_the_template_and_only_the_signer_reads_it(resources: dict[str, Any]) -> None:
    secret = resources["ShareKeySecret"]["Properties"]
    assert "SecretString" not in secret and "GenerateSecretString" not in secret  # created empty
    policy = resources["ShareKeySecretPolicy"]["Properties"]
    assert policy["SecretId"] == {"Ref": "ShareKeySecret"} and policy["BlockPublicPolicy"] is True
    (deny,) = policy["ResourcePolicy"]["Statement"]
    assert deny["Effect"] == "Deny" and deny["Action"] == "secretsmanager:GetSecretValue"
    assert deny["Condition"] == {"ArnNotEquals": {"aws:PrincipalArn": {"Fn::GetAtt": ["ShareSignerRole", "Arn"]}}}
    grants = resources["ShareSignerRole"]["Properties"]["Policies"][0]["PolicyDocument"]["Statement"]
    read = next(s for s in grants if s["Sid"] == "ReadTheSigningKey")
    assert read["Resource"] == {"Ref": "ShareKeySecret"}
    assert not any(s["Action"] in ("s3:*", "s3:GetObject") for s in grants)  # the signer reads no objects


def test_tenants_may_call_the_iam_authorized_api_and_nothing_else_of_it(resources: dict[str, Any]) -> None:
    method = resources["ShareApiMethod"]["Properties"]
    assert method["AuthorizationType"] == "AWS_IAM" and method["HttpMethod"] == "POST"
    assert method["Integration"]["Type"] == "AWS_PROXY"  # requestContext.identity reaches the Lambda as is
    invoke = resources["ShareApiInvokePolicy"]["Properties"]
    assert invoke["Roles"] == [{"Ref": "TenantRole"}]
    (grant,) = invoke["PolicyDocument"]["Statement"]
    assert grant["Action"] == "execute-api:Invoke"
    assert grant["Resource"]["Fn::Sub"].endswith(":${ShareApi}/v1/POST/share")
    assert resources["ShareApiStage"]["Properties"]["StageName"] == "v1"
    permission = resources["ShareSignerPermission"]["Properties"]
    assert permission["Principal"] == "apigateway.amazonaws.com"
    assert permission["SourceArn"]["Fn::Sub"].endswith(":${ShareApi}/*/POST/share")
    env = resources["ShareSigner"]["Properties"]["Environment"]["Variables"]
    assert env == {"DOMAIN": {"Fn::GetAtt": ["ShareDistribution", "DomainName"]},
                   "KEY_PAIR_ID": {"Ref": "SharePublicKeyResource"}, "KEY_SECRET": {"Ref": "ShareKeySecret"}}


def test_the_app_configuration_reads_the_share_outputs() -> None:
    assert STACK_OUTPUTS["ShareApiUrl"] == "share_api_url" and STACK_OUTPUTS["ShareDomain"] == "share_domain"
    base = {"Region": "eu-west-1", "UserPoolId": "p", "UserPoolClientId": "c", "IdentityPoolId": "i",
            "BucketName": "b"}
    assert CloudConfig.from_stack_outputs(base).share_api_url is None  # off: presigned S3 links
    cfg = CloudConfig.from_stack_outputs({**base, "ShareApiUrl": "https://x.execute-api.eu-west-1.amazonaws.com/v1/share",
                                          "ShareDomain": "d111.cloudfront.net"})
    assert cfg.share_api_url and cfg.share_domain == "d111.cloudfront.net"


# ---------------------------------------------------------------------- the Lambda's inline code


@pytest.fixture(scope="module")
def lambda_code(resources: dict[str, Any]) -> str:
    code = resources["ShareSigner"]["Properties"]["Code"]["ZipFile"]
    assert isinstance(code, str)
    return code


@pytest.fixture(scope="module")
def signer(lambda_code: str) -> types.ModuleType:
    module = types.ModuleType("share_signer_inline")
    exec(compile(lambda_code, "template.yaml:ShareSigner", "exec"), module.__dict__)  # the template's own code
    return module


@pytest.fixture(scope="module")
def key_pair() -> tuple[bytes, bytes, rsa.RSAPublicKey]:
    """(PKCS#8 PEM as `openssl genrsa` writes it, PKCS#1 PEM as older OpenSSL does, public key)."""
    private = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    pkcs8 = private.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                  serialization.NoEncryption())
    pkcs1 = private.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.TraditionalOpenSSL,
                                  serialization.NoEncryption())
    return pkcs8, pkcs1, private.public_key()


def test_the_inline_code_fits_lambdas_4_kb_and_needs_only_the_runtime(lambda_code: str) -> None:
    assert len(lambda_code.encode()) <= 4096
    imported: set[str] = set()
    for node in ast.walk(ast.parse(lambda_code)):
        if isinstance(node, ast.Import):
            imported |= {a.name.split(".")[0] for a in node.names}
        elif isinstance(node, ast.ImportFrom):
            imported.add(str(node.module).split(".")[0])
    assert imported <= {"base64", "hashlib", "json", "os", "secrets", "time", "urllib", "boto3"}, imported


def _event(tenant: str | None, body: dict[str, object] | str) -> dict[str, object]:
    return {"body": body if isinstance(body, str) else json.dumps(body),
            "requestContext": {"identity": {"cognitoIdentityId": tenant}}}


def _both(signer: types.ModuleType, pem: bytes, event: dict[str, object]) -> tuple[dict[str, Any], dict[str, Any]]:
    inline = signer.handle(event, "d111.cloudfront.net", "K2JCJMDEHXQW5F", pem, now=NOW)
    reference = handle_share_request(event, domain="d111.cloudfront.net", key_pair_id="K2JCJMDEHXQW5F",
                                     private_key_pem=pem, now=NOW)
    return inline, reference


@pytest.mark.parametrize("pem_format", [0, 1], ids=["pkcs8", "pkcs1"])
@pytest.mark.parametrize("lifetime", [60, 3 * 24 * 3600, 7 * 24 * 3600, 30 * 24 * 3600])
def test_the_inline_signer_makes_cfsigns_link_byte_for_byte(
        signer: types.ModuleType, key_pair: tuple[bytes, bytes, rsa.RSAPublicKey], pem_format: int,
        lifetime: int) -> None:
    pem = key_pair[pem_format]
    inline, reference = _both(signer, pem, _event(TENANT, {"key": KEY, "lifetime_s": lifetime}))
    assert inline["statusCode"] == reference["statusCode"] == 200
    assert json.loads(inline["body"]) == json.loads(reference["body"])
    doc = json.loads(inline["body"])
    assert doc["expires"] == int(NOW) + min(lifetime, 7 * 24 * 3600)  # what was asked, capped at a week
    base = doc["url"].split("?", 1)[0]
    q = {k: v[0] for k, v in parse_qs(urlsplit(doc["url"]).query).items()}
    key_pair[2].verify(cf_b64_decode(q["Signature"]), canned_policy(base, int(q["Expires"])).encode(),
                       padding.PKCS1v15(), hashes.SHA1())


def test_the_inline_signer_signs_a_fan_out_variants_output_as_cfsign_does(
        signer: types.ModuleType, key_pair: tuple[bytes, bytes, rsa.RSAPublicKey]) -> None:
    inline, reference = _both(signer, key_pair[0], _event(TENANT, {"key": VARIANT_KEY, "lifetime_s": 86400}))
    assert inline["statusCode"] == reference["statusCode"] == 200, (inline, reference)
    assert json.loads(inline["body"]) == json.loads(reference["body"])
    url = json.loads(inline["body"])["url"]
    assert url.startswith("https://d111.cloudfront.net/tenants/") and "/out/de-9x16/video.mp4?" in url, url
    q = {k: v[0] for k, v in parse_qs(urlsplit(url).query).items()}
    key_pair[2].verify(cf_b64_decode(q["Signature"]), canned_policy(url.split("?")[0], int(q["Expires"])).encode(),
                       padding.PKCS1v15(), hashes.SHA1())


@pytest.mark.parametrize("key", REFUSED_KEYS)
def test_the_inline_signer_refuses_what_cfsign_refuses(signer: types.ModuleType,
                                                        key_pair: tuple[bytes, bytes, rsa.RSAPublicKey],
                                                        key: str) -> None:
    inline, reference = _both(signer, key_pair[0], _event(TENANT, {"key": key}))
    assert inline["statusCode"] == reference["statusCode"] == 403
    assert json.loads(inline["body"]) == json.loads(reference["body"])
    assert "url" not in inline["body"]


@pytest.mark.parametrize(("tenant", "body", "status"), [
    ("eu-west-1:9999-other", {"key": KEY, "tenant": TENANT}, 403),  # the body cannot name the tenant
    (None, {"key": KEY}, 403),
    ("", {"key": KEY}, 403),
    (TENANT, {"lifetime_s": 5}, 400),
    (TENANT, {"key": 7}, 400),
    (TENANT, {"key": KEY, "lifetime_s": "soon"}, 400),
    (TENANT, "not json", 400),
    (TENANT, {"key": KEY, "lifetime_s": 0}, 403),
])
def test_the_inline_signer_answers_bad_requests_like_cfsign(
        signer: types.ModuleType, key_pair: tuple[bytes, bytes, rsa.RSAPublicKey],
        tenant: str | None, body: dict[str, object] | str, status: int) -> None:
    inline, reference = _both(signer, key_pair[0], _event(tenant, body))
    assert inline["statusCode"] == reference["statusCode"] == status
    assert set(json.loads(inline["body"])) == set(json.loads(reference["body"])) == {"error"}


def test_the_deployed_handler_reads_the_key_from_secrets_manager(
        signer: types.ModuleType, key_pair: tuple[bytes, bytes, rsa.RSAPublicKey],
        monkeypatch: pytest.MonkeyPatch) -> None:
    """``handler`` as Lambda calls it, against moto's Secrets Manager (in-process): an empty secret
    (as the stack creates it) is a clear 503, then the operator's PEM signs."""
    import boto3
    from moto import mock_aws

    monkeypatch.setenv("AWS_DEFAULT_REGION", "us-east-1")
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "testing")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "testing")
    monkeypatch.setenv("DOMAIN", "d111.cloudfront.net")
    monkeypatch.setenv("KEY_PAIR_ID", "K2JCJMDEHXQW5F")
    with mock_aws():
        sm = boto3.client("secretsmanager")
        arn = sm.create_secret(Name="share-key", Description="created empty, like ShareKeySecret")["ARN"]
        monkeypatch.setenv("KEY_SECRET", arn)
        signer._pem[:] = [0.0, b""]
        empty = signer.handler(_event(TENANT, {"key": KEY}), None)
        assert empty["statusCode"] == 503 and "no private key" in empty["body"]
        sm.put_secret_value(SecretId=arn, SecretString=key_pair[0].decode())
        signer._pem[:] = [0.0, b""]
        ok = signer.handler(_event(TENANT, {"key": KEY, "lifetime_s": 7 * 24 * 3600}), None)
        assert ok["statusCode"] == 200
        assert json.loads(ok["body"])["url"].startswith("https://d111.cloudfront.net/tenants/")
        other = signer.handler(_event("eu-west-1:9999-other", {"key": KEY}), None)
        assert other["statusCode"] == 403
        sm.put_secret_value(SecretId=arn, SecretString="not a key")
        signer._pem[:] = [0.0, b""]
        broken = signer.handler(_event(TENANT, {"key": KEY}), None)
        assert broken["statusCode"] == 503 and "not a usable RSA private key" in broken["body"]
