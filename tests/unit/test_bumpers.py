"""Intro/outro cards: the generated page and how the script grows around them (pure)."""

from __future__ import annotations

from pathlib import Path

import pytest

from app.core.errors import RenderError
from app.core.plan import bumpers
from app.core.script import Bumper, Goto, Settings, Wait, validate_script


def _script(*ids: str) -> object:
    return validate_script({"settings": {"site": "site"},
                            "cards": [{"id": i, "narration": f"Card {i}."} for i in ids]})


def test_page_escapes_everything_typed_and_has_no_script() -> None:
    b = Bumper(title='<script>alert("x")</script> & Co', subtitle="a <b>bold</b> claim", brand_color="#123456")
    page = bumpers.bumper_html(b, "intro", logo_url='logo".svg', stylesheet_url="/assets/app.css")
    assert "<script" not in page.lower()
    assert "&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt; &amp; Co" in page
    assert "a &lt;b&gt;bold&lt;/b&gt; claim" in page
    assert 'src="logo&quot;.svg"' in page and 'href="/assets/app.css"' in page
    assert "#123456" in page and 'class="rw-bumper intro"' in page
    assert "reelwright-overlay{display:none!important}" in page  # no cursor on a title card
    assert bumpers.bumper_html(b, "intro") == bumpers.bumper_html(b, "intro")  # deterministic
    bare = bumpers.bumper_html(Bumper(), "outro")
    assert "<h1" not in bare and "<img" not in bare and "<link" not in bare


def test_font_family_cannot_break_out_of_css() -> None:
    with pytest.raises(Exception, match="font_family"):
        validate_script({"cards": [{"id": "a"}], "settings": {"intro": {"font_family": "x}body{color:red"}}})


def test_expand_adds_cards_around_the_content() -> None:
    script = _script("intro", "b")  # a user card already named 'intro'
    s = Settings(site="site", lead_in_ms=600, intro=Bumper(title="Hello", duration_ms=2000, narration="Hi."),
                 outro=Bumper(duration_ms=1200))
    plan = bumpers.expand_with_bumpers(script, s, "http://127.0.0.1:9/")  # type: ignore[arg-type]
    ids = [c.id for c in plan.script.cards]
    assert ids == ["intro-2", "intro", "b", "outro"]
    assert (plan.intro_index, plan.outro_index, plan.content_indexes) == (0, 3, [1, 2])
    intro = plan.script.cards[0]
    assert intro.title == "Hello" and intro.narration == "Hi."
    assert isinstance(intro.actions[0], Goto) and intro.actions[0].url == "http://127.0.0.1:9/__reelwright/intro.html"
    assert isinstance(intro.actions[1], Wait) and intro.actions[1].ms == 2000
    assert plan.script.cards[3].title == "Outro"
    assert plan.settings.lead_in_ms == 0 and s.lead_in_ms == 600  # the input is not mutated
    assert [c.id for c in script.cards] == ["intro", "b"]  # type: ignore[attr-defined]


def test_expand_without_bumpers_is_identity() -> None:
    script = _script("a")
    plan = bumpers.expand_with_bumpers(script, Settings(), None)  # type: ignore[arg-type]
    assert plan.script is script and plan.content_indexes == [0] and plan.intro_index is None
    only_outro = bumpers.expand_with_bumpers(script, Settings(outro=Bumper()), "http://h")  # type: ignore[arg-type]
    assert [c.id for c in only_outro.script.cards] == ["a", "outro"]
    assert only_outro.settings.lead_in_ms == Settings().lead_in_ms


