"""X-Hub-Signature-256: how Meta (WhatsApp Cloud, Messenger, Instagram) signs every webhook POST.

The header is `sha256=<lowercase hex HMAC-SHA256(app secret, raw body)>`. The HMAC is over the bytes exactly as they
arrived (`request.body`): re-serialized JSON, or text decoded and re-encoded, hashes differently — Meta escapes
non-ASCII as `\\uXXXX` in some deliveries and sends raw UTF-8 in others.
"""

from __future__ import annotations

import hashlib
import hmac

SCHEME = "sha256"


def compute_signature(secret: str, body: bytes) -> str:
    """The header value Meta sends for `body` signed with the app `secret`: `sha256=<lowercase hex>`."""
    return f"{SCHEME}=" + hmac.new(secret.encode("utf-8"), bytes(body), hashlib.sha256).hexdigest()


def signature_is_valid(secret: str, body: bytes, header: str | None) -> bool:
    """True only when `header` is `sha256=<hex>` and the digest matches `body` under `secret`.

    A missing or blank secret is never valid: an empty key would let anyone compute a matching signature.
    Only the `sha256=` scheme is accepted (the legacy `sha1=` X-Hub-Signature is not a downgrade we allow).
    """
    if not secret or not secret.strip() or not header or not header.strip():
        return False
    scheme, separator, digest = header.strip().partition("=")
    if not separator or scheme.strip().lower() != SCHEME:
        return False
    expected = compute_signature(secret, body).partition("=")[2]
    # Compare bytes, not str: compare_digest refuses non-ASCII str, and a forged header may contain anything.
    return hmac.compare_digest(expected.encode("ascii"), digest.strip().lower().encode("utf-8"))
