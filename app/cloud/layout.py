"""Where things live in the bucket, and the status document every party reads.

One module so the client, the recorder, the emulator and the template agree on every key::

    tenants/<identity>/assets/<sha256>             uploaded asset bytes (content-addressed, temporary)
    tenants/<identity>/jobs/<job>/job.json         the job document; its creation *is* the submission
    tenants/<identity>/jobs/<job>/status.json      Queued / Rendering / Complete / Failed / Cancelled
    tenants/<identity>/jobs/<job>/cancel           present = the owner asked to cancel
    tenants/<identity>/jobs/<job>/out/<file>       outputs (MP4, SRT, VTT, chapters)
    tenants/<identity>/jobs/<job>/out/<variant>/<file>   a fan-out variant's outputs, and its
                                                   ``progress.json`` while it renders
    tenants/<identity>/jobs/<job>/session.json     the job's signed-in browser session, if its script has
                                                   one: SSE-KMS with the stack's session key, deleted by
                                                   the recorder when the job ends (1-day lifecycle backstop)

``<identity>`` is the Cognito identity id, which the IAM policy variable
``${cognito-identity.amazonaws.com:sub}`` pins: a user's credentials can only write under their own
prefix, so the prefix a job was written under *is* its tenant.  Nothing in the job's content is
trusted for that.
"""

from __future__ import annotations

import datetime
import json
import re
from dataclasses import dataclass, field
from typing import Any, Literal

TENANTS = "tenants"
JOB_DOC = "job.json"
STATUS_DOC = "status.json"
CANCEL_MARKER = "cancel"
SESSION_DOC = "session.json"
#: the stack's RetentionDays parameter's default: days a job's inputs and outputs are kept
DEFAULT_RETENTION_DAYS = 7
#: the error a job ends with when its tenant's MonthlyRenderMinutes are used up (no task was started)
QUOTA_REACHED = "Reelwright.QuotaReached"
#: the tag the bucket's 1-day lifecycle rule expires session files by (the bucket policy requires it)
SESSION_TAGGING = "reelwright-session=true"
OUT_DIR = "out"

#: Cognito identity ids look like ``us-east-1:0b5c...``; job ids are ours (lowercase hex + dashes).
_TENANT_RE = r"[a-z]{2}(?:-[a-z]+)+-\d:[0-9a-f-]{36}"
_JOB_RE = r"[0-9a-z][0-9a-z-]{5,63}"
JOB_KEY_RE = re.compile(rf"^{TENANTS}/(?P<tenant>{_TENANT_RE})/jobs/(?P<job>{_JOB_RE})/{re.escape(JOB_DOC)}$")
TENANT_ID_RE = re.compile(rf"^{_TENANT_RE}$")
JOB_ID_RE = re.compile(rf"^{_JOB_RE}$")
SHA256_RE = re.compile(r"^[0-9a-f]{64}$")

#: a fan-out variant's name: a path segment, a DynamoDB sort-key part and a StartedBy hash input
VARIANT_NAME_RE = re.compile(r"^[a-z0-9][a-z0-9._-]{0,39}$")
#: the state machine's cap on variants per job (CheckVariants), and S3's on user metadata (2 KB)
MAX_VARIANTS = 12
MAX_VARIANTS_METADATA = 2048
#: the metadata key of job.json that lists the variants (x-amz-meta-variants), read by ReadVariants
VARIANTS_METADATA = "variants"
PROGRESS_DOC = "progress.json"
_SIZE_RE = re.compile(r"^(\d{3,4})x(\d{3,4})$")

JobState = Literal["Submitted", "Queued", "Rendering", "Complete", "Failed", "Cancelled"]
TERMINAL: frozenset[str] = frozenset({"Complete", "Failed", "Cancelled"})


