"""The workbench's typed operations: data in, a core coroutine out (draft, import, voice a card, check,
render locally or in the cloud, sign in).  No Qt in here.

Each function returns an :data:`OpFactory` — ``(on_progress, cancel) -> awaitable`` with a typed result —
which the app runs as an :class:`~app.ui.ops.Op`.  The core modules are imported when an operation
starts, not at app start: the first paint must be quick, Playwright is heavy and boto3 is slow.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import time
from collections.abc import Awaitable, Callable
from contextlib import AbstractContextManager
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar

from app.cloud import register_services
from app.cloud.cfsign import ShareLink as _ShareLink
from app.core.bundle import Job, RenderSettings
from app.core.errors import ReelwrightError
from app.core.infra.progress import CancelToken, Progress, ProgressCallback
from app.core.script import FPS_OPTIONS, Script, VoiceSettings
from app.core.script import Settings as ScriptSettings
from app.workbench.cloud_jobs import ALL_VARIANTS as _ALL_VARIANTS
from app.workbench.sessions import SessionStore, materialize
from app.workbench.storage import AppSettings, ImportReport, LibraryFile, RenderRecord, Store

T = TypeVar("T")
#: a long operation as the doors run it: ``(on_progress, cancel) -> awaitable result``.  The app's
#: ``Op`` runs these with progress, cancel and error dialogs; the CLI could run them with a printer.
OpFactory = Callable[[ProgressCallback, CancelToken], Awaitable[T]]

if TYPE_CHECKING:  # imported when used: the cloud client loads boto3, the render Playwright
    from app.cloud.client import CloudClient, CloudRender
    from app.cloud.layout import JobStatus
    from app.core.capture.launch import WarmBrowser
    from app.core.draft.drafters.base import DraftResult
    from app.core.preview import PreparedPreview, PreviewResult
    from app.core.render import CheckResult, RenderResult
    from app.core.voice.base import VoiceClip
    from app.workbench.cloud_jobs import CloudJob, CloudJobStore
    from app.workbench.recorder import RecordOutcome, RecordRequest

log = logging.getLogger(__name__)

# The desktop app is a door like the CLI: it offers the AWS-backed services (Bedrock drafts, Polly
# voices) by adding them to the core's registries.  Nothing AWS loads until one is used.
register_services()



# --------------------------------------------------------------------------- library


def import_files(store: Store, paths: list[Path]) -> OpFactory[ImportReport]:
    async def op(on_progress: ProgressCallback, cancel: CancelToken) -> ImportReport:
        def progress(i: int, n: int, name: str) -> None:
            on_progress(Progress("import", i / n if n else 1.0, name))

        return await asyncio.to_thread(store.import_paths, paths, cancelled=lambda: cancel.cancelled,
                                       progress=progress)

    return op


def preview_text(store: Store, file: LibraryFile, limit: int = 200_000) -> OpFactory[str]:
    """The preview's text: the first page's text of a PDF, else the file's text."""

    async def op(on_progress: ProgressCallback, cancel: CancelToken) -> str:
        path = store.blob_path(file.sha256)

        def read() -> str:
            if file.kind == "pdf":
                from pypdf import PdfReader
                from pypdf.errors import PdfReadError

                try:
                    reader = PdfReader(path)
                    n = len(reader.pages)
                    text = reader.pages[0].extract_text() if n else ""
                except (PdfReadError, OSError, ValueError) as exc:
                    raise ReelwrightError(f"{file.name}: cannot read this PDF ({exc})") from exc
                return f"[page 1 of {n}]\n\n{text.strip()}"
            with open(path, "rb") as f:
                raw = f.read(limit)
            return raw.decode("utf-8", errors="replace")

        return await asyncio.to_thread(read)

    return op


def record(store: Store, request: RecordRequest) -> OpFactory[RecordOutcome]:
    """Record a flow with Playwright's recorder; the flow (and a saved session) land in the library."""

    async def op(on_progress: ProgressCallback, cancel: CancelToken) -> RecordOutcome:
        from app.workbench.recorder import record as run

        return await run(store, request, on_progress, cancel)

    return op


