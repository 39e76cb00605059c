"""Fan-out (issue 15 part 7), proven in the emulator: one submission asking for 3 languages x 2 formats
runs the production state machine's ``RenderVariants`` map - six Fargate tasks (the emulator's stand-in
runs a real recorder process per task: real Chromium, espeak-ng and ffmpeg), up to the tenant's
concurrency at a time - and completes when all six have.

The script is the tiny two-card one of the emulator tests, voiced by espeak-ng on the desktop in English,
German and French, at two small sizes, so the six renders stay cheap on a 2-core machine.  The cloud
voices with Amazon Polly, so submission maps each language to a Polly voice of that language; the tasks
here ask the emulator's **fake Polly** (which speaks with the host's Piper whatever the voice id, but
records the id it was asked for), as the recorder image does.
"""

from __future__ import annotations

import asyncio
import json
import os
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import boto3
import pytest
from botocore.exceptions import ClientError

from app.cloud.emulator.local import REPO_ROOT, Emulator
from app.cloud.layout import Variant
from app.cloud.selftest import probe_mp4
from app.core.infra.tools import find_ffprobe
from tests.integration.test_cloud_emulator import PASSWORD, TINY, EmulatorThread, signed_up
from tests.integration.test_cloud_emulator_failures import job_tasks, started_by

pytestmark = [pytest.mark.slow, pytest.mark.browser]

LANGUAGES = {"en": "Open the page.", "de": "Öffne die Seite.", "fr": "Ouvre la page."}
FORMATS = {"480x270": (480, 270), "320x480": (320, 480)}
#: the tenant's MaxConcurrentJobsPerTenant here: six variants run as two rounds of three
CONCURRENCY = 3


@pytest.fixture(scope="module")
def emu(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Emulator]:
    thread = EmulatorThread(tmp_path_factory.mktemp("fanout"))
    thread.emu.fake_polly = True  # voiced as in the cloud: Polly, one voice per language (a fake here)
    thread.emu.max_concurrent_jobs = CONCURRENCY
    thread.emu.iam_enforcement = True  # users, state machine and recorders as on AWS: each with its own rights
    with thread as e:
        yield e


def multilingual(tmp: Path) -> Path:
    """The tiny script with German and French narration (espeak-ng voices)."""
    import shutil

    shutil.copytree(TINY.parent / "site", tmp / "site")
    doc = json.loads(TINY.read_text())
    doc["settings"]["voice"] = {"provider": "espeak", "voice": "en-us"}
    doc["settings"]["languages"] = [{"lang": "de", "provider": "espeak", "voice": "de"},
                                    {"lang": "fr", "provider": "espeak", "voice": "fr"}]
    doc["cards"][0]["narration_i18n"] = {"de": LANGUAGES["de"], "fr": LANGUAGES["fr"]}
    doc["cards"][1]["narration_i18n"] = {"de": "Klicke auf Speichern.", "fr": "Clique sur enregistrer."}
    out = tmp / "script.json"
    out.write_text(json.dumps(doc, ensure_ascii=False), encoding="utf-8")
    return out


def video_size(path: Path) -> tuple[int, int]:
    ffprobe = find_ffprobe()
    assert ffprobe is not None
    out = subprocess.run([str(ffprobe), "-v", "error", "-select_streams", "v:0", "-show_entries",
                          "stream=width,height", "-of", "json", str(path)], capture_output=True, text=True, check=True)
    stream = json.loads(out.stdout)["streams"][0]
    return int(stream["width"]), int(stream["height"])


def task_span(emu: Emulator, started_by_key: str, timeout: float = 30) -> tuple[float, float]:
    """(started, exited) of the one task RunTask started for ``started_by_key`` (the job key, or the job key
    and ``#<variant>``), as the Fargate stand-in ran its process."""
    arns = job_tasks(emu, started_by_key)
    assert len(arns) == 1, (started_by_key, arns)  # one task, none retried
    deadline = time.monotonic() + timeout
    while (span := emu.task_spans.get(arns[0], (0.0, None)))[1] is None:
        assert time.monotonic() < deadline, f"the task of {started_by_key} never exited"
        time.sleep(0.1)
    assert span[1] is not None
    return span[0], span[1]


