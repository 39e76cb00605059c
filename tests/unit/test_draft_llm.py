"""Model drafters against fakes named as fakes: Bedrock Converse through a botocore Stubber
(FakeBedrockConverse) and a loopback chat-completions server (FakeChatCompletionsServer) — with
good, junk, truncated and schema-violating answers, service errors and retries."""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from documents_fixtures import GUIDE_PAGES, make_pdf
from draft_fakes import FakeBedrockConverse, FakeChatCompletionsServer, converse_text, converse_tool_use

from app.cloud import register_drafters
from app.core.draft.drafters.llm import ANSWER_SCHEMA, parse_json_text, repair_truncated_json
from app.core.draft.drafting import DrafterConfig, DraftError, draft, import_codegen, rebase_local_urls
from app.core.errors import Cancelled
from app.core.infra.progress import CancelToken
from app.core.script import Settings

DATA = Path(__file__).resolve().parents[1] / "data"
FLOW = DATA / "codegen" / "recorded" / "quickstart.spec.ts"
SITE = Settings(site="site")
N = len(import_codegen(FLOW).actions)  # 20 recorded actions


@pytest.fixture(autouse=True)
def _bedrock_registered() -> None:
    """The doors (CLI, app) add the Bedrock drafter to the core's registry; so do these tests."""
    register_drafters()


def good_answer(n: int = N) -> dict[str, Any]:
    return {
        "title": "Lumen Tasks in two minutes",
        "cards": [
            {
                "id": "intro",
                "title": "Welcome",
                "narration": "Lumen Tasks keeps your team's work in one place.",
                "action_indices": [0],
            },
            {
                "id": "sign-in",
                "title": "Sign in",
                "narration": "Start from the home page and sign in with your work email (page 1).",
                "action_indices": list(range(1, 7)),
            },
            {
                "id": "create",
                "title": "Create a project",
                "narration": "A **template** gives the project its first tasks.",
                "action_indices": list(range(7, 13)),
            },
            {
                "id": "work",
                "title": "Add a task",
                "narration": "Open it and add a task.",
                "action_indices": list(range(13, n)),
            },
            {"id": "outro", "title": "Wrap-up", "narration": "That's all it takes.", "action_indices": []},
        ],
    }


@pytest.fixture()
def guide(tmp_path: Path) -> Path:
    return make_pdf(tmp_path / "guide.pdf")


@pytest.fixture()
def bedrock() -> Iterator[FakeBedrockConverse]:
    fake = FakeBedrockConverse()
    yield fake
    fake.assert_all_used()


@pytest.fixture()
def chat() -> Iterator[FakeChatCompletionsServer]:
    fake = FakeChatCompletionsServer()
    yield fake
    fake.close()


def bedrock_config(fake: FakeBedrockConverse, **kw: Any) -> DrafterConfig:
    return DrafterConfig(
        kind="bedrock", bedrock_model_id=fake.model_id, bedrock_client_factory=fake.factory, retry_backoff_s=0, **kw
    )


def openai_config(fake: FakeChatCompletionsServer, **kw: Any) -> DrafterConfig:
    return DrafterConfig(
        kind="openai",
        openai_base_url=fake.base_url,
        openai_model="fake-llm",
        openai_api_key="sk-fake",
        retry_backoff_s=0,
        timeout_s=10,
        **kw,
    )


def run(files: list[Path], config: DrafterConfig, prompt: str = "a short tour for new users") -> Any:
    return asyncio.run(draft(files, prompt, config=config, settings=SITE))


def flat(script: Any) -> list[Any]:
    return [a for c in script.cards for a in c.actions]


EXPECTED_ACTIONS = rebase_local_urls(import_codegen(FLOW).actions, SITE)


# --------------------------------------------------------------------------- Bedrock


def test_bedrock_tool_answer_becomes_the_script(bedrock: FakeBedrockConverse, guide: Path) -> None:
    bedrock.answer(converse_tool_use(good_answer()))
    res = run([FLOW, guide], bedrock_config(bedrock))
    s = res.script
    assert s.title == "Lumen Tasks in two minutes"
    assert [c.id for c in s.cards] == ["intro", "sign-in", "create", "work", "outro"]
    assert flat(s) == EXPECTED_ACTIONS
    assert s.cards[2].narration == "A template gives the project its first tasks."  # markdown removed
    assert res.warnings == []