# --------------------------------------------------------------------------- drafting


def draft(store: Store, files: list[LibraryFile], prompt: str, drafter: str, app_settings: AppSettings,
          settings: ScriptSettings | None = None, cloud: CloudClient | None = None) -> OpFactory[DraftResult]:
    """Draft a script from the ordered files and the prompt with the chosen drafter (Bedrock on the
    signed-in user's credentials when ``cloud`` is signed in)."""

    async def op(on_progress: ProgressCallback, cancel: CancelToken) -> DraftResult:
        from app.core.draft import drafting

        with_names = await asyncio.to_thread(_named_copies, store, files)
        config = drafter_config(drafter, app_settings)
        await use_cloud_credentials(config, cloud)
        from app.workbench.sessions import SessionStore

        config.sessions_dir = SessionStore(store.root).dir
        return await drafting.draft(with_names, prompt, config=config, settings=settings,
                                    on_progress=on_progress, cancel=cancel)

    return op


def default_script_settings(app_settings: AppSettings, current: dict[str, Any] | None) -> ScriptSettings:
    """The settings a new draft starts from: the script's own (site, voice, format…) over the app's
    defaults, so a format chosen before the first draft is kept; the app's defaults alone when the
    script's are not valid."""
    data: dict[str, Any] = {"voice": {"provider": app_settings.voice_provider, "voice": app_settings.voice,
                                      "rate": app_settings.voice_rate}}
    if app_settings.fps in FPS_OPTIONS:
        data["fps"] = app_settings.fps
    data["width"], data["height"] = app_settings.width, app_settings.height
    if current:
        try:
            return ScriptSettings.model_validate({**data, **current})
        except ValueError:
            pass
    try:
        return ScriptSettings.model_validate(data)
    except ValueError:
        return ScriptSettings()


def _named_copies(store: Store, files: list[LibraryFile]) -> list[Path]:
    """The drafter reads files by name (kind, titles): give it the library names, not the hashes."""
    out: list[Path] = []
    base = store.root / "tmp" / "draft"
    base.mkdir(parents=True, exist_ok=True)
    for i, f in enumerate(files):
        d = base / f"{i:03d}"
        d.mkdir(exist_ok=True)
        p = d / f.name
        src = store.blob_path(f.sha256)
        if p.exists() or p.is_symlink():
            p.unlink()
        try:
            p.symlink_to(src)
        except OSError:
            import shutil

            shutil.copyfile(src, p)
        out.append(p)
    return out


def drafter_config(drafter: str, s: AppSettings) -> Any:
    from app.core.draft.drafters.base import DrafterConfig

    kind = drafter if drafter in drafter_names() else "offline"
    return DrafterConfig(kind=kind,
                         bedrock_model_id=s.bedrock_model, bedrock_region=s.bedrock_region or None,
                         openai_base_url=s.openai_base_url, openai_model=s.openai_model,
                         observe=s.draft_observe,
                         # keys only from the environment, never stored by the app
                         openai_api_key=os.environ.get("OPENAI_API_KEY"))


async def use_cloud_credentials(config: Any, cloud: CloudClient | None) -> None:
    """Bedrock through the tenant: when signed in, a ``bedrock`` config gets the user's own identity-pool
    credentials (the stack's tenant role allows the configured model ids); otherwise the standard AWS
    credential chain applies (a profile, the environment)."""
    if config.kind == "bedrock" and cloud is not None and cloud.signed_in and config.boto3_session is None:
        config.boto3_session = await cloud.aws_session()


