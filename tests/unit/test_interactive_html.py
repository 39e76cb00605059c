"""The interactive demo's pure parts: step records -> Demo (captions, boxes, labels, voice segments)
-> one HTML page.  No browser, no ffmpeg: these are functions of their inputs."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import pytest

from app.cli import build_parser
from app.core.bundle import Job, RenderSettings
from app.core.capture.steps import StepBox, StepRecord
from app.core.mix.interactive import (
    Demo,
    build_audio_args,
    build_demo,
    build_webp_args,
    demo_html,
    hotspot_label,
    place_media,
    sentence_at_mark,
)
from app.core.script import Bumper, validate_script

NARRATION = 'Signing in takes seconds. <mark name="email"/>Enter your email, then the password. <mark name="go"/>Go!'


def _script() -> Any:
    return validate_script({
        "title": "Tour <b>&</b>",
        "cards": [
            {"id": "intro", "title": "Lumen", "narration": "", "actions": [{"type": "goto", "url": "https://a.example/"}]},
            {"id": "signin", "title": "Sign in", "narration": NARRATION,
             "actions": [{"type": "click", "target": {"role": "link", "name": "Sign in"}},
                         {"type": "type", "target": {"label": "Email"}, "text": "ana@x.example", "at": "email"},
                         {"type": "fill", "target": {"label": "Password"}, "value": "hunter22"},
                         {"type": "press", "key": "Enter", "at": "go"}]},
            {"id": "outro", "title": "Try it", "narration": "", "actions": [{"type": "goto", "url": "https://a.example/"}]},
        ]})


def _rec(kind: str, card: int, action: int | None, frame: int, box: StepBox | None = None, *,
         jpeg: bytes | None = None, secret: bool = False) -> StepRecord:
    return StepRecord(kind, card, action, frame, frame / 30, jpeg or f"jpeg{frame}".encode(), box,  # type: ignore[arg-type]
                      secret)


def _demo() -> Demo:
    records = [
        _rec("card", 0, None, 10),
        _rec("card", 1, None, 40),
        _rec("action", 1, 0, 50, StepBox(896, 18, 108, 54)),
        _rec("action", 1, 1, 70, StepBox(175.5, 331, 513, 57)),
        _rec("action", 1, 2, 90, StepBox(175.5, 445, 513, 57), secret=True),
        _rec("action", 1, 3, 95, None, jpeg=b"jpeg90"),  # same picture as the step before: stored once
        _rec("card", 2, None, 130),
    ]
    voices = [("voice:0", 0.0, {}), ("voice:1", 4.0, {"email": 1.5, "go": 3.2}), ("voice:2", 0.0, {})]
    return build_demo(records, _script(), width=854, height=480, view=(1280, 720), voices=voices,
                      outro_index=2, outro=Bumper(title="Try Lumen free", subtitle="lumen.example/start"),
                      intro_index=0, intro=Bumper(title="Lumen", subtitle="A 60-second tour"))


def test_sentence_around_a_bookmark() -> None:
    assert sentence_at_mark(NARRATION, "email") == "Enter your email, then the password."
    assert sentence_at_mark(NARRATION, "go") == "Go!"
    assert sentence_at_mark('Now <mark name="m"/>click save, and wait. Done.', "m") == "Now click save, and wait."
    assert sentence_at_mark("No marks here.", "x") == "No marks here."


def test_hotspot_names_say_what_to_do_to_what() -> None:
    card = _script().cards[1]
    assert [hotspot_label(a) for a in card.actions] == [
        'Click "Sign in" link', 'Type into the "Email" field', 'Type into the "Password" field', "Press Enter"]


def test_steps_from_records() -> None:
    demo = _demo()
    assert [s.kind for s in demo.steps] == ["card", "card", "action", "action", "action", "action", "end"]
    intro, card, click, typ, fill, press, end = demo.steps
    # a silent intro says its subtitle; a card says its narration; a bookmarked action its sentence
    assert intro.caption == "A 60-second tour" and intro.audio is None
    assert card.caption == "Signing in takes seconds. Enter your email, then the password. Go!"
    assert click.caption == card.caption
    assert typ.caption == "Enter your email, then the password." and press.caption == "Go!"
    # boxes are fractions of the CSS viewport: the same at any output size and device scale
    assert click.box == pytest.approx((896 / 1280, 18 / 720, 108 / 1280, 54 / 720))
    assert press.box is None and press.typed == "Enter"
    # typed text shows, a password masked
    assert typ.typed == "ana@x.example" and fill.typed == "••••••••"
    # the card's voice up to the first bookmarked action, then each bookmark's segment
    assert (card.audio, card.audio_from_s, card.audio_to_s) == ("voice:1", 0.0, 1.5)
    assert click.audio is None  # keeps playing what the card started
    assert (typ.audio, typ.audio_from_s, typ.audio_to_s) == ("voice:1", 1.5, 3.2)
    assert (press.audio, press.audio_from_s, press.audio_to_s) == ("voice:1", 3.2, None)
    # the outro is the final step, with its call to action
    assert end.title == "Try Lumen free" and end.caption == "lumen.example/start" and end.frame == 130
    assert demo.cta == ("Try Lumen free", "lumen.example/start")
    # where each still is in the video, and each picture stored once
    assert [s.frame for s in demo.steps] == [10, 40, 50, 70, 90, 95, 130]
    assert fill.image == press.image and len(demo.media) == 6


def test_without_an_outro_the_last_frame_ends_the_demo() -> None:
    script = _script()
    demo = build_demo([_rec("card", 1, None, 40)], script, width=1280, height=720, view=(1280, 720),
                      voices=[(None, 0.0, {})] * 3, end_still=_rec("card", 2, None, 200))
    assert [s.kind for s in demo.steps] == ["card", "end"]
    assert demo.steps[-1].frame == 200 and demo.steps[-1].caption == "That's the tour." and demo.cta is None


def test_a_box_is_cut_to_the_screen() -> None:
    records = [_rec("action", 1, 0, 5, StepBox(-20, 700, 60, 40)), _rec("action", 1, 3, 6, StepBox(0, 800, 50, 50))]
    demo = build_demo(records, _script(), width=1280, height=720, view=(1280, 720), voices=[(None, 0.0, {})] * 3)
    assert demo.steps[0].box == pytest.approx((0.0, 700 / 720, 40 / 1280, 20 / 720))
    assert demo.steps[1].box is None  # wholly below the fold: a centred button instead


def _page(demo: Demo) -> tuple[str, dict[str, Any]]:
    uris = {k: f"data:image/webp;base64,{i}" for i, k in enumerate(demo.media)}
    uris["voice:1"] = "data:audio/mpeg;base64,AAAA"
    page = demo_html(place_media(demo, uris))
    m = re.search(r'<script id="demo-data" type="application/json">(.*?)</script>', page, re.S)
    assert m is not None
    return page, json.loads(m.group(1))


def test_the_page_is_self_contained_escaped_and_deterministic() -> None:
    demo = _demo()
    page, data = _page(demo)
    assert page == _page(demo)[0]
    # nothing to fetch: no http(s) URL, no external script/style/font, a CSP that allows none
    assert not re.search(r"""(src|href)\s*=\s*["']?https?:""", page)
    assert "default-src 'none'" in page and "@import" not in page and "url(" not in page
    # the title is text, never markup; the data cannot close its script element
    assert "<title>Tour &lt;b&gt;&amp;&lt;/b&gt; — interactive demo</title>" in page
    assert data["title"] == "Tour <b>&</b>" and "</b>" not in page.split('id="demo-data"')[1].split("</script>")[0]
    # each medium once, steps refer to it by key
    assert len(data["media"]) == 7 and all(s["image"] in data["media"] for s in data["steps"])
    assert data["steps"][2]["box"] == pytest.approx([0.7, 0.025, 0.084375, 0.075])
    assert data["steps"][3]["audio"] == "voice:1"


