"""Issue 15 part 3 in the template: no job can stay Submitted or Queued because a step failed.

The emulator test ``test_a_publish_state_that_errors_still_ends_the_job_row_failed_with_a_reason``
injects the failure end to end; these check the wiring on every state, so a new state cannot skip it.
"""

from __future__ import annotations

import json
from typing import Any

from app.cloud.emulator.statemachine import (
    SWEEPER_RESOURCE,
    adapt_sweeper_for_moto,
    load_template,
    production_definition,
)

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
    """Following Next (and every branch of a Choice), each Catch ends in a final row or a Fail/Succeed state.
    A branch may loop back to a state on its path (a counted retry) only if another branch leaves."""
    states = _states()

    def outcome(name: str, seen: frozenset[str]) -> str:  # "final", "loop" or "nowhere"
        state = states[name]
        if name in FINAL_ROWS or state["Type"] in ("Fail", "Succeed"):
            return "final"
        if name in seen:
            return "loop"
        if state["Type"] == "Choice":
            branches = {outcome(n, seen | {name}) for n in [c["Next"] for c in state["Choices"]] + [state["Default"]]}
            return "final" if branches <= {"final", "loop"} and "final" in branches else "nowhere"
        return outcome(state["Next"], seen | {name}) if "Next" in state else "nowhere"

    for name, state in states.items():
        for c in state.get("Catch", []):
            assert outcome(c["Next"], frozenset({name})) == "final", f"{name}'s Catch -> {c['Next']} ends nowhere"


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


# ---------------------------------------------------------------------- a stopped step stops its task


def test_every_render_attempt_is_tagged_with_its_job_and_the_catch_path_finds_it_by_that_tag() -> None:
    states = _states()
    tag = "States.Hash($.job.key, 'MD5')"  # per tenant and job (keys differ), and 32 of StartedBy's 36 chars
    assert states["Render"]["Parameters"]["StartedBy.$"] == tag
    find = states["FindRecorder"]
    assert find["Resource"] == "arn:aws:states:::aws-sdk:ecs:listTasks"
    assert find["Parameters"] == {"Cluster": "${Cluster}", "StartedBy.$": tag, "DesiredStatus": "RUNNING"}


def test_every_way_the_render_step_fails_stops_its_task_before_the_failed_path() -> None:
    states = _states()
    catches = {tuple(c["ErrorEquals"]): c["Next"] for c in states["Render"]["Catch"]}
    assert catches[("Recorder.Cancelled",)] == "CancelledDocument"  # the recorder reported it and exits itself
    assert catches[("States.ALL",)] == "FindRecorder"
    assert catches[("States.Timeout",)] == "ExplainTimeout"
    assert catches[("States.HeartbeatTimeout",)] == "LostHeartbeat"
    assert states["LostHeartbeat"]["Default"] == "ExplainLostHeartbeat"  # out of retries
    for error, explain in (("States.Timeout", "ExplainTimeout"), ("States.HeartbeatTimeout", "ExplainLostHeartbeat")):
        assert states[explain]["Parameters"]["Error"] == error
        assert "task was stopped" in states[explain]["Parameters"]["Cause"]
        assert states[explain]["ResultPath"] == "$.error" and states[explain]["Next"] == "FindRecorder"
    assert states["FindRecorder"]["Next"] == "StopRecorder" and states["StopRecorder"]["Next"] == "FailedDocument"
    # a failure to find or stop the task still reaches the Failed path, and keeps the render's reason
    for name in ("FindRecorder", "StopRecorder"):
        assert states[name]["Catch"] == [{"ErrorEquals": ["States.ALL"], "Comment": states[name]["Catch"][0]["Comment"],
                                          "ResultPath": "$.stopError", "Next": "FailedDocument"}]
    stop = states["StopRecorder"]["ItemProcessor"]["States"]["StopTask"]
    assert stop["Resource"] == "arn:aws:states:::aws-sdk:ecs:stopTask"
    assert states["StopRecorder"]["ItemsPath"] == "$.recorder.taskArns"


