"""Session assets (saved sign-ins): private files, shown by name only, out of backups unless asked; and the
recorder's command line and input checks (the real recorder runs in tests/integration/test_record_real.py)."""

from __future__ import annotations

import json
import stat
import zipfile
from pathlib import Path
from typing import Any

import pytest

from app.workbench.recorder import RecorderError, RecordRequest, check_display, flow_name, recorder_command
from app.workbench.sessions import SessionError, SessionStore, materialize, name_from_bundle_path
from app.workbench.storage import export_backup, restore_backup

SECRET = "sekrit-cookie-value-4f1c"


def _state(tmp_path: Path, name: str = "auth.json") -> Path:
    p = tmp_path / name
    p.write_text(json.dumps({"cookies": [{"name": "sid", "value": SECRET, "domain": "app.test", "path": "/"}],
                             "origins": [{"origin": "http://app.test", "localStorage": []}]}))
    p.chmod(0o644)
    return p


def _mode(p: Path) -> int:
    return stat.S_IMODE(p.stat().st_mode)


def test_saved_session_is_private_and_shown_by_name_only(store: Any, tmp_path: Path) -> None:
    sessions = SessionStore(store.root)
    saved = sessions.save("Lumen admin.json", _state(tmp_path))
    assert saved.name == "Lumen admin"
    assert saved.path == store.root / "sessions" / "Lumen admin.json"
    assert _mode(saved.path) == 0o600 and _mode(saved.path.parent) == 0o700
    assert SECRET in saved.path.read_text()
    assert saved.bundle_path == "sessions/Lumen admin.json"
    shown = saved.masked()
    assert shown.startswith("Lumen admin — signed-in session (contents hidden)")
    assert SECRET not in shown and "sid" not in shown
    assert [s.name for s in sessions.list()] == ["Lumen admin"]
    assert not list(saved.path.parent.glob(".*.part")), "a temp file was left behind"
    sessions.delete("Lumen admin")
    assert sessions.list() == []


@pytest.mark.parametrize("name", ["", "../x", "a/b", ".hidden", "x" * 65, "a\\b", "con:"])
def test_unusable_session_names_are_refused(store: Any, tmp_path: Path, name: str) -> None:
    with pytest.raises(SessionError, match="not a usable session name"):
        SessionStore(store.root).save(name, _state(tmp_path))


def test_a_file_that_is_not_a_storage_state_is_refused_without_quoting_it(store: Any, tmp_path: Path) -> None:
    bad = tmp_path / "notes.json"
    bad.write_text(f'{{"password": "{SECRET}"}}')
    with pytest.raises(SessionError) as exc:
        SessionStore(store.root).save("notes", bad)
    assert "not a Playwright storage state" in str(exc.value) and SECRET not in str(exc.value)
    garbage = tmp_path / "g.json"
    garbage.write_text(f"{SECRET} not json")
    with pytest.raises(SessionError) as exc2:
        SessionStore(store.root).save("g", garbage)
    assert "is not JSON" in str(exc2.value) and SECRET not in str(exc2.value)
    with pytest.raises(SessionError, match="there is no saved session 'nope'"):
        SessionStore(store.root).require("nope")


def test_backups_leave_sessions_out_unless_asked(store: Any, tmp_path: Path) -> None:
    SessionStore(store.root).save("lumen", _state(tmp_path))
    # a render's private copy in a project folder, and a site folder that happens to be called sessions
    pdir = store.project_dir(store.create_project("p").id)
    (pdir / "sessions").mkdir()
    (pdir / "sessions" / "lumen.json").write_text(SECRET)
    (pdir / "site" / "sessions").mkdir(parents=True)
    (pdir / "site" / "sessions" / "index.html").write_text("<p>hi</p>")

    plain = export_backup(store, tmp_path / "plain.zip")
    with zipfile.ZipFile(plain) as zf:
        names = zf.namelist()
        assert not any(n.startswith("sessions/") for n in names)
        assert not any("/sessions/lumen.json" in n for n in names)
        assert f"projects/{pdir.name}/site/sessions/index.html" in names
        assert all(SECRET.encode() not in zf.read(n) for n in names)

    full = export_backup(store, tmp_path / "full.zip", include_sessions=True)
    with zipfile.ZipFile(full) as zf:
        assert "sessions/lumen.json" in zf.namelist()
        assert f"projects/{pdir.name}/sessions/lumen.json" not in zf.namelist()

    root = tmp_path / "restored"
    restore_backup(full, root)
    restored = SessionStore(root).require("lumen")
    assert _mode(restored.path) == 0o600 and _mode(restored.path.parent) == 0o700
    assert SECRET in restored.path.read_text()


