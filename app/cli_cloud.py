"""``reelwright cloud …``: sign in, submit, follow, cancel, fetch and list cloud renders; configure,
deploy, and run the local emulator.

``app/cli.py`` calls :func:`register`; ``python -m app.cli_cloud …`` works on its own too.  Handlers
return exit codes; errors are printed as sentences (``--verbose`` adds the traceback), never raw.
"""

from __future__ import annotations

import argparse
import asyncio
import getpass
import json
import logging
import os
import sys
import traceback
from collections.abc import Callable, Coroutine
from pathlib import Path
from typing import Any

from app.core.errors import Cancelled, ReelwrightError, ToolMissingError
from app.core.infra.progress import CancelToken, Progress

Handler = Callable[[argparse.Namespace], Coroutine[Any, Any, int]]


def _err(msg: str) -> None:
    print(f"error: {msg}", file=sys.stderr)


def _client(args: argparse.Namespace) -> Any:
    from app.cloud.client import CloudClient
    from app.cloud.config import load_config

    client = CloudClient(load_config(Path(args.config) if args.config else None))
    if client.store_warning and not getattr(args, "quiet", False):
        print(f"warning: {client.store_warning}", file=sys.stderr)
    return client


def _progress_printer() -> Callable[[Progress], None]:
    last = [""]

    def show(p: Progress) -> None:
        line = f"{p.stage}: {p.fraction * 100:5.1f}%  {p.message}"
        if line != last[0]:
            last[0] = line
            print(line, file=sys.stderr)
    return show


def _password(args: argparse.Namespace, prompt: str = "Password: ") -> str:
    if getattr(args, "password_stdin", False):
        return sys.stdin.readline().rstrip("\n")
    env = os.environ.get("REELWRIGHT_CLOUD_PASSWORD")
    if env:
        return env
    return getpass.getpass(prompt)


# ---------------------------------------------------------------------- account


async def cmd_login(args: argparse.Namespace) -> int:
    client = _client(args)
    email = args.email or input("E-mail: ").strip()
    if args.forgot:
        await client.forgot(email)
        print("a reset code was sent; run `reelwright cloud login --reset CODE` to choose a new password")
        return 0
    if args.reset:
        new = _password(args, "New password: ")
        await client.reset(email, args.reset, new)
        print("password changed")
        return 0
    password = _password(args)
    if args.sign_up:
        await client.sign_up(email, password)
        if not args.code:
            print("account created: enter the code from the e-mail with `reelwright cloud login --code CODE`")
            return 0
    if args.code:
        await client.confirm(email, args.code)
    # an invited account's first sign-in: the e-mailed temporary password, then the user's own
    new_password = _password(args, "New password: ") if args.new_password else None
    await client.sign_in(email, password, new_password=new_password)
    print(f"signed in as {email} (tenant {await client.identity()})")
    return 0


async def cmd_logout(args: argparse.Namespace) -> int:
    client = _client(args)
    await client.sign_out()
    print("signed out")
    return 0


# ---------------------------------------------------------------------- jobs


def _print_status(st: Any) -> None:
    title = f"  {st.title}" if st.title else ""
    expires = getattr(st, "expires", None)
    until = f"  (expires {expires.isoformat()})" if expires is not None else ""
    print(f"{st.job_id}  {st.describe()}{title}{until}")
    if st.terminal:
        for v in getattr(st, "variants", []):
            print(f"  {v.variant.name}  {v.state}" + (f": {v.cause or v.error}" if v.state == "Failed" else ""))


def _cancel_token(args: argparse.Namespace) -> CancelToken:
    """The token ``run`` wires to SIGINT/SIGTERM (a fresh one when a handler is called directly)."""
    token = getattr(args, "cancel_token", None)
    return token if isinstance(token, CancelToken) else CancelToken()


def _variants(args: argparse.Namespace) -> list[Any] | None:
    """``--languages`` x ``--formats`` as the job's variants (None: render the job once, as submitted)."""
    from app.cloud.layout import Variant

    languages = [x.strip() for x in (getattr(args, "languages", None) or "").split(",") if x.strip()]
    formats = [x.strip() for x in (getattr(args, "formats", None) or "").split(",") if x.strip()]
    if not languages and not formats:
        return None
    try:
        return [Variant.of(lang, fmt) for lang in (languages or [None]) for fmt in (formats or [None])]
    except ValueError as exc:
        raise SystemExit(f"reelwright cloud submit: {exc}") from None


