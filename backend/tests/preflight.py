"""Before the suite: under CI=true, PostgreSQL and Redis must answer — the run fails loudly instead of skipping."""

from __future__ import annotations

import os
import sys


def check() -> list[str]:
    problems = []
    database_url = os.environ.get("DATABASE_URL", "")
    redis_url = os.environ.get("REDIS_URL", "")
    if os.environ.get("CI") == "true":
        if not database_url.startswith(("postgres://", "postgresql://")):
            problems.append("CI=true needs DATABASE_URL pointing at PostgreSQL")
        if not redis_url.startswith("redis://"):
            problems.append("CI=true needs REDIS_URL pointing at Redis")
    if database_url.startswith(("postgres://", "postgresql://")):
        import psycopg

        try:
            with psycopg.connect(database_url, connect_timeout=5) as conn:
                conn.execute("SELECT 1")
        except Exception as exc:
            problems.append(f"PostgreSQL at {database_url} is unreachable: {exc}")
    if redis_url:
        import redis

        try:
            redis.Redis.from_url(redis_url, socket_connect_timeout=5).ping()
        except Exception as exc:
            problems.append(f"Redis at {redis_url} is unreachable: {exc}")
    return problems


if __name__ == "__main__":
    found = check()
    for problem in found:
        print(f"preflight: {problem}", file=sys.stderr)
    if found:
        sys.exit(1)
    target = "PostgreSQL + Redis" if os.environ.get("DATABASE_URL") else "SQLite + in-memory layers"
    print(f"preflight: suite runs against {target}")
