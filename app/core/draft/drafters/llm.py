"""What the model drafters share: the answer schema, the prompt (within a token budget), turning an
answer into a validated script (repairing what can be repaired), and the bounded retry loop.

The model writes narration and groups the imported actions into cards *by index*; it never writes
code and its actions are not trusted: any explicit action it gives is validated like a script.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import re
import threading
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol, TypeVar

from pydantic import TypeAdapter, ValidationError

from ...errors import Cancelled, ScriptError
from ...infra.progress import CancelToken, StageTracker
from ...script import Action, validate_script
from ..observe import Observation
from .base import DrafterConfig, DraftError, DraftInput, DraftResult, clean_speech, slugify, unique_ids

TOOL_NAME = "submit_script"
CHARS_PER_TOKEN = 4  # a conservative average for English prose and code

ANSWER_SCHEMA: dict[str, Any] = {
    "type": "object",
    "additionalProperties": False,
    "required": ["title", "cards"],
    "properties": {
        "title": {"type": "string", "description": "title of the video", "maxLength": 120},
        "cards": {
            "type": "array",
            "minItems": 1,
            "maxItems": 60,
            "items": {
                "type": "object",
                "additionalProperties": False,
                "required": ["id", "title", "narration", "action_indices"],
                "properties": {
                    "id": {"type": "string", "description": "slug, e.g. 'create-project'"},
                    "title": {"type": "string"},
                    "narration": {"type": "string", "description": "spoken text, plain sentences"},
                    "action_indices": {
                        "type": "array",
                        "items": {"type": "integer", "minimum": 0},
                        "description": "indices of the imported actions this card performs, ascending",
                    },
                    "actions": {
                        "type": "array",
                        "items": {"type": "object"},
                        "description": "ONLY if the user asks to change the flow: explicit actions replacing "
                        "action_indices for this card",
                    },
                },
            },
        },
    },
}

SYSTEM_PROMPT = """You write the narration of a narrated product-demo video.
The video replays a recorded browser flow (the numbered actions below) while a voice reads each card's
narration. Split the flow into cards: each card performs a few consecutive actions (a step a viewer
understands: a navigation, a form filled and submitted, a click and what it shows).
Rules:
- Every action index appears in exactly one card, in ascending order across all cards, unless the
  user explicitly asks to change the flow (then give explicit "actions" for the cards that change).
- The first card introduces the video; the last card concludes (it may have no actions).
- Narration is spoken English: plain sentences, no markdown, no lists, no emojis, no URLs, no code.
  Never read out passwords or secrets. Follow the user's audience, tone and length.
- An action may carry a "seen:" note from a silent replay of the flow: the element as the viewer sees
  it (role, visible name, where it is, the label around it) and what changes on screen afterwards (the
  page that opens, its heading, a dialog, a message). Name things the way those notes do, never by
  selectors, CSS, test ids, URL paths or code identifiers, and let each card say what the viewer sees
  change.
- Use the documents for facts; you may cite a PDF page as "(page N)".
- Card ids are short lowercase slugs, unique.
Answer only with the JSON object the schema describes."""


class AnswerProblem(Exception):
    """The model's answer cannot be used as it is; the message is fed back on the next attempt."""


class Transient(Exception):
    """A temporary failure (throttling, timeout, 5xx): worth retrying after a pause."""


@dataclass
class RawAnswer:
    data: Any | None  # the structured answer, when the API returned one (Bedrock tool use)
    text: str  # the text answer (OpenAI content), or any text around a tool use
    truncated: bool = False


@dataclass(frozen=True)
class AnswerFormat:
    """The structured answer asked of a model: Bedrock's forced tool, OpenAI's ``json_schema`` format."""

    name: str
    description: str
    schema: dict[str, Any]


#: the drafter's answer: the script outline
SCRIPT_FORMAT = AnswerFormat(TOOL_NAME, "Submit the drafted video script (title and cards).", ANSWER_SCHEMA)


class Backend(Protocol):
    label: str

    def ask(self, system: str, user: str, answer: AnswerFormat = SCRIPT_FORMAT) -> RawAnswer: ...


# --------------------------------------------------------------------------- the prompt


