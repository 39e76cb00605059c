"""Size limits on the upload path and the quota wiring of the template (issue 15 part 2), checked
statically; the emulator tests (tests/integration/test_cloud_emulator_quotas.py) run them."""

from __future__ import annotations

import itertools
import json
import re
from typing import Any

import pytest
from botocore.exceptions import ClientError

from app.cloud.auth import sign_up_error
from app.cloud.client import check_upload_sizes
from app.cloud.emulator.statemachine import load_template, production_definition
from app.cloud.errors import CloudError
from app.cloud.layout import QUOTA_REACHED, JobStatus
from app.core import limits
from app.workbench.cloud_jobs import CloudJob, status_fields


def test_the_upload_path_refuses_every_oversized_part_by_name_before_uploading() -> None:
    check_upload_sizes(1000, {"site/index.html": 2000})  # within limits: nothing raised
    with pytest.raises(CloudError) as refused:
        check_upload_sizes(limits.MAX_SCRIPT_BYTES + 1, {"site/movie.mp4": limits.MAX_ASSET_BYTES + 1,
                                                         "site/a.png": 10})
    text = str(refused.value)
    assert "job.json is 16,777,217 bytes" in text
    assert "asset 'site/movie.mp4' is 536,870,913 bytes" in text and "site/a.png" not in text
    many = {f"site/{i}.bin": limits.MAX_ASSET_BYTES for i in range(5)}
    with pytest.raises(CloudError, match="the assets come to 2,684,354,560 bytes"):
        check_upload_sizes(100, many)


def test_quota_reached_is_shown_as_such_in_the_cli_and_the_app() -> None:
    doc = {"status": "Failed", "error": {"Error": QUOTA_REACHED, "Cause": "This account has used its 600 render "
                                                                          "minutes for this month (UTC)"}}
    st = JobStatus.from_json("j1", doc)
    assert st.describe() == "Quota reached: This account has used its 600 render minutes for this month (UTC)"
    job = CloudJob(job_id="j1", **status_fields(st))
    assert job.describe() == st.describe()
    waiting = JobStatus.from_json("j2", {"status": "Queued", "message": "Waiting for one of your 2 running "
                                                                         "renders to finish"})
    assert waiting.describe() == "Queued: Waiting for one of your 2 running renders to finish"
    assert CloudJob(job_id="j2", **status_fields(waiting)).describe() == waiting.describe()


def test_every_path_to_a_final_document_settles_the_slot_and_only_then_publishes() -> None:
    states = production_definition()["States"]
    for doc in ("CompleteDocument", "CancelledDocument", "FailedDocument"):
        assert states[doc]["Next"] == "Settle", doc
    assert {c["Next"] for c in states["Settle"]["Choices"]} | {states["Settle"]["Default"]} == {
        "ChargeRendered", "ChargeMinimum"}
    release = states["ReleaseSlot"]
    assert release["Next"] == "Publish" and release["Catch"][0]["Next"] == "Publish"
    items = [i["Update"] for i in release["Parameters"]["TransactItems"]]
    assert items[0]["ConditionExpression"] == "slotHeld = :yes"  # once per job
    assert items[1]["ConditionExpression"] == "running > :zero"  # never below 0
    for doc in ("FanOutCompleteDocument", "FanOutCancelledDocument", "FanOutFailedDocument"):
        assert states[doc]["Next"] == "Settle", doc
    # nothing before TakeSlot mints credentials or starts a task
    order = ["PublishQueued", "CheckMonthlyMinutes", "ReadVariants", "FanOutOrNot"]
    for a, b in itertools.pairwise(order):
        assert states[a]["Next"] == b, (a, states[a]["Next"])
    assert states["FanOutOrNot"]["Default"] == "CheckCancel"
    order = ["TakeSlot", "JobPolicy", "IssueJobCredentials", "Render"]
    for a, b in itertools.pairwise(order):
        assert states[a]["Next"] == b, (a, states[a]["Next"])
    assert states["WaitForSlot"]["Next"] == "CheckCancel"