def translate(script: Script, lang: str, drafter: str, app_settings: AppSettings, cloud: CloudClient | None = None,
              card_ids: list[str] | None = None) -> OpFactory[dict[str, str]]:
    """Translate the narration of ``card_ids`` (else every card missing ``lang``) with the model drafter
    ``drafter`` (``openai``, ``bedrock``); returns {card id: translation}, one card at a time."""

    async def op(on_progress: ProgressCallback, cancel: CancelToken) -> dict[str, str]:
        from app.core import languages
        from app.core.draft.drafters.translate import LLMTranslator

        config = drafter_config(drafter, app_settings)
        if config.kind == "offline":
            raise ReelwrightError("translating needs a model: the offline drafter cannot translate",
                                  hint="choose Amazon Bedrock or an OpenAI-compatible endpoint as the drafter, "
                                  "or type the translation by hand")
        await use_cloud_credentials(config, cloud)
        translator = await asyncio.to_thread(LLMTranslator, config, None, cancel)
        return await languages.translate_cards(script, lang, translator, card_ids=card_ids,
                                               on_progress=on_progress, cancel=cancel)

    return op


def drafter_names() -> list[str]:
    from app.core.draft.drafting import drafter_kinds

    return drafter_kinds()


def voice_provider_names() -> list[str]:
    from app.core.voice import registered_providers

    return registered_providers()


# --------------------------------------------------------------------------- voice


def voice_settings_for(script_settings: dict[str, Any] | None, app_settings: AppSettings) -> VoiceSettings:
    raw = (script_settings or {}).get("voice")
    if isinstance(raw, dict):
        try:
            return VoiceSettings.model_validate(raw)
        except ValueError:
            pass
    return VoiceSettings.model_validate({"provider": app_settings.voice_provider, "voice": app_settings.voice,
                                         "rate": app_settings.voice_rate})


def base_language(script_settings: dict[str, Any] | None) -> str:
    lang = (script_settings or {}).get("language")
    return lang if isinstance(lang, str) and lang else "en"


def voice_settings_for_language(script_settings: dict[str, Any] | None, lang: str,
                                app_settings: AppSettings) -> VoiceSettings:
    """The voice of an extra language (``settings.languages``), as the render would use it."""
    for raw in (script_settings or {}).get("languages") or []:
        if isinstance(raw, dict) and raw.get("lang") == lang:
            try:
                return VoiceSettings.model_validate({k: raw[k] for k in ("provider", "voice", "rate") if k in raw})
            except ValueError:
                break
    return voice_settings_for(script_settings, app_settings)


def default_provider_for(lang: str) -> str:
    from app.core.languages import default_voice_for

    return default_voice_for(lang)[0]


def voice_suggestions(provider: str, lang: str) -> list[str]:
    """Voice ids offered for ``lang``: Piper's installed voice (English), espeak-ng's language, Polly's."""
    from app.core.languages import voice_suggestions as suggestions

    return suggestions(provider, lang)


def voice_card(narration: str, voice: VoiceSettings, cache_dir: Path | None = None) -> OpFactory[VoiceClip]:
    """Voice one card's narration (the per-card preview); returns the core's VoiceClip."""

    async def op(on_progress: ProgressCallback, cancel: CancelToken) -> VoiceClip:
        from app.core import voice as v

        on_progress(Progress("voice", 0.0, "loading the voice"))
        provider = await v.load_provider(voice.provider, voice)
        on_progress(Progress("voice", 0.3, "speaking"))
        clip = await v.VoiceService(provider, cache_dir).voice(narration, voice, cancel)
        on_progress(Progress("voice", 1.0, f"{clip.duration_s:.1f} s"))
        return clip

    return op


def voice_cache_size() -> int:
    from app.core import voice

    return voice.cache_size_bytes()


def clear_voice_cache() -> int:
    from app.core import voice

    return voice.clear_cache()


# --------------------------------------------------------------------------- render and check


def make_job(script: Script, root: Path, render: RenderSettings | None = None) -> Job:
    return Job(script=script, render=render or RenderSettings(), root=root.resolve(), loose=True)


