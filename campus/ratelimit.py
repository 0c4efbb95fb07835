"""Per-user rate limits on expensive endpoints (AI answers, posts), in the shared cache.

Fixed windows: simple, cheap (one ``add`` and one ``incr`` per window) and good enough to stop
a runaway script or a stuck key; login has its own limits in allauth.
"""

from __future__ import annotations

import time
from collections.abc import Sequence

from django.core.cache import cache


def rate_limited(scope: str, who: object, limits: Sequence[tuple[int, int]]) -> int:
    """Count one hit for ``who`` in ``scope``; returns 0 if allowed, else the number of
    seconds to wait. ``limits`` are ``(window_seconds, max_hits)`` pairs."""
    now = int(time.time())
    wait = 0
    for window, max_hits in limits:
        start = now - now % window
        key = f"ratelimit:{scope}:{who}:{window}:{start}"
        cache.add(key, 0, timeout=window + 5)
        try:
            count = cache.incr(key)
        except ValueError:  # expired between add and incr
            cache.set(key, 1, timeout=window + 5)
            count = 1
        if count > max_hits:
            wait = max(wait, start + window - now)
    return wait