def test_a_lost_task_is_stopped_before_its_render_is_retried_three_times() -> None:
    """A Retry has no step between attempts, so a lost heartbeat is retried by a counted loop instead."""
    states = _states()
    assert not any("States.HeartbeatTimeout" in r["ErrorEquals"] for r in states["Render"]["Retry"])
    choices = states["LostHeartbeat"]["Choices"]
    assert choices[0] == {"Variable": "$.lostHeartbeats", "IsPresent": False, "Next": "FirstLostHeartbeat"}
    assert choices[1] == {"Variable": "$.lostHeartbeats.n", "NumericLessThan": 3, "Next": "AnotherLostHeartbeat"}
    for name in ("FirstLostHeartbeat", "AnotherLostHeartbeat"):
        assert states[name]["ResultPath"] == "$.lostHeartbeats" and states[name]["Next"] == "FindLostRecorder"
    assert states["FindLostRecorder"]["Parameters"] == states["FindRecorder"]["Parameters"]
    assert states["FindLostRecorder"]["Next"] == "StopLostRecorder"
    assert states["StopLostRecorder"]["Next"] == "WaitToRetryRender"
    # a lost task that cannot be found or stopped does not keep the job from its next attempt
    for name in ("FindLostRecorder", "StopLostRecorder"):
        assert [c["Next"] for c in states[name]["Catch"]] == ["WaitToRetryRender"]
    # each attempt gets fresh per-job credentials (1 hour) rather than the first attempt's
    assert states["WaitToRetryRender"]["Next"] == "JobPolicy"
    assert states["JobPolicy"]["Next"] == "IssueJobCredentials" and states["IssueJobCredentials"]["Next"] == "Render"


def test_the_render_machine_has_a_time_budget_longer_than_a_render_with_its_retries() -> None:
    definition = production_definition()
    render = definition["States"]["Render"]
    attempts = 1 + max(r["MaxAttempts"] for r in render["Retry"])
    assert definition["TimeoutSeconds"] > attempts * render["TimeoutSeconds"]


def test_the_state_machine_may_list_and_stop_only_its_clusters_tasks() -> None:
    resources = load_template()["Resources"]
    statements = {s["Sid"]: s for s in
                  resources["StateMachineRole"]["Properties"]["Policies"][0]["PolicyDocument"]["Statement"]}
    assert statements["FindRecorder"]["Action"] == "ecs:ListTasks"
    assert statements["FindRecorder"]["Condition"] == {"ArnEquals": {"ecs:cluster": {"Fn::GetAtt": ["Cluster", "Arn"]}}}
    assert "ecs:StopTask" in statements["StopRecorder"]["Action"]
    # the recorder reads status.json before writing it (If-Match) with its per-job credentials: the job
    # role's reads and the session policy the state machine narrows them with both cover the job's folder
    job_role = {s["Sid"]: s for s in
                resources["RecorderJobRole"]["Properties"]["Policies"][0]["PolicyDocument"]["Statement"]}
    assert job_role["ReadJob"]["Action"] == "s3:GetObject"
    assert {"Fn::Sub": "${Bucket.Arn}/tenants/*/jobs/*/*"} in job_role["ReadJob"]["Resource"]
    session = json.dumps(production_definition()["States"]["JobPolicy"])
    assert "/tenants/{}/jobs/{}/*'" in session and "s3:GetObject" in session


# ---------------------------------------------------------------------- the sweeper


def _sweeper() -> dict[str, Any]:
    return production_definition(resource=SWEEPER_RESOURCE)


def _inner(definition: dict[str, Any]) -> dict[str, Any]:
    inner: dict[str, Any] = definition["States"]["SweepPage"]["ItemProcessor"]["States"]
    return inner