def check(job: Job, upto_card: int | None, sessions: SessionStore | None = None, *,
          thumbnails: Path | None = None) -> OpFactory[CheckResult]:
    """Check the flow up to a card; with ``thumbnails`` (a folder), keep a still of each card checked
    there for the storyboard (see :mod:`app.workbench.storyboard`)."""
    async def op(on_progress: ProgressCallback, cancel: CancelToken) -> CheckResult:
        from app.core import render

        with _session_for(job, sessions):
            result = await render.check(job, on_progress, cancel, upto_card=upto_card,
                                        snapshots=thumbnails is not None)
        if thumbnails is not None:
            from .storyboard import thumbnails_from_stills

            await thumbnails_from_stills(result.snapshots, thumbnails, cancel)
        return result

    return op


@dataclass
class PreviewOutcome:
    result: PreviewResult
    elapsed_s: float


def preview_path(project_dir: Path, card_id: str) -> Path:
    """Where a card's preview lives: the project's cache folder (made again whenever asked)."""
    safe = "".join(ch if ch.isalnum() or ch in "-_" else "_" for ch in card_id)[:80] or "card"
    return project_dir / "cache" / "previews" / f"{safe}.mp4"


def preview_card(job: Job, card_index: int, out: Path, sessions: SessionStore | None = None,
                 warm: WarmBrowser | None = None, prepared: PreparedPreview | None = None) -> OpFactory[PreviewOutcome]:
    """Render one card alone, small (the card editor's "Preview card"); see app.core.preview.
    ``warm``: the browser kept between previews (see app.core.capture.launch); ``prepared``: the flow
    replayed up to the card ahead of the click (see :func:`prepare_preview`)."""

    async def op(on_progress: ProgressCallback, cancel: CancelToken) -> PreviewOutcome:
        from app.core import preview

        t0 = time.monotonic()
        with _session_for(job, sessions):
            result = await preview.preview_card(job, card_index, out, on_progress=on_progress, cancel=cancel,
                                                 warm=warm, prepared=prepared)
        return PreviewOutcome(result, time.monotonic() - t0)

    return op


def prepare_preview(job: Job, card_index: int, out: Path, warm: WarmBrowser) -> PreparedPreview | None:
    """Replay the flow up to a card in the background, ahead of "Preview card" (None: this script is not
    prepared ahead — a target length, or a signed-in session, which is only materialised during an op)."""
    from app.core import preview

    if job.loose and job.script.settings.session:
        return None
    return preview.prepare_preview(job, card_index, out, warm=warm)


async def warm_up_preview(job: Job, warm: WarmBrowser) -> None:
    """Start the browser a preview of ``job`` needs, ahead of time (quietly: a failure here shows up,
    named, when the preview itself runs)."""
    from app.core import preview

    try:
        await preview.warm_up(job, warm)
    except (ReelwrightError, OSError) as exc:
        log.info("could not start the preview browser ahead of time: %s", exc)


def _session_for(job: Job, sessions: SessionStore | None) -> AbstractContextManager[Path | None]:
    """The library session the script names, copied (0600) where the job resolves it, for the op's
    duration (see :func:`app.workbench.sessions.materialize`)."""
    if sessions is None or not job.loose:
        return contextlib.nullcontext()
    return materialize(sessions, job.script.settings.session, job.root)


@dataclass
class RenderOutcome:
    result: RenderResult
    output_dir: Path
    elapsed_s: float


def render_local(job: Job, output_dir: Path, sessions: SessionStore | None = None, *,
                 thumbnails: Path | None = None) -> OpFactory[RenderOutcome]:
    """Render locally; with ``thumbnails`` (a folder), keep a still of each card of the video there."""
    async def op(on_progress: ProgressCallback, cancel: CancelToken) -> RenderOutcome:
        from app.core import render

        t0 = time.monotonic()
        with _session_for(job, sessions):
            result = await render.render(job, output_dir, on_progress, cancel, name="video")
        if thumbnails is not None and result.timeline is not None:
            from .storyboard import thumbnail_times, thumbnails_from_video

            times = thumbnail_times(result.timeline, [c.id for c in job.script.cards])
            await thumbnails_from_video(result.video, times, thumbnails, cancel)
        return RenderOutcome(result, output_dir, time.monotonic() - t0)

    return op


