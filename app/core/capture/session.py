"""Signed-in renders: a saved session (Playwright storage state) loaded into the browser context.

``settings.session`` names a storage-state JSON in the job bundle (what codegen's ``--save-storage``
writes).  It is a secret: it is read here, handed to the browser context, and never copied, logged or
quoted — errors name the asset, never its contents.

A session recorded against the example site on ``http://127.0.0.1:<port>`` carries that port in its
localStorage origins, and a render serves the site on another port: :func:`rebase_storage_state` moves
loopback cookies and origins onto the origin the render serves the site on.

An expired session shows up as the first navigation landing on a sign-in page
(:class:`SignInCheck`): the render stops with "the session in <asset> is no longer signed in at <url>:
record it again" instead of filming a sign-in form.
"""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

from ..errors import RenderError
from ..plan.bumpers import BUMPER_PREFIX

if TYPE_CHECKING:
    from ..bundle import Job
    from ..script import Settings
    from .performer import ActionContext, Performer

LOOPBACK_HOSTS = frozenset({"127.0.0.1", "localhost", "::1", "[::1]"})
#: how long after the first navigation a client-side redirect to a sign-in page is watched for (video s)
REDIRECT_WATCH_S = 0.5
#: a URL path that looks like a sign-in page
SIGN_IN_PATH = re.compile(r"(^|[/_.-])(sign[-_]?in|log[-_]?in|auth|sso)([/_.?-]|$)", re.IGNORECASE)

_PROBE_JS = """() => ({
  url: location.href,
  password: Array.from(document.querySelectorAll('input[type=password]')).some((e) => {
    const r = e.getBoundingClientRect(), s = getComputedStyle(e);
    return r.width > 0 && r.height > 0 && s.visibility !== 'hidden' && s.display !== 'none';
  }),
})"""


def expired_message(asset: str, url: str) -> str:
    return f"the session in {asset} is no longer signed in at {url}: record it again"


def _bad(asset: str, why: str) -> RenderError:
    return RenderError(f"the session in {asset} {why}",
                       hint="record the session again (Record, sign in, save the session), or remove "
                            "settings.session")


def load_storage_state(job: Job, settings: Settings, base_url: str | None) -> dict[str, Any] | None:
    """The job's session as a storage state for ``new_context``, rebased onto ``base_url``; None when the
    script has no session.  Raises RenderError naming the asset (never quoting it) when it is missing or
    is not a storage state."""
    asset = settings.session
    if asset is None:
        return None
    return read_storage_state(job.resolve(asset), asset, base_url)


def read_storage_state(path: Path, asset: str, base_url: str | None) -> dict[str, Any]:
    """The storage state in ``path`` (the session named ``asset``), checked and rebased onto ``base_url``.
    Raises RenderError naming the asset, never quoting the file."""
    if not path.is_file():
        raise _bad(asset, "is missing from the job")
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, ValueError):
        raise _bad(asset, "cannot be read as JSON (a Playwright storage state is expected)") from None
    if not isinstance(data, dict):
        raise _bad(asset, "is not a Playwright storage state (an object with cookies and origins)")
    cookies = data.get("cookies", [])
    origins = data.get("origins", [])
    if not isinstance(cookies, list) or not all(isinstance(c, dict) and isinstance(c.get("name"), str)
                                                and isinstance(c.get("value"), str) for c in cookies):
        raise _bad(asset, "is not a Playwright storage state (its cookies are not a list of name/value)")
    if not isinstance(origins, list) or not all(
            isinstance(o, dict) and isinstance(o.get("origin"), str) and isinstance(o.get("localStorage", []), list)
            and all(isinstance(i, dict) and isinstance(i.get("name"), str) and isinstance(i.get("value"), str)
                    for i in o.get("localStorage", []))
            for o in origins):
        raise _bad(asset, "is not a Playwright storage state (its origins are not a list of origin/localStorage)")
    return rebase_storage_state({"cookies": cookies, "origins": origins}, base_url)


def _origin(url: str) -> tuple[str, str | None]:
    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.netloc}", parts.hostname


def rebase_storage_state(state: dict[str, Any], base_url: str | None) -> dict[str, Any]:
    """Move loopback cookies and localStorage origins onto ``base_url``'s origin when that is loopback too
    (a recording of ``http://127.0.0.1:5173`` replayed on the port this render serves the site on).
    Anything else is left as recorded.  Returns a new state; the input is not changed."""
    cookies = [dict(c) for c in state.get("cookies", [])]
    origins = [dict(o) for o in state.get("origins", [])]
    if not base_url:
        return {"cookies": cookies, "origins": origins}
    target, host = _origin(base_url)
    if host is None or host not in LOOPBACK_HOSTS:
        return {"cookies": cookies, "origins": origins}
    for c in cookies:
        domain = str(c.get("domain", "")).lstrip(".")
        if domain in LOOPBACK_HOSTS:
            c["domain"] = host
    merged: dict[str, str] = {}
    loopback: dict[str, Any] | None = None  # the last loopback origin's entry (keeps e.g. its indexedDB)
    kept: list[dict[str, Any]] = []
    for o in origins:
        _, ohost = _origin(str(o["origin"]))
        if ohost in LOOPBACK_HOSTS:
            loopback = o
            for item in o.get("localStorage", []):
                merged[item["name"]] = item["value"]  # several loopback recordings: the last one wins
        else:
            kept.append(o)
    if loopback is not None:
        kept = [o for o in kept if o["origin"] != target]
        kept.append({**loopback, "origin": target,
                     "localStorage": [{"name": k, "value": v} for k, v in merged.items()]})
    return {"cookies": cookies, "origins": kept}


def looks_like_sign_in(probe: dict[str, Any], requested: str) -> bool:
    """A visible password field, or a sign-in-looking URL the flow did not ask for."""
    if probe.get("password"):
        return True
    url = str(probe.get("url", ""))
    landed, asked = urlsplit(url), urlsplit(requested)
    return bool(SIGN_IN_PATH.search(landed.path)) and landed.path != asked.path


class SignInCheck:
    """After the first navigation of a signed-in render, make sure it did not land on a sign-in page."""

    def __init__(self, performer: Performer) -> None:
        self.p = performer
        self.asset = performer.settings.session
        self.done = self.asset is None

    async def after_action(self, ctx: ActionContext, action: Any) -> None:
        if self.done or action.type != "goto":
            return
        p = self.p
        requested = p.resolve_url(action.url)
        if urlsplit(requested).path.startswith(f"/{BUMPER_PREFIX}/"):
            return  # the intro's title page, not the app
        self.done = True
        assert self.asset is not None

        async def probe() -> bool | None:
            got = await p._eval(_PROBE_JS)
            return True if isinstance(got, dict) and looks_like_sign_in(got, requested) else None

        try:
            await p.clock.until(probe, REDIRECT_WATCH_S, "a sign-in page")
        except TimeoutError:
            return  # still signed in
        shot = await p._error_screenshot(ctx)
        raise RenderError(expired_message(self.asset, requested), card_index=ctx.card_index, card_id=ctx.card_id,
                          action_index=ctx.action_index, screenshot=shot,
                          hint="record the session again (Record, sign in, save the session), then render")
