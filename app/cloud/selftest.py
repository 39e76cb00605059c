"""``reelwright cloud emulate --selftest``: the whole cloud path once, measured.

Signs up a fresh user (SRP sign-in), submits the example, watches the status transitions, downloads
the outputs (checksums verified) and checks the MP4 with ffprobe.  Raises on any failure.
"""

from __future__ import annotations

import json
import secrets
import subprocess
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from app.cloud.client import CloudClient
from app.cloud.errors import CloudError
from app.cloud.layout import JobStatus
from app.cloud.tokens import TokenStore
from app.core.infra.tools import find_ffprobe

from .emulator.local import Emulator

EXAMPLE = Path(__file__).resolve().parents[2] / "resources" / "examples" / "quickstart" / "script.json"


def probe_mp4(path: Path) -> dict[str, Any]:
    """Streams and duration of an MP4 (ffprobe); raises CloudError unless it has H.264 video and AAC audio."""
    ffprobe = find_ffprobe()
    if ffprobe is None:
        raise CloudError("ffprobe is needed to verify the video", hint="apt-get install ffmpeg")
    out = subprocess.run([str(ffprobe), "-v", "error", "-show_entries", "stream=codec_type,codec_name,width,height"
                          ":format=duration,format_name", "-of", "json", str(path)],
                         capture_output=True, text=True, timeout=60, check=False)
    if out.returncode != 0:
        raise CloudError(f"{path.name} is not a readable video: {out.stderr.strip()}")
    info: dict[str, Any] = json.loads(out.stdout)
    codecs = {s.get("codec_type"): s.get("codec_name") for s in info.get("streams", [])}
    if codecs.get("video") != "h264" or codecs.get("audio") != "aac":
        raise CloudError(f"{path.name} has streams {codecs}, expected h264 video and aac audio")
    if float(info.get("format", {}).get("duration", 0)) <= 0:
        raise CloudError(f"{path.name} has no duration")
    return info


async def selftest(emu: Emulator, example: Path = EXAMPLE, *, say: Callable[[str], None] = print,
                   home: Path | None = None) -> dict[str, float]:
    assert emu.config is not None
    if not example.is_file():
        raise CloudError(f"the example script {example} is missing")
    home = home or Path(tempfile.mkdtemp(prefix="reelwright-selftest-"))
    client = CloudClient(emu.config, TokenStore(emu.config.user_pool_id, home=home, use_keyring=False))
    email, password = f"selftest-{secrets.token_hex(4)}@example.com", "Selftest-" + secrets.token_hex(8) + "A1"
    t: dict[str, float] = {}
    t0 = time.monotonic()
    await client.sign_up(email, password)
    await client.confirm(email, "000000")  # the emulator mails no codes; moto accepts any
    await client.sign_in(email, password)
    t["sign_up_and_in_s"] = time.monotonic() - t0
    say(f"signed up and in as {email} (identity {await client.identity()})")
    t1 = time.monotonic()
    seen: list[str] = []
    marks: dict[str, float] = {}

    def on_submitted(job_id: str) -> None:
        t["upload_s"] = time.monotonic() - t1
        say(f"submitted {example} as job {job_id}")

    def on_status(st: JobStatus) -> None:
        marks.setdefault(st.state, time.monotonic())
        if not seen or seen[-1] != st.state:
            seen.append(st.state)
        say(f"  {time.monotonic() - t1:6.1f} s  {st.describe()}")

    done = await client.render(example, home / "outputs", on_submitted=on_submitted, on_status=on_status,
                               poll_s=0.5)
    t["queued_to_complete_s"] = marks["Complete"] - marks.get("Queued", t1)
    t["download_s"] = time.monotonic() - marks["Complete"]  # from the Complete status seen to files verified
    video = done.video
    info = probe_mp4(video)
    t["video_duration_s"] = float(info["format"]["duration"])
    t["total_s"] = time.monotonic() - t0
    say(f"status transitions: {' → '.join(seen)}")
    say(f"verified {video} ({video.stat().st_size / 1e6:.2f} MB, {t['video_duration_s']:.1f} s, h264/aac)")
    return t
