"""The script contract: every kind of problem is found, located and worded for a human; nothing else."""

from __future__ import annotations

import copy
import json
from pathlib import Path
from typing import Any

import jsonschema
import pytest

from app.core.errors import Problem, ScriptError
from app.core.script import (
    ACTION_TYPES,
    LOCATOR_KINDS,
    Click,
    Locator,
    Script,
    load_script,
    narration_segments,
    parse_script_json,
    plain_narration,
    script_json_schema,
    validate_script,
)

ROOT = Path(__file__).resolve().parents[2]
EXAMPLE_SCRIPT = ROOT / "resources" / "examples" / "quickstart" / "script.json"


def _one_card(*actions: dict[str, Any], narration: str = "Hello there.", **settings: Any) -> dict[str, Any]:
    doc: dict[str, Any] = {"cards": [{"id": "intro", "narration": narration, "actions": list(actions)}]}
    if settings:
        doc["settings"] = settings
    return doc


def _problems(data: Any) -> list[Problem]:
    with pytest.raises(ScriptError) as info:
        validate_script(data)
    assert info.value.problems, "a ScriptError must carry at least one problem"
    return info.value.problems


def _only(data: Any) -> Problem:
    problems = _problems(data)
    assert len(problems) == 1, [str(p) for p in problems]
    return problems[0]


#: a script that uses every action type and locator kind, valid as written
FULL_SCRIPT: dict[str, Any] = {
    "version": 1,
    "title": "Every action",
    "settings": {"width": 1280, "height": 720, "fps": 30, "site": "site", "gap_ms": 300,
                 "voice": {"provider": "espeak", "rate": 1.2}},
    "cards": [
        {
            "id": "sign-in",
            "title": "Sign in",
            "narration": 'First we <mark name="open"/>open the app and <mark name="email"/>type an email.',
            "actions": [
                {"type": "goto", "url": "/index.html", "at": "open"},
                {"type": "fill", "target": {"label": "Email"}, "value": "ada@example.com", "at": "email"},
                {"type": "type", "target": {"placeholder": "Password"}, "text": "hunter2", "delay_ms": 40},
                {"type": "press", "key": "Enter"},
                {"type": "press", "key": "Control+A", "target": "#search"},
                {"type": "click", "target": {"role": "button", "name": "Sign in", "exact": True},
                 "modifiers": ["Shift"], "position": {"x": 3, "y": 4.5}},
            ],
        },
        {
            "id": "tour_2",
            "narration": "Then a tour.",
            "hold_ms": 500,
            "actions": [
                {"type": "dblclick", "target": {"text": "Row 1"}},
                {"type": "hover", "target": {"test_id": "menu"}},
                {"type": "select", "target": {"css": "select#plan"}, "values": ["pro"]},
                {"type": "check", "target": {"alt": "Logo"}},
                {"type": "uncheck", "target": {"title": "Notify me"}},
                {"type": "scroll", "to": "bottom"},
                {"type": "scroll", "by": -200},
                {"type": "wait_for", "text": "Saved"},
                {"type": "wait_for", "url": "*/dashboard*"},
                {"type": "wait", "ms": 250},
                {"type": "highlight", "target": {"role": "heading", "nth": 0}, "label": "Your projects"},
                {"type": "zoom", "scale": 2.0},
                {"type": "upload", "target": "input[type=file]", "files": ["data/report.pdf"]},
                {"type": "click",
                 "target": {"role": "link", "name": "Open", "has_text": "Q3", "nth": -1,
                            "within": {"css": "#list", "within": {"test_id": "main"}}, "frame": "#app"}},
                {"type": "click", "target": {"text": "Help"}, "opens": "page1", "download": False},
                {"type": "dialog", "response": "accept", "text": "yes", "page": "page1"},
                {"type": "press", "key": "Enter", "target": {"css": "#q", "frame": ["#outer", "#inner"]},
                 "page": "page1", "download": True},
                {"type": "switch_page", "page": "page"},
                {"type": "new_page", "page": "page2"},
                {"type": "goto", "url": "/other.html"},
                {"type": "close_page", "page": "page2"},
            ],
        },
    ],
}


# --------------------------------------------------------------------------- valid scripts


