"""What every drafter receives and returns, and how it is configured."""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

from ...errors import ReelwrightError
from ...script import Action, Script, Settings
from ..documents import Document
from ..observe import FlowObservation


class DraftError(ReelwrightError):
    """Drafting failed as a whole (nothing usable given, or a remote drafter kept failing)."""

    exit_code = 2


@dataclass
class FlowSource:
    """The actions imported from one codegen file, in the order the user gave the files."""

    path: Path
    actions: list[Action]


@dataclass
class DraftInput:
    flows: list[FlowSource]
    documents: list[Document]
    prompt: str
    settings: Settings
    order: list[Path] = field(default_factory=list)  # every used file, in the user's order
    site_dir: Path | None = None  # the static site the flow runs against, when known
    #: what the viewer sees at each step (a silent run of the flow), when one could be made
    observations: FlowObservation | None = None

    @property
    def actions(self) -> list[Any]:
        return [a for f in self.flows for a in f.actions]


@dataclass
class DraftResult:
    """A validated draft script and the messages the user should see (per file, skips, fallbacks)."""

    script: Script
    warnings: list[str] = field(default_factory=list)
    #: what the silent run saw (by action index), when one was made: for the rubric and for the UI
    observations: FlowObservation | None = None


@dataclass
class DrafterConfig:
    #: "offline", or a model backend registered with ``llm.register_backend`` ("openai"; "bedrock" when
    #: ``app.cloud`` is loaded): see ``drafting.drafter_kinds()``
    kind: str = "offline"
    # Amazon Bedrock (Converse API)
    bedrock_model_id: str = "anthropic.claude-3-5-sonnet-20240620-v1:0"
    bedrock_region: str | None = None  # None: the standard AWS chain (AWS_REGION, profile...)
    bedrock_profile: str | None = None
    #: a ready boto3.Session (e.g. the signed-in user's credentials); None = the standard chain
    boto3_session: Any | None = None
    #: or a factory returning a bedrock-runtime client (takes precedence over the session)
    bedrock_client_factory: Callable[[], Any] | None = None
    # OpenAI-compatible endpoint (OpenAI, Ollama, LM Studio, vLLM...)
    openai_base_url: str = "http://127.0.0.1:11434/v1"
    openai_model: str = "llama3.1"
    openai_api_key: str | None = None
    openai_response_format: Literal["json_schema", "json_object"] = "json_schema"
    # shared
    max_input_tokens: int = 24_000
    max_output_tokens: int = 4_096
    temperature: float = 0.3
    timeout_s: float = 120.0
    max_attempts: int = 3  # answers asked for, in total, before the draft fails
    retry_backoff_s: float = 1.0  # wait before retrying a failed request (x attempt number)
    fallback_to_offline: bool = False  # on final failure, use the offline draft (with a warning)
    #: the folder of the static site the flow runs against (settings.site resolved), if known: the
    #: offline drafter then names test ids by what the page shows ("Get started free")
    site_dir: Path | None = None
    #: replay the flow silently in Chromium first and write from what the viewer sees (page titles,
    #: headings, the names of what is clicked, what changes); off in the core, on in the CLI and the app
    observe: bool = False
    #: real seconds the silent run may take (what it saw by then is used)
    observe_time_limit_s: float = 90.0
    #: the signed-in session (Playwright storage state) the flow needs, on disk; None: look beside the
    #: flow for the file its code names (codegen writes auth.json where it was run)
    session_file: Path | None = None
    #: a folder of saved sessions (<name>.json, the app's library): searched after the flow's own folder
    sessions_dir: Path | None = None


def slugify(text: str, fallback: str = "card") -> str:
    """A card id from a title: ascii, lowercase, hyphens, at most 48 characters."""
    norm = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode()
    slug = re.sub(r"[^a-z0-9]+", "-", norm.lower()).strip("-")[:48].strip("-")
    return slug or fallback


def unique_ids(titles: list[str]) -> list[str]:
    seen: dict[str, int] = {}
    out: list[str] = []
    for t in titles:
        base = slugify(t)
        n = seen.get(base, 0)
        seen[base] = n + 1
        out.append(base if n == 0 else f"{base}-{n + 1}")
    # a generated "x-2" could collide with a real title "x 2": resolve deterministically
    while len(set(out)) != len(out):
        dup = {i for i, v in enumerate(out) if out.index(v) != i}
        out = [f"{v}-{i + 1}" if i in dup else v for i, v in enumerate(out)]
    return out


_MD_MARKUP = re.compile(r"(\*\*|__|\*|_|`)(?=\S)(.+?)(?<=\S)\1")


def clean_speech(text: str) -> str:
    """Narration as a person would say it: no markdown emphasis, no stray tags, folded spaces."""
    for _ in range(3):
        text = _MD_MARKUP.sub(r"\2", text)
    text = re.sub(r"<(?!mark\s)[^>]*>", "", text)
    text = text.replace("*", "").replace("`", "")
    return " ".join(text.split())
