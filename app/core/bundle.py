"""Job bundles: a script plus every asset it references, addressed by sha256.

Layout (a directory, or the same tree in a zip)::

    job.json            {"format": "reelwright-job", "version": 1, "script": {...},
                         "render": {...overrides...}, "assets": {"site/index.html": "<sha256>", ...}}
    assets/<sha256>     the bytes of each asset, once, whatever its names

A local render and a cloud render read the same bundle, so a job that renders locally renders
identically in the cloud.  A plain script JSON is also a job: its assets are read from the folder
the script is in (and may not escape it).
"""

from __future__ import annotations

import json
import os
import re
import shutil
import stat
import tempfile
import zipfile
import zlib
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath
from typing import Any
from urllib.parse import unquote, urlsplit

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from . import limits as L
from .errors import Problem, ScriptError, UsageError
from .infra.fs import sha256_file
from .script import Goto, Script, Upload, read_json_file, validate_script

JOB_FORMAT = "reelwright-job"
JOB_VERSION = 1
MAX_BUNDLE_BYTES = L.MAX_BUNDLE_BYTES  # (kept for importers of the old names)
MAX_BUNDLE_FILES = L.MAX_BUNDLE_FILES
_ASSET_ENTRY_RE = re.compile(r"assets/[0-9a-f]{64}")


class RenderSettings(BaseModel):
    """Per-render overrides of the script's settings (what the CLI flags and the app's dialog set)."""

    model_config = ConfigDict(extra="forbid")
    width: int | None = Field(None, ge=320, le=3840, multiple_of=2)
    height: int | None = Field(None, ge=240, le=3840, multiple_of=2)
    fps: int | None = Field(None, ge=1, le=60)
    captions: bool | None = None
    burn_captions: bool | None = None
    interactive: bool | None = None
    voice_provider: str | None = None


def _safe_rel(rel: str) -> str:
    p = PurePosixPath(rel.replace("\\", "/"))
    if p.is_absolute() or ".." in p.parts or not p.parts:
        raise ValueError(f"asset path '{rel}' must stay inside the bundle")
    return p.as_posix()


@dataclass
class Job:
    """A loaded job: the validated script, render overrides and a way to reach each asset."""

    script: Script
    render: RenderSettings = field(default_factory=RenderSettings)
    assets: dict[str, str] = field(default_factory=dict)  # relative path -> sha256 ("" when loose)
    root: Path = field(default_factory=Path.cwd)
    loose: bool = False  # True when read from a plain script file next to its assets
    source: Path | None = None
    _tmp: tempfile.TemporaryDirectory[str] | None = None

    def resolve(self, rel: str) -> Path:
        """The file on disk for asset path ``rel``."""
        rel = _safe_rel(rel)
        if self.loose:
            path = (self.root / rel).resolve()
            if not path.is_relative_to(self.root.resolve()):
                raise ScriptError([Problem("assets", f"'{rel}' is outside the script's folder")])
            return path
        sha = self.assets.get(rel)
        if sha is None:
            raise ScriptError([Problem("assets", f"'{rel}' is not in the job bundle")], source=self.source)
        return self.root / "assets" / sha

    def site_files(self) -> dict[str, Path]:
        """Files of the served site: URL path (relative to the site root) -> file on disk."""
        site = self.script.settings.site
        if not site:
            return {}
        prefix = _safe_rel(site).rstrip("/") + "/"
        if self.loose:
            base = self.resolve(site)
            if not base.is_dir():
                raise ScriptError([Problem("settings › site", f"site folder '{site}' does not exist")],
                                  source=self.source)
            return {rel: p for rel, p in _site_folder_files(base, self.root.resolve())[0].items()}
        out = {rel[len(prefix):]: self.root / "assets" / sha
               for rel, sha in self.assets.items() if rel.startswith(prefix)}
        if not out:
            raise ScriptError([Problem("settings › site", f"site folder '{site}' is not in the bundle")],
                              source=self.source)
        return out

    def effective_settings(self) -> Any:
        """The script's settings with the render overrides applied (a copy)."""
        s = self.script.settings.model_copy(deep=True)
        r = self.render
        if r.width is not None:
            s.width = r.width
        if r.height is not None:
            s.height = r.height
        if r.fps is not None:
            s.fps = r.fps  # type: ignore[assignment]
        if r.captions is not None:
            s.captions = r.captions
        if r.burn_captions is not None:
            s.burn_captions = r.burn_captions
        if r.interactive is not None:
            s.interactive = r.interactive
        if r.voice_provider is not None and r.voice_provider != s.voice.provider:
            # a voice id belongs to its provider (a Polly name means nothing to Piper): the override
            # speaks with its own default voice
            s.voice.provider = r.voice_provider  # type: ignore[assignment]
            s.voice.voice = None
        return s

    def close(self) -> None:
        if self._tmp is not None:
            self._tmp.cleanup()
            self._tmp = None

    def __enter__(self) -> Job:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def _site_folder_files(site_dir: Path, root: Path) -> tuple[dict[str, Path], list[str]]:
    """The regular files under ``site_dir`` (URL path -> file), and the names that are refused: a
    symlink leading out of ``root`` would publish (and bundle) a file the job does not own."""
    files: dict[str, Path] = {}
    refused: list[str] = []
    for p in sorted(site_dir.rglob("*")):
        rel = p.relative_to(site_dir).as_posix()
        real = p.resolve()
        if not real.is_relative_to(root):
            refused.append(rel)
        elif real.is_file():
            files[rel] = p
    return files, refused