def test_full_script_is_valid_and_parsed_into_types() -> None:
    script = validate_script(copy.deepcopy(FULL_SCRIPT))
    assert [c.id for c in script.cards] == ["sign-in", "tour_2"]
    kinds = [a.type for _, _, _, a in script.iter_actions()]
    assert set(kinds) == set(ACTION_TYPES), "the fixture must exercise every action type"
    assert script.settings.voice.provider == "espeak"
    assert script.cards[1].hold_ms == 500


def test_defaults_of_a_minimal_script() -> None:
    script = validate_script({"cards": [{"id": "only"}]})
    assert script.version == 1
    assert script.settings.width == 1280 and script.settings.height == 720 and script.settings.fps == 30
    assert script.cards[0].narration == "" and script.cards[0].actions == []


def test_target_shorthand_string_is_css() -> None:
    script = validate_script(_one_card({"type": "click", "target": "#save"}))
    action = script.cards[0].actions[0]
    assert isinstance(action, Click)
    assert action.target == Locator(css="#save")
    assert action.target.kind() == "css"


def test_round_trip_script_json_validate_is_equal() -> None:
    script = validate_script(copy.deepcopy(FULL_SCRIPT))
    again = parse_script_json(script.to_json())
    assert again == script
    # and the canonical JSON is stable
    assert again.to_json() == script.to_json()


def test_load_script_reads_a_file(tmp_path: Path) -> None:
    f = tmp_path / "s.json"
    f.write_text(json.dumps(FULL_SCRIPT), encoding="utf-8")
    assert load_script(f) == validate_script(copy.deepcopy(FULL_SCRIPT))


# --------------------------------------------------------------------------- structural problems


def test_missing_field() -> None:
    p = _only(_one_card({"type": "click"}))
    assert p.card_index == 0 and p.card_id == "intro" and p.action_index == 0 and p.field == "target"
    assert p.message == "is required"
    assert p.where == "card 1 'intro' › action 1 (click) › target"


def test_missing_cards() -> None:
    p = _only({"title": "x"})
    assert p.field == "cards" and p.message == "is required"


def test_empty_cards_list() -> None:
    p = _only({"cards": []})
    assert p.field == "cards" and "at least 1" in p.message


def test_unknown_field_in_action_card_settings_and_top_level() -> None:
    problems = _problems({
        "bogus": 1,
        "settings": {"colour": "red"},
        "cards": [{"id": "a", "speed": 2, "actions": [{"type": "goto", "url": "https://x.test", "foo": 1}]}],
    })
    messages = {(p.where, p.message) for p in problems}
    assert ("bogus", "unknown field 'bogus'") in messages
    assert ("settings.colour", "unknown field 'colour'") in messages
    assert ("card 1 'a' › speed", "unknown field 'speed'") in messages
    assert ("card 1 'a' › action 1 (goto) › foo", "unknown field 'foo'") in messages
    assert len(problems) == 4


def test_unknown_field_in_locator() -> None:
    p = _only(_one_card({"type": "click", "target": {"css": "#a", "xpath": "//a"}}))
    assert p.message == "unknown field 'xpath'" and p.action_index == 0


def test_unknown_action_type_lists_the_known_ones() -> None:
    p = _only(_one_card({"type": "execute_js", "code": "alert(1)"}))
    assert p.action_index == 0 and p.card_index == 0
    assert p.message.startswith("unknown action type 'execute_js'")
    for t in ACTION_TYPES:
        assert t in p.message


def test_missing_action_type() -> None:
    p = _only(_one_card({"url": "https://x.test"}))
    assert p.message == "an action needs a 'type' field"
    assert p.where == "card 1 'intro' › action 1"


@pytest.mark.parametrize(
    ("action", "needle"),
    [
        ({"type": "click", "target": "#a", "button": "up"}, "must be one of 'left', 'right' or 'middle' (got 'up')"),
        ({"type": "click", "target": "#a", "modifiers": ["Hyper"]}, "unknown modifier 'Hyper' (modifiers are Alt"),
        ({"type": "scroll", "to": "middle"}, "must be one of 'top' or 'bottom' (got 'middle')"),
        ({"type": "wait_for", "text": "x", "state": "gone"}, "(got 'gone')"),
    ],
)
def test_literal_errors_name_the_allowed_values(action: dict[str, Any], needle: str) -> None:
    p = _only(_one_card(action))
    assert needle in p.message
    assert p.action_index == 0


