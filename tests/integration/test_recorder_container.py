"""One full cloud job through the real recorder image: the emulator's Fargate stand-in runs the task
with ``docker run`` (``Emulator(container_image=...)``, i.e. ``reelwright cloud emulate --container``)
instead of a host subprocess, and the video that comes back is checked.  The image voices with Polly only,
so the narration goes through the emulator's fake Polly (``app.cloud.emulator.polly``).

Skipped with the reason when no Docker engine answers or the image was not built (``make recorder-image``;
``make test`` never builds images).  ``RECORDER_IMAGE`` picks another tag.
"""

from __future__ import annotations

import asyncio
import os
import shutil
import subprocess
from pathlib import Path

import pytest
from test_cloud_emulator import TINY, EmulatorThread, signed_up, wait_until

from app.cloud.selftest import probe_mp4

pytestmark = [pytest.mark.slow, pytest.mark.browser]

IMAGE = os.environ.get("RECORDER_IMAGE", "reelwright-recorder:local")
LOCAL_ENGINE = Path("/work/docker/docker.sock")  # where docs/cloud.md's recipe starts dockerd here


def _docker_ready() -> str | None:
    """None when the image can run, else why not."""
    if shutil.which("docker") is None:
        return "no docker client on PATH"
    if "DOCKER_HOST" not in os.environ and not Path("/var/run/docker.sock").exists() and LOCAL_ENGINE.exists():
        os.environ["DOCKER_HOST"] = f"unix://{LOCAL_ENGINE}"
    info = subprocess.run(["docker", "info"], capture_output=True, text=True, timeout=30)
    if info.returncode != 0:
        return f"no Docker engine reachable (DOCKER_HOST={os.environ.get('DOCKER_HOST', 'unset')})"
    img = subprocess.run(["docker", "image", "inspect", IMAGE], capture_output=True, text=True, timeout=30)
    if img.returncode != 0:
        return f"recorder image {IMAGE} not built (run 'make recorder-image')"
    return None


@pytest.mark.parametrize("sandbox", [False, True], ids=["no-sandbox", "chromium-sandbox"])
def test_one_job_renders_in_the_recorder_container(tmp_path: Path, sandbox: bool) -> None:
    """``chromium-sandbox``: Chromium keeps its own sandbox (needs user namespaces: seccomp=unconfined)."""
    reason = _docker_ready()
    if reason:
        pytest.skip(reason)
    with EmulatorThread(tmp_path / "emulator") as emu:
        emu.container_image = IMAGE
        emu.container_sandbox = sandbox

        async def scenario() -> None:
            client = await signed_up(emu, tmp_path, "ada@example.com")
            job_id = await client.submit(TINY)
            final = await client.watch(job_id, poll_s=0.5)
            logs = "\n".join(p.read_text(errors="replace")[-3000:] for p in (emu.workdir / "tasks").glob("*.log"))
            assert final.state == "Complete", f"{final.describe()}\n{logs}"
            files = await client.fetch(job_id, tmp_path / "out")
            assert "video.mp4" in {p.name for p in files}
            info = probe_mp4(tmp_path / "out" / "video.mp4")
            video = next(st for st in info["streams"] if st["codec_type"] == "video")
            assert video["width"] > 0 and any(st["codec_type"] == "audio" for st in info["streams"])
            assert abs(float(info["format"]["duration"]) - (final.duration_s or 0)) < 0.5
            # the image has no Piper: the narration came through Polly's API, i.e. the emulator's fake Polly
            assert emu.polly is not None and emu.polly.requests
            assert {status for _, status in emu.polly.requests} == {200}
            # every task (the `docker run` of the image) exited cleanly and no container is left behind
            wait_until(lambda: not emu.tasks)
            assert emu.finished_tasks and set(emu.finished_tasks.values()) == {0}
            left = subprocess.run(["docker", "ps", "-aq", "--filter", "name=reelwright-task-"],
                                  capture_output=True, text=True, timeout=30).stdout.split()
            assert left == []

        asyncio.run(scenario())
