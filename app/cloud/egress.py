"""Which hosts a cloud render may open: the deployment's ``LiveAppEgress`` mode and its allow-list.

The template passes both to every recorder task (``LIVE_APP_EGRESS`` = ``off``/``on`` and
``EGRESS_ALLOWED_HOSTS``, comma separated).  With egress off the task has no route out at all; with
it on, AWS Network Firewall passes HTTPS only to the listed names.  The recorder checks the job
against the same list before it starts a browser (defence in depth, and a clear error instead of a
navigation timeout): ``settings.base_url`` and every absolute ``goto`` must name a listed host over
HTTPS, or loopback (a bundled site is served on the task's own loopback).  Metadata and link-local
addresses are refused in every mode by :func:`app.core.urlpolicy.blocked_reason`, even if listed.

Names follow Network Firewall's domain-list rules: ``app.example.com`` matches that host only;
``.example.com`` matches ``example.com`` and every subdomain of it.
"""

from __future__ import annotations

import ipaddress
import re
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from urllib.parse import urlsplit

from app.core.script import Goto, Script
from app.core.urlpolicy import BLOCKED_HOSTNAMES, blocked_reason, normalise_host

__all__ = ["EgressPolicy", "parse_allowed_hosts"]

_LABEL = r"[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?"
#: a DNS name whose last label starts with a letter (so never an IPv4 address), optional leading dot
_HOST_RE = re.compile(rf"^\.?(?:{_LABEL}\.)+[a-z](?:[a-z0-9-]{{0,61}}[a-z0-9])?$")
_LOOPBACK_NAMES = frozenset({"localhost"})


def parse_allowed_hosts(text: str) -> tuple[str, ...]:
    """The allow-list from its comma-separated form; ValueError names the first bad entry.

    The template's ``AllowedPattern`` refuses the same entries at deploy time; this repeats the
    check where the list is used, and also refuses the metadata services' names.
    """
    hosts: list[str] = []
    for raw in text.split(","):
        entry = raw.strip().lower()
        if not entry:
            continue
        if not _HOST_RE.match(entry):
            raise ValueError(f"'{raw.strip()}' is not a host name (no scheme, port, path or IP address; "
                             "a leading dot allows subdomains)")
        if entry.lstrip(".") in BLOCKED_HOSTNAMES:
            raise ValueError(f"'{entry}' is a cloud metadata service and cannot be allowed")
        hosts.append(entry)
    return tuple(dict.fromkeys(hosts))


def _is_loopback(host: str) -> bool:
    if host in _LOOPBACK_NAMES or host.endswith(".localhost"):
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def _script_urls(script: Script) -> Iterator[tuple[str, str]]:
    """(where, absolute URL) for every address the script names itself."""
    if script.settings.base_url:
        yield "settings › base_url", script.settings.base_url
    for ci, card, ai, action in script.iter_actions():
        if isinstance(action, Goto) and urlsplit(action.url).netloc:
            yield f"card {ci + 1} '{card.id}' › action {ai + 1} (goto)", action.url


@dataclass(frozen=True)
class EgressPolicy:
    """What the deployment lets a render reach.  ``enabled`` False = loopback only."""

    enabled: bool
    allowed: tuple[str, ...] = ()

    @classmethod
    def from_environ(cls, env: Mapping[str, str]) -> EgressPolicy | None:
        """The policy the task was started with, or None outside the cloud (``LIVE_APP_EGRESS`` unset
        or empty; the template always sets ``off`` or ``on``).

        A malformed value fails closed: anything but ``on`` is off, and a bad list entry is a
        ValueError (the recorder reports it instead of rendering).
        """
        mode = env.get("LIVE_APP_EGRESS", "").strip()
        if not mode:
            return None
        enabled = mode.strip().lower() == "on"
        return cls(enabled, parse_allowed_hosts(env.get("EGRESS_ALLOWED_HOSTS", "")) if enabled else ())

    def allows_host(self, host: str) -> bool:
        """``host`` (normalised) is on the allow-list (exact, or under a ``.domain`` entry)."""
        h = normalise_host(host)
        for entry in self.allowed:
            if entry.startswith("."):
                if h == entry[1:] or h.endswith(entry):
                    return True
            elif h == entry:
                return True
        return False

    def url_problem(self, url: str) -> str | None:
        """Why a render in this deployment may not open ``url`` (absolute), or None."""
        reason = blocked_reason(url)
        if reason is not None:
            return reason
        parts = urlsplit(url.strip())
        try:
            port = parts.port
        except ValueError:
            return f"'{url}' has an invalid port"
        host = normalise_host(parts.hostname or "")
        if not host or _is_loopback(host):
            return None
        if not self.enabled:
            return (f"'{host}' is outside this deployment: it was deployed without internet egress "
                    "(LiveAppEgress=off), so cloud renders reach only the job's own bundled site. Render "
                    "it on the desktop, or ask the administrator to deploy with LiveAppEgress=on and "
                    f"'{host}' in EgressAllowedHosts")
        if parts.scheme.lower() != "https" or port not in (None, 443):
            return (f"'{url}': cloud renders reach live apps over HTTPS on port 443 only "
                    "(the egress firewall and the task's security group allow nothing else)")
        if not self.allows_host(host):
            listed = ", ".join(self.allowed) or "nothing"
            return (f"'{host}' is not on this deployment's egress allow-list ({listed}); ask the "
                    "administrator to add it to EgressAllowedHosts")
        return None

    def problems(self, script: Script) -> list[str]:
        """Every address in ``script`` this deployment may not open, each naming where it is."""
        out = []
        for where, url in _script_urls(script):
            problem = self.url_problem(url)
            if problem is not None:
                out.append(f"{where}: {problem}")
        return out