@dataclass
class LanguagesOutcome:
    results: dict[str, RenderResult]  # by language, in render order
    output_dir: Path
    elapsed_s: float


def render_languages_local(job: Job, output_dir: Path, languages: list[str],
                           sessions: SessionStore | None = None) -> OpFactory[LanguagesOutcome]:
    """Render one video per language (``video.<lang>.mp4``); every translation is checked first."""

    async def op(on_progress: ProgressCallback, cancel: CancelToken) -> LanguagesOutcome:
        from app.core.languages import render_languages

        t0 = time.monotonic()
        with _session_for(job, sessions):
            results = await render_languages(job, output_dir, on_progress, cancel, name="video",
                                             languages=languages)
        return LanguagesOutcome(results, output_dir, time.monotonic() - t0)

    return op


def cloud_available() -> bool:
    """Whether the cloud client is part of this build (found without importing it: boto3 is slow)."""
    import importlib.util

    try:
        return importlib.util.find_spec("app.cloud.client") is not None
    except (ImportError, ValueError):
        return False


# --------------------------------------------------------------------------- cloud


def make_cloud_client() -> CloudClient:
    """A client for the configured cloud (``reelwright cloud configure`` / ``cloud emulate``).

    Raises the cloud package's CloudConfigError (with a hint) when no cloud is configured.  Imports
    boto3: call it through ``asyncio.to_thread``.
    """
    from app.cloud.client import CloudClient
    from app.cloud.config import load_config

    return CloudClient(load_config())


def cloud_sign_in(client: CloudClient | None, email: str, password: str) -> OpFactory[CloudClient]:
    """Sign in (creating the client first if there is none yet); the op returns the signed-in client."""

    async def op(on_progress: ProgressCallback, cancel: CancelToken) -> CloudClient:
        signed = client if client is not None else await asyncio.to_thread(make_cloud_client)
        on_progress(Progress("sign in", 0.3, f"signing in as {email}"))
        await signed.sign_in(email, password)
        on_progress(Progress("sign in", 1.0, "signed in"))
        return signed

    return op


def _job_listeners(jobs: CloudJobStore | None, on_job: Callable[[CloudJob], None] | None,
                   on_progress: ProgressCallback) -> tuple[Callable[..., None], Callable[[JobStatus], None]]:
    """``note(job_id, **fields)`` updates the app's job list (and tells ``on_job``); ``on_status(st)``
    reports a cloud job's status as progress and notes it on a new state or every 5 %, not on every tick."""
    from app.workbench.cloud_jobs import status_fields

    last: list[tuple[str, float]] = []

    def note(job_id: str, **fields: Any) -> None:
        if jobs is None:
            return
        rec = jobs.update(job_id, **fields)
        if rec is not None and on_job is not None:
            on_job(rec)

    def on_status(st: JobStatus) -> None:
        frac = float(st.progress) if st.progress is not None else 0.0
        on_progress(Progress(st.stage or str(st.state).lower(), frac, st.message or st.describe(), overall=frac))
        key = (str(st.state), frac)
        if not last or last[0][0] != key[0] or abs(last[0][1] - frac) >= 0.05 or st.terminal:
            last[:] = [key]
            note(st.job_id, **status_fields(st))

    return note, on_status


