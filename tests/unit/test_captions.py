"""Caption cues, SRT/WebVTT writers and chapter files."""

from __future__ import annotations

import itertools
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from app.core.mix.captions import (
    MAX_LINE,
    CaptionCard,
    Cue,
    build_cues,
    chapters_from_cards,
    ffmetadata_escape,
    ffmetadata_text,
    split_cue_texts,
    srt_text,
    vtt_text,
    write_ffmetadata_chapters,
    write_srt,
    write_vtt,
    youtube_chapters_text,
)

INTRO = (
    "Welcome to Reelwright, the tool that turns a browser flow and the documents behind it into a "
    "narrated product demo. First, open the settings page. Then click Save."
)


def test_split_prefers_sentence_and_clause_boundaries() -> None:
    assert split_cue_texts(INTRO) == [
        ("Welcome to Reelwright,", "the tool that turns a browser flow"),
        ("and the documents behind it", "into a narrated product demo."),
        ("First, open the settings page.",),  # a full sentence keeps its own cue
        ("Then click Save.",),
    ]
    assert split_cue_texts("Done. Now save.") == [("Done. Now save.",)]
    assert split_cue_texts("   ") == []


def test_unbreakable_words_get_their_own_line() -> None:
    url = "https://example.com/" + "x" * 60
    cues = split_cue_texts(f"Open {url} in a new tab.")
    assert [line for cue in cues for line in cue] == ["Open", url, "in a new tab."]
    assert all(len(cue) <= 2 for cue in cues)


words = st.text(alphabet=st.characters(whitelist_categories=("Ll", "Lu", "Nd")), min_size=1, max_size=14)
punct = st.sampled_from(["", "", "", ",", ".", "!", "?", ";", ":"])
sentences = st.lists(st.tuples(words, punct).map(lambda t: t[0] + t[1]), min_size=1, max_size=80)


@settings(max_examples=200, deadline=None)
@given(sentences)
def test_split_properties(ws: list[str]) -> None:
    text = " ".join(ws)
    cues = split_cue_texts(text)
    # nothing lost, nothing reordered
    assert " ".join(line for cue in cues for line in cue) == text
    for cue in cues:
        assert 1 <= len(cue) <= 2
        assert all(len(line) <= MAX_LINE for line in cue)  # words here are short enough to fit


@settings(max_examples=150, deadline=None)
@given(st.lists(st.tuples(sentences, st.floats(0.2, 20.0), st.floats(0.0, 3.0)), min_size=1, max_size=6))
def test_cue_timing_properties(spec: list[tuple[list[str], float, float]]) -> None:
    cards = []
    t = 0.6
    for i, (ws, dur, gap) in enumerate(spec):
        cards.append(CaptionCard(f"c{i}", f"Card {i}", t, dur, " ".join(ws)))
        t += dur + gap
    cues = build_cues(cards)
    assert cues == build_cues(cards)  # deterministic
    by_card = {c.card_id: c for c in cards}
    for a, b in itertools.pairwise(cues):
        assert a.end_s <= b.start_s + 1e-9
    for cue in cues:
        card = by_card[cue.card_id]
        assert card.start_s - 1e-9 <= cue.start_s < cue.end_s <= card.start_s + card.voice_duration_s + 1e-9
    for card in cards:
        mine = [c for c in cues if c.card_id == card.card_id]
        assert " ".join(c.text for c in mine) == card.text
        # the cues cover the whole voice, back to back
        assert mine[0].start_s == pytest.approx(card.start_s)
        assert mine[-1].end_s == pytest.approx(card.start_s + card.voice_duration_s)
        if card.voice_duration_s >= 0.8 * len(mine):
            assert min(c.end_s - c.start_s for c in mine) >= 0.8 - 1e-9


def test_cue_times_follow_text_length() -> None:
    cues = build_cues([CaptionCard("a", "A", 1.0, 10.0, INTRO)])
    durations = [c.end_s - c.start_s for c in cues]
    assert len(cues) == 4 and sum(durations) == pytest.approx(10.0)
    assert durations[0] > durations[2] > durations[3]  # longer text, longer on screen


def test_min_cue_length_takes_time_from_long_cues() -> None:
    card = CaptionCard(
        "a", "A", 0.0, 3.0, "Hi. " + "This one is a much longer sentence that goes on and on for a while."
    )
    cues = build_cues([card])
    assert cues[0].text == "Hi." and cues[0].end_s - cues[0].start_s == pytest.approx(0.8)
    assert cues[-1].end_s == pytest.approx(3.0)


def test_cards_without_voice_or_text_have_no_cues() -> None:
    assert build_cues([CaptionCard("a", "A", 0, 0.0, "Text"), CaptionCard("b", "B", 1, 2.0, "")]) == []


SAMPLE = [
    Cue(0.6, 2.0, ("Welcome <b>&", "friends"), "a"),
    Cue(2.0, 3.2505, ("Arrows --> here",), "a"),
    Cue(3661.0, 3662.5, ("Late",), "b"),
]


def test_srt_exact() -> None:
    assert srt_text(SAMPLE) == (
        "1\n00:00:00,600 --> 00:00:02,000\nWelcome <b>&\nfriends\n\n"
        "2\n00:00:02,000 --> 00:00:03,250\nArrows --> here\n\n"
        "3\n01:01:01,000 --> 01:01:02,500\nLate\n"
    )


