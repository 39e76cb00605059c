"""The async facade the desktop app and the CLI use for Reelwright Cloud.

Every method is a coroutine; blocking boto3/pycognito calls run in ``asyncio.to_thread``.  Long
operations take ``on_progress`` (``app.core.infra.progress.Progress`` events, stage "upload"/"download")
and a ``CancelToken``, like every long operation of the core.

    client = CloudClient(load_config())
    await client.sign_in(email, password)
    job_id = await client.submit(Path("job.zip"), on_progress=print)
    final = await client.watch(job_id, on_status=print)
    files = await client.fetch(job_id, Path("out"))
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import json
import secrets
import tempfile
import time
import urllib.error
import urllib.request
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from botocore.auth import SigV4Auth
from botocore.awsrequest import AWSRequest
from botocore.exceptions import BotoCoreError, ClientError

from app.core import limits as L
from app.core.bundle import Job, RenderSettings, load_job, write_bundle
from app.core.errors import Cancelled, ScriptError
from app.core.infra.progress import CancelToken, Progress, ProgressCallback

from . import transfer
from .auth import CognitoAuth
from .cfsign import ShareLink
from .config import CloudConfig, cloud_home, load_config
from .errors import CloudError, JobNotFound
from .layout import (
    JOB_ID_RE,
    SESSION_TAGGING,
    VARIANTS_METADATA,
    JobRef,
    JobStatus,
    OutputFile,
    Variant,
    asset_key,
    tenant_prefix,
    variants_metadata,
)
from .tokens import Session, TokenStore
from .voices import polly_voiced

StatusCallback = Callable[[JobStatus], None]


def new_job_id() -> str:
    """Sortable by submission time, unguessable enough to not collide: ``20261121-031502-9f3a1c``."""
    return datetime.now(UTC).strftime("%Y%m%d-%H%M%S-") + secrets.token_hex(3)


@dataclass
class CloudRender:
    """A finished cloud render: its job, final status (chapters, duration) and the downloaded files."""

    job_id: str
    status: JobStatus
    files: list[Path]

    @property
    def video(self) -> Path:
        return next(p for p in self.files if p.suffix == ".mp4")


def _noop_progress(_: Progress) -> None:
    return None


#: Playwright storage states are a few KiB; anything this large is not one
MAX_SESSION_BYTES = 4 * 1024 * 1024


def check_upload_sizes(job_json_bytes: int, assets: dict[str, int]) -> None:
    """Refuse a job over the limits of :mod:`app.core.limits` before anything is uploaded: ``assets``
    maps a name the user knows (the asset's path in the script) to its size in bytes.  The recorder
    checks the same limits again (S3 itself caps no PUT below 5 GiB), so this is the friendly half."""
    problems = []
    if job_json_bytes > L.MAX_SCRIPT_BYTES:
        problems.append(f"job.json is {job_json_bytes:,} bytes; the limit is {L.MAX_SCRIPT_BYTES:,}")
    for name, size in sorted(assets.items()):
        if size > L.MAX_ASSET_BYTES:
            problems.append(f"asset '{name}' is {size:,} bytes; one asset may be at most {L.MAX_ASSET_BYTES:,}")
    total = sum(assets.values())
    if total > L.MAX_BUNDLE_BYTES:
        problems.append(f"the assets come to {total:,} bytes; a job may carry at most {L.MAX_BUNDLE_BYTES:,}")
    if problems:
        raise CloudError("the job is too large to submit: " + "; ".join(problems))


def _read_session(job: Job) -> tuple[str, bytes] | None:
    """(bundle path, bytes) of the job's session file, or None when its script signs in with none."""
    rel = job.script.settings.session
    if not rel:
        return None
    try:
        path = job.resolve(rel)
        size = path.stat().st_size
        if size > MAX_SESSION_BYTES:
            raise CloudError(f"the session file '{rel}' is {size / 1e6:.1f} MB; a browser session is a few KB "
                             "(is it the right file?)")
        return rel, path.read_bytes()
    except ScriptError as exc:
        raise CloudError(f"the session file '{rel}' is not in the job: {exc}") from None
    except OSError as exc:
        raise CloudError(f"cannot read the session file '{rel}': {exc.strerror or exc}") from None


class CloudClient:
    """Sign-in, submit, watch, cancel, list, fetch and share — for the signed-in user's tenant only."""

    def __init__(self, config: CloudConfig, store: TokenStore | None = None) -> None:
        self.config = config
        self.auth = CognitoAuth(config, store)
        self._s3: Any = None

    @classmethod
    def from_saved_config(cls, path: Path | None = None) -> CloudClient:
        """The client for the configuration ``configure``/``emulate`` wrote (CloudConfigError if none)."""
        return cls(load_config(path))

    # ------------------------------------------------------------------ account

    @property
    def signed_in(self) -> bool:
        """A session is stored (it may still need a refresh, which happens on the next call)."""
        return self.auth.session is not None

    @property
    def store_warning(self) -> str | None:
        """Set when the session is kept in a 0600 file instead of the OS keyring: show it."""
        return self.auth.store.warning

    @property
    def username(self) -> str | None:
        s = self.auth.session
        return s.username if s else None

    async def sign_up(self, email: str, password: str) -> None:
        await asyncio.to_thread(self.auth.sign_up, email, password)

    async def confirm(self, email: str, code: str) -> None:
        await asyncio.to_thread(self.auth.confirm, email, code)

    async def sign_in(self, email: str, password: str, *, flow: str = "srp",
                      new_password: str | None = None) -> Session:
        self._s3 = None
        return await asyncio.to_thread(self.auth.sign_in, email, password, flow=flow, new_password=new_password)

    async def refresh(self) -> Session:
        return await asyncio.to_thread(self.auth.refresh)

    async def sign_out(self) -> None:
        self._s3 = None
        await asyncio.to_thread(self.auth.sign_out)

    async def forgot(self, email: str) -> None:
        await asyncio.to_thread(self.auth.forgot, email)

    async def reset(self, email: str, code: str, new_password: str) -> None:
        await asyncio.to_thread(self.auth.reset, email, code, new_password)

    async def aws_session(self) -> Any:
        """A boto3 session on the signed-in user's tenant credentials (from the identity pool, refreshed
        before they expire).  Bedrock drafting and translation use it when the user is signed in: the
        tenant role allows ``bedrock:InvokeModel`` on the stack's configured model ids."""
        return await asyncio.to_thread(self.auth.boto_session)

    async def identity(self) -> str:
        """The signed-in user's tenant id (Cognito identity id)."""
        return await asyncio.to_thread(self.auth.identity_id)

    # ------------------------------------------------------------------ plumbing

    def _s3_client(self) -> Any:
        if self._s3 is None:
            session = self.auth.boto_session()
            self._s3 = session.client("s3", **self.config.client_kwargs())
        return self._s3

    async def _call(self, fn: Callable[..., Any], *args: Any, **kwargs: Any) -> Any:
        def run() -> Any:
            try:
                return fn(self._s3_client(), *args, **kwargs)
            except BotoCoreError as exc:
                raise CloudError(f"cloud request failed: {exc}") from None
            except ClientError as exc:
                err = exc.response.get("Error", {})
                raise CloudError(f"cloud request failed: {err.get('Code')}: {err.get('Message')}") from None
        return await asyncio.to_thread(run)

    async def _ref(self, job_id: str) -> JobRef:
        if not JOB_ID_RE.match(job_id):
            raise JobNotFound(job_id)
        return JobRef(await self.identity(), job_id)

    # ------------------------------------------------------------------ jobs

    async def submit(self, source: Job | Path, on_progress: ProgressCallback | None = None,
                     cancel: CancelToken | None = None, *, render: RenderSettings | None = None,
                     variants: list[Variant] | None = None) -> str:
        """Upload a job and start it: a loaded :class:`Job` (as the app and ``render`` use), or a path
        to a bundle dir/zip or a script JSON next to its assets.

        The script is validated first (a ScriptError lists every problem; nothing is uploaded).
        Assets already in the cloud are skipped; large ones go multipart and resume if interrupted.
        Writing ``job.json`` last is what starts the render.  Returns the job id.

        ``variants`` (languages x formats) makes one submission render each variant as its own task,
        in parallel up to the account's concurrency; they ride in job.json's metadata, which the state
        machine reads (docs/cloud.md, "Fan-out").  Every variant's language is checked here first.

        The cloud voices with Amazon Polly: the uploaded script has each rendered language's voice mapped
        to a neural Polly voice of that language (:func:`app.cloud.voices.polly_voiced`; a Polly voice id
        the user chose is kept), and a language Polly cannot voice is a ScriptError before any upload.
        """
        variants_meta = variants_metadata(variants) if variants else None
        progress = on_progress or _noop_progress
        tmp: tempfile.TemporaryDirectory[str] | None = None
        owned = not isinstance(source, Job)  # a Job handed in stays open for its owner
        job: Job = source if isinstance(source, Job) else await asyncio.to_thread(load_job, source)
        try:
            # read before any re-bundling: the session never travels as a (7-day) content-addressed asset
            session = await asyncio.to_thread(_read_session, job)
            if session is not None and not self.config.session_key_id:
                raise CloudError("this job signs in with a session file, but the cloud configuration names no "
                                 "session key (a stack deployed before session support): update the stack and "
                                 "run `reelwright cloud configure` again")
            if job.loose:
                tmp = tempfile.TemporaryDirectory(prefix="reelwright-submit-")
                out = Path(tmp.name) / "bundle"
                await asyncio.to_thread(write_bundle, job.script, job.root, out, render or job.render)
                if owned:
                    job.close()
                job = await asyncio.to_thread(load_job, out)
                owned = True
            if variants:
                from app.core.languages import job_for_language

                for v in variants:  # a missing translation fails now, not in a task
                    if v.language is not None:
                        job_for_language(job, v.language)
            # the cloud voices with Polly: each rendered language gets a Polly voice of that language (a
            # language Polly cannot voice is a ScriptError now, not a task failing in the cloud)
            base = job.script.settings.language
            rendered = [v.language or base for v in variants] if variants else [base]
            voiced = polly_voiced(job.script, rendered)
            doc = json.loads((job.root / "job.json").read_text(encoding="utf-8"))
            doc["script"] = json.loads(voiced.model_dump_json())
            if variants:
                doc["variants"] = [v.to_json() for v in variants]  # for the record; the metadata decides
            if render is not None:
                doc["render"] = {**doc.get("render", {}), **render.model_dump(exclude_none=True)}
            if isinstance(doc.get("render"), dict) and doc["render"].get("voice_provider") not in (None, "polly"):
                del doc["render"]["voice_provider"]  # a local provider override means nothing in the cloud
            tenant = await self.identity()
            ref = JobRef(tenant, new_job_id())
            if session is not None:
                session_rel, session_body = session
                assets_doc = doc.get("assets")
                if isinstance(assets_doc, dict):
                    assets_doc.pop(session_rel, None)
                doc["session"] = {"name": session_rel, "sha256": hashlib.sha256(session_body).hexdigest()}
            session_rel_skip = session[0] if session is not None else None
            uniques = sorted({sha for rel, sha in job.assets.items() if rel != session_rel_skip})
            names = {sha: rel for rel, sha in sorted(job.assets.items(), reverse=True)}
            check_upload_sizes(len(json.dumps(doc).encode()),
                               {names[sha]: (job.root / "assets" / sha).stat().st_size for sha in uniques})
            total = sum((job.root / "assets" / sha).stat().st_size for sha in uniques) or 1
            sent = 0
            progress(Progress("upload", 0.0, f"uploading {len(uniques)} assets"))
            resume_dir = cloud_home() / "uploads"

            def on_bytes(n: int) -> None:
                nonlocal sent
                sent += n
                progress(Progress("upload", min(1.0, sent / total), f"{sent / 1e6:.1f} of {total / 1e6:.1f} MB"))

            def stop() -> bool:
                return cancel is not None and cancel.cancelled

            for sha in uniques:
                await self._call(transfer.upload_asset, self.config.bucket, asset_key(tenant, sha),
                                 job.root / "assets" / sha, sha, on_bytes=on_bytes, should_stop=stop,
                                 resume_dir=resume_dir)
            if stop():
                raise Cancelled("submit cancelled before the job started")
            body = json.dumps(doc).encode()
            session_version: str | None = None
            try:
                if session is not None:
                    progress(Progress("upload", 1.0, "uploading the session (encrypted)"))
                    put = await self._call(lambda s3: s3.put_object(
                        Bucket=self.config.bucket, Key=ref.session_key, Body=session[1],
                        ContentType="application/json", Tagging=SESSION_TAGGING,
                        ServerSideEncryption="aws:kms", SSEKMSKeyId=self.config.session_key_id,
                        # per-object data keys: the key policy can then pin the encryption context to
                        # tenants/*/jobs/*/session.json instead of the whole bucket
                        BucketKeyEnabled=False))
                    session_version = str(put.get("VersionId") or "") or None
                    if stop():
                        raise Cancelled("submit cancelled before the job started")
                meta = {"Metadata": {VARIANTS_METADATA: variants_meta}} if variants_meta else {}
                await self._call(lambda s3: s3.put_object(
                    Bucket=self.config.bucket, Key=ref.job_key, Body=body, ContentType="application/json",
                    Tagging=transfer.TEMP_TAGGING, **meta))
            except BaseException:
                if session is not None:  # the job never started: take the session back out now
                    await asyncio.shield(self._delete_session(ref, session_version))
                raise
            progress(Progress("upload", 1.0, f"submitted job {ref.job_id}"))
            return ref.job_id
        finally:
            if owned:
                job.close()
            if tmp is not None:
                tmp.cleanup()

    async def _delete_session(self, ref: JobRef, version: str | None) -> None:
        def delete(s3: Any) -> None:
            kw = {"VersionId": version} if version else {}
            s3.delete_object(Bucket=self.config.bucket, Key=ref.session_key, **kw)
        with contextlib.suppress(CloudError):  # if not, the bucket's 1-day rule for session files does
            await self._call(delete)

    async def render(self, source: Job | Path, dest_dir: Path, on_progress: ProgressCallback | None = None,
                     cancel: CancelToken | None = None, *, render: RenderSettings | None = None,
                     on_submitted: Callable[[str], None] | None = None,
                     on_status: StatusCallback | None = None, poll_s: float = 1.0,
                     keep_job: Callable[[], bool] | None = None,
                     variants: list[Variant] | None = None) -> CloudRender:
        """The whole round trip every door needs: submit, follow the job to its end, download its
        outputs (verified) into ``dest_dir``.  Cancelling after the upload cancels the cloud job too,
        unless ``keep_job()`` says the job goes on (the app closing stops watching, not the render);
        a job that ends other than Complete is a :class:`CloudError` naming how it ended."""
        job_id = await self.submit(source, on_progress, cancel, render=render, variants=variants)
        if on_submitted is not None:
            on_submitted(job_id)
        try:
            final = await self.watch(job_id, on_status, cancel, poll_s=poll_s)
        except Cancelled:
            if keep_job is None or not keep_job():
                await self.cancel(job_id)
            raise
        if final.state != "Complete":
            raise CloudError(f"cloud job {job_id} ended {final.describe()}")
        files = await self.fetch(job_id, dest_dir, on_progress, cancel)
        if not any(p.suffix == ".mp4" for p in files):
            raise CloudError(f"cloud job {job_id} finished without a video")
        return CloudRender(job_id, final, files)

    async def status(self, job_id: str) -> JobStatus:
        ref = await self._ref(job_id)
        return await asyncio.to_thread(self._status_sync, ref)

    def _status_sync(self, ref: JobRef) -> JobStatus:
        s3 = self._s3_client()
        try:
            doc = json.loads(s3.get_object(Bucket=self.config.bucket, Key=ref.status_key)["Body"].read())
            st = JobStatus.from_json(ref.job_id, doc if isinstance(doc, dict) else {})
            if st.variants and st.state == "Rendering":
                self._variant_progress(s3, ref, st)
            return st
        except ClientError as exc:
            if exc.response.get("Error", {}).get("Code") not in ("NoSuchKey", "404"):
                raise CloudError(f"could not read the status of {ref.job_id}: {exc}") from None
        except ValueError:
            pass  # mid-write or damaged: report what the job key says
        if transfer.head(s3, self.config.bucket, ref.job_key) is None:
            raise JobNotFound(ref.job_id)
        return JobStatus(ref.job_id, "Submitted")

    def _variant_progress(self, s3: Any, ref: JobRef, st: JobStatus) -> None:
        """A fan-out job's progress: each variant's own document (out/<variant>/progress.json), averaged."""
        fractions = []
        for v in st.variants:
            try:
                raw = s3.get_object(Bucket=self.config.bucket, Key=ref.progress_key(v.variant.name))["Body"].read()
                doc = json.loads(raw)
            except (ClientError, ValueError):
                doc = {}
            p = doc.get("progress") if isinstance(doc, dict) else None
            v.progress = float(p) if isinstance(p, (int, float)) else None
            if v.progress is not None:
                v.state = "Rendering"
            fractions.append(v.progress or 0.0)
        st.progress = sum(fractions) / len(fractions)
        st.stage = f"{sum(1 for v in st.variants if v.progress is not None)} of {len(st.variants)} variants started"

    async def watch(self, job_id: str, on_status: StatusCallback | None = None,
                    cancel: CancelToken | None = None, *, poll_s: float = 1.0) -> JobStatus:
        """Follow a job until it ends; ``on_status`` gets every change.  Cancel stops watching only."""
        last: tuple[Any, ...] | None = None
        while True:
            st = await self.status(job_id)
            key = (st.state, st.stage, st.progress, st.message)
            if key != last:
                last = key
                if on_status:
                    on_status(st)
            if st.terminal:
                return st
            if cancel is None:
                await asyncio.sleep(poll_s)
            else:
                try:
                    await asyncio.wait_for(cancel.wait(), poll_s)
                except TimeoutError:
                    continue
                raise Cancelled("stopped watching (the job goes on)")

    async def cancel(self, job_id: str) -> None:
        """Ask the job to stop.  The recorder sees the marker within a second or two (or before it starts)."""
        ref = await self._ref(job_id)
        st = await self.status(job_id)
        if st.terminal:
            return
        await self._call(lambda s3: s3.put_object(Bucket=self.config.bucket, Key=ref.cancel_key, Body=b"",
                                                  Tagging=transfer.TEMP_TAGGING))

    async def list_jobs(self) -> list[JobStatus]:
        """My jobs, newest first."""
        tenant = await self.identity()
        prefix = tenant_prefix(tenant) + "jobs/"

        def ids(s3: Any) -> list[str]:
            out: list[str] = []
            for page in s3.get_paginator("list_objects_v2").paginate(
                    Bucket=self.config.bucket, Prefix=prefix, Delimiter="/"):
                for cp in page.get("CommonPrefixes", []):
                    jid = cp["Prefix"][len(prefix):].rstrip("/")
                    if JOB_ID_RE.match(jid):
                        out.append(jid)
            return out

        job_ids = sorted(await self._call(ids), reverse=True)
        sem = asyncio.Semaphore(8)

        async def one(jid: str) -> JobStatus | None:
            async with sem:
                try:
                    return await asyncio.to_thread(self._status_sync, JobRef(tenant, jid))
                except JobNotFound:
                    return None
        results = await asyncio.gather(*(one(j) for j in job_ids))
        return [r for r in results if r is not None]

    async def fetch(self, job_id: str, dest_dir: Path, on_progress: ProgressCallback | None = None,
                    cancel: CancelToken | None = None, *, partial: bool = False) -> list[Path]:
        """Download a finished job's outputs into ``dest_dir``, each verified against its sha256.

        ``partial``: a fan-out job that ended Failed or Cancelled still gives the outputs of its variants
        that completed (the others have none)."""
        st = await self.status(job_id)
        some_done = partial and st.terminal and any(v.state == "Complete" for v in st.variants)
        if st.state != "Complete" and not some_done:
            raise CloudError(f"job {job_id} is {st.describe()}; only complete jobs have outputs")
        progress = on_progress or _noop_progress
        # a fan-out job's outputs go to dest_dir/<variant>/ (same file names in every variant)
        wanted = ([(o, dest_dir / v.variant.name) for v in st.variants
                   if st.state == "Complete" or v.state == "Complete" for o in v.outputs]
                  if st.variants else [(o, dest_dir) for o in st.outputs])
        total = sum(o.bytes for o, _ in wanted) or 1
        got = 0

        def on_bytes(n: int) -> None:
            nonlocal got
            got += n
            progress(Progress("download", min(1.0, got / total), f"{got / 1e6:.1f} of {total / 1e6:.1f} MB"))

        ref = await self._ref(job_id)
        paths = []
        for o, folder in wanted:
            if not o.key.startswith(ref.prefix) or "/" in o.name:
                raise CloudError(f"job {job_id} lists an output outside the job ({o.key}); refusing it")
            folder.mkdir(parents=True, exist_ok=True)
            paths.append(await self._call(
                transfer.download_verified, self.config.bucket, o.key, folder / o.name, o.sha256,
                on_bytes=on_bytes, should_stop=lambda: cancel is not None and cancel.cancelled))
        return paths

    async def share(self, job_id: str, expires_s: int = 3600, name: str | None = None) -> str:
        """The URL of ``share_link`` (kept for callers that only print it)."""
        return (await self.share_link(job_id, expires_s, name)).url

    async def share_link(self, job_id: str, expires_s: int = 3600, name: str | None = None) -> ShareLink:
        """A time-limited link to a finished video (anyone with the link can watch until it expires).

        With the stack's share signer configured (``share_api_url``, deployed with ``SharePublicKey``):
        a CloudFront signed URL for up to 7 days, asked from the signer with SigV4 on the user's own
        credentials — the signer, not this machine, holds the private key and checks the object is
        the caller's own output.  Otherwise a presigned S3 link made with the user's temporary
        credentials: S3 refuses it once those expire (<= 1 h on AWS), whatever was asked, so
        ``expires`` is the earlier of the two.  Either way ``expires`` is when the link really stops
        working (docs/cloud.md "Sharing").
        """
        st = await self.status(job_id)
        if st.state != "Complete":
            raise CloudError(f"job {job_id} is {st.describe()}; only complete jobs can be shared")
        # a fan-out job's outputs are named <variant>/<file> here; without a name, the first variant's video
        named = _named_outputs(st)
        outputs = [o for n, o in named if (n == name if name else n.endswith(".mp4"))]
        if not outputs:
            raise CloudError(f"job {job_id} has no output {name or '*.mp4'}")
        asked = max(1, min(int(expires_s), 7 * 24 * 3600))
        signed_at = time.time()
        if self.config.share_api_url:
            url, expires = await asyncio.to_thread(self._cloudfront_link, outputs[0].key, asked)
            return ShareLink(url, expires, asked_s=asked, signed_at=signed_at, via="cloudfront")

        def presign(s3: Any) -> tuple[str, float]:
            signed_at = time.time()
            url = s3.generate_presigned_url(
                "get_object", Params={"Bucket": self.config.bucket, "Key": outputs[0].key}, ExpiresIn=asked)
            # read after signing: signing may have refreshed the credentials it used
            creds_end = getattr(self.auth, "credentials_expire", None)
            end = signed_at + asked
            return str(url), min(end, creds_end) if creds_end is not None else end

        url, expires = await self._call(presign)
        return ShareLink(url, expires, asked_s=asked, signed_at=signed_at, via="s3-presigned")

    async def share_links(self, job_id: str, expires_s: int = 3600,
                          variant: str | None = None) -> list[tuple[str, ShareLink]]:
        """A link to every video of a finished job: ``[(name, link)]`` — one for a single render, one per
        variant for a fan-out job (names ``<variant>/<file>``, each signed on its own); ``variant`` keeps
        that variant's only."""
        st = await self.status(job_id)
        if st.state != "Complete":
            raise CloudError(f"job {job_id} is {st.describe()}; only complete jobs can be shared")
        names = [n for n, _ in _named_outputs(st) if n.endswith(".mp4")
                 and (variant is None or n.startswith(variant + "/"))]
        if not names:
            raise CloudError(f"job {job_id} has no video to share"
                             + (f" for the variant {variant!r}" if variant is not None else ""))
        return [(n, await self.share_link(job_id, expires_s, n)) for n in names]

    def _cloudfront_link(self, key: str, lifetime_s: int) -> tuple[str, float]:
        """POST {key, lifetime_s} to the share signer, SigV4-signed (service ``execute-api``) with the
        signed-in user's identity credentials, which is how API Gateway knows the caller's tenant."""
        api = self.config.share_api_url
        assert api is not None
        try:
            creds = self.auth.boto_session().get_credentials().get_frozen_credentials()
        except BotoCoreError as exc:
            raise CloudError(f"could not get your cloud credentials to ask for a share link: {exc}") from None
        body = json.dumps({"key": key, "lifetime_s": lifetime_s}).encode()
        request = AWSRequest(method="POST", url=api, data=body, headers={"Content-Type": "application/json"})
        SigV4Auth(creds, "execute-api", self.config.region).add_auth(request)
        prepared = request.prepare()
        http = urllib.request.Request(api, data=body, method="POST",
                                      headers={k: str(v) for k, v in prepared.headers.items()})
        try:
            with urllib.request.urlopen(http, timeout=30) as resp:
                doc = json.loads(resp.read())
        except urllib.error.HTTPError as exc:
            raise CloudError(f"the share signer ({api}) refused the link: "
                             f"{_api_error(exc.read())} (HTTP {exc.code})") from None
        except (urllib.error.URLError, OSError) as exc:
            raise CloudError(f"could not reach the share signer {api}: "
                             f"{getattr(exc, 'reason', None) or exc}") from None
        except ValueError:
            raise CloudError(f"the share signer {api} answered something that is not JSON") from None
        if not (isinstance(doc, dict) and isinstance(doc.get("url"), str)
                and isinstance(doc.get("expires"), (int, float))):
            raise CloudError(f"the share signer {api} answered without a url and expires: {doc!r:.200}")
        url, expires = str(doc["url"]), float(doc["expires"])
        domain = self.config.share_domain
        if domain and not url.startswith(f"https://{domain}/"):
            raise CloudError(f"the share signer returned a link outside the share domain {domain}: {url[:80]}")
        return url, expires


def _named_outputs(st: JobStatus) -> list[tuple[str, OutputFile]]:
    """A job's outputs by the name a user gives them: the file name, or ``<variant>/<file>`` in a fan-out."""
    if st.variants:
        return [(f"{v.variant.name}/{o.name}", o) for v in st.variants for o in v.outputs]
    return [(o.name, o) for o in st.outputs]


def _api_error(raw: bytes) -> str:
    """The reason in an API Gateway or signer error body ({"error": …} / {"message": …}), else the text."""
    try:
        doc = json.loads(raw)
    except ValueError:
        return raw.decode("utf-8", "replace")[:200] or "no reason given"
    if isinstance(doc, dict):
        for field in ("error", "message", "Message"):
            if isinstance(doc.get(field), str):
                return str(doc[field])
    return str(doc)[:200]