def describe_action(a: Any) -> str:
    t = a.type
    target = getattr(a, "target", None)
    loc = f" {target.describe()}" if target is not None else ""
    if t == "goto":
        return f"goto {a.url}"
    if t == "fill":
        return f"fill{loc} with {json.dumps(a.value)}"
    if t == "type":
        return f"type{loc} {json.dumps(a.text)}"
    if t == "press":
        return f"press {a.key}{loc}"
    if t == "select":
        return f"select{loc} {', '.join(a.values)}"
    if t == "upload":
        return f"upload{loc} {', '.join(a.files)}"
    if t == "wait_for":
        if target is not None:
            what = loc
        elif a.text is not None:
            what = f" text {json.dumps(a.text)}"
        else:
            what = f" url {a.url}"
        return f"wait until{what} is {a.state}"
    if t == "click" and getattr(a, "new_page", False):
        return f"click{loc} (opens a new tab)"
    if t == "wait":
        return f"wait {a.ms} ms"
    return f"{t}{loc}"


def _q(text: str) -> str:
    return json.dumps(text, ensure_ascii=False)


def describe_seen(o: Observation) -> str:
    """What the viewer saw at a step, compactly: ``link "Get started free" in the sidebar; then page
    "Sign in · Lumen Tasks" with heading "Welcome back"``."""
    parts: list[str] = []
    t = o.target
    if t is not None and (t.name or t.text or t.role):
        who = " ".join(x for x in (t.role or "element", _q(t.short or t.name or t.text or "")
                                   if (t.name or t.text) else "") if x)
        if t.region and t.region not in ("form",):
            who += f" in the {t.region}"
        if t.context and t.context not in (t.name, t.short):
            who += f" under {_q(t.context)}"
        if t.value and o.type in ("select", "check", "uncheck"):
            who += f" -> {_q(t.value)}"
        parts.append(who)
    then: list[str] = []
    for c in o.changes[:4]:
        if c.kind == "page" and o.after is not None:
            heading = f" with heading {_q(o.after.heading)}" if o.after.heading else ""
            then.append(f"page {_q(o.after.title)}{heading}")
        elif c.kind == "dialog":
            then.append(f"dialog {_q(c.text)} opens")
        elif c.kind == "dialog_closed":
            then.append("the dialog closes")
        elif c.kind == "native_dialog":
            then.append(f"the browser asks {_q(c.text)}")
        elif c.kind == "tab":
            then.append(f"new tab {_q(c.text)}")
        elif c.kind == "message":
            then.append(f"message {_q(c.text)}")
        elif c.kind == "item":
            then.append(f"{_q(c.text)} appears in a list")
        elif c.kind in ("heading", "section"):
            if not any(x.startswith("page ") for x in then):
                then.append(f"heading {_q(c.text)}")
        elif c.kind == "title":
            then.append(f"title {_q(c.text)}")
    if then:
        parts.append("then " + ", ".join(then))
    return "; ".join(parts)


def build_user_prompt(inp: DraftInput, config: DrafterConfig) -> tuple[str, list[str]]:
    """The user message: the prompt, then the files in the user's order, within the token budget."""
    warnings: list[str] = []
    budget = config.max_input_tokens * CHARS_PER_TOKEN
    head = [
        f"The user's request: {inp.prompt.strip() or '(none: write a clear, neutral demo)'}",
        "",
        "Files, in the order the user arranged them:",
    ]
    flows_by_path = {f.path: f for f in inp.flows}
    docs_by_path = {d.path: d for d in inp.documents}
    order = list(dict.fromkeys([*inp.order, *flows_by_path, *docs_by_path]))
    numbers = {p: i + 1 for i, p in enumerate(order)}
    # flows are never cut: without every action there is nothing to narrate (what was seen may be)
    seen = inp.observations.by_index() if inp.observations is not None else {}

    def flows_text(with_seen: bool) -> dict[Path, str]:
        out: dict[Path, str] = {}
        index = 0
        for path in order:
            if path in flows_by_path:
                flow = flows_by_path[path]
                lines = [f"[{numbers[path]}] {path.name}: recorded browser flow, actions "
                         f"{index}-{index + len(flow.actions) - 1}"]
                for a in flow.actions:
                    lines.append(f"  {index}: {describe_action(a)}")
                    note = describe_seen(seen[index]) if with_seen and index in seen else ""
                    if note:
                        lines.append(f"     seen: {note}")
                    index += 1
                out[path] = "\n".join(lines)
        return out

    fixed = sum(len(h) for h in head) + len(SYSTEM_PROMPT)
    flow_text = flows_text(True)
    used = sum(len(t) for t in flow_text.values()) + fixed
    if seen and used > budget:
        flow_text = flows_text(False)
        used = sum(len(t) for t in flow_text.values()) + fixed
        warnings.append("what the silent run saw was left out of the model's prompt (token budget)")
    if used > budget:
        raise DraftError(
            f"the flow alone needs about {used // CHARS_PER_TOKEN} tokens, over the "
            f"{config.max_input_tokens}-token budget",
            hint="raise max_input_tokens or split the flow",
        )
    parts: list[str] = []
    for path in order:
        if path in flow_text:
            parts.append(flow_text[path])
            continue
        doc = docs_by_path[path]
        pages = f", {doc.page_count} pages" if doc.page_count else ""
        header = f"[{numbers[path]}] {path.name}: document '{doc.title}'{pages}"
        body = "\n\n".join(
            f"## {sec.title}{f' (page {sec.page_start})' if sec.page_start else ''}\n{sec.text}" for sec in doc.sections
        )
        room = budget - used - len(header) - 50
        if room <= 200:
            warnings.append(f"{path.name}: left out of the model's prompt (token budget spent)")
            continue
        if len(body) > room:
            warnings.append(
                f"{path.name}: only the first {room:,} of {len(body):,} characters were sent "
                "to the model (token budget)"
            )
            body = body[:room] + "\n[... cut for length]"
        parts.append(f"{header}\n{body}")
        used += len(parts[-1])
    return "\n".join(head) + "\n\n" + "\n\n".join(parts), warnings