def referenced_assets(script: Script, base: Path) -> list[str]:
    """Every asset path the script needs, relative to ``base`` (folders expanded to their files)."""
    rels: list[str] = []
    root = base.resolve()
    if script.settings.site:
        site_dir = base / _safe_rel(script.settings.site)
        if not site_dir.is_dir():
            raise ScriptError([Problem("settings › site", f"site folder '{site_dir}' does not exist")])
        if not site_dir.resolve().is_relative_to(root):
            raise ScriptError([Problem("settings › site", f"site folder '{site_dir}' is a link out of the "
                                       "script's folder")])
        files, refused = _site_folder_files(site_dir, root)
        if refused:
            raise ScriptError([Problem("settings › site", f"'{script.settings.site}/{r}' is a symlink out of the "
                                       "script's folder; copy the file in instead") for r in refused[:20]])
        rels.extend(p.relative_to(base).as_posix() for p in files.values())
    for _, _, _, action in script.iter_actions():
        if isinstance(action, Upload):
            rels.extend(_safe_rel(f) for f in action.files)
    for extra in _extra_asset_fields(script):
        rels.append(_safe_rel(extra))
    return list(dict.fromkeys(rels))


def _extra_asset_fields(script: Script) -> Iterable[str]:
    """Asset paths named in settings by later features (music, logos...): any settings field whose
    name ends in ``_asset`` or is ``music``/``logo`` and holds a string."""
    data = script.settings.model_dump()

    def walk(obj: Any) -> Iterable[str]:
        if isinstance(obj, dict):
            for k, v in obj.items():
                if isinstance(v, str) and (k.endswith("_asset") or k in ("music", "logo")):
                    if not v.startswith("bundled:"):  # a track Reelwright synthesises, not a file
                        yield v
                else:
                    yield from walk(v)
        elif isinstance(obj, list):
            for v in obj:
                yield from walk(v)

    return walk(data)


