"""``reelwright`` — the command line front door.

``render`` / ``bundle`` / ``schema`` / ``validate`` / ``self-test`` live here; ``import``/``draft``,
``cloud …`` and ``gui`` are registered by their own modules.  Errors are printed as sentences with
what to fix; ``--verbose`` adds the traceback.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import errno
import importlib
import json
import logging
import os
import re
import shutil
import signal
import sys
import tempfile
import time
import traceback
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any, TextIO

from app.core.infra.progress import CancelToken, Progress

from . import __version__
from .core.errors import Cancelled, ReelwrightError, ScriptError

log = logging.getLogger("reelwright")

#: modules that add subcommands with ``register(subparsers)``; missing ones are skipped
PLUGIN_MODULES = ("app.cli_draft", "app.cli_cloud", "app.cli_gui", "app.cli_record")


# ---------------------------------------------------------------------------- terminal progress


class TerminalProgress:
    """One updating status line on a terminal; plain, rate-limited lines otherwise."""

    def __init__(self, stream: TextIO | None = None, quiet: bool = False) -> None:
        self.stream = stream or sys.stderr
        self.tty = self.stream.isatty()
        self.quiet = quiet
        self._last_line = 0.0
        self._last_stage = ""
        self._width = 0

    def __call__(self, p: Progress) -> None:
        if self.quiet:
            return
        overall = f"{p.overall * 100:5.1f}%" if p.overall is not None else f"{p.fraction * 100:5.1f}%"
        eta = f"  ETA {_fmt_s(p.eta_s)}" if p.eta_s is not None and p.fraction < 1 else ""
        text = f"[{p.stage:<8}] {overall}{eta}  {p.message}"
        if self.tty:
            bar = _bar(p.overall if p.overall is not None else p.fraction)
            line = f"\r{bar} {text}"[: shutil.get_terminal_size((100, 20)).columns + 1]
            pad = max(0, self._width - len(line))
            self.stream.write(line + " " * pad)
            self._width = len(line)
            if p.stage != self._last_stage and self._last_stage:
                pass
            self.stream.flush()
        else:
            now = time.monotonic()
            if p.stage != self._last_stage or p.fraction >= 1 or now - self._last_line > 2:
                self.stream.write(text + "\n")
                self._last_line = now
        self._last_stage = p.stage

    def done(self) -> None:
        if self.tty and not self.quiet and self._width:
            self.stream.write("\n")
            self._width = 0


def _bar(f: float, width: int = 24) -> str:
    n = round(max(0.0, min(1.0, f)) * width)
    return "█" * n + "░" * (width - n)


def _fmt_s(s: float | None) -> str:
    if s is None:
        return "?"
    s = max(0, round(s))
    return f"{s // 60}:{s % 60:02d}"


# ---------------------------------------------------------------------------- running coroutines


def run_cancellable(make: Callable[[CancelToken], Any]) -> Any:
    """Run a core coroutine; SIGINT / SIGTERM cancel it within a second, children stopped, no partial files.

    The first signal sets the token (which signals registered child processes at once) *and*
    cancels the running task, so work stuck in an await — a browser call, a thread, a network
    transfer — stops at once instead of at the next poll of the token.  The core's ``finally``
    blocks then stop every child; they are bounded (about a second), so further signals while
    they run are ignored rather than allowed to interrupt the clean-up and leave orphans.  The
    ``CancelledError`` becomes :class:`Cancelled` (exit 130, one line, no traceback).
    """

    async def main() -> Any:
        cancel = CancelToken()
        loop = asyncio.get_running_loop()
        task = asyncio.current_task()

        def on_signal() -> None:
            if cancel.cancelled:
                return  # already cleaning up: a second Ctrl-C must not cut the clean-up short
            cancel.cancel("cancelled")
            if task is not None:
                task.cancel()

        for sig in (signal.SIGINT, signal.SIGTERM):
            with contextlib.suppress(NotImplementedError, RuntimeError):
                loop.add_signal_handler(sig, on_signal)
        try:
            return await make(cancel)
        except asyncio.CancelledError:
            if not cancel.cancelled:
                raise
            raise Cancelled(cancel.reason) from None
        # the handlers stay until asyncio.run closes the loop: a signal while it shuts down its
        # worker threads is still a cancel, not a default-action death with exit 143

    try:
        return asyncio.run(main())
    except Cancelled:
        raise
    except KeyboardInterrupt:  # a signal before the loop's handlers were installed
        raise Cancelled() from None


def _voice_providers() -> tuple[str, ...]:
    """The providers a script may name (the script model is their source)."""
    from typing import get_args

    from .core.script import VoiceSettings

    return get_args(VoiceSettings.model_fields["provider"].annotation)


def _parse_size(text: str) -> tuple[int, int]:
    try:
        w, h = (int(v) for v in text.lower().split("x"))
    except ValueError:
        raise argparse.ArgumentTypeError(f"size must look like 1280x720, not '{text}'") from None
    if w % 2 or h % 2 or not (320 <= w <= 3840 and 240 <= h <= 3840):
        raise argparse.ArgumentTypeError("width and height must be even, 320–3840 × 240–3840")
    return w, h


# ---------------------------------------------------------------------------- commands


def cmd_render(args: argparse.Namespace) -> int:
    from .cloud import register_voices
    from .core.bundle import RenderSettings, load_job
    from .core.render import check, render

    register_voices()  # a script may ask for Polly: the user's own AWS credentials then voice it

    job = load_job(args.path)
    with job:
        overrides = job.render.model_dump(exclude_none=True)
        if args.size:
            overrides["width"], overrides["height"] = args.size
        if args.fps:
            overrides["fps"] = args.fps
        if args.no_captions:
            overrides["captions"] = False
        if args.burn_captions:
            overrides["burn_captions"] = True
        if args.voice:
            overrides["voice_provider"] = args.voice
        job.render = RenderSettings.model_validate(overrides)
        _apply_format_presets(job, args)
        _apply_polish(job, args)
        _check_assets(job)
        progress = TerminalProgress(quiet=args.quiet)
        if args.check:
            out_dir = Path(args.out).parent if args.out else Path.cwd()
            _precheck_out(out_dir / "check.error.jpg")
            result = run_cancellable(lambda c: check(job, progress, c, error_dir=out_dir))
            progress.done()
            print(f"ok: the flow ran to the end — {result.actions_run} actions, "
                  f"{result.duration_s:.1f} s of page time")
            for w in result.warnings:
                print(f"warning: {w}")
            return 0
        out = Path(args.out) if args.out else Path("out") / (Path(args.path).stem.replace(".", "-") + ".mp4")
        if args.out:
            _precheck_out(Path(args.out))  # before the suffix is fixed: "--out videos/" means a folder
        if out.suffix.lower() != ".mp4":
            out = out.with_suffix(".mp4")
        _precheck_out(out, siblings=[out.with_suffix(x) for x in (".srt", ".vtt", ".chapters.txt")])
        if job.script.settings.languages or args.lang:
            return _render_languages(job, args, out, progress)
        t0 = time.monotonic()
        res = run_cancellable(lambda c: render(job, out.parent, progress, c, name=out.stem))
        progress.done()
        wall = time.monotonic() - t0
        for w in res.warnings:
            print(f"warning: {w}")
        print(f"wrote {res.video}  ({res.duration_s:.1f} s of video, {len(res.cards)} cards, "
              f"{res.capture_mode} capture, {wall:.1f} s wall, {wall / max(res.duration_s, 0.001):.2f} s/s)")
        for extra in res.files()[1:]:
            print(f"      {extra}")
        if args.verbose:
            print("stages: " + ", ".join(f"{k} {v:.1f}s" for k, v in res.stage_times.items()))
        return 0


def _precheck_out(out: Path, *, siblings: Sequence[Path] = (), allow_dir: bool = False) -> None:
    """Refuse an output path that cannot be written before any work starts (exit 2 or 3)."""
    from app.core.infra.outpaths import check_output_path

    check_output_path(out, siblings=siblings, allow_dir=allow_dir)


def _parse_duration(text: str) -> float:
    """'30s', '45', '1m30s', '2m' -> seconds."""
    m = re.fullmatch(r"\s*(?:(\d+(?:\.\d+)?)m)?\s*(?:(\d+(?:\.\d+)?)s?)?\s*", text.lower())
    if not m or not (m.group(1) or m.group(2)):
        raise argparse.ArgumentTypeError(f"a length looks like 30s, 45 or 1m30s, not '{text}'")
    secs = float(m.group(1) or 0) * 60 + float(m.group(2) or 0)
    if not 5 <= secs <= 3600:
        raise argparse.ArgumentTypeError("a target length must be between 5 s and 1 hour")
    return secs


def _apply_format_presets(job: Any, args: argparse.Namespace) -> None:
    """--preset / --target: format (size, device scale) and purpose (ad, long-form) on the job's script."""
    from app.core.plan.presets import FORMATS, apply_presets

    if not (args.preset or args.target):
        return
    settings = apply_presets(job.script.settings, args.preset or [], target_s=args.target)
    if not args.size and any(n in FORMATS for n in args.preset or []):
        # a format preset sets the size; a size stored in the bundle's render overrides would undo it
        job.render = job.render.model_copy(update={"width": None, "height": None})
    job.script = job.script.model_copy(update={"settings": settings})


