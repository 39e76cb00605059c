"""Bedrock for a signed-in user runs on the tenant's own credentials: against the cloud emulator (moto's
Cognito user and identity pools), the app's drafter configuration gets the identity-pool session, and
the Bedrock client the drafter and the translator use signs with those credentials.  Bedrock itself
cannot run here: its answers come from a botocore Stubber on that very client (the named fake of the
drafting tests' kind); what the tenant role allows is checked in tests/unit/test_cloud.py."""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

import pytest
from botocore.stub import ANY, Stubber
from test_cloud_emulator import EmulatorThread, signed_up  # tests/integration is on sys.path (rootdir)

from app.cloud.bedrock import BedrockBackend
from app.core.draft.drafters.translate import TRANSLATION_FORMAT, LLMTranslator
from app.workbench import services
from app.workbench.storage import AppSettings

pytestmark = [pytest.mark.slow]

MODEL = "anthropic.claude-3-5-sonnet-20240620-v1:0"


def _tool_answer(text: str) -> dict[str, Any]:
    return {"output": {"message": {"role": "assistant", "content": [
        {"toolUse": {"toolUseId": "tooluse_fake", "name": TRANSLATION_FORMAT.name, "input": {"text": text}}}]}},
        "stopReason": "tool_use", "usage": {"inputTokens": 90, "outputTokens": 12, "totalTokens": 102},
        "metrics": {"latencyMs": 300}}


def test_bedrock_uses_the_signed_in_tenant_credentials(tmp_path: Path) -> None:
    settings = AppSettings(bedrock_region="us-east-1", bedrock_model=MODEL)
    with EmulatorThread(tmp_path / "emulator") as emu:
        async def scenario() -> None:
            client = await signed_up(emu, tmp_path / "home", "translator@example.com")
            config = services.drafter_config("bedrock", settings)
            assert config.boto3_session is None
            await services.use_cloud_credentials(config, client)
            session = config.boto3_session
            assert session is not None
            creds = session.get_credentials()
            assert creds.method == "cognito-identity"  # the identity pool's, refreshed before expiry
            pool = await asyncio.to_thread(client.auth._fetch_credentials)
            assert creds.get_frozen_credentials().access_key == pool["access_key"]

            backend = BedrockBackend(config)
            bedrock = backend.client()
            assert bedrock.meta.region_name == "us-east-1"
            signer_creds = bedrock._request_signer._credentials
            assert signer_creds.get_frozen_credentials().access_key == pool["access_key"]
            with Stubber(bedrock) as fake_bedrock:  # fake: Bedrock does not run here
                fake_bedrock.add_response("converse", _tool_answer('Klicken Sie <mark name="go"/> hier.'),
                                          {"modelId": MODEL, "system": ANY, "messages": ANY,
                                           "inferenceConfig": ANY, "toolConfig": ANY})
                out = await LLMTranslator(config, backend).translate(['Click <mark name="go"/> here.'], "en", "de")
            assert out == ['Klicken Sie <mark name="go"/> hier.']

            # signed out: no tenant session; the standard AWS chain applies again
            await client.sign_out()
            again = services.drafter_config("bedrock", settings)
            await services.use_cloud_credentials(again, client)
            assert again.boto3_session is None
            # an OpenAI-compatible drafter never gets AWS credentials
            other = services.drafter_config("openai", settings)
            await services.use_cloud_credentials(other, client)
            assert other.boto3_session is None

        asyncio.run(scenario())
