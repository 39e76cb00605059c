"""Fakes for the model drafters — Bedrock and OpenAI-compatible servers cannot be reached here.

* :class:`FakeBedrockConverse` — a real boto3 ``bedrock-runtime`` client with a botocore ``Stubber``
  that answers ``Converse`` with responses shaped like recorded ones (tool use, text, max_tokens,
  service errors).  botocore validates every stubbed response against the real service model.
* :class:`FakeChatCompletionsServer` — a loopback ``http.server`` speaking ``/v1/chat/completions``,
  answering from a script of responses (good JSON, junk, truncated, HTTP errors) and recording
  every request it receives.
"""

from __future__ import annotations

import json
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import boto3
from botocore.stub import ANY, Stubber

from app.core.draft.drafters.llm import TOOL_NAME


def converse_tool_use(answer: dict[str, Any], *, stop: str = "tool_use", tool: str = TOOL_NAME) -> dict[str, Any]:
    """A Converse response as Bedrock returns it when the model calls our tool."""
    return {
        "output": {
            "message": {
                "role": "assistant",
                "content": [
                    {"toolUse": {"toolUseId": "tooluse_kJ9Fq1sdTz2", "name": tool, "input": answer}},
                ],
            }
        },
        "stopReason": stop,
        "usage": {"inputTokens": 1834, "outputTokens": 412, "totalTokens": 2246},
        "metrics": {"latencyMs": 4211},
    }


def converse_text(text: str, *, stop: str = "end_turn") -> dict[str, Any]:
    return {
        "output": {"message": {"role": "assistant", "content": [{"text": text}]}},
        "stopReason": stop,
        "usage": {"inputTokens": 1834, "outputTokens": 37, "totalTokens": 1871},
        "metrics": {"latencyMs": 900},
    }


class FakeBedrockConverse:
    """A Stubber-backed bedrock-runtime client: queue answers, then hand ``factory`` to DrafterConfig."""

    def __init__(self, model_id: str = "anthropic.fake-model-v1:0", tool: str = TOOL_NAME) -> None:
        self.model_id = model_id
        self.tool = tool  # the forced tool every request must name (the drafter's, or the translator's)
        self.client = boto3.client(
            "bedrock-runtime", region_name="us-east-1", aws_access_key_id="FAKE", aws_secret_access_key="FAKE"
        )
        self.stubber = Stubber(self.client)
        self.stubber.activate()

    def _expected(self) -> dict[str, Any]:
        return {
            "modelId": self.model_id,
            "system": ANY,
            "messages": ANY,
            "inferenceConfig": ANY,
            "toolConfig": {
                "tools": [{"toolSpec": {"name": self.tool, "description": ANY, "inputSchema": ANY}}],
                "toolChoice": {"tool": {"name": self.tool}},
            },
        }

    def answer(self, response: dict[str, Any]) -> None:
        self.stubber.add_response("converse", response, self._expected())

    def error(self, code: str, message: str, status: int = 400) -> None:
        self.stubber.add_client_error(
            "converse",
            service_error_code=code,
            service_message=message,
            http_status_code=status,
            expected_params=self._expected(),
        )

    def factory(self) -> Any:
        return self.client

    def assert_all_used(self) -> None:
        self.stubber.assert_no_pending_responses()


class FakeChatCompletionsServer:
    """A loopback chat-completions endpoint.  ``replies`` are (status, body) pairs served in order;
    a dict body is sent as JSON.  ``requests`` holds every (headers, parsed body) received."""

    def __init__(self) -> None:
        self.replies: list[tuple[int, Any]] = []
        self.requests: list[tuple[dict[str, str], Any]] = []
        self.delay_s = 0.0  # a slow model: how long each answer takes (for cancel tests)
        fake = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                length = int(self.headers.get("Content-Length", "0"))
                raw = self.rfile.read(length)
                try:
                    body = json.loads(raw)
                except json.JSONDecodeError:
                    body = raw
                fake.requests.append(({k: v for k, v in self.headers.items()}, body))
                if fake.delay_s:
                    time.sleep(fake.delay_s)
                if self.path != "/v1/chat/completions":
                    status, reply = 404, {"error": {"message": f"no route {self.path}"}}
                elif fake.replies:
                    status, reply = fake.replies.pop(0)
                else:
                    status, reply = 500, {"error": {"message": "the fake server has no more replies"}}
                data = reply if isinstance(reply, bytes) else json.dumps(reply).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def log_message(self, format: str, *args: object) -> None:
                return

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.thread = threading.Thread(target=self.server.serve_forever, kwargs={"poll_interval": 0.02}, daemon=True)
        self.thread.start()

    @property
    def base_url(self) -> str:
        host, port = self.server.server_address[:2]
        return f"http://{host!s}:{port}/v1"

    def reply_content(self, content: str, *, finish: str = "stop") -> None:
        self.replies.append(
            (
                200,
                {
                    "id": "chatcmpl-fake-1",
                    "object": "chat.completion",
                    "created": 1763690000,
                    "model": "fake-llm",
                    "choices": [
                        {"index": 0, "message": {"role": "assistant", "content": content}, "finish_reason": finish}
                    ],
                    "usage": {"prompt_tokens": 1200, "completion_tokens": 300, "total_tokens": 1500},
                },
            )
        )

    def reply_json(self, answer: dict[str, Any]) -> None:
        self.reply_content(json.dumps(answer))

    def reply_error(self, status: int, message: str) -> None:
        self.replies.append((status, {"error": {"message": message, "type": "invalid_request_error"}}))

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()
