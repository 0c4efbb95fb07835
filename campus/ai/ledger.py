"""The AI usage ledger: one row per call to the endpoint, and the monthly cap.

Costs are estimates from ``CAMPUS_LLM_PRICE_INPUT_EUR`` / ``CAMPUS_LLM_PRICE_OUTPUT_EUR``
(euros per million tokens). The cap is checked before each generation call, so concurrent
calls may overshoot it by a few calls' worth: it is a budget guard, not an accounting lock.
Months are calendar months in ``TIME_ZONE`` (Europe/Paris).

The ledger holds counts, never text. For 180° feedback, pass ``user=None``: a row tied to a
person at a precise time would be a side channel on who wrote what.
"""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal

from django.conf import settings
from django.db.models import Sum
from django.utils import timezone

from campus.models import AIUsage, Organisation, User

_MILLION = Decimal(1_000_000)
_COST_QUANTUM = Decimal("0.000001")


def estimate_cost(*, prompt_tokens: int, completion_tokens: int) -> Decimal:
    """Estimated cost in euros of one call, from the configured prices."""
    price_in = Decimal(str(settings.CAMPUS_LLM_PRICE_INPUT_EUR))
    price_out = Decimal(str(settings.CAMPUS_LLM_PRICE_OUTPUT_EUR))
    cost = (prompt_tokens * price_in + completion_tokens * price_out) / _MILLION
    return cost.quantize(_COST_QUANTUM)


def usage_record(
    *,
    user: User | None,
    organisation: Organisation,
    feature: str,
    model: str,
    prompt_tokens: int,
    completion_tokens: int,
    backend: str,
) -> AIUsage:
    """Write one ledger row for a call that reached the endpoint."""
    return AIUsage.objects.create(
        organisation=organisation,
        user=user,
        feature=feature[:60],
        backend=backend,
        model=model[:200],
        prompt_tokens=max(0, prompt_tokens),
        completion_tokens=max(0, completion_tokens),
        cost_eur=estimate_cost(prompt_tokens=prompt_tokens, completion_tokens=completion_tokens),
    )


def month_start(now: datetime | None = None) -> datetime:
    local = timezone.localtime(now)
    return local.replace(day=1, hour=0, minute=0, second=0, microsecond=0)


def month_spend(organisation: Organisation) -> Decimal:
    """Estimated spend of the organisation since the start of the current month, in euros."""
    total = AIUsage.objects.filter(
        organisation=organisation, created_at__gte=month_start()
    ).aggregate(total=Sum("cost_eur"))["total"]
    return total or Decimal(0)


def over_cap(organisation: Organisation) -> bool:
    """True once this month's spend reached the organisation's budget (a budget of 0 means
    no calls at all)."""
    return month_spend(organisation) >= organisation.ai_monthly_budget_eur
