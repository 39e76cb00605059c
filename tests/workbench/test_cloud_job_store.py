"""The app's cloud job list on disk: recorded at submit, updated from the cloud's status documents, jobs
from elsewhere merged in, and a damaged file set aside instead of breaking the app."""

from __future__ import annotations

import json
import time
from pathlib import Path

from app.cloud.layout import JobStatus
from app.workbench.cloud_jobs import FILE_NAME, CloudJob, CloudJobStore, status_fields


def _job(job_id: str = "20261205-120000-abc123", **kw: object) -> CloudJob:
    return CloudJob.model_validate({"job_id": job_id, "project_id": 3, "project_name": "Demo",
                                    "script": "Acme tour", "format": "854×480 24 fps",
                                    "account": "ada@example.com", **kw})


def test_a_recorded_job_survives_a_new_store_on_the_same_folder(tmp_path: Path) -> None:
    CloudJobStore(tmp_path).add(_job(submitted=1000.0))
    again = CloudJobStore(tmp_path)
    [job] = again.jobs()
    assert (job.job_id, job.project_id, job.script, job.format, job.status) == \
        ("20261205-120000-abc123", 3, "Acme tour", "854×480 24 fps", "Submitted")
    assert job.submitted == 1000.0
    doc = json.loads((tmp_path / FILE_NAME).read_text(encoding="utf-8"))
    assert doc["version"] == 1 and doc["jobs"][0]["job_id"] == job.job_id
    # written whole: no temporary file is left beside it
    assert [p.name for p in tmp_path.iterdir()] == [FILE_NAME]


def test_jobs_are_listed_newest_first_and_updated_in_place(tmp_path: Path) -> None:
    store = CloudJobStore(tmp_path)
    store.add(_job("20261205-100000-aaaaaa", submitted=100.0))
    store.add(_job("20261205-110000-bbbbbb", submitted=200.0))
    assert [j.job_id for j in store.jobs()] == ["20261205-110000-bbbbbb", "20261205-100000-aaaaaa"]
    rec = store.apply_status(JobStatus("20261205-100000-aaaaaa", "Rendering", stage="capture", progress=0.4))
    assert rec is not None and rec.describe() == "Rendering 40% (capture)"
    assert store.get("20261205-100000-aaaaaa") == rec
    assert store.update("no-such-job", status="Complete") is None


def test_a_failed_status_keeps_the_error_text(tmp_path: Path) -> None:
    store = CloudJobStore(tmp_path)
    store.add(_job())
    st = JobStatus(_job().job_id, "Failed", error="RenderError", cause="card 2 'Sign in': no button 'Go'")
    assert status_fields(st)["error"] == "card 2 'Sign in': no button 'Go'"
    rec = store.apply_status(st)
    assert rec is not None and rec.terminal
    assert rec.describe() == "Failed: card 2 'Sign in': no button 'Go'"


def test_the_server_list_adds_jobs_from_elsewhere_and_reports_state_changes(tmp_path: Path) -> None:
    store = CloudJobStore(tmp_path)
    store.add(_job("20261205-100000-aaaaaa", status="Rendering", submitted=time.time()))
    changed = store.merge_server([JobStatus("20261205-100000-aaaaaa", "Complete"),
                                  JobStatus("20261204-090000-cccccc", "Queued", title="From the CLI")],
                                 account="ada@example.com")
    assert [(j.job_id, j.status) for j in changed] == [("20261205-100000-aaaaaa", "Complete")]
    cli = store.get("20261204-090000-cccccc")
    assert cli is not None and cli.origin == "server" and cli.project_id is None
    assert cli.label == "From the CLI"
    # submitted time from the job id (UTC): 2026-12-04 09:00:00
    assert cli.submitted == 1796374800.0
    # the app's own record keeps what it knew (project, script) while taking the cloud's state
    own = store.get("20261205-100000-aaaaaa")
    assert own is not None and own.project_name == "Demo" and own.status == "Complete"
    # seeing the same list again changes nothing
    assert store.merge_server([JobStatus("20261205-100000-aaaaaa", "Complete")]) == []


def test_a_damaged_file_is_set_aside_and_the_list_starts_over(tmp_path: Path) -> None:
    (tmp_path / FILE_NAME).write_text("{not json", encoding="utf-8")
    store = CloudJobStore(tmp_path)
    assert store.jobs() == []
    assert store.problem is not None and "unreadable" in store.problem
    kept = [p for p in tmp_path.iterdir() if p.name.startswith(f"{FILE_NAME}.corrupt-")]
    assert len(kept) == 1 and kept[0].read_text(encoding="utf-8") == "{not json"
    store.add(_job())
    assert [j.job_id for j in CloudJobStore(tmp_path).jobs()] == [_job().job_id]


def test_one_bad_record_is_skipped_not_the_whole_list(tmp_path: Path) -> None:
    good = _job().model_dump(mode="json")
    (tmp_path / FILE_NAME).write_text(json.dumps({"version": 1, "jobs": [good, {"status": "Complete"}]}),
                                      encoding="utf-8")
    store = CloudJobStore(tmp_path)
    assert [j.job_id for j in store.jobs()] == [good["job_id"]]
    assert store.problem is not None and "job 2" in store.problem
