"""Downloading media: one GET under a `MediaPolicy`, into a spooled temporary file.

What the policy (policy.py) allows is fetched here, and only that:

* the socket connects to the address `check_url` checked (TLS still verifies the certificate for the host name),
  so DNS rebinding cannot swap it; a name's addresses are tried in turn;
* redirects are followed by hand, at most `MediaPolicy.max_redirects`, and every hop is checked again the same way.
  Credentials (`Authorization`) are dropped when a redirect leaves the host they were meant for;
* `MEDIA_MAX_BYTES` is enforced on `Content-Length` and again on the bytes actually streamed (to a spooled temp
  file — never the whole body in memory); compressed transfer encodings are refused; a download slower than the
  policy's deadline gives up;
* HTTP answers become the media errors (errors.py): 404/410 `MediaNotFound`, 408/425/429/5xx transient (with
  `Retry-After`), 401/403 and the rest `MediaFailed`.

The result is a `Fetched` — the body and what the transfer said about it; what the bytes *are* is decided later
(inspection.py), never from the server's Content-Type.
"""

from __future__ import annotations

import hashlib
import tempfile
import time
from dataclasses import dataclass
from typing import IO, Any
from urllib.parse import urljoin, urlsplit

import certifi
import urllib3
from django.conf import settings

from switchboard.common.http import retry_after_seconds
from switchboard.inbox.media.errors import (
    MediaError,
    MediaFailed,
    MediaNotFound,
    MediaRejected,
    MediaTransientError,
)
from switchboard.inbox.media.policy import MediaPolicy, Target, check_url

_REDIRECT_STATUSES = {301, 302, 303, 307, 308}
_TRANSIENT_STATUSES = {408, 425, 429, 500, 502, 503, 504}
_SPOOL_IN_MEMORY = 1024 * 1024
_CHUNK = 64 * 1024


@dataclass
class Fetched:
    """A downloaded body in a spooled temporary file (rewound), with what the transfer told us."""

    file: IO[bytes]
    size: int
    sha256: str
    content_type: str = ""
    url: str = ""

    def close(self) -> None:
        self.file.close()

    def __enter__(self) -> Fetched:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    @classmethod
    def from_bytes(cls, data: bytes, *, content_type: str = "", max_bytes: int | None = None) -> Fetched:
        limit = settings.MEDIA_MAX_BYTES if max_bytes is None else max_bytes
        if len(data) > limit:
            raise MediaRejected(f"the media is {len(data)} bytes; the limit is {limit}")
        spool = tempfile.SpooledTemporaryFile(max_size=_SPOOL_IN_MEMORY)  # noqa: SIM115 - owned by Fetched
        spool.write(data)
        spool.seek(0)
        return cls(spool, len(data), hashlib.sha256(data).hexdigest(), content_type)


def media_fetch(url: str, *, headers: dict[str, str] | None = None, policy: MediaPolicy | None = None) -> Fetched:
    """GET `url` under the policy (allow list, address checks on every hop, size limit). Raises MediaRejected,
    MediaNotFound, MediaFailed or MediaTransientError."""
    policy = policy or MediaPolicy.from_settings()
    headers = {"Accept-Encoding": "identity", "User-Agent": "Switchboard-media/1.0", **(headers or {})}
    deadline = time.monotonic() + policy.deadline_seconds
    current = url
    for _hop in range(policy.max_redirects + 1):
        target = check_url(current, policy)
        pool, response = _open(target, headers, policy)
        try:
            status = response.status
            if status in _REDIRECT_STATUSES:
                location = response.headers.get("Location")
                if not location:
                    raise MediaFailed(f"HTTP {status} redirect without a Location", status=status)
                following = urljoin(current, location.strip())
                if (urlsplit(following).hostname or "").lower().rstrip(".") != target.host:
                    # Like browsers and requests: credentials never follow a redirect to another host.
                    headers = {k: v for k, v in headers.items() if k.lower() != "authorization"}
                current = following
                continue
            if status == 200:
                return _read_body(response, target, policy, deadline)
            raise _status_error(status, response.headers.get("Retry-After"))
        finally:
            response.close()  # never drain: an endless body would be read to its end
            pool.close()
    raise MediaRejected(f"more than {policy.max_redirects} redirects")


