"""Which addresses the assistant's providers may call: the defence against server-side request forgery through
`base_url`.

An agency owner sets `base_url` and the server calls it (the credentials test, every reply, every suggestion). In a
multi-tenant deployment that must not let a tenant make the server call loopback, the private network or the cloud
metadata service (169.254.169.254), while a self-hosted setup must still reach its local Ollama or vLLM. The operator
decides with two settings (config/settings.py; `engine.address_guard()` reads them):

* `AI_ALLOWED_HOSTS` (`allowed_hosts`): when set, only those hosts are called. An entry is an exact host name or
  address (`api.openai.com`, `127.0.0.1`: any port) or a host and port (`ollama:11434`, `[::1]:11434`); no
  wildcards, and a blank `base_url` means the provider's public host, which must be listed too.
* `AI_ALLOW_PRIVATE_BASE_URL` (`allow_private`): when false, every address the host resolves to must be a public
  unicast address — the media fetcher's own check (`inbox.media.policy.address_refusal`): loopback, private,
  link-local, multicast, reserved and unspecified addresses are refused, IPv4-mapped IPv6 included; one bad record
  refuses the host.

A guard checks an address when an owner saves it (settings_services: a 400 on `base_url`), when a provider is built
for a call (`engine.provider_of`: before any request), and on every connection the provider opens (`session()`):
the socket connects only to an address checked a moment before, resolved by the guard itself, so a DNS answer that
changed since saving — or between the check and the connection (rebinding) — cannot send the request elsewhere; TLS
still verifies the certificate for the host name. The providers never follow redirects (providers/base.py), so a
public address cannot bounce a request inwards either. (Through an HTTP proxy from the environment, the proxy makes
the connection: only the check before the call applies.)

A refusal is a ProviderBadRequest with the code `invalid_address` and a sentence for the owner; a name that does not
resolve is ProviderUnreachable (`unreachable`), as when the request itself finds no server.
"""

from __future__ import annotations

import ipaddress
import socket
import sys
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

import requests
from requests.adapters import HTTPAdapter
from urllib3.connection import HTTPConnection, HTTPSConnection
from urllib3.connectionpool import HTTPConnectionPool, HTTPSConnectionPool
from urllib3.exceptions import ConnectTimeoutError, NewConnectionError
from urllib3.util import connection as urllib3_connection

from switchboard.assistant.providers.base import ProviderBadRequest, ProviderUnreachable, sentence
from switchboard.inbox.media import policy as media_policy

DEFAULT_PORTS = {"http": 80, "https": 443}


def resolve(host: str, port: int) -> list[str]:
    """Every address `host` resolves to. Tests replace this (`guard.resolve`) to make a name resolve as they need."""
    return media_policy.resolve_host(host, port)


def dial_address(address: str) -> str:
    """The address the socket connects to: the one that was checked. (Tests replace this, `guard.dial_address`, to
    reach their server on 127.0.0.1 from a name that resolved to a public address.)"""
    return address


def _normal_host(host: str) -> str:
    host = host.strip().lower().rstrip(".")
    if host.startswith("[") and host.endswith("]"):
        host = host[1:-1]
    return host


def parse_allowed_host(entry: str) -> tuple[str, int | None]:
    """`api.openai.com` → (host, None: any port); `ollama:11434`, `[::1]:11434` → (host, port); a bare IPv6
    address (`::1`) is a host."""
    entry = entry.strip()
    if entry.startswith("["):
        host, _, rest = entry[1:].partition("]")
        port = rest[1:] if rest.startswith(":") else ""
    elif entry.count(":") == 1:
        host, _, port = entry.partition(":")
    else:
        host, port = entry, ""
    return _normal_host(host), (int(port) if port.isdigit() else None)


