"""The cloud account and cloud setup as typed operations for the app (no Qt): sign up, confirm, reset the
password, read a deployed stack's outputs, test a connection.

Each function returns an op factory ``(on_progress, cancel) -> awaitable`` that ``app.ui.ops.Op`` runs;
the blocking work is :class:`app.cloud.client.CloudClient`'s (the CLI's ``reelwright cloud login`` and
``configure`` call the same methods).  The cloud package is imported inside the ops: it loads boto3.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from typing import TYPE_CHECKING

from app.core.errors import Cancelled
from app.core.infra.progress import CancelToken, Progress, ProgressCallback

from .services import OpFactory

if TYPE_CHECKING:
    from app.cloud.client import CloudClient
    from app.cloud.config import CloudConfig


def sign_in_flow(config: CloudConfig) -> str:
    """SRP everywhere but the emulator: moto's SRP accepts any password, so the app signs in to the
    emulator with USER_PASSWORD_AUTH (its app client allows it; the deployed one does not) and a wrong
    password is refused there as Cognito refuses it."""
    return "password" if config.emulator else "srp"


async def _client(client: CloudClient | None) -> CloudClient:
    """The session's client, or one for the saved configuration (CloudConfigError when there is none)."""
    if client is not None:
        return client
    from .services import make_cloud_client

    return await asyncio.to_thread(make_cloud_client)


def sign_up(client: CloudClient | None, email: str, password: str) -> OpFactory[None]:
    async def op(on_progress: ProgressCallback, cancel: CancelToken) -> None:
        on_progress(Progress("sign up", 0.3, f"creating the account {email}"))
        await (await _client(client)).sign_up(email, password)

    return op


def confirm(client: CloudClient | None, email: str, code: str) -> OpFactory[None]:
    async def op(on_progress: ProgressCallback, cancel: CancelToken) -> None:
        on_progress(Progress("confirm", 0.3, f"confirming {email}"))
        await (await _client(client)).confirm(email, code)

    return op


def forgot(client: CloudClient | None, email: str) -> OpFactory[None]:
    async def op(on_progress: ProgressCallback, cancel: CancelToken) -> None:
        on_progress(Progress("reset", 0.3, f"sending a reset code to {email}"))
        await (await _client(client)).forgot(email)

    return op


def reset(client: CloudClient | None, email: str, code: str, new_password: str) -> OpFactory[None]:
    async def op(on_progress: ProgressCallback, cancel: CancelToken) -> None:
        on_progress(Progress("reset", 0.3, "setting the new password"))
        await (await _client(client)).reset(email, code, new_password)

    return op


def sign_in(client: CloudClient | None, email: str, password: str,
            new_password: str | None = None) -> OpFactory[CloudClient]:
    """Sign in; ``new_password`` answers an invited account's first sign-in (its temporary password is
    ``password``)."""

    async def op(on_progress: ProgressCallback, cancel: CancelToken) -> CloudClient:
        on_progress(Progress("sign in", 0.3, f"signing in as {email}"))
        signed = await _client(client)
        await signed.sign_in(email, password, flow=sign_in_flow(signed.config), new_password=new_password)
        on_progress(Progress("sign in", 1.0, "signed in"))
        return signed

    return op


def read_stack(stack: str, region: str | None, endpoint_url: str | None) -> OpFactory[CloudConfig]:
    """The configuration a deployed stack's outputs give (``reelwright cloud configure --stack``)."""

    async def op(on_progress: ProgressCallback, cancel: CancelToken) -> CloudConfig:
        from app.cloud.deploy import stack_config

        on_progress(Progress("setup", 0.3, f"reading the outputs of stack {stack}"))
        return await asyncio.to_thread(stack_config, stack, region=region or None, endpoint_url=endpoint_url or None)

    return op


@dataclass(frozen=True)
class ConnectionReport:
    """What "Test connection" found: who is signed in and how many jobs they have."""

    email: str
    jobs: int

    def describe(self) -> str:
        return f"Connected: {self.jobs} job{'s' if self.jobs != 1 else ''} (signed in as {self.email})"


def test_connection(config: CloudConfig, email: str = "", password: str = "") -> OpFactory[ConnectionReport]:
    """Sign in (with the session stored for this user pool, or with ``email``/``password``) and list the
    jobs.  Every failure is a sentence: a region or endpoint that cannot be reached, a pool or app client
    that does not exist, a refused sign-in."""

    async def op(on_progress: ProgressCallback, cancel: CancelToken) -> ConnectionReport:
        from app.cloud.client import CloudClient
        from app.cloud.errors import AuthError, CloudError

        where = config.endpoint_url or f"AWS region {config.region}"
        client = CloudClient(config)
        try:
            if password:
                on_progress(Progress("test", 0.2, f"signing in to {where} as {email}"))
                await client.sign_in(email, password, flow=sign_in_flow(config))
            elif not client.signed_in:
                raise AuthError("not signed in to this cloud: enter your e-mail and password to test it")
            if cancel.cancelled:
                raise Cancelled("the connection test was cancelled")
            on_progress(Progress("test", 0.6, "listing your jobs"))
            jobs = await client.list_jobs()
        except AuthError as exc:
            if exc.code == "TokenVerificationFailed":  # the app client answered for another pool
                raise CloudError(f"{exc.message}: the user pool ({config.user_pool_id}) or the region "
                                 f"({config.region}) is not the app client's") from None
            raise
        except OSError as exc:  # the emulator's JWKS is fetched with urllib: unreachable is an OSError
            reason = getattr(exc, "reason", None) or exc.strerror or exc
            raise CloudError(f"cannot reach {where}: {reason}") from None
        return ConnectionReport(client.username or email, len(jobs))

    return op