# --------------------------------------------------------------------------- answers


def parse_json_text(text: str, *, allow_truncated: bool = False) -> Any:
    """The JSON object in a text answer: tolerate code fences, prose or <think> blocks around it."""
    t = re.sub(r"<think>.*?</think>", "", text, flags=re.S).strip()
    fence = re.search(r"```(?:json)?\s*(.*?)```", t, re.S)
    if fence:
        t = fence.group(1).strip()
    start = t.find("{")
    if start < 0:
        raise AnswerProblem("the answer contains no JSON object")
    t = t[start:]
    end = t.rfind("}")
    try:
        return json.loads(t[: end + 1] if end >= 0 else t)
    except json.JSONDecodeError as exc:
        if allow_truncated:
            repaired = repair_truncated_json(t)
            if repaired is not None:
                return repaired
        raise AnswerProblem(f"the answer is not valid JSON ({exc.msg} at character {exc.pos})") from None


def repair_truncated_json(text: str) -> Any | None:
    """Close a JSON answer cut off mid-way after its last complete card; None if that is impossible."""
    stack: list[str] = []
    in_str = esc = False
    cut: tuple[int, list[str]] | None = None
    for i, ch in enumerate(text):
        if in_str:
            if esc:
                esc = False
            elif ch == "\\":
                esc = True
            elif ch == '"':
                in_str = False
            continue
        if ch == '"':
            in_str = True
        elif ch in "{[":
            stack.append("}" if ch == "{" else "]")
        elif ch in "}]":
            if not stack:
                return None
            stack.pop()
            if ch == "}" and len(stack) == 2:  # a card object inside root{ cards[ ... ] }
                cut = (i + 1, list(stack))
    if cut is None:
        return None
    pos, open_ = cut
    try:
        return json.loads(text[:pos] + "".join(reversed(open_)))
    except json.JSONDecodeError:
        return None


_ACTION_ADAPTER: TypeAdapter[Any] = TypeAdapter(Action)


