"""What every benchmark does first: Django on a database of its own."""

from __future__ import annotations

import os
from collections.abc import Sequence


def bench_django_setup(*, database: str, allow_database_url: bool, refusal: str) -> None:
    """Set Django up on the embedded server's ``database`` (created if needed), so a
    developer's data is never touched; with ``DATABASE_URL`` set, refuse unless allowed."""
    if os.environ.get("DATABASE_URL") and not allow_database_url:
        raise SystemExit(refusal)
    if not os.environ.get("DATABASE_URL"):
        from campus import embedded

        os.environ["DATABASE_URL"] = embedded.database_url(database)
        os.environ.setdefault("CAMPUS_DEV", "1")
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "campus.settings")
    import django

    django.setup()


def pct(values: Sequence[float], p: float) -> float:
    """Nearest-rank percentile (no interpolation: p95 of 200 values is the 190th)."""
    ordered = sorted(values)
    rank = max(1, min(len(ordered), int(-(-p * len(ordered) // 100))))
    return ordered[rank - 1]