def test_vtt_exact_and_escaped() -> None:
    assert vtt_text(SAMPLE) == (
        "WEBVTT\n\n"
        "00:00:00.600 --> 00:00:02.000\nWelcome &lt;b&gt;&amp;\nfriends\n\n"
        "00:00:02.000 --> 00:00:03.250\nArrows --&gt; here\n\n"
        "01:01:01.000 --> 01:01:02.500\nLate\n"
    )


def test_writers_are_atomic_and_deterministic(tmp_path: Path) -> None:
    a = write_srt(SAMPLE, tmp_path / "x.srt").read_bytes()
    assert write_srt(SAMPLE, tmp_path / "x.srt").read_bytes() == a
    assert write_vtt(SAMPLE, tmp_path / "x.vtt").read_text(encoding="utf-8").startswith("WEBVTT\n")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["x.srt", "x.vtt"]


def test_ffmetadata_escaping_and_layout(tmp_path: Path) -> None:
    assert ffmetadata_escape("a=b;c#d\\e\nf") == "a\\=b\\;c\\#d\\\\e\\\nf"
    text = ffmetadata_text([(0.0, 1.5, "Intro"), (1.5, 3.0004, "Save = done; #1")], title="Demo\\x")
    assert text == (
        ";FFMETADATA1\ntitle=Demo\\\\x\n"
        "[CHAPTER]\nTIMEBASE=1/1000\nSTART=0\nEND=1500\ntitle=Intro\n"
        "[CHAPTER]\nTIMEBASE=1/1000\nSTART=1500\nEND=3000\ntitle=Save \\= done\\; \\#1\n"
    )
    path = write_ffmetadata_chapters([(0.0, 1.0, "x")], tmp_path / "ch.txt")
    assert path.read_text(encoding="utf-8").startswith(";FFMETADATA1\n[CHAPTER]")


def test_chapters_from_cards_and_youtube_text() -> None:
    cards = [
        CaptionCard("intro", "Welcome", 0.6, 4.0, "x"),
        CaptionCard("settings", "", 12.4, 4.0, "y"),
        CaptionCard("save", "Save\nit", 75.0, 4.0, "z"),
    ]
    chapters = chapters_from_cards(cards, 90.0)
    assert chapters == [(0.0, 12.4, "Welcome"), (12.4, 75.0, "settings"), (75.0, 90.0, "Save\nit")]
    assert youtube_chapters_text(chapters) == "0:00 Welcome\n0:12 settings\n1:15 Save it\n"
    assert youtube_chapters_text([(5.0, 9.0, "A"), (3700.0, 3800.0, "B")]) == "0:00:00 A\n1:01:40 B\n"


def test_bookmarks_pin_cue_times() -> None:
    narration = 'Open the settings page and have a good look around it. <mark name="save"/>Then click Save.'
    text = "Open the settings page and have a good look around it. Then click Save."
    plain = CaptionCard("a", "A", 10.0, 5.0, text)
    pinned = CaptionCard("a", "A", 10.0, 5.0, text, {"save": 4.2}, narration)
    assert [c.text for c in build_cues([pinned])] == [c.text for c in build_cues([plain])]
    # proportional timing guesses; the measured bookmark is exact
    assert build_cues([plain])[1].start_s != pytest.approx(14.2, abs=0.05)
    cues = build_cues([pinned])
    assert cues[1].start_s == pytest.approx(14.2) and cues[1].end_s == pytest.approx(15.0)
    # a mark inside a cue bends the timing of the cues around it, and the cues still tile the card
    long = "One two three four five six seven eight nine ten. " * 3
    narration2 = long + '<mark name="m"/>' + long
    text2 = " ".join((long + long).split())
    cues2 = build_cues([CaptionCard("b", "B", 0.0, 10.0, text2, {"m": 2.0}, narration2)])
    assert cues2[0].start_s == 0.0 and cues2[-1].end_s == pytest.approx(10.0)
    before = [c for c in cues2 if c.end_s <= 2.0 + 1e-9]
    assert " ".join(c.text for c in before) == " ".join(long.split())
    # a narration that does not match the text is ignored rather than trusted
    odd = CaptionCard("a", "A", 10.0, 5.0, text, {"save": 4.2}, "Something else entirely.")
    assert build_cues([odd]) == build_cues([plain])


def test_lines_break_at_grammar_not_after_little_words() -> None:
    assert split_cue_texts("Click New project, name it and pick a template.") == [
        ("Click New project,", "name it and pick a template.")
    ]
    assert split_cue_texts("Meet Lumen Tasks, the calm task tracker for busy teams.") == [
        ("Meet Lumen Tasks,", "the calm task tracker for busy teams.")
    ]
    cue = split_cue_texts("Adding a task is as quick as typing it and pressing Enter.")[0]
    assert not cue[0].endswith((" as", " a", " the", " is"))


def test_outputs_get_ordinary_permissions(tmp_path: Path) -> None:
    import os
    import stat

    old = os.umask(0o022)
    try:
        srt = write_srt(SAMPLE, tmp_path / "x.srt")
        meta = write_ffmetadata_chapters([(0.0, 1.0, "x")], tmp_path / "ch.txt")
    finally:
        os.umask(old)
    assert stat.S_IMODE(srt.stat().st_mode) == 0o644  # not mkstemp's 0600: players and uploads read it
    assert stat.S_IMODE(meta.stat().st_mode) == 0o644