@dataclass(frozen=True)
class AddressGuard:
    """What the operator allows the providers to call (the module docstring). `None` stands for "no limits" where a
    guard is optional (`engine.address_guard()`), so an unguarded setup keeps plain requests."""

    allow_private: bool = False
    allowed_hosts: tuple[tuple[str, int | None], ...] = ()

    @classmethod
    def of(cls, *, allow_private: bool, allowed_hosts: Iterable[str]) -> AddressGuard | None:
        hosts = tuple(parse_allowed_host(entry) for entry in allowed_hosts if entry.strip())
        if allow_private and not hosts:
            return None
        return cls(allow_private=allow_private, allowed_hosts=hosts)

    # --- the checks -----------------------------------------------------------------------------------------------
    def check_url(self, url: str, secrets: Iterable[str] = ()) -> list[str]:
        """The addresses `url`'s host may be reached at (resolved now); raises the refusal."""
        try:
            parts = urlsplit(url)
            port = parts.port
        except ValueError as exc:
            raise _invalid("invalid_address", f"{exc}", secrets) from exc
        scheme = parts.scheme.lower()
        if scheme not in DEFAULT_PORTS or not parts.hostname:
            raise _invalid("invalid_address", f"not an http(s) address with a host: {url}", secrets)
        return self.addresses(parts.hostname, port or DEFAULT_PORTS[scheme], secrets)

    def addresses(self, host: str, port: int, secrets: Iterable[str] = ()) -> list[str]:
        """The addresses `host:port` may be reached at: the allow list, then every address the host resolves to."""
        host = _normal_host(host)
        if self.allowed_hosts and not self.host_allowed(host, port):
            raise _invalid("host_not_allowed", f"{host}:{port} is not in AI_ALLOWED_HOSTS", secrets, host=host)
        try:
            found = [str(ipaddress.ip_address(host))]
        except ValueError:
            try:
                found = resolve(host, port)
            except (OSError, UnicodeError) as exc:  # socket.gaierror is an OSError
                raise ProviderUnreachable(
                    sentence("unreachable"), detail=f"DNS lookup of {host} failed: {exc}", secrets=secrets
                ) from exc
        if not found:
            raise ProviderUnreachable(sentence("unreachable"), detail=f"DNS lookup of {host}: no address")
        if not self.allow_private:
            for address in found:
                why = media_policy.address_refusal(address, allow_loopback=False)
                if why:
                    raise _invalid("private_address", f"{host}: {why}", secrets)
        return found

    def host_allowed(self, host: str, port: int) -> bool:
        host = _normal_host(host)
        return any(host == allowed and allowed_port in (None, port) for allowed, allowed_port in self.allowed_hosts)

    # --- the connections ------------------------------------------------------------------------------------------
    def session(self) -> requests.Session:
        """A requests session whose every connection is checked by this guard and made to the checked address."""
        session = requests.Session()
        adapter = _GuardedAdapter(self)
        session.mount("http://", adapter)
        session.mount("https://", adapter)
        return session


def _invalid(key: str, detail: str, secrets: Iterable[str], **values: str) -> ProviderBadRequest:
    return ProviderBadRequest(sentence(key, **values), code="invalid_address", detail=detail, secrets=secrets)


# --- urllib3 underneath: connect only to checked addresses ------------------------------------------------------------
def _connect_checked(connection: Any, guard: AddressGuard) -> socket.socket:
    """urllib3's `HTTPConnection._new_conn`, connecting to the guard's checked addresses in turn instead of resolving
    the host itself (the host name stays the connection's `host`: TLS verifies it and the Host header names it)."""
    addresses = guard.addresses(connection.host, connection.port)
    failure: OSError | None = None
    for address in addresses:
        try:
            sock = urllib3_connection.create_connection(
                (dial_address(address), connection.port),
                connection.timeout,
                source_address=connection.source_address,
                socket_options=connection.socket_options,
            )
        except TimeoutError as exc:  # socket.timeout
            raise ConnectTimeoutError(
                connection, f"Connection to {connection.host} timed out. (connect timeout={connection.timeout})"
            ) from exc
        except OSError as exc:
            failure = exc
            continue  # the host's next address
        sys.audit("http.client.connect", connection, connection.host, connection.port)
        return sock
    raise NewConnectionError(connection, f"Failed to establish a new connection: {failure}")


class _GuardedAdapter(HTTPAdapter):
    def __init__(self, guard: AddressGuard) -> None:
        self._guard = guard  # before super().__init__(), which builds the pool manager
        super().__init__()

    def init_poolmanager(self, connections: int, maxsize: int, block: bool = False, **pool_kwargs: Any) -> None:
        super().init_poolmanager(connections, maxsize, block, **pool_kwargs)
        guard = self._guard

        class GuardedHTTPConnection(HTTPConnection):
            def _new_conn(self) -> socket.socket:
                return _connect_checked(self, guard)

        class GuardedHTTPSConnection(HTTPSConnection):
            def _new_conn(self) -> socket.socket:
                return _connect_checked(self, guard)

        class GuardedHTTPConnectionPool(HTTPConnectionPool):
            ConnectionCls = GuardedHTTPConnection

        class GuardedHTTPSConnectionPool(HTTPSConnectionPool):
            ConnectionCls = GuardedHTTPSConnection

        self.poolmanager.pool_classes_by_scheme = {
            "http": GuardedHTTPConnectionPool,
            "https": GuardedHTTPSConnectionPool,
        }
