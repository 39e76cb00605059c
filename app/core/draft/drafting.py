"""From the user's ordered files and a prompt to a draft script: the one entry point the app and the
CLI call.

``draft(files, prompt)`` imports every codegen file (in the order given: flows play in that order),
reads every document (PDF, Markdown, text), and hands both to a drafter — offline (default),
Amazon Bedrock or an OpenAI-compatible endpoint.  A file that cannot be used becomes a warning in
the result; it never aborts the draft.  The script that comes back is validated like any other.
"""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

from ..errors import Cancelled, ReelwrightError, ToolMissingError
from ..infra.progress import CancelToken, ProgressCallback, StageTracker
from ..script import Action, Goto, Script, Settings
from .documents import Document, DocumentError, read_document
from .drafters.base import DrafterConfig, DraftError, DraftInput, DraftResult, FlowSource
from .drafters.offline import offline_draft
from .importers import CODEGEN_KINDS, CodegenImportError, FileKind, ImportError_, ImportResult, SkippedLine
from .importers import detect_kind as _detect_kind
from .importers import import_codegen as _import_codegen
from .observe import FlowObservation, observe_flow

_LOOPBACK = frozenset({"localhost", "127.0.0.1", "::1", "0.0.0.0"})
_DRAFT_STAGES = {"read": 0.1, "observe": 0.6, "draft": 0.3}

__all__ = [
    "DraftError",
    "DraftResult",
    "DrafterConfig",
    "FileKind",
    "ImportError_",
    "ImportResult",
    "Script",
    "SkippedLine",
    "detect_kind",
    "draft",
    "drafter_kinds",
    "import_codegen",
    "rebase_local_urls",
]


def drafter_kinds() -> list[str]:
    """Every drafter that can be asked for now: ``offline`` and each registered model backend."""
    from .drafters.llm import registered_backends

    return ["offline", *registered_backends()]


def detect_kind(path: Path) -> FileKind:
    """What a dragged file is: pdf, a codegen flavour, markdown, text, image, audio or unknown."""
    return _detect_kind(Path(path))


def import_codegen(path: Path, *, skip_unsupported: bool = False) -> ImportResult:
    """Parse one codegen file into actions (never executes it).  Raises :class:`ImportError_`."""
    return _import_codegen(Path(path), skip_unsupported=skip_unsupported)


def rebase_local_urls(actions: list[Action], settings: Settings) -> list[Action]:
    """Make recorded loopback URLs (http://localhost:8000/x.html) relative when the script serves
    its own site or has a base URL, so the flow plays against whatever port the render picks."""
    if not (settings.site or settings.base_url):
        return actions
    out: list[Action] = []
    for a in actions:
        if isinstance(a, Goto):
            parts = urlsplit(a.url)
            if parts.scheme in ("http", "https") and (parts.hostname or "") in _LOOPBACK:
                rel = urlunsplit(("", "", parts.path or "/", parts.query, parts.fragment)) or "/"
                a = a.model_copy(update={"url": rel})
        out.append(a)
    return out


def _skip_warning(s: SkippedLine) -> str:
    return f"{s.path.name}:{s.line}:{s.column}: skipped `{s.source_line.strip()}` — {s.reason}"


async def draft(
    files: Sequence[Path],
    prompt: str,
    *,
    config: DrafterConfig | None = None,
    settings: Settings | None = None,
    on_progress: ProgressCallback | None = None,
    cancel: CancelToken | None = None,
) -> DraftResult:
    """Draft a script from ``files`` (in the user's order) and ``prompt``.

    Raises :class:`DraftError` when nothing usable was given or a remote drafter failed for good,
    :class:`Cancelled` when cancelled.  Per-file problems are warnings in the result.
    """
    config = config or DrafterConfig()
    settings = settings or Settings()
    tracker = StageTracker(on_progress or (lambda _p: None), weights=dict(_DRAFT_STAGES))
    warnings: list[str] = []
    flows: list[FlowSource] = []
    docs: list[Document] = []
    files = [Path(f) for f in files]
    session_file = config.session_file
    tracker.report("read", 0.0, "reading files")
    for i, f in enumerate(files):
        if cancel is not None:
            cancel.raise_if_cancelled()
        kind = await asyncio.to_thread(_detect_kind, f)
        if kind in CODEGEN_KINDS:
            try:
                res = await asyncio.to_thread(_import_codegen, f, skip_unsupported=True)
            except CodegenImportError as exc:
                warnings.append(f"{f.name}: not used — {exc.message}")
            else:
                warnings.extend(_skip_warning(s) for s in res.skipped)
                warnings.extend(res.warnings)
                if res.session is not None and settings.session is None:  # the flow runs signed in
                    settings = settings.model_copy(update={"session": res.session})
                    warnings.append(f"{f.name}: the flow loads the signed-in session {res.sessions[0]}; the "
                                    f"script uses {res.session} — add that file to the library as a session")
                    if session_file is None:
                        session_file = _find_session(f, res.sessions[0], config.sessions_dir)
                if res.actions:
                    flows.append(FlowSource(f, rebase_local_urls(res.actions, settings)))
                elif not res.skipped:
                    warnings.append(f"{f.name}: no browser actions found")
        elif kind in ("pdf", "markdown", "text"):
            try:
                doc = await asyncio.to_thread(read_document, f, kind)
            except DocumentError as exc:
                warnings.append(f"{exc.message}" + (f" ({exc.hint})" if exc.hint else ""))
            else:
                warnings.extend(doc.warnings)
                docs.append(doc)
        elif kind in ("image", "audio"):
            warnings.append(f"{f.name}: {kind} files are not read by the drafter (add them to cards by hand)")
        else:
            warnings.append(f"{f.name}: not a codegen flow or a document Reelwright can read; ignored")
        tracker.report("read", (i + 1) / max(1, len(files)), f"read {f.name}")
    if not flows and not docs:
        raise DraftError(
            "nothing to draft from: none of the files is a usable codegen flow or document",
            hint="; ".join(warnings) if warnings else "add a codegen file or a PDF",
        )
    used = {f.path for f in flows} | {d.path for d in docs}
    inp = DraftInput(
        flows=flows,
        documents=docs,
        prompt=prompt,
        settings=settings,
        order=[f for f in files if f in used],
        site_dir=config.site_dir,
    )
    if config.observe and flows:
        inp.observations = await _observe(inp, config, tracker, warnings, cancel, session_file)
    tracker.report("draft", 0.0, f"drafting with the {config.kind} drafter")
    if cancel is not None:
        cancel.raise_if_cancelled()
    if config.kind == "offline":
        result = await asyncio.to_thread(offline_draft, inp)
    else:
        result = await _remote_draft(inp, config, tracker, cancel)
    tracker.report("draft", 1.0, f"{len(result.script.cards)} cards")
    result.warnings[:0] = warnings
    result.observations = inp.observations
    return result


