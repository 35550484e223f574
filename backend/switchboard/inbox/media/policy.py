"""Which media URLs may be fetched at all: the defence against server-side request forgery.

A media URL comes from a webhook, and a hostile (or compromised) sender could point it at the cloud metadata
service, a database on the private network, or our own admin. This module decides, before any byte is sent:

* only hosts in `MEDIA_ALLOWED_HOSTS` are fetched (an entry starting with "." also matches its subdomains, as
  Django's ALLOWED_HOSTS does); https only, unless `MEDIA_ALLOW_LOOPBACK` (tests) is on;
* DNS is resolved here (`resolve_host`) and every address is checked (`address_refusal`): loopback, private,
  link-local, multicast, reserved and unspecified addresses are refused (with `MEDIA_ALLOW_LOOPBACK` only loopback
  is let through, never the rest). One bad record refuses the host.

`check_url` returns the checked addresses in a `Target`; the fetcher (fetch.py) connects to exactly those, so a
second DNS answer cannot swap them (rebinding), and calls `check_url` again on every redirect hop.
"""

from __future__ import annotations

import ipaddress
import socket
from collections.abc import Iterable
from dataclasses import dataclass
from urllib.parse import urlsplit

from django.conf import settings

from switchboard.inbox.media.errors import MediaRejected, MediaTransientError

MAX_REDIRECTS = 5


@dataclass(frozen=True)
class MediaPolicy:
    allowed_hosts: tuple[str, ...]
    max_bytes: int
    allow_loopback: bool = False
    require_https: bool = True
    max_redirects: int = MAX_REDIRECTS
    connect_timeout: float = 5.0
    read_timeout: float = 30.0
    deadline_seconds: float = 120.0  # a server trickling bytes must not hold a worker forever

    @classmethod
    def from_settings(cls, *, extra_hosts: Iterable[str] = ()) -> MediaPolicy:
        allow_loopback = bool(settings.MEDIA_ALLOW_LOOPBACK)
        return cls(
            allowed_hosts=tuple(settings.MEDIA_ALLOWED_HOSTS) + tuple(h for h in extra_hosts if h),
            max_bytes=int(settings.MEDIA_MAX_BYTES),
            allow_loopback=allow_loopback,
            # Test servers on 127.0.0.1 speak plain HTTP; production vendors are all https.
            require_https=not allow_loopback,
        )


def host_allowed(host: str, patterns: Iterable[str]) -> bool:
    """'.fbcdn.net' matches fbcdn.net and every subdomain; any other entry matches exactly (case-insensitive)."""
    host = host.lower().rstrip(".")
    for pattern in patterns:
        pattern = pattern.strip().lower().rstrip(".")
        if not pattern:
            continue
        if pattern.startswith("."):
            if host == pattern[1:] or host.endswith(pattern):
                return True
        elif host == pattern:
            return True
    return False


def address_refusal(address: str, *, allow_loopback: bool) -> str | None:
    """Why `address` must not be contacted, or None when it is a public unicast address."""
    try:
        ip = ipaddress.ip_address(address.split("%", 1)[0])
    except ValueError:
        return f"{address} is not an IP address"
    if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped is not None:
        ip = ip.ipv4_mapped  # ::ffff:127.0.0.1 is 127.0.0.1
    if ip.is_loopback:
        return None if allow_loopback else f"{ip} is a loopback address"
    if ip.is_unspecified:
        return f"{ip} is the unspecified address"
    if ip.is_link_local:
        return f"{ip} is a link-local address"
    if ip.is_multicast:
        return f"{ip} is a multicast address"
    if ip.is_private:
        return f"{ip} is a private address"
    if ip.is_reserved:
        return f"{ip} is a reserved address"
    if not ip.is_global:
        return f"{ip} is not a public address"
    return None


def resolve_host(host: str, port: int) -> list[str]:
    """Every address the name resolves to (all are checked; one bad record refuses the host). Tests replace this
    (`media.policy.resolve_host`) to make a name resolve to the address they need."""
    infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    return list(dict.fromkeys(str(info[4][0]) for info in infos))


@dataclass(frozen=True)
class Target:
    """A URL that passed `check_url`: where to connect (only the checked addresses) and what to ask for."""

    url: str
    scheme: str
    host: str
    port: int
    path: str
    addresses: tuple[str, ...]

    @property
    def host_header(self) -> str:
        host = f"[{self.host}]" if ":" in self.host else self.host
        default = 443 if self.scheme == "https" else 80
        return host if self.port == default else f"{host}:{self.port}"


def check_url(url: str, policy: MediaPolicy) -> Target:
    """Refuse a URL the policy does not allow; otherwise the checked address to connect to."""
    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError as exc:
        raise MediaRejected(f"malformed URL: {exc}") from exc
    scheme = parts.scheme.lower()
    if scheme not in ("http", "https"):
        raise MediaRejected(f"the scheme {scheme or '(none)'!r} is not allowed")
    if policy.require_https and scheme != "https":
        raise MediaRejected("only https media URLs are allowed")
    if parts.username or parts.password:
        raise MediaRejected("credentials inside a media URL are refused")
    host = (parts.hostname or "").rstrip(".")
    if not host:
        raise MediaRejected("the URL names no host")
    try:
        host = host.encode("idna").decode("ascii").lower()
    except UnicodeError as exc:
        raise MediaRejected(f"the host {host!r} is not a valid name") from exc
    if not host_allowed(host, policy.allowed_hosts):
        raise MediaRejected(f"the host {host} is not in MEDIA_ALLOWED_HOSTS")
    port = port or (443 if scheme == "https" else 80)
    try:
        addresses = [str(ipaddress.ip_address(host))]
    except ValueError:
        try:
            addresses = resolve_host(host, port)
        except (socket.gaierror, UnicodeError) as exc:
            raise MediaTransientError(f"DNS lookup of {host} failed: {exc}") from exc
    if not addresses:
        raise MediaTransientError(f"DNS lookup of {host} returned no address")
    for address in addresses:
        why = address_refusal(address, allow_loopback=policy.allow_loopback)
        if why:
            raise MediaRejected(f"{host} resolves to a forbidden address: {why}")
    path = parts.path or "/"
    if parts.query:
        path += "?" + parts.query
    return Target(url=url, scheme=scheme, host=host, port=port, path=path, addresses=tuple(addresses))
