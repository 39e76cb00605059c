"""The .deb on a machine that has never seen the project: build/install_test.sh starts a Docker engine, a
fresh Debian bookworm container (debootstrap + docker import), installs the package with apt (dependencies
from the Debian mirror), runs the app as a non-root user under Xvfb (self-test, smoke screenshot, a render of
the bundled example, a job bundle opened through its MIME type), purges it and searches for leftovers.

Needs root (it starts dockerd); skipped, with the reason, only when no Docker engine can be started.  Uses
``$REELWRIGHT_PACKAGED_DEB`` when set (``make install-test``), else packages the session's bundle.
"""

from __future__ import annotations

import os
import re
import shutil
import signal
import struct
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(REPO / "build"))
from bundle_policy import COMPRESSED_BUDGET_BYTES  # noqa: E402

pytestmark = [pytest.mark.slow]

SKIPPED = 77  # install_test.sh: no Docker engine can be started here


@pytest.fixture(scope="module")
def deb(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    existing = os.environ.get("REELWRIGHT_PACKAGED_DEB")
    if existing:
        path = Path(existing).resolve()
        assert path.is_file(), f"REELWRIGHT_PACKAGED_DEB={existing} does not exist"
        yield path
        return
    if os.geteuid() != 0:
        pytest.skip("the install test needs root to start a Docker engine (dockerd); run make install-test as root")
    bundle: Path = request.getfixturevalue("packaged_bundle")  # requested lazily: a skip costs no build
    out_dir = tmp_path_factory.mktemp("deb")
    t0 = time.monotonic()
    proc = subprocess.run([sys.executable, str(REPO / "build" / "linux_package.py"), str(bundle), "--out-dir",
                           str(out_dir), "--formats", "deb"], capture_output=True, text=True, timeout=1800,
                          check=False)
    print(proc.stdout)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    print(f"packaging the .deb: {time.monotonic() - t0:.0f} s")
    yield next(out_dir.glob("reelwright_*.deb"))
    shutil.rmtree(out_dir, ignore_errors=True)  # ~190 MB


@pytest.fixture(scope="module")
def installed(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> tuple[str, Path, Path]:
    if os.geteuid() != 0 and not os.environ.get("REELWRIGHT_PACKAGED_DEB"):
        pytest.skip("the install test needs root to start a Docker engine (dockerd); run make install-test as root")
    deb_path: Path = request.getfixturevalue("deb")
    out = tmp_path_factory.mktemp("install-test")
    t0 = time.monotonic()
    # its own session, so that a timeout can stop it with SIGTERM: the script's trap then stops the Docker
    # engine it started and removes the container (a SIGKILL would orphan them)
    # the example rendered small (640x360 at 24 fps: the same code path, a third of the time); `make
    # install-test` renders it at its own size
    env = {**os.environ, "REELWRIGHT_ITEST_RENDER_ARGS": "--size 640x360 --fps 24"}
    script = subprocess.Popen(["bash", str(REPO / "build" / "install_test.sh"), str(deb_path), str(out)],
                              stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, start_new_session=True,
                              env=env)
    try:
        text, _ = script.communicate(timeout=1800)
    except BaseException:
        os.killpg(script.pid, signal.SIGTERM)
        script.communicate(timeout=120)
        raise
    proc = subprocess.CompletedProcess(script.args, script.returncode, text, "")
    print(text)
    print(f"install test: {time.monotonic() - t0:.0f} s")
    if proc.returncode == SKIPPED:
        reason = next((ln.split("SKIP: ", 1)[1] for ln in text.splitlines() if "SKIP: " in ln), "no Docker engine")
        pytest.skip(reason)
    assert proc.returncode == 0, text[-6000:]
    return text, out, deb_path


@pytest.mark.timeout(3600)  # includes building the bundle and the .deb when not given one (~5–15 min)
def test_deb_installs_runs_and_purges_cleanly_on_fresh_debian(installed: tuple[str, Path, Path]) -> None:
    text, out, deb_path = installed
    size = deb_path.stat().st_size
    others = "".join(f"; {p.name} {p.stat().st_size / 1e6:.1f} MB"
                     for p in deb_path.parent.glob("Reelwright-*.tar.zst"))
    print(f"\ninstaller sizes: {deb_path.name} {size / 1e6:.1f} MB (budget {COMPRESSED_BUDGET_BYTES / 1e6:.0f} MB)"
          + others)
    assert size <= COMPRESSED_BUDGET_BYTES
    # apt resolved the declared dependencies from the mirror and installed the recommended headless shell
    assert re.search(r"installed in \d+ s with \d+ packages", text)
    assert re.search(r"reelwright \S+ \d+ KB installed", text)
    # the app as a user: versions, the self-test on xcb, the smoke screenshot
    assert re.search(r"Chromium\s+Chromium 1\d\d\.", text) and re.search(r"Voice\s+Piper", text)
    assert "self-test passed" in text and re.search(r"ok\s+qt\s+multimedia backend plays MP4", text)
    paint = re.search(r"installed app: first paint after ([0-9.]+) s", text)
    assert paint, text
    print(f"installed app first paint: {float(paint.group(1)):.2f} s (in the container, under Xvfb)")
    for shot in ("smoke.png", "opened-bundle.png", "quickstart-frame.png"):
        head = (out / shot).read_bytes()[:24]
        assert head[:8] == b"\x89PNG\r\n\x1a\n", shot
        width, height = struct.unpack(">II", head[16:24])
        assert width >= 640 and height >= 360, (shot, width, height)
    # the bundled example rendered to a real video
    assert re.search(r"rendered \S+quickstart.mp4: \d+ bytes", text)
    assert (out / "quickstart.mp4").stat().st_size > 100_000
    assert re.search(r"Stream .*Video: h264", text) and re.search(r"Stream .*Audio: aac", text)
    # the file manager's path: MIME type, default application, launch
    assert "content type of tour.reelwright.zip: application/x-reelwright-job" in text
    assert re.search(r"opened \S+tour.reelwright.zip as project", text)
    # purge leaves nothing but the user's own data
    assert "after purge nothing of the app is left outside /home/tester" in text
    assert "install test PASSED" in text
