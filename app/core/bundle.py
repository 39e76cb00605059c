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
import shutil
import tempfile
import zipfile
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from .errors import Problem, ScriptError
from .infra.fs import sha256_file
from .script import Script, Upload, validate_script

JOB_FORMAT = "reelwright-job"
JOB_VERSION = 1
MAX_BUNDLE_BYTES = 2 * 1024**3  # refuse zips that unpack to more than this
MAX_BUNDLE_FILES = 20_000


class RenderSettings(BaseModel):
    """Per-render overrides of the script's settings (what the CLI flags and the app's dialog set)."""

    model_config = ConfigDict(extra="forbid")
    width: int | None = Field(None, ge=320, le=3840, multiple_of=2)
    height: int | None = Field(None, ge=240, le=3840, multiple_of=2)
    fps: int | None = Field(None, ge=1, le=60)
    captions: bool | None = None
    burn_captions: bool | None = None
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
            return {p.relative_to(base).as_posix(): p for p in sorted(base.rglob("*")) if p.is_file()}
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
        if r.voice_provider is not None:
            s.voice.provider = r.voice_provider  # type: ignore[assignment]
        return s

    def close(self) -> None:
        if self._tmp is not None:
            self._tmp.cleanup()
            self._tmp = None

    def __enter__(self) -> Job:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def referenced_assets(script: Script, base: Path) -> list[str]:
    """Every asset path the script needs, relative to ``base`` (folders expanded to their files)."""
    rels: list[str] = []
    if script.settings.site:
        site_dir = base / _safe_rel(script.settings.site)
        if not site_dir.is_dir():
            raise ScriptError([Problem("settings › site", f"site folder '{site_dir}' does not exist")])
        for p in sorted(site_dir.rglob("*")):
            if p.is_file():
                rels.append(p.relative_to(base).as_posix())
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
    for rel in rels:
        src = base / rel
        if not src.is_file():
            problems.append(Problem("assets", f"'{rel}' does not exist (looked in {base})"))
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
    elif p.is_file():
        try:
            doc = json.loads(p.read_text(encoding="utf-8"))
        except (OSError, UnicodeDecodeError) as exc:
            raise ScriptError([Problem("script", f"cannot read the file: {exc}")], source=p) from None
        except json.JSONDecodeError as exc:
            raise ScriptError([Problem("script", f"not valid JSON: {exc.msg} (column {exc.colno})",
                                       line=exc.lineno)], source=p) from None
        if isinstance(doc, dict) and doc.get("format") == JOB_FORMAT:
            script, render, assets = _parse_job_doc(doc, p)
            job = Job(script, render, assets, root=p.parent, source=p)
        else:
            job = Job(validate_script(doc, source=p), root=p.parent.resolve(), loose=True, source=p)
    else:
        raise ScriptError([Problem("job", "no such file or folder")], source=p)
    if verify and not job.loose:
        try:
            _verify_assets(job)
        except BaseException:
            job.close()  # a rejected zip must not leave its unpacked copy behind
            raise
    return job


def _load_dir(p: Path) -> Job:
    try:
        doc = json.loads((p / "job.json").read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise ScriptError([Problem("job.json", f"cannot read: {exc}")], source=p) from None
    script, render, assets = _parse_job_doc(doc, p)
    return Job(script, render, assets, root=p, source=p)


def _load_zip(p: Path) -> Job:
    tmp = tempfile.TemporaryDirectory(prefix="reelwright-job-")
    root = Path(tmp.name)
    try:
        with zipfile.ZipFile(p) as zf:
            infos = zf.infolist()
            if len(infos) > MAX_BUNDLE_FILES:
                raise ScriptError([Problem("bundle", f"too many files ({len(infos)})")], source=p)
            if sum(i.file_size for i in infos) > MAX_BUNDLE_BYTES:
                raise ScriptError([Problem("bundle", "unpacks to more than 2 GiB")], source=p)
            for info in infos:
                name = info.filename
                if info.is_dir():
                    continue
                if name != "job.json" and not (name.startswith("assets/") and name.count("/") == 1):
                    raise ScriptError([Problem("bundle", f"unexpected entry '{name}'")], source=p)
                zf.extract(info, root)
    except zipfile.BadZipFile as exc:
        tmp.cleanup()
        raise ScriptError([Problem("bundle", f"not a valid zip: {exc}")], source=p) from None
    except BaseException:
        tmp.cleanup()
        raise
    try:
        job = _load_dir(root)
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
        if not f.is_file():
            problems.append(Problem(f"assets › {rel}", "is missing from the bundle"))
        elif sha256_file(f) != sha:
            problems.append(Problem(f"assets › {rel}", "content does not match its sha256 (corrupt bundle)"))
    if problems:
        raise ScriptError(problems, source=job.source)