def _apply_polish(job: Any, args: argparse.Namespace) -> None:
    """--music / --intro / --outro / --poster / --preview / --interactive on the job's script, validated
    like the script."""
    from .core.script import validate_script

    changes: dict[str, Any] = {}
    if args.no_music:
        changes["music"] = None
    elif args.music:
        changes["music"] = args.music
    settings = job.script.settings
    for which in ("intro", "outro"):
        title = getattr(args, which)
        if title is not None:
            current = getattr(settings, which)
            base = current.model_dump() if current is not None else {}
            changes[which] = {**base, "title": title}
    if args.no_bumpers:
        changes["intro"] = changes["outro"] = None
    if args.poster:
        changes["poster"] = True
    if args.preview:
        changes["preview"] = args.preview
    if getattr(args, "interactive", False):
        changes["interactive"] = True
    if not changes:
        return
    data = job.script.model_dump()
    data["settings"].update(changes)
    job.script = validate_script(data, source="the command line")


def _check_assets(job: Any) -> None:
    """Files named on the command line (--music, an intro's logo) are checked like the script's own."""
    from .core.bundle import asset_problems

    problems = asset_problems(job)
    if problems:
        raise ScriptError(problems, source="the command line")


def _render_languages(job: Any, args: argparse.Namespace, out: Path, progress: TerminalProgress) -> int:
    from .core.languages import output_languages, render_languages

    langs = args.lang or output_languages(job.script)
    t0 = time.monotonic()
    results = run_cancellable(lambda c: render_languages(job, out.parent, progress, c, name=out.stem,
                                                         languages=langs))
    progress.done()
    wall = time.monotonic() - t0
    for lang, res in results.items():
        for w in res.warnings:
            print(f"warning: [{lang}] {w}")
        print(f"wrote {res.video}  ({lang}: {res.duration_s:.1f} s of video, {len(res.cards)} cards)")
        for extra in res.files()[1:]:
            print(f"      {extra}")
    print(f"{len(results)} languages in {wall:.1f} s wall")
    return 0


