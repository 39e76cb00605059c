"""Importers: Playwright codegen files → declarative script actions, by parsing (never executing).

``import_codegen(path)`` reads a Python (sync/async/pytest) or JavaScript/TypeScript (library or
``@playwright/test``) codegen file and returns its actions in order, or raises
:class:`CodegenImportError` naming the file, line, column and source line of every unsupported
statement.  With ``skip_unsupported=True`` those lines are skipped and reported instead.
"""

from __future__ import annotations

import re
from pathlib import Path

from .detect import CODEGEN_KINDS, FileKind, detect_kind
from .js_codegen import js_events
from .mapping import FlowMapper, ImportResult, _Unsupported, session_setting
from .model import CodegenImportError, ImportError_, Site, SkippedLine
from .python_codegen import python_events

#: codegen files are small; anything bigger is not a recording
MAX_CODEGEN_BYTES = 2 * 1024 * 1024
#: a `playwright codegen --load-storage=auth.json ...` command line kept in a comment of the flow
_LOAD_STORAGE_RE = re.compile(r"""^\s*(?:#|//|/?\*).*?--load-storage(?:=|\s+)(["']?)([^\s"'(),;]+)\1""")


def _load_storage_comments(source: str, mapper: FlowMapper) -> None:
    for i, line in enumerate(source.splitlines()[:200]):
        m = _LOAD_STORAGE_RE.match(line)
        if m is not None:
            site = Site(i + 1, m.start(2) + 1, line)
            try:
                mapper.note_session(m.group(2), site, site.column)
            except _Unsupported as exc:  # a comment is no statement: say so, import the rest
                mapper.warnings.append(f"{mapper.path.name}:{site.line}: the --load-storage comment was not used: "
                                       f"{exc.reason}")




def import_source(source: str, path: Path, kind: FileKind, *, skip_unsupported: bool = False) -> ImportResult:
    """Import codegen ``source`` (as if read from ``path``) of the given codegen ``kind``."""
    mapper = FlowMapper(path, skip_unsupported=skip_unsupported)
    try:
        if kind == "playwright-python":
            events, flavour = python_events(source, path, mapper)
        elif kind in ("playwright-js", "playwright-ts"):
            events, flavour = js_events(source, path, mapper)
        else:
            raise CodegenImportError(
                [SkippedLine(path, 1, 1, "", f"not a Playwright codegen file (looks like {kind})")]
            )
        _load_storage_comments(source, mapper)
        mapper.run(events)
    except RecursionError:
        raise CodegenImportError(
            [SkippedLine(path, 1, 1, "", "the file nests expressions too deeply to import")]
        ) from None
    if mapper.skipped and not skip_unsupported:
        raise CodegenImportError(
            mapper.skipped,
            hint="fix or remove these lines, or import with --skip-unsupported to leave them out",
        )
    if not mapper.actions and not mapper.skipped:
        raise CodegenImportError([SkippedLine(path, 1, 1, "", "no browser actions found in this file")])
    return ImportResult(actions=mapper.actions, skipped=mapper.skipped, source=path, flavour=flavour,
                        warnings=mapper.warnings, sessions=mapper.sessions)


def import_codegen(path: Path, *, skip_unsupported: bool = False) -> ImportResult:
    """Import one codegen file.  Raises :class:`CodegenImportError` (never anything else)."""
    path = Path(path)
    try:
        with open(path, "rb") as f:
            data = f.read(MAX_CODEGEN_BYTES + 1)
    except OSError as exc:
        raise CodegenImportError(
            [SkippedLine(path, 0, 0, "", f"cannot read the file: {exc.strerror or exc}")]
        ) from None
    if len(data) > MAX_CODEGEN_BYTES:
        raise CodegenImportError([SkippedLine(path, 0, 0, "", "larger than 2 MB: not a codegen recording")])
    try:
        source = data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise CodegenImportError([SkippedLine(path, 0, 0, "", f"not UTF-8 text (byte {exc.start})")]) from None
    if "\0" in source:
        raise CodegenImportError([SkippedLine(path, 0, 0, "", "contains NUL bytes: not a source file")])
    kind = detect_kind(path, head=source)
    if kind not in CODEGEN_KINDS:
        kind = _kind_from_extension(path)
    return import_source(source, path, kind, skip_unsupported=skip_unsupported)


def _kind_from_extension(path: Path) -> FileKind:
    ext = path.suffix.lower()
    if ext in (".py", ".pyw"):
        return "playwright-python"
    if ext in (".ts", ".tsx", ".mts", ".cts"):
        return "playwright-ts"
    if ext in (".js", ".mjs", ".cjs", ".jsx"):
        return "playwright-js"
    return "unknown"


__all__ = [
    "CODEGEN_KINDS",
    "CodegenImportError",
    "FileKind",
    "ImportError_",
    "ImportResult",
    "SkippedLine",
    "detect_kind",
    "import_codegen",
    "import_source",
    "session_setting",
]