def test_bedrock_prompt_carries_ordered_files_and_the_schema_tool(bedrock: FakeBedrockConverse, guide: Path) -> None:
    seen: dict[str, Any] = {}
    bedrock.answer(converse_tool_use(good_answer()))
    real = bedrock.client.converse

    def spy(**kw: Any) -> Any:
        seen.update(kw)
        return real(**kw)

    bedrock.client.converse = spy  # type: ignore[method-assign]
    run([guide, FLOW], bedrock_config(bedrock), prompt="for developers")
    text = seen["messages"][0]["content"][0]["text"]
    assert "for developers" in text
    assert text.index("[1] guide.pdf") < text.index("[2] quickstart.spec.ts")  # the user's order
    assert "0: goto /index.html" in text and '19: click get_by_role("button", name="Save changes")' in text
    assert "## Creating a project (page 2)" in text
    assert seen["toolConfig"]["tools"][0]["toolSpec"]["inputSchema"]["json"] == ANSWER_SCHEMA
    assert seen["toolConfig"]["toolChoice"] == {"tool": {"name": "submit_script"}}


def test_bedrock_schema_violation_is_retried_with_the_problem(bedrock: FakeBedrockConverse) -> None:
    bad = good_answer()
    del bad["cards"][1]["narration"]
    bedrock.answer(converse_tool_use(bad))
    bedrock.answer(converse_text("Sure! Here is a script outline in prose."))
    bedrock.answer(converse_tool_use(good_answer()))
    res = run([FLOW], bedrock_config(bedrock))
    assert len(res.script.cards) == 5
    assert any("answered on attempt 3" in w for w in res.warnings)


def test_bedrock_gives_up_after_bounded_attempts(bedrock: FakeBedrockConverse) -> None:
    for _ in range(3):
        bedrock.answer(converse_tool_use({"title": "x", "cards": []}))
    with pytest.raises(DraftError) as info:
        run([FLOW], bedrock_config(bedrock))
    assert "no usable answer in 3 attempt(s)" in str(info.value) and "'cards' must be a non-empty array" in str(
        info.value
    )


def test_bedrock_truncated_answers_keep_complete_cards_at_last(bedrock: FakeBedrockConverse) -> None:
    partial = good_answer()
    partial["cards"] = partial["cards"][:3]
    for _ in range(2):
        bedrock.answer(converse_tool_use(partial, stop="max_tokens"))
    res = run([FLOW], bedrock_config(bedrock, max_attempts=2))
    assert [c.id for c in res.script.cards] == ["intro", "sign-in", "create"]
    assert flat(res.script) == EXPECTED_ACTIONS  # nothing lost: the rest joins the last card
    assert any("cut off" in w for w in res.warnings) and any("left out 7" in w for w in res.warnings)


def test_bedrock_throttling_is_retried_access_denied_is_not(bedrock: FakeBedrockConverse) -> None:
    bedrock.error("ThrottlingException", "Too many requests, please wait before trying again.", 429)
    bedrock.answer(converse_tool_use(good_answer()))
    assert len(run([FLOW], bedrock_config(bedrock)).script.cards) == 5
    bedrock.error("AccessDeniedException", "You don't have access to the model with the specified model ID.", 403)
    with pytest.raises(DraftError) as info:
        run([FLOW], bedrock_config(bedrock))
    assert "refused access" in str(info.value) and "Bedrock console" in (info.value.hint or "")


def test_bedrock_without_region_is_a_clear_error(monkeypatch: pytest.MonkeyPatch) -> None:
    import boto3

    monkeypatch.delenv("AWS_REGION", raising=False)
    monkeypatch.delenv("AWS_DEFAULT_REGION", raising=False)
    monkeypatch.setenv("AWS_CONFIG_FILE", "/nonexistent")
    session = boto3.Session(aws_access_key_id="FAKE", aws_secret_access_key="FAKE")
    with pytest.raises(DraftError, match="no AWS region"):
        run([FLOW], DrafterConfig(kind="bedrock", boto3_session=session))