async def cmd_submit(args: argparse.Namespace) -> int:
    client = _client(args)
    cancel = _cancel_token(args)
    variants = _variants(args)
    if args.fetch:
        done = await client.render(Path(args.path), Path(args.fetch), _progress_printer(), cancel,
                                   on_submitted=print, on_status=_print_status, variants=variants)
        for p in done.files:
            print(p)
        return 0
    job_id = await client.submit(Path(args.path), on_progress=_progress_printer(), cancel=cancel,
                                 variants=variants)
    print(job_id)
    if not args.wait:
        return 0
    final = await client.watch(job_id, on_status=_print_status)
    return 0 if final.state == "Complete" else 1


async def cmd_status(args: argparse.Namespace) -> int:
    client = _client(args)
    if args.job:
        st = await (client.watch(args.job, on_status=_print_status) if args.wait else client.status(args.job))
        if not args.wait:
            _print_status(st)
        if args.json:
            print(json.dumps({"job": st.job_id, "state": st.state, "progress": st.progress, "error": st.error,
                              "cause": st.cause, "outputs": [o.to_json() for o in st.outputs],
                              "variants": [{**v.variant.to_json(), "state": v.state, "error": v.error,
                                            "cause": v.cause, "outputs": [o.to_json() for o in v.outputs]}
                                           for v in st.variants]}, indent=2))
        return 0 if st.state != "Failed" else 1
    return await cmd_list(args)


async def cmd_list(args: argparse.Namespace) -> int:
    client = _client(args)
    jobs = await client.list_jobs()
    if not jobs:
        print("no cloud jobs yet")
    for st in jobs:
        _print_status(st)
    return 0


async def cmd_cancel(args: argparse.Namespace) -> int:
    client = _client(args)
    await client.cancel(args.job)
    print(f"cancel requested for {args.job}")
    return 0


async def cmd_fetch(args: argparse.Namespace) -> int:
    client = _client(args)
    dest = Path(args.out or args.job)
    for p in await client.fetch(args.job, dest, on_progress=_progress_printer(), cancel=_cancel_token(args)):
        print(p)
    return 0


async def cmd_share(args: argparse.Namespace) -> int:
    client = _client(args)
    if args.name:
        link = await client.share_link(args.job, args.expires, args.name)
        print(link.url)
        print(f"this link {link.until_text()}", file=sys.stderr)
        return 0
    links = await client.share_links(args.job, args.expires)
    if len(links) == 1:  # a single render: the link alone, as scripts expect
        print(links[0][1].url)
        print(f"this link {links[0][1].until_text()}", file=sys.stderr)
        return 0
    for name, link in links:  # a fan-out job: one link per variant's video, "<variant>/<file> <url>"
        print(f"{name} {link.url}")
        print(f"{name}: this link {link.until_text()}", file=sys.stderr)
    return 0


# ---------------------------------------------------------------------- setup


async def cmd_configure(args: argparse.Namespace) -> int:
    from app.cloud.config import CloudConfig, config_from_file
    from app.cloud.deploy import stack_config

    if args.from_file:
        cfg = config_from_file(Path(args.from_file), endpoint_url=args.endpoint_url)
    elif args.stack:
        cfg = await asyncio.to_thread(stack_config, args.stack, region=args.region, endpoint_url=args.endpoint_url)
    else:
        _err("give --stack NAME (a deployed stack) or --from-file PATH")
        return 2
    assert isinstance(cfg, CloudConfig)
    path = cfg.save(Path(args.config) if args.config else None)
    print(f"cloud configuration written to {path}")
    return 0


async def cmd_deploy(args: argparse.Namespace) -> int:
    from app.cloud.deploy import deploy

    params = {}
    for kv in args.param or []:
        key, sep, value = kv.partition("=")
        if not sep:
            _err(f"--param takes KEY=VALUE, got '{kv}'")
            return 2
        params[key] = value
    cfg = await asyncio.to_thread(deploy, args.stack, args.image, region=args.region, parameters=params,
                                  endpoint_url=args.endpoint_url)
    path = cfg.save(Path(args.config) if args.config else None)
    print(f"stack {args.stack} deployed; configuration written to {path}")
    return 0


