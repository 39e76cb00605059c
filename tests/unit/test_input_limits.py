"""Input-side guards: the URL policy, JSON depth/number guards, control characters, selector engine
prefixes, limits in the schema and the docs, output-path checks and the crash log."""

from __future__ import annotations

import json
import time
from pathlib import Path
from typing import Any

import pytest

from app.cli import main
from app.core import limits as L
from app.core.errors import OutputError, ScriptError, UsageError
from app.core.infra.outpaths import check_output_path
from app.core.script import (
    control_char_problem,
    css_engine_problem,
    parse_json_text,
    plain_narration,
    script_json_schema,
    validate_script,
)
from app.core.urlpolicy import blocked_reason

ROOT = Path(__file__).resolve().parents[2]

BLOCKED = [
    "http://169.254.169.254/latest/meta-data/", "http://2852039166/", "http://0xa9fea9fe/",
    "http://0251.0376.0251.0376/", "http://169.254.43518/", "http://169.16689662/", "http://0xa9.0376.169.254/",
    "http://[::ffff:169.254.169.254]/", "http://[::ffff:a9fe:a9fe]/", "http://[64:ff9b::a9fe:a9fe]/",
    "http://[2002:a9fe:a9fe::]/", "http://[::a9fe:a9fe]/", "http://[fe80::1]/", "http://[FE80::abcd%25eth0]:8080/",
    "http://[fd00:ec2::254]/", "http://metadata.google.internal/", "http://METADATA.GOOGLE.INTERNAL./",
    "http://metadata.goog/", "http://100.100.100.200/", "http://192.0.0.192/", "http://user:pw@169.254.169.254/",
    "http://169.254.169.254\\@example.com/", "http://%31%36%39.254.169.254/", "//169.254.169.254/x",
    "http://\uff11\uff16\uff19\uff0e\uff12\uff15\uff14\uff0e\uff11\uff16\uff19\uff0e\uff12\uff15\uff14/",
    "http://169.254.169.254\u3002/", "http://169.254.\t169.254/", "  http://169.254.169.254/", "HTTP://169.254.1.1/",
    "https://169.254.169.254:443/", "http://256.1.1.1/", "http://1.2.3.4.5/",
]
ALLOWED = [
    "https://example.com/", "http://127.0.0.1:8000/app", "http://localhost:3000/", "http://[::1]:8080/",
    "http://10.0.0.1/", "http://192.168.1.10/", "/index.html", "index.html", "?tab=2", "about:blank",
    "http://169.254.example.com/", "http://metadata.example.com/", "http://0x7f.1/", "https://xn--bcher-kva.example/",
]


@pytest.mark.parametrize("url", BLOCKED)
def test_blocked_urls(url: str) -> None:
    assert blocked_reason(url) is not None


@pytest.mark.parametrize("url", ALLOWED)
def test_allowed_urls(url: str) -> None:
    assert blocked_reason(url) is None


def test_blocked_reason_names_the_address() -> None:
    reason = blocked_reason("http://0xa9fea9fe/latest")
    assert reason == ("'0xa9fea9fe' is the cloud metadata address (169.254.169.254, in 169.254.0.0/16); "
                      "scripts may not navigate there")


def test_deep_json_is_refused_before_json_recursion() -> None:
    text = '{"cards": ' + "[" * 200_000 + "]" * 200_000 + "}"
    t0 = time.monotonic()
    with pytest.raises(ScriptError) as info:
        parse_json_text(text, source="deep.json")
    elapsed = time.monotonic() - t0
    print(f"200k-deep JSON refused in {elapsed * 1000:.0f} ms")
    (problem,) = info.value.problems
    assert problem.line == 1 and "nested more than 64 levels deep" in problem.message
    assert elapsed < 10  # linear, not a stack walk (generous for a loaded machine)


def test_depth_64_is_fine_and_strings_do_not_count() -> None:
    assert parse_json_text("[" * 64 + "]" * 64) is not None
    assert parse_json_text(json.dumps({"t": "[" * 1000})) == {"t": "[" * 1000}


def test_long_numbers_and_constants_are_refused_with_their_line() -> None:
    with pytest.raises(ScriptError) as info:
        parse_json_text('{\n"a":\n' + "7" * 5000 + "}")
    assert info.value.problems[0].line == 3
    assert "a number 5,000 characters long" in info.value.problems[0].message
    for const in ("NaN", "Infinity", "-Infinity"):
        with pytest.raises(ScriptError, match=f"{const} is not a number JSON allows"):
            parse_json_text(f'{{"x": {const}}}')


@pytest.mark.parametrize(("text", "needle"), [("a\x00b", "NUL U+0000 at character 2"),
                                              ("\x1b[31mred", "ESC (a terminal colour/escape code) U+001B"),
                                              ("x\x9b", "U+009B"), ("x\x7f", "DEL U+007F")])
def test_control_characters_are_named(text: str, needle: str) -> None:
    problem = control_char_problem(text)
    assert problem is not None and needle in problem


