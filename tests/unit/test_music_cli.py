"""CLI flags for the polish settings: --music, --intro/--outro, --poster, --preview."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from app import cli
from app.core.bundle import load_job
from app.core.errors import ScriptError


def _job(tmp: Path, settings: dict[str, object] | None = None) -> object:
    (tmp / "script.json").write_text(json.dumps({
        "settings": settings or {}, "cards": [{"id": "a", "narration": "Hello."}]}), encoding="utf-8")
    return load_job(tmp / "script.json")


def _apply(job: object, *flags: str) -> None:
    args = cli.build_parser().parse_args(["render", "script.json", *flags])
    cli._apply_polish(job, args)


def test_flags_set_music_bumpers_poster_and_preview(tmp_path: Path) -> None:
    job = _job(tmp_path, {"intro": {"title": "Old", "brand_color": "#112233", "duration_ms": 2000}})
    _apply(job, "--music", "bundled:bright", "--intro", "New title", "--outro", "Bye", "--poster",
           "--preview", "webp")
    s = job.script.settings  # type: ignore[attr-defined]
    assert s.music == "bundled:bright" and s.poster and s.preview == "webp"
    assert s.intro.title == "New title" and s.intro.brand_color == "#112233" and s.intro.duration_ms == 2000
    assert s.outro.title == "Bye" and s.outro.brand_color == "#4f46e5"


def test_no_flags_change_nothing_and_no_flags_remove(tmp_path: Path) -> None:
    job = _job(tmp_path, {"music": "bundled:calm", "intro": {"title": "T"}, "outro": {"title": "O"}})
    before = job.script  # type: ignore[attr-defined]
    _apply(job)
    assert job.script is before  # type: ignore[attr-defined]
    _apply(job, "--no-music", "--no-bumpers")
    s = job.script.settings  # type: ignore[attr-defined]
    assert s.music is None and s.intro is None and s.outro is None


def test_bad_flag_values_are_script_errors(tmp_path: Path) -> None:
    job = _job(tmp_path)
    with pytest.raises(ScriptError, match="unknown bundled track 'bundled:disco'"):
        _apply(job, "--music", "bundled:disco")
    with pytest.raises(ScriptError, match="inside the job bundle"):
        _apply(job, "--music", "/etc/passwd")
    with pytest.raises(SystemExit):
        _apply(job, "--preview", "mp4")
