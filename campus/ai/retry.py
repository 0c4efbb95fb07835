"""Celery retries for tasks that call the AI gateway.

The SDK retries once within a request; outages longer than that are Celery's business. A task
declared with :func:`ai_task` is retried on :class:`campus.ai.AIUnavailable` with exponential
backoff and full jitter: random delays up to 15, 30, 60, 120 and 240 seconds, then it fails.
The 15-second base matters: the gateway remembers an outage for ``OUTAGE_SECONDS`` (30 s)
and fails fast meanwhile, so retries every second or two would all be spent inside that
window. Other gateway errors (budget, invalid output, local backend) are not retried: they
would fail the same way.

Tasks stay thin and take ids (see STYLE.md), e.g.::

    @ai_task()
    def synthesis_generate(campaign_id: int) -> None:
        services.campaign_synthesise(campaign_id=campaign_id)
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from celery import shared_task

from campus.ai import AIUnavailable

AI_RETRY_OPTIONS: dict[str, Any] = {
    "autoretry_for": (AIUnavailable,),
    "retry_backoff": 15,
    "retry_backoff_max": 600,
    "retry_jitter": True,
    "max_retries": 5,
}


def ai_task(*, name: str | None = None, queue: str = "ai", **options: Any) -> Callable:
    """Declare a Celery task on the ``ai`` queue that retries while the endpoint is down."""

    def decorator(fn: Callable[..., Any]) -> Any:
        return shared_task(
            **{
                "name": name or f"{fn.__module__}.{fn.__name__}",
                "queue": queue,
                "acks_late": True,
                **AI_RETRY_OPTIONS,
                **options,
            }
        )(fn)

    return decorator