async def watch_running(emu: Emulator, tenant: str, into: list[int]) -> None:
    """The tenant's running count (USAGE#RUNNING, the slots its variants hold), every 0.2 s."""
    while True:
        usage = await asyncio.to_thread(emu.usage, tenant)
        into.append(int(usage.get("running", 0)))
        await asyncio.sleep(0.2)


def most_at_once(spans: list[tuple[float, float]]) -> int:
    events = sorted([(s, 1) for s, _ in spans] + [(e, -1) for _, e in spans])
    running = peak = 0
    for _, step in events:
        running += step
        peak = max(peak, running)
    return peak


def test_three_languages_by_two_formats_render_in_parallel_as_one_job(emu: Emulator, tmp_path: Path) -> None:
    variants = [Variant.of(lang, fmt) for lang in LANGUAGES for fmt in FORMATS]
    names = [v.name for v in variants]
    seen: list[str] = []
    running: list[int] = []

    async def scenario() -> tuple[Any, list[Path], str, float, str]:
        client = await signed_up(emu, tmp_path / "home", "fan@example.com")
        tenant = await client.identity()
        watching = asyncio.create_task(watch_running(emu, tenant, running))
        t0 = time.monotonic()
        job_id = await client.submit(multilingual(tmp_path / "src"), variants=variants)
        final = await client.watch(job_id, lambda st: seen.append(st.describe()), poll_s=0.5)
        wall = time.monotonic() - t0
        watching.cancel()
        files = await client.fetch(job_id, tmp_path / "out") if final.state == "Complete" else []
        return final, files, job_id, wall, tenant

    final, files, job_id, wall, tenant = asyncio.run(scenario())
    assert final.state == "Complete", final.describe()
    assert [v.variant.name for v in final.variants] == names
    assert all(v.state == "Complete" for v in final.variants), [(v.variant.name, v.state) for v in final.variants]
    # progress came from the variants' own documents while they rendered
    assert any("variants started" in s for s in seen), seen

    # six videos, each in its variant's folder, at its size, voiced in its language
    for v in variants:
        folder = tmp_path / "out" / v.name
        video = folder / "video.mp4"
        assert video in files, (v.name, files)
        probe_mp4(video)
        assert video_size(video) == FORMATS[str(v.format)], v.name
        captions = (folder / "video.srt").read_text(encoding="utf-8")
        assert LANGUAGES[str(v.language)] in captions, (v.name, captions)
        # the status document names each output under the variant's own prefix
        status = next(s for s in final.variants if s.variant.name == v.name)
        assert all(f"/jobs/{job_id}/out/{v.name}/" in o.key for o in status.outputs), status.outputs

    # each language was read by a Polly voice of that language, never by one voice for all
    assert emu.polly is not None
    voices = {text_lang: {v for v, text in emu.polly.spoken if said in text}
              for text_lang, said in LANGUAGES.items()}
    assert voices == {"en": {"Joanna"}, "de": {"Vicki"}, "fr": {"Lea"}}, emu.polly.spoken
    assert all(status == 200 for _, status in emu.polly.requests), emu.polly.requests

    # the tasks ran in parallel: up to the tenant's concurrency, never more
    key = f"tenants/{tenant}/jobs/{job_id}/job.json"
    spans = {name: task_span(emu, f"{key}#{name}") for name in names}
    peak = most_at_once(list(spans.values()))
    longest = max(end - start for start, end in spans.values())
    serial = sum(end - start for start, end in spans.values())
    busy = max(e for _, e in spans.values()) - min(s for s, _ in spans.values())
    print(f"fan-out 3 languages x 2 formats: {len(spans)} tasks, at most {max(running)} slots held at once "
          f"(tenant concurrency {CONCURRENCY}), {peak} task processes at once; tasks busy {busy:.1f} s vs "
          f"{serial:.1f} s one after another "
          f"(longest task {longest:.1f} s); submit to complete {wall:.1f} s")
    # the tenant's slots (its running count, polled while the job ran) never went over its cap, and reached
    # it; the task processes overlapped at least that much (a process exits a moment after it reports, so
    # the next variant's may already have started)
    assert max(running) == CONCURRENCY, running
    assert peak >= CONCURRENCY, spans
    assert busy < serial * 0.75, (busy, serial)
    # each variant released its slot and was charged its own minutes; no job slot was held
    usage = emu.usage(tenant)
    assert usage["running"] == 0, usage
    row = emu.job_row(tenant, job_id)
    assert row is not None and row["status"] == "Complete" and "slotHeld" not in row, row
    for name in names:
        vrow = emu.job_row(tenant, f"{job_id}#{name}")
        assert vrow is not None and vrow["status"] == "Complete" and "slotHeld" not in vrow, (name, vrow)
        assert 0 < float(vrow["minutes"]) < 5, vrow