def cmd_bundle(args: argparse.Namespace) -> int:
    from .core.bundle import write_bundle
    from .core.script import load_script

    src = Path(args.script)
    script = load_script(src)
    _precheck_out(Path(args.out), allow_dir=True)
    out = write_bundle(script, src.parent, Path(args.out))
    print(f"wrote {out}")
    return 0


def cmd_schema(args: argparse.Namespace) -> int:
    from .core.script import script_json_schema

    text = json.dumps(script_json_schema(), indent=2)
    if args.out:
        _precheck_out(Path(args.out))
        Path(args.out).write_text(text + "\n", encoding="utf-8")
        print(f"wrote {args.out}")
    else:
        print(text)
    return 0


def cmd_validate(args: argparse.Namespace) -> int:
    from .core.bundle import load_job

    with load_job(args.path) as job:
        n = sum(len(c.actions) for c in job.script.cards)
        print(f"ok: {len(job.script.cards)} cards, {n} actions")
    return 0


SELF_TEST_HTML = """<!doctype html><html><head><meta charset="utf-8"><title>Reelwright self-test</title>
<style>body{font:28px system-ui,sans-serif;margin:0;display:grid;place-items:center;height:100vh;
background:linear-gradient(135deg,#1e3a8a,#7c3aed);color:#fff}button{font:inherit;padding:.5em 1.2em;
border-radius:12px;border:0;background:#fff;color:#1e3a8a}</style></head><body><main>
<h1>Reelwright self-test</h1><button onclick="this.textContent='It works'">Press me</button></main></body></html>"""


