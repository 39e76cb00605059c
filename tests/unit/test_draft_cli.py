"""``reelwright import`` / ``reelwright draft``: exit codes, messages without tracebacks, atomic output."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest
from documents_fixtures import make_pdf
from draft_fakes import FakeChatCompletionsServer

from app.cli import main
from app.core.script import load_script

DATA = Path(__file__).resolve().parents[1] / "data" / "codegen"
FLOW = DATA / "recorded" / "quickstart_sync.py"
BAD = DATA / "handwritten" / "unsupported_handwritten.spec.ts"


@pytest.fixture()
def chat() -> Iterator[FakeChatCompletionsServer]:
    fake = FakeChatCompletionsServer()
    yield fake
    fake.close()


def test_import_writes_a_valid_script(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    out = tmp_path / "out" / "script.json"
    assert main(["import", str(FLOW), "--site", "site", "--out", str(out), "--title", "Quickstart"]) == 0
    script = load_script(out)
    assert script.title == "Quickstart" and script.settings.site == "site"
    assert sum(len(c.actions) for c in script.cards) == 20
    err = capsys.readouterr().err
    assert "quickstart_sync.py: 20 actions (python-sync)" in err and f"wrote {out}" in err
    assert [p.name for p in out.parent.iterdir()] == ["script.json"]  # no temp files left


def test_import_prints_to_stdout_without_out(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["import", str(FLOW), "-q"]) == 0
    assert json.loads(capsys.readouterr().out)["version"] == 1


def test_import_reports_every_unsupported_line_and_writes_nothing(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = tmp_path / "script.json"
    assert main(["import", str(BAD), "--out", str(out)]) == 2
    err = capsys.readouterr().err
    assert "Traceback" not in err and not out.exists()
    for line_col in ("10:3", "11:3", "14:14", "16:40", "17:22"):
        assert f"{BAD}:{line_col}:" in err
    assert "--skip-unsupported" in err


def test_import_skip_unsupported(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    out = tmp_path / "script.json"
    assert main(["import", str(BAD), "--skip-unsupported", "--out", str(out)]) == 0
    err = capsys.readouterr().err
    assert "warning: unsupported_handwritten.spec.ts:14:14: skipped `await page.mouse.click(100, 200);`" in err
    assert [a.type for c in load_script(out).cards for a in c.actions] == ["goto", "click"]


def test_import_bad_input(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["import", str(tmp_path / "missing.py")]) == 2
    notes = tmp_path / "notes.md"
    notes.write_text("# Notes\nSome text.\n")
    assert main(["import", str(notes)]) == 2
    err = capsys.readouterr().err
    assert "no such file" in err and "none of the files is a Playwright codegen file" in err


def test_draft_offline_with_ordered_files(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    guide = make_pdf(tmp_path / "guide.pdf")
    locked = make_pdf(tmp_path / "locked.pdf", user_password="pw")
    out = tmp_path / "script.json"
    rc = main(
        [
            "draft",
            "-f",
            str(FLOW),
            "-f",
            str(guide),
            "-f",
            str(locked),
            "--prompt",
            "a detailed tour for new users",
            "--site",
            "site",
            "--out",
            str(out),
        ]
    )
    assert rc == 0
    err = capsys.readouterr().err
    assert "warning: locked.pdf: is password-protected" in err
    script = load_script(out)
    assert "(page " in " ".join(c.narration for c in script.cards)


def test_draft_openai_endpoint_flags(
    tmp_path: Path, chat: FakeChatCompletionsServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("MY_LLM_KEY", "sk-from-env")
    chat.reply_json(
        {
            "title": "T",
            "cards": [{"id": "all", "title": "All", "narration": "Everything.", "action_indices": list(range(20))}],
        }
    )
    out = tmp_path / "s.json"
    rc = main(
        [
            "draft",
            "-f",
            str(FLOW),
            "--drafter",
            "openai",
            "--openai-base-url",
            chat.base_url,
            "--openai-model",
            "qwen2.5",
            "--openai-api-key-env",
            "MY_LLM_KEY",
            "--json-object",
            "--attempts",
            "1",
            "--no-observe",
            "--out",
            str(out),
            "-q",
        ]
    )
    assert rc == 0 and load_script(out).cards[0].narration == "Everything."
    headers, body = chat.requests[0]
    assert headers["Authorization"] == "Bearer sk-from-env"
    assert body["model"] == "qwen2.5" and body["response_format"] == {"type": "json_object"}


def test_draft_failures_are_sentences(
    tmp_path: Path, chat: FakeChatCompletionsServer, capsys: pytest.CaptureFixture[str]
) -> None:
    chat.reply_content("not json")
    out = tmp_path / "s.json"
    rc = main(
        [
            "draft",
            "-f",
            str(FLOW),
            "--drafter",
            "openai",
            "--openai-base-url",
            chat.base_url,
            "--attempts",
            "1",
            "--no-observe",
            "--out",
            str(out),
            "-q",
        ]
    )
    err = capsys.readouterr().err
    assert rc == 2 and not out.exists() and "Traceback" not in err
    assert "gave no usable answer in 1 attempt(s)" in err
    assert main(["draft", "-f", str(tmp_path / "nope.pdf")]) == 2
