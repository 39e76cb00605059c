"""The job's own credentials: what every S3 request of the recorder is signed with.

The task role (``RecorderTaskRole``) reaches no tenant data.  The state machine assumes
``RecorderJobRole`` with a session policy naming this job's tenant and job (its ``JobPolicy`` and
``IssueJobCredentials`` states) and hands the result to the task as environment overrides:

=========================  ==================================================================
``JOB_AWS_ACCESS_KEY_ID``  the session's access key
``JOB_AWS_SECRET_ACCESS_KEY``
``JOB_AWS_SESSION_TOKEN``
``JOB_AWS_EXPIRATION``     when they stop working: ISO 8601 (``2026-12-06T04:00:00Z``, or with an
                           offset) or seconds since the epoch
=========================  ==================================================================

They are role-chained credentials (the state machine's own are temporary), which AWS caps at one
hour whatever is asked for; the render step allows two.  A job still rendering when they run out
fails with ``Recorder.CredentialsExpired``: nothing it did after that could be stored.

Local and development runs of ``python -m recorder`` against a bucket without a state machine may set
``REELWRIGHT_RECORDER_AMBIENT_S3=1`` instead, and S3 is then reached with the process's ordinary
credentials (boto3's default chain).  On AWS that is the task role, which is refused every tenant
object, so the switch cannot widen what a task reaches.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import boto3

ENV_NAMES = ("JOB_AWS_ACCESS_KEY_ID", "JOB_AWS_SECRET_ACCESS_KEY", "JOB_AWS_SESSION_TOKEN", "JOB_AWS_EXPIRATION")
AMBIENT_SWITCH = "REELWRIGHT_RECORDER_AMBIENT_S3"
#: role chaining's limit, for messages
CHAINED_LIMIT_S = 3600


class JobCredentialsError(ValueError):
    """The job credentials in the environment are missing, partial or unreadable."""


def parse_expiration(text: str) -> datetime:
    """``JOB_AWS_EXPIRATION`` as an aware UTC datetime (ISO 8601 with ``Z`` or an offset, or epoch seconds)."""
    value = text.strip()
    try:
        return datetime.fromtimestamp(float(value), UTC)
    except ValueError:
        pass
    try:
        when = datetime.fromisoformat(value)
    except ValueError:
        raise JobCredentialsError(f"JOB_AWS_EXPIRATION is not a time: {text!r}") from None
    if when.tzinfo is None:  # STS times are UTC
        when = when.replace(tzinfo=UTC)
    return when.astimezone(UTC)


@dataclass(frozen=True)
class JobCredentials:
    access_key_id: str
    secret_access_key: str
    session_token: str
    expiration: datetime

    def __repr__(self) -> str:  # never the secret in a log line or traceback
        return f"JobCredentials(access_key_id={self.access_key_id!r}, expiration={self.expiration.isoformat()})"

    @classmethod
    def from_environ(cls, env: Mapping[str, str]) -> JobCredentials | None:
        """The job's credentials, or None when the environment names none and allows ambient ones.

        Raises :class:`JobCredentialsError` for a partial set, or for none without the ambient switch.
        """
        given = {k: env.get(k, "") for k in ENV_NAMES}
        if not any(given.values()):
            if env.get(AMBIENT_SWITCH) == "1":
                return None
            raise JobCredentialsError(
                "the task has no job credentials (JOB_AWS_ACCESS_KEY_ID, JOB_AWS_SECRET_ACCESS_KEY, "
                "JOB_AWS_SESSION_TOKEN, JOB_AWS_EXPIRATION from the state machine's IssueJobCredentials "
                f"state); for a local run without a state machine set {AMBIENT_SWITCH}=1")
        missing = [k for k, v in given.items() if not v]
        if missing:
            raise JobCredentialsError(f"incomplete job credentials: {', '.join(missing)} not set")
        return cls(given["JOB_AWS_ACCESS_KEY_ID"], given["JOB_AWS_SECRET_ACCESS_KEY"],
                   given["JOB_AWS_SESSION_TOKEN"], parse_expiration(given["JOB_AWS_EXPIRATION"]))

    def seconds_left(self, now: datetime | None = None) -> float:
        return (self.expiration - (now or datetime.now(UTC))).total_seconds()

    def expired_message(self, started: datetime | None = None) -> str:
        ran = ""
        if started is not None:
            ran = f" after {(datetime.now(UTC) - started).total_seconds() / 60:.0f} min of work"
        return (f"the job's credentials expired at {self.expiration.isoformat(timespec='seconds')}{ran}: they "
                f"are issued for at most {CHAINED_LIMIT_S // 60} minutes (role chaining), so a render "
                "(with its retries) must finish within that; shorten the job or split it, and submit it again")

    def s3_client(self) -> Any:
        """An S3 client signing with these credentials (endpoint and region from the usual environment)."""
        return boto3.client("s3", aws_access_key_id=self.access_key_id, aws_secret_access_key=self.secret_access_key,
                            aws_session_token=self.session_token)