async def cmd_emulate(args: argparse.Namespace) -> int:
    try:
        from .cloud.emulator.local import Emulator
    except ImportError as exc:  # the packaged app leaves the development tools out
        raise ToolMissingError(
            f"the cloud emulator is not part of this installation ({exc})",
            hint="run 'reelwright cloud emulate' from a source checkout after 'make setup'") from None
    from .cloud.selftest import EXAMPLE, selftest

    logging.basicConfig(level=logging.INFO if getattr(args, "verbose", False) else logging.WARNING,
                        format="%(asctime)s %(name)s: %(message)s")
    emu = Emulator(port=args.port, host=args.host, fake_polly=True if args.polly else None,
                   container_image=args.container, container_sandbox=args.sandbox, share_links=args.share_links,
                   sweep_every_s=None if args.selftest else 900.0)  # the stack's SweepSchedule: 15 minutes
    cfg = await emu.start()
    try:
        if not args.selftest or args.config:
            path = cfg.save(Path(args.config) if args.config else None)
            print(f"configuration written to {path}")
        print(json.dumps(cfg.to_json(), indent=2))
        if args.selftest:
            timings = await selftest(emu, Path(args.example) if args.example else EXAMPLE)
            print("selftest passed: " + ", ".join(f"{k} {v:.1f}" for k, v in timings.items()))
            return 0
        print(f"emulator running on {emu.endpoint} (state in {emu.workdir}); Ctrl-C to stop", flush=True)
        await asyncio.Event().wait()
        return 0
    finally:
        await emu.stop()


# ---------------------------------------------------------------------- wiring