def test_pages_and_logo_are_written(tmp_path: Path) -> None:
    (tmp_path / "brand").mkdir()
    (tmp_path / "brand/logo.svg").write_text("<svg/>", encoding="utf-8")
    s = Settings(intro=Bumper(title="T", logo="brand/logo.svg", stylesheet="assets/app.css"), outro=Bumper())
    files = bumpers.write_bumper_pages(s, tmp_path / "out", lambda rel: tmp_path / rel, same_origin_site=True)
    assert sorted(files) == ["__reelwright/intro-logo.svg", "__reelwright/intro.html", "__reelwright/outro.html"]
    page = files["__reelwright/intro.html"].read_text(encoding="utf-8")
    assert 'src="intro-logo.svg"' in page and 'href="/assets/app.css"' in page
    alone = bumpers.write_bumper_pages(s, tmp_path / "alone", lambda rel: tmp_path / rel, same_origin_site=False)
    assert "<link" not in alone["__reelwright/intro.html"].read_text(encoding="utf-8")
    (tmp_path / "brand/logo.pdf").write_bytes(b"%PDF")
    bad = Settings(intro=Bumper(logo="brand/logo.pdf"))
    with pytest.raises(RenderError, match="not an image"):
        bumpers.write_bumper_pages(bad, tmp_path / "bad", lambda rel: tmp_path / rel, same_origin_site=True)


def test_bumper_settings_validate() -> None:
    base = {"cards": [{"id": "a"}]}
    with pytest.raises(Exception, match="brand_color"):
        validate_script({**base, "settings": {"intro": {"brand_color": "blue"}}})
    with pytest.raises(Exception, match="inside the job bundle"):
        validate_script({**base, "settings": {"outro": {"logo": "../logo.png"}}})
    with pytest.raises(Exception, match="duration_ms"):
        validate_script({**base, "settings": {"intro": {"duration_ms": 100}}})


def test_logo_and_music_files_travel_in_the_bundle(tmp_path: Path) -> None:
    from app.core.bundle import load_job, referenced_assets, write_bundle

    (tmp_path / "brand").mkdir()
    (tmp_path / "brand/logo.png").write_bytes(b"\x89PNG fake")
    (tmp_path / "song.wav").write_bytes(b"RIFF fake")
    script = validate_script({"settings": {"music": "song.wav", "intro": {"logo": "brand/logo.png"},
                                           "outro": {"title": "x"}},
                              "cards": [{"id": "a"}]})
    assert sorted(referenced_assets(script, tmp_path)) == ["brand/logo.png", "song.wav"]
    bundled = validate_script({"settings": {"music": "bundled:calm"}, "cards": [{"id": "a"}]})
    assert referenced_assets(bundled, tmp_path) == []  # a synthesised track is not a file
    write_bundle(script, tmp_path, tmp_path / "job.zip")
    with load_job(tmp_path / "job.zip") as job:
        assert job.resolve("brand/logo.png").read_bytes() == b"\x89PNG fake"
        assert job.resolve("song.wav").read_bytes() == b"RIFF fake"


def test_errors_name_the_users_card_not_the_shifted_one() -> None:
    script = _script("a", "b")
    plan = bumpers.expand_with_bumpers(script, Settings(site="site", intro=Bumper(), outro=Bumper()),  # type: ignore[arg-type]
                                       "http://h")
    err = RenderError("click: no element matches", card_index=2, card_id="b", action_index=0, locator="x")
    bumpers.renumber_error(err, plan)
    assert err.card_index == 1 and str(err).startswith("card 2 'b' › action 1: click: no element matches")
    intro_err = RenderError("goto failed", card_index=0, card_id="intro", action_index=0)
    bumpers.renumber_error(intro_err, plan)
    assert intro_err.card_index is None and str(intro_err) == "the intro card › action 1: goto failed"
    outro_err = RenderError("boom", card_index=3, card_id="outro")
    bumpers.renumber_error(outro_err, plan)
    assert str(outro_err) == "the outro card: boom"
    plain = bumpers.expand_with_bumpers(script, Settings(), None)  # type: ignore[arg-type]
    same = RenderError("boom", card_index=1, card_id="b")
    bumpers.renumber_error(same, plain)
    assert same.card_index == 1 and str(same) == "card 2 'b': boom"