def test_a_missing_voice_is_dropped_not_referenced() -> None:
    demo = _demo()
    placed = place_media(demo, {k: "data:," for k in demo.media})  # no voice:1 URI
    assert all(s.audio is None for s in placed.steps)


def test_page_controls_are_accessible() -> None:
    page, _ = _page(_demo())
    # the toggle says its state, the progress bar is a labelled nav, changes are announced
    assert 'id="sound"' in page and 'aria-pressed="false"' in page
    assert '<nav id="progress" class="progress" aria-label="Steps">' in page
    assert 'aria-live="polite"' in page
    # the hotspot is a <button> named by the step's label (built by the page script)
    assert "createElement('button')" in page and "setAttribute('aria-label', s.label)" in page


def test_ffmpeg_argv() -> None:
    args = build_webp_args(Path("/ff"), pattern_in=Path("/w/in-%03d.jpg"), pattern_out=Path("/w/s-%03d.webp"),
                           width=854, height=480)
    assert args[0] == "/ff" and "libwebp" in args and "scale=854:480:flags=bicubic" in args
    audio = build_audio_args(Path("/ff"), [(Path("/a.wav"), Path("/a.mp3")), (Path("/b.wav"), Path("/b.mp3"))])
    assert audio.count("-i") == 2 and audio.count("libmp3lame") == 2
    i = audio.index("/a.mp3")
    assert audio[i - 10:i] == ["-map", "0:a", "-ac", "1", "-c:a", "libmp3lame", "-b:a", "48k", "-f", "mp3"]


def test_interactive_setting_from_the_cli_and_render_overrides() -> None:
    args = build_parser().parse_args(["render", "x.json", "--interactive"])
    assert args.interactive is True
    script = _script()
    assert script.settings.interactive is False
    job = Job(script=script, render=RenderSettings(interactive=True))
    assert job.effective_settings().interactive is True
    assert "interactive" in json.dumps(type(script.settings).model_json_schema())

