"""The client's side of session files, before anything reaches the network: a job that signs in
needs the stack's session key, and a file that cannot be a browser session is refused by name.
(Upload, encryption headers, deletion and isolation run against moto in tests/integration.)"""

from __future__ import annotations

import asyncio
import json
import re
from pathlib import Path

import pytest

from app.cloud.client import MAX_SESSION_BYTES, CloudClient
from app.cloud.config import CloudConfig
from app.cloud.errors import CloudError
from app.cloud.layout import JobRef
from app.cloud.tokens import TokenStore

TENANT = "us-east-1:0b5c2d7e-1111-4111-8111-123456789abc"


def config(session_key: str | None) -> CloudConfig:
    return CloudConfig(region="us-east-1", user_pool_id="us-east-1_pool", client_id="c", identity_pool_id="i",
                       bucket="b", session_key_id=session_key)


def signed_in_script(tmp: Path, session_bytes: bytes | None) -> Path:
    doc = {"version": 1, "title": "t",
           "settings": {"base_url": "https://app.example.com/", "session": "sessions/app.json"},
           "cards": [{"id": "open", "actions": [{"type": "goto", "url": "/"}]}]}
    (tmp / "script.json").write_text(json.dumps(doc))
    if session_bytes is not None:
        (tmp / "sessions").mkdir()
        (tmp / "sessions" / "app.json").write_bytes(session_bytes)
    return tmp / "script.json"


def client(tmp: Path, session_key: str | None) -> CloudClient:
    return CloudClient(config(session_key), TokenStore("pool", home=tmp / "home", use_keyring=False))


def test_a_signed_in_job_needs_the_stacks_session_key(tmp_path: Path) -> None:
    script = signed_in_script(tmp_path, b'{"cookies": [], "origins": []}')
    with pytest.raises(CloudError, match=r"names no session key.*configure"):
        asyncio.run(client(tmp_path, None).submit(script))


def test_a_missing_or_oversized_session_is_refused_by_name(tmp_path: Path) -> None:
    (tmp_path / "a").mkdir()
    with pytest.raises(CloudError, match=re.escape("cannot read the session file 'sessions/app.json'")):
        asyncio.run(client(tmp_path, "arn:aws:kms:us-east-1:1:key/k").submit(signed_in_script(tmp_path / "a", None)))
    (tmp_path / "b").mkdir()
    big = signed_in_script(tmp_path / "b", b"{" + b" " * MAX_SESSION_BYTES + b"}")
    with pytest.raises(CloudError, match=re.escape("'sessions/app.json' is 4.2 MB")):
        asyncio.run(client(tmp_path, "arn:aws:kms:us-east-1:1:key/k").submit(big))


def test_the_session_key_comes_from_the_stack_outputs() -> None:
    outputs = {"Region": "us-east-1", "UserPoolId": "p", "UserPoolClientId": "c", "IdentityPoolId": "i",
               "BucketName": "b", "SessionKeyArn": "arn:aws:kms:us-east-1:1:key/k"}
    assert CloudConfig.from_stack_outputs(outputs).session_key_id == "arn:aws:kms:us-east-1:1:key/k"
    del outputs["SessionKeyArn"]  # a stack from before session support still configures
    assert CloudConfig.from_stack_outputs(outputs).session_key_id is None


def test_each_job_has_its_own_session_key_under_the_tenant() -> None:
    ref = JobRef(TENANT, "20261205-000000-abcdef")
    assert ref.session_key == f"tenants/{TENANT}/jobs/20261205-000000-abcdef/session.json"
    assert ref.session_key.startswith(ref.tenant_prefix) and ref.session_key != ref.job_key