def test_literal_error_in_settings() -> None:
    p = _only({"settings": {"fps": 29}, "cards": [{"id": "a"}]})
    assert p.where == "settings.fps"
    assert p.message == "must be one of 24, 25, 30, 50 or 60 (got 29)"


def test_unknown_voice_provider() -> None:
    p = _only({"settings": {"voice": {"provider": "siri"}}, "cards": [{"id": "a"}]})
    assert p.field == "settings.voice.provider" and "'siri'" in p.message


@pytest.mark.parametrize("bad_id", ["-lead", "has space", "", "x" * 65, "é"])
def test_bad_card_id(bad_id: str) -> None:
    p = _only({"cards": [{"id": bad_id}]})
    assert p.card_index == 0 and p.field == "id"
    assert p.message.startswith(f"card id {bad_id!r} must start with a letter or digit")


@pytest.mark.parametrize("good_id", ["a", "Sign-in_2.b", "9", "x" * 64])
def test_good_card_ids(good_id: str) -> None:
    assert validate_script({"cards": [{"id": good_id}]}).cards[0].id == good_id


def test_card_without_id_is_located_by_index() -> None:
    p = _only({"cards": [{"id": "a"}, {"title": "no id"}]})
    assert p.where == "card 2 › id" and p.card_index == 1 and p.card_id is None


@pytest.mark.parametrize(
    ("settings", "field"),
    [
        ({"width": 641}, "settings.width"),
        ({"height": 481}, "settings.height"),
        ({"width": 100}, "settings.width"),
        ({"height": 10_000}, "settings.height"),
        ({"lead_in_ms": -1}, "settings.lead_in_ms"),
        ({"voice": {"rate": 3.0}}, "settings.voice.rate"),
    ],
)
def test_bad_settings(settings: dict[str, Any], field: str) -> None:
    p = _only({"settings": settings, "cards": [{"id": "a"}]})
    assert p.field == field and p.card_index is None
    assert p.message and p.message[0].islower(), "messages read as the end of a sentence"


def test_odd_width_message() -> None:
    p = _only({"settings": {"width": 641}, "cards": [{"id": "a"}]})
    assert "multiple of 2" in p.message


def test_script_must_be_an_object() -> None:
    for data in ([], "cards", None, 3):
        p = _only(data)
        assert p.message == "must be a JSON object"


def test_wrong_version() -> None:
    p = _only({"version": 2, "cards": [{"id": "a"}]})
    assert p.field == "version" and "(got 2)" in p.message


# --------------------------------------------------------------------------- semantic problems


def test_duplicate_card_ids() -> None:
    p = _only({"cards": [{"id": "a"}, {"id": "b"}, {"id": "a"}]})
    assert p.card_index == 2 and p.card_id == "a" and p.field == "id"
    assert p.message == "duplicate card id 'a' (also card 1)"


def test_duplicate_bookmarks() -> None:
    p = _only(_one_card(narration='A <mark name="m"/> b <mark name="m"/> c.'))
    assert p.field == "narration" and p.message == "bookmark 'm' appears more than once"


@pytest.mark.parametrize("markup", ["<b>bold</b>", '<break time="1s"/>', "<speak>", '<mark id="x"/>'])
def test_unsupported_narration_markup(markup: str) -> None:
    p = _only(_one_card(narration=f"Say {markup} this."))
    assert p.field == "narration" and "unsupported markup" in p.message
    assert "only <mark name=\"x\"/> bookmarks are allowed" in p.message


def test_less_than_sign_in_prose_is_not_markup() -> None:
    validate_script(_one_card(narration="Load time is < 2 s and 3 > 1."))


def test_at_unknown_bookmark_names_the_marks_present() -> None:
    p = _only(_one_card({"type": "click", "target": "#a", "at": "later"},
                        narration='Now <mark name="here"/> click.'))
    assert p.field == "at" and p.action_index == 0
    assert p.message == "bookmark 'later' is not in this card's narration (marks: here)"


def test_at_unknown_bookmark_lists_each_mark_once() -> None:
    problems = _problems(_one_card({"type": "click", "target": "#a", "at": "x"},
                                   narration='<mark name="m"/> a <mark name="m"/> b <mark name="n"/>'))
    assert [p.message for p in problems if p.field == "at"] == [
        "bookmark 'x' is not in this card's narration (marks: m, n)"]


