"""Amazon Bedrock drafter backend: the Converse API with a tool whose input schema is the answer
schema, and a forced tool choice, so the model answers with structured JSON.

It lives in ``app.cloud`` because it is AWS client code; ``app.cloud.register_services`` adds it to the core's
drafter registry (``app.core.draft.drafters.llm.register_backend``), so the core never imports boto3 or names this
module.  Credentials come from the standard AWS chain, a given ``boto3.Session`` (the signed-in
user's), or a client factory.
"""

from __future__ import annotations

from typing import Any

from app.core.draft.drafters.base import DrafterConfig, DraftError
from app.core.draft.drafters.llm import SCRIPT_FORMAT, AnswerFormat, RawAnswer, Transient

_TRANSIENT_CODES = frozenset(
    {
        "ThrottlingException",
        "ServiceUnavailableException",
        "InternalServerException",
        "ModelNotReadyException",
        "ModelTimeoutException",
        "TooManyRequestsException",
        "RequestTimeout",
        "ServiceQuotaExceededException",
    }
)


class BedrockBackend:
    def __init__(self, config: DrafterConfig) -> None:
        self.config = config
        self.label = f"Bedrock ({config.bedrock_model_id})"
        self._client: Any | None = None

    def client(self) -> Any:
        if self._client is not None:
            return self._client
        cfg = self.config
        if cfg.bedrock_client_factory is not None:
            self._client = cfg.bedrock_client_factory()
            return self._client
        import boto3
        from botocore.config import Config
        from botocore.exceptions import BotoCoreError, ProfileNotFound

        try:
            session = cfg.boto3_session or boto3.Session(profile_name=cfg.bedrock_profile)
        except ProfileNotFound as exc:
            raise DraftError(f"AWS profile not found: {exc}") from None
        region = cfg.bedrock_region or session.region_name
        if not region:
            raise DraftError("no AWS region for Bedrock", hint="set the Bedrock region in settings, or AWS_REGION")
        try:
            self._client = session.client(
                "bedrock-runtime",
                region_name=region,
                config=Config(
                    read_timeout=cfg.timeout_s,
                    connect_timeout=min(15.0, cfg.timeout_s),
                    retries={"max_attempts": 2, "mode": "standard"},
                ),
            )
        except BotoCoreError as exc:
            raise DraftError(f"cannot create the Bedrock client: {exc}") from None
        return self._client

    def request(self, system: str, user: str, answer: AnswerFormat = SCRIPT_FORMAT) -> dict[str, Any]:
        cfg = self.config
        return {
            "modelId": cfg.bedrock_model_id,
            "system": [{"text": system}],
            "messages": [{"role": "user", "content": [{"text": user}]}],
            "inferenceConfig": {"maxTokens": cfg.max_output_tokens, "temperature": cfg.temperature},
            "toolConfig": {
                "tools": [
                    {
                        "toolSpec": {
                            "name": answer.name,
                            "description": answer.description,
                            "inputSchema": {"json": answer.schema},
                        }
                    }
                ],
                "toolChoice": {"tool": {"name": answer.name}},
            },
        }

    def ask(self, system: str, user: str, answer: AnswerFormat = SCRIPT_FORMAT) -> RawAnswer:
        from botocore.exceptions import (
            BotoCoreError,
            ClientError,
            ConnectTimeoutError,
            EndpointConnectionError,
            NoCredentialsError,
            ReadTimeoutError,
        )

        client = self.client()
        try:
            resp = client.converse(**self.request(system, user, answer))
        except ClientError as exc:
            err = exc.response.get("Error", {})
            code = str(err.get("Code", ""))
            msg = str(err.get("Message", exc))
            if code in _TRANSIENT_CODES:
                raise Transient(f"Bedrock is busy ({code}: {msg})") from None
            if code == "AccessDeniedException":
                raise DraftError(
                    f"Bedrock refused access to {self.config.bedrock_model_id}: {msg}",
                    hint="enable access to this model in the Bedrock console for your region, "
                    "and allow bedrock:InvokeModel for your credentials",
                ) from None
            raise DraftError(f"Bedrock rejected the request ({code}): {msg}") from None
        except NoCredentialsError:
            raise DraftError(
                "no AWS credentials for Bedrock",
                hint="sign in, or configure the AWS CLI (aws configure / AWS_PROFILE)",
            ) from None
        except (EndpointConnectionError, ConnectTimeoutError, ReadTimeoutError) as exc:
            raise Transient(f"cannot reach Bedrock: {exc}") from None
        except BotoCoreError as exc:
            raise DraftError(f"Bedrock call failed: {exc}") from None
        return parse_converse_response(resp, answer.name)


def parse_converse_response(resp: dict[str, Any], tool_name: str = SCRIPT_FORMAT.name) -> RawAnswer:
    """The tool-use input (preferred) or the text of a Converse response."""
    stop = resp.get("stopReason")
    content = (((resp.get("output") or {}).get("message") or {}).get("content")) or []
    data: Any | None = None
    texts: list[str] = []
    for block in content:
        if not isinstance(block, dict):
            continue
        tool = block.get("toolUse")
        if isinstance(tool, dict) and tool.get("name") == tool_name and data is None:
            data = tool.get("input")
        if isinstance(block.get("text"), str):
            texts.append(block["text"])
    return RawAnswer(data=data, text="\n".join(texts), truncated=stop == "max_tokens")