def test_a_failed_variant_fails_the_job_naming_it_and_the_others_complete(emu: Emulator, tmp_path: Path) -> None:
    """A variant at a size the renderer does not make (200x200: below its 320-pixel minimum width) fails on
    its own (Recorder.InvalidJob, before a browser starts); the job ends Failed naming it, and the other
    variant completes with its outputs."""
    variants = [Variant.of("en", "480x270"), Variant.of("en", "200x200")]

    async def scenario() -> Any:
        client = await signed_up(emu, tmp_path / "home", "half@example.com")
        job_id = await client.submit(multilingual(tmp_path / "src"), variants=variants)
        return await client.watch(job_id, poll_s=0.5)

    final = asyncio.run(scenario())
    assert final.state == "Failed", final.describe()
    assert final.error == "Reelwright.VariantsFailed" and "en-200x200" in (final.cause or ""), final
    assert "en-480x270" not in (final.cause or ""), final.cause
    by_name = {v.variant.name: v for v in final.variants}
    assert by_name["en-480x270"].state == "Complete" and by_name["en-480x270"].outputs
    assert by_name["en-200x200"].state == "Failed" and by_name["en-200x200"].error == "Recorder.InvalidJob"
    assert "200x200 is not a size this renderer makes" in (by_name["en-200x200"].cause or "")
    assert "en-200x200" in final.describe()


# ---------------------------------------------------------------------- load, with IAM enforcement on