def test_at_in_a_card_without_marks() -> None:
    p = _only(_one_card({"type": "click", "target": "#a", "at": "x"}))
    assert p.message.endswith("(marks: none)")


def test_at_refers_to_its_own_card_only() -> None:
    data = {"cards": [{"id": "a", "narration": 'A <mark name="m"/>.'},
                      {"id": "b", "narration": "B.", "actions": [{"type": "hover", "target": "#x", "at": "m"}]}]}
    p = _only(data)
    assert p.card_index == 1 and p.card_id == "b"


def test_locator_with_no_kind() -> None:
    p = _only(_one_card({"type": "click", "target": {"exact": True}}))
    assert p.field == "target" and p.message == f"a locator needs one of {', '.join(LOCATOR_KINDS)}"


def test_locator_with_several_kinds() -> None:
    p = _only(_one_card({"type": "click", "target": {"css": "#a", "text": "Save"}}))
    assert p.message.endswith("not several (text, css)")


def test_name_without_role() -> None:
    p = _only(_one_card({"type": "click", "target": {"label": "Email", "name": "x"}}))
    assert p.message == "'name' goes with 'role'"


def test_unknown_aria_role() -> None:
    p = _only(_one_card({"type": "click", "target": {"role": "buton", "name": "Save"}}))
    assert p.message == "'buton' is not an ARIA role"


@pytest.mark.parametrize("kind", LOCATOR_KINDS)
def test_empty_locator_value(kind: str) -> None:
    problems = _problems(_one_card({"type": "hover", "target": {kind: ""}}))
    assert f"'{kind}' is empty" in [p.message for p in problems]


def test_bad_within_chain_is_prefixed() -> None:
    target = {"css": "li", "within": {"css": "#list", "within": {"role": "nonsense"}}}
    p = _only(_one_card({"type": "click", "target": target}))
    assert p.message == "within: within: 'nonsense' is not an ARIA role"


@pytest.mark.parametrize(
    ("url", "scheme"),
    [("javascript:alert(1)", "javascript"), ("JavaScript:alert(1)", "javascript"),
     (" javascript:alert(1)", "javascript"), ("file:///etc/passwd", "file"),
     ("data:text/html,<script>alert(1)</script>", "data"), ("chrome://settings", "chrome")],
)
def test_disallowed_url_schemes(url: str, scheme: str) -> None:
    p = _only(_one_card({"type": "goto", "url": url}))
    assert p.field == "url" and p.action_index == 0
    assert p.message == f"URL scheme '{scheme}:' is not allowed (use http, https or a relative path)"


@pytest.mark.parametrize("url", ["http://", "https:example.com", "https:///path"])
def test_url_without_host(url: str) -> None:
    p = _only(_one_card({"type": "goto", "url": url}))
    assert p.message == f"'{url}' has no host"


def test_relative_goto_needs_site_or_base_url() -> None:
    p = _only(_one_card({"type": "goto", "url": "/pricing"}))
    assert p.where == "settings" and "relative URL" in p.message
    validate_script(_one_card({"type": "goto", "url": "/pricing"}, site="site"))
    validate_script(_one_card({"type": "goto", "url": "pricing"}, base_url="https://app.example.com/"))
    validate_script(_one_card({"type": "goto", "url": "https://app.example.com/pricing"}))


def test_base_url_must_be_absolute_http() -> None:
    p = _only(_one_card(base_url="/relative"))
    assert p.where == "settings › base_url" and "absolute http(s)" in p.message
    p = _only(_one_card(base_url="ftp://files.example.com"))
    assert "'ftp:' is not allowed" in p.message


@pytest.mark.parametrize("site", ["/srv/site", "../site", "a/../../b", "..\\site"])
def test_site_must_stay_inside_the_bundle(site: str) -> None:
    p = _only(_one_card(site=site))
    assert p.where == "settings › site"


@pytest.mark.parametrize(
    ("fields", "got"),
    [({}, ""), ({"to": "top", "y": 3}, " (got to, y)"), ({"target": "#a", "by": 10}, " (got target, by)")],
)
def test_scroll_needs_exactly_one(fields: dict[str, Any], got: str) -> None:
    p = _only(_one_card({"type": "scroll", **fields}))
    assert p.message == "a scroll needs exactly one of target, to, y or by" + got


