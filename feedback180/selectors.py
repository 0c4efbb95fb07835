"""Reads of the 180° feedback, always scoped to the user."""

from __future__ import annotations

from typing import Any

from django.db.models import Count, Q, QuerySet
from django.http import Http404

from campus.models import Organisation, User
from feedback180.models import Campaign, CampaignKind, CampaignStatus, Invitation

BAR_X = 170
BAR_WIDTH = 380


def campaigns_of(user: User) -> QuerySet[Campaign]:
    """A manager's own campaigns. Nobody else (not even HR) reads a campaign: the 180° is
    developmental, its results are the manager's."""
    return Campaign.objects.filter(manager=user).order_by("-created_at")


def main_campaigns_of(user: User) -> QuerySet[Campaign]:
    return campaigns_of(user).filter(kind=CampaignKind.MAIN)


def get_campaign_for_user(user: User, pk: object) -> Campaign:
    try:
        return campaigns_of(user).select_related("organisation", "manager").get(pk=pk)
    except (Campaign.DoesNotExist, ValueError, TypeError):
        raise Http404 from None


def current_campaign(user: User) -> Campaign | None:
    return campaigns_of(user).filter(status__in=[CampaignStatus.DRAFT, CampaignStatus.OPEN]).first()


def response_count(campaign: Campaign) -> tuple[int, int]:
    """(answered, invited): counted on invitations, a count only."""
    row = campaign.invitations.aggregate(
        invited=Count("pk"), answered=Count("pk", filter=Q(responded=True))
    )
    return row["answered"], row["invited"]


def debrief_context(campaign: Campaign) -> dict[str, Any]:
    """Labels resolved for the templates; empty unless the results were released."""
    from mallette.models import Practice

    if not campaign.released:
        return {"released": False, "strengths": [], "improvements": []}
    results = campaign.results
    by_code = {c["code"]: c for c in results.get("competencies", [])}
    questions = {q["id"]: q["text"] for q in campaign.open_questions}
    practice_ids = results.get("practices", [])
    practices = {p.pk: p for p in Practice.objects.filter(pk__in=practice_ids)}
    themes = [
        {**theme, "question_text": questions.get(theme["question"], "")}
        for theme in results.get("themes", [])
    ]
    competencies = results.get("competencies", [])
    for n, comp in enumerate(competencies):
        # Geometry of the bar chart (SVG attributes, no inline style: strict CSP).
        comp["y"] = 10 + n * 44
        comp["team_w"] = round((comp["team"] or 0) / 5 * BAR_WIDTH, 1)
        comp["self_w"] = round((comp["self"] or 0) / 5 * BAR_WIDTH, 1)
    return {
        "released": True,
        "competencies": competencies,
        "items": results.get("items", []),
        "strengths": [by_code[c] for c in results.get("strengths", []) if c in by_code],
        "improvements": [by_code[c] for c in results.get("improvements", []) if c in by_code],
        "hidden_strengths": [
            by_code[c] for c in results.get("hidden_strengths", []) if c in by_code
        ],
        "blind_spots": [by_code[c] for c in results.get("blind_spots", []) if c in by_code],
        "themes": themes,
        "practices": [practices[pk] for pk in practice_ids if pk in practices],
        "has_self": any(c["self"] is not None for c in competencies),
        "chart_height": 20 + 44 * len(competencies),
        "bar_x": BAR_X,
        "bar_width": BAR_WIDTH,
    }


#: The HR aggregates scan every invitation (150,000 at scale): computed at most this often.
PARTICIPATION_CACHE_SECONDS = 300


def participation_by_organism(organisation: Organisation) -> list[dict[str, Any]]:
    """HR view: campaigns and response rates by organism, aggregates only. An organism with
    fewer than three campaigns is masked (its figures would describe one or two managers)."""
    from django.core.cache import cache

    key = f"feedback180:participation:{organisation.pk}"
    cached = cache.get(key)
    if cached is None:
        cached = _participation_by_organism(organisation)
        cache.set(key, cached, PARTICIPATION_CACHE_SECONDS)
    return cached


def _participation_by_organism(organisation: Organisation) -> list[dict[str, Any]]:
    rows = (
        Invitation.objects.filter(
            campaign__organisation=organisation,
            campaign__kind=CampaignKind.MAIN,
            campaign__status__in=[CampaignStatus.OPEN, CampaignStatus.CLOSED],
        )
        .values("campaign__organism_id", "campaign__organism__name")
        .annotate(
            campaigns=Count("campaign", distinct=True),
            open=Count("campaign", distinct=True, filter=Q(campaign__status=CampaignStatus.OPEN)),
            processing=Count(
                "campaign",
                distinct=True,
                filter=Q(
                    campaign__status=CampaignStatus.CLOSED, campaign__processed_at__isnull=True
                ),
            ),
            invited=Count("pk"),
            answered=Count("pk", filter=Q(responded=True)),
        )
        .order_by("campaign__organism__name")
    )
    out = []
    for row in rows:
        masked = row["campaigns"] < 3
        out.append(
            {
                "organism": row["campaign__organism__name"] or "—",
                "campaigns": row["campaigns"],
                "open": row["open"],
                "processing": row["processing"],
                "invited": None if masked else row["invited"],
                "answered": None if masked else row["answered"],
                "rate": None
                if masked or not row["invited"]
                else round(100 * row["answered"] / row["invited"]),
                "masked": masked,
            }
        )
    return out


def recheck_context(campaign: Campaign) -> dict[str, Any]:
    """The day-60 re-check shown next to the debrief: planned, running (a count) or done."""
    from feedback180.services import RECHECK_AFTER

    recheck = campaign.rechecks.first()
    planned = (campaign.processed_at + RECHECK_AFTER).date() if campaign.processed_at else None
    if recheck is None:
        return {"recheck": None, "recheck_planned": planned}
    context: dict[str, Any] = {"recheck": recheck, "recheck_planned": planned}
    if recheck.is_open:
        context["recheck_answered"], context["recheck_invited"] = response_count(recheck)
    elif recheck.released:
        context["recheck_items"] = recheck.results.get("items", [])
    return context
