"""Job bundles: a script and its assets, addressed by sha256, as a folder or a zip."""

from __future__ import annotations

import hashlib
import json
import tempfile
import zipfile
from pathlib import Path
from typing import Any

import pytest

from app.core.bundle import (
    JOB_FORMAT,
    JOB_VERSION,
    Job,
    RenderSettings,
    load_job,
    referenced_assets,
    write_bundle,
)
from app.core.errors import ScriptError
from app.core.script import Script, validate_script

INDEX = b"<!doctype html><h1>Home</h1>"
STYLE = b"body { color: #123; }"


def _sha(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


@pytest.fixture
def project(tmp_path: Path) -> Path:
    """A script folder: a small site (with a duplicate file) and an upload."""
    root = tmp_path / "project"
    (root / "site" / "docs").mkdir(parents=True)
    (root / "site" / "index.html").write_bytes(INDEX)
    (root / "site" / "style.css").write_bytes(STYLE)
    (root / "site" / "docs" / "index.html").write_bytes(INDEX)  # same bytes, another name
    (root / "files").mkdir()
    (root / "files" / "report.pdf").write_bytes(b"%PDF-1.4 fake pdf bytes")
    return root


def _script(**settings: Any) -> Script:
    return validate_script({
        "title": "Bundle me",
        "settings": {"site": "site", **settings},
        "cards": [{"id": "a", "narration": "Upload.",
                   "actions": [{"type": "goto", "url": "/index.html"},
                               {"type": "upload", "target": "#f", "files": ["files/report.pdf"]}]}],
    })


def _rewrite_zip(src: Path, dst: Path, edit: dict[str, bytes | None]) -> Path:
    """Copy a zip, replacing (or with None, dropping) the named entries and adding new ones."""
    with zipfile.ZipFile(src) as zin, zipfile.ZipFile(dst, "w") as zout:
        for info in zin.infolist():
            if info.filename in edit:
                continue
            zout.writestr(info.filename, zin.read(info.filename))
        for name, data in edit.items():
            if data is not None:
                zout.writestr(name, data)
    return dst


def _job_doc(path: Path) -> dict[str, Any]:
    if path.suffix == ".zip":
        with zipfile.ZipFile(path) as zf:
            return dict(json.loads(zf.read("job.json")))
    return dict(json.loads((path / "job.json").read_text(encoding="utf-8")))


# --------------------------------------------------------------------------- round trips


@pytest.mark.parametrize("name", ["job.zip", "job-dir"])
def test_write_and_load_round_trip(project: Path, tmp_path: Path, name: str) -> None:
    script = _script()
    render = RenderSettings(width=640, height=360, fps=25)
    out = write_bundle(script, project, tmp_path / "out" / name, render)
    assert out.exists() and (out.is_file() if name.endswith(".zip") else out.is_dir())
    with load_job(out) as job:
        assert job.script == script
        assert job.render == render
        assert not job.loose
        assert job.source == out
        assert job.assets == {
            "site/index.html": _sha(INDEX),
            "site/style.css": _sha(STYLE),
            "site/docs/index.html": _sha(INDEX),
            "files/report.pdf": _sha(b"%PDF-1.4 fake pdf bytes"),
        }
        assert job.resolve("files/report.pdf").read_bytes() == b"%PDF-1.4 fake pdf bytes"
        site = job.site_files()
        assert set(site) == {"index.html", "style.css", "docs/index.html"}
        assert site["docs/index.html"].read_bytes() == INDEX
        assert site["style.css"].read_bytes() == STYLE
        unpacked_root = job.root
    if name.endswith(".zip"):
        assert not unpacked_root.exists(), "closing a zip job removes its unpacked copy"


def test_assets_are_deduplicated_by_sha256(project: Path, tmp_path: Path) -> None:
    out = write_bundle(_script(), project, tmp_path / "job.zip")
    with zipfile.ZipFile(out) as zf:
        names = sorted(zf.namelist())
    assert names == sorted(["job.json", f"assets/{_sha(INDEX)}", f"assets/{_sha(STYLE)}",
                            f"assets/{_sha(b'%PDF-1.4 fake pdf bytes')}"])
    doc = _job_doc(out)
    assert doc["format"] == JOB_FORMAT and doc["version"] == JOB_VERSION
    assert doc["assets"]["site/index.html"] == doc["assets"]["site/docs/index.html"]


def test_referenced_assets_expands_the_site_folder(project: Path) -> None:
    assert referenced_assets(_script(), project) == [
        "site/docs/index.html", "site/index.html", "site/style.css", "files/report.pdf"]


def test_rewriting_a_directory_bundle_replaces_it(project: Path, tmp_path: Path) -> None:
    out = tmp_path / "bundle"
    write_bundle(_script(), project, out)
    (out / "stale.txt").write_text("old")
    write_bundle(_script(gap_ms=100), project, out)
    assert not (out / "stale.txt").exists()
    with load_job(out) as job:
        assert job.script.settings.gap_ms == 100
    assert [p.name for p in tmp_path.iterdir() if p.name.startswith(".")] == []  # no temp left


# --------------------------------------------------------------------------- atomic writes


@pytest.mark.parametrize("name", ["job.zip", "job-dir"])
def test_missing_asset_writes_nothing(project: Path, tmp_path: Path, name: str) -> None:
    (project / "files" / "report.pdf").unlink()
    out_dir = tmp_path / "out"
    with pytest.raises(ScriptError) as info:
        write_bundle(_script(), project, out_dir / name)
    (p,) = info.value.problems
    assert p.message.startswith("'files/report.pdf' does not exist")
    assert not (out_dir / name).exists()
    assert not out_dir.exists() or list(out_dir.iterdir()) == []


def test_missing_site_folder(project: Path, tmp_path: Path) -> None:
    with pytest.raises(ScriptError, match=r"site folder .* does not exist"):
        write_bundle(_script(site="nowhere"), project, tmp_path / "job.zip")
    assert not (tmp_path / "job.zip").exists()


def test_failed_zip_write_keeps_the_previous_bundle(project: Path, tmp_path: Path) -> None:
    out = write_bundle(_script(), project, tmp_path / "job.zip")
    before = out.read_bytes()
    (project / "files" / "report.pdf").unlink()
    with pytest.raises(ScriptError):
        write_bundle(_script(), project, out)
    assert out.read_bytes() == before


# --------------------------------------------------------------------------- hostile or broken bundles


@pytest.mark.parametrize("entry", ["../evil.txt", "assets/../../evil.txt", "other/file", "assets/sub/x", "/abs.txt"])
def test_zip_slip_and_unexpected_entries_rejected(project: Path, tmp_path: Path, entry: str) -> None:
    good = write_bundle(_script(), project, tmp_path / "good.zip")
    bad = _rewrite_zip(good, tmp_path / "bad.zip", {entry: b"owned"})
    with pytest.raises(ScriptError) as info:
        load_job(bad)
    (p,) = info.value.problems
    assert p.where == "bundle" and f"entry '{entry}'" in p.message
    assert ("tries to leave the bundle" if ".." in entry or entry.startswith("/") else "does not belong") in p.message
    assert not (tmp_path / "evil.txt").exists() and not (tmp_path.parent / "evil.txt").exists()


def test_asset_path_escaping_in_job_json_rejected(project: Path, tmp_path: Path) -> None:
    out = write_bundle(_script(), project, tmp_path / "dir")
    doc = _job_doc(out)
    doc["assets"]["../outside.html"] = _sha(INDEX)
    (out / "job.json").write_text(json.dumps(doc))
    with pytest.raises(ScriptError, match="must stay inside the bundle"):
        load_job(out)


def test_bad_sha_in_job_json_rejected(project: Path, tmp_path: Path) -> None:
    out = write_bundle(_script(), project, tmp_path / "dir")
    doc = _job_doc(out)
    doc["assets"]["site/index.html"] = "ABC"
    (out / "job.json").write_text(json.dumps(doc))
    with pytest.raises(ScriptError) as info:
        load_job(out)
    assert info.value.problems[0].where == "job.json › assets › site/index.html"


def test_corrupt_asset_is_rejected_naming_it(project: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    good = write_bundle(_script(), project, tmp_path / "good.zip")
    bad = _rewrite_zip(good, tmp_path / "bad.zip", {f"assets/{_sha(STYLE)}": b"body { color: red }"})
    unpack_into = tmp_path / "tmp"
    unpack_into.mkdir()
    monkeypatch.setattr(tempfile, "tempdir", str(unpack_into))
    with pytest.raises(ScriptError) as info:
        load_job(bad)
    (p,) = info.value.problems
    assert p.where == "assets › site/style.css"
    assert "does not match its sha256" in p.message
    assert info.value.source == str(bad)
    assert list(unpack_into.iterdir()) == [], "a rejected zip leaves nothing unpacked"
    # verify=False is the caller's explicit choice to skip the check
    with load_job(bad, verify=False) as job:
        assert job.resolve("site/style.css").read_bytes() == b"body { color: red }"


def test_missing_asset_file_in_directory_bundle(project: Path, tmp_path: Path) -> None:
    out = write_bundle(_script(), project, tmp_path / "dir")
    (out / "assets" / _sha(STYLE)).unlink()
    with pytest.raises(ScriptError) as info:
        load_job(out)
    assert [(p.where, p.message) for p in info.value.problems] == [("assets › site/style.css",
                                                                   "is missing from the bundle")]


def test_missing_job_json(tmp_path: Path) -> None:
    (tmp_path / "empty").mkdir()
    with pytest.raises(ScriptError, match=r"no job\.json in this folder"):
        load_job(tmp_path / "empty")
    zpath = tmp_path / "nojob.zip"
    with zipfile.ZipFile(zpath, "w") as zf:
        zf.writestr("assets/" + "0" * 64, b"x")
    with pytest.raises(ScriptError, match="cannot read"):
        load_job(zpath)


def test_not_a_zip(tmp_path: Path) -> None:
    f = tmp_path / "job.zip"
    f.write_bytes(b"this is not a zip")
    with pytest.raises(ScriptError, match="not a valid zip"):
        load_job(f)


def test_no_such_path(tmp_path: Path) -> None:
    with pytest.raises(ScriptError, match="no such file or folder"):
        load_job(tmp_path / "nothing.json")


@pytest.mark.parametrize(
    ("patch", "needle"),
    [({"format": "something-else"}, "not a Reelwright job"),
     ({"version": 99}, "unsupported job version 99; this Reelwright reads version 1"),
     ({"render": {"fps": 500}}, "job.json › render › fps"),
     ({"render": {"speed": 2}}, "job.json › render › speed"),
     ({"assets": ["site/index.html"]}, "must be an object")],
)
def test_wrong_job_documents(project: Path, tmp_path: Path, patch: dict[str, Any], needle: str) -> None:
    out = write_bundle(_script(), project, tmp_path / "dir")
    doc = _job_doc(out)
    doc.update(patch)
    (out / "job.json").write_text(json.dumps(doc))
    with pytest.raises(ScriptError) as info:
        load_job(out)
    assert needle in str(info.value)


def test_invalid_script_inside_a_bundle_lists_its_problems(project: Path, tmp_path: Path) -> None:
    out = write_bundle(_script(), project, tmp_path / "dir")
    doc = _job_doc(out)
    doc["script"]["cards"][0]["actions"].append({"type": "teleport"})
    doc["script"]["settings"]["fps"] = 7
    (out / "job.json").write_text(json.dumps(doc))
    with pytest.raises(ScriptError) as info:
        load_job(out)
    assert len(info.value.problems) == 2


# --------------------------------------------------------------------------- loose scripts


def test_loose_script_resolves_assets_inside_its_folder_only(project: Path, tmp_path: Path) -> None:
    script_file = project / "script.json"
    script_file.write_text(_script().to_json(), encoding="utf-8")
    (tmp_path / "secret.txt").write_text("not yours")
    (project / "files" / "link.txt").symlink_to(tmp_path / "secret.txt")
    with load_job(script_file) as job:
        assert job.loose and job.root == project.resolve()
        assert job.resolve("files/report.pdf") == (project / "files" / "report.pdf").resolve()
        assert set(job.site_files()) == {"index.html", "style.css", "docs/index.html"}
        with pytest.raises(ScriptError, match="outside the script's folder"):
            job.resolve("files/link.txt")  # a symlink out of the folder
        with pytest.raises(ValueError, match="must stay inside"):
            job.resolve("../secret.txt")


def test_loose_script_with_invalid_json_reports_the_line(tmp_path: Path) -> None:
    f = tmp_path / "s.json"
    f.write_text('{\n"cards": [\n}', encoding="utf-8")
    with pytest.raises(ScriptError) as info:
        load_job(f)
    assert info.value.problems[0].line == 3


def test_loose_site_folder_missing(tmp_path: Path) -> None:
    f = tmp_path / "s.json"
    f.write_text(json.dumps({"settings": {"site": "site"}, "cards": [{"id": "a"}]}), encoding="utf-8")
    # found when the job is loaded (validate), not when the render starts serving it
    with pytest.raises(ScriptError, match="site folder 'site' does not exist"):
        load_job(f)
    with load_job(f, verify=False) as job, pytest.raises(ScriptError, match="site folder 'site' does not exist"):
        job.site_files()


def test_job_json_file_outside_a_bundle_is_a_job(project: Path, tmp_path: Path) -> None:
    out = write_bundle(_script(), project, tmp_path / "dir")
    with load_job(out / "job.json") as job:
        assert not job.loose and job.resolve("site/style.css").read_bytes() == STYLE


def test_bundled_job_refuses_assets_it_does_not_hold(project: Path, tmp_path: Path) -> None:
    with load_job(write_bundle(_script(), project, tmp_path / "job.zip")) as job, \
            pytest.raises(ScriptError, match=r"'files/other\.pdf' is not in the job bundle"):
        job.resolve("files/other.pdf")


# --------------------------------------------------------------------------- render overrides


def test_effective_settings_applies_overrides_to_a_copy() -> None:
    script = validate_script({"settings": {"width": 1280, "height": 720, "fps": 30, "captions": True},
                              "cards": [{"id": "a"}]})
    job = Job(script, RenderSettings(width=1080, height=1920, fps=60, captions=False, burn_captions=True,
                                     voice_provider="espeak"))
    eff = job.effective_settings()
    assert (eff.width, eff.height, eff.fps) == (1080, 1920, 60)
    assert eff.captions is False and eff.burn_captions is True and eff.voice.provider == "espeak"
    # the script itself is untouched
    assert (script.settings.width, script.settings.fps, script.settings.voice.provider) == (1280, 30, "piper")


def test_effective_settings_without_overrides_equals_script_settings() -> None:
    script = validate_script({"settings": {"gap_ms": 10}, "cards": [{"id": "a"}]})
    assert Job(script).effective_settings() == script.settings


def test_render_settings_are_validated() -> None:
    with pytest.raises(ValueError):
        RenderSettings(width=641)
    with pytest.raises(ValueError):
        RenderSettings.model_validate({"fps": 0})
    with pytest.raises(ValueError):
        RenderSettings.model_validate({"unknown": 1})