def write_bundle(script: Script, base: Path, out: Path, render: RenderSettings | None = None) -> Path:
    """Write a bundle for ``script`` (assets read relative to ``base``) to ``out`` (dir or .zip).

    Written under a temporary name and renamed, so ``out`` is never half-written.
    """
    rels = referenced_assets(script, base)
    assets: dict[str, str] = {}
    files: dict[str, Path] = {}
    problems = []
    root = base.resolve()
    for rel in rels:
        src = base / rel
        if not src.is_file():
            problems.append(Problem("assets", f"'{rel}' does not exist (looked in {base})"))
            continue
        if not src.resolve().is_relative_to(root):
            # never follow a link out of the job folder: `bundle` would pack e.g. /etc/passwd
            problems.append(Problem("assets", f"'{rel}' is a symlink out of the script's folder; copy the file "
                                    "in instead"))
            continue
        sha = sha256_file(src)
        assets[rel] = sha
        files[sha] = src
    if problems:
        raise ScriptError(problems)
    job_doc = {
        "format": JOB_FORMAT,
        "version": JOB_VERSION,
        "script": json.loads(script.model_dump_json()),
        "render": (render or RenderSettings()).model_dump(exclude_none=True),
        "assets": assets,
    }
    out = Path(out)
    if out.is_dir() and out.suffix.lower() != ".zip" and any(out.iterdir()) and not (out / "job.json").is_file():
        raise UsageError(f"--out: '{out}' is a folder that is not a job bundle; refusing to replace it "
                         "(name a new folder or a .zip)")
    if out.is_dir() and out.suffix.lower() == ".zip":
        raise UsageError(f"--out: '{out}' is an existing folder, not a zip file")
    out.parent.mkdir(parents=True, exist_ok=True)
    tmp = out.with_name(f".{out.name}.tmp-{os.getpid()}")
    try:
        if out.suffix.lower() == ".zip":
            with zipfile.ZipFile(tmp, "w", compression=zipfile.ZIP_DEFLATED) as zf:
                zf.writestr("job.json", json.dumps(job_doc, indent=2))
                for sha, src in sorted(files.items()):
                    zf.write(src, f"assets/{sha}")
            os.replace(tmp, out)
        else:
            (tmp / "assets").mkdir(parents=True)
            (tmp / "job.json").write_text(json.dumps(job_doc, indent=2), encoding="utf-8")
            for sha, src in files.items():
                shutil.copyfile(src, tmp / "assets" / sha)
            if out.exists():
                shutil.rmtree(out)
            os.replace(tmp, out)
    finally:
        if tmp.exists():
            shutil.rmtree(tmp) if tmp.is_dir() else tmp.unlink()
    return out


def _parse_job_doc(doc: Any, source: Path) -> tuple[Script, RenderSettings, dict[str, str]]:
    if not isinstance(doc, dict) or doc.get("format") != JOB_FORMAT:
        raise ScriptError([Problem("job.json", f"not a Reelwright job (format must be '{JOB_FORMAT}')")],
                          source=source)
    if doc.get("version") != JOB_VERSION:
        raise ScriptError([Problem("job.json › version", f"unsupported job version {doc.get('version')!r}; "
                                   f"this Reelwright reads version {JOB_VERSION}")], source=source)
    script = validate_script(doc.get("script"), source=source)
    try:
        render = RenderSettings.model_validate(doc.get("render") or {})
    except ValidationError as exc:
        raise ScriptError([Problem(f"job.json › render › {'.'.join(map(str, e['loc']))}", e["msg"])
                           for e in exc.errors()], source=source) from None
    assets_raw = doc.get("assets") or {}
    if not isinstance(assets_raw, dict):
        raise ScriptError([Problem("job.json › assets", "must be an object")], source=source)
    assets: dict[str, str] = {}
    problems = []
    for rel, sha in assets_raw.items():
        try:
            rel_ok = _safe_rel(str(rel))
        except ValueError as exc:
            problems.append(Problem("job.json › assets", str(exc)))
            continue
        if not (isinstance(sha, str) and len(sha) == 64 and all(c in "0123456789abcdef" for c in sha)):
            problems.append(Problem(f"job.json › assets › {rel}", "must be a lowercase sha256 hex digest"))
            continue
        assets[rel_ok] = sha
    if problems:
        raise ScriptError(problems, source=source)
    return script, render, assets