def test_five_users_at_once_with_iam_enforcement_stay_isolated_and_overlap(emu: Emulator, tmp_path: Path,
                                                                            record_property: Any) -> None:
    """Five users each submit the tiny job at once, with IAM enforcement on throughout (this module's
    emulator): each user acts with the tenant role narrowed to their identity, each recorder with its
    job's credentials.  All complete; no user and no recorder reaches another tenant's objects; and the
    renders overlapped - the five take less than twice the wall time one job takes alone."""
    async def scenario() -> tuple[float, float, list[Any], list[str], list[str]]:
        clients = await asyncio.gather(*(signed_up(emu, tmp_path / f"u{i}", f"load{i}@example.com")
                                         for i in range(5)))
        tenants = [await c.identity() for c in clients]
        t0 = time.monotonic()
        alone = await clients[0].submit(TINY)
        assert (await clients[0].watch(alone, poll_s=0.5)).state == "Complete"
        single = time.monotonic() - t0
        t0 = time.monotonic()
        job_ids = await asyncio.gather(*(c.submit(TINY) for c in clients))
        finals = await asyncio.gather(*(c.watch(j, poll_s=0.5) for c, j in zip(clients, job_ids, strict=True)))
        wall = time.monotonic() - t0
        assert [f.state for f in finals] == ["Complete"] * 5, [f.describe() for f in finals]
        for c, j in zip(clients, job_ids, strict=True):
            files = await c.fetch(j, tmp_path / j)
            probe_mp4(next(f for f in files if f.suffix == ".mp4"))
        return single, wall, clients, tenants, job_ids

    single, wall, clients, tenants, job_ids = asyncio.run(scenario())
    bucket = emu.resources["bucket"]
    keys = [f"tenants/{t}/jobs/{j}/" for t, j in zip(tenants, job_ids, strict=True)]

    def denied(call: Any, **kw: Any) -> bool:
        try:
            call(**kw)
        except ClientError as exc:
            return bool(exc.response.get("ResponseMetadata", {}).get("HTTPStatusCode") == 403)
        return False

    # users: each reads its own job, and nothing of the next user's (read, overwrite, list)
    for i, client in enumerate(clients):
        s3 = client._s3_client()
        own, other = keys[i], keys[(i + 1) % 5]
        assert json.loads(s3.get_object(Bucket=bucket, Key=own + "status.json")["Body"].read())["status"] == "Complete"
        assert denied(s3.get_object, Bucket=bucket, Key=other + "status.json")
        assert denied(s3.get_object, Bucket=bucket, Key=other + "out/video.mp4")
        assert denied(s3.put_object, Bucket=bucket, Key=other + "job.json", Body=b"{}")
        assert denied(s3.list_objects_v2, Bucket=bucket, Prefix=other)
    # recorders: the credentials each job's task was started with (its RunTask overrides) reach that job only
    ecs = emu.client("ecs")
    for i, (tenant, job_id) in enumerate(zip(tenants, job_ids, strict=True)):
        arn = ecs.list_tasks(cluster=emu.resources["cluster"], desiredStatus="STOPPED",
                             startedBy=started_by(keys[i] + "job.json"))["taskArns"][0]
        env = {e["name"]: e["value"] for e in ecs.describe_tasks(cluster=emu.resources["cluster"], tasks=[arn])[
            "tasks"][0]["overrides"]["containerOverrides"][0]["environment"]}
        job_s3 = boto3.client("s3", endpoint_url=emu.endpoint, region_name=emu.region,
                              aws_access_key_id=env["JOB_AWS_ACCESS_KEY_ID"],
                              aws_secret_access_key=env["JOB_AWS_SECRET_ACCESS_KEY"],
                              aws_session_token=env["JOB_AWS_SESSION_TOKEN"])
        assert job_s3.head_object(Bucket=bucket, Key=keys[i] + "job.json")["ContentLength"] > 0, job_id
        other = keys[(i + 1) % 5]
        assert denied(job_s3.get_object, Bucket=bucket, Key=other + "job.json")
        assert denied(job_s3.put_object, Bucket=bucket, Key=other + "status.json", Body=b"{}")
        assert denied(job_s3.put_object, Bucket=bucket, Key=f"tenants/{tenant}/jobs/{job_ids[0]}x/out/a", Body=b"")
    # the five tasks overlapped in time
    spans = [task_span(emu, key + "job.json") for key in keys]
    peak = most_at_once(spans)
    record_property("five_users_iam_wall_s", round(wall, 1))
    print(f"5 users at once, IAM enforcement on: all complete in {wall:.1f} s wall time; one job alone "
          f"{single:.1f} s (ratio {wall / single:.2f}, on {os.cpu_count()} CPUs); at most {peak} of the 5 tasks "
          "at once; isolation held for users and recorders")
    # all five ran at once: every task started before any ended
    assert peak == 5 and max(a for a, _ in spans) < min(b for _, b in spans), spans
    # under 2x one job's wall time, as issue 15 asks, where each task has a CPU of its own (Fargate gives every
    # task its own vCPUs); on a machine with fewer CPUs than tasks the five CPU-bound renders share them, so
    # the best possible is one job's time x 5/CPUs and the bound is 2x that (on >= 5 CPUs: 2x one job's)
    cpus = os.cpu_count() or 1
    bound = 2 * single * max(1.0, 5 / cpus)
    assert wall < bound, (wall, single, cpus)


def test_cli_submits_formats_as_one_fan_out_job_and_fetches_each_variant(emu: Emulator, tmp_path: Path) -> None:
    assert emu.config is not None
    config = emu.config.save(tmp_path / "config.json")
    env = {**os.environ, "REELWRIGHT_CLOUD_HOME": str(tmp_path / "home"), "REELWRIGHT_NO_KEYRING": "1"}

    def cli(*args: str, stdin: str = "") -> subprocess.CompletedProcess[str]:
        return subprocess.run([sys.executable, "-m", "app.cli", "cloud", "--config", str(config), *args],
                              input=stdin, cwd=REPO_ROOT, env=env, capture_output=True, text=True, timeout=300)

    out = cli("login", "--email", "fancli@example.com", "--sign-up", "--code", "1", "--password-stdin",
              stdin=PASSWORD + "\n")
    assert out.returncode == 0, out.stderr
    out = cli("submit", str(TINY), "--formats", "480x270,320x480", "--fetch", str(tmp_path / "out"))
    assert out.returncode == 0, out.stdout + out.stderr
    for name, size in (("480x270", (480, 270)), ("320x480", (320, 480))):
        assert video_size(tmp_path / "out" / name / "video.mp4") == size, out.stdout
    job_id = out.stdout.splitlines()[0]
    out = cli("status", job_id, "--json")
    doc = json.loads(out.stdout[out.stdout.index("{"):])
    assert doc["state"] == "Complete" and [v["name"] for v in doc["variants"]] == ["480x270", "320x480"], doc
    assert "  480x270  Complete" in out.stdout
    bad = cli("submit", str(TINY), "--formats", "16:9,wide")
    assert bad.returncode != 0 and "unknown format 'wide'" in bad.stderr, bad.stderr