def test_the_sweeper_runs_every_15_minutes_with_a_dead_letter_queue_and_alarms() -> None:
    resources = load_template()["Resources"]
    schedule = resources["SweepSchedule"]["Properties"]
    assert schedule["ScheduleExpression"] == "rate(15 minutes)"
    assert schedule["Target"]["Arn"] == {"Ref": SWEEPER_RESOURCE}
    assert schedule["Target"]["DeadLetterConfig"]["Arn"] == {"Fn::GetAtt": ["SweepDeadLetters", "Arn"]}
    role = resources["SweepScheduleRole"]["Properties"]["Policies"][0]["PolicyDocument"]["Statement"]
    dead_letters = {"Fn::GetAtt": ["SweepDeadLetters", "Arn"]}
    assert {"Effect": "Allow", "Action": "sqs:SendMessage", "Resource": dead_letters} in role
    stuck = resources["StuckJobsAlarm"]["Properties"]
    assert stuck["Dimensions"][0]["Value"] == {"Ref": SWEEPER_RESOURCE} and stuck["MetricName"] == "ExecutionsFailed"
    assert resources["SweeperNotStartedAlarm"]["Properties"]["Dimensions"][0]["Value"] == {
        "Fn::GetAtt": ["SweepDeadLetters", "QueueName"]}


def test_the_sweeper_fails_only_rows_whose_execution_is_not_running_and_only_if_unchanged() -> None:
    inner = _inner(_sweeper())
    running = inner["StillRunning"]["Choices"]
    assert running == [{"Variable": "$.run.status", "StringEquals": "RUNNING", "Next": "Left"}]
    fail = inner["FailRow"]["Parameters"]
    assert fail["ConditionExpression"] == "#s = :seen"
    assert fail["ExpressionAttributeValues"][":seen"] == {"S.$": "$.seen"}
    assert "failure = :e" in fail["UpdateExpression"]
    conditional = inner["FailRow"]["Catch"][0]
    assert conditional["ErrorEquals"] == ["DynamoDB.ConditionalCheckFailedException"] and conditional["Next"] == "Left"
    assert inner["Explain"]["Parameters"]["Error"] == "Reelwright.Stuck"
    # the task tag it stops by is the render step's: the hash of the job key rebuilt from the row - for a
    # fan-out variant's row (JOB#<job>#<variant>) the job key and the variant, as RenderVariant tags its task
    assert inner["FindStuckRecorder"]["Parameters"]["StartedBy.$"] == "States.Hash($.tasks.key, 'MD5')"
    assert inner["ReadRow"]["Next"] == "RowKind"
    assert inner["RowKind"]["Choices"] == [{"Variable": "$.sk", "StringMatches": "JOB#*#*", "Next": "VariantRowTasks"}]
    assert inner["RowKind"]["Default"] == "JobRowTasks"
    assert inner["JobRowTasks"]["Parameters"]["key.$"] == (
        "States.Format('tenants/{}/jobs/{}/job.json', $.tenant, $.jobId)")
    assert inner["VariantRowTasks"]["Parameters"]["key.$"] == (
        "States.Format('tenants/{}/jobs/{}/job.json#{}', $.tenant, $.jobId, "
        "States.ArrayGetItem(States.StringSplit($.sk, '#'), 2))")
    variant_task = production_definition()["States"]["RenderVariants"]["ItemProcessor"]["States"]["RenderVariant"]
    assert variant_task["Parameters"]["StartedBy.$"] == (
        "States.Hash(States.Format('{}#{}', $.job.key, $.variant.name), 'MD5')")
    scan = _sweeper()["States"]["FindOpenJobs"]["Parameters"]
    assert "#s IN (:submitted, :queued, :rendering)" in scan["FilterExpression"]


def test_every_sweeper_task_is_caught_so_one_bad_row_does_not_stop_the_sweep() -> None:
    inner = _inner(_sweeper())
    for name, state in inner.items():
        if state["Type"] == "Task":
            assert any(c["ErrorEquals"] == ["States.ALL"] for c in state.get("Catch", [])), name
    assert _sweeper()["States"]["AnySwept"]["Choices"][0]["Next"] == "JobsWereStuck"
    assert _sweeper()["States"]["JobsWereStuck"]["Error"] == "Reelwright.Stuck"