def load_job(path: str | Path, *, verify: bool = True) -> Job:
    """Load a job from a bundle directory, a bundle zip, or a plain script JSON file."""
    p = Path(path)
    if p.is_dir():
        job_json = p / "job.json"
        if not job_json.is_file():
            raise ScriptError([Problem("bundle", "no job.json in this folder")], source=p)
        job = _load_dir(p)
    elif p.suffix.lower() == ".zip":
        job = _load_zip(p)
    elif p.exists():
        doc = read_json_file(p)
        if isinstance(doc, dict) and doc.get("format") == JOB_FORMAT:
            script, render, assets = _parse_job_doc(doc, p)
            job = Job(script, render, assets, root=p.parent, source=p)
        else:
            job = Job(validate_script(doc, source=p), root=p.parent.resolve(), loose=True, source=p)
    else:
        raise ScriptError([Problem("job", "no such file or folder")], source=p)
    if verify:
        try:
            if not job.loose:
                _verify_assets(job)
            problems = asset_problems(job)
            if problems:
                raise ScriptError(problems, source=job.source)
        except BaseException:
            job.close()  # a rejected zip must not leave its unpacked copy behind
            raise
    return job


def _load_dir(p: Path) -> Job:
    if (p / "job.json").is_symlink() or (p / "assets").is_symlink():
        raise ScriptError([Problem("bundle", "job.json and assets/ must not be symlinks")], source=p)
    doc = read_json_file(p / "job.json", what="job.json")
    script, render, assets = _parse_job_doc(doc, p)
    return Job(script, render, assets, root=p, source=p)


def _zip_entry_problem(info: zipfile.ZipInfo) -> str | None:
    """Why one zip entry is refused (before anything is unpacked), or None."""
    name = info.filename
    if "\\" in name or name.startswith("/") or ".." in name.split("/") or "\x00" in name:
        return f"entry '{name}' tries to leave the bundle"
    if info.flag_bits & 0x1:
        return f"entry '{name}' is encrypted; bundles cannot be password-protected"
    if info.compress_type not in (zipfile.ZIP_STORED, zipfile.ZIP_DEFLATED):
        return (f"entry '{name}' uses compression method {info.compress_type}; only stored and deflated "
                "entries are read")
    if stat.S_ISLNK(info.external_attr >> 16):
        return f"entry '{name}' is a symlink"
    if info.is_dir():
        return None if name == "assets/" else (f"entry '{name}' is a folder a bundle does not have "
                                               "(only job.json and assets/<sha256>)")
    if name != "job.json" and not _ASSET_ENTRY_RE.fullmatch(name):
        return f"entry '{name}' does not belong in a bundle (only job.json and assets/<sha256>)"
    if (info.file_size > L.COMPRESSION_RATIO_FLOOR_BYTES
            and info.file_size > L.MAX_COMPRESSION_RATIO * max(info.compress_size, 1)):
        return (f"entry '{name}' unpacks {info.file_size / max(info.compress_size, 1):,.0f} times larger than it "
                f"is packed (the limit is {L.MAX_COMPRESSION_RATIO}:1): a zip bomb")
    if info.file_size > L.MAX_ASSET_BYTES:
        return f"entry '{name}' is {info.file_size:,} bytes; one asset may be at most {L.MAX_ASSET_BYTES:,}"
    return None