@dataclass(frozen=True)
class JobRef:
    """A job's place in the bucket, derived from its key: the only source of the tenant."""

    tenant: str
    job_id: str

    @classmethod
    def from_job_key(cls, key: str) -> JobRef:
        """Parse ``tenants/<t>/jobs/<j>/job.json``; anything else (``..``, extra parts) is refused."""
        m = JOB_KEY_RE.match(key)
        if not m:
            raise ValueError(f"'{key}' is not a job key (tenants/<identity>/jobs/<job>/job.json)")
        return cls(m.group("tenant"), m.group("job"))

    @property
    def tenant_prefix(self) -> str:
        return tenant_prefix(self.tenant)

    @property
    def prefix(self) -> str:
        return f"{self.tenant_prefix}jobs/{self.job_id}/"

    @property
    def job_key(self) -> str:
        return self.prefix + JOB_DOC

    @property
    def status_key(self) -> str:
        return self.prefix + STATUS_DOC

    @property
    def cancel_key(self) -> str:
        return self.prefix + CANCEL_MARKER

    @property
    def session_key(self) -> str:
        return self.prefix + SESSION_DOC

    def out_key(self, name: str, variant: str | None = None) -> str:
        if "/" in name or name in ("", ".", ".."):
            raise ValueError(f"bad output name '{name}'")
        if variant is None:
            return f"{self.prefix}{OUT_DIR}/{name}"
        if not VARIANT_NAME_RE.match(variant):
            raise ValueError(f"bad variant name '{variant}'")
        return f"{self.prefix}{OUT_DIR}/{variant}/{name}"

    def progress_key(self, variant: str) -> str:
        return self.out_key(PROGRESS_DOC, variant)


def tenant_prefix(tenant: str) -> str:
    if not TENANT_ID_RE.match(tenant):
        raise ValueError(f"'{tenant}' is not a Cognito identity id")
    return f"{TENANTS}/{tenant}/"


def asset_key(tenant: str, sha256: str) -> str:
    if not SHA256_RE.match(sha256):
        raise ValueError(f"'{sha256}' is not a sha256 digest")
    return f"{tenant_prefix(tenant)}assets/{sha256}"


@dataclass(frozen=True)
class Variant:
    """One rendering of a fan-out job: a language and a format (a preset name or ``WxH``).

    ``name`` is derived (``<language>-<format>``, e.g. ``de-9x16``) unless given; it names the
    variant's output folder, its slot row and its task.
    """

    name: str
    language: str | None = None
    format: str | None = None

    @classmethod
    def of(cls, language: str | None, fmt: str | None) -> Variant:
        parts = [p for p in (language, fmt) if p]
        if not parts:
            raise ValueError("a variant needs a language, a format or both")
        name = "-".join(re.sub(r"[^a-z0-9.-]+", "x", p.lower()) for p in parts)[:40]
        return cls(name, language, fmt).checked()

    def checked(self) -> Variant:
        from app.core.plan.presets import FORMATS

        if not VARIANT_NAME_RE.match(self.name):
            raise ValueError(f"variant name '{self.name}' must be 1-40 of a-z 0-9 . _ - (starting with a letter "
                             "or digit)")
        if self.language is not None and not re.match(r"^[a-zA-Z]{2,3}(-[A-Za-z0-9]{2,8})*$", self.language):
            raise ValueError(f"variant '{self.name}': '{self.language}' is not a language tag")
        if self.format is not None and self.format.lower() not in FORMATS and not _SIZE_RE.match(self.format):
            raise ValueError(f"variant '{self.name}': unknown format '{self.format}' (a preset: "
                             f"{', '.join(FORMATS)}; or WIDTHxHEIGHT)")
        return self

    def size(self) -> tuple[int, int] | None:
        """The (width, height) the format asks for; None keeps the script's."""
        from app.core.plan.presets import FORMATS

        if self.format is None:
            return None
        preset = FORMATS.get(self.format.lower())
        if preset is not None:
            return preset.width, preset.height
        m = _SIZE_RE.match(self.format)
        if m is None:
            raise ValueError(f"variant '{self.name}': unknown format '{self.format}'")
        return int(m.group(1)), int(m.group(2))

    def to_json(self) -> dict[str, str]:
        d = {"name": self.name}
        if self.language is not None:
            d["language"] = self.language
        if self.format is not None:
            d["format"] = self.format
        return d

    @classmethod
    def from_json(cls, d: object) -> Variant:
        if not isinstance(d, dict) or not isinstance(d.get("name"), str):
            raise ValueError(f"a variant must be an object with a name, not {str(d)[:80]}")
        lang, fmt = d.get("language"), d.get("format")
        if (lang is not None and not isinstance(lang, str)) or (fmt is not None and not isinstance(fmt, str)):
            raise ValueError(f"variant '{d['name']}': language and format must be text")
        return cls(d["name"], lang, fmt).checked()