def test_ordinary_whitespace_and_unicode_pass() -> None:
    assert control_char_problem("Tab\there,\nnew line\r\n, émoji 🎬, עברית") is None


def test_captions_never_carry_control_characters() -> None:
    # a script built in code (no validation) still cannot put escapes into the captions
    assert plain_narration("\x1b[31mRed\x1b[0m alert\x00") == "[31mRed[0m alert"


@pytest.mark.parametrize(("sel", "needle"), [
    ("xpath=//a", "'xpath=' selector engine"), ("text=Save", 'use "text"'), ("id=x", 'css "#the-id"'),
    ("data-testid=x", 'use "test_id"'), ("internal:role=button", "'internal:role=' selector engine"),
    ("css=#a", 'without "css="'), ("//div", "looks like an XPath"), ("#a >> #b", "chains selectors"),
])
def test_engine_prefixes_are_refused(sel: str, needle: str) -> None:
    problem = css_engine_problem(sel)
    assert problem is not None and needle in problem


@pytest.mark.parametrize("sel", ["#save", "button.primary", "input[name=email]", "a[href='x=y']", "div > p",
                                 ":is(h1, h2)", "[data-testid=save]"])
def test_plain_css_passes(sel: str) -> None:
    assert css_engine_problem(sel) is None


def test_schema_carries_the_limits() -> None:
    schema = script_json_schema()
    defs = schema["$defs"]
    assert schema["properties"]["cards"]["maxItems"] == L.MAX_CARDS
    assert defs["Card"]["properties"]["narration"]["maxLength"] == L.MAX_NARRATION_CHARS
    assert defs["Card"]["properties"]["actions"]["maxItems"] == L.MAX_ACTIONS_PER_CARD
    assert defs["Fill"]["properties"]["value"]["maxLength"] == L.MAX_TYPED_CHARS
    assert defs["Goto"]["properties"]["url"]["maxLength"] == L.MAX_URL_CHARS
    assert "engine prefixes" in defs["Locator"]["properties"]["css"]["description"]


def test_docs_state_the_same_limits() -> None:
    doc = (ROOT / "docs" / "troubleshooting.md").read_text(encoding="utf-8")
    assert L.limits_markdown() in doc, "regenerate the table with app.core.limits.limits_markdown()"


def test_every_problem_is_reported_with_the_limit() -> None:
    data: dict[str, Any] = {"cards": [{"id": "a", "narration": "n" * (L.MAX_NARRATION_CHARS + 1),
                                       "actions": [{"type": "wait", "ms": 1}] * (L.MAX_ACTIONS_PER_CARD + 1)}]}
    with pytest.raises(ScriptError) as info:
        validate_script(data)
    text = str(info.value)
    assert "card 1 'a' › narration: narration is 5,001 characters long; the limit is 5,000" in text
    assert "card 1 'a' › actions: 201 actions; the limit is 200" in text


def test_output_path_checks(tmp_path: Path) -> None:
    (tmp_path / "folder").mkdir()
    (tmp_path / "file").write_text("x")
    with pytest.raises(UsageError, match="is an existing folder"):
        check_output_path(tmp_path / "folder")
    with pytest.raises(UsageError, match="is a file, so"):
        check_output_path(tmp_path / "file" / "a" / "demo.mp4")
    check_output_path(tmp_path / "new" / "deeper" / "demo.mp4")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["file", "folder"]  # the probe left nothing
    assert UsageError("x").exit_code == 2 and OutputError("x").exit_code == 3


def test_a_genuine_bug_leaves_a_crash_log(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                          capsys: pytest.CaptureFixture[str]) -> None:
    monkeypatch.setenv("XDG_STATE_HOME", str(tmp_path / "state"))
    import app.cli as cli

    def broken(args: Any) -> int:
        raise ZeroDivisionError("a bug")

    monkeypatch.setattr(cli, "cmd_schema", broken)  # build_parser looks the command up by name
    assert main(["schema"]) == 1
    err = capsys.readouterr().err
    assert err.startswith("error: unexpected ZeroDivisionError: a bug")
    logs = list((tmp_path / "state").rglob("crash-*.log"))
    assert len(logs) == 1 and str(logs[0]) in err
    assert "ZeroDivisionError: a bug" in logs[0].read_text(encoding="utf-8")


def test_environment_os_errors_exit_3(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                      capsys: pytest.CaptureFixture[str]) -> None:
    import errno

    import app.cli as cli

    def full_disk(args: Any) -> int:
        raise OSError(errno.ENOSPC, "No space left on device", str(tmp_path / "out.mp4"))

    monkeypatch.setattr(cli, "cmd_schema", full_disk)
    monkeypatch.setenv("XDG_STATE_HOME", str(tmp_path / "state"))
    assert main(["schema"]) == 3
    err = capsys.readouterr().err
    assert f"error: {tmp_path / 'out.mp4'}: No space left on device" in err and "unexpected" not in err
    assert not (tmp_path / "state").exists()