def test_every_fan_out_variant_takes_a_tenant_slot_before_its_task_and_releases_it_once() -> None:
    """The tenant's cap holds across variants: each iteration takes a slot on the same running count as a
    single job (on its own row, JOB#<job>#<variant>), waits for one like a job does, and every path out of
    the iteration releases it conditionally (once) before the iteration's result."""
    states = production_definition()["States"]
    assert states["CheckVariants"]["Choices"][0]["Or"][1]["NumericGreaterThan"] == 12  # layout.MAX_VARIANTS
    inner = states["RenderVariants"]["ItemProcessor"]["States"]
    take = [i["Update"] for i in inner["TakeVariantSlot"]["Parameters"]["TransactItems"]]
    single = [i["Update"] for i in states["TakeSlot"]["Parameters"]["TransactItems"]]
    assert take[0] == single[0]  # the same running count, the same limit
    assert take[1]["Key"]["sk"] == {"S.$": "States.Format('JOB#{}#{}', $.job.jobId, $.variant.name)"}
    assert take[1]["ConditionExpression"] == "attribute_not_exists(slotHeld)"
    assert inner["TakeVariantSlot"]["Catch"][0]["Next"] == "VariantSlotBusy"
    assert inner["WaitForVariantSlot"]["Next"] == "CheckVariantCancel"
    release = [i["Update"] for i in inner["ReleaseVariantSlot"]["Parameters"]["TransactItems"]]
    assert release[0]["Key"]["sk"] == take[1]["Key"]["sk"] and release[0]["ConditionExpression"] == "slotHeld = :yes"
    assert release[1]["ConditionExpression"] == "running > :zero"
    for outcome in ("VariantComplete", "VariantCancelled", "VariantFailed"):
        assert inner[outcome]["Next"] == "VariantSettle", outcome
    assert {c["Next"] for c in inner["VariantSettle"]["Choices"]} | {inner["VariantSettle"]["Default"]} == {
        "VariantChargeRendered", "VariantChargeMinimum"}
    assert inner["ReleaseVariantSlot"]["Next"] == "VariantResult"
    assert inner["ReleaseVariantSlot"]["Catch"][0]["Next"] == "VariantResult"
    # every task state of an iteration has a catch-all, so every iteration ends with a result
    for name, st in inner.items():
        if st["Type"] in ("Task", "Map"):
            assert any("States.ALL" in c["ErrorEquals"] for c in st["Catch"]), name
    # the execution budget covers the slot wait (240 x 30 s) on top of the render's 10 h
    assert production_definition()["TimeoutSeconds"] >= 36000 + 240 * 30


def test_a_variant_waiting_for_a_slot_sees_the_cancel_before_it_takes_one() -> None:
    """Every try for a slot (the first and each after a wait) first looks for the owner's cancel marker;
    found, the variant ends Cancelled at once - no slot, no credentials, no task, nothing charged; not
    found (or the check failing) leads on to the slot.  The state machine's role may read the marker."""
    inner = production_definition()["States"]["RenderVariants"]["ItemProcessor"]
    assert inner["StartAt"] == "CheckVariantCancel"
    states = inner["States"]
    check = states["CheckVariantCancel"]
    assert check["Resource"] == "arn:aws:states:::aws-sdk:s3:headObject"
    assert check["Parameters"]["Key.$"] == "States.Format('tenants/{}/jobs/{}/cancel', $.job.tenant, $.job.jobId)"
    assert [c["Next"] for c in check["Catch"]] == ["TakeVariantSlot", "TakeVariantSlot"]
    assert check["Catch"][-1]["ErrorEquals"] == ["States.ALL"]
    assert check["Next"] == "ExplainVariantNotStarted"
    assert states["ExplainVariantNotStarted"]["Parameters"]["Error"] == "Reelwright.Cancelled"
    # straight to the Cancelled result: it holds no slot to release and ran nothing to charge
    assert states["ExplainVariantNotStarted"]["Next"] == "VariantCancelledResult"
    assert states["WaitForVariantSlot"]["Next"] == "CheckVariantCancel"
    from app.cloud.layout import CANCEL_MARKER

    role = load_template()["Resources"]["StateMachineRole"]["Properties"]["Policies"][0]["PolicyDocument"]
    statement = next(s for s in role["Statement"] if s.get("Sid") == "ReadCancelMarker")
    assert statement["Action"] == "s3:GetObject"  # what HeadObject needs
    assert statement["Resource"] == {"Fn::Sub": "${Bucket.Arn}/tenants/*/jobs/*/" + CANCEL_MARKER}


def test_a_single_job_waiting_for_a_slot_sees_the_cancel_before_it_takes_one() -> None:
    """As a fan-out variant does: every try for a slot (the first, whether job.json names variants or is
    gone, and each after a wait) first looks for the owner's cancel marker, with the variant's very
    check; found, the job ends Cancelled straight through PublishCancelled - past Settle, so no slot is
    released and nothing charged (it holds none and ran nothing); not found, or the check failing,
    leads on to TakeSlot.  Nothing else leads to TakeSlot, and a lost heartbeat's retry (which keeps
    its slot) does not come back to the check."""
    states = production_definition()["States"]
    inner = states["RenderVariants"]["ItemProcessor"]["States"]
    check = states["CheckCancel"]
    assert {k: v for k, v in check.items() if k not in ("Comment", "Catch", "Next")} == {
        k: v for k, v in inner["CheckVariantCancel"].items() if k not in ("Comment", "Catch", "Next")}
    variant_check = inner["CheckVariantCancel"]
    assert [c["ErrorEquals"] for c in check["Catch"]] == [c["ErrorEquals"] for c in variant_check["Catch"]]
    assert [c["Next"] for c in check["Catch"]] == ["TakeSlot", "TakeSlot"]
    assert check["Next"] == "ExplainNotStarted"
    explain = states["ExplainNotStarted"]
    assert explain["Parameters"]["Error"] == "Reelwright.Cancelled"
    assert "before it started" in explain["Parameters"]["Cause"]
    assert explain["Next"] == "NotStartedDocument"
    doc = states["NotStartedDocument"]
    assert doc["Parameters"]["status"] == "Cancelled" and doc["Next"] == "PublishCancelled"
    assert doc["Parameters"] == states["CancelledDocument"]["Parameters"]

    def leads_to(target: str) -> set[str]:
        found: set[str] = set()
        for name, st in states.items():
            nexts = [st.get("Next"), st.get("Default"), *(c.get("Next") for c in st.get("Choices", [])),
                     *(c.get("Next") for c in st.get("Catch", []))]
            if target in nexts:
                found.add(name)
        return found

    assert leads_to("TakeSlot") == {"CheckCancel"}
    assert leads_to("CheckCancel") == {"ReadVariants", "FanOutOrNot", "WaitForSlot"}
    assert states["WaitToRetryRender"]["Next"] == "JobPolicy"