def _find_session(flow: Path, named: str, sessions_dir: Path | None) -> Path | None:
    """The session file a flow's code names (``storage_state="auth.json"``): beside the flow, as codegen
    leaves it, or saved under that name in the library's sessions."""
    candidates = [flow.parent / named]
    if sessions_dir is not None:
        candidates.append(sessions_dir / Path(named).name)
    return next((c for c in candidates if c.is_file()), None)


def observable(actions: Sequence[Action], settings: Settings, site_dir: Path | None) -> str | None:
    """Why the flow cannot be replayed silently (None: it can): relative URLs need a site or a base URL."""
    relative = any(isinstance(a, Goto) and "://" not in a.url for a in actions)
    if relative and not (site_dir is not None and site_dir.is_dir()) and not settings.base_url:
        return "its addresses are relative and the site's folder is not known"
    if not any(isinstance(a, Goto) for a in actions):
        return "it opens no page"
    return None


async def _observe(inp: DraftInput, config: DrafterConfig, tracker: StageTracker, warnings: list[str],
                   cancel: CancelToken | None, session_file: Path | None = None) -> FlowObservation | None:
    """The silent run, when it can be made; its problems are warnings, never a failed draft."""
    from ..bundle import _site_folder_files

    actions = inp.actions
    why = observable(actions, inp.settings, config.site_dir)
    if why is None and inp.settings.session is not None and session_file is None:
        why = f"it runs signed in and its session {inp.settings.session} was not found"
    if why is not None:
        warnings.append(f"the flow was not replayed to see its pages ({why}); the narration is written from "
                        "the recorded code")
        return None
    site_files = None
    if config.site_dir is not None and config.site_dir.is_dir() and inp.settings.site:
        site_files = _site_folder_files(config.site_dir, config.site_dir)[0]
    tracker.report("observe", 0.0, "replaying the flow silently to see its pages")
    try:
        seen = await observe_flow(
            actions, inp.settings, site_files=site_files, root=config.site_dir.parent if config.site_dir else None,
            cancel=cancel, time_limit_s=config.observe_time_limit_s,
            on_progress=lambda f, m: tracker.report("observe", f, m), session_file=session_file)
    except ToolMissingError as exc:
        warnings.append(f"no browser to replay the flow ({exc.message}); the narration is written from the "
                        "recorded code")
        return None
    except Cancelled:
        raise
    except ReelwrightError as exc:  # never the end of a draft: it is written from the code instead
        warnings.append(f"the flow could not be replayed to see its pages ({exc.message.splitlines()[0]}); "
                        "the narration is written from the recorded code")
        return None
    if seen.note is not None:
        warnings.append(f"the silent run saw {len(seen.observations)} of {seen.actions} steps ({seen.note}); "
                        "the rest is narrated from the recorded code")
    return seen


async def _remote_draft(
    inp: DraftInput, config: DrafterConfig, tracker: StageTracker, cancel: CancelToken | None
) -> DraftResult:
    from .drafters.llm import llm_draft

    try:
        return await llm_draft(inp, config, tracker=tracker, cancel=cancel)
    except Cancelled:
        raise
    except DraftError as exc:
        if not config.fallback_to_offline:
            raise
        result = await asyncio.to_thread(offline_draft, inp)
        result.warnings.insert(0, f"the {config.kind} drafter failed ({exc.message}); this is the offline draft")
        return result