# --------------------------------------------------------------------------- OpenAI-compatible


def test_openai_json_answer(chat: FakeChatCompletionsServer) -> None:
    chat.reply_json(good_answer())
    res = run([FLOW], openai_config(chat))
    assert [c.id for c in res.script.cards] == ["intro", "sign-in", "create", "work", "outro"]
    assert flat(res.script) == EXPECTED_ACTIONS
    headers, body = chat.requests[0]
    assert headers["Authorization"] == "Bearer sk-fake"
    assert body["model"] == "fake-llm" and body["response_format"]["type"] == "json_schema"
    assert body["response_format"]["json_schema"]["schema"] == ANSWER_SCHEMA
    assert [m["role"] for m in body["messages"]] == ["system", "user"]


def test_openai_fenced_json_with_reasoning_is_accepted(chat: FakeChatCompletionsServer) -> None:
    chat.reply_content(
        "<think>the user wants a tour</think>\nHere you go:\n```json\n" + json.dumps(good_answer()) + "\n```\nEnjoy!"
    )
    assert len(run([FLOW], openai_config(chat)).script.cards) == 5


def test_openai_junk_then_good(chat: FakeChatCompletionsServer) -> None:
    chat.reply_content("I'm sorry, I can't help with that.")
    chat.replies.append((200, b"<html>502 Bad Gateway</html>"))
    chat.reply_json(good_answer())
    res = run([FLOW], openai_config(chat))
    assert len(res.script.cards) == 5 and any("attempt 3" in w for w in res.warnings)
    second_prompt = chat.requests[1][1]["messages"][1]["content"]
    assert "A previous answer could not be used: the answer contains no JSON object" in second_prompt


def test_openai_truncated_text_is_repaired_on_the_last_attempt(chat: FakeChatCompletionsServer) -> None:
    text = json.dumps(good_answer())
    cut = text[: text.index('"id": "work"') + 5]
    chat.reply_content(cut, finish="length")
    chat.reply_content(cut, finish="length")
    res = run([FLOW], openai_config(chat, max_attempts=2))
    assert [c.id for c in res.script.cards] == ["intro", "sign-in", "create"]
    assert flat(res.script) == EXPECTED_ACTIONS


def test_openai_schema_violations_are_repaired_or_retried(chat: FakeChatCompletionsServer) -> None:
    odd = good_answer()
    odd["cards"][1]["id"] = "Sign In!"  # not a slug: repaired
    odd["cards"][2]["id"] = "sign-in"  # duplicate: made unique
    odd["cards"][3]["action_indices"] = [13, 999, "x", 2, 14]  # unknown, repeated: ignored
    odd["cards"][4]["narration"] = "Thanks <b>for</b> watching"  # markup: removed
    chat.reply_json(odd)
    res = run([FLOW], openai_config(chat))
    s = res.script
    assert [c.id for c in s.cards] == ["intro", "sign-in", "sign-in-2", "work", "outro"]
    assert flat(s) == EXPECTED_ACTIONS  # order kept, omissions put back
    assert s.cards[-1].narration == "Thanks for watching"
    assert any("unknown or repeated" in w for w in res.warnings)


def test_openai_explicit_actions_when_the_prompt_asks(chat: FakeChatCompletionsServer) -> None:
    ans = good_answer()
    ans["cards"][4]["actions"] = [{"type": "highlight", "target": {"role": "button", "name": "Save changes"}}]
    chat.reply_json(ans)
    s = run([FLOW], openai_config(chat), prompt="end by highlighting Save changes").script
    assert [a.type for a in s.cards[4].actions] == ["highlight"]
    bad = good_answer()
    bad["cards"][4]["actions"] = [{"type": "launch_missiles"}]
    chat.reply_json(bad)
    chat.reply_json(good_answer())
    res = run([FLOW], openai_config(chat), prompt="end by highlighting Save changes")
    assert any("card 5 action 1 is not a valid action" in w for w in res.warnings)


def test_openai_falls_back_to_json_object_when_schema_is_unsupported(chat: FakeChatCompletionsServer) -> None:
    chat.reply_error(400, "response_format json_schema is not supported by this model")
    chat.reply_json(good_answer())
    run([FLOW], openai_config(chat))
    assert [r[1]["response_format"]["type"] for r in chat.requests] == ["json_schema", "json_object"]