def answer_to_script(answer: Any, inp: DraftInput) -> tuple[Any, list[str]]:
    """Turn a model answer into a validated Script; repair what is safe, raise AnswerProblem otherwise."""
    warnings: list[str] = []
    if not isinstance(answer, dict):
        raise AnswerProblem("the answer must be a JSON object with 'title' and 'cards'")
    cards_raw = answer.get("cards")
    if not isinstance(cards_raw, list) or not cards_raw:
        raise AnswerProblem("'cards' must be a non-empty array")
    actions = inp.actions
    n = len(actions)
    cards: list[dict[str, Any]] = []
    placed: dict[int, int] = {}  # action index → card number
    bad_indices = 0
    explicit = False
    for ci, c in enumerate(cards_raw):
        if not isinstance(c, dict):
            raise AnswerProblem(f"card {ci + 1} is not an object")
        narration = c.get("narration")
        if not isinstance(narration, str) or not narration.strip():
            raise AnswerProblem(f"card {ci + 1} has no narration")
        title = c.get("title") if isinstance(c.get("title"), str) else ""
        card: dict[str, Any] = {
            "id": c.get("id"),
            "title": (title or "").strip()[:120],
            "narration": clean_speech(re.sub(r"<[^>]*>", " ", narration)),
            "actions": [],
        }
        if isinstance(c.get("actions"), list) and c["actions"]:
            explicit = True
            for ai, raw in enumerate(c["actions"]):
                try:
                    card["actions"].append(_ACTION_ADAPTER.validate_python(raw))
                except ValidationError as exc:
                    err = exc.errors(include_url=False)[0]
                    raise AnswerProblem(
                        f"card {ci + 1} action {ai + 1} is not a valid action: "
                        f"{'.'.join(map(str, err['loc']))}: {err['msg']}"
                    ) from None
            card["explicit"] = True
        idx = c.get("action_indices", [])
        if not isinstance(idx, list):
            raise AnswerProblem(f"card {ci + 1}: 'action_indices' must be an array of integers")
        for v in idx:
            if isinstance(v, bool) or not isinstance(v, int) or not 0 <= v < n:
                bad_indices += 1
                continue
            if v in placed:
                bad_indices += 1
                continue
            placed[v] = ci
        cards.append(card)
    if bad_indices:
        warnings.append(f"the model gave {bad_indices} unknown or repeated action index(es); they were ignored")
    # keep the recorded order: action i never plays before action i-1, whatever the model said
    missing = [i for i in range(n) if i not in placed]
    if explicit:
        if missing:
            warnings.append(f"as asked, {len(missing)} recorded action(s) were replaced by the model's actions")
    elif n:
        first_card = next((placed[i] for i in range(n) if i in placed), 0)
        cur = placed.get(0, first_card)
        reordered = 0
        for i in range(n):
            want = placed.get(i, cur)
            if want < cur:
                reordered += 1
                want = cur
            cur = want
            cards[cur]["actions"].append(actions[i])
        if missing or reordered:
            warnings.append(
                f"the model left out {len(missing)} and misordered {reordered} action(s); they "
                "were kept in the recorded order"
            )
    titles = [c["title"] or f"Card {i + 1}" for i, c in enumerate(cards)]
    for c, t in zip(cards, titles, strict=True):
        c["title"] = t
    wanted = [
        slugify(str(c["id"])) if isinstance(c["id"], str) and c["id"].strip() else slugify(t)
        for c, t in zip(cards, titles, strict=True)
    ]
    ids = unique_ids(wanted)
    title = answer.get("title") if isinstance(answer.get("title"), str) and answer["title"].strip() else "Draft"
    data = {
        "version": 1,
        "title": str(title).strip()[:120],
        "settings": inp.settings.model_dump(),
        "cards": [
            {
                "id": cid,
                "title": c["title"],
                "narration": c["narration"],
                "actions": [a.model_dump(exclude_defaults=True) | {"type": a.type} for a in c["actions"]],
            }
            for cid, c in zip(ids, cards, strict=True)
        ],
    }
    try:
        return validate_script(data, source="model answer"), warnings
    except ScriptError as exc:
        raise AnswerProblem("; ".join(str(p) for p in exc.problems[:5])) from None


# --------------------------------------------------------------------------- the loop

T = TypeVar("T")


async def _in_thread(fn: Callable[..., T], *args: Any, cancel: CancelToken | None) -> T:
    """``fn(*args)`` (a blocking model request) in a daemon thread of its own, awaited until it ends or
    ``cancel`` fires.  Not the loop's executor: ``asyncio.run`` waits for its threads at exit, so a
    cancelled draft would have waited for a slow model's answer up to the request's own timeout."""
    loop = asyncio.get_running_loop()
    result: asyncio.Future[T] = loop.create_future()

    def settle(value: Any, error: BaseException | None) -> None:
        if result.done():
            return  # abandoned after a cancel
        if error is not None:
            result.set_exception(error)
        else:
            result.set_result(value)

    def work() -> None:
        value: Any = None
        error: BaseException | None = None
        try:
            value = fn(*args)
        except BaseException as exc:  # noqa: BLE001 - handed to the awaiting task, which re-raises it
            error = exc
        with contextlib.suppress(RuntimeError):  # the loop is gone: nobody waits any more
            loop.call_soon_threadsafe(settle, value, error)

    threading.Thread(target=work, name="reelwright-model-request", daemon=True).start()
    if cancel is None:
        return await result
    waiter: asyncio.Future[Any] = asyncio.ensure_future(cancel.wait())
    pending: set[asyncio.Future[Any]] = {result, waiter}
    try:
        await asyncio.wait(pending, return_when=asyncio.FIRST_COMPLETED)
    finally:
        waiter.cancel()
    if result.done():
        return result.result()
    # the request thread ends on its own timeout; its outcome no longer matters
    result.cancel()
    raise Cancelled(cancel.reason)


