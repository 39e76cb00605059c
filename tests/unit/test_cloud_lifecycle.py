"""Issue 15 part 4: every job's inputs and outputs expire after the stack's RetentionDays, by a
prefix rule a tenant cannot opt out of, and the jobs list shows the day."""

from __future__ import annotations

import datetime

import pytest

from app.cli_cloud import _print_status
from app.cloud.emulator.statemachine import load_template, production_definition
from app.cloud.layout import DEFAULT_RETENTION_DAYS, JobStatus
from app.workbench.cloud_jobs import status_fields


def test_retention_is_a_deploy_parameter_applied_by_prefix() -> None:
    t = load_template()
    param = t["Parameters"]["RetentionDays"]
    assert param["Default"] == DEFAULT_RETENTION_DAYS == 7 and param["MinValue"] >= 1
    rules = {r["Id"]: r for r in t["Resources"]["Bucket"]["Properties"]["LifecycleConfiguration"]["Rules"]}
    rule = rules["job-retention"]
    # by prefix: untagged outputs and status.json expire too, and no tag change can keep them
    assert rule["Prefix"] == "tenants/" and "TagFilters" not in rule
    assert rule["ExpirationInDays"] == {"Ref": "RetentionDays"}
    assert t["Outputs"]["RetentionDays"]["Value"] == {"Ref": "RetentionDays"}


def test_every_status_document_the_state_machine_writes_carries_the_retention() -> None:
    states = production_definition()["States"]
    docs = [s for s in states.values() if s.get("ResultPath") == "$.doc"]
    # Rendering: the fan-out's document listing the variants it starts (FanOutDocument)
    assert {d["Parameters"]["status"] for d in docs} == {"Queued", "Rendering", "Complete", "Cancelled", "Failed"}
    for d in docs:
        assert d["Parameters"]["retentionDays"] == "${RetentionDays}"


@pytest.mark.parametrize(("submitted", "days", "expected"), [
    ("2026-12-05T10:00:00Z", "7", datetime.date(2026, 12, 13)),
    ("2026-12-05T23:59:59.5+00:00", "30", datetime.date(2027, 1, 5)),
    ("2026-12-05T10:00:00Z", None, datetime.date(2026, 12, 13)),   # a recorder document: the default
    ("2026-12-05T10:00:00Z", "junk", datetime.date(2026, 12, 13)),
])
def test_expiry_is_the_first_midnight_after_the_retention(submitted: str, days: str | None,
                                                         expected: datetime.date) -> None:
    doc = {"status": "Complete", "submitted": submitted}
    if days is not None:
        doc["retentionDays"] = days
    st = JobStatus.from_json("j1", doc)
    assert st.expires == expected
    assert status_fields(st)["expires"] == expected.isoformat()


def test_a_status_without_times_has_no_expiry_and_the_cli_shows_it(capsys: pytest.CaptureFixture[str]) -> None:
    assert JobStatus.from_json("j0", {"status": "Queued"}).expires is None
    assert status_fields(JobStatus.from_json("j0", {"status": "Queued"}))["expires"] == ""
    _print_status(JobStatus.from_json("j1", {"status": "Complete", "submitted": "2026-12-05T10:00:00Z",
                                             "retentionDays": "7", "title": "Demo"}))
    assert capsys.readouterr().out.strip() == "j1  Complete  Demo  (expires 2026-12-13)"
