#!/usr/bin/env python3
"""Linux installers from the one-folder build: a ``.deb`` and a portable ``.tar.zst``.

    python build/linux_package.py dist/Reelwright [--out-dir dist] [--formats deb,tar.zst]

The ``.deb`` (``dpkg-deb``, nothing downloaded) installs the folder under ``/opt/reelwright``, puts
``reelwright`` (the CLI) and ``Reelwright`` (the app) on PATH, adds a desktop entry, the icon and the MIME
types of job bundles (``*.reelwright.zip``) and scripts (``*.reelwright.json``), depends on the system
libraries the bundle leaves out (``bundle_policy.LINUX_DEPENDS``) and recommends Debian's
``chromium-headless-shell``.  Maintainer scripts are not needed: dpkg's triggers of shared-mime-info,
desktop-file-utils and the icon cache pick the files up on install and forget them on purge.

The ``.tar.zst`` is the same folder with the desktop files beside it, for any distribution.

Each artefact is written under a temporary name and renamed, with a ``.sha256`` beside it; the script
fails (exit 1) when one is larger than ``COMPRESSED_BUDGET_BYTES``.
"""

from __future__ import annotations

import argparse
import hashlib
import os
import platform
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(HERE))
from bundle_policy import (  # noqa: E402
    COMPRESSED_BUDGET_BYTES,
    LINUX_DEPENDS,
    LINUX_RECOMMENDS,
    LINUX_SUGGESTS,
)

from app import __version__  # noqa: E402

PACKAGE = "reelwright"
PREFIX = "opt/reelwright"
DESKTOP_DIR = HERE / "linux"
MIME_TYPES = ("application/x-reelwright-job", "application/x-reelwright-script")
# Measured on this bundle (545 MB, two busy cores): xz -6 multithreaded 189 MB in 133 s; zstd -19 200 MB
# in ~4.5 CPU-minutes; xz -9 needs 64 MB dictionaries and was still running after 5 CPU-minutes.  So the
# .deb uses xz -6: smallest and fastest, and every dpkg reads it.
DEB_COMPRESSION = ("xz", "6")
# the portable archive is zstd (fast to unpack); a 128 MB window (--long=27) finds the repeats -19's
# 8 MB window misses and is still what `zstd -d` / `tar --zstd` accept without extra flags
ZSTD_LEVEL = "19"


def deb_arch() -> str:
    machine = platform.machine().lower()
    return {"x86_64": "amd64", "aarch64": "arm64", "arm64": "arm64"}.get(machine, machine)