def cmd_self_test(args: argparse.Namespace) -> int:
    from app.core.infra.tools import find_browser, find_ffmpeg, find_ffprobe

    from .core.bundle import Job
    from .core.render import render
    from .core.script import validate_script

    ok = True

    def line(name: str, status: str, detail: str) -> None:
        print(f"  {status:<4} {name:<8} {detail}")

    print(f"Reelwright {__version__} self-test")
    try:
        b = find_browser()
        line("browser", "ok", f"{b.path} ({'frame-exact' if b.kind == 'headless-shell' else 'real time only'})")
    except ReelwrightError as exc:
        line("browser", "FAIL", str(exc))
        ok = False
    try:
        ff = find_ffmpeg()
        probe = find_ffprobe()
        line("ffmpeg", "ok", f"{ff}" + ("" if probe else " (no ffprobe: fine)"))
    except ReelwrightError as exc:
        line("ffmpeg", "FAIL", str(exc))
        ok = False
    try:
        from .core.script import VoiceSettings
        from .core.voice import load_provider

        provider = asyncio.run(load_provider("piper", VoiceSettings()))
        reason = getattr(provider, "fallback_reason", None)
        line("voice", "ok", provider.describe() + (f" — fallback: {reason}" if reason else ""))
    except ReelwrightError as exc:
        line("voice", "FAIL", str(exc))
        ok = False
    if not ok:
        print("self-test FAILED: install what is missing (see docs/troubleshooting.md)")
        return 3
    with tempfile.TemporaryDirectory(prefix="reelwright-selftest-") as tmp:
        root = Path(tmp)
        (root / "site").mkdir()
        (root / "site" / "index.html").write_text(SELF_TEST_HTML, encoding="utf-8")
        script = validate_script({
            "title": "Self-test",
            "settings": {"site": "site", "width": 640, "height": 360, "lead_in_ms": 200, "lead_out_ms": 300,
                         "gap_ms": 0},
            "cards": [{"id": "check", "title": "Self-test",
                       "narration": "Reelwright works. This clip checks the browser, the voice and the mixer.",
                       "actions": [{"type": "goto", "url": "/index.html"},
                                   {"type": "click", "target": {"role": "button", "name": "Press me"}}]}],
        })
        job = Job(script, root=root, loose=True)
        out_dir = Path(args.out_dir) if args.out_dir else root / "out"
        t0 = time.monotonic()
        res = run_cancellable(lambda c: render(job, out_dir, None, c, name="self-test"))
        wall = time.monotonic() - t0
        from .core.mix import probe as probe_media

        info = asyncio.run(probe_media(res.video))
        has_audio = any(s.kind == "audio" for s in info.streams)
        has_video = any(s.kind == "video" for s in info.streams)
        good = has_audio and has_video and abs(info.duration_s - res.duration_s) < 0.2
        line("render", "ok" if good else "FAIL",
             f"{res.duration_s:.1f} s clip in {wall:.1f} s ({res.capture_mode}); video={has_video} audio={has_audio}")
        if not good:
            return 1
    print("self-test passed")
    return 0


# ---------------------------------------------------------------------------- parser


