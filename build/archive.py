#!/usr/bin/env python3
"""Pack a built bundle into the artefact CI uploads and releases publish.

    python build/archive.py dist/Reelwright [--out-dir dist]

Linux: ``Reelwright-<version>-linux-<arch>.tar.gz`` (permissions and symlinks kept).  macOS: the
``.app`` next to the folder, zipped with ``ditto`` (keeps signatures and extended attributes) when
present.  Windows: ``.zip``.  Written under a temporary name and renamed, and a ``.sha256`` file is
written beside it.
"""

from __future__ import annotations

import argparse
import hashlib
import os
import platform
import shutil
import subprocess
import sys
import tarfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
from app import __version__  # noqa: E402


def platform_tag() -> str:
    system = {"linux": "linux", "darwin": "macos", "win32": "windows"}.get(sys.platform, sys.platform)
    machine = platform.machine().lower().replace("amd64", "x86_64").replace("aarch64", "arm64")
    return f"{system}-{machine}"


def sha256(path: Path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


def archive(bundle: Path, out_dir: Path) -> Path:
    name = f"Reelwright-{__version__}-{platform_tag()}"
    out_dir.mkdir(parents=True, exist_ok=True)
    app = bundle.with_name(bundle.name + ".app")
    if sys.platform == "darwin" and app.is_dir():
        final = out_dir / f"{name}.zip"
        tmp = final.with_suffix(".zip.part")
        subprocess.run(["ditto", "-c", "-k", "--sequesterRsrc", "--keepParent", str(app), str(tmp)], check=True)
    elif sys.platform == "win32":
        final = out_dir / f"{name}.zip"
        tmp = final.with_suffix(".zip.part")
        made = shutil.make_archive(str(tmp.with_suffix("")), "zip", root_dir=bundle.parent, base_dir=bundle.name)
        os.replace(made, tmp)
    else:
        final = out_dir / f"{name}.tar.gz"
        tmp = final.with_suffix(".gz.part")
        with tarfile.open(tmp, "w:gz", compresslevel=6) as tar:
            tar.add(bundle, arcname=f"Reelwright-{__version__}")
    os.replace(tmp, final)
    final.with_name(final.name + ".sha256").write_text(f"{sha256(final)}  {final.name}\n", encoding="utf-8")
    return final


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("bundle", type=Path, nargs="?", default=Path("dist/Reelwright"))
    p.add_argument("--out-dir", type=Path, default=Path("dist"))
    args = p.parse_args()
    if not args.bundle.is_dir():
        print(f"error: {args.bundle} is not a built bundle (run 'make package' first)", file=sys.stderr)
        return 2
    out = archive(args.bundle, args.out_dir)
    print(f"wrote {out} ({out.stat().st_size / 1e6:.0f} MB)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
