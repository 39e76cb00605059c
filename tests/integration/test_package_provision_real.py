"""The first-run download with a real browser inside: Debian's headless shell is packed in the layout of
Playwright's download, served by the loopback stand-in for the download host, provisioned, and then
used by the self-test for a real frame-exact render.  Nothing leaves the machine."""

from __future__ import annotations

import asyncio
import os
import shutil
import stat
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

from app.core.infra import browser_provision as bp

REPO = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(REPO / "tests" / "unit"))
from browser_provision_fakes import ARCHIVE_PATH, BUILD, LoopbackDownloadHost  # noqa: E402

DEBIAN_SHELL_DIR = Path("/usr/lib/chromium")
#: what a relocated headless shell needs next to it (measured: the binary, its paks, ICU and V8 snapshots)
SHELL_FILES = ("headless_command_resources.pak", "headless_lib_data.pak", "headless_lib_strings.pak", "icudtl.dat",
               "snapshot_blob.bin", "v8_context_snapshot.bin")

pytestmark = [pytest.mark.slow, pytest.mark.browser]


def pack_debian_shell(dest: Path) -> Path:
    """A zip shaped like chrome-headless-shell-linux64.zip, holding Debian's headless shell."""
    archive = dest / "chrome-headless-shell-linux64.zip"
    folder = BUILD.folder
    with zipfile.ZipFile(archive, "w", zipfile.ZIP_STORED) as zf:
        info = zipfile.ZipInfo(f"{folder}/chrome-headless-shell")
        info.external_attr = (stat.S_IFREG | 0o755) << 16
        with open(DEBIAN_SHELL_DIR / "chromium-headless-shell", "rb") as src, zf.open(info, "w") as out:
            shutil.copyfileobj(src, out, 1 << 20)
        for name in SHELL_FILES:
            zf.write(DEBIAN_SHELL_DIR / name, f"{folder}/{name}")
    return archive


@pytest.mark.skipif(not (DEBIAN_SHELL_DIR / "chromium-headless-shell").is_file(),
                    reason="needs Debian's chromium-headless-shell")
@pytest.mark.timeout(600)
def test_downloaded_headless_shell_renders(tmp_path: Path) -> None:
    host = LoopbackDownloadHost()
    try:
        host.files[ARCHIVE_PATH] = pack_debian_shell(tmp_path)
        root = tmp_path / "browsers"
        found = asyncio.run(bp.download_headless_shell(host=host.url, build=BUILD, root=root))
        (tmp_path / "chrome-headless-shell-linux64.zip").unlink()
        assert found.browser.path == BUILD.executable(root)
        assert found.browser.kind == "headless-shell"

        env = {**os.environ, bp.CHROMIUM_ENV: str(found.browser.path), "HOME": str(tmp_path / "home")}
        out = subprocess.run([sys.executable, "-m", "app", "self-test", "--out-dir", str(tmp_path / "clip")],
                             cwd=REPO, env=env, capture_output=True, text=True, timeout=300, check=False)
        text = out.stdout + out.stderr
        assert out.returncode == 0, text
        assert f"ok   browser  {found.browser.path} (frame-exact)" in text
        assert "self-test passed" in text
        assert (tmp_path / "clip" / "self-test.mp4").stat().st_size > 10_000
    finally:
        host.close()
        shutil.rmtree(tmp_path / "browsers", ignore_errors=True)  # ~240 MB: do not keep it around