def variants_metadata(variants: list[Variant]) -> str:
    """The job.json metadata value that makes a submission fan out (the state machine's ReadVariants)."""
    if not 1 <= len(variants) <= MAX_VARIANTS:
        raise ValueError(f"a job may ask for 1 to {MAX_VARIANTS} variants, not {len(variants)}")
    names = [v.name for v in variants]
    if len(set(names)) != len(names):
        raise ValueError(f"variant names must differ: {', '.join(names)}")
    text = json.dumps([v.to_json() for v in variants], separators=(",", ":"))
    if len(text) > MAX_VARIANTS_METADATA - 100 or not text.isascii():
        raise ValueError(f"the variants take {len(text)} bytes of job.json's metadata; S3 allows about 2 KB")
    return text


@dataclass
class VariantStatus:
    """One variant of a fan-out job, as status.json reports it."""

    variant: Variant
    state: JobState
    outputs: list[OutputFile] = field(default_factory=list)
    error: str | None = None
    cause: str | None = None
    progress: float | None = None

    @classmethod
    def from_json(cls, d: dict[str, Any]) -> VariantStatus | None:
        try:
            variant = Variant.from_json(d.get("variant", d))
        except ValueError:
            return None
        state = str(d.get("status", "Queued"))
        if state not in ("Queued", "Rendering", "Complete", "Failed", "Cancelled"):
            state = "Queued"
        result = d.get("result") if isinstance(d.get("result"), dict) else {}
        err = d.get("error") if isinstance(d.get("error"), dict) else {}
        assert isinstance(result, dict) and isinstance(err, dict)
        return cls(variant, state,  # type: ignore[arg-type]
                   [OutputFile.from_json(o) for o in result.get("outputs") or [] if isinstance(o, dict)],
                   str(err["Error"]) if "Error" in err else None, str(err["Cause"]) if "Cause" in err else None)


@dataclass(frozen=True)
class OutputFile:
    name: str
    key: str
    bytes: int
    sha256: str

    def to_json(self) -> dict[str, Any]:
        return {"name": self.name, "key": self.key, "bytes": self.bytes, "sha256": self.sha256}

    @classmethod
    def from_json(cls, d: dict[str, Any]) -> OutputFile:
        return cls(str(d["name"]), str(d["key"]), int(d["bytes"]), str(d["sha256"]))