def test_openai_server_errors_retry_then_report(chat: FakeChatCompletionsServer) -> None:
    chat.reply_error(503, "model is loading")
    chat.reply_json(good_answer())
    assert len(run([FLOW], openai_config(chat)).script.cards) == 5
    chat.reply_error(401, "Incorrect API key provided")
    with pytest.raises(DraftError, match="refused the request \\(401\\)"):
        run([FLOW], openai_config(chat))
    for _ in range(3):
        chat.reply_error(500, "boom")
    with pytest.raises(DraftError, match="3 attempt"):
        run([FLOW], openai_config(chat))


def test_openai_unreachable_and_wrong_path(chat: FakeChatCompletionsServer) -> None:
    port = chat.server.server_address[1]
    chat.close()
    with pytest.raises(DraftError) as info:
        run([FLOW], DrafterConfig(kind="openai", openai_base_url=f"http://127.0.0.1:{port}/v1", timeout_s=5))
    assert "cannot reach" in str(info.value) and "running" in (info.value.hint or "")
    other = FakeChatCompletionsServer()
    try:
        with pytest.raises(DraftError, match="404"):
            run([FLOW], DrafterConfig(kind="openai", openai_base_url=other.base_url[:-3], timeout_s=5))
    finally:
        other.close()


def test_fallback_to_offline_draft(chat: FakeChatCompletionsServer) -> None:
    for _ in range(2):
        chat.reply_content("nope")
    res = run([FLOW], openai_config(chat, max_attempts=2, fallback_to_offline=True))
    assert res.script.cards[0].id == "introduction"
    assert "this is the offline draft" in res.warnings[0]


def test_token_budget_cuts_documents_not_flows(chat: FakeChatCompletionsServer, tmp_path: Path) -> None:
    long_guide = make_pdf(tmp_path / "guide.pdf", GUIDE_PAGES * 4)
    chat.reply_json(good_answer())
    res = run([FLOW, long_guide], openai_config(chat, max_input_tokens=1000))
    prompt = chat.requests[0][1]["messages"][1]["content"]
    assert "19: click" in prompt and "[... cut for length]" in prompt
    assert any("guide.pdf: only the first" in w for w in res.warnings)
    with pytest.raises(DraftError, match="token budget"):
        run([FLOW], openai_config(chat, max_input_tokens=100))


def test_cancel_while_waiting_for_the_model(chat: FakeChatCompletionsServer) -> None:
    async def go() -> None:
        token = CancelToken()
        loop = asyncio.get_running_loop()
        loop.call_later(0.3, token.cancel)
        await draft(
            [FLOW],
            "",
            config=DrafterConfig(kind="openai", openai_base_url=chat.base_url, retry_backoff_s=30),
            settings=SITE,
            cancel=token,
        )

    chat.reply_error(503, "busy")  # then a 30 s back-off, which the cancel must cut short
    with pytest.raises(Cancelled):
        asyncio.run(asyncio.wait_for(go(), 10))


def test_cancel_while_the_model_is_still_answering_ends_the_run_at_once(chat: FakeChatCompletionsServer) -> None:
    """A request thread blocked on a slow model cannot be stopped; the cancelled draft must not wait
    for it — neither the draft nor the event loop's shutdown (asyncio.run waits for its executor's
    threads, so a request run there held the exit until the request's own timeout)."""
    chat.delay_s = 8.0
    chat.reply_json(good_answer())

    async def go() -> None:
        token = CancelToken()
        asyncio.get_running_loop().call_later(0.3, token.cancel)
        await draft([FLOW], "", config=DrafterConfig(kind="openai", openai_base_url=chat.base_url, timeout_s=20),
                    settings=SITE, cancel=token)

    t0 = time.monotonic()
    with pytest.raises(Cancelled):
        asyncio.run(go())
    assert time.monotonic() - t0 < 2.0


def test_json_helpers() -> None:
    assert parse_json_text('noise {"a": 1} noise') == {"a": 1}
    cut = '{"title": "t", "cards": [{"id": "a", "narration": "x"}, {"id": "b", "narr'
    assert repair_truncated_json(cut) == {"title": "t", "cards": [{"id": "a", "narration": "x"}]}
    assert repair_truncated_json('{"title": "t", "cards": [') is None


