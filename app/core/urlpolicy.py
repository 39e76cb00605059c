"""Which addresses a script may send the browser to.

A script comes from a user, a codegen file, a language model or another tenant's upload; a ``goto``
it contains must not reach the cloud machine's metadata service (credentials live there) or any
link-local address.  :func:`blocked_reason` is the one policy: the validator applies it to every
``goto`` and ``base_url``, and the renderer can apply it to every request the page makes.

Hosts are normalised the way Chromium reads them (WHATWG URL rules), so other spellings of the same
address are caught: decimal/hex/octal and shortened IPv4 (``2852039166``, ``0xa9fea9fe``,
``0251.0376.0251.0376``, ``169.254.43518``), IPv4-mapped and NAT64 IPv6, percent-encoded and
full-width characters, a trailing dot, backslashes, and user-info tricks (``http://a@169.254.169.254``).
Loopback stays allowed: demos run against local development servers.
"""

from __future__ import annotations

import ipaddress
import unicodedata
from urllib.parse import unquote, urlsplit

__all__ = ["BLOCKED_HOSTNAMES", "BLOCKED_NETWORKS", "blocked_reason", "normalise_host"]

#: networks no script may navigate into: link-local (incl. 169.254.169.254, the AWS/Azure/GCP
#: metadata address), Alibaba's and Oracle's metadata addresses, and the AWS IPv6 metadata address
BLOCKED_NETWORKS: tuple[ipaddress.IPv4Network | ipaddress.IPv6Network, ...] = (
    ipaddress.ip_network("169.254.0.0/16"),
    ipaddress.ip_network("100.100.100.200/32"),
    ipaddress.ip_network("192.0.0.192/32"),
    ipaddress.ip_network("fe80::/10"),
    ipaddress.ip_network("fd00:ec2::254/128"),
)

#: host names of metadata services
BLOCKED_HOSTNAMES = frozenset({"metadata.google.internal", "metadata.goog", "metadata", "instance-data",
                               "instance-data.ec2.internal"})

_METADATA_ADDRESSES = frozenset({"169.254.169.254", "fd00:ec2::254", "100.100.100.200", "192.0.0.192"})
_DOTS = str.maketrans({"\u3002": ".", "\uff0e": ".", "\uff61": "."})
_NAT64 = ipaddress.ip_network("64:ff9b::/96")
_IPV4_COMPAT = ipaddress.ip_network("::/96")


class _NotAnAddress(ValueError):
    pass


def _ipv4_number(part: str) -> int:
    """One part of a WHATWG IPv4 address: decimal, 0x-hex or 0-octal."""
    if part[:2].lower() == "0x":
        digits, base = part[2:], 16
    elif len(part) > 1 and part[0] == "0":
        digits, base = part[1:], 8
    else:
        digits, base = part, 10
    if digits == "":
        return 0  # "0x" alone is 0 in the URL standard
    try:
        return int(digits, base)
    except ValueError:
        raise _NotAnAddress(part) from None


def _loose_ipv4(host: str) -> ipaddress.IPv4Address | None:
    """``host`` read as the URL standard's IPv4 parser does, or None when it is a domain name.

    Raises ValueError for a host that is numeric but not a valid address (the browser refuses it).
    """
    parts = host.split(".")
    if parts and parts[-1] == "" and len(parts) > 1:
        parts.pop()  # one trailing dot is allowed
    last = parts[-1] if parts else ""
    # the standard: a host is an IPv4 address when its last part is a number
    if not last or not (last.isdigit() or (last[:2].lower() == "0x" and all(c in "0123456789abcdefABCDEF"
                                                                           for c in last[2:]))):
        return None
    if len(parts) > 4 or any(p == "" for p in parts):
        raise ValueError(f"'{host}' is not a valid IPv4 address")
    try:
        numbers = [_ipv4_number(p) for p in parts]
    except _NotAnAddress:
        raise ValueError(f"'{host}' is not a valid IPv4 address") from None
    if any(n > 255 for n in numbers[:-1]) or numbers[-1] >= 256 ** (5 - len(numbers)):
        raise ValueError(f"'{host}' is not a valid IPv4 address")
    value = numbers[-1]
    for i, n in enumerate(numbers[:-1]):
        value += n << (8 * (3 - i))
    return ipaddress.IPv4Address(value)