def _status_error(status: int, retry_after: str | None) -> MediaError:
    if status in (404, 410):
        return MediaNotFound(f"the media server answered HTTP {status}", status=status)
    if status in _TRANSIENT_STATUSES or status >= 500:
        return MediaTransientError(
            f"the media server answered HTTP {status}", status=status, retry_after=retry_after_seconds(retry_after)
        )
    if status in (401, 403):
        return MediaFailed(f"the media server refused our credentials (HTTP {status})", status=status)
    return MediaFailed(f"the media server answered HTTP {status}", status=status)


def _dial_address(address: str) -> str:
    """The address the socket connects to: the one that was checked. (Tests replace this,
    `media.fetch._dial_address`, to reach their server from a name that resolved to a public address.)"""
    return address


def _open(
    target: Target, headers: dict[str, str], policy: MediaPolicy
) -> tuple[urllib3.HTTPConnectionPool, urllib3.BaseHTTPResponse]:
    """Connect to the first checked address that answers (a name may resolve to ::1 and 127.0.0.1)."""
    timeout = urllib3.Timeout(connect=policy.connect_timeout, read=policy.read_timeout)
    failure: Exception | None = None
    for checked in target.addresses:
        address = _dial_address(checked)
        pool: urllib3.HTTPConnectionPool
        if target.scheme == "https":
            # Connect to the checked address while TLS still verifies the certificate for the host name.
            pool = urllib3.HTTPSConnectionPool(
                address,
                target.port,
                timeout=timeout,
                retries=False,
                maxsize=1,
                cert_reqs="CERT_REQUIRED",
                ca_certs=certifi.where(),
                server_hostname=target.host,
                assert_hostname=target.host,
            )
        else:
            pool = urllib3.HTTPConnectionPool(address, target.port, timeout=timeout, retries=False, maxsize=1)
        try:
            response = pool.urlopen(
                "GET",
                target.path,
                headers={**headers, "Host": target.host_header},
                redirect=False,
                retries=False,
                preload_content=False,
                decode_content=False,
                assert_same_host=False,
            )
        except urllib3.exceptions.SSLError as exc:
            pool.close()
            raise MediaFailed(f"TLS verification of {target.host} failed: {exc}") from exc
        except (urllib3.exceptions.NewConnectionError, urllib3.exceptions.ConnectTimeoutError) as exc:
            pool.close()
            failure = exc
            continue  # try the host's next address
        except (urllib3.exceptions.HTTPError, OSError) as exc:
            pool.close()
            raise MediaTransientError(f"the request to {target.host} failed: {exc}") from exc
        return pool, response
    raise MediaTransientError(f"connecting to {target.host} failed: {failure}")


def _read_body(response: Any, target: Target, policy: MediaPolicy, deadline: float) -> Fetched:
    encoding = (response.headers.get("Content-Encoding") or "identity").strip().lower()
    if encoding not in ("", "identity"):
        # We asked for identity; a compressed body could expand past every limit (a decompression bomb).
        raise MediaRejected(f"compressed responses ({encoding}) are refused")
    declared = response.headers.get("Content-Length")
    if declared is not None:
        try:
            declared_size = int(declared)
        except ValueError:
            raise MediaFailed(f"invalid Content-Length {declared!r}") from None
        if declared_size > policy.max_bytes:
            raise MediaRejected(
                f"the server declares {declared_size} bytes; the limit is {policy.max_bytes} (MEDIA_MAX_BYTES)"
            )
    spool = tempfile.SpooledTemporaryFile(max_size=_SPOOL_IN_MEMORY)  # noqa: SIM115 - handed to Fetched
    digest = hashlib.sha256()
    size = 0
    try:
        for chunk in response.stream(_CHUNK, decode_content=False):
            size += len(chunk)
            if size > policy.max_bytes:
                raise MediaRejected(f"the body exceeds the limit of {policy.max_bytes} bytes (MEDIA_MAX_BYTES)")
            if time.monotonic() > deadline:
                raise MediaTransientError(f"the download took longer than {policy.deadline_seconds:.0f} s")
            digest.update(chunk)
            spool.write(chunk)
    except MediaError:
        spool.close()
        raise
    except (urllib3.exceptions.HTTPError, OSError) as exc:
        spool.close()
        raise MediaTransientError(f"the download from {target.host} broke off: {exc}") from exc
    if size == 0:
        spool.close()
        raise MediaFailed("the media server sent an empty body")
    spool.seek(0)
    content_type = (response.headers.get("Content-Type") or "").split(";", 1)[0].strip().lower()
    return Fetched(spool, size, digest.hexdigest(), content_type, target.url)
