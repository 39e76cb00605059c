"""One round of validation reports every problem, structural and semantic, before anything runs."""

from __future__ import annotations

import pytest

from app.core.script import ScriptError, validate_script


def test_semantic_problems_are_reported_alongside_structural_ones() -> None:
    data = {
        "settings": {"fps": 29},
        "cards": [
            {"id": "a", "actions": [{"type": "goto", "url": "javascript:alert(1)"},
                                    {"type": "press", "key": "Ctrl+S"}]},
            {"id": "a"},
            {"id": "bad id"},
        ],
    }
    with pytest.raises(ScriptError) as err:
        validate_script(data)
    found = {(p.card_index, p.action_index, p.field) for p in err.value.problems}
    assert found == {
        (None, None, "settings.fps"),  # structural
        (2, None, "id"),  # structural: the id's pattern
        (0, 0, "url"),  # semantic, from a card that parsed
        (0, 1, "key"),  # semantic: an unknown modifier, caught before any browser starts
        (1, None, "id"),  # semantic: duplicate id
    }
    text = str(err.value)
    assert "unknown modifier 'Ctrl'" in text and "URL scheme 'javascript:'" in text


def test_settings_checks_are_skipped_when_settings_did_not_parse() -> None:
    # a relative goto with broken settings must not also claim "no site or base_url"
    data = {"settings": {"site": "site", "width": 333},
            "cards": [{"id": "a", "actions": [{"type": "goto", "url": "/x"}]}]}
    with pytest.raises(ScriptError) as err:
        validate_script(data)
    assert [p.field for p in err.value.problems] == ["settings.width"]


@pytest.mark.parametrize("key", ["Enter", "Control+A", "Shift+Tab", "ControlOrMeta+k", "F5", "+"])
def test_valid_keys_pass(key: str) -> None:
    validate_script({"cards": [{"id": "a", "actions": [{"type": "press", "key": key}]}]})