#: model backends by drafter kind.  The core registers ``openai``; ``app.cloud`` registers ``bedrock``
#: (AWS client code), so the core never names, imports or loads anything above it.
BackendFactory = Callable[[DrafterConfig], Backend]
_BACKENDS: dict[str, BackendFactory] = {}


def register_backend(kind: str, factory: BackendFactory) -> None:
    """Make ``kind`` a drafter that asks the model behind ``factory(config)``."""
    _BACKENDS[kind] = factory


def unregister_backend(kind: str) -> None:
    _BACKENDS.pop(kind, None)


def registered_backends() -> list[str]:
    return sorted(_BACKENDS)


def _openai_backend(config: DrafterConfig) -> Backend:
    from .openai_compat import OpenAIBackend

    return OpenAIBackend(config)


register_backend("openai", _openai_backend)


def make_backend(config: DrafterConfig) -> Backend:
    factory = _BACKENDS.get(config.kind)
    if factory is None:
        known = ", ".join(["offline", *registered_backends()])
        raise DraftError(f"unknown drafter '{config.kind}' (use {known})",
                         hint="model drafters that need a cloud account are added by the app and the CLI")
    return factory(config)


async def llm_draft(
    inp: DraftInput,
    config: DrafterConfig,
    *,
    tracker: StageTracker | None = None,
    cancel: CancelToken | None = None,
    backend: Backend | None = None,
) -> DraftResult:
    backend = backend or make_backend(config)
    user, warnings = build_user_prompt(inp, config)
    attempts = max(1, config.max_attempts)
    problem = ""
    last_truncated: RawAnswer | None = None
    for attempt in range(1, attempts + 1):
        if cancel is not None:
            cancel.raise_if_cancelled()
        if tracker is not None:
            tracker.report("draft", (attempt - 1) / attempts, f"asking {backend.label} (attempt {attempt})")
        prompt = (
            user
            if not problem
            else (f"{user}\n\nA previous answer could not be used: {problem}\nAnswer again, complete and valid.")
        )
        try:
            raw = await _in_thread(backend.ask, SYSTEM_PROMPT, prompt, cancel=cancel)
        except Transient as exc:
            problem = str(exc)
            if attempt < attempts and config.retry_backoff_s > 0:
                await _sleep_or_cancel(config.retry_backoff_s * attempt, cancel)
            continue
        except AnswerProblem as exc:
            problem = str(exc)
            continue
        try:
            if raw.truncated:
                last_truncated = raw
                raise AnswerProblem("the answer was cut off at the output token limit; be more concise")
            data = raw.data if raw.data is not None else parse_json_text(raw.text)
            script, more = answer_to_script(data, inp)
        except AnswerProblem as exc:
            problem = str(exc)
            continue
        code = _code_in_narration(script)
        if code and attempt < attempts:
            problem = "the narration reads out code; name things as the viewer sees them: " + "; ".join(code[:5])
            continue
        more += [f"the model's narration still reads out code: {c}" for c in code]
        notes = [f"{backend.label} answered on attempt {attempt} (earlier: {problem})"] if attempt > 1 else []
        return DraftResult(script=script, warnings=warnings + notes + more)
    if last_truncated is not None:  # last resort: keep the complete cards of a cut-off answer
        with contextlib.suppress(AnswerProblem):
            data = (
                last_truncated.data
                if isinstance(last_truncated.data, dict) and last_truncated.data.get("cards")
                else parse_json_text(last_truncated.text, allow_truncated=True)
            )
            script, more = answer_to_script(data, inp)
            return DraftResult(
                script=script,
                warnings=[
                    *warnings,
                    f"{backend.label}'s answer was cut off; its complete cards were kept",
                    *more,
                ],
            )
    raise DraftError(
        f"{backend.label} gave no usable answer in {attempts} attempt(s): {problem}",
        hint="try again, pick another model, or use the offline drafter",
    )


def _code_in_narration(script: Any) -> list[str]:
    """The rubric's findings of code in the narration (selectors, CSS, test ids, URLs, identifiers)."""
    from ..rubric import check_narration

    return [str(f) for f in check_narration(script) if f.rule != "no_change"]


async def _sleep_or_cancel(seconds: float, cancel: CancelToken | None) -> None:
    if cancel is None:
        await asyncio.sleep(seconds)
        return
    with contextlib.suppress(asyncio.TimeoutError):
        await asyncio.wait_for(cancel.wait(), seconds)
    cancel.raise_if_cancelled()