def render_cloud(client: CloudClient, job: Job, output_dir: Path, sessions: SessionStore | None = None, *,
                 jobs: CloudJobStore | None = None, entry: CloudJob | None = None,
                 on_job: Callable[[CloudJob], None] | None = None,
                 keep_job: Callable[[], bool] | None = None,
                 thumbnails: Path | None = None) -> OpFactory[CloudOutcome]:
    """Upload the job, follow it to the end, download the outputs (``CloudClient.render``).

    With ``jobs`` and ``entry`` the job is recorded in the app's job list the moment it is submitted
    (``entry`` describes it: project, script, format), and its state is kept there as it changes;
    ``on_job`` hears of each change.  Cancelling after the upload also cancels the cloud job, unless
    ``keep_job()`` says otherwise (the window closing): then the job renders on, and the job list finds
    it again.  With ``thumbnails`` (a folder), the storyboard's stills are taken from the video that
    came back, as after a local render."""

    async def op(on_progress: ProgressCallback, cancel: CancelToken) -> CloudOutcome:
        t0 = time.monotonic()
        note, on_status = _job_listeners(jobs, on_job, on_progress)

        def on_submitted(job_id: str) -> None:
            if jobs is not None and entry is not None:
                rec = jobs.add(entry.model_copy(update={"job_id": job_id, "submitted": time.time(),
                                                        "account": client.username or entry.account}))
                if on_job is not None:
                    on_job(rec)

        output_dir.mkdir(parents=True, exist_ok=True)
        with _session_for(job, sessions):
            done = await client.render(job, output_dir, on_progress, cancel, on_status=on_status,
                                       on_submitted=on_submitted, keep_job=keep_job)
        note(done.job_id, output=str(done.video), fetched=time.time())
        if thumbnails is not None:
            from .storyboard import thumbnails_from_outputs

            await thumbnails_from_outputs(done.files, thumbnails, cancel)
        return CloudOutcome(done, time.monotonic() - t0)

    return op


@dataclass
class CloudLanguagesOutcome:
    """Every language as one fan-out cloud job: what came back, and what did not."""

    results: dict[str, CloudOutcome]  # by language, for the variants that completed
    failed: dict[str, BaseException]  # by language, for the ones that did not
    output_dir: Path
    elapsed_s: float
    job_id: str = ""


def render_cloud_languages(client: CloudClient, job: Job, output_dir: Path, languages: list[str],
                           sessions: SessionStore | None = None, *, jobs: CloudJobStore | None = None,
                           entry: CloudJob | None = None,
                           on_job: Callable[[CloudJob], None] | None = None,
                           keep_job: Callable[[], bool] | None = None,
                           on_language: Callable[[str, CloudOutcome | BaseException], None] | None = None,
                           thumbnails: Path | None = None) -> OpFactory[CloudLanguagesOutcome]:
    """Every language in one cloud submission: a fan-out job with one variant per language (the state
    machine's ``RenderVariants`` map renders them in parallel, up to the account's concurrency), followed
    to its end; each completed variant is downloaded into ``output_dir/<variant>/`` (the variant of
    ``de`` is ``de``, of ``pt-BR`` ``pt-br``).  The job is one entry in the job list (``entry`` with the
    languages after the script's name).  A language that fails does not stop the others: ``on_language``
    hears how each ended and the outcome lists both kinds; only when every language failed does the
    operation fail, with the first error.  A cancel cancels the job (unless ``keep_job()``: then it
    renders on, and the job list fetches it)."""
    from app.cloud.errors import CloudError
    from app.cloud.layout import Variant
    from app.core.errors import Cancelled
    from app.core.languages import job_for_language

    for lang in languages:  # a missing translation: now, before anything is uploaded
        job_for_language(job, lang)
    variants = {lang: Variant.of(lang, None) for lang in languages}

    async def op(on_progress: ProgressCallback, cancel: CancelToken) -> CloudLanguagesOutcome:
        from app.cloud.client import CloudRender

        t0 = time.monotonic()
        note, on_status = _job_listeners(jobs, on_job, on_progress)

        output_dir.mkdir(parents=True, exist_ok=True)
        with _session_for(job, sessions):
            job_id = await client.submit(job, on_progress, cancel, variants=list(variants.values()))
        if jobs is not None and entry is not None:
            rec = jobs.add(entry.model_copy(update={
                "job_id": job_id, "submitted": time.time(), "account": client.username or entry.account,
                "script": f"{entry.script} ({', '.join(languages)})",
                "variants": {v.name: "Queued" for v in variants.values()}}))
            if on_job is not None:
                on_job(rec)
        try:
            final = await client.watch(job_id, on_status, cancel, poll_s=1.0)
        except Cancelled:
            if keep_job is None or not keep_job():
                await client.cancel(job_id)
            raise
        files = await client.fetch(job_id, output_dir, on_progress, cancel, partial=True) \
            if any(v.state == "Complete" for v in final.variants) else []
        results: dict[str, CloudOutcome] = {}
        failed: dict[str, BaseException] = {}
        by_name = {v.variant.name: v for v in final.variants}
        for lang, variant in variants.items():
            vs = by_name.get(variant.name)
            mine = [f for f in files if f.parent == output_dir / variant.name]
            if vs is not None and vs.state == "Complete" and any(f.suffix == ".mp4" for f in mine):
                results[lang] = CloudOutcome(CloudRender(job_id, final, mine), time.monotonic() - t0)
            elif final.state == "Cancelled" or (vs is not None and vs.state == "Cancelled"):
                failed[lang] = Cancelled(f"cloud job {job_id} was cancelled")
            else:
                why = (vs.cause or vs.error) if vs is not None else None
                failed[lang] = CloudError(f"cloud job {job_id}, variant {variant.name}: "
                                          f"{why or final.describe()}")
        if results:
            first = next(iter(results.values()))
            note(job_id, output=str(first.render.video), fetched=time.time())
            if thumbnails is not None:  # every language shows the same cards: the first one's stills
                from .storyboard import thumbnails_from_outputs

                await thumbnails_from_outputs(first.render.files, thumbnails, cancel)
        if on_language is not None:
            for lang in languages:
                on_language(lang, results[lang] if lang in results else failed[lang])
        if not results:
            raise next(iter(failed.values()))
        return CloudLanguagesOutcome(results, failed, output_dir, time.monotonic() - t0, job_id)

    return op