def _load_zip(p: Path) -> Job:
    try:
        size = p.stat().st_size
    except OSError as exc:
        raise ScriptError([Problem("bundle", f"cannot read the file: {exc.strerror or exc}")], source=p) from None
    if size > L.MAX_BUNDLE_ZIP_BYTES:
        raise ScriptError([Problem("bundle", f"the zip is {size:,} bytes; the limit is "
                                   f"{L.MAX_BUNDLE_ZIP_BYTES:,}")], source=p)
    tmp = tempfile.TemporaryDirectory(prefix="reelwright-job-")
    root = Path(tmp.name)
    try:
        with zipfile.ZipFile(p) as zf:
            infos = zf.infolist()
            # Everything is decided from the central directory first, then enforced again while
            # unpacking: a header may lie about sizes, so the bytes actually written are counted.
            if len(infos) > L.MAX_BUNDLE_FILES:
                raise ScriptError([Problem("bundle", f"{len(infos):,} entries; the limit is "
                                           f"{L.MAX_BUNDLE_FILES:,}")], source=p)
            declared = sum(i.file_size for i in infos)
            if declared > L.MAX_BUNDLE_BYTES:
                raise ScriptError([Problem("bundle", f"unpacks to {declared:,} bytes; the limit is "
                                           f"{L.MAX_BUNDLE_BYTES:,} (2 GiB)")], source=p)
            problems = [Problem("bundle", msg) for i in infos if (msg := _zip_entry_problem(i)) is not None]
            names = [i.filename for i in infos]
            problems += [Problem("bundle", f"entry '{n}' appears more than once")
                         for n in sorted({n for n in names if names.count(n) > 1})]
            if problems:
                raise ScriptError(problems[:20], source=p)
            (root / "assets").mkdir()
            written = 0
            for info in infos:
                if info.is_dir():
                    continue
                with zf.open(info) as src, open(root / info.filename, "xb") as dst:
                    got = 0
                    while chunk := src.read(1 << 20):
                        got += len(chunk)
                        written += len(chunk)
                        if got > info.file_size or written > L.MAX_BUNDLE_BYTES:
                            raise ScriptError([Problem("bundle", f"entry '{info.filename}' unpacks to more than "
                                                       "its header says: a damaged or hostile zip")], source=p)
                        dst.write(chunk)
    except (zipfile.BadZipFile, zipfile.LargeZipFile, EOFError, zlib.error, NotImplementedError) as exc:
        tmp.cleanup()
        raise ScriptError([Problem("bundle", f"not a valid zip: {exc}")], source=p) from None
    except RuntimeError as exc:  # zipfile says "File ... is encrypted" this way
        tmp.cleanup()
        raise ScriptError([Problem("bundle", f"cannot unpack: {exc}")], source=p) from None
    except BaseException:
        tmp.cleanup()
        raise
    try:
        job = _load_dir(root)
    except ScriptError as exc:
        tmp.cleanup()
        raise ScriptError(exc.problems, source=p) from None
    except BaseException:
        tmp.cleanup()
        raise
    job.source = p
    job._tmp = tmp
    return job


def _verify_assets(job: Job) -> None:
    problems = []
    for rel, sha in job.assets.items():
        f = job.root / "assets" / sha
        if f.is_symlink():
            problems.append(Problem(f"assets › {rel}", "is a symlink; a bundle holds its assets' bytes"))
        elif not f.is_file():
            problems.append(Problem(f"assets › {rel}", "is missing from the bundle"))
        elif f.stat().st_size > L.MAX_ASSET_BYTES:
            problems.append(Problem(f"assets › {rel}", f"is {f.stat().st_size:,} bytes; one asset may be at most "
                                    f"{L.MAX_ASSET_BYTES:,}"))
        elif sha256_file(f) != sha:
            problems.append(Problem(f"assets › {rel}", "content does not match its sha256 (corrupt bundle)"))
    if problems:
        raise ScriptError(problems, source=job.source)


# --------------------------------------------------------------------------- referenced files

_AUDIO_MAGIC = (b"ID3", b"fLaC", b"OggS", b"\x1aE\xdf\xa3", b"#!AMR")
_IMAGE_MAGIC = (b"\x89PNG", b"\xff\xd8\xff", b"GIF8")


def _looks_like_audio(head: bytes) -> bool:
    if head.startswith(_AUDIO_MAGIC) or head[4:8] == b"ftyp":
        return True
    if head[:4] == b"RIFF" or (head[:4] == b"FORM" and head[8:12] in (b"AIFF", b"AIFC")):
        return True
    return len(head) > 1 and head[0] == 0xFF and head[1] & 0xE0 == 0xE0  # an MPEG/ADTS frame


def _looks_like_image(head: bytes, suffix: str) -> bool:
    if head.startswith(_IMAGE_MAGIC) or (head[:4] == b"RIFF" and head[8:12] == b"WEBP"):
        return True
    return suffix == ".svg" and b"<svg" in head


