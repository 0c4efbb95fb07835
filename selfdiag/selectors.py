"""Reads of the self-diagnosis, always scoped to the user."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from django.core.cache import cache
from django.db.models import Aggregate, Count, F, FloatField, Prefetch, QuerySet
from django.db.models.fields.json import KeyTextTransform
from django.db.models.functions import Cast
from django.http import Http404
from django.utils import timezone

from campus.models import Organisation, User
from mallette.models import Theme
from selfdiag.models import (
    OPEN_STATUSES,
    Action,
    Competency,
    Diagnosis,
    DiagnosisStatus,
    Item,
    OpenQuestion,
    Questionnaire,
    QuestionnaireStatus,
)
from selfdiag.scoring import CompetencySpec, ItemSpec

#: A peer group is shown only from this many diagnoses (and never below the organisation's
#: analytics threshold).
PEER_MIN_DIAGNOSES = 10
#: Peer medians are recomputed at most this often.
PEER_CACHE_SECONDS = 600
#: A new diagnosis is suggested this long after the last one.
RENEWAL_AFTER = timedelta(days=182)


# --- Questionnaires ---------------------------------------------------------------------------


def questionnaire_current(organisation: Organisation | None) -> Questionnaire:
    """The questionnaire a new diagnosis uses: the organisation's latest published version,
    else the default one's. Transactional tests and an over-zealous admin may leave no
    questionnaire at all: the default is then loaded again (idempotent)."""
    published = Questionnaire.objects.filter(status=QuestionnaireStatus.PUBLISHED)
    if organisation is not None:
        own = published.filter(organisation=organisation).order_by("-version").first()
        if own is not None:
            return own
    default = published.filter(organisation__isnull=True).order_by("-version").first()
    if default is not None:
        return default
    from selfdiag.services import questionnaire_default_ensure

    return questionnaire_default_ensure()


@dataclass
class Structure:
    questionnaire: Questionnaire
    competencies: list[Competency]
    open_questions: list[OpenQuestion]

    @property
    def step_count(self) -> int:
        """One step per competency, then one for the open questions."""
        return len(self.competencies) + (1 if self.open_questions else 0)

    def specs(self) -> list[CompetencySpec]:
        return [
            CompetencySpec(
                code=c.code,
                label=c.label,
                short_label=c.short_label,
                description=c.description,
                position=c.position,
                themes=[t.slug for t in c.themes.all()],
                items=[ItemSpec(id=i.pk, reverse_scored=i.reverse_scored) for i in c.items.all()],
            )
            for c in self.competencies
        ]


def questionnaire_structure(questionnaire: Questionnaire) -> Structure:
    """Competencies with their items and themes, and the open questions: four queries."""
    competencies = list(
        questionnaire.competencies.order_by("position", "pk").prefetch_related(
            Prefetch("items", queryset=Item.objects.order_by("position", "pk")),
            Prefetch("themes", queryset=Theme.objects.order_by("position")),
        )
    )
    open_questions = list(questionnaire.open_questions.order_by("position", "pk"))
    return Structure(questionnaire, competencies, open_questions)


# --- Diagnoses --------------------------------------------------------------------------------


def diagnoses_of(user: User) -> QuerySet[Diagnosis]:
    return Diagnosis.objects.filter(user=user)


def draft_of(user: User) -> Diagnosis | None:
    return diagnoses_of(user).filter(status=DiagnosisStatus.DRAFT).first()


def get_draft_for_user(user: User, pk: object) -> Diagnosis:
    try:
        return (
            diagnoses_of(user)
            .select_related("questionnaire")
            .get(pk=pk, status=DiagnosisStatus.DRAFT)
        )
    except (Diagnosis.DoesNotExist, ValueError, TypeError):
        raise Http404 from None


def get_diagnosis_for_user(user: User, pk: object) -> Diagnosis:
    """A submitted diagnosis is visible to its manager only (never to HR, never to the n+1)."""
    try:
        return (
            diagnoses_of(user)
            .select_related("organisation", "organism")
            .get(pk=pk, status=DiagnosisStatus.SUBMITTED)
        )
    except (Diagnosis.DoesNotExist, ValueError, TypeError):
        raise Http404 from None


def submitted_of(user: User) -> QuerySet[Diagnosis]:
    return diagnoses_of(user).filter(status=DiagnosisStatus.SUBMITTED).order_by("-submitted_at")


def previous_diagnosis(diagnosis: Diagnosis) -> Diagnosis | None:
    return (
        submitted_of(diagnosis.user)
        .filter(submitted_at__lt=diagnosis.submitted_at)
        .only("pk", "submitted_at", "scores", "overall")
        .first()
    )


def renewal_due(last: Diagnosis | None) -> bool:
    return (
        last is not None
        and last.submitted_at is not None
        and (timezone.now() - last.submitted_at >= RENEWAL_AFTER)
    )


# --- Peers ------------------------------------------------------------------------------------


class Median(Aggregate):
    function = "percentile_cont"
    template = "%(function)s(0.5) WITHIN GROUP (ORDER BY %(expressions)s)"
    output_field = FloatField()


@dataclass
class PeerGroup:
    kind: str  # "level" or "organism"
    size: int
    minimum: int
    medians: dict[str, float]

    @property
    def shown(self) -> bool:
        return self.size >= self.minimum


def peer_minimum(organisation: Organisation) -> int:
    return max(PEER_MIN_DIAGNOSES, organisation.analytics_min_people)


def _peer_group(queryset: QuerySet[Diagnosis], codes: list[str], *, kind: str, minimum: int):
    aggregates: dict[str, Any] = {"n": Count("pk")}
    for i, code in enumerate(codes):
        aggregates[f"m{i}"] = Median(Cast(KeyTextTransform(code, "scores"), FloatField()))
    row = queryset.aggregate(**aggregates)
    size = row["n"] or 0
    medians = {
        code: round(row[f"m{i}"], 2)
        for i, code in enumerate(codes)
        if size >= minimum and row[f"m{i}"] is not None
    }
    return PeerGroup(kind=kind, size=size, minimum=minimum, medians=medians)


def peer_groups(diagnosis: Diagnosis, *, minimum: int) -> list[PeerGroup]:
    """Medians of the latest diagnoses of managers at the same level (organisation-wide) and
    of the same organism: one aggregate query each, cached for ``PEER_CACHE_SECONDS``.
    Medians are computed (and returned) only when the group has ``minimum`` diagnoses: below
    that they would say too much about a few people and too little about the group.

    Why a cache: at 20,000 managers a level holds ~12,000 latest diagnoses and its medians
    cost ~170 ms (bench/bench_selfdiag.py); they move slowly, and 4 levels plus 300
    organisms make few distinct keys."""
    codes = list(diagnosis.scores)
    latest = Diagnosis.objects.filter(latest=True, status=DiagnosisStatus.SUBMITTED)
    wanted: list[tuple[str, str, QuerySet[Diagnosis]]] = []
    suffix = f"{minimum}:{','.join(codes)}"
    if diagnosis.level:
        key = f"selfdiag:peers:level:{diagnosis.organisation_id}:{diagnosis.level}:{suffix}"
        scope = latest.filter(organisation_id=diagnosis.organisation_id, level=diagnosis.level)
        wanted.append(("level", key, scope))
    if diagnosis.organism_id:
        key = f"selfdiag:peers:organism:{diagnosis.organism_id}:{suffix}"
        wanted.append(("organism", key, latest.filter(organism_id=diagnosis.organism_id)))
    cached = cache.get_many([key for _, key, _ in wanted]) if wanted else {}
    groups = []
    for kind, key, scope in wanted:
        group = cached.get(key)
        if group is None:
            group = _peer_group(scope, codes, kind=kind, minimum=minimum)
            cache.set(key, group, PEER_CACHE_SECONDS)
        groups.append(group)
    return groups


# --- Action plan ------------------------------------------------------------------------------


def actions_of(user: User) -> QuerySet[Action]:
    """The manager's action plan: open actions first (nearest due date first), then the
    finished ones, latest first."""
    from django.db.models import Case, IntegerField, Value, When

    return (
        Action.objects.filter(owner=user)
        .select_related("practice")
        .annotate(
            open_rank=Case(
                When(status__in=OPEN_STATUSES, then=Value(0)),
                default=Value(1),
                output_field=IntegerField(),
            )
        )
        .order_by("open_rank", F("due_date").asc(nulls_last=True), "-created_at", "-pk")
    )


def get_action_for_user(user: User, pk: object) -> Action:
    try:
        return Action.objects.select_related("practice").get(pk=pk, owner=user)
    except (Action.DoesNotExist, ValueError, TypeError):
        raise Http404 from None


def practices_in_plan(user: User) -> set[int]:
    """Ids of the practices with an open action in the user's plan (one query)."""
    return set(
        Action.objects.filter(
            owner=user, status__in=OPEN_STATUSES, practice__isnull=False
        ).values_list("practice_id", flat=True)
    )