def normalise_host(host: str) -> str:
    """A host as the browser compares it: percent-decoded, NFKC, lower case, no trailing dot."""
    h = unicodedata.normalize("NFKC", unquote(host)).translate(_DOTS).strip().lower()
    if h.startswith("[") and h.endswith("]"):
        h = h[1:-1]
    return h.rstrip(".") if not h.endswith("..") else h


def _embedded_ipv4(addr: ipaddress.IPv6Address) -> ipaddress.IPv4Address | None:
    if addr.ipv4_mapped is not None:
        return addr.ipv4_mapped
    if addr.sixtofour is not None:
        return addr.sixtofour
    if addr in _NAT64 or (addr in _IPV4_COMPAT and int(addr) > 0xFFFF):
        return ipaddress.IPv4Address(int(addr) & 0xFFFFFFFF)
    return None


def _address_reason(addr: ipaddress.IPv4Address | ipaddress.IPv6Address, shown: str) -> str | None:
    for net in BLOCKED_NETWORKS:
        if addr.version == net.version and addr in net:
            kind = ("the cloud metadata address" if str(addr) in _METADATA_ADDRESSES
                    else "link-local" if addr.is_link_local else "a cloud metadata address")
            return f"'{shown}' is {kind} ({addr}, in {net}); scripts may not navigate there"
    if isinstance(addr, ipaddress.IPv6Address):
        inner = _embedded_ipv4(addr)
        if inner is not None:
            return _address_reason(inner, shown)
    return None


def blocked_reason(url: str) -> str | None:
    """Why the browser must not go to ``url``, or None when it may.

    Relative URLs (a path on the job's own site) are always allowed; so are URLs without a host
    (``about:blank``, ``data:`` — the script validator refuses non-http schemes on its own).
    Pure and fast: no DNS lookup (a name that *resolves* to a blocked address is the render-time
    check's business, where the browser's own resolution can be observed).
    """
    # The URL standard drops tabs and newlines anywhere and reads '\' as '/' in http(s) URLs;
    # urlsplit does neither, so "http://169.254.169.254\@example.com/" would otherwise pass.
    cleaned = "".join(c for c in url.strip("\x00 \t\r\n\f") if c not in "\t\r\n")
    scheme = cleaned.split(":", 1)[0].lower() if ":" in cleaned else ""
    if scheme in ("http", "https", "ws", "wss", "ftp"):
        cleaned = cleaned.replace("\\", "/")
    try:
        parts = urlsplit(cleaned)
    except ValueError as exc:
        return f"'{url}' is not a valid URL ({exc})"
    if not parts.netloc:
        return None
    raw_host = parts.netloc.rpartition("@")[2]
    if raw_host.startswith("["):
        raw_host = raw_host[: raw_host.find("]") + 1] if "]" in raw_host else raw_host
    else:
        raw_host = raw_host.rsplit(":", 1)[0] if raw_host.count(":") == 1 else raw_host
    host = normalise_host(raw_host)
    if not host:
        return None
    if host in BLOCKED_HOSTNAMES:
        return f"'{raw_host}' is a cloud metadata service; scripts may not navigate there"
    if ":" in host:
        try:
            v6 = ipaddress.IPv6Address(host.split("%", 1)[0])
        except ValueError:
            return f"'{raw_host}' is not a valid IPv6 address"
        if "%" in host:  # a zone index only means something for link-local addresses
            return f"'{raw_host}' names a network interface; scripts may not navigate there"
        return _address_reason(v6, raw_host)
    try:
        v4 = _loose_ipv4(host)
    except ValueError as exc:
        return str(exc)
    if v4 is not None:
        return _address_reason(v4, raw_host)
    return None
