"""The format a script carries: older projects' size/fps/captions move into the script on load, the app's
format and purpose choices change the same fields as the CLI's --preset/--target, and the summary says
what a format does (size, layout, planned length against an ad's target) before anything renders."""

from __future__ import annotations

import argparse
import json
import math
import sqlite3
from typing import Any

import pytest

from app.cli import _apply_format_presets
from app.core.bundle import Job
from app.core.plan import presets
from app.core.script import Settings, validate_script
from app.workbench import formats as wf
from app.workbench import services
from app.workbench.storage import AppSettings, ProjectData, ProjectRenderSettings, Store, has_cards

CARDS = [{"id": f"c{i}", "title": f"Card {i}", "narration": " ".join(["word"] * 20) + ".", "actions": []}
         for i in range(4)]


def _script(**settings: Any) -> dict[str, Any]:
    return {"title": "Tour", "settings": {"base_url": "http://127.0.0.1:9/", **settings},
            "cards": json.loads(json.dumps(CARDS))}


def test_an_old_projects_size_fps_and_captions_move_into_its_script(store: Store) -> None:
    old = {"script": _script(width=1280, height=720, captions=False),
           "render": {"width": 1080, "height": 1920, "fps": 25, "captions": True, "burn_captions": True,
                      "target": "cloud"}}
    p = store.create_project("Old", ProjectData())
    with sqlite3.connect(store.root / "library.sqlite3") as db:  # written as the previous app wrote it
        db.execute("UPDATE projects SET data=? WHERE id=?", (json.dumps(old), p.id))
    [loaded] = [x for x in store.list_projects() if x.id == p.id]
    s = loaded.data.script["settings"]  # type: ignore[index]
    # the old app applied them over the script: they win, so the project renders as it did
    assert (s["width"], s["height"], s["fps"], s["captions"], s["burn_captions"]) == (1080, 1920, 25, True, True)
    assert s["base_url"] == "http://127.0.0.1:9/" and loaded.data.render.target == "cloud"
    assert loaded.data.render.legacy() == {}
    # saved in the new shape: the render record keeps only where it renders
    store.save_project(loaded)
    with sqlite3.connect(store.root / "library.sqlite3") as db:
        raw = json.loads(db.execute("SELECT data FROM projects WHERE id=?", (p.id,)).fetchone()[0])
    assert raw["render"] == {"target": "cloud"} and raw["script"]["settings"]["width"] == 1080
    validate_script(raw["script"])


def test_an_old_project_without_a_script_keeps_its_format_for_the_first_draft() -> None:
    d = ProjectData.model_validate({"render": {"width": 1920, "height": 1080, "fps": 60}})
    assert d.script == {"cards": [], "settings": {"width": 1920, "height": 1080, "fps": 60}}
    assert not has_cards(d.script)  # not drafted yet (the record command drafts it)
    base = services.default_script_settings(AppSettings(voice="en_US-joe-medium"), d.script["settings"])
    assert (base.width, base.height, base.fps) == (1920, 1080, 60)
    assert base.voice.voice == "en_US-joe-medium"  # the app's voice is kept under the chosen format
    # a current project is left alone
    assert ProjectData.model_validate({"render": {"target": "local"}}).script is None
    assert ProjectRenderSettings().model_dump() == {"target": "local"}


def test_choosing_a_format_and_an_ad_changes_what_the_cli_presets_change() -> None:
    raw = _script()["settings"]
    changes = wf.preset_changes(raw, ["9:16"])
    assert changes == {"width": 1080, "height": 1920}
    ad = wf.preset_changes(raw, ["ad"], 30.0)
    assert ad["purpose"] == "ad" and ad["target_s"] == 30.0 and ad["camera"] == "gentle"
    assert ad["gap_ms"] == 250 and ad["lead_in_ms"] == 300 and ad["lead_out_ms"] == 800
    # the CLI writes the very same fields into the job's script
    job = Job(script=validate_script(_script()))
    _apply_format_presets(job, argparse.Namespace(preset=["9:16", "ad"], target=30.0, size=None))
    cli = job.script.settings.model_dump(mode="json")
    app = {**Settings.model_validate(raw).model_dump(mode="json"), **changes, **ad}
    assert cli == app
    # back to a demo: the target goes with the ad (and --preset demo does the same)
    after_ad = {**raw, **ad}
    assert wf.preset_changes(after_ad, ["demo"]) == {"purpose": "demo", "target_s": None}
    assert presets.apply_presets(Settings.model_validate(after_ad), ["demo"]).target_s is None
    assert wf.preset_changes(after_ad, ["long-form"], clear_target=True) == {"purpose": "long-form",
                                                                             "target_s": None}
    with pytest.raises(ValueError):
        wf.preset_changes({"width": 7}, ["9:16"])  # settings to fix first


def test_formats_are_named_and_custom_sizes_are_custom() -> None:
    assert [wf.format_of(presets.FORMATS[n].width, presets.FORMATS[n].height) for _l, n in wf.FORMAT_CHOICES] \
        == ["16:9", "1080p", "9:16", "1:1"]
    assert wf.format_of(854, 480) == wf.CUSTOM
    assert wf.format_label(1080, 1920, 30) == "1080×1920 30 fps (9:16)"
    assert wf.format_label(1920, 1080, 60) == "1920×1080 60 fps (16:9)"
    assert wf.format_label(854, 480, 24) == "854×480 24 fps"


