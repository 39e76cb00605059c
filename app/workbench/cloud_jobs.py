"""The app's list of cloud jobs, kept on disk so a job outlives the window that submitted it.

A job is recorded the moment its ``job.json`` reaches the cloud (before the render starts), with what
the user needs to recognise it later (project, script, format, when) and the last status seen.  The
cloud stays the truth about a job's state; this file is the memory of *which* jobs are ours and where
their outputs belong.  Jobs the server lists that were submitted elsewhere (the CLI, another machine)
are merged in as they are seen.

One JSON file in the data folder (``cloud-jobs.json``), written whole or not at all; every change reads
the file first, so two windows on the same data folder never undo each other's records.  No Qt here.
"""

from __future__ import annotations

import json
import logging
import threading
import time
from collections.abc import Iterable
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from app.core.infra.fs import atomic_write

if TYPE_CHECKING:
    from app.cloud.layout import JobStatus

log = logging.getLogger(__name__)

FILE_NAME = "cloud-jobs.json"
FORMAT_VERSION = 1
#: the states a job moves through, as the cloud's status document names them
JobState = Literal["Submitted", "Queued", "Rendering", "Complete", "Failed", "Cancelled"]
STATES: tuple[str, ...] = ("Submitted", "Queued", "Rendering", "Complete", "Failed", "Cancelled")
TERMINAL: frozenset[str] = frozenset({"Complete", "Failed", "Cancelled"})
#: how a job refused for its tenant's monthly render minutes is described (JobStatus.describe)
QUOTA_PREFIX = "Quota reached: "
#: a fan-out job's share of every variant's video (one line each), beside a variant's name
ALL_VARIANTS = "*"


class CloudJob(BaseModel):
    """One cloud job as the app remembers it."""

    model_config = ConfigDict(extra="ignore")
    job_id: str
    #: the project the outputs go into (None: submitted elsewhere; a fetch goes into the open project)
    project_id: int | None = None
    project_name: str = ""
    #: the script's title as submitted
    script: str = ""
    #: "1280×720 30 fps" — what the render was asked for
    format: str = ""
    submitted: float = Field(default_factory=time.time)
    #: who submitted it (the signed-in email); jobs of another account are not polled
    account: str = ""
    #: "app" (submitted from this app) or "server" (first seen in the cloud's job list)
    origin: Literal["app", "server"] = "app"
    status: JobState = "Submitted"
    progress: float | None = None  # 0..1 while rendering
    stage: str = ""
    message: str = ""
    error: str | None = None
    #: the downloaded video, once fetched
    output: str | None = None
    fetched: float | None = None
    #: the cloud's title for the job, when the status document carries one
    title: str = ""
    #: the day the cloud deletes the job's inputs and outputs (ISO date; "" until a status says)
    expires: str = ""
    #: a fan-out job's variants (name -> state), in the order submitted; {} for a single render
    variants: dict[str, str] = Field(default_factory=dict)

    @property
    def terminal(self) -> bool:
        return self.status in TERMINAL

    @property
    def label(self) -> str:
        """What the list shows as the job's name."""
        return self.script or self.title or self.job_id

    def describe(self) -> str:
        """'Rendering 42% (capture)', 'Failed: the site did not answer', 'Complete'."""
        if self.status == "Rendering" and self.progress is not None:
            return f"Rendering {self.progress * 100:.0f}%" + (f" ({self.stage})" if self.stage else "")
        if self.status == "Failed" and self.error and self.error.startswith(QUOTA_PREFIX):
            return self.error
        if self.status == "Failed":
            return f"Failed: {self.error or 'unknown error'}"
        if self.status == "Queued" and self.message:
            return f"Queued: {self.message}"
        return self.status


def status_fields(st: JobStatus) -> dict[str, Any]:
    """The fields of a :class:`CloudJob` a cloud status document sets."""
    error = None
    if st.quota_reached:
        error = st.describe()  # "Quota reached: ..." - shown as is, not as a failure of the render
    elif st.state == "Failed":
        error = st.cause or st.error or st.message or "unknown error"
    fields: dict[str, Any] = {
        "status": st.state, "progress": st.progress, "stage": st.stage or "", "message": st.message,
        "error": error, "title": st.title, "expires": st.expires.isoformat() if st.expires is not None else ""}
    if st.variants:  # a status written before the fan-out began names none: keep what the submit recorded
        fields["variants"] = {v.variant.name: str(v.state) for v in st.variants}
    return fields


