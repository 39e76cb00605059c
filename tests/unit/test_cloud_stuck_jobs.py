"""Issue 15 part 3 in the template: no job can stay Submitted or Queued because a step failed.

The emulator test ``test_a_publish_state_that_errors_still_ends_the_job_row_failed_with_a_reason``
injects the failure end to end; these check the wiring on every state, so a new state cannot skip it.
"""

from __future__ import annotations

from typing import Any

from app.cloud.emulator.statemachine import load_template, production_definition

FINAL_ROWS = {"RecordComplete", "RecordCancelled", "RecordFailed"}


def _states() -> dict[str, Any]:
    states: dict[str, Any] = production_definition()["States"]
    return states


def test_every_task_state_catches_every_error() -> None:
    for name, state in _states().items():
        if state["Type"] != "Task":
            continue
        catches = state.get("Catch", [])
        assert any(c["ErrorEquals"] == ["States.ALL"] for c in catches), f"{name} has no States.ALL Catch"


def test_every_catch_leads_to_a_final_row_or_a_fail_state() -> None:
    states = _states()

    def reaches_final(name: str, seen: frozenset[str]) -> bool:
        state = states[name]
        if name in FINAL_ROWS or state["Type"] in ("Fail", "Succeed"):
            return True
        if name in seen:
            return False
        return "Next" in state and reaches_final(state["Next"], seen | {name})

    for name, state in states.items():
        for c in state.get("Catch", []):
            assert reaches_final(c["Next"], frozenset({name})), f"{name}'s Catch -> {c['Next']} ends nowhere"


def test_a_publish_failure_on_the_failure_path_keeps_the_original_reason() -> None:
    """The row's ``failure`` is ``$.error``; a status.json that could not be written must not replace it."""
    states = _states()
    for name in ("PublishFailed", "PublishCancelled"):
        catch = next(c for c in states[name]["Catch"] if c["ErrorEquals"] == ["States.ALL"])
        assert catch["ResultPath"] != "$.error"
    assert "failure = :e" in states["RecordFailed"]["Parameters"]["UpdateExpression"]


def test_final_rows_retry_then_fail_the_execution_loudly() -> None:
    states = _states()
    for name in FINAL_ROWS:
        assert states[name]["Retry"][0]["ErrorEquals"] == ["States.ALL"]
        assert states[name]["Catch"][0]["Next"] == "RowNotRecorded"
    assert states["RowNotRecorded"]["Type"] == "Fail"


def test_duplicate_submit_events_start_one_job() -> None:
    queued = _states()["RecordQueued"]
    assert queued["Parameters"]["ConditionExpression"] == "attribute_not_exists(sk)"
    assert queued["Catch"][0] == {"ErrorEquals": ["DynamoDB.ConditionalCheckFailedException"],
                                  "Comment": "The same job.json written again starts nothing new.",
                                  "ResultPath": None, "Next": "AlreadySubmitted"}


def test_the_submit_rule_has_a_dead_letter_queue_that_pages() -> None:
    resources = load_template()["Resources"]
    target = resources["SubmitRule"]["Properties"]["Targets"][0]
    assert target["DeadLetterConfig"]["Arn"] == {"Fn::GetAtt": ["SubmitDeadLetters", "Arn"]}
    statement = resources["SubmitDeadLettersPolicy"]["Properties"]["PolicyDocument"]["Statement"][0]
    assert statement["Principal"] == {"Service": "events.amazonaws.com"}
    assert statement["Condition"]["ArnEquals"]["aws:SourceArn"] == {"Fn::GetAtt": ["SubmitRule", "Arn"]}
    alarm = resources["UnstartedJobsAlarm"]["Properties"]
    assert alarm["AlarmActions"] == [{"Ref": "AlarmTopic"}] and alarm["Threshold"] == 1