def build_parser() -> argparse.ArgumentParser:
    from .core.plan.presets import PRESET_NAMES  # option lists come from their source
    from .core.script import FPS_OPTIONS

    p = argparse.ArgumentParser(prog="reelwright", description="Narrated product-demo videos from browser flows.")
    p.add_argument("--version", action="version", version=f"reelwright {__version__}")
    p.add_argument("-v", "--verbose", action="store_true", help="show tracebacks and details")
    sub = p.add_subparsers(dest="command", metavar="COMMAND")

    r = sub.add_parser("render", help="render a script or job bundle to MP4 (or --check the flow)")
    r.add_argument("path", help="a job bundle (folder or .zip) or a script .json")
    r.add_argument("--out", help="output MP4 (default: out/<name>.mp4); captions and chapters go beside it")
    r.add_argument("--size", type=_parse_size, help="output size, e.g. 1280x720 or 1080x1920")
    r.add_argument("--fps", type=int, choices=FPS_OPTIONS)
    r.add_argument("--preset", action="append", metavar="NAME",
                   choices=PRESET_NAMES,
                   help="format (16:9, 1080p, 9:16, 1:1) and/or purpose (demo, ad, long-form); repeatable")
    r.add_argument("--target", type=_parse_duration, metavar="LENGTH",
                   help="fit the video to this length (e.g. 30s) by tightening gaps and holds; implies an ad")
    r.add_argument("--lang", action="append", metavar="LANG",
                   help="render this voiceover language (repeatable; default: every configured language)")
    r.add_argument("--voice", choices=_voice_providers(), help="TTS provider override")
    r.add_argument("--no-captions", action="store_true", help="do not write SRT/VTT sidecars")
    r.add_argument("--burn-captions", action="store_true", help="draw captions into the video")
    r.add_argument("--music", metavar="TRACK",
                   help="music bed: bundled:calm, bundled:bright, or an audio file in the job")
    r.add_argument("--no-music", action="store_true", help="no music bed, whatever the script says")
    r.add_argument("--intro", metavar="TITLE", help="open with a title card (keeps the script's intro styling)")
    r.add_argument("--outro", metavar="TITLE", help="close with a title card")
    r.add_argument("--no-bumpers", action="store_true", help="no intro or outro card")
    r.add_argument("--poster", action="store_true", help="also write <name>.poster.png")
    r.add_argument("--preview", choices=("gif", "webp"), help="also write an animated preview of the start")
    r.add_argument("--interactive", action="store_true",
                   help="also write <name>.demo.html, a click-through demo of the same render that works offline")
    r.add_argument("--check", action="store_true",
                   help="run the flow silently as an end-to-end check (no voice, no video)")
    r.add_argument("-q", "--quiet", action="store_true", help="no progress output")
    r.set_defaults(func=cmd_render)

    b = sub.add_parser("bundle", help="pack a script and its assets into a job bundle")
    b.add_argument("script")
    b.add_argument("--out", required=True, help="job.zip or a folder")
    b.set_defaults(func=cmd_bundle)

    s = sub.add_parser("schema", help="print the script's JSON Schema")
    s.add_argument("--out")
    s.set_defaults(func=cmd_schema)

    v = sub.add_parser("validate", help="validate a script or bundle without running anything")
    v.add_argument("path")
    v.set_defaults(func=cmd_validate)

    t = sub.add_parser("self-test", help="check browser, ffmpeg and voice, and render a 3-second clip")
    t.add_argument("--out-dir", help="keep the clip here")
    t.set_defaults(func=cmd_self_test)

    for mod_name in PLUGIN_MODULES:
        try:
            mod = importlib.import_module(mod_name)
        except ModuleNotFoundError as exc:
            if exc.name != mod_name:
                raise
            continue
        mod.register(sub)
    return p


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.DEBUG if args.verbose else logging.WARNING,
                        format="%(levelname)s %(name)s: %(message)s")
    if not getattr(args, "func", None):
        parser.print_help()
        return 2
    try:
        return int(args.func(args) or 0)
    except ReelwrightError as exc:
        if args.verbose:
            traceback.print_exc()
        print(f"error: {exc}", file=sys.stderr)
        if isinstance(exc, ScriptError):
            print("nothing was launched.", file=sys.stderr)
        return exc.exit_code
    except KeyboardInterrupt:
        print("cancelled", file=sys.stderr)
        return 130
    except OSError as exc:
        code = _os_error_exit(exc)
        if code is None:
            return _unexpected(exc, args)
        if args.verbose:
            traceback.print_exc()
        where = f"{exc.filename}: " if exc.filename else ""
        print(f"error: {where}{exc.strerror or exc}", file=sys.stderr)
        if code == 3:
            print("  the machine refused to read or write a file: check the disk space, permissions and "
                  "that the folder is not read-only", file=sys.stderr)
        return code
    except Exception as exc:  # noqa: BLE001 - the last line of defence: a sentence, not a traceback
        return _unexpected(exc, args)


#: errors of the machine, not of the input: full or read-only disk, permissions, too many files
_ENVIRONMENT_ERRNOS = frozenset({errno.EACCES, errno.EPERM, errno.EROFS, errno.ENOSPC, errno.EDQUOT, errno.EFBIG,
                                 errno.EIO, errno.EMFILE, errno.ENFILE, errno.ENOMEM})


def _os_error_exit(exc: OSError) -> int | None:
    """Exit code for an OSError that reached the CLI: 3 for the environment, 2 for an input path the
    system cannot use, None for anything else (a bug)."""
    if exc.errno in _ENVIRONMENT_ERRNOS:
        return 3
    if exc.errno in (errno.ENAMETOOLONG, errno.ENOTDIR, errno.EISDIR, errno.ELOOP):
        return 2
    return None


def _unexpected(exc: BaseException, args: argparse.Namespace) -> int:
    """A genuine bug: one sentence, and the traceback in a log file the user can attach to a report."""
    if args.verbose:
        traceback.print_exc()
    log_path = _write_crash_log(exc)
    where = f"  the details are in {log_path}; please attach it to a bug report" if log_path else \
        "  run again with --verbose for details, and please report it"
    print(f"error: unexpected {type(exc).__name__}: {exc}\n{where}", file=sys.stderr)
    return 1


def _write_crash_log(exc: BaseException) -> Path | None:
    try:
        import platformdirs

        folder = Path(platformdirs.user_state_dir("reelwright")) / "crashes"
        folder.mkdir(parents=True, exist_ok=True)
        path = folder / f"crash-{time.strftime('%Y%m%d-%H%M%S')}-{os.getpid()}.log"
        text = "".join(traceback.format_exception(exc))
        path.write_text(f"reelwright {__version__}\nargv: {sys.argv!r}\n\n{text}", encoding="utf-8")
        return path
    except Exception:  # noqa: BLE001 - a crash log that cannot be written must not hide the crash
        return None


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
