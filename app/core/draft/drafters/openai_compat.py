"""OpenAI-compatible drafter: ``POST {base_url}/chat/completions`` with a JSON response format.

Works with OpenAI and with local servers (Ollama ``http://127.0.0.1:11434/v1``, LM Studio
``http://127.0.0.1:1234/v1``, vLLM, llama.cpp server).  Plain ``urllib`` in a worker thread: no new
dependency.  A server that does not support ``json_schema`` response formats is asked again with
``json_object``.
"""

from __future__ import annotations

import json
import socket
import urllib.error
import urllib.request
from typing import Any

from .base import DrafterConfig, DraftError
from .llm import SCRIPT_FORMAT, AnswerFormat, RawAnswer, Transient

MAX_RESPONSE_BYTES = 8 * 1024 * 1024


class OpenAIBackend:
    def __init__(self, config: DrafterConfig) -> None:
        self.config = config
        self.url = config.openai_base_url.rstrip("/") + "/chat/completions"
        if not self.url.startswith(("http://", "https://")):
            raise DraftError(f"the endpoint URL must start with http:// or https:// (got {config.openai_base_url!r})")
        self.label = f"{config.openai_model} at {config.openai_base_url}"
        self.response_format = config.openai_response_format

    def body(self, system: str, user: str, answer: AnswerFormat = SCRIPT_FORMAT) -> dict[str, Any]:
        cfg = self.config
        name = "reelwright_script" if answer is SCRIPT_FORMAT else f"reelwright_{answer.name}"
        fmt: dict[str, Any] = (
            {"type": "json_schema", "json_schema": {"name": name, "schema": answer.schema}}
            if self.response_format == "json_schema"
            else {"type": "json_object"}
        )
        return {
            "model": cfg.openai_model,
            "messages": [{"role": "system", "content": system}, {"role": "user", "content": user}],
            "temperature": cfg.temperature,
            "max_tokens": cfg.max_output_tokens,
            "response_format": fmt,
            "stream": False,
        }

    def ask(self, system: str, user: str, answer: AnswerFormat = SCRIPT_FORMAT) -> RawAnswer:
        data = json.dumps(self.body(system, user, answer)).encode("utf-8")
        headers = {
            "Content-Type": "application/json",
            "Accept": "application/json",
            "User-Agent": "Reelwright-drafter",
        }
        if self.config.openai_api_key:
            headers["Authorization"] = f"Bearer {self.config.openai_api_key}"
        req = urllib.request.Request(self.url, data=data, headers=headers, method="POST")
        try:
            with urllib.request.urlopen(req, timeout=self.config.timeout_s) as resp:
                raw = resp.read(MAX_RESPONSE_BYTES + 1)
        except urllib.error.HTTPError as exc:
            detail = _error_detail(exc)
            if exc.code in (401, 403):
                raise DraftError(
                    f"{self.url} refused the request ({exc.code}): {detail}", hint="check the API key"
                ) from None
            if exc.code == 404:
                raise DraftError(
                    f"{self.url} answered 404: {detail}",
                    hint="the base URL usually ends in /v1; check the model name",
                ) from None
            if exc.code == 400 and self.response_format == "json_schema" and "response_format" in detail:
                self.response_format = "json_object"
                raise Transient(f"the server does not take json_schema ({detail}); asking with json_object") from None
            if exc.code in (408, 409, 425, 429) or exc.code >= 500:
                raise Transient(f"the server is busy ({exc.code}): {detail}") from None
            raise DraftError(f"{self.url} rejected the request ({exc.code}): {detail}") from None
        except TimeoutError:
            raise Transient(f"no answer from {self.url} within {self.config.timeout_s:.0f} s") from None
        except urllib.error.URLError as exc:
            reason = exc.reason
            if isinstance(reason, TimeoutError | socket.timeout):
                raise Transient(f"no answer from {self.url} within {self.config.timeout_s:.0f} s") from None
            raise DraftError(
                f"cannot reach {self.url}: {reason}",
                hint="is the server (Ollama, LM Studio...) running, and is the base URL right?",
            ) from None
        except OSError as exc:
            raise Transient(f"connection to {self.url} failed: {exc}") from None
        if len(raw) > MAX_RESPONSE_BYTES:
            raise DraftError(f"{self.url} sent more than {MAX_RESPONSE_BYTES // 2**20} MB")
        return parse_chat_completion(raw)


def _error_detail(exc: urllib.error.HTTPError) -> str:
    try:
        body = exc.read(4096).decode("utf-8", "replace")
    except OSError:
        return exc.reason if isinstance(exc.reason, str) else ""
    try:
        doc = json.loads(body)
        err = doc.get("error") if isinstance(doc, dict) else None
        if isinstance(err, dict) and err.get("message"):
            return str(err["message"])
        if isinstance(err, str):
            return err
    except json.JSONDecodeError:
        pass
    return body.strip()[:300]


def parse_chat_completion(raw: bytes) -> RawAnswer:
    """The message content of a chat-completions response (the JSON answer is parsed later)."""
    from .llm import AnswerProblem

    try:
        doc = json.loads(raw.decode("utf-8", "replace"))
    except json.JSONDecodeError:
        raise Transient("the server's response is not JSON (a proxy error page?)") from None
    if not isinstance(doc, dict) or not isinstance(doc.get("choices"), list) or not doc["choices"]:
        raise Transient("the server's response has no choices")
    choice = doc["choices"][0]
    msg = choice.get("message") if isinstance(choice, dict) else None
    content = msg.get("content") if isinstance(msg, dict) else None
    if not isinstance(content, str):
        refusal = msg.get("refusal") if isinstance(msg, dict) else None
        raise AnswerProblem(f"the model gave no content{f' (refusal: {refusal})' if refusal else ''}")
    return RawAnswer(data=None, text=content, truncated=choice.get("finish_reason") == "length")
