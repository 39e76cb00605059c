"""The recorder image's packed tools: its three largest binaries are stored zstd-compressed and unpacked
onto the task's scratch disk when the task starts.

The headless shell (205 MB), Playwright's Node (119 MB) and the static ffmpeg (80 MB) compress to about
a quarter (``zstd -19 --long=27``), which is most of what keeps the image under its 500 MB target (see
docs/cloud.md "The recorder image").  Unpacking them costs about 1.5 s of one core at task start, once;
every process the tools start afterwards (Chromium's renderers, each ffmpeg run) runs the plain file.

``REELWRIGHT_PACKED`` names the folder holding the ``.zst`` files (the image sets ``/opt/packed``); unset,
nothing happens (a host run uses the installed tools).  Each tool is written under
``<REELWRIGHT_WORK_DIR>/tools`` and the variable the app already reads is pointed at it:

* ``chromium-headless-shell.zst`` → ``REELWRIGHT_CHROMIUM``.  Chromium finds its data (``icudtl.dat``,
  the ``.pak`` files, the V8 snapshot, SwiftShader) next to its own executable, so the unpacked binary
  gets a folder of symlinks to everything else in ``/usr/lib/chromium``;
* ``node.zst`` → ``PLAYWRIGHT_NODEJS_PATH`` (Playwright's driver runs it instead of its bundled one);
* ``ffmpeg.zst`` → ``REELWRIGHT_FFMPEG``.
"""

from __future__ import annotations

import logging
import os
import shutil
import subprocess
import time
from pathlib import Path

log = logging.getLogger("recorder")

CHROMIUM_DIR = Path("/usr/lib/chromium")
#: packed file -> (the environment variable that names the tool, the folder its siblings live in)
PACKED: dict[str, tuple[str, Path | None]] = {
    "chromium-headless-shell.zst": ("REELWRIGHT_CHROMIUM", CHROMIUM_DIR),
    "node.zst": ("PLAYWRIGHT_NODEJS_PATH", None),
    "ffmpeg.zst": ("REELWRIGHT_FFMPEG", None),
}
ZSTD_WINDOW_LOG = 27  # the --long window the image was compressed with (128 MiB: zstd's default limit)


class UnpackError(Exception):
    """A packed tool could not be unpacked (names the file and why)."""


def unpack_tools(env: dict[str, str] | None = None, siblings_root: Path | None = None) -> dict[str, str]:
    """Unpack every packed tool and return the variables to set (also set in ``os.environ`` when
    ``env`` is None).  Idempotent within a task: a tool already unpacked is reused."""
    e = os.environ if env is None else env
    packed = e.get("REELWRIGHT_PACKED")
    if not packed:
        return {}
    src = Path(packed)
    dest = Path(e.get("REELWRIGHT_WORK_DIR") or "/tmp") / "tools"
    zstd = shutil.which("zstd")
    if zstd is None:
        raise UnpackError("zstd is not installed, so the packed tools in "
                          f"{src} cannot be unpacked (the image's apt layer installs it)")
    out: dict[str, str] = {}
    start, total = time.monotonic(), 0
    for name, (var, siblings) in PACKED.items():
        archive = src / name
        if not archive.is_file():
            continue
        tool_dir = dest / name.removesuffix(".zst")
        target = tool_dir / name.removesuffix(".zst")
        if not target.is_file():
            tool_dir.mkdir(parents=True, exist_ok=True)
            if siblings is not None:
                base = siblings_root or siblings
                for entry in base.iterdir():
                    link = tool_dir / entry.name
                    if entry.name != target.name and not link.exists():
                        link.symlink_to(entry)
            part = target.with_name(target.name + ".part")
            proc = subprocess.run([zstd, "-d", "-q", "-f", f"--long={ZSTD_WINDOW_LOG}", str(archive), "-o", str(part)],
                                  capture_output=True, text=True, timeout=300)
            if proc.returncode != 0:
                part.unlink(missing_ok=True)
                raise UnpackError(f"could not unpack {archive} into {tool_dir}: "
                                  f"{proc.stderr.strip() or f'zstd exited {proc.returncode}'}")
            part.chmod(0o755)
            part.rename(target)
            total += target.stat().st_size
        out[var] = str(target)
    if out:
        log.info("unpacked %d packed tools (%.0f MB) into %s in %.1f s", len(out), total / 1e6, dest,
                 time.monotonic() - start)
    if env is None:
        os.environ.update(out)
    else:
        env.update(out)
    return out