def fetch_cloud_job(client: CloudClient, job_id: str, output_dir: Path,
                    jobs: CloudJobStore | None = None, thumbnails: Path | None = None) -> OpFactory[CloudOutcome]:
    """Download a finished cloud job's outputs into ``output_dir`` (what a cloud render does after the
    job ends), and note where the video went in the job list; with ``thumbnails``, the storyboard's
    stills come from that video."""

    async def op(on_progress: ProgressCallback, cancel: CancelToken) -> CloudOutcome:
        from app.cloud.client import CloudRender
        from app.cloud.errors import CloudError

        t0 = time.monotonic()
        status = await client.status(job_id)
        # a fan-out job that failed in one variant still has the others' outputs
        some_done = status.terminal and any(v.state == "Complete" for v in status.variants)
        if status.state != "Complete" and not some_done:
            raise CloudError(f"cloud job {job_id} is {status.describe()}; only complete jobs have outputs")
        output_dir.mkdir(parents=True, exist_ok=True)
        files = await client.fetch(job_id, output_dir, on_progress, cancel, partial=True)
        if not any(p.suffix == ".mp4" for p in files):
            raise CloudError(f"cloud job {job_id} finished without a video")
        done = CloudRender(job_id, status, files)
        if jobs is not None:
            final = {"status": "Complete", "progress": 1.0, "error": None} if status.state == "Complete" else {}
            await asyncio.to_thread(jobs.update, job_id, output=str(done.video), fetched=time.time(), **final)
        if thumbnails is not None:
            from .storyboard import thumbnails_from_outputs

            await thumbnails_from_outputs(done.files, thumbnails, cancel)
        return CloudOutcome(done, time.monotonic() - t0)

    return op


@dataclass
class JobsPoll:
    """What a look at the cloud found: the jobs that changed state (to tell the user about the ones
    that finished) and whether the whole list was read (else only the active jobs were asked)."""

    changed: list[CloudJob]
    full: bool