def test_the_dashboard_is_valid_json_and_alarms_reach_the_topic_through_a_key_they_may_use() -> None:
    res = load_template()["Resources"]
    body, _values = res["Dashboard"]["Properties"]["DashboardBody"]["Fn::Sub"]
    widgets = json.loads(re.sub(r"\$\{[A-Za-z.:]+\}", "x", body))["widgets"]
    titles = {w["properties"]["title"] for w in widgets}
    assert {"Render executions", "Dead-letter queues (messages)", "Running recorder tasks (Container Insights)",
            "Alarms"} <= titles
    assert res["AlarmTopic"]["Properties"]["KmsMasterKeyId"] == {"Ref": "AlarmKey"}
    key_policy = res["AlarmKey"]["Properties"]["KeyPolicy"]["Statement"]
    services = next(s for s in key_policy if s["Sid"] == "AlarmsAndBudgetsPublish")["Principal"]["Service"]
    assert set(services) == {"cloudwatch.amazonaws.com", "budgets.amazonaws.com"}
    budget = res["MonthlyBudget"]["Properties"]
    assert budget["Budget"]["BudgetLimit"]["Amount"] == {"Ref": "MonthlyBudgetUsd"}
    assert all(n["Subscribers"] == [{"SubscriptionType": "SNS", "Address": {"Ref": "AlarmTopic"}}]
               for n in budget["NotificationsWithSubscribers"])
    pool = res["UserPool"]["Properties"]["AdminCreateUserConfig"]["AllowAdminCreateUserOnly"]
    assert pool == {"Fn::If": ["InviteOnly", True, False]}


def _allow_list_handler() -> Any:
    """The PreSignUp function exactly as the template deploys it (its inline ZipFile source)."""
    source = load_template()["Resources"]["SignUpAllowList"]["Properties"]["Code"]["ZipFile"]
    namespace: dict[str, Any] = {}
    exec(compile(source, "template.yaml:SignUpAllowList", "exec"), namespace)  # the template's own source, not input
    return namespace["handler"]


def test_the_allow_list_trigger_admits_listed_domains_and_invitations_only(monkeypatch: pytest.MonkeyPatch) -> None:
    handler = _allow_list_handler()
    monkeypatch.setenv("ALLOWED_DOMAINS", "example.com,Example.org")

    def event(email: str, source: str = "PreSignUp_SignUp") -> dict[str, Any]:
        return {"triggerSource": source, "request": {"userAttributes": {"email": email}}, "response": {}}

    assert handler(event("Ada@Example.COM"), None)["request"]["userAttributes"]["email"] == "Ada@Example.COM"
    assert handler(event("bob@example.org"), None)
    for refused in ("eve@evil.com", "eve@sub.example.com", "eve@example.com.evil.com", "no-at-sign", ""):
        with pytest.raises(Exception, match=r"example\.com, example\.org only"):
            handler(event(refused), None)
    assert handler(event("guest@anywhere.net", "PreSignUp_AdminCreateUser"), None)  # the operator's invite


def test_a_refused_sign_up_is_explained_not_called_a_wrong_password() -> None:
    invite = sign_up_error(ClientError({"Error": {"Code": "NotAuthorizedException",
                                                  "Message": "SignUp is not permitted for this user pool"}}, "SignUp"))
    assert invite.code == "SignUpNotPermitted" and "accepts invited accounts only" in str(invite)
    listed = sign_up_error(ClientError({"Error": {"Code": "UserLambdaValidationException", "Message":
                                                  "PreSignUp failed with error sign-up is open to invited addresses "
                                                  "and to e-mail addresses at example.com only."}}, "SignUp"))
    assert listed.code == "SignUpNotAllowed"
    assert str(listed) == ("sign-up refused: sign-up is open to invited addresses and to e-mail addresses at "
                           "example.com only")
    taken = sign_up_error(ClientError({"Error": {"Code": "UsernameExistsException", "Message": "x"}}, "SignUp"))
    assert "already exists" in str(taken)