# ---------------------------------------------------------------------- cancel


def test_cancelling_a_running_fan_out_stops_every_variant_task_and_ends_cancelled(
        emu: Emulator, tmp_path: Path) -> None:
    """Three variants rendering at once (a minute of video each, so none is near its end) and a fourth
    waiting for one of the tenant's three slots; the owner cancels the job: every rendering variant's
    recorder sees the cancel, its process exits and its task is stopped; the waiting variant sees the
    cancel marker before its next try for a slot and never starts a task; each variant reports Cancelled,
    the job ends Cancelled - within a bounded time - and every slot is free."""
    variants = [*(Variant.of(lang, "480x270") for lang in LANGUAGES), Variant.of("en", "320x480")]
    src = multilingual(tmp_path / "src")
    doc = json.loads(src.read_text(encoding="utf-8"))
    doc["cards"][1]["hold_ms"] = 60_000
    src.write_text(json.dumps(doc, ensure_ascii=False), encoding="utf-8")

    async def scenario() -> tuple[Any, str, str, float, list[str]]:
        client = await signed_up(emu, tmp_path / "home", "cancelfan@example.com")
        tenant = await client.identity()
        job_id = await client.submit(src, variants=variants)
        deadline = time.monotonic() + 120
        while True:  # three variants' recorders have published progress: they hold the tenant's slots
            st = await client.status(job_id)
            assert not st.terminal, st.describe()
            if sum(v.progress is not None for v in st.variants) >= CONCURRENCY:
                break
            assert time.monotonic() < deadline, [(v.variant.name, v.state, v.progress) for v in st.variants]
            await asyncio.sleep(0.3)
        waiting = [v.variant.name for v in st.variants if v.progress is None]
        t0 = time.monotonic()
        await client.cancel(job_id)
        final = await asyncio.wait_for(client.watch(job_id, poll_s=0.3), 90)
        return final, job_id, tenant, time.monotonic() - t0, waiting

    final, job_id, tenant, took, waiting = asyncio.run(scenario())
    print(f"fan-out cancel: 3 rendering variants and 1 waiting -> job {final.state} in {took:.1f} s")
    assert len(waiting) == len(variants) - CONCURRENCY, waiting
    assert final.state == "Cancelled", final.describe()
    assert {v.variant.name: v.state for v in final.variants} == dict.fromkeys((v.name for v in variants),
                                                                             "Cancelled"), final.variants
    assert took < 30, took
    # the waiting variant saw the cancel marker before its next try for a slot: no task, and says why
    by_name = {v.variant.name: v for v in final.variants}
    for name in waiting:
        assert by_name[name].error == "Reelwright.Cancelled", by_name[name]
        assert "never started" in (by_name[name].cause or ""), by_name[name]
    # every rendering variant's task: its recorder process ended and ECS has it stopped; none for the waiting
    ecs = emu.client("ecs")
    key = f"tenants/{tenant}/jobs/{job_id}/job.json"
    arns = []
    for v in variants:
        mine = job_tasks(emu, f"{key}#{v.name}")
        assert len(mine) == (0 if v.name in waiting else 1), (v.name, mine)
        arns += mine
    deadline = time.monotonic() + 20
    while not all(a in emu.finished_tasks for a in arns):
        assert time.monotonic() < deadline, [a for a in arns if a not in emu.finished_tasks]
        time.sleep(0.1)
    tasks = ecs.describe_tasks(cluster=emu.resources["cluster"], tasks=arns)["tasks"]
    assert [t["desiredStatus"] for t in tasks] == ["STOPPED"] * CONCURRENCY, tasks
    assert not any(a in emu.tasks for a in arns)
    # no slot is held, and the job's rows say Cancelled
    deadline = time.monotonic() + 20
    while emu.usage(tenant).get("running", 0) != 0 or (emu.job_row(tenant, job_id) or {}).get("status") != "Cancelled":
        assert time.monotonic() < deadline, (emu.usage(tenant), emu.job_row(tenant, job_id))
        time.sleep(0.2)
    for v in variants:
        row = emu.job_row(tenant, f"{job_id}#{v.name}")
        if v.name in waiting:  # it never held a slot, so it has no row (nothing for the sweeper)
            assert row is None or "slotHeld" not in row, (v.name, row)
        else:
            assert row is not None and "slotHeld" not in row, (v.name, row)