def asset_problems(job: Job) -> list[Problem]:
    """Every file the script refers to, checked now rather than at render time: the site folder (and
    the pages relative gotos open), uploads, the music file, intro/outro logos and stylesheets."""
    problems: list[Problem] = []
    s = job.script.settings

    def file_at(where: str, rel: str, *, limit: int, card: int | None = None,
                action: int | None = None) -> Path | None:
        def bad(message: str) -> None:
            problems.append(Problem(where, message, card_index=card, action_index=action))
        try:
            path = job.resolve(rel)
        except ValueError as exc:
            bad(str(exc))
            return None
        except ScriptError as exc:
            for p in exc.problems:
                bad(p.message)
            return None
        if job.loose and Path(job.root / rel).is_symlink() and not path.is_relative_to(job.root.resolve()):
            bad(f"'{rel}' is a symlink out of the script's folder")
            return None
        if not path.exists():
            bad(f"'{rel}' does not exist" + (f" (looked in {job.root})" if job.loose else ""))
            return None
        if not path.is_file():
            bad(f"'{rel}' is not a file")
            return None
        size = path.stat().st_size
        if size > limit:
            bad(f"'{rel}' is {size:,} bytes; the limit is {limit:,}")
            return None
        if size == 0:
            bad(f"'{rel}' is empty")
            return None
        return path

    def head(path: Path) -> bytes:
        with open(path, "rb") as f:
            return f.read(4096)

    site_files: dict[str, Path] | None = None
    if s.site:
        try:
            site_files = job.site_files()
        except ScriptError as exc:
            problems.extend(exc.problems)
        if job.loose:
            base = job.root / s.site
            if base.is_dir() and not base.resolve().is_relative_to(job.root.resolve()):
                problems.append(Problem("settings › site", f"'{s.site}' is a symlink out of the script's folder"))
                site_files = None
            elif base.is_dir():
                files, refused = _site_folder_files(base, job.root.resolve())
                problems += [Problem("settings › site", f"'{s.site}/{r}' is a symlink out of the script's folder")
                             for r in refused[:20]]
                if len(files) > L.MAX_SITE_FILES:
                    problems.append(Problem("settings › site", f"{len(files):,} files; the limit is "
                                            f"{L.MAX_SITE_FILES:,}"))
        if site_files is not None and not site_files:
            problems.append(Problem("settings › site", f"site folder '{s.site}' has no files"))
            site_files = None
    for ci, card in enumerate(job.script.cards):
        for ai, action in enumerate(card.actions):
            where = f"card {ci + 1} '{card.id}' › action {ai + 1} ({action.type})"
            if isinstance(action, Upload):
                for f in action.files:
                    file_at(f"{where} › files", f, limit=L.MAX_ASSET_BYTES, card=ci, action=ai)
            elif isinstance(action, Goto) and site_files and not urlsplit(action.url).scheme \
                    and not action.url.startswith("//"):
                page = unquote(urlsplit(action.url).path).lstrip("/")
                candidates = [page] if page and not page.endswith("/") else []
                candidates.append(page + "index.html" if (page.endswith("/") or not page) else page + "/index.html")
                if not any(c in site_files for c in candidates):
                    problems.append(Problem(f"{where} › url", f"'{candidates[0]}' is not in the site folder "
                                            f"'{s.site}' (the page would answer 404)", card_index=ci,
                                            action_index=ai, field="url"))
    if s.music and not s.music.startswith("bundled:") and s.music_volume > 0:
        path = file_at("settings › music", s.music, limit=L.MAX_ASSET_BYTES)
        if path is not None and not _looks_like_audio(head(path)):
            problems.append(Problem("settings › music", f"'{s.music}' does not look like an audio file "
                                    "(MP3, WAV, Ogg, FLAC, M4A/AAC, WebM, AIFF)"))
    for which, bumper in (("intro", s.intro), ("outro", s.outro)):
        if bumper is None:
            continue
        if bumper.logo:
            path = file_at(f"settings › {which}.logo", bumper.logo, limit=L.MAX_LOGO_BYTES)
            if path is not None and not _looks_like_image(head(path), PurePosixPath(bumper.logo).suffix.lower()):
                problems.append(Problem(f"settings › {which}.logo", f"'{bumper.logo}' does not look like a PNG, "
                                        "JPEG, GIF, WebP or SVG image"))
        if bumper.stylesheet and site_files is not None:
            sheet = bumper.stylesheet.lstrip("/")
            if sheet not in site_files:
                problems.append(Problem(f"settings › {which}.stylesheet",
                                        f"'{sheet}' is not in the site folder '{s.site}'"))
    return problems
