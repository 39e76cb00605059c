"""Typed errors of the core pipeline.

Every error carries what the user needs to fix the problem: the file, line, card, action or
selector at fault.  The CLI and the UI show ``str(error)``; the traceback is for ``--verbose`` only.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from pathlib import Path


class ReelwrightError(Exception):
    """Base of every error the user is meant to read."""

    #: process exit code the CLI uses for this kind of error
    exit_code: int = 1

    def __init__(self, message: str, *, hint: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.hint = hint

    def __str__(self) -> str:
        if self.hint:
            return f"{self.message}\n  hint: {self.hint}"
        return self.message


@dataclass(frozen=True)
class Problem:
    """One problem found in a script: where it is and a human sentence about it."""

    where: str  # e.g. "card 3 'sign-in' › action 2 (click) › target"
    message: str
    card_index: int | None = None  # 0-based
    card_id: str | None = None
    action_index: int | None = None  # 0-based
    field: str | None = None
    line: int | None = None  # 1-based line in the source file, when known
    meta: dict[str, str] = dataclasses.field(default_factory=dict, compare=False)

    def __str__(self) -> str:
        at = f"line {self.line}: " if self.line else ""
        return f"{at}{self.where}: {self.message}"


class ScriptError(ReelwrightError):
    """A script (or job bundle) is invalid.  Carries *every* problem found."""

    exit_code = 2

    def __init__(self, problems: list[Problem], *, source: str | Path | None = None) -> None:
        self.problems = list(problems)
        self.source = str(source) if source is not None else None
        head = f"{self.source}: " if self.source else ""
        n = len(self.problems)
        lines = [f"{head}{n} problem{'s' if n != 1 else ''} in the script:"]
        lines += [f"  - {p}" for p in self.problems]
        super().__init__("\n".join(lines))


class ToolMissingError(ReelwrightError):
    """A required external tool (browser, ffmpeg, voice) is not installed."""

    exit_code = 3


class RenderError(ReelwrightError):
    """The render failed at a known place (a card, an action, a locator)."""

    def __init__(
        self,
        message: str,
        *,
        card_index: int | None = None,
        card_id: str | None = None,
        action_index: int | None = None,
        locator: str | None = None,
        screenshot: Path | None = None,
        hint: str | None = None,
    ) -> None:
        self.card_index = card_index
        self.card_id = card_id
        self.action_index = action_index
        self.locator = locator
        self.screenshot = screenshot
        where = []
        if card_index is not None:
            where.append(f"card {card_index + 1}" + (f" '{card_id}'" if card_id else ""))
        if action_index is not None:
            where.append(f"action {action_index + 1}")
        prefix = " › ".join(where)
        full = f"{prefix}: {message}" if prefix else message
        if locator:
            full += f"\n  locator: {locator}"
        if screenshot:
            full += f"\n  screenshot of that moment: {screenshot}"
        super().__init__(full, hint=hint)


class Cancelled(ReelwrightError):
    """The user cancelled the operation.  Nothing partial was left behind."""

    exit_code = 130

    def __init__(self, message: str = "cancelled") -> None:
        super().__init__(message)


class OutputError(ReelwrightError):
    """The environment refuses the output: a read-only or full disk, a folder that cannot be written.

    Exit code 3, like a missing tool: the input is fine, the machine is not ready for it.
    """

    exit_code = 3


class UsageError(ReelwrightError):
    """A command-line argument cannot be used as given (e.g. ``--out`` naming an existing folder).

    Exit code 2, like any bad input; nothing was started.
    """

    exit_code = 2