def test_a_render_gets_a_private_copy_for_its_duration_only(store: Any, tmp_path: Path) -> None:
    SessionStore(store.root).save("lumen", _state(tmp_path))
    job_root = tmp_path / "project"
    job_root.mkdir()
    with materialize(SessionStore(store.root), "sessions/lumen.json", job_root) as copy:
        assert copy == job_root / "sessions" / "lumen.json"
        assert _mode(copy) == 0o600 and SECRET in copy.read_text()
    assert not (job_root / "sessions").exists()
    with materialize(SessionStore(store.root), None, job_root) as none:
        assert none is None
    with pytest.raises(SessionError, match="no saved session 'gone'"), \
            materialize(SessionStore(store.root), "sessions/gone.json", job_root):
        pass
    assert name_from_bundle_path("sessions/lumen.json") == "lumen"
    assert name_from_bundle_path("other/lumen.json") is None
    assert name_from_bundle_path("sessions/../x.json") is None


def test_record_request_checks_its_input() -> None:
    assert RecordRequest("localhost:3000").url == "http://localhost:3000"
    assert RecordRequest("https://app.example.com/x").url == "https://app.example.com/x"
    for bad, why in (("", "give the address"), ("ftp://x", "not a web address"),
                     ("http://169.254.169.254/latest", "cannot record"),
                     ("file:///etc/passwd", "not a web address")):
        with pytest.raises(RecorderError, match=why):
            RecordRequest(bad)
    with pytest.raises(RecorderError, match="cannot record for 'java'"):
        RecordRequest("http://x", target="java")
    with pytest.raises(RecorderError, match="not a usable session name"):
        RecordRequest("http://x", save_session="../up")


def test_recorder_command_uses_the_bundled_driver_and_the_chosen_browser(tmp_path: Path) -> None:
    req = RecordRequest("http://127.0.0.1:8000/signin.html", load_session="a", save_session="b", target="javascript")
    argv, env = recorder_command(req, tmp_path / "flow.js", load=tmp_path / "a.json", save=tmp_path / "b.json",
                                 browser=Path("/usr/bin/chromium"))
    assert Path(argv[0]).is_file() and argv[1].endswith("cli.js")
    assert argv[2:] == ["codegen", "--target", "javascript", "--output", str(tmp_path / "flow.js"),
                        "--load-storage", str(tmp_path / "a.json"), "--save-storage", str(tmp_path / "b.json"),
                        "http://127.0.0.1:8000/signin.html"]
    assert env["PWTEST_CLI_EXECUTABLE_PATH"] == "/usr/bin/chromium"
    assert flow_name(req.url, "javascript", 0).startswith("recorded-127.0.0.1-")
    assert flow_name(req.url, "playwright-test", 0).endswith(".spec.ts")


def test_no_display_is_a_sentence() -> None:
    import sys

    if not sys.platform.startswith("linux"):
        pytest.skip("the display check is Linux's")
    with pytest.raises(RecorderError, match="no display here"):
        check_display({})
    check_display({"DISPLAY": ":3"})
    check_display({"WAYLAND_DISPLAY": "wayland-0"})


PY_FLOW = '''def run(playwright: Playwright) -> None:
    browser = playwright.chromium.launch(headless=False)
    context = browser.new_context()
    page = context.new_page()
    page.goto("http://127.0.0.1:8000/index.html")
    with page.expect_popup() as page1_info:
        page.get_by_role("link", name="Help").click()
    page1 = page1_info.value
    page1.close()
    page.get_by_role("button", name="Sign in").click()
    page.close()

    # ---------------------
    context.storage_state(path="/data/tmp/record-x/lumen.json")
    context.close()
    browser.close()
'''

JS_FLOW = """  const page = await context.newPage();
  await page.goto('http://127.0.0.1:8000/dashboard.html');
  await page.getByRole('link', { name: 'Settings' }).click();
  await page.close();

  // ---------------------
  await context.close();
  await browser.close();
"""


def test_the_close_that_ends_a_recording_is_not_a_step() -> None:
    from app.workbench.recorder import drop_finishing_closes

    py = drop_finishing_closes(PY_FLOW)
    assert "    page1.close()\n" in py  # a popup closed mid-flow stays
    assert "    page.close()\n" not in py
    assert "context.close()" in py and "browser.close()" in py
    assert py == PY_FLOW.replace("    page.close()\n", "")
    js = drop_finishing_closes(JS_FLOW)
    assert "await page.close();" not in js and "await context.close();" in js
    assert drop_finishing_closes(js) == js


def test_app_renders_get_the_library_session_while_they_run(store: Any, tmp_path: Path) -> None:
    from app.core.script import validate_script
    from app.workbench import services

    SessionStore(store.root).save("lumen", _state(tmp_path))
    script = validate_script({"version": 1, "title": "t", "settings": {"session": "sessions/lumen.json"},
                              "cards": [{"id": "a", "title": "A", "narration": "Hi.",
                                         "actions": [{"type": "goto", "url": "http://127.0.0.1:9/"}]}]})
    pdir = store.project_dir(store.create_project("p").id)
    job = services.make_job(script, pdir)
    with services._session_for(job, SessionStore(store.root)):
        copy = job.resolve("sessions/lumen.json")  # where the render looks for it
        assert copy.is_file() and _mode(copy) == 0o600 and SECRET in copy.read_text()
    assert not (pdir / "sessions").exists()
    with services._session_for(job, None):  # the CLI's renders: the bundle brings its own file
        assert not (pdir / "sessions").exists()
