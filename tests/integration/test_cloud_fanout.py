"""Fan-out (issue 15 part 7), proven in the emulator: one submission asking for 3 languages x 2 formats
runs the production state machine's ``RenderVariants`` map - six Fargate tasks (the emulator's stand-in
runs a real recorder process per task: real Chromium, espeak-ng and ffmpeg), up to the tenant's
concurrency at a time - and completes when all six have.

The script is the tiny two-card one of the emulator tests, voiced by espeak-ng (the emulator's Piper
override is off here: Piper has one English voice offline) in English, German and French, at two small
sizes, so the six renders stay cheap on a 2-core machine.
"""

from __future__ import annotations

import asyncio
import json
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from app.cloud.emulator.local import Emulator
from app.cloud.layout import Variant
from app.cloud.selftest import probe_mp4
from app.core.infra.tools import find_ffprobe
from tests.integration.test_cloud_emulator import TINY, EmulatorThread, signed_up
from tests.integration.test_cloud_emulator_failures import started_by

pytestmark = [pytest.mark.slow, pytest.mark.browser]

LANGUAGES = {"en": "Open the page.", "de": "Öffne die Seite.", "fr": "Ouvre la page."}
FORMATS = {"480x270": (480, 270), "320x480": (320, 480)}
#: the tenant's MaxConcurrentJobsPerTenant here: six variants run as two rounds of three
CONCURRENCY = 3


@pytest.fixture(scope="module")
def emu(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Emulator]:
    thread = EmulatorThread(tmp_path_factory.mktemp("fanout"))
    thread.emu.voice_override = None  # the script's own espeak-ng voices, one per language
    thread.emu.max_concurrent_jobs = CONCURRENCY
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


def variant_spans(emu: Emulator, job_key: str, names: list[str], timeout: float = 30) -> dict[str, tuple[float, float]]:
    """(started, exited) of each variant's task process, as the Fargate stand-in ran them."""
    ecs = emu.client("ecs")
    spans: dict[str, tuple[float, float]] = {}
    deadline = time.monotonic() + timeout
    for name in names:
        arns: list[str] = []
        for desired in ("RUNNING", "STOPPED"):
            arns += ecs.list_tasks(cluster=emu.resources["cluster"], startedBy=started_by(f"{job_key}#{name}"),
                                   desiredStatus=desired)["taskArns"]
        assert len(arns) == 1, (name, arns)  # one task per variant, none retried
        while emu.task_spans.get(arns[0], (0.0, None))[1] is None:
            assert time.monotonic() < deadline, f"the task of {name} never exited"
            time.sleep(0.1)
        start, end = emu.task_spans[arns[0]]
        assert end is not None
        spans[name] = (start, end)
    return spans


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

    async def scenario() -> tuple[Any, list[Path], str, float]:
        client = await signed_up(emu, tmp_path / "home", "fan@example.com")
        t0 = time.monotonic()
        job_id = await client.submit(multilingual(tmp_path / "src"), variants=variants)
        final = await client.watch(job_id, lambda st: seen.append(st.describe()), poll_s=0.5)
        wall = time.monotonic() - t0
        files = await client.fetch(job_id, tmp_path / "out") if final.state == "Complete" else []
        return final, files, job_id, wall

    final, files, job_id, wall = asyncio.run(scenario())
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

    # the tasks ran in parallel: up to the tenant's concurrency, never more
    tenant = next(iter({k.split("/")[1] for k in emu_job_keys(emu, job_id)}))
    key = f"tenants/{tenant}/jobs/{job_id}/job.json"
    spans = variant_spans(emu, key, names)
    peak = most_at_once(list(spans.values()))
    longest = max(end - start for start, end in spans.values())
    serial = sum(end - start for start, end in spans.values())
    busy = max(e for _, e in spans.values()) - min(s for s, _ in spans.values())
    print(f"fan-out 3 languages x 2 formats: {len(spans)} tasks, at most {peak} at once "
          f"(tenant concurrency {CONCURRENCY}); tasks busy {busy:.1f} s vs {serial:.1f} s one after another "
          f"(longest task {longest:.1f} s); submit to complete {wall:.1f} s")
    assert peak == CONCURRENCY, spans
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


def emu_job_keys(emu: Emulator, job_id: str) -> list[str]:
    s3 = emu.client("s3")
    found = s3.list_objects_v2(Bucket=emu.resources["bucket"], Prefix="tenants/")["Contents"]
    return [o["Key"] for o in found if o["Key"].endswith(f"/jobs/{job_id}/job.json")]


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
