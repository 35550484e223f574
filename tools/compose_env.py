"""Write a .env for docker compose's local profile (plain HTTP on http://localhost:8080) with fresh secrets.

Used by `make compose-env`; never overwrites an existing file. Standard library only: it runs before any install.
"""

from __future__ import annotations

import base64
import os
import secrets
import sys
from pathlib import Path

TEMPLATE = """\
# Written by `make compose-env` for docker compose's local profile (docs/operations.md). Not for production:
# production uses COMPOSE_PROFILES=tls, its own host names and certificates (see .env.example).
COMPOSE_PROFILES=local
SECRET_KEY={secret_key}
FIELD_ENCRYPTION_KEY={field_key}
POSTGRES_PASSWORD={postgres_password}
ALLOWED_HOSTS=localhost,127.0.0.1
CSRF_TRUSTED_ORIGINS=http://localhost:8080,http://127.0.0.1:8080
# Plain HTTP: no redirect to https, cookies without the Secure flag, no HSTS.
SECURE_SSL_REDIRECT=false
SESSION_COOKIE_SECURE=false
CSRF_COOKIE_SECURE=false
SECURE_HSTS_SECONDS=0
"""


def render() -> str:
    return TEMPLATE.format(
        # token_urlsafe never contains "$", which compose would read as a variable.
        secret_key=secrets.token_urlsafe(64),
        # A Fernet key is 32 random bytes, URL-safe base64.
        field_key=base64.urlsafe_b64encode(os.urandom(32)).decode(),
        postgres_password=secrets.token_hex(24),
    )


def main(path: str) -> int:
    target = Path(path)
    if target.exists():
        print(f"{target} exists: left as it is")
        return 0
    target.write_text(render(), encoding="utf-8")
    print(f"wrote {target} (local profile: http://localhost:8080)")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1] if len(sys.argv) > 1 else ".env"))