def poll_cloud_jobs(client: CloudClient, jobs: CloudJobStore, *, full: bool) -> OpFactory[JobsPoll]:
    """Bring the job list up to date: ``full`` reads every job of the account from the cloud (and adds
    those submitted elsewhere); otherwise only our unfinished jobs are asked for their status."""

    async def op(on_progress: ProgressCallback, cancel: CancelToken) -> JobsPoll:
        from app.cloud.errors import JobNotFound

        account = client.username or ""
        if full:
            on_progress(Progress("cloud jobs", 0.0, "listing your cloud jobs"))
            statuses = await client.list_jobs()
            changed = await asyncio.to_thread(jobs.merge_server, statuses, account)
            return JobsPoll(changed, True)
        changed = []
        for rec in await asyncio.to_thread(jobs.jobs):
            if rec.terminal or (rec.account and account and rec.account != account):
                continue
            cancel.raise_if_cancelled()
            try:
                st = await client.status(rec.job_id)
            except JobNotFound:
                continue
            new = await asyncio.to_thread(jobs.apply_status, st)
            if new is not None and new.status != rec.status:
                changed.append(new)
        return JobsPoll(changed, False)

    return op


def cancel_cloud_job(client: CloudClient, job_id: str) -> OpFactory[JobStatus]:
    """Ask a cloud job to stop; returns its status right after asking (the recorder stops within a
    second or two, and the job list's polling sees it end Cancelled)."""

    async def op(on_progress: ProgressCallback, cancel: CancelToken) -> JobStatus:
        await client.cancel(job_id)
        return await client.status(job_id)

    return op


#: how long a copied share link works (the signing credentials may end it sooner on AWS)
SHARE_LINK_S = 3600


ShareLink = _ShareLink  # the link and when it really stops working (app.cloud.cfsign.ShareLink)


ALL_VARIANTS = _ALL_VARIANTS  # share_cloud_job's variant for every variant's video of a fan-out job


@dataclass
class SharedVideos:
    """The links copied for one share: one video's, or one per variant of a fan-out job."""

    links: list[tuple[str, ShareLink]]  # (label: the variant's name, or the file's for a single render, link)
    fan_out: bool = False

    @property
    def text(self) -> str:
        """What goes on the clipboard: the bare URL of one video (pasted as it is), else a line
        ``<variant>: <url>`` each (a recipient sees which language and format each link is)."""
        if len(self.links) == 1:
            return self.links[0][1].url
        return "\n".join(f"{label}: {link.url}" for label, link in self.links)

    @property
    def first(self) -> ShareLink:
        return self.links[0][1]

    def until_text(self) -> str:
        """When the links stop working: the earliest one's end (they are signed within a second)."""
        return min((link for _, link in self.links), key=lambda link: link.expires).until_text()


def share_cloud_job(client: CloudClient, job_id: str, expires_s: int = SHARE_LINK_S, *,
                    variant: str | None = None) -> OpFactory[SharedVideos]:
    """A link to a finished job's video.  ``variant`` (a fan-out job): that variant's video, or
    ``ALL_VARIANTS`` for one link per variant; ``None`` is the job's (first) video."""
    async def op(on_progress: ProgressCallback, cancel: CancelToken) -> SharedVideos:
        if variant is None:
            link = await client.share_link(job_id, expires_s)
            return SharedVideos([("video", link)])
        named = await client.share_links(job_id, expires_s, None if variant == ALL_VARIANTS else variant)
        variants = [name.split("/", 1)[0] for name, _ in named]
        # one video per variant (the usual): the variant's name says it all; else the whole <variant>/<file>
        labels = variants if len(set(variants)) == len(variants) else [name for name, _ in named]
        return SharedVideos([(label, link) for label, (_, link) in zip(labels, named, strict=True)], fan_out=True)

    return op


@dataclass
class CloudOutcome:
    render: CloudRender
    elapsed_s: float


def record_chapters(record: RenderRecord) -> list[tuple[str, float]]:
    """(title, start s) of each chapter of a finished render, as the render computed them — local and
    cloud alike.  Records saved before chapters were recorded read the render's ``.chapters.txt``."""
    from app.core.mix.captions import parse_youtube_chapters

    chapters = record.chapters
    if not chapters and record.output:
        txt = Path(record.output).with_suffix(".chapters.txt")
        if txt.is_file():
            chapters = parse_youtube_chapters(txt.read_text(encoding="utf-8"), record.duration_s)
    return [(title, start) for start, _end, title in chapters]