@pytest.mark.parametrize(
    ("fields", "got"),
    [({}, ""), ({"text": "a", "url": "b"}, " (got text, url)"), ({"target": "#a", "text": "x"}, " (got target, text)")],
)
def test_wait_for_needs_exactly_one(fields: dict[str, Any], got: str) -> None:
    p = _only(_one_card({"type": "wait_for", **fields}))
    assert p.message == "a wait_for needs exactly one of target, text or url" + got


@pytest.mark.parametrize("path", ["../secret.txt", "/etc/passwd", "data/../../x", "..\\secret.txt", ""])
def test_upload_paths_escaping_the_bundle(path: str) -> None:
    p = _only(_one_card({"type": "upload", "target": "#f", "files": ["ok.pdf", path]}))
    assert p.field == "files" and p.message == f"'{path}' must be a path inside the job bundle"


# --------------------------------------------------------------------------- every problem at once


def test_all_semantic_problems_reported_at_once_with_locations() -> None:
    data = {
        "settings": {"site": "site"},
        "cards": [
            {"id": "one", "narration": "Go <b>now</b>.",
             "actions": [{"type": "goto", "url": "javascript:alert(1)"},
                         {"type": "click", "target": {"role": "nope"}},
                         {"type": "scroll"}]},
            {"id": "two", "narration": "Fine.",
             "actions": [{"type": "hover", "target": "#ok"},
                         {"type": "wait_for", "text": "x", "url": "y"},
                         {"type": "fill", "target": {"css": ""}, "value": "v", "at": "m"}]},
            {"id": "one"},
        ],
    }
    with pytest.raises(ScriptError) as info:
        validate_script(data, source="demo.json")
    err = info.value
    located = [(p.card_index, p.action_index, p.field) for p in err.problems]
    assert located == [
        (0, None, "narration"),
        (0, 0, "url"),
        (0, 1, "target"),
        (0, 2, None),
        (1, 1, None),
        (1, 2, "at"),
        (1, 2, "target"),
        (2, None, "id"),
    ]
    text = str(err)
    assert text.startswith("demo.json: 8 problems in the script:")
    assert text.count("\n  - ") == 8
    assert "card 2 'two' › action 3 (fill) › target: 'css' is empty" in text
    assert err.exit_code == 2


def test_all_structural_problems_reported_at_once() -> None:
    data = {
        "settings": {"width": 641, "fps": 29},
        "cards": [
            {"id": "a", "actions": [{"type": "zap"}, {"url": "x"}, {"type": "click"}]},
            {"title": "x"},
            {"id": "-bad", "extra": True},
        ],
    }
    problems = _problems(data)
    located = sorted((p.card_index if p.card_index is not None else -1, p.action_index or 0, p.message[:20])
                     for p in problems)
    assert len(problems) == 8, [str(p) for p in problems]
    assert [(c, a) for c, a, _ in located] == [(-1, 0), (-1, 0), (0, 0), (0, 1), (0, 2), (1, 0), (2, 0), (2, 0)]


def test_invalid_json_reports_line_and_column() -> None:
    text = '{\n  "cards": [\n    {"id": "a",}\n  ]\n}\n'
    with pytest.raises(ScriptError) as info:
        parse_script_json(text, source="bad.json")
    (p,) = info.value.problems
    assert p.line == 3
    assert p.message.startswith("not valid JSON: ") and "(column 16)" in p.message
    assert str(info.value) == f"bad.json: 1 problem in the script:\n  - line 3: script: {p.message}"


def test_unreadable_script_file(tmp_path: Path) -> None:
    f = tmp_path / "latin1.json"
    f.write_bytes(b'{"title": "caf\xe9"}')
    with pytest.raises(ScriptError) as info:
        load_script(f)
    assert "cannot read the file" in info.value.problems[0].message
    assert info.value.source == str(f)
    with pytest.raises(ScriptError):
        load_script(tmp_path / "missing.json")


# --------------------------------------------------------------------------- locator descriptions


