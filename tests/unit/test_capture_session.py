"""Signed-in renders without a browser: loading a session, rebasing loopback origins, sign-in pages."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from app.core.bundle import Job, load_job
from app.core.capture.dialogs import dialog_title
from app.core.capture.session import expired_message, load_storage_state, looks_like_sign_in, rebase_storage_state
from app.core.errors import RenderError

RECORDED = {
    "cookies": [{"name": "sid", "value": "s3cret-cookie", "domain": "localhost", "path": "/", "expires": -1,
                 "httpOnly": True, "secure": False, "sameSite": "Lax"},
                {"name": "pref", "value": "1", "domain": ".example.com", "path": "/", "expires": -1,
                 "httpOnly": False, "secure": True, "sameSite": "None"}],
    "origins": [{"origin": "http://127.0.0.1:5173", "localStorage": [{"name": "k", "value": "old"}]},
                {"origin": "http://localhost:3000", "localStorage": [{"name": "k", "value": "new"},
                                                                      {"name": "j", "value": "2"}]},
                {"origin": "https://app.example.com", "localStorage": [{"name": "x", "value": "y"}]}],
}


def test_loopback_cookies_and_origins_move_to_the_render_origin() -> None:
    got = rebase_storage_state(RECORDED, "http://127.0.0.1:41234")
    assert [c["domain"] for c in got["cookies"]] == ["127.0.0.1", ".example.com"]
    assert got["origins"] == [
        {"origin": "https://app.example.com", "localStorage": [{"name": "x", "value": "y"}]},
        {"origin": "http://127.0.0.1:41234",
         "localStorage": [{"name": "k", "value": "new"}, {"name": "j", "value": "2"}]},
    ]
    assert RECORDED["origins"][0]["origin"] == "http://127.0.0.1:5173", "the input is not changed"


def test_a_loopback_origins_other_stores_travel_with_it() -> None:
    state = {"cookies": [], "origins": [{"origin": "http://localhost:5173", "localStorage": [],
                                         "indexedDB": [{"name": "db", "version": 1, "stores": []}]}]}
    got = rebase_storage_state(state, "http://127.0.0.1:8000/")
    assert got["origins"] == [{"origin": "http://127.0.0.1:8000", "localStorage": [],
                               "indexedDB": [{"name": "db", "version": 1, "stores": []}]}]


@pytest.mark.parametrize("base", [None, "https://app.example.com/"])
def test_a_remote_or_missing_base_keeps_the_recorded_origins(base: str | None) -> None:
    got = rebase_storage_state(RECORDED, base)
    assert got["origins"] == RECORDED["origins"] and got["cookies"] == RECORDED["cookies"]


def _job(tmp_path: Path, session: str | None) -> Job:
    (tmp_path / "script.json").write_text(json.dumps({
        "title": "t", "settings": {"base_url": "http://127.0.0.1:9999", "session": "sessions/a.json"},
        "cards": [{"id": "c", "narration": "", "actions": [{"type": "goto", "url": "/"}]}]}), encoding="utf-8")
    if session is not None:
        (tmp_path / "sessions").mkdir()
        (tmp_path / "sessions/a.json").write_text(session, encoding="utf-8")
    return load_job(tmp_path / "script.json")


@pytest.mark.parametrize(("content", "why"), [
    (None, "is missing from the job"),
    ("{not json", "cannot be read as JSON"),
    ('[1, 2]', "is not a Playwright storage state"),
    ('{"cookies": [{"name": "sid"}], "origins": []}', "its cookies are not a list of name/value"),
    ('{"cookies": [], "origins": [{"origin": "http://x", "localStorage": [{"name": "s3cret"}]}]}', "its origins"),
])
def test_a_bad_session_names_the_asset_and_never_quotes_it(tmp_path: Path, content: str | None, why: str) -> None:
    job = _job(tmp_path, content)
    with pytest.raises(RenderError) as err:
        load_storage_state(job, job.effective_settings(), "http://127.0.0.1:9999")
    assert str(err.value).startswith("the session in sessions/a.json ") and why in str(err.value)
    assert "s3cret" not in str(err.value)


def test_a_good_session_loads_rebased(tmp_path: Path) -> None:
    job = _job(tmp_path, json.dumps(RECORDED))
    got = load_storage_state(job, job.effective_settings(), "http://127.0.0.1:9999")
    assert got is not None and got["origins"][-1]["origin"] == "http://127.0.0.1:9999"


def test_sign_in_pages() -> None:
    asked = "http://127.0.0.1:1/reports.html"
    assert looks_like_sign_in({"url": "http://127.0.0.1:1/signin.html", "password": False}, asked)
    assert looks_like_sign_in({"url": "https://x.example/auth/login?next=/r", "password": False}, asked)
    assert looks_like_sign_in({"url": asked, "password": True}, asked), "a sign-in form in place"
    assert not looks_like_sign_in({"url": asked, "password": False}, asked)
    assert not looks_like_sign_in({"url": "http://127.0.0.1:1/signin.html", "password": False},
                                  "http://127.0.0.1:1/signin.html"), "the flow asked for the sign-in page"
    assert not looks_like_sign_in({"url": "http://127.0.0.1:1/authors.html", "password": False}, asked)
    assert expired_message("sessions/a.json", asked) == (
        "the session in sessions/a.json is no longer signed in at http://127.0.0.1:1/reports.html: record it again")


def test_dialog_titles_are_chromes_without_a_loopback_port() -> None:
    assert dialog_title("http://127.0.0.1:38723/reports.html") == "127.0.0.1 says"
    assert dialog_title("https://app.example.com:8443/x") == "app.example.com:8443 says"
    assert dialog_title("https://user:pw@app.example.com/x") == "app.example.com says"
    assert dialog_title("about:blank") == "This page says"


def test_the_plan_expects_the_drawn_dialog_and_the_download_cue() -> None:
    from app.core.plan.timeline import DOWNLOAD_CUE_S, dialog_typing_s, follow_on_s
    from app.core.script import Card

    card = Card.model_validate({"id": "c", "narration": "", "actions": [
        {"type": "dialog", "response": "accept", "text": "Q4 summary"},
        {"type": "click", "target": {"role": "button", "name": "Rename"}},
        {"type": "click", "target": {"role": "button", "name": "Export CSV"}, "download": True}]})
    assert follow_on_s(card, 0, 30) == 0.0
    drawn = 0.45 + 0.3 + 0.5 + 0.3 + 1 / 30
    assert follow_on_s(card, 1, 30) == pytest.approx(drawn + dialog_typing_s("Q4 summary") + 0.15)
    assert follow_on_s(card, 2, 30) == DOWNLOAD_CUE_S
