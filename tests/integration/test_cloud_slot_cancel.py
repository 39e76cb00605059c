"""A single job cancelled while it waits for a render slot (issue 15 part 2, the state machine's
``CheckCancel``), proven in the emulator: a real moto server running the production state machine from
``template.yaml`` with ``MaxConcurrentJobsPerTenant`` = 2 and IAM enforcement on (the user, the state
machine's calls and the recorders each with their own rights).

Two real renders (the tiny script with a long hold: real Chromium, espeak-ng, ffmpeg in the Fargate
stand-in's task processes) fill the tenant's two slots; a third job waits in ``WaitForSlot``; its owner
cancels it.  It must end Cancelled within seconds - not when a slot frees - without ever taking a slot,
minting credentials or starting a task, and without being charged, while the two others complete.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from app.cloud.client import CloudClient
from app.cloud.emulator.local import Emulator
from app.cloud.layout import JobStatus
from tests.integration.test_cloud_emulator import EmulatorThread, signed_up, variant
from tests.integration.test_cloud_emulator_failures import entered, job_key, job_tasks

pytestmark = [pytest.mark.slow, pytest.mark.browser]

CONCURRENCY = 2
#: the running jobs' second card holds this long, so they are far from done when the third is cancelled
HOLD_MS = 20_000


@pytest.fixture(scope="module")
def emu(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Emulator]:
    thread = EmulatorThread(tmp_path_factory.mktemp("slotcancel"))
    thread.emu.max_concurrent_jobs = CONCURRENCY
    thread.emu.iam_enforcement = True
    with thread as e:
        yield e


async def poll(client: CloudClient, job_id: str, ok: Any, what: str, timeout: float = 120) -> JobStatus:
    deadline = time.monotonic() + timeout
    while True:
        st = await client.status(job_id)
        if ok(st):
            return st
        assert not st.terminal, (what, st.describe())
        assert time.monotonic() < deadline, (what, st.describe())
        await asyncio.sleep(0.2)


def test_a_job_cancelled_while_waiting_for_a_slot_ends_cancelled_at_once_and_never_starts_a_task(
        emu: Emulator, tmp_path: Path) -> None:
    src = variant(tmp_path / "src", lambda doc: doc["cards"][1].update(hold_ms=HOLD_MS))

    async def scenario() -> tuple[str, list[str], str, JobStatus, float, list[JobStatus], list[JobStatus]]:
        client = await signed_up(emu, tmp_path / "home", "slotcancel@example.com")
        tenant = await client.identity()
        running = [await client.submit(src) for _ in range(CONCURRENCY)]
        for job_id in running:  # each recorder has published progress: the two hold the tenant's slots
            await poll(client, job_id, lambda st: st.progress is not None, "rendering")
        waiting = await client.submit(src)
        await poll(client, waiting, lambda st: st.message.startswith("Waiting for one of your"), "waiting")
        t0 = time.monotonic()
        await client.cancel(waiting)
        final = await asyncio.wait_for(client.watch(waiting, poll_s=0.2), 60)
        took = time.monotonic() - t0
        # the cancel did not wait for a slot: both renders were still going when it ended
        meanwhile = [await client.status(j) for j in running]
        others = [await asyncio.wait_for(client.watch(j, poll_s=0.5), 240) for j in running]
        return tenant, running, waiting, final, took, meanwhile, others

    tenant, running, waiting, final, took, meanwhile, others = asyncio.run(scenario())
    print(f"single-job slot cancel: {CONCURRENCY} rendering, 1 waiting -> {final.state} "
          f"{took:.1f} s after the cancel")
    assert final.state == "Cancelled", final.describe()
    assert final.error == "Reelwright.Cancelled" and "before it started" in (final.cause or ""), final.describe()
    assert took < 10, took  # the emulator's WaitForSlot is 1 s; the template's 30 s
    assert [st.terminal for st in meanwhile] == [False] * CONCURRENCY, [st.describe() for st in meanwhile]
    assert [st.state for st in others] == ["Complete"] * CONCURRENCY, [st.describe() for st in others]

    # it went from a wait for a slot to the marker and out: no slot, no credentials, no task, no charge
    key = job_key(waiting, tenant)
    states = entered(emu, emu.executions[key])
    assert "WaitForSlot" in states and states.index("CheckCancel") < states.index("TakeSlot"), states
    assert states[-7:] == ["WaitForSlot", "CheckCancel", "ExplainNotStarted", "NotStartedDocument",
                           "PublishCancelled", "RecordCancelled", "Cancelled"], states
    assert states.count("TakeSlot") == states.count("WaitForSlot"), states  # every try was refused
    assert not {"JobPolicy", "IssueJobCredentials", "Render", "Settle", "ReleaseSlot"} & set(states), states
    assert emu.client("stepfunctions").describe_execution(
        executionArn=emu.executions[key])["status"] == "SUCCEEDED"  # the owner's choice: no alarm
    assert job_tasks(emu, key) == []
    row = emu.job_row(tenant, waiting)
    assert row is not None and row["status"] == "Cancelled", row
    assert "slotHeld" not in row and "minutes" not in row, row
    # every slot is free, and the month holds exactly the two renders' minutes
    month = datetime.now(UTC).strftime("USAGE#%Y-%m")
    charged = []
    for job_id in running:
        done = emu.job_row(tenant, job_id)
        assert done is not None and done["status"] == "Complete" and "slotHeld" not in done, done
        assert len(job_tasks(emu, job_key(job_id, tenant))) == 1
        charged.append(float(done["minutes"]))
    usage = emu.usage(tenant)
    assert usage["running"] == 0 and usage[month] == pytest.approx(sum(charged)), (usage, charged)
