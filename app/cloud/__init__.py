"""AWS client side: sign-in, upload, job control, and the AWS-backed services of the core.

:func:`register_services` adds what needs AWS to the core's registries — the ``bedrock`` drafter and
the ``polly`` voice — so the core never imports boto3 or names this package.  The doors (CLI, desktop
app, recorder) call it before they draft or render.  Nothing AWS is imported until a service is used.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from app.core.draft.drafters.base import DrafterConfig
    from app.core.draft.drafters.llm import Backend
    from app.core.voice.base import TTSProvider


def _bedrock(config: DrafterConfig) -> Backend:
    from .bedrock import BedrockBackend

    return BedrockBackend(config)


def _polly() -> TTSProvider:
    from .polly import PollyProvider

    return PollyProvider()


def register_drafters() -> None:
    """Make ``bedrock`` a drafter kind (idempotent)."""
    from app.core.draft.drafters.llm import register_backend

    register_backend("bedrock", _bedrock)


def register_voices() -> None:
    """Make ``polly`` a voice provider, with the standard AWS credential chain (idempotent).  The
    recorder registers its own Polly client instead (``app.cloud.polly.register``)."""
    from app.core.voice.base import register_provider

    register_provider("polly", _polly)


def register_services() -> None:
    """Register every AWS-backed service: the ``bedrock`` drafter and the ``polly`` voice."""
    register_drafters()
    register_voices()