class CloudJobStore:
    """``cloud-jobs.json`` in the data folder: add, update, list.  Thread-safe within a process."""

    def __init__(self, root: Path) -> None:
        self.path = Path(root) / FILE_NAME
        self._lock = threading.Lock()
        #: set when the file could not be read (it is kept aside, and the list starts empty)
        self.problem: str | None = None

    # -- reading and writing

    def _read(self) -> list[CloudJob]:
        try:
            raw = self.path.read_text(encoding="utf-8")
        except FileNotFoundError:
            return []
        except OSError as exc:
            self.problem = f"{self.path}: cannot read the cloud job list ({exc.strerror or exc})"
            log.warning("%s", self.problem)
            return []
        try:
            doc = json.loads(raw)
            items = doc.get("jobs", []) if isinstance(doc, dict) else None
            if not isinstance(items, list):
                raise ValueError("no 'jobs' list")
        except ValueError as exc:
            self._set_aside(f"not JSON or not a job list ({exc})")
            return []
        jobs: list[CloudJob] = []
        for i, item in enumerate(items):
            try:
                jobs.append(CloudJob.model_validate(item))
            except ValidationError as exc:
                first = str(exc).splitlines()[0]
                self.problem = f"{self.path}: job {i + 1} was skipped ({first})"
                log.warning("%s", self.problem)
        return jobs

    def _set_aside(self, why: str) -> None:
        kept = self.path.with_name(f"{self.path.name}.corrupt-{time.strftime('%Y%m%d-%H%M%S')}")
        try:
            self.path.replace(kept)
            self.problem = f"{self.path} was unreadable: {why}; it was kept as {kept.name}"
        except OSError:
            self.problem = f"{self.path} is unreadable: {why}"
        log.warning("%s", self.problem)

    def _write(self, jobs: list[CloudJob]) -> None:
        doc = {"version": FORMAT_VERSION, "jobs": [j.model_dump(mode="json") for j in jobs]}
        atomic_write(self.path, json.dumps(doc, indent=1, ensure_ascii=False), durable=True)

    # -- the API

    def jobs(self) -> list[CloudJob]:
        """Every job, newest first."""
        with self._lock:
            return sorted(self._read(), key=lambda j: (j.submitted, j.job_id), reverse=True)

    def get(self, job_id: str) -> CloudJob | None:
        return next((j for j in self.jobs() if j.job_id == job_id), None)

    def add(self, job: CloudJob) -> CloudJob:
        """Record a job (replacing an earlier record of the same id)."""
        with self._lock:
            jobs = [j for j in self._read() if j.job_id != job.job_id]
            jobs.append(job)
            self._write(jobs)
        return job

    def update(self, job_id: str, **fields: Any) -> CloudJob | None:
        """Change some fields of a job; None (and nothing written) when there is no such job."""
        with self._lock:
            jobs = self._read()
            for i, j in enumerate(jobs):
                if j.job_id == job_id:
                    new = j.model_copy(update=fields)
                    CloudJob.model_validate(new.model_dump())  # a bad value fails here, not on the next read
                    if new == j:
                        return j
                    jobs[i] = new
                    self._write(jobs)
                    return new
        return None

    def apply_status(self, st: JobStatus) -> CloudJob | None:
        """Record what the cloud says about one of our jobs."""
        return self.update(st.job_id, **status_fields(st))

    def merge_server(self, statuses: Iterable[JobStatus], account: str = "") -> list[CloudJob]:
        """Update our jobs from the cloud's job list and add the ones submitted elsewhere.  Returns the
        jobs whose state changed (the caller tells the user about the ones that finished)."""
        changed: list[CloudJob] = []
        with self._lock:
            jobs = {j.job_id: j for j in self._read()}
            for st in statuses:
                old = jobs.get(st.job_id)
                if old is None:
                    jobs[st.job_id] = CloudJob(job_id=st.job_id, origin="server", account=account,
                                               submitted=_submitted_time(st), **status_fields(st))
                    continue
                new = old.model_copy(update=status_fields(st))
                if new.status != old.status:
                    changed.append(new)
                jobs[st.job_id] = new
            self._write(list(jobs.values()))
        return changed

    def remove(self, job_id: str) -> None:
        with self._lock:
            jobs = [j for j in self._read() if j.job_id != job_id]
            self._write(jobs)


def _submitted_time(st: JobStatus) -> float:
    """When a job submitted elsewhere started: the status document's time, else the job id's (which
    begins with the UTC submit time, ``20261121-031502-…``)."""
    from datetime import UTC, datetime

    for text in (st.submitted, st.updated):
        if text:
            try:
                return datetime.fromisoformat(text.replace("Z", "+00:00")).timestamp()
            except ValueError:
                pass
    try:
        return datetime.strptime(st.job_id[:15], "%Y%m%d-%H%M%S").replace(tzinfo=UTC).timestamp()
    except ValueError:
        return time.time()