def register(subparsers: Any) -> None:
    """Add the ``cloud`` command and its subcommands to the main parser's subparsers."""
    cloud = subparsers.add_parser("cloud", help="render in Reelwright Cloud (or its local emulator)")
    cloud.add_argument("--config", help="cloud configuration file (default: the user config folder)")
    sub = cloud.add_subparsers(dest="cloud_command", metavar="COMMAND", required=True)

    def add(name: str, handler: Handler, help_: str) -> argparse.ArgumentParser:
        p: argparse.ArgumentParser = sub.add_parser(name, help=help_)
        p.set_defaults(cloud_handler=handler)
        return p

    p = add("login", cmd_login, "sign in (or sign up, confirm, reset the password)")
    p.add_argument("--email")
    p.add_argument("--sign-up", action="store_true", help="create the account first")
    p.add_argument("--code", help="confirmation code from the sign-up e-mail")
    p.add_argument("--forgot", action="store_true", help="send a password reset code")
    p.add_argument("--reset", metavar="CODE", help="set a new password with the reset code")
    p.add_argument("--new-password", action="store_true",
                   help="first sign-in of an invited account: sign in with the temporary password from the "
                        "invitation e-mail, then choose your own (asked next, or the next stdin line)")
    p.add_argument("--password-stdin", action="store_true", help="read the password from stdin")
    add("logout", cmd_logout, "sign out and forget the tokens")
    p = add("submit", cmd_submit, "upload a job (bundle or script) and start the render")
    p.add_argument("path")
    p.add_argument("--wait", action="store_true", help="follow the job until it ends")
    p.add_argument("--fetch", metavar="DIR", help="wait, then download the outputs into DIR")
    p.add_argument("--languages", metavar="LANGS",
                   help="fan out: render each of these languages (comma separated, e.g. en,de,fr) as its own task, "
                        "in parallel up to the account's concurrency; outputs go to DIR/<language>-<format>/")
    p.add_argument("--formats", metavar="FORMATS",
                   help="fan out: render each of these formats (presets such as 16:9,9:16,1:1, or WIDTHxHEIGHT); "
                        "with --languages, every language in every format (at most 12 variants)")
    p = add("status", cmd_status, "show a job's status (all jobs without JOB)")
    p.add_argument("job", nargs="?")
    p.add_argument("--wait", action="store_true", help="follow until the job ends")
    p.add_argument("--json", action="store_true")
    p = add("cancel", cmd_cancel, "cancel a job")
    p.add_argument("job")
    p = add("fetch", cmd_fetch, "download a finished job's outputs (checksums verified)")
    p.add_argument("job")
    p.add_argument("--out", help="folder (default: ./JOB)")
    add("list", cmd_list, "list my jobs")
    p = add("share", cmd_share, "print a time-limited link to a finished video")
    p.add_argument("job")
    p.add_argument("--expires", type=int, default=3600,
                   help="seconds (default 3600, at most 7 days); the link's real end is printed on stderr")
    p.add_argument("--name", help="the output to share (e.g. video.mp4, or de-9x16/video.mp4 in a fan-out job); "
                   "default: every video, one link per variant")
    p = add("configure", cmd_configure, "write the configuration from a deployed stack's outputs")
    p.add_argument("--stack")
    p.add_argument("--region")
    p.add_argument("--from-file", help="a configuration file (e.g. one the emulator wrote) or the stack's "
                   "outputs as JSON (`aws cloudformation describe-stacks` output)")
    p.add_argument("--endpoint-url", help=argparse.SUPPRESS)
    p = add("deploy", cmd_deploy, "create or update the cloud stack (CloudFormation)")
    p.add_argument("--stack", required=True)
    p.add_argument("--image", required=True, help="recorder image URI in ECR")
    p.add_argument("--region")
    p.add_argument("--param", action="append", metavar="KEY=VALUE", help="another template parameter")
    p.add_argument("--endpoint-url", help=argparse.SUPPRESS)
    p = add("emulate", cmd_emulate, "run the whole cloud path locally (moto server + recorder)")
    p.add_argument("--port", type=int, default=0, help="moto server port (default: a free one)")
    p.add_argument("--host", default="127.0.0.1", help="interface moto listens on (containers: 0.0.0.0)")
    p.add_argument("--selftest", action="store_true", help="sign up, render the example, verify, exit")
    p.add_argument("--example", help="script to render in the selftest (default: the bundled quickstart)")
    p.add_argument("--polly", action="store_true", help="voice every task with the emulator's fake Polly (Piper "
                   "behind Polly's API; containerized tasks always use it) instead of forcing Piper")
    p.add_argument("--container", nargs="?", const="reelwright-recorder:local", default=None, metavar="IMAGE",
                   help="run each task in the recorder image (default reelwright-recorder:local, built by "
                        "'make recorder-image'; needs a Docker engine) instead of a host subprocess")
    p.add_argument("--sandbox", action="store_true",
                   help="with --container: keep Chromium's sandbox (runs the task with seccomp=unconfined)")
    p.add_argument("--share-links", action="store_true",
                   help="serve the share signer's stand-in: `share` returns week-long CloudFront-style signed "
                        "links (verifiable, not downloadable) instead of presigned S3 links")
    cloud.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    """Run the chosen ``cloud`` subcommand; turn every error into a message and an exit code."""
    handler: Handler = args.cloud_handler

    def with_token(cancel: CancelToken) -> Any:
        # a signal sets the token (transfers in worker threads look at it every 256 KiB) and
        # cancels the task, so an upload or download stops within a second
        args.cancel_token = cancel
        return handler(args)

    from .cli import run_cancellable

    try:
        return int(run_cancellable(with_token))
    except KeyboardInterrupt:
        _err("interrupted")
        return 130
    except Cancelled as exc:
        _err(str(exc))
        return exc.exit_code
    except ReelwrightError as exc:
        if getattr(args, "verbose", False):
            traceback.print_exc()
        _err(str(exc))
        return exc.exit_code
    except OSError as exc:
        if getattr(args, "verbose", False):
            traceback.print_exc()
        _err(f"{exc.strerror or exc}" + (f": {exc.filename}" if exc.filename else ""))
        return 1


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="reelwright")
    parser.add_argument("-v", "--verbose", action="store_true", help="show tracebacks and details")
    register(parser.add_subparsers(dest="command", required=True))
    args = parser.parse_args(argv)
    return run(args)


if __name__ == "__main__":
    sys.exit(main())