# ---------------------------------------------------------------------- a variant's task dies silently


def test_a_variant_whose_task_dies_silently_is_stopped_and_retried_and_the_job_completes(
        tmp_path_factory: pytest.TempPathFactory, tmp_path: Path) -> None:
    """Injected: one variant's task dies mid-render without a word (its recorder and browser killed with
    SIGKILL: no report, no heartbeat).  The render step waits for a heartbeat that never comes; its lost
    heartbeat stops whatever runs of the variant and retries it (as a single job's render is, up to 3
    times) with fresh credentials and the slot it holds; the retry renders it, the job completes and no
    slot stays held.  The sibling variant is untouched (one task).  Own emulator: the render step's
    heartbeat is 8 s here (300 s deployed), recorders beat every 2 s."""
    thread = EmulatorThread(tmp_path_factory.mktemp("fanout-lost"))
    thread.emu.fake_polly = True
    thread.emu.render_heartbeat_s = 8
    variants = [Variant.of("en", "480x270"), Variant.of("de", "480x270")]
    lost, sibling = variants[1].name, variants[0].name
    src = multilingual(tmp_path / "src")
    doc = json.loads(src.read_text(encoding="utf-8"))
    doc["cards"][1]["hold_ms"] = 60_000  # long enough to be killed mid-render
    src.write_text(json.dumps(doc, ensure_ascii=False), encoding="utf-8")

    with thread as emu:
        async def scenario() -> tuple[Any, str, str, str]:
            client = await signed_up(emu, tmp_path / "home", "lost@example.com")
            tenant = await client.identity()
            job_id = await client.submit(src, variants=variants)
            key = f"tenants/{tenant}/jobs/{job_id}/job.json#{lost}"
            deadline = time.monotonic() + 120
            while True:  # the de variant's recorder is at work (it published progress, or runs for 3 s)
                st = await client.status(job_id)
                assert not st.terminal, st.describe()
                de = next((v for v in st.variants if v.variant.name == lost), None)
                mine = await asyncio.to_thread(job_tasks, emu, key)
                runs = [r for r in list(emu.tasks.values()) if r.arn in mine]
                if runs and ((de is not None and de.progress is not None) or time.monotonic() - runs[0].started > 3):
                    break
                assert time.monotonic() < deadline, st.describe()
                await asyncio.sleep(0.3)
            [run] = runs
            os.killpg(run.proc.pid, 9)  # the task dies: recorder, browser and all, without a word
            final = await asyncio.wait_for(client.watch(job_id, poll_s=0.5), 240)
            return final, job_id, tenant, run.arn

        final, job_id, tenant, killed = asyncio.run(scenario())
        key = f"tenants/{tenant}/jobs/{job_id}/job.json"
        print(f"lost variant task: job {final.state}; {lost} tasks {len(job_tasks(emu, f'{key}#{lost}'))}")
        assert final.state == "Complete", final.describe()
        assert {v.variant.name: v.state for v in final.variants} == {lost: "Complete", sibling: "Complete"}
        lost_tasks = job_tasks(emu, f"{key}#{lost}")
        assert killed in lost_tasks and len(lost_tasks) == 2, lost_tasks  # the dead one and its retry
        assert len(job_tasks(emu, f"{key}#{sibling}")) == 1
        states = [e["stateEnteredEventDetails"]["name"] for e in emu.client("stepfunctions").get_execution_history(
            executionArn=emu.executions[key], maxResults=1000)["events"] if e["type"].endswith("StateEntered")]
        assert states.count("LostVariantHeartbeat") == 1 and states.count("WaitToRetryVariant") == 1, states
        assert states.count("IssueVariantCredentials") == 3  # en once, de twice (fresh for the retry)
        deadline = time.monotonic() + 20
        while emu.usage(tenant).get("running", 0) != 0:
            assert time.monotonic() < deadline, emu.usage(tenant)
            time.sleep(0.2)
        for v in variants:
            row = emu.job_row(tenant, f"{job_id}#{v.name}")
            assert row is not None and "slotHeld" not in row and row["status"] == "Complete", (v.name, row)
