"""The shared middle of the codegen importers: a language-neutral view of a call chain, the typed
error, and the result types.

Each front end (Python ``ast``, JS/TS tree-sitter) turns source statements into :class:`FlowEvent`
values built from :class:`Chain` expressions; :mod:`.mapping` turns those into script actions.  So a
locator or statement form is understood in one place for every language.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Union

from ...errors import ReelwrightError


@dataclass(frozen=True)
class Regex:
    """A regular-expression literal (``re.compile(...)`` or ``/.../i``); never evaluated."""

    pattern: str
    flags: str = ""

    def anchored_literal(self) -> str | None:
        """The literal text of ``^text$`` when the pattern is exactly that, else None."""
        m = re.fullmatch(r"\^(.*)\$", self.pattern, re.S)
        if not m or "i" in self.flags:
            return None
        body = m.group(1)
        out: list[str] = []
        i = 0
        while i < len(body):
            c = body[i]
            if c == "\\" and i + 1 < len(body):
                nxt = body[i + 1]
                if nxt.isalnum():  # \d, \s, \b ... are real regex, not escaped literals
                    return None
                out.append(nxt)
                i += 2
                continue
            if c in ".*+?()[]{}|^$":
                return None
            out.append(c)
            i += 1
        return "".join(out)


@dataclass(frozen=True)
class Handler:
    """A function literal passed as an event handler (``lambda dialog: dialog.accept("x")``, ``dialog =>
    { ...; dialog.dismiss().catch(() => {}); }``), read for the one thing a dialog handler does: accept
    (with an optional prompt text) or dismiss.  ``problem`` says why it is not such a handler."""

    response: str | None = None  # "accept" | "dismiss"
    text: str | None = None
    problem: str | None = None


Value = Union[str, int, float, bool, None, "list[Value]", "dict[str, Value]", Regex, "Chain", Handler]


@dataclass
class Seg:
    """One link of a chain: ``.name`` or ``.name(args, kwargs)``.  Names are snake_case."""

    name: str
    called: bool = False
    args: list[Value] = field(default_factory=list)
    kwargs: dict[str, Value] = field(default_factory=dict)
    column: int = 1  # 1-based column of the name in the source line


@dataclass
class Chain:
    """``root.seg1.seg2(...)...``: a receiver name followed by member accesses and calls."""

    root: str
    segs: list[Seg] = field(default_factory=list)
    column: int = 1

    def text(self) -> str:
        return ".".join([self.root] + [s.name + ("()" if s.called else "") for s in self.segs])


@dataclass(frozen=True)
class Site:
    """Where a statement is: 1-based line and column, and the source line itself."""

    line: int
    column: int
    source_line: str


@dataclass
class CallStmt:
    """An expression statement that is a call chain (an action, an assertion or a setup call)."""

    chain: Chain
    site: Site
    opens_popup: bool = False  # the call is the trigger of an expected popup
    download: bool = False  # the call is the trigger of an expected download


@dataclass
class PageAlias:
    """``name`` now refers to a page: the first page, or the popup the last trigger opened."""

    name: str
    site: Site
    from_popup: bool


@dataclass
class Unsupported:
    """A statement the front end already knows it cannot import."""

    site: Site
    reason: str


FlowEvent = CallStmt | PageAlias | Unsupported


@dataclass
class SkippedLine:
    """A source line that was not imported, and why."""

    path: Path
    line: int
    column: int
    source_line: str
    reason: str

    def __str__(self) -> str:
        reason = self.reason if len(self.reason) <= 400 else self.reason[:400] + "…"
        src = self.source_line.strip()
        if len(src) > 160:  # a minified or generated line would bury the message; show where it starts
            src = src[:160] + f"… ({len(src):,} characters)"
        return f"{self.path}:{self.line}:{self.column}: {reason}\n    {src}"


class CodegenImportError(ReelwrightError):
    """A codegen file could not be imported.  Names file:line:column and the source line of every
    problem found (all of them, not just the first)."""

    exit_code = 2

    def __init__(self, problems: list[SkippedLine], *, hint: str | None = None) -> None:
        self.problems = list(problems)
        first = self.problems[0] if self.problems else None
        self.path = first.path if first else None
        self.line = first.line if first else None
        self.column = first.column if first else None
        self.source_line = first.source_line if first else None
        n = len(self.problems)
        what = first.path if first else "the file"
        head = f"cannot import {what}: {n} unsupported line{'s' if n != 1 else ''}"
        body = "\n".join(f"  {p}" for p in self.problems)
        super().__init__(f"{head}\n{body}", hint=hint)


#: the name the public API promises
ImportError_ = CodegenImportError

__all__ = [
    "CallStmt",
    "Chain",
    "CodegenImportError",
    "FlowEvent",
    "Handler",
    "ImportError_",
    "PageAlias",
    "Regex",
    "Seg",
    "Site",
    "SkippedLine",
    "Unsupported",
    "Value",
]
