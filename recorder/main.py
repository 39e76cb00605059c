"""The recorder: one ECS task = one job, rendered with ``app.core`` exactly as on the desktop.

Environment (set by the state machine's ``RunTask`` overrides, never by the client):

=====================  ==========================================================================
``JOB_BUCKET``         the bucket
``JOB_KEY``            ``tenants/<identity>/jobs/<job>/job.json`` — the S3 key whose creation started
                       the job.  The tenant is parsed from it, and every read and write stays under
                       that tenant's prefix; nothing in the job document names a tenant.
``TASK_TOKEN``         the Step Functions task token to report success/failure and heartbeats with
``HEARTBEAT_S``        seconds between heartbeats (default 60; the state machine allows 300)
``CANCEL_POLL_S``      seconds between checks for the owner's cancel marker (default 2)
``REELWRIGHT_VOICE_OVERRIDE``  force a voice provider.  The recorder image sets ``polly`` (it carries no
                       Piper: "Piper offline, Amazon Polly in the cloud"); the emulator sets ``piper`` for
                       host subprocess tasks, or ``polly`` with ``AWS_ENDPOINT_URL_POLLY`` at its fake Polly
``VARIANT``            a fan-out variant (JSON ``{name, language, format}``, :class:`app.cloud.layout.Variant`):
                       render the job in that language and size, outputs under ``out/<variant>/``,
                       progress in ``out/<variant>/progress.json`` (status.json is the state machine's);
                       unset = the job as submitted
``JOB_AWS_*``          the job's own credentials, scoped to this tenant's job (:mod:`recorder.jobcreds`):
                       every S3 request is signed with them, never with the task role
``AWS_ENDPOINT_URL``   the emulator's moto server (unset on AWS)
``LIVE_APP_EGRESS``    ``off``/``on`` and ``EGRESS_ALLOWED_HOSTS`` (comma separated): what the deployment
                       lets a render reach (:mod:`app.cloud.egress`); a job naming any other host fails
                       with ``Recorder.HostNotAllowed`` before a browser starts.  Unset = no check.
=====================  ==========================================================================

A job whose script signs in (``settings.session``) has its session file at
``tenants/<identity>/jobs/<job>/session.json`` (SSE-KMS).  The recorder reads it into the task's
scratch disk (0600) for the render and deletes every version of it when the job ends, whatever the
outcome — but not when this attempt is to be retried (SIGTERM, or the execution stopped waiting for it):
the retry needs it.  Its content never reaches a status document, an output or a log line.

Outcomes reported through the task token:

* success: ``{"outputs": [{name, key, bytes, sha256}], "duration_s", "title", "warnings", ...}``
* ``Recorder.Cancelled`` (the owner asked), ``Recorder.Interrupted`` (SIGTERM: Fargate Spot
  reclaimed the task — the state machine retries), ``Recorder.InvalidJob`` (the bundle or script is
  bad), ``Recorder.RenderFailed`` (the cause names the card, action and locator),
  ``Recorder.ToolMissing``, ``Recorder.HostNotAllowed`` (the job names a host this deployment may not
reach), ``Recorder.CredentialsExpired`` (the job's 1-hour credentials ran out before it ended),
``Recorder.CredentialsMissing`` (the task was started without job credentials: a deployment fault),
``Recorder.Crashed`` (anything else; traceback in the task's log).
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import json
import logging
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time
import traceback
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import boto3
from botocore.exceptions import BotoCoreError, ClientError
from pydantic import ValidationError

from app.cloud.egress import EgressPolicy
from app.cloud.layout import SHA256_RE, JobRef, OutputFile, Variant, asset_key
from app.core import limits as L
from app.core.bundle import Job, RenderSettings, load_job
from app.core.errors import Cancelled, RenderError, ScriptError, ToolMissingError
from app.core.infra.fs import sha256_file
from app.core.infra.progress import CancelToken, Progress
from app.core.script import Script, parse_json_text
from recorder.jobcreds import JobCredentials, JobCredentialsError
from recorder.packed import UnpackError, unpack_tools

log = logging.getLogger("recorder")

MAX_CAUSE = 32_000  # Step Functions' cause limit is 32,768 characters
MAX_JOB_JSON = L.MAX_SCRIPT_BYTES
MAX_SESSION = 4 * 1024 * 1024
#: stop this long before the job's credentials expire, so no upload starts that cannot finish
CREDENTIALS_MARGIN_S = 60.0


class Outcome(Exception):
    """A failure with the error name the state machine matches on."""

    def __init__(self, error: str, cause: str) -> None:
        super().__init__(cause)
        self.error = error
        self.cause = cause


@dataclass
class RecorderEnv:
    bucket: str
    job_key: str
    task_token: str
    heartbeat_s: float = 60.0
    cancel_poll_s: float = 2.0
    voice_override: str | None = None
    work_dir: Path | None = None
    egress: EgressPolicy | None = None
    egress_error: str | None = None
    credentials: JobCredentials | None = None
    credentials_error: str | None = None
    variant: Variant | None = None
    variant_error: str | None = None

    @classmethod
    def from_environ(cls, env: dict[str, str] | None = None) -> RecorderEnv:
        e = dict(os.environ if env is None else env)
        missing = [k for k in ("JOB_BUCKET", "JOB_KEY", "TASK_TOKEN") if not e.get(k)]
        if missing:
            raise SystemExit(f"recorder: missing environment variables: {', '.join(missing)}")
        egress: EgressPolicy | None = None
        egress_error = None
        try:
            egress = EgressPolicy.from_environ(e)
        except ValueError as exc:  # fail closed: a bad allow-list renders nothing remote
            egress, egress_error = EgressPolicy(False), f"EGRESS_ALLOWED_HOSTS: {exc}"
        credentials: JobCredentials | None = None
        credentials_error = None
        try:
            credentials = JobCredentials.from_environ(e)
        except JobCredentialsError as exc:  # reported through the task token, not a silent exit
            credentials_error = str(exc)
        variant: Variant | None = None
        variant_error = None
        if e.get("VARIANT"):
            try:
                variant = Variant.from_json(json.loads(e["VARIANT"]))
            except ValueError as exc:  # reported through the task token as an invalid job
                variant_error = f"VARIANT: {exc}"
        return cls(
            variant=variant, variant_error=variant_error,
            egress=egress, egress_error=egress_error,
            credentials=credentials, credentials_error=credentials_error,
            bucket=e["JOB_BUCKET"], job_key=e["JOB_KEY"], task_token=e["TASK_TOKEN"],
            heartbeat_s=float(e.get("HEARTBEAT_S", "60")), cancel_poll_s=float(e.get("CANCEL_POLL_S", "2")),
            voice_override=e.get("REELWRIGHT_VOICE_OVERRIDE") or None,
            work_dir=Path(e["REELWRIGHT_WORK_DIR"]) if e.get("REELWRIGHT_WORK_DIR") else None,
        )


def _now() -> str:
    return datetime.now(UTC).isoformat(timespec="milliseconds")


class Recorder:
    def __init__(self, env: RecorderEnv, s3: Any = None, sfn: Any = None) -> None:
        self.env = env
        # S3 with the job's own credentials; the task role's (ambient) only for a local run that allows it
        self.s3 = s3 or (env.credentials.s3_client() if env.credentials is not None else boto3.client("s3"))
        self.sfn = sfn or boto3.client("stepfunctions")
        self.ref = JobRef.from_job_key(env.job_key)  # raises ValueError for anything but a job key
        self.cancel = CancelToken()
        self.interrupted = False
        self.title = ""
        self._status_lock = asyncio.Lock()
        #: the ETag of the status.json this recorder last wrote (or read): every write is conditional on it
        self._status_etag: str | None = None
        #: set once a write was refused because someone else (the state machine) wrote the status since
        self._status_refused = False
        self._last_status = 0.0
        self._last_stage: str | None = None
        self._best = 0.0
        self._pending: asyncio.Task[None] | None = None
        self.credentials_expired = False
        self._started = datetime.now(UTC)

    # ------------------------------------------------------------------ status and heartbeats

    async def _put_status(self, doc: dict[str, Any]) -> None:
        """Publish progress to status.json, never over a status someone else wrote since.

        Every write is conditional (S3 ``If-Match`` on the ETag this recorder last wrote or read), so a
        straggler - a task still running after the state machine gave up on it and published ``Failed`` -
        cannot turn the job back to ``Rendering``.  After one refusal (412) it publishes nothing more.
        """
        body = json.dumps({"jobId": self.ref.job_id, "title": self.title, "updated": _now(), **doc}).encode()
        if self.env.variant is not None:
            await self._put_variant_progress(body)
            return
        async with self._status_lock:
            if self._status_refused:
                return
            try:
                condition = await asyncio.to_thread(self._status_condition)
                if condition is None:
                    return
                resp = await asyncio.to_thread(self.s3.put_object, Bucket=self.env.bucket, Key=self.ref.status_key,
                                               Body=body, ContentType="application/json", **condition)
                self._status_etag = str(resp.get("ETag") or "") or None
            except ClientError as exc:
                code = exc.response.get("Error", {}).get("Code", "")
                if code in ("PreconditionFailed", "412"):
                    self._status_refused = True
                    log.warning("status.json was written by someone else since (the state machine ended the "
                                "job?): this recorder publishes no more progress")
                else:  # progress is best effort; the result is not
                    log.warning("could not publish progress: %s", exc)
            except BotoCoreError as exc:
                log.warning("could not publish progress: %s", exc)

    async def _put_variant_progress(self, body: bytes) -> None:
        """A variant's progress, in its own document: the job's status.json is the state machine's while
        several variants render (their recorders would refuse each other's conditional writes)."""
        assert self.env.variant is not None
        try:
            await asyncio.to_thread(self.s3.put_object, Bucket=self.env.bucket,
                                    Key=self.ref.progress_key(self.env.variant.name), Body=body,
                                    ContentType="application/json")
        except (ClientError, BotoCoreError) as exc:  # progress is best effort
            log.warning("could not publish the variant's progress: %s", exc)

    def _status_condition(self) -> dict[str, str] | None:
        """The condition for the next status write: ``IfMatch`` the last ETag; the first time, the ETag of
        the state machine's (non-final) document, or ``IfNoneMatch`` when there is none.  ``None``: the
        job already has a final status, so nothing is to be written."""
        if self._status_etag is not None:
            return {"IfMatch": self._status_etag}
        try:
            resp = self.s3.get_object(Bucket=self.env.bucket, Key=self.ref.status_key)
            current = json.loads(resp["Body"].read().decode("utf-8"))
        except ClientError as exc:
            code = exc.response.get("Error", {}).get("Code", "")
            if code in ("NoSuchKey", "404"):
                return {"IfNoneMatch": "*"}
            if code in ("AccessDenied", "403"):
                # credentials without s3:GetObject on status.json: the first write goes unconditionally, the
                # later ones still only over this recorder's own (so the state machine's final one stays)
                log.warning("cannot read status.json (%s): first progress write is unconditional", code)
                return {}
            raise
        except (ValueError, UnicodeDecodeError):
            current = {}
        if isinstance(current, dict) and current.get("status") in ("Complete", "Failed", "Cancelled"):
            self._status_refused = True
            log.warning("status.json already says %s: this recorder publishes no progress", current["status"])
            return None
        return {"IfMatch": str(resp["ETag"])}

    def on_progress(self, p: Progress) -> None:
        now = time.monotonic()
        if p.stage == self._last_stage and now - self._last_status < 1.0:
            return
        self._last_stage, self._last_status = p.stage, now
        # stages report their own estimates; what the user sees never goes backwards
        self._best = max(self._best, p.overall or 0.0)
        doc = {"status": "Rendering", "stage": p.stage, "progress": round(self._best, 4),
               "message": p.message, "eta_s": p.eta_s}
        self._pending = asyncio.get_running_loop().create_task(self._put_status(doc))

    async def _heartbeats(self) -> None:
        while True:
            await asyncio.sleep(self.env.heartbeat_s)
            try:
                await asyncio.to_thread(self.sfn.send_task_heartbeat, taskToken=self.env.task_token)
            except ClientError as exc:
                code = exc.response.get("Error", {}).get("Code", "")
                if code in ("TaskTimedOut", "TaskDoesNotExist", "InvalidToken"):
                    log.warning("the execution no longer waits for this task (%s): stopping", code)
                    self.cancel.cancel("aborted")
                    return
                log.warning("heartbeat failed: %s", exc)
            except BotoCoreError as exc:
                log.warning("heartbeat failed: %s", exc)

    async def _cancel_requested(self) -> bool:
        try:
            await asyncio.to_thread(self.s3.head_object, Bucket=self.env.bucket, Key=self.ref.cancel_key)
            return True
        except ClientError:
            return False
        except BotoCoreError as exc:
            log.warning("could not check for cancellation: %s", exc)
            return False

    async def _watch_cancel(self) -> None:
        while not self.cancel.cancelled:
            if await self._cancel_requested():
                self.cancel.cancel("cancelled by its owner")
                return
            await asyncio.sleep(self.env.cancel_poll_s)

    # ------------------------------------------------------------------ the job's credentials

    def _check_credentials(self) -> None:
        """Fail before any S3 request when the task has no usable job credentials."""
        if self.env.credentials_error is not None:
            raise Outcome("Recorder.CredentialsMissing", self.env.credentials_error)
        creds = self.env.credentials
        if creds is not None and creds.seconds_left() <= CREDENTIALS_MARGIN_S:
            self.credentials_expired = True
            raise Outcome("Recorder.CredentialsExpired", creds.expired_message())

    async def _watch_credentials(self) -> None:
        """Stop the render shortly before the job's credentials expire: its outputs could not be stored."""
        creds = self.env.credentials
        if creds is None:
            return
        await asyncio.sleep(max(0.0, creds.seconds_left() - CREDENTIALS_MARGIN_S))
        log.error("the job's credentials expire at %s: stopping the render", creds.expiration.isoformat())
        self.credentials_expired = True
        self.cancel.cancel("credentials expired")

    def _expiry_outcome(self, failure: Outcome) -> Outcome:
        """A failure that happened because the credentials ran out (S3 refusing an expired token, say) is
        reported as such, keeping the first error in the cause."""
        creds = self.env.credentials
        if (creds is None or failure.error in ("Recorder.CredentialsExpired", "Recorder.Interrupted")
                or not (self.credentials_expired or creds.seconds_left() <= 0)):
            return failure
        return Outcome("Recorder.CredentialsExpired",
                       f"{creds.expired_message(self._started)}\n  (then: {failure.error}: {failure.cause})")

    # ------------------------------------------------------------------ the job

    async def _download_bundle(self, dest: Path) -> None:
        try:
            resp = await asyncio.to_thread(self.s3.get_object, Bucket=self.env.bucket, Key=self.ref.job_key)
            if int(resp.get("ContentLength", 0)) > MAX_JOB_JSON:
                raise Outcome("Recorder.InvalidJob", "job.json is larger than 16 MiB")
            raw = await asyncio.to_thread(resp["Body"].read)
            # the same guarded parser as load_job: a 200,000-deep array must not blow the stack here
            doc = parse_json_text(raw.decode("utf-8-sig"), source="job.json", what="job.json")
        except ClientError as exc:
            raise Outcome("Recorder.InvalidJob", f"cannot read {self.ref.job_key}: {exc}") from None
        except UnicodeDecodeError as exc:
            raise Outcome("Recorder.InvalidJob", f"job.json is not UTF-8 text (byte {exc.start})") from None
        except ScriptError as exc:
            raise Outcome("Recorder.InvalidJob", str(exc)) from None
        if not isinstance(doc, dict):
            raise Outcome("Recorder.InvalidJob", "job.json must be an object")
        script = doc.get("script")
        if isinstance(script, dict) and isinstance(script.get("title"), str):
            self.title = script["title"][:200]
        (dest / "assets").mkdir(parents=True)
        assets = doc.get("assets") or {}
        shas = sorted({v for v in assets.values() if isinstance(v, str)}) if isinstance(assets, dict) else []
        shas = [sha for sha in shas if SHA256_RE.match(sha)]  # load_job reports the others by name
        await self._check_asset_sizes(shas)
        for i, sha in enumerate(shas):
            self.cancel.raise_if_cancelled()
            # assets are read from the job's own tenant only: a job cannot name another tenant's bytes
            key = asset_key(self.ref.tenant, sha)
            try:
                await asyncio.to_thread(self.s3.download_file, self.env.bucket, key, str(dest / "assets" / sha))
            except ClientError as exc:
                raise Outcome("Recorder.InvalidJob", f"asset {sha[:12]}… is missing from the upload ({exc})") from None
            self.on_progress(Progress("prepare", (i + 1) / len(shas), "downloading the job", 0.01))
        session = doc.get("session")
        if isinstance(session, dict) and isinstance(session.get("name"), str):
            # the session travels apart from the assets; put it back where the script names it
            sha = await self._download_session(dest / "assets", session)
            if not isinstance(doc.get("assets"), dict):
                doc["assets"] = {}
            doc["assets"][session["name"]] = sha
            raw = json.dumps(doc).encode()
        (dest / "job.json").write_bytes(raw)

    async def _check_asset_sizes(self, shas: list[str]) -> None:
        """Size every asset (HeadObject) before downloading any: S3 lets a tenant PUT up to 5 GiB per
        request whatever IAM says, so the limits of :mod:`app.core.limits` are enforced here, before the
        task's disk fills.  A missing asset is left for the download to report."""
        total = 0
        for sha in shas:
            self.cancel.raise_if_cancelled()
            try:
                head = await asyncio.to_thread(self.s3.head_object, Bucket=self.env.bucket,
                                               Key=asset_key(self.ref.tenant, sha))
            except ClientError:
                continue
            size = int(head.get("ContentLength", 0))
            if size > L.MAX_ASSET_BYTES:
                raise Outcome("Recorder.InvalidJob", f"asset {sha[:12]}… is {size:,} bytes; one asset may be at "
                              f"most {L.MAX_ASSET_BYTES:,} (app/core/limits.py)")
            total += size
        if total > L.MAX_BUNDLE_BYTES:
            raise Outcome("Recorder.InvalidJob", f"the job's assets come to {total:,} bytes; a job may carry at "
                          f"most {L.MAX_BUNDLE_BYTES:,} (app/core/limits.py)")

    async def _download_session(self, assets: Path, session: dict[str, Any]) -> str:
        """The job's session file into ``assets`` (0600, named by its sha256, checked against the one
        the client computed).  Read from this job's own key only: the job cannot name another."""
        try:
            resp = await asyncio.to_thread(self.s3.get_object, Bucket=self.env.bucket, Key=self.ref.session_key)
            if int(resp.get("ContentLength", 0)) > MAX_SESSION:
                raise Outcome("Recorder.InvalidJob", "the session file is larger than 4 MiB")
            body: bytes = await asyncio.to_thread(resp["Body"].read)
        except ClientError as exc:
            code = exc.response.get("Error", {}).get("Code", "")
            raise Outcome("Recorder.InvalidJob", f"the job's session file is missing ({code}): it is deleted "
                          "when a job ends, so submit the job again") from None
        sha = hashlib.sha256(body).hexdigest()
        if session.get("sha256") not in (None, sha):
            raise Outcome("Recorder.InvalidJob", "the job's session file does not match the one submitted")
        path = assets / sha
        if path.exists():  # the same bytes are also an ordinary asset of the job
            return sha
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "wb") as f:
            f.write(body)
        return sha

    async def _delete_session(self) -> None:
        """Delete every version of this job's session file (a plain delete in a versioned bucket would
        only hide it).  Runs at the end of every job; nothing to do for jobs without one."""
        def delete() -> int:
            n = 0
            pages = self.s3.get_paginator("list_object_versions").paginate(
                Bucket=self.env.bucket, Prefix=self.ref.session_key)
            for page in pages:
                for v in page.get("Versions", []) + page.get("DeleteMarkers", []):
                    if v.get("Key") == self.ref.session_key:
                        self.s3.delete_object(Bucket=self.env.bucket, Key=v["Key"], VersionId=v["VersionId"])
                        n += 1
            return n
        try:
            n = await asyncio.to_thread(delete)
        except (ClientError, BotoCoreError) as exc:
            log.error("could not delete the job's session file (the bucket's lifecycle rule will): %s", exc)
            return
        if n:
            log.info("deleted the job's session file (%d object versions)", n)

    async def _upload_outputs(self, files: list[Path]) -> list[OutputFile]:
        outputs = []
        for f in files:
            sha = await asyncio.to_thread(sha256_file, f)
            key = self.ref.out_key(f.name, self.env.variant.name if self.env.variant else None)
            ctype = {".mp4": "video/mp4", ".srt": "application/x-subrip", ".vtt": "text/vtt", ".png": "image/png",
                     ".gif": "image/gif", ".webp": "image/webp", ".html": "text/html; charset=utf-8",
                     ".mp3": "audio/mpeg"}.get(
                f.suffix, "text/plain; charset=utf-8")
            await asyncio.to_thread(self.s3.upload_file, str(f), self.env.bucket, key,
                                    ExtraArgs={"Metadata": {"sha256": sha}, "ContentType": ctype})
            outputs.append(OutputFile(f.name, key, f.stat().st_size, sha))
        return outputs

    async def run_job(self, work: Path) -> dict[str, Any]:
        from app.core.render import render

        if await self._cancel_requested():
            raise Cancelled("cancelled by its owner")
        await self._put_status({"status": "Rendering", "stage": "prepare", "progress": 0.0,
                                "message": "downloading the job"})
        bundle = work / "bundle"
        await self._download_bundle(bundle)
        job = await asyncio.to_thread(load_job, bundle)
        try:
            job = self._apply_variant(job)
            self._check_egress(job.script)
            if self.env.voice_override == "polly":
                # a job from a client that did not map its voices: Polly voices of its language, not Joanna
                from app.cloud.voices import polly_voiced

                job.script = polly_voiced(job.script)
            if self.env.voice_override:
                job.render.voice_provider = self.env.voice_override
            check_voices(job.effective_settings())
            # outputs are stored by bare name (OutputFile keys refuse "/"), so the demo stays one file
            result = await render(job, work / "out", self.on_progress, self.cancel, demo_media_folder=False)
        finally:
            job.close()
        self.on_progress(Progress("upload", 0.0, "uploading the video", 0.99))
        outputs = await self._upload_outputs(result.files())
        return {"outputs": [o.to_json() for o in outputs], "duration_s": round(result.duration_s, 3),
                "chapters": [{"start_s": round(s, 3), "end_s": round(e, 3), "title": t}
                             for s, e, t in result.chapters],
                "title": self.title, "capture_mode": result.capture_mode,
                "warnings": result.warnings[:20],
                "stage_times": {k: round(v, 2) for k, v in result.stage_times.items()}}

    def _apply_variant(self, job: Job) -> Job:
        """The job as this task's variant asks: voiced in its language, at its size."""
        variant = self.env.variant
        if self.env.variant_error is not None:
            raise Outcome("Recorder.InvalidJob", self.env.variant_error)
        if variant is None:
            return job
        from app.core.languages import job_for_language

        if variant.language is not None:
            job = job_for_language(job, variant.language)  # a ScriptError names every untranslated card
        size = variant.size()
        if size is not None:
            try:
                job.render = job.render.model_copy(update={"width": size[0], "height": size[1]})
                RenderSettings.model_validate(job.render.model_dump())
            except ValidationError as exc:
                raise Outcome("Recorder.InvalidJob", f"variant '{variant.name}': {size[0]}x{size[1]} is not a "
                              f"size this renderer makes ({exc.errors()[0]['msg']})") from None
        return job

    def _attempt_is_final(self) -> bool:
        if self.env.variant is not None:
            # the variants of a job share its session file: none deletes it (the 1-day lifecycle rule does)
            return False
        return not self.interrupted and not (self.cancel.cancelled and self.cancel.reason == "aborted")

    def _check_egress(self, script: Script) -> None:
        if self.env.egress_error is not None:
            raise Outcome("Recorder.HostNotAllowed", f"this deployment's egress allow-list is invalid "
                          f"({self.env.egress_error}); nothing outside the job can be reached")
        if self.env.egress is None:
            return
        problems = self.env.egress.problems(script)
        if problems:
            raise Outcome("Recorder.HostNotAllowed", "the job names hosts this deployment may not reach:\n  "
                          + "\n  ".join(problems))

    async def run(self) -> int:
        loop = asyncio.get_running_loop()
        with contextlib.suppress(NotImplementedError, RuntimeError):
            loop.add_signal_handler(signal.SIGTERM, self._on_sigterm)
        helpers = [asyncio.create_task(self._heartbeats()), asyncio.create_task(self._watch_cancel()),
                   asyncio.create_task(self._watch_credentials())]
        work = Path(tempfile.mkdtemp(prefix="recorder-", dir=self.env.work_dir))
        t0 = time.monotonic()
        failure: Outcome | None = None
        output: dict[str, Any] = {}
        try:
            try:
                self._check_credentials()
                output = await self.run_job(work)
            except Cancelled:
                if self.credentials_expired and self.env.credentials is not None:
                    raise Outcome("Recorder.CredentialsExpired",
                                  self.env.credentials.expired_message(self._started)) from None
                if self.interrupted:
                    raise Outcome("Recorder.Interrupted", "the render was interrupted (SIGTERM: Spot capacity "
                                  "reclaimed); it will be retried") from None
                raise Outcome("Recorder.Cancelled", self.cancel.reason if self.cancel.cancelled
                              else "cancelled by its owner") from None
            except ScriptError as exc:
                raise Outcome("Recorder.InvalidJob", str(exc)) from None
            except RenderError as exc:
                raise Outcome("Recorder.RenderFailed", await self._keep_screenshot(exc)) from None
            except ToolMissingError as exc:
                raise Outcome("Recorder.ToolMissing", str(exc)) from None
        except Outcome as out:
            failure = self._expiry_outcome(out)
            log.error("job %s failed: %s: %s", self.ref.job_id, failure.error, failure.cause)
        except Exception as exc:  # noqa: BLE001 - the task must always report, or the execution waits for its timeout
            log.error("job %s crashed:\n%s", self.ref.job_id, traceback.format_exc())
            failure = self._expiry_outcome(Outcome("Recorder.Crashed", f"{type(exc).__name__}: {exc}"))
        finally:
            for h in helpers:
                h.cancel()
            await asyncio.gather(*helpers, return_exceptions=True)
            if self._pending is not None:
                await asyncio.gather(self._pending, return_exceptions=True)
            shutil.rmtree(work, ignore_errors=True)
            # success, failure or cancel alike, and before the job is reported as ended - except when
            # the state machine will run the job again (a Spot interruption, or it stopped waiting for
            # this task): the next attempt needs the session, and the last one deletes it (or the
            # bucket's 1-day lifecycle rule does, if every attempt is lost)
            if self._attempt_is_final():
                await self._delete_session()
        if failure is not None:
            return await self._report_failure(failure.error, failure.cause)
        output["render_wall_s"] = round(time.monotonic() - t0, 2)
        # what the state machine charges to the tenant's monthly render minutes (MonthlyRenderMinutes)
        output["render_minutes"] = round(output["render_wall_s"] / 60, 3)
        try:
            await asyncio.to_thread(self.sfn.send_task_success, taskToken=self.env.task_token,
                                    output=json.dumps(output))
        except (ClientError, BotoCoreError) as exc:
            log.error("could not report success: %s", exc)
            return 2
        log.info("job %s complete in %.1f s", self.ref.job_id, output["render_wall_s"])
        return 0

    async def _keep_screenshot(self, exc: RenderError) -> str:
        """The error text, with the failure screenshot moved from the task's disk to the job's outputs."""
        text = str(exc)
        shot = exc.screenshot
        if shot is None or not shot.is_file():
            return text
        try:
            key = self.ref.out_key(shot.name)
            await asyncio.to_thread(self.s3.upload_file, str(shot), self.env.bucket, key,
                                    ExtraArgs={"ContentType": "image/jpeg"})
        except (ClientError, BotoCoreError, ValueError) as err:
            log.warning("could not keep the failure screenshot: %s", err)
            return text.replace(f"\n  screenshot of that moment: {shot}", "")
        return text.replace(str(shot), f"{shot.name} in the job's outputs")

    def _on_sigterm(self) -> None:
        log.warning("SIGTERM: stopping the render and reporting a retryable failure")
        self.interrupted = True
        self.cancel.cancel("interrupted")

    async def _report_failure(self, error: str, cause: str) -> int:
        try:
            await asyncio.to_thread(self.sfn.send_task_failure, taskToken=self.env.task_token,
                                    error=error, cause=cause[:MAX_CAUSE])
        except (ClientError, BotoCoreError) as exc:
            log.error("could not report the failure: %s", exc)
            return 2
        return 1 if error not in ("Recorder.Cancelled", "Recorder.Interrupted") else 0


