"""Reads of the HR analytics: aggregates only, scoped to the analyst's organisation, with
small-cell suppression on every figure. A constant number of queries whatever the size."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field

from django.db.models import Count, Q, QuerySet
from django.http import Http404
from django.utils import timezone
from django.utils.formats import date_format
from django.utils.translation import gettext as _

from campus.analytics.models import Activity, Feature
from campus.analytics.services import month_start, months_back
from campus.analytics.suppression import Cell, Grid, is_small, suppress
from campus.models import Branch, Level, Organisation, Organism, Role, User

#: The dashboard never shows a figure computed on fewer people than this, whatever the
#: organisation's setting.
MIN_PEOPLE_FLOOR = 10
MONTHS = 12
#: Features shown as columns of the usage table (logins count for "active", not as a use).
USAGE_FEATURES = [f for f in Feature if f != Feature.LOGIN]
DIMENSIONS = ("branch", "organism", "level")


def get_analytics_organisation_for_user(user: User) -> Organisation:
    """HR analysts and HR admins see their own organisation's analytics; anyone else: 404."""
    if not getattr(user, "is_authenticated", False) or not user.is_hr_analyst:
        raise Http404
    return user.organisation


def min_people(organisation: Organisation) -> int:
    return max(MIN_PEOPLE_FLOOR, organisation.analytics_min_people or 0)


@dataclass(frozen=True)
class Scope:
    """One filter dimension beyond the organisation (never two: crossing dimensions singles
    people out). ``dimension`` is "" for the whole organisation."""

    dimension: str = ""
    value: str = ""
    label: str = ""

    @property
    def key(self) -> str:
        return f"{self.dimension}:{self.value}" if self.dimension else ""

    def people_filter(self) -> Q:
        """On ``User`` (the population) and on ``Activity`` (same field names)."""
        if self.dimension == "branch":
            return Q(organism__branch_id=self.value)
        if self.dimension == "organism":
            return Q(organism_id=self.value)
        if self.dimension == "level":
            return Q(level=self.value)
        return Q()


def scope_choices(organisation: Organisation) -> list[tuple[str, object]]:
    """Grouped choices for the scope select: two queries."""
    branches = list(
        Branch.objects.filter(organisation=organisation).order_by("name").values_list("pk", "name")
    )
    organisms = list(
        Organism.objects.filter(organisation=organisation)
        .order_by("name")
        .values_list("pk", "name")
    )
    return [
        ("", _("Toute l’organisation")),
        (_("Branches"), [(f"branch:{pk}", name) for pk, name in branches]),
        (_("Organismes"), [(f"organism:{pk}", name) for pk, name in organisms]),
        (_("Niveaux managériaux"), [(f"level:{v}", label) for v, label in Level.choices]),
    ]


def scope_from_key(key: str, choices: list[tuple[str, object]]) -> Scope:
    """The scope named by a validated choice key."""
    for _value, label in choices:
        if isinstance(label, list):
            for sub_value, sub_label in label:
                if sub_value == key:
                    dimension, _sep, raw = key.partition(":")
                    return Scope(dimension=dimension, value=raw, label=str(sub_label))
    return Scope(label=str(choices[0][1]))


@dataclass
class MonthRow:
    month: dt.date
    label: str
    short_label: str
    active: Cell
    share: float | None  # percentage of the scope's managers, None when hidden


@dataclass
class Dashboard:
    organisation: Organisation
    k: int
    scope: Scope
    months: list[MonthRow]
    managers: Cell
    features: list[tuple[str, str]]
    usage: Grid
    first_month: dt.date
    last_month: dt.date
    hidden_count: int = field(default=0)

    @property
    def has_hidden(self) -> bool:
        return self.hidden_count > 0


def _cell(row: dict[str, int] | None) -> Cell:
    if row is None:
        return Cell(value=0, people=0)
    return Cell(value=row["uses"], people=row["people"])


def adoption_dashboard(
    *, organisation: Organisation, scope: Scope, today: dt.date | None = None
) -> Dashboard:
    """Monthly active managers (count and share) and feature uses by month over the last
    12 months (the current one included), in ``scope``. Six queries."""
    k = min_people(organisation)
    last = month_start(today or timezone.localdate())
    first = months_back(last, MONTHS - 1)
    month_list = [months_back(last, n) for n in range(MONTHS - 1, -1, -1)]
    who = scope.people_filter()

    population = (
        User.objects.filter(
            organisation=organisation, is_active=True, roles__contains=[Role.MANAGER]
        )
        .filter(who)
        .count()
    )
    activity: QuerySet[Activity] = Activity.objects.filter(
        organisation=organisation,
        month__gte=first,
        month__lte=last,
        user__roles__contains=[Role.MANAGER],
    ).filter(who)
    counts = {"people": Count("user_id", distinct=True), "uses": Count("pk")}
    used = activity.exclude(feature=Feature.LOGIN)
    by_month_feature = {
        (r["month"], r["feature"]): r
        for r in used.values("month", "feature").annotate(**counts).order_by()
    }
    active_by_month = {
        r["month"]: r for r in activity.values("month").annotate(**counts).order_by()
    }
    used_by_month = {r["month"]: r for r in used.values("month").annotate(**counts).order_by()}
    used_by_feature = {
        r["feature"]: r for r in used.values("feature").annotate(**counts).order_by()
    }
    # The sixth query: the people behind the grand total.
    grand = used.aggregate(**counts)

    managers = Cell(value=population, people=population, hidden=is_small(population, k))
    rows = []
    for month in month_list:
        people = active_by_month.get(month, {}).get("people", 0)
        inactive = population - people
        # The active count and the population give the inactive count: both must be >= k.
        hidden = managers.hidden or is_small(people, k) or is_small(inactive, k)
        active = Cell(value=people, people=people, hidden=hidden)
        share = None if hidden or not population else round(100 * people / population, 1)
        rows.append(
            MonthRow(
                month=month,
                label=date_format(month, "YEAR_MONTH_FORMAT"),
                short_label=date_format(month, "M"),
                active=active,
                share=share,
            )
        )

    features = [(f.value, str(f.label)) for f in USAGE_FEATURES]
    grid = Grid(
        cells=[
            [_cell(by_month_feature.get((m, code))) for code, _label in features]
            for m in month_list
        ],
        row_totals=[_cell(used_by_month.get(m)) for m in month_list],
        col_totals=[_cell(used_by_feature.get(code)) for code, _label in features],
        grand=Cell(value=grand["uses"] or 0, people=grand["people"] or 0),
    )
    suppress(grid, k=k)
    hidden_count = sum(r.active.hidden for r in rows) + sum(c.hidden for c in grid.all_cells())
    return Dashboard(
        organisation=organisation,
        k=k,
        scope=scope,
        months=rows,
        managers=managers,
        features=features,
        usage=grid,
        first_month=first,
        last_month=last,
        hidden_count=hidden_count,
    )
