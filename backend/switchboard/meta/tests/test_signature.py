"""X-Hub-Signature-256: the exact bytes, constant-time comparison, only the sha256= scheme."""

from __future__ import annotations

import hashlib
import hmac
import json
from unittest import mock

from switchboard.meta import signature
from switchboard.meta.signature import compute_signature, signature_is_valid
from switchboard.webhooks.testing import meta_signature

SECRET = "app-secret-0123456789abcdef"
BODY = b'{"object":"page","entry":[{"id":"109876543210987","time":1732186800523,"messaging":[]}]}'


def test_compute_signature_is_sha256_prefixed_lowercase_hex_of_the_body():
    value = compute_signature(SECRET, BODY)
    assert value == meta_signature(BODY, SECRET)
    scheme, _, digest = value.partition("=")
    assert scheme == "sha256"
    assert len(digest) == 64
    assert digest == digest.lower()


def test_valid_signature_is_accepted():
    assert signature_is_valid(SECRET, BODY, meta_signature(BODY, SECRET)) is True


def test_signature_made_with_another_secret_is_rejected():
    assert signature_is_valid(SECRET, BODY, meta_signature(BODY, "another-secret")) is False


def test_signature_of_other_bytes_is_rejected():
    assert signature_is_valid(SECRET, BODY + b" ", meta_signature(BODY, SECRET)) is False


def test_missing_or_blank_header_is_rejected():
    assert signature_is_valid(SECRET, BODY, None) is False
    assert signature_is_valid(SECRET, BODY, "") is False
    assert signature_is_valid(SECRET, BODY, "   ") is False


def test_missing_or_blank_secret_is_rejected_even_with_a_matching_signature():
    # With an empty key anyone can compute the "right" signature: never accept it.
    assert signature_is_valid("", BODY, meta_signature(BODY, "")) is False
    assert signature_is_valid("  ", BODY, meta_signature(BODY, "  ")) is False


def test_only_the_sha256_scheme_is_accepted():
    sha1 = "sha1=" + hmac.new(SECRET.encode(), BODY, hashlib.sha1).hexdigest()
    assert signature_is_valid(SECRET, BODY, sha1) is False
    bare_digest = meta_signature(BODY, SECRET).partition("=")[2]
    assert signature_is_valid(SECRET, BODY, bare_digest) is False
    assert signature_is_valid(SECRET, BODY, "md5=" + bare_digest) is False


def test_uppercase_hex_is_accepted():
    scheme, _, digest = meta_signature(BODY, SECRET).partition("=")
    assert signature_is_valid(SECRET, BODY, f"{scheme}={digest.upper()}") is True


def test_non_ascii_body_is_hashed_as_the_exact_bytes_received():
    text = {"message": {"text": "Café ❤️ 🏠"}}
    utf8 = json.dumps(text, ensure_ascii=False).encode("utf-8")
    escaped = json.dumps(text).encode("ascii")  # the same JSON with \uXXXX escapes: other bytes
    assert utf8 != escaped
    assert signature_is_valid(SECRET, utf8, meta_signature(utf8, SECRET)) is True
    assert signature_is_valid(SECRET, escaped, meta_signature(escaped, SECRET)) is True
    # A signature is for the bytes, not for the decoded JSON: the re-encoded body does not match.
    assert signature_is_valid(SECRET, utf8, meta_signature(escaped, SECRET)) is False


def test_non_ascii_header_is_rejected_without_raising():
    assert signature_is_valid(SECRET, BODY, "sha256=é" + "0" * 63) is False


def test_comparison_is_constant_time():
    with mock.patch.object(signature.hmac, "compare_digest", wraps=hmac.compare_digest) as compare:
        assert signature_is_valid(SECRET, BODY, meta_signature(BODY, SECRET)) is True
    compare.assert_called_once()