def sha256(path: Path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


def link_tree(src: Path, dest: Path) -> None:
    """Hard-link the bundle into the staging tree (600 MB copied for nothing otherwise); copy across
    file systems."""
    def link(s: str, d: str) -> None:
        try:
            os.link(s, d)
        except OSError:
            shutil.copy2(s, d)

    shutil.copytree(src, dest, symlinks=True, copy_function=link)


def tree_size(root: Path) -> int:
    return sum(p.lstat().st_size for p in root.rglob("*") if p.is_file() and not p.is_symlink())


def control_text(installed_kb: int) -> str:
    return "\n".join([
        f"Package: {PACKAGE}",
        f"Version: {__version__}",
        f"Architecture: {deb_arch()}",
        "Maintainer: Reelwright maintainers <maintainers@reelwright.invalid>",
        f"Installed-Size: {installed_kb}",
        "Section: video",
        "Priority: optional",
        f"Depends: {', '.join(LINUX_DEPENDS)}",
        f"Recommends: {', '.join(LINUX_RECOMMENDS)}",
        f"Suggests: {', '.join(LINUX_SUGGESTS)}",
        "Homepage: https://github.com/reelwright/reelwright",
        "Description: narrated product-demo videos from a browser flow and its documents",
        " Reelwright drafts a script of cards (narration plus browser actions) from a recorded",
        " Playwright flow and the documents behind it, voices every card offline with Piper,",
        " replays the flow frame-exactly in Chromium's headless shell and mixes an MP4 with",
        " captions and chapters. The desktop app and the reelwright command line.",
        "",
    ])


def stage_desktop_files(root: Path, *, usr: str) -> None:
    """Desktop entry, icons and MIME types under ``root/<usr>/share``."""
    share = root / usr / "share"
    for rel, src in [
        ("applications/reelwright.desktop", DESKTOP_DIR / "reelwright.desktop"),
        ("mime/packages/reelwright.xml", DESKTOP_DIR / "reelwright-mime.xml"),
        ("icons/hicolor/scalable/apps/reelwright.svg", DESKTOP_DIR / "reelwright.svg"),
        ("icons/hicolor/scalable/mimetypes/application-x-reelwright-job.svg", DESKTOP_DIR / "reelwright.svg"),
    ]:
        dest = share / rel
        dest.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(src, dest)
        dest.chmod(0o644)


def build_deb(bundle: Path, out_dir: Path) -> Path:
    if shutil.which("dpkg-deb") is None:
        raise SystemExit("error: dpkg-deb not found (apt-get install dpkg-dev)")
    final = out_dir / f"{PACKAGE}_{__version__}_{deb_arch()}.deb"
    with tempfile.TemporaryDirectory(prefix="reelwright-deb-", dir=out_dir) as tmp:
        root = Path(tmp) / "root"
        link_tree(bundle, root / PREFIX)
        bindir = root / "usr" / "bin"
        bindir.mkdir(parents=True)
        (bindir / "reelwright").symlink_to(f"/{PREFIX}/reelwright-cli")
        (bindir / "Reelwright").symlink_to(f"/{PREFIX}/Reelwright")
        stage_desktop_files(root, usr="usr")
        doc = root / "usr" / "share" / "doc" / PACKAGE
        doc.mkdir(parents=True)
        (doc / "copyright").write_text(
            "Reelwright is GPL-3.0-or-later (/usr/share/common-licenses/GPL-3).\n"
            "It bundles Qt (LGPL-3.0), Playwright and its Node driver (Apache-2.0, MIT), ffmpeg from\n"
            "imageio-ffmpeg (GPL), Piper (GPL-3.0) and the en_US-joe-medium voice (CC0), onnxruntime (MIT).\n",
            encoding="utf-8")
        for d in [root, *root.rglob("*")]:  # dpkg wants 0755 directories whatever the umask was
            if d.is_dir() and not d.is_symlink():
                d.chmod(0o755)
        debian = root / "DEBIAN"
        debian.mkdir()
        (debian / "control").write_text(control_text(tree_size(root) // 1024 + 1), encoding="utf-8")
        part = out_dir / (final.name + ".part")
        algo, level = DEB_COMPRESSION
        subprocess.run(["dpkg-deb", "--root-owner-group", f"-Z{algo}", f"-z{level}", "--build", str(root),
                        str(part)], check=True, stdout=subprocess.DEVNULL)
    os.replace(part, final)
    return final


def build_tar_zst(bundle: Path, out_dir: Path) -> Path:
    if shutil.which("zstd") is None:
        raise SystemExit("error: zstd not found (apt-get install zstd)")
    name = f"Reelwright-{__version__}-linux-{platform.machine().lower()}"
    final = out_dir / f"{name}.tar.zst"
    part = out_dir / (final.name + ".part")
    with tempfile.TemporaryDirectory(prefix="reelwright-tar-", dir=out_dir) as tmp:
        top = Path(tmp) / name
        link_tree(bundle, top)
        # the desktop files, for `install-desktop-files.sh`-style integration by hand (see docs/packaging.md)
        stage_desktop_files(top, usr="desktop")
        tar = subprocess.Popen(["tar", "-C", tmp, "--owner=0", "--group=0", "--numeric-owner", "-cf", "-", name],
                               stdout=subprocess.PIPE)
        assert tar.stdout is not None
        with open(part, "wb") as out:
            zst = subprocess.run(["zstd", f"-{ZSTD_LEVEL}", "-T0", "--long=27", "-q", "-c"], stdin=tar.stdout,
                                 stdout=out, check=False)
        tar.stdout.close()
        if tar.wait() != 0 or zst.returncode != 0:
            part.unlink(missing_ok=True)
            raise SystemExit(f"error: tar/zstd failed ({tar.returncode}/{zst.returncode})")
    os.replace(part, final)
    return final


BUILDERS = {"deb": build_deb, "tar.zst": build_tar_zst}


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("bundle", type=Path, nargs="?", default=Path("dist/Reelwright"))
    p.add_argument("--out-dir", type=Path, default=Path("dist"))
    p.add_argument("--formats", default="deb,tar.zst", help="comma-separated: deb, tar.zst")
    args = p.parse_args(argv)
    if not (args.bundle / "Reelwright").is_file():
        print(f"error: {args.bundle} is not a built bundle (run 'make package' first)", file=sys.stderr)
        return 2
    formats = [f.strip() for f in args.formats.split(",") if f.strip()]
    unknown = [f for f in formats if f not in BUILDERS]
    if unknown:
        print(f"error: unknown format(s) {', '.join(unknown)}; choose from {', '.join(BUILDERS)}", file=sys.stderr)
        return 2
    args.out_dir.mkdir(parents=True, exist_ok=True)
    unpacked = tree_size(args.bundle)
    print(f"unpacked: {unpacked / 1e6:.0f} MB ({args.bundle})")
    over = []
    for fmt in formats:
        t0 = time.monotonic()
        out = BUILDERS[fmt](args.bundle, args.out_dir)
        out.with_name(out.name + ".sha256").write_text(f"{sha256(out)}  {out.name}\n", encoding="utf-8")
        size = out.stat().st_size
        verdict = "ok" if size <= COMPRESSED_BUDGET_BYTES else "OVER BUDGET"
        print(f"{fmt}: {out} {size / 1e6:.1f} MB of {COMPRESSED_BUDGET_BYTES / 1e6:.0f} MB ({verdict}; "
              f"{time.monotonic() - t0:.0f} s)", flush=True)
        if size > COMPRESSED_BUDGET_BYTES:
            over.append(out.name)
    if over:
        print(f"error: over the {COMPRESSED_BUDGET_BYTES / 1e6:.0f} MB download budget: {', '.join(over)}",
              file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