def test_the_summary_shows_the_layout_and_the_planned_length_against_the_target() -> None:
    script = validate_script(_script(width=1080, height=1920))
    durations = [6.0] * 4
    demo = wf.summarize(script.settings, script, durations)
    assert (demo.css_width, demo.css_height, demo.scale) == (540, 960, 2.0)
    assert "page laid out at 540×960 CSS px, drawn at 2×" in demo.size_text()
    assert demo.planned_s is not None and demo.planned_s > 24 and demo.length_text().startswith("Planned")
    # an ad whose target is just above the plan: the fitter aims a little under it, so it tightens gaps
    target = math.ceil(demo.planned_s)
    ad = Settings.model_validate({**script.settings.model_dump(mode="json"), "purpose": "ad", "target_s": target})
    s = wf.summarize(ad, script.model_copy(update={"settings": ad}), durations)
    assert s.fitted_s is not None and s.fits and s.fitted_s < demo.planned_s
    assert f"/ target {target:g} s — will tighten gaps and holds to {s.fitted_s:.1f} s" in s.length_text()
    # a target the narration alone exceeds cannot be met: the summary says what to do
    short = ad.model_copy(update={"target_s": 15.0})
    t = wf.summarize(short, script.model_copy(update={"settings": short}), durations)
    assert not t.fits and "shorten the narration" in t.length_text()
    # outside the ad range: warned before rendering, as the render would
    long = ad.model_copy(update={"target_s": 90.0})
    w = wf.summarize(long, None, None)
    assert w.planned_s is None and any("outside 15–60 s" in x for x in w.warnings)
    assert "fix the script" in w.length_text()


def test_bookmarks_are_placed_at_their_share_of_the_words() -> None:
    script = validate_script({"title": "M", "settings": {"base_url": "http://127.0.0.1:9/"}, "cards": [
        {"id": "a", "title": "A", "narration": 'one two <mark name="m"/> three four', "actions": []}]})
    [v] = wf.voice_timings(script, [4.0])
    assert v.duration_s == 4.0 and v.marks == {"m": 2.0}


def test_voiced_cards_are_planned_with_their_cached_clips(tmp_path: Any) -> None:
    """After a render or a voice preview, the summary plans with the clips' real lengths and bookmarks
    (read from the voice cache, never synthesised); an unvoiced card stays an estimate."""
    import asyncio
    import shutil

    from app.core.voice import EspeakProvider, VoiceService

    if shutil.which("espeak-ng") is None:
        pytest.skip("espeak-ng is not installed")  # the project's setup installs it
    data = _script(voice={"provider": "espeak"})
    data["cards"][0]["narration"] = 'Open the <mark name="menu"/> menu and pick a project, then press save.'
    data["cards"][1]["narration"] = f"A narration not voiced before: {tmp_path.name}."
    script = validate_script(data)
    service = VoiceService(EspeakProvider())
    clip = asyncio.run(service.voice(script.cards[0].narration, script.settings.voice))
    hit = service.cached(script.cards[0].narration, script.settings.voice)
    assert hit is not None and hit.duration_s == clip.duration_s and hit.marks == clip.marks
    found = wf.cached_voice_timings(script)
    assert found["c0"].duration_s == clip.duration_s and set(found["c0"].marks) == {"menu"}
    assert "c1" not in found
    # another rate is another clip: not found
    slower = script.model_copy(deep=True)
    slower.settings.voice.rate = 0.8
    assert "c0" not in wf.cached_voice_timings(slower)
    # the summary takes the clip's timing as is and estimates the rest
    durations = [found["c0"], 5.0, 5.0, 5.0]
    s = wf.summarize(script.settings, script, durations, estimated=True)
    assert s.planned_s is not None and s.planned_s > clip.duration_s + 15 and "≈" in s.length_text()


def test_a_script_digest_changes_with_the_script_and_not_with_key_order() -> None:
    a = {"title": "T", "settings": {"fps": 30, "width": 1280}, "cards": []}
    b = {"cards": [], "settings": {"width": 1280, "fps": 30}, "title": "T"}
    assert wf.script_digest(a) == wf.script_digest(b)
    assert wf.script_digest(a) != wf.script_digest({**a, "title": "U"})


def test_the_last_render_is_set_beside_the_plan() -> None:
    assert wf.last_render_text(73.6, 69.7, current=True) == (
        "Last render 69.7 s of video — the plan estimates page loads and clicks; the render takes the time "
        "they really took")
    assert wf.last_render_text(70.0, 69.7, current=True) == "Last render 69.7 s of video"
    assert "took longer than planned" in wf.last_render_text(60.0, 69.7, current=True)
    assert wf.last_render_text(73.6, 69.7, current=False) == "Last render 69.7 s of video, before the latest edits"
    assert wf.last_render_text(None, 69.7, current=True) == "Last render 69.7 s of video"