def test_the_sweepers_moto_adaptation_camel_cases_only_the_ecs_and_sfn_calls() -> None:
    values = {"JobTable": "t", "Bucket": "b", "Cluster": "c", "RetentionDays": "7"}
    moto = adapt_sweeper_for_moto(_sweeper(), values)
    inner = _inner(moto)
    assert inner["IsItRunning"]["Parameters"] == {"executionArn.$": "$.execution"}
    assert inner["IsItRunning"]["ResultSelector"] == {"status.$": "$.status"}
    assert inner["PublishFailed"]["Parameters"]["Bucket"] == "b"  # S3 is PascalCase in boto3 too
    assert moto["States"]["FindOpenJobs"]["Parameters"]["TableName"] == "t"


def test_a_lost_heartbeat_is_caught_before_the_timeout_that_also_matches_it() -> None:
    """AWS: States.Timeout matches a step that ran too long *or* lost its heartbeat; catchers are tried in order."""
    order = [c["ErrorEquals"][0] for c in _states()["Render"]["Catch"]]
    assert order.index("States.HeartbeatTimeout") < order.index("States.Timeout") < order.index("States.ALL")


def test_a_fan_out_variant_that_loses_its_heartbeat_is_stopped_and_retried_as_a_single_render_is() -> None:
    """The single render's lost-heartbeat policy, per variant: caught before the catch-all, 3 retries each
    after finding and stopping the variant's own tasks (its StartedBy), fresh credentials each time (the
    slot kept: not back through CheckVariantCancel/TakeVariantSlot), then the ordinary failed path that
    stops its last task and names the variant in the reason."""
    states = _states()
    inner = states["RenderVariants"]["ItemProcessor"]["States"]
    order = [c["ErrorEquals"][0] for c in inner["RenderVariant"]["Catch"]]
    assert order.index("States.HeartbeatTimeout") < order.index("States.ALL")
    assert next(c["Next"] for c in inner["RenderVariant"]["Catch"]
                if c["ErrorEquals"] == ["States.HeartbeatTimeout"]) == "LostVariantHeartbeat"
    single, variant = states["LostHeartbeat"]["Choices"], inner["LostVariantHeartbeat"]["Choices"]
    assert [(c["Variable"], c.get("NumericLessThan")) for c in variant] == [
        (c["Variable"], c.get("NumericLessThan")) for c in single]  # the same count, the same limit (3)
    assert inner["LostVariantHeartbeat"]["Default"] == "ExplainVariantLostHeartbeat"
    for name in ("FirstLostVariantHeartbeat", "AnotherLostVariantHeartbeat"):
        assert inner[name]["Next"] == "FindLostVariantRecorder"
    assert inner["FindLostVariantRecorder"]["Parameters"] == inner["FindVariantRecorder"]["Parameters"]
    assert inner["FindLostVariantRecorder"]["Next"] == "StopLostVariantRecorder"
    assert inner["StopLostVariantRecorder"]["Next"] == "WaitToRetryVariant"
    for name in ("FindLostVariantRecorder", "StopLostVariantRecorder"):
        assert [c["Next"] for c in inner[name]["Catch"]] == ["WaitToRetryVariant"]
    assert inner["WaitToRetryVariant"]["Seconds"] == states["WaitToRetryRender"]["Seconds"]
    assert inner["WaitToRetryVariant"]["Next"] == "VariantPolicy"
    explain = inner["ExplainVariantLostHeartbeat"]
    assert explain["Parameters"]["Error"] == "States.HeartbeatTimeout"
    assert "$.variant.name" in explain["Parameters"]["Cause.$"]
    assert explain["Next"] == "FindVariantRecorder"