def register_cloud_voices(factory: Callable[[], Any] | None = None) -> None:
    """Register Polly; in an image without Piper (the deployed one), make ``piper`` fail by name
    instead of falling back to espeak-ng (which the image does not have either)."""
    from app.cloud.polly import register
    from app.core.voice.base import register_provider
    from app.core.voice.piper import piper_unavailable_reason

    register(factory)
    reason = piper_unavailable_reason()
    if reason is not None:
        def no_piper() -> Any:
            raise ToolMissingError(
                f"the voice provider 'piper' is not in this recorder image ({reason}); the cloud voices "
                "with Amazon Polly", hint="ask for provider 'polly' (REELWRIGHT_VOICE_OVERRIDE=polly, as the "
                "image sets it), or render locally with Piper")

        register_provider("piper", no_piper)


def check_voices(settings: Any) -> None:
    """Fail before any browser starts when a voice the job needs is not in this image: the main
    voice and every language's (``get_provider`` raises :class:`ToolMissingError` naming it)."""
    from app.core.voice.base import get_provider

    for provider in dict.fromkeys([settings.voice.provider, *(lv.provider for lv in settings.languages)]):
        get_provider(provider)


def main(argv: list[str] | None = None) -> int:
    logging.basicConfig(level=logging.INFO, stream=sys.stderr,
                        format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    env = RecorderEnv.from_environ()
    try:  # the image's compressed browser, Node and ffmpeg onto the scratch disk (recorder.packed)
        unpack_tools()
    except (UnpackError, OSError, subprocess.SubprocessError) as exc:
        boto3.client("stepfunctions").send_task_failure(taskToken=env.task_token, error="Recorder.ToolMissing",
                                                        cause=f"the recorder image is broken: {exc}")
        return 1
    register_cloud_voices()
    try:
        rec = Recorder(env)
    except ValueError as exc:
        # not a job key: report it (a misconfigured rule), never render anything
        boto3.client("stepfunctions").send_task_failure(taskToken=env.task_token, error="Recorder.InvalidJob",
                                                        cause=str(exc))
        return 1
    return asyncio.run(rec.run())