# --------------------------------------------------------------------------- what the viewer sees


SEEN_FILE = DATA / "observations" / "quickstart.json"  # a real silent run (record_observations.py)


def _grounded_input(prompt: str = "") -> Any:
    from app.core.draft.drafters.base import DraftInput, FlowSource
    from app.core.draft.observe import FlowObservation

    seen = FlowObservation.model_validate_json(SEEN_FILE.read_text(encoding="utf-8"))
    example = DATA.parents[1] / "resources" / "examples" / "quickstart" / "recorded-flow.spec.ts"
    actions = rebase_local_urls(import_codegen(example).actions, SITE)
    assert seen.actions == len(actions)
    return DraftInput(flows=[FlowSource(example, actions)], documents=[], prompt=prompt, settings=SITE,
                      observations=seen)


def _narrated(n: int, narrations: list[str]) -> dict[str, Any]:
    per = -(-n // len(narrations))
    return {"title": "Lumen Tasks", "cards": [
        {"id": f"c{i}", "title": f"Card {i}", "narration": text,
         "action_indices": list(range(i * per, min(n, (i + 1) * per)))}
        for i, text in enumerate(narrations)]}


def test_model_prompt_carries_what_the_viewer_sees(chat: FakeChatCompletionsServer) -> None:
    from app.core.draft.drafters.llm import llm_draft

    inp = _grounded_input()
    chat.reply_json(_narrated(len(inp.actions), ["Follow Get started free to the Sign in page.", "That's it."]))
    res = asyncio.run(llm_draft(inp, openai_config(chat)))
    assert res.warnings == []
    _, body = chat.requests[0]
    system, user = body["messages"][0]["content"], body["messages"][1]["content"]
    assert "seen:" in system and "never by" in system
    lines = user.splitlines()
    cta = next(i for i, line in enumerate(lines) if line.startswith("  1: click"))
    assert lines[cta + 1] == ('     seen: link "Get started free" under "The calm task tracker for busy teams."; '
                              'then page "Sign in · Lumen Tasks" with heading "Welcome back"')
    assert '     seen: button "New project" in the top bar under "Projects"; then dialog "New project" opens' in lines
    assert any('combobox "Template" in the dialog under "New project" -> "Product launch"' in ln for ln in lines)
    assert any('then message "Settings saved"' in ln for ln in lines)


def test_model_narration_that_reads_out_code_is_asked_again(chat: FakeChatCompletionsServer) -> None:
    from app.core.draft.drafters.llm import llm_draft

    inp = _grounded_input()
    n = len(inp.actions)
    chat.reply_json(_narrated(n, ["Click getByTestId('hero-cta') to open /signin.html.", "Done."]))
    chat.reply_json(_narrated(n, ["Click Get started free, and the Sign in page opens.", "Done."]))
    res = asyncio.run(llm_draft(inp, openai_config(chat)))
    assert res.script.cards[0].narration == "Click Get started free, and the Sign in page opens."
    retry = chat.requests[1][1]["messages"][1]["content"]
    assert "the narration reads out code" in retry and "getByTestId(" in retry and "/signin.html" in retry
    assert any("answered on attempt 2" in w for w in res.warnings)


def test_what_was_seen_leaves_the_prompt_before_the_flow_does(chat: FakeChatCompletionsServer) -> None:
    import dataclasses

    from app.core.draft.drafters.llm import SYSTEM_PROMPT, build_user_prompt

    inp = _grounded_input()
    full, _ = build_user_prompt(inp, openai_config(chat))
    plain, _ = build_user_prompt(dataclasses.replace(inp, observations=None), openai_config(chat))
    assert full.count("seen:") == 20 and "seen:" not in plain
    tight = openai_config(chat, max_input_tokens=(len(full) + len(plain)) // 8 + len(SYSTEM_PROMPT) // 4)
    text, warnings = build_user_prompt(inp, tight)
    assert "seen:" not in text and "19: click" in text
    assert warnings == ["what the silent run saw was left out of the model's prompt (token budget)"]