@pytest.mark.parametrize(
    ("loc", "text"),
    [
        (Locator(role="button", name="Save"), 'get_by_role("button", name="Save")'),
        (Locator(role="button", name="Save", exact=True), 'get_by_role("button", name="Save", exact=True)'),
        (Locator(role="heading"), 'get_by_role("heading")'),
        (Locator(css="#email"), 'locator("#email")'),
        (Locator(label="Email"), 'get_by_label("Email")'),
        (Locator(placeholder="Search…"), 'get_by_placeholder("Search…")'),
        (Locator(text="Hello", exact=True), 'get_by_text("Hello", exact=True)'),
        (Locator(test_id="nav"), 'get_by_test_id("nav")'),
        (Locator(alt="Logo"), 'get_by_alt_text("Logo")'),
        (Locator(title="Close"), 'get_by_title("Close")'),
        (Locator(css="li", nth=0), 'locator("li").first'),
        (Locator(css="li", nth=-1), 'locator("li").last'),
        (Locator(css="li", nth=2), 'locator("li").nth(2)'),
        (Locator(css="li", has_text="Q3"), 'locator("li").filter(has_text="Q3")'),
        (Locator(text='say "hi"'), 'get_by_text("say \\"hi\\"")'),
        (Locator(css="a", within=Locator(test_id="menu", within=Locator(css="main")), frame="#app"),
         'locator("main").get_by_test_id("menu").frame_locator("#app").locator("a")'),
    ],
)
def test_locator_describe(loc: Locator, text: str) -> None:
    assert loc.describe() == text


# --------------------------------------------------------------------------- narration


def test_narration_segments_split_at_marks() -> None:
    text = 'Open the app, <mark name="menu"/>then the menu, and <mark name=\'save\'>save.'
    assert narration_segments(text) == [
        (None, "Open the app, "),
        ("menu", "then the menu, and "),
        ("save", "save."),
    ]


def test_narration_segments_without_marks_and_with_leading_mark() -> None:
    assert narration_segments("Just talk.") == [(None, "Just talk.")]
    assert narration_segments('<mark name="a"/>Go.') == [(None, ""), ("a", "Go.")]
    assert narration_segments("") == [(None, "")]


def test_plain_narration_removes_marks_and_folds_whitespace() -> None:
    assert plain_narration('  Open <mark name="a"/>the\n\tmenu<mark name="b"/>now.  ') == "Open the menu now."
    assert plain_narration("") == ""


def test_card_marks_in_order() -> None:
    script = validate_script(_one_card(narration='<mark name="a"/>x <mark name = "b.c-1" /> y'))
    assert script.cards[0].marks() == ["a", "b.c-1"]


# --------------------------------------------------------------------------- JSON Schema


def test_json_schema_is_valid_draft_2020_12() -> None:
    schema = script_json_schema()
    jsonschema.Draft202012Validator.check_schema(schema)
    assert schema["$schema"] == "https://json-schema.org/draft/2020-12/schema"
    json.dumps(schema)  # serialisable as is


def test_json_schema_accepts_every_valid_script_form() -> None:
    validator = jsonschema.Draft202012Validator(script_json_schema())
    errors = [e.message for e in validator.iter_errors(copy.deepcopy(FULL_SCRIPT))]
    assert errors == []
    # the canonical dump (shorthands expanded, defaults filled) is valid too
    dumped = json.loads(validate_script(copy.deepcopy(FULL_SCRIPT)).to_json())
    assert list(validator.iter_errors(dumped)) == []


def test_json_schema_rejects_what_the_model_rejects() -> None:
    validator = jsonschema.Draft202012Validator(script_json_schema())
    assert not validator.is_valid(_one_card({"type": "execute_js"}))
    assert not validator.is_valid(_one_card({"type": "click"}))
    assert not validator.is_valid({"cards": []})
    assert not validator.is_valid({"cards": [{"id": "-x"}]})
    assert not validator.is_valid({"cards": [{"id": "a"}], "settings": {"fps": 29}})
    assert not validator.is_valid({"cards": [{"id": "a", "unknown": 1}]})


def test_bundled_example_matches_schema_and_model() -> None:
    data = json.loads(EXAMPLE_SCRIPT.read_text(encoding="utf-8"))
    validator = jsonschema.Draft202012Validator(script_json_schema())
    assert [e.message for e in validator.iter_errors(data)] == []
    script = validate_script(data, source=EXAMPLE_SCRIPT)
    assert parse_script_json(script.to_json()) == script


def test_script_model_is_frozen_against_unknown_fields_on_construction() -> None:
    with pytest.raises(ValueError):
        Script.model_validate({"cards": [{"id": "a"}], "nope": 1})
