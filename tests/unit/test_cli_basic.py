"""The CLI's front door without a browser: validate, schema, bundle, argument checks, and exit codes."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import jsonschema
import pytest

from app.cli import main
from app.core.bundle import load_job

GOOD: dict[str, Any] = {
    "title": "CLI demo",
    "settings": {"site": "site"},
    "cards": [
        {"id": "home", "narration": 'Open <mark name="go"/> the home page.',
         "actions": [{"type": "goto", "url": "/index.html", "at": "go"}]},
        {"id": "save", "narration": "Save it.", "actions": [{"type": "click", "target": "#save"},
                                                            {"type": "press", "key": "Enter"}]},
    ],
}

BAD: dict[str, Any] = {
    "settings": {"fps": 29},
    "cards": [
        {"id": "one", "actions": [{"type": "teleport"}, {"type": "click"}]},
        {"id": "-two"},
    ],
}


@pytest.fixture
def project(tmp_path: Path) -> Path:
    (tmp_path / "site").mkdir()
    (tmp_path / "site" / "index.html").write_text("<button id=save>Save</button>", encoding="utf-8")
    (tmp_path / "good.json").write_text(json.dumps(GOOD), encoding="utf-8")
    (tmp_path / "bad.json").write_text(json.dumps(BAD), encoding="utf-8")
    return tmp_path


@pytest.fixture
def no_browser(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    """Make any attempt to find a browser fail loudly (exit 3): proves that nothing was launched."""
    monkeypatch.setenv("REELWRIGHT_CHROMIUM", str(tmp_path / "no-such-browser"))


def test_validate_good_script(project: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["validate", str(project / "good.json")]) == 0
    assert capsys.readouterr().out.strip() == "ok: 2 cards, 3 actions"


def test_validate_bad_script_lists_every_problem(project: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["validate", str(project / "bad.json")]) == 2
    err = capsys.readouterr().err
    assert f"{project / 'bad.json'}: 4 problems in the script:" in err
    assert "settings.fps: must be one of 24, 25, 30, 50 or 60 (got 29)" in err
    assert "card 1 'one' › action 1: unknown action type 'teleport'" in err
    assert "card 1 'one' › action 2 (click) › target: is required" in err
    assert "card 2 '-two' › id: card id '-two' must start with a letter or digit" in err
    assert err.rstrip().endswith("nothing was launched.")
    assert "Traceback" not in err


def test_validate_invalid_json_names_the_line(project: Path, capsys: pytest.CaptureFixture[str]) -> None:
    (project / "broken.json").write_text('{\n  "cards": [\n', encoding="utf-8")
    assert main(["validate", str(project / "broken.json")]) == 2
    assert "line 3: script: not valid JSON" in capsys.readouterr().err


def test_validate_missing_file(project: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["validate", str(project / "nope.json")]) == 2
    assert "no such file or folder" in capsys.readouterr().err


def test_schema_prints_json_schema(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["schema"]) == 0
    schema = json.loads(capsys.readouterr().out)
    jsonschema.Draft202012Validator.check_schema(schema)
    assert jsonschema.Draft202012Validator(schema).is_valid(GOOD)
    assert not jsonschema.Draft202012Validator(schema).is_valid(BAD)


def test_schema_to_file(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    out = tmp_path / "schema.json"
    assert main(["schema", "--out", str(out)]) == 0
    assert capsys.readouterr().out.strip() == f"wrote {out}"
    assert json.loads(out.read_text(encoding="utf-8"))["title"] == "Script"


def test_bundle_writes_a_loadable_zip(project: Path, capsys: pytest.CaptureFixture[str]) -> None:
    out = project / "dist" / "job.zip"
    assert main(["bundle", str(project / "good.json"), "--out", str(out)]) == 0
    assert capsys.readouterr().out.strip() == f"wrote {out}"
    with load_job(out) as job:
        assert [c.id for c in job.script.cards] == ["home", "save"]
        assert set(job.site_files()) == {"index.html"}
    # and the bundle validates through the CLI as well
    assert main(["validate", str(out)]) == 0


def test_bundle_of_a_bad_script_writes_nothing(project: Path, capsys: pytest.CaptureFixture[str]) -> None:
    out = project / "job.zip"
    assert main(["bundle", str(project / "bad.json"), "--out", str(out)]) == 2
    assert "nothing was launched." in capsys.readouterr().err
    assert not out.exists()


def test_bundle_with_a_missing_asset(project: Path, capsys: pytest.CaptureFixture[str]) -> None:
    (project / "site" / "index.html").unlink()
    (project / "site").rmdir()
    out = project / "job.zip"
    assert main(["bundle", str(project / "good.json"), "--out", str(out)]) == 2
    assert "site folder" in capsys.readouterr().err
    assert not out.exists()


@pytest.mark.parametrize(
    ("size", "needle"),
    [("1280by720", "size must look like 1280x720, not '1280by720'"),
     ("1281x720", "width and height must be even"),
     ("100x100", "width and height must be even, 320–3840 × 240–3840"),
     ("x", "size must look like 1280x720")],
)
def test_bad_size_is_rejected(project: Path, capsys: pytest.CaptureFixture[str], size: str, needle: str) -> None:
    with pytest.raises(SystemExit) as info:
        main(["render", str(project / "good.json"), "--size", size])
    assert info.value.code == 2
    assert needle in capsys.readouterr().err


def test_bad_fps_is_rejected(project: Path, capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as info:
        main(["render", str(project / "good.json"), "--fps", "29"])
    assert info.value.code == 2
    assert "invalid choice" in capsys.readouterr().err


@pytest.mark.usefixtures("no_browser")
@pytest.mark.parametrize("extra", [["--check"], []])
def test_render_of_an_invalid_script_stops_before_launching(
    project: Path, capsys: pytest.CaptureFixture[str], extra: list[str]
) -> None:
    out = project / "out" / "demo.mp4"
    code = main(["render", str(project / "bad.json"), "--out", str(out), *extra])
    err = capsys.readouterr().err
    assert code == 2, err  # 3 would mean it went looking for a browser
    assert "4 problems in the script" in err and "nothing was launched." in err
    assert "Chromium" not in err
    assert not (project / "out").exists()


@pytest.mark.usefixtures("no_browser")
def test_render_check_of_a_valid_script_reaches_for_the_browser(
    project: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    # the control for the test above: a valid script does get as far as looking for Chromium
    code = main(["render", str(project / "good.json"), "--check", "--quiet"])
    assert code == 3
    assert "REELWRIGHT_CHROMIUM points to" in capsys.readouterr().err


def test_no_command_prints_help(capsys: pytest.CaptureFixture[str]) -> None:
    assert main([]) == 2
    out = capsys.readouterr().out
    for command in ("render", "bundle", "schema", "validate", "self-test"):
        assert command in out


def test_version(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as info:
        main(["--version"])
    assert info.value.code == 0
    assert capsys.readouterr().out.startswith("reelwright ")
