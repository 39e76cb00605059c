"""Typed errors of the cloud package.  Each says what went wrong and what the user can do."""

from __future__ import annotations

from app.core.errors import ReelwrightError


class CloudError(ReelwrightError):
    """Something in the cloud path failed (network, AWS, a job)."""

    exit_code = 4


class CloudConfigError(CloudError):
    """No usable cloud configuration (run `reelwright cloud configure` or `emulate`)."""


class AuthError(CloudError):
    """Sign-up, sign-in or token refresh failed (wrong password, unconfirmed user, expired code...)."""

    exit_code = 5
    #: Cognito's error code (``UserNotConfirmedException`` …) when Cognito gave one: the app picks the
    #: page to offer from it (the code to confirm, the sign-in again)
    code: str = ""


class SessionExpired(AuthError):
    """The refresh token was rejected (expired, revoked, or damaged): the user must sign in again."""


class NotSignedIn(AuthError):
    def __init__(self) -> None:
        super().__init__("not signed in to Reelwright Cloud", hint="run `reelwright cloud login`")


class JobNotFound(CloudError):
    def __init__(self, job_id: str) -> None:
        super().__init__(f"no cloud job '{job_id}' in your account",
                         hint="`reelwright cloud list` shows your jobs")
        self.job_id = job_id


class JobFailed(CloudError):
    """A cloud job ended Failed; ``cause`` is the recorder's message (names the card and action)."""

    def __init__(self, job_id: str, error: str, cause: str) -> None:
        super().__init__(f"cloud job {job_id} failed ({error}): {cause}")
        self.job_id = job_id
        self.error = error
        self.cause = cause


class IntegrityError(CloudError):
    """A downloaded file does not match the checksum the recorder published."""