@dataclass
class JobStatus:
    """The tenant-visible status document (``status.json``), parsed leniently.

    Writers: the state machine (Queued, Complete, Failed, Cancelled — also on paths where the
    recorder died) and the recorder (Rendering with progress).
    """

    job_id: str
    state: JobState
    title: str = ""
    stage: str | None = None
    progress: float | None = None  # 0..1 overall
    message: str = ""
    error: str | None = None
    cause: str | None = None
    outputs: list[OutputFile] = field(default_factory=list)
    duration_s: float | None = None
    updated: str | None = None  # ISO 8601, as written
    submitted: str | None = None
    #: (start s, end s, title) of each chapter, as the render computed them (RenderResult.chapters)
    chapters: list[tuple[float, float, str]] = field(default_factory=list)
    #: the stack's RetentionDays (the state machine writes it into every status document it writes)
    retention_days: int = DEFAULT_RETENTION_DAYS
    #: a fan-out job's variants (empty for a single render); their outputs are under each variant
    variants: list[VariantStatus] = field(default_factory=list)

    @property
    def expires(self) -> datetime.date | None:
        """The day the job's inputs and outputs are deleted: S3 expires an object at the first UTC midnight
        ``retention_days`` after it was written, so this is an upper bound for the job's files."""
        start = _parse_time(self.submitted) or _parse_time(self.updated)
        if start is None:
            return None
        return (start + datetime.timedelta(days=self.retention_days + 1)).date()

    @property
    def terminal(self) -> bool:
        return self.state in TERMINAL

    @classmethod
    def from_json(cls, job_id: str, d: dict[str, Any]) -> JobStatus:
        state = str(d.get("status", "Queued"))
        if state not in ("Submitted", "Queued", "Rendering", "Complete", "Failed", "Cancelled"):
            state = "Queued"
        result = d.get("result") if isinstance(d.get("result"), dict) else {}
        assert isinstance(result, dict)
        outputs_raw = d.get("outputs") or result.get("outputs") or []
        err = d.get("error") if isinstance(d.get("error"), dict) else {}
        assert isinstance(err, dict)
        progress = d.get("progress")
        duration = d.get("duration_s", result.get("duration_s"))
        return cls(
            job_id=job_id,
            state=state,  # type: ignore[arg-type]
            title=str(d.get("title") or result.get("title") or ""),
            stage=d.get("stage"),
            progress=float(progress) if isinstance(progress, (int, float)) else None,
            message=str(d.get("message") or ""),
            error=str(err["Error"]) if "Error" in err else None,
            cause=str(err["Cause"]) if "Cause" in err else None,
            outputs=[OutputFile.from_json(o) for o in outputs_raw if isinstance(o, dict)],
            duration_s=float(duration) if isinstance(duration, (int, float)) else None,
            updated=d.get("updated"),
            submitted=d.get("submitted"),
            chapters=_chapters(d.get("chapters", result.get("chapters"))),
            retention_days=_retention(d.get("retentionDays")),
            variants=[v for v in (VariantStatus.from_json(x) for x in d.get("variants") or []
                                  if isinstance(x, dict)) if v is not None],
        )

    @property
    def quota_reached(self) -> bool:
        """The job was not started: its tenant's monthly render minutes are used up."""
        return self.state == "Failed" and self.error == QUOTA_REACHED

    def describe(self) -> str:
        if self.variants and self.state == "Failed" and self.error == "Reelwright.VariantsFailed":
            bad = [f"{v.variant.name} ({v.cause or v.error or 'unknown error'})"
                   for v in self.variants if v.state == "Failed"]
            return f"Failed: variant {'; '.join(bad)}; the other variants completed"
        if self.state == "Rendering" and self.progress is not None:
            return f"Rendering {self.progress * 100:.0f}%" + (f" ({self.stage})" if self.stage else "")
        if self.quota_reached:
            return f"Quota reached: {self.cause or 'this month’s render minutes are used up'}"
        if self.state == "Queued" and self.message:
            return f"Queued: {self.message}"
        if self.state == "Failed":
            return f"Failed: {self.cause or self.error or 'unknown error'}"
        return self.state


def _retention(raw: object) -> int:
    try:
        days = int(str(raw))
    except ValueError:
        return DEFAULT_RETENTION_DAYS
    return days if days > 0 else DEFAULT_RETENTION_DAYS


def _parse_time(text: object) -> datetime.datetime | None:
    if not isinstance(text, str) or not text:
        return None
    try:
        t = datetime.datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        return None
    return t if t.tzinfo else t.replace(tzinfo=datetime.UTC)


def _chapters(raw: object) -> list[tuple[float, float, str]]:
    out: list[tuple[float, float, str]] = []
    for c in raw if isinstance(raw, list) else []:
        if isinstance(c, dict) and isinstance(c.get("start_s"), (int, float)):
            start = float(c["start_s"])
            end = float(c["end_s"]) if isinstance(c.get("end_s"), (int, float)) else start
            out.append((start, end, str(c.get("title") or "")))
    return out