# --- HR analytics (aggregates only) -----------------------------------------------------------


@dataclass
class CompletionCell:
    organism: str
    level: str
    managers: int | None  # None: under the threshold, hidden
    diagnoses: int | None


def completion_counts(
    organisation: Organisation, *, since: Any = None
) -> tuple[list[CompletionCell], dict[str, int]]:
    """Submitted diagnoses by organism and managerial level, for HR analysts: counts only,
    never a score or a person. A cell with fewer managers than the organisation's analytics
    threshold is hidden (``None``); totals by level are over the whole organisation.

    Returns (cells, totals) where totals has ``managers`` and ``diagnoses``."""
    submitted = Diagnosis.objects.filter(
        organisation=organisation, status=DiagnosisStatus.SUBMITTED
    )
    if since is not None:
        submitted = submitted.filter(submitted_at__gte=since)
    minimum = organisation.analytics_min_people
    rows = (
        submitted.values("organism__name", "level")
        .annotate(managers=Count("user", distinct=True), diagnoses=Count("pk"))
        .order_by("organism__name", "level")
    )
    cells = []
    for row in rows:
        visible = row["managers"] >= minimum
        cells.append(
            CompletionCell(
                organism=row["organism__name"] or "",
                level=row["level"] or "",
                managers=row["managers"] if visible else None,
                diagnoses=row["diagnoses"] if visible else None,
            )
        )
    totals = submitted.aggregate(managers=Count("user", distinct=True), diagnoses=Count("pk"))
    return cells, {"managers": totals["managers"] or 0, "diagnoses": totals["diagnoses"] or 0}


def completion_by_level(organisation: Organisation) -> list[dict[str, Any]]:
    """Managers who completed at least one diagnosis, by level, against the managers of that
    level: the adoption rate an HR page shows."""
    from campus.models import Role

    done = dict(
        Diagnosis.objects.filter(organisation=organisation, latest=True)
        .values_list("level")
        .annotate(n=Count("pk"))
        .values_list("level", "n")
    )
    managers = dict(
        User.objects.filter(
            organisation=organisation, is_active=True, roles__contains=[Role.MANAGER]
        )
        .values_list("level")
        .annotate(n=Count("pk"))
        .values_list("level", "n")
    )
    minimum = organisation.analytics_min_people
    return [
        {
            "level": level,
            "managers": total,
            "completed": done.get(level, 0) if done.get(level, 0) >= minimum else None,
        }
        for level, total in sorted(managers.items(), key=lambda kv: kv[0])
        if total
    ]
