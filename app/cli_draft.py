"""``reelwright import`` and ``reelwright draft``: from codegen files and documents to a script.

    reelwright import flow.py [more.spec.ts ...] [--out script.json] [--skip-unsupported]
    reelwright draft --file flow.py --file guide.pdf --prompt "a short tour for new users" \\
        [--drafter offline|bedrock|openai] [--out script.json] [--no-observe]

``draft`` first replays the flow silently in Chromium (as ``render --check`` does, nothing recorded)
to see each step's page title, heading and the names of what is clicked, and writes the narration
from that; ``--no-observe`` skips it (faster; the narration is then written from the recorded code).

Files are used in the order given (the order the user dragged them).  Every handler returns an exit
code: 0 done, 2 bad input (with every unsupported line and its location), 130 cancelled.
"""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path
from typing import Any

from app.core.draft.drafters.base import DraftResult
from app.core.infra.fs import atomic_write

EXIT_BAD_INPUT = 2


def register(subparsers: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    from app.core.draft.drafting import drafter_kinds

    from .cloud import register_drafters

    register_drafters()
    imp = subparsers.add_parser(
        "import",
        help="turn Playwright codegen files into a script (offline drafter)",
        description="Parse Playwright codegen files (Python sync/async/pytest, JavaScript, TypeScript) into a "
        "script, one card per step, with narration written from the actions. Nothing is executed.",
    )
    imp.add_argument("files", nargs="+", type=Path, help="codegen files (and optional documents), in order")
    imp.add_argument("--out", "-o", type=Path, help="write the script here (default: print it)")
    imp.add_argument(
        "--skip-unsupported",
        action="store_true",
        help="leave out lines that cannot be imported (each one is reported) instead of failing",
    )
    imp.add_argument("--prompt", default="", help="audience/tone/length, e.g. 'short and friendly'")
    _settings_flags(imp)
    imp.set_defaults(func=cmd_import)

    dr = subparsers.add_parser(
        "draft",
        help="draft a script from ordered files and a prompt",
        description="Draft a script from codegen flows and documents (PDF, Markdown, text) given in order, "
        "shaped by a prompt. Drafters: offline (default, deterministic), bedrock (Amazon Bedrock), "
        "openai (any OpenAI-compatible endpoint, e.g. Ollama or LM Studio).",
    )
    dr.add_argument(
        "--file",
        "-f",
        dest="files",
        action="append",
        type=Path,
        required=True,
        help="a codegen file or document; repeat it, in order",
    )
    dr.add_argument("--prompt", "-p", default="", help="what the video should be: audience, tone, length")
    dr.add_argument("--drafter", choices=drafter_kinds(), default="offline")
    dr.add_argument("--out", "-o", type=Path, help="write the script here (default: print it)")
    dr.add_argument(
        "--no-observe",
        dest="observe",
        action="store_false",
        help="do not replay the flow silently first to see its pages (faster; about 0.3-0.6 s a step "
        "otherwise); the narration is then written from the recorded code",
    )
    dr.add_argument(
        "--session",
        type=Path,
        help="the signed-in session (Playwright storage state) the flow loads, for the silent run; by default "
        "the file the flow names, beside it",
    )
    _settings_flags(dr)
    _model_flags(dr)
    m = dr.add_argument_group("drafting")
    m.add_argument("--max-input-tokens", type=int, help="prompt budget (default 24000)")
    m.add_argument(
        "--fallback-offline",
        action="store_true",
        help="if the model fails, write the offline draft instead (with a warning)",
    )
    dr.set_defaults(func=cmd_draft)

    tr = subparsers.add_parser(
        "translate",
        help="translate a script's narration into another voiceover language with a model",
        description="Add a voiceover language to a script (if it is not there yet) and translate the cards "
        "missing it with a model drafter (bedrock or openai), one card at a time. Bookmarks "
        "(<mark name=\"x\"/>) are kept; a card the model cannot translate is named. `reelwright render` then renders "
        "every language (`--lang de` for one).",
    )
    tr.add_argument("script", type=Path, help="the script JSON")
    tr.add_argument("--lang", "-l", required=True, help="language tag to translate into, e.g. de or pt-BR")
    tr.add_argument("--drafter", choices=[k for k in drafter_kinds() if k != "offline"], default="openai",
                    help="the model backend (default openai)")
    tr.add_argument("--cards", help="comma-separated card ids to (re)translate (default: the cards missing "
                    "a translation)")
    tr.add_argument("--voice-provider", choices=["piper", "espeak", "polly"],
                    help="voice of a language added now (default: espeak-ng, Piper for English)")
    tr.add_argument("--voice", help="voice id of a language added now (default: the provider's for the language)")
    tr.add_argument("--out", "-o", type=Path, help="write the script here (default: print it)")
    tr.add_argument("-q", "--quiet", action="store_true", help="no progress output")
    _model_flags(tr)
    tr.set_defaults(func=cmd_translate)


def _model_flags(p: argparse.ArgumentParser) -> None:
    """The model backends' options, shared by ``draft`` and ``translate``."""
    g = p.add_argument_group("Amazon Bedrock")
    g.add_argument(
        "--bedrock-model", help="model id or inference profile, e.g. anthropic.claude-3-5-sonnet-20240620-v1:0"
    )
    g.add_argument("--bedrock-region", help="AWS region (default: the AWS configuration)")
    g.add_argument("--aws-profile", help="AWS profile name (default: the signed-in Reelwright Cloud user's own "
                   "credentials, else the standard credential chain)")
    o = p.add_argument_group("OpenAI-compatible endpoint")
    o.add_argument(
        "--openai-base-url",
        help="e.g. http://127.0.0.1:11434/v1 (Ollama), http://127.0.0.1:1234/v1 (LM Studio), https://api.openai.com/v1",
    )
    o.add_argument("--openai-model", help="model name as the server knows it, e.g. llama3.1")
    o.add_argument(
        "--openai-api-key-env",
        default="OPENAI_API_KEY",
        metavar="VAR",
        help="environment variable holding the API key (default OPENAI_API_KEY; keys are never "
        "taken on the command line)",
    )
    o.add_argument(
        "--json-object",
        action="store_true",
        help="ask for response_format json_object instead of json_schema (older servers)",
    )
    m = p.add_argument_group("model limits")
    m.add_argument("--timeout", type=float, help="seconds per request (default 120)")
    m.add_argument("--attempts", type=int, help="answers asked for before giving up (default 3)")


def _model_config(args: argparse.Namespace, cfg: Any) -> Any:
    """Fill ``cfg`` (a DrafterConfig) from the model options; Bedrock without ``--aws-profile`` runs on
    the signed-in cloud user's tenant credentials when there is one."""
    if args.bedrock_model:
        cfg.bedrock_model_id = args.bedrock_model
    cfg.bedrock_region = args.bedrock_region
    cfg.bedrock_profile = args.aws_profile
    if args.openai_base_url:
        cfg.openai_base_url = args.openai_base_url
    if args.openai_model:
        cfg.openai_model = args.openai_model
    cfg.openai_api_key = os.environ.get(args.openai_api_key_env) or None
    if args.json_object:
        cfg.openai_response_format = "json_object"
    if args.timeout:
        cfg.timeout_s = args.timeout
    if args.attempts:
        cfg.max_attempts = max(1, args.attempts)
    if cfg.kind == "bedrock" and not args.aws_profile:
        cfg.boto3_session = _tenant_session(args)
    return cfg


def _tenant_session(args: argparse.Namespace) -> Any:
    """The signed-in cloud user's boto3 session (the tenant role may invoke the stack's Bedrock models),
    or None when no cloud is configured or nobody is signed in."""
    from .cloud.errors import CloudError

    try:
        from .cloud.client import CloudClient
        from .cloud.config import load_config

        client = CloudClient(load_config())
        if not client.signed_in:
            return None
        session = client.auth.boto_session()
    except (CloudError, OSError, ImportError):
        return None
    if not getattr(args, "quiet", False):
        print(f"Bedrock: using the signed-in cloud user's credentials ({client.username})", file=sys.stderr)
    return session


def _settings_flags(p: argparse.ArgumentParser) -> None:
    p.add_argument(
        "--site",
        help="folder of the static site the flow runs against (relative to the script); "
        "recorded localhost URLs become relative",
    )
    p.add_argument("--base-url", help="base URL for relative addresses when no site is served")
    p.add_argument("--title", help="title of the video")
    p.add_argument("-q", "--quiet", action="store_true", help="no progress output")


def _settings(args: argparse.Namespace) -> Any:
    from .core.script import Settings

    return Settings(site=args.site, base_url=args.base_url)


def _err(msg: str) -> None:
    print(f"error: {msg}", file=sys.stderr)


def _emit(result: DraftResult, args: argparse.Namespace) -> int:
    script = result.script
    if args.title:
        script = script.model_copy(update={"title": args.title})
    for w in result.warnings:
        print(f"warning: {w}", file=sys.stderr)
    text = script.to_json() + "\n"
    n_actions = sum(len(c.actions) for c in script.cards)
    if args.out:
        atomic_write(args.out, text)
        if not args.quiet:
            print(f"wrote {args.out}: {len(script.cards)} cards, {n_actions} actions", file=sys.stderr)
    else:
        sys.stdout.write(text)
    return 0


def _site_dir(args: argparse.Namespace) -> Path | None:
    """The --site folder on disk: relative to where the script is written (or the current folder)."""
    if not args.site:
        return None
    base = args.out.parent if args.out else Path.cwd()
    path = (base / args.site).resolve()
    return path if path.is_dir() else None


def _run_draft(args: argparse.Namespace, files: list[Path], prompt: str, config: Any) -> int:
    from app.core.draft.drafting import draft

    from .cli import TerminalProgress, run_cancellable
    from .core.errors import Cancelled, ReelwrightError

    missing = [f for f in files if not f.is_file()]
    if missing:
        _err("no such file: " + ", ".join(str(m) for m in missing))
        return EXIT_BAD_INPUT
    progress = TerminalProgress(quiet=args.quiet)
    settings = _settings(args)
    if config.site_dir is None:
        config.site_dir = _site_dir(args)
    try:
        result = run_cancellable(
            lambda cancel: draft(files, prompt, config=config, settings=settings, on_progress=progress, cancel=cancel)
        )
    except Cancelled:
        progress.done()
        _err("cancelled; nothing was written")
        return 130
    except ReelwrightError as exc:
        progress.done()
        _err(str(exc))
        return exc.exit_code
    progress.done()
    return _emit(result, args)


def cmd_import(args: argparse.Namespace) -> int:
    from app.core.draft.drafters.base import DrafterConfig
    from app.core.draft.importers import CODEGEN_KINDS, CodegenImportError, detect_kind, import_codegen

    files: list[Path] = list(args.files)
    missing = [f for f in files if not f.is_file()]
    if missing:
        _err("no such file: " + ", ".join(str(m) for m in missing))
        return EXIT_BAD_INPUT
    _precheck_out(args)
    codegen = [f for f in files if detect_kind(f) in CODEGEN_KINDS]
    if not codegen:
        _err("none of the files is a Playwright codegen file (.py, .js or .ts using Playwright)")
        return EXIT_BAD_INPUT
    failed = False
    for f in codegen:
        try:
            res = import_codegen(f, skip_unsupported=args.skip_unsupported)
        except CodegenImportError as exc:
            failed = True
            print(f"error: {exc}", file=sys.stderr)
            continue
        if not args.quiet:
            print(f"{f.name}: {len(res.actions)} actions ({res.flavour})", file=sys.stderr)
            if res.sessions:
                print(f"  needs the signed-in session {', '.join(res.sessions)} (settings.session = "
                      f"\"{res.session}\"): add it to the library as a session to render signed in", file=sys.stderr)
            for note in res.warnings:
                print(f"  note: {note}", file=sys.stderr)
    if failed:
        return EXIT_BAD_INPUT
    return _run_draft(args, files, args.prompt, DrafterConfig(kind="offline"))


def _precheck_out(args: argparse.Namespace) -> None:
    """An --out that cannot be written is refused before anything is parsed or drafted."""
    if args.out:
        from app.core.infra.outpaths import check_output_path

        check_output_path(args.out)


def cmd_draft(args: argparse.Namespace) -> int:
    from app.core.draft.drafters.base import DrafterConfig

    _precheck_out(args)

    cfg = DrafterConfig(kind=args.drafter, observe=args.observe, session_file=args.session)
    if args.max_input_tokens:
        cfg.max_input_tokens = args.max_input_tokens
    _model_config(args, cfg)
    cfg.fallback_to_offline = args.fallback_offline
    return _run_draft(args, list(args.files), args.prompt, cfg)


def cmd_translate(args: argparse.Namespace) -> int:
    from app.core import languages
    from app.core.draft.drafters.base import DrafterConfig
    from app.core.draft.drafters.translate import LLMTranslator

    from .cli import TerminalProgress, run_cancellable
    from .core.errors import Cancelled, ReelwrightError
    from .core.script import load_script, validate_script

    if args.out:
        _precheck_out(args)
    progress = TerminalProgress(quiet=args.quiet)
    try:
        script = load_script(args.script)
        data = script.model_dump(mode="json", exclude_defaults=True)
        settings = data.setdefault("settings", {})
        if args.lang != script.settings.language and args.lang not in [lv.lang for lv in script.settings.languages]:
            provider, voice = languages.default_voice_for(args.lang)
            if args.voice_provider and args.voice_provider != provider:
                provider = args.voice_provider
                voice = (languages.voice_suggestions(provider, args.lang) or [""])[0]
            entry = {"lang": args.lang, "provider": provider, "voice": args.voice or voice or None}
            settings["languages"] = [*settings.get("languages", []), {k: v for k, v in entry.items() if v}]
            script = validate_script(data, source=args.script)
            if not args.quiet:
                print(f"added language {args.lang} ({entry['provider']} {entry['voice'] or ''})".rstrip(),
                      file=sys.stderr)
        config = _model_config(args, DrafterConfig(kind=args.drafter))
        card_ids = [c.strip() for c in args.cards.split(",") if c.strip()] if args.cards else None
        if card_ids:
            unknown = [c for c in card_ids if c not in {card.id for card in script.cards}]
            if unknown:
                _err(f"{args.script}: no card with id {', '.join(unknown)}")
                return EXIT_BAD_INPUT

        def run(cancel: Any) -> Any:
            translator = LLMTranslator(config, cancel=cancel)
            return languages.translate_cards(script, args.lang, translator, card_ids=card_ids,
                                             on_progress=progress, cancel=cancel)

        texts: dict[str, str] = run_cancellable(run)
    except Cancelled:
        progress.done()
        _err("cancelled; nothing was written")
        return 130
    except languages.TranslationFailed as exc:
        progress.done()
        _err(f"{args.script}: {exc}")
        if exc.done:
            _err(f"{len(exc.done)} card(s) before it were translated; nothing was written")
        return exc.exit_code
    except ReelwrightError as exc:
        progress.done()
        _err(str(exc))
        return exc.exit_code
    progress.done()
    data = script.model_dump(mode="json", exclude_defaults=True)
    for card in data["cards"]:
        if card["id"] in texts:
            card["narration_i18n"] = {**card.get("narration_i18n", {}), args.lang: texts[card["id"]]}
    try:
        final = validate_script(data, source=args.script)
    except ReelwrightError as exc:
        _err(str(exc))
        return exc.exit_code
    text = final.to_json() + "\n"
    if args.out:
        atomic_write(args.out, text)
        if not args.quiet:
            print(f"wrote {args.out}: {len(texts)} card(s) translated into {args.lang}", file=sys.stderr)
    else:
        sys.stdout.write(text)
    return 0
