"""Reads of the HR analytics: aggregates only, scoped to the analyst's organisation, with
small-cell suppression on every figure. A constant number of queries whatever the size."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field

from django.conf import settings
from django.core.cache import cache
from django.db import connection
from django.db.models import Count, Max, Q
from django.http import Http404
from django.utils import timezone
from django.utils.formats import date_format
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy as _lazy

from campus.analytics.models import RETENTION_MONTHS, Device, Feature
from campus.analytics.rollups import ActivityRollup, RollupRefresh, rollup_refresh
from campus.analytics.services import month_start, months_back
from campus.analytics.suppression import Cell, Grid, is_small, suppress_lines
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


# --- Period ------------------------------------------------------------------------------------


def month_after(month: dt.date) -> dt.date:
    return months_back(month, -1)


def month_span(first: dt.date, last: dt.date) -> list[dt.date]:
    months = []
    month = first
    while month <= last:
        months.append(month)
        month = month_after(month)
    return months


def kept_months(today: dt.date | None = None) -> tuple[dt.date, dt.date]:
    """The oldest and the latest month the activity log keeps (13 months)."""
    last = month_start(today or timezone.localdate())
    return months_back(last, RETENTION_MONTHS - 1), last


@dataclass(frozen=True)
class Period:
    """Months ``first..last`` (first days of months), within the 13 months kept. ``choice``
    is the form's value: a number of months ending with the current one, or "mois" for a
    chosen range."""

    first: dt.date
    last: dt.date
    choice: str = str(MONTHS)

    @classmethod
    def trailing(cls, count: int, today: dt.date | None = None) -> Period:
        last = month_start(today or timezone.localdate())
        return cls(first=months_back(last, count - 1), last=last, choice=str(count))

    @property
    def months(self) -> list[dt.date]:
        return month_span(self.first, self.last)

    @property
    def label(self) -> str:
        return f"{self.first:%Y-%m} – {self.last:%Y-%m}"

    def params(self) -> dict[str, str]:
        """The query parameters that name this period (none for the default)."""
        if self.choice == PERIOD_RANGE:
            return {
                "periode": PERIOD_RANGE,
                "debut": f"{self.first:%Y-%m}",
                "fin": f"{self.last:%Y-%m}",
            }
        if self.choice != str(MONTHS):
            return {"periode": self.choice}
        return {}


PERIOD_RANGE = "mois"
PERIOD_CHOICES = [
    ("3", _lazy("Les 3 derniers mois")),
    ("6", _lazy("Les 6 derniers mois")),
    ("12", _lazy("Les 12 derniers mois")),
    (PERIOD_RANGE, _lazy("Une plage de mois")),
]


# --- Pre-aggregated activity -------------------------------------------------------------------


class Cube:
    """The rollup rows of one scope over a period, read in one query."""

    def __init__(
        self, rows: list[tuple[dt.date, str, int, int]], period: Period, *, exact_periods: bool
    ) -> None:
        self.period = period
        self.exact_periods = exact_periods
        self.cells: dict[tuple[str, dt.date], tuple[int, int]] = {
            (metric, month): (uses, people) for month, metric, uses, people in rows
        }
        self.metrics = {metric for _month, metric, _u, _p in rows}

    def uses(self, metric: str, month: dt.date) -> int:
        return self.cells.get((metric, month), (0, 0))[0]

    def people(self, metric: str, month: dt.date) -> int:
        return self.cells.get((metric, month), (0, 0))[1]

    def monthly(self, metric: str, month: dt.date) -> Cell:
        uses, people = self.cells.get((metric, month), (0, 0))
        return Cell(value=uses, people=people)

    def period_people(self, metric: str) -> int:
        """Distinct people over the period: exact when the period ends with the latest month
        of the rollup (nobody's last month can be later), else a lower bound (the largest of a
        month's count and the people whose last month falls in the period): a lower bound
        can only mask more, never less."""
        months = self.period.months
        lasts = sum(self.people(f"last:{metric}", m) for m in months)
        if self.exact_periods:
            return lasts
        return max([lasts, *[self.people(metric, m) for m in months]])

    def total(self, metric: str) -> Cell:
        uses = sum(self.uses(metric, m) for m in self.period.months)
        return Cell(value=uses, people=self.period_people(metric))


def rollup_cube(
    organisation: Organisation, scope: Scope, period: Period
) -> tuple[Cube, dt.datetime | None]:
    """Two queries (the refresh date, the rows). An organisation never refreshed is refreshed
    now, once (a fresh install before the first beat run)."""
    refresh = RollupRefresh.objects.filter(organisation=organisation).first()
    if refresh is None:
        rollup_refresh(organisation=organisation)
        refresh = RollupRefresh.objects.get(organisation=organisation)
    rows = list(
        ActivityRollup.objects.filter(
            organisation=organisation,
            scope=scope.key,
            month__gte=period.first,
            month__lte=period.last,
        ).values_list("month", "metric", "uses", "people")
    )
    refreshed_month = month_start(timezone.localdate(refresh.refreshed_at))
    return Cube(rows, period, exact_periods=period.last >= refreshed_month), refresh.refreshed_at


# --- Adoption ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class TrackedAction:
    key: str  # "feature.action" as recorded
    feature: str
    label: str


#: The actions of the issue, as recorded by the feature apps (``activity_record``).
TRACKED_ACTIONS = [
    TrackedAction("selfdiag.start", Feature.SELFDIAG, _lazy("Autodiagnostics commencés")),
    TrackedAction("selfdiag.submit", Feature.SELFDIAG, _lazy("Autodiagnostics terminés")),
    TrackedAction("feedback180.open", Feature.FEEDBACK180, _lazy("Campagnes 180° ouvertes")),
    TrackedAction("feedback180.close", Feature.FEEDBACK180, _lazy("Campagnes 180° clôturées")),
    TrackedAction("mallette.view", Feature.MALLETTE, _lazy("Pratiques consultées")),
    TrackedAction("mallette.contribute", Feature.MALLETTE, _lazy("Pratiques proposées")),
    TrackedAction("coach.question", Feature.COACH, _lazy("Questions au coach")),
    TrackedAction("boosts.register", Feature.BOOSTS, _lazy("Inscriptions aux boosts")),
    TrackedAction("boosts.attend", Feature.BOOSTS, _lazy("Présences aux boosts")),
    TrackedAction("communities.post", Feature.COMMUNITIES, _lazy("Messages des communautés")),
]
DEVICES = [(Device.DESKTOP.value, Device.DESKTOP.label), (Device.MOBILE.value, Device.MOBILE.label)]


@dataclass
class MonthRow:
    month: dt.date
    label: str
    short_label: str
    active: Cell
    share: float | None  # percentage of the scope's managers, None when hidden


@dataclass
class CohortRow:
    month: dt.date
    label: str
    size: Cell
    #: Month n after the first (n = 0, 1, ...): (people active, share of the cohort in %).
    cells: list[tuple[Cell, float | None]]
    pad: int = 0  # empty cells after the last month of the period

    @property
    def padding(self) -> range:
        return range(self.pad)


@dataclass
class CampaignRow:
    label: str
    opened: Cell
    closed: Cell
    rate: float | None  # responses / invitations sent of the campaigns closed, in %
    rate_hidden: bool = False
    short_label: str = ""  # under a chart's bar


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
    period: Period | None = None
    refreshed_at: dt.datetime | None = None
    #: (key, label) of the action columns; ``actions.cells[i][j]``: month i, action j.
    actions: list[tuple[str, str]] = field(default_factory=list)
    action_grid: Grid | None = None
    devices: Grid | None = None
    cohorts: list[CohortRow] = field(default_factory=list)
    cohort_width: int = 0
    campaigns: list[CampaignRow] = field(default_factory=list)
    campaigns_total: CampaignRow | None = None

    @property
    def has_hidden(self) -> bool:
        return self.hidden_count > 0

    @property
    def cohort_columns(self) -> range:
        return range(self.cohort_width)

    @property
    def device_rows(self) -> list[tuple[str, list[Cell], Cell, float | None]]:
        """(month, [desktop, mobile], all, mobile share in %), then the period's line."""
        if self.devices is None:
            return []
        labels = [m.label for m in self.months] + [str(_("Total sur la période"))]
        lines = [*zip(self.devices.cells, self.devices.row_totals, strict=True)]
        lines.append((self.devices.col_totals, self.devices.grand))
        return [
            (label, cells, total, mobile_share(cells[1], total))
            for label, (cells, total) in zip(labels, lines, strict=True)
        ]


def mobile_share(mobile: Cell, total: Cell) -> float | None:
    if mobile.hidden or total.hidden or not total.value:
        return None
    return round(100 * mobile.value / total.value, 1)


def manager_population(organisation: Organisation, scope: Scope) -> int:
    return (
        User.objects.filter(
            organisation=organisation, is_active=True, roles__contains=[Role.MANAGER]
        )
        .filter(scope.people_filter())
        .count()
    )


def _action_columns(cube: Cube) -> list[tuple[str, str, str, list[str]]]:
    """(key, label, feature, metrics): the tracked actions, then per feature an "other
    actions" column when the log holds untracked ones (so that a feature's actions add up to
    its uses)."""
    columns = [(a.key, str(a.label), a.feature, [f"action:{a.key}"]) for a in TRACKED_ACTIONS]
    tracked = {f"action:{a.key}" for a in TRACKED_ACTIONS}
    for feature in USAGE_FEATURES:
        others = sorted(
            m for m in cube.metrics if m.startswith(f"action:{feature.value}.") and m not in tracked
        )
        if others:
            label = _("%(feature)s : autres actions") % {"feature": feature.label}
            columns.append((f"{feature.value}.autres", label, feature.value, others))
    return columns


def _sum_cells(cells: list[Cell]) -> Cell:
    """Several metrics as one figure: uses add up; people at least the largest count (a
    lower bound: it can only mask more)."""
    return Cell(value=sum(c.value for c in cells), people=max([0, *[c.people for c in cells]]))


def adoption_dashboard(
    *,
    organisation: Organisation,
    scope: Scope,
    today: dt.date | None = None,
    period: Period | None = None,
) -> Dashboard:
    """Monthly active managers (count and share), uses by feature and by action, desktop and
    mobile, cohorts and 180° campaigns over ``period`` (default: the last 12 months, the
    current one included), in ``scope``. Read from the rollup: a constant number of queries
    (population, refresh date, rollup rows, two for the campaigns)."""
    k = min_people(organisation)
    period = period or Period.trailing(MONTHS, today)
    month_list = period.months
    population = manager_population(organisation, scope)
    cube, refreshed_at = rollup_cube(organisation, scope, period)

    managers = Cell(value=population, people=population, hidden=is_small(population, k))
    rows = []
    for month in month_list:
        people = cube.people("active", month)
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

    # Uses by feature (the summary) and by action (the detail): one suppression over both, as
    # a feature's actions add up to its uses.
    features = [(f.value, str(f.label)) for f in USAGE_FEATURES]
    usage = Grid(
        cells=[[cube.monthly(f"feature:{code}", m) for code, _l in features] for m in month_list],
        row_totals=[cube.monthly("used", m) for m in month_list],
        col_totals=[cube.total(f"feature:{code}") for code, _l in features],
        grand=cube.total("used"),
    )
    columns = _action_columns(cube)
    action_cells = [
        [_sum_cells([cube.monthly(metric, m) for metric in metrics]) for *_x, metrics in columns]
        for m in month_list
    ]
    action_totals = [
        _sum_cells([cube.total(metric) for metric in metrics]) for *_x, metrics in columns
    ]
    action_grid = Grid(
        cells=action_cells,
        row_totals=usage.row_totals,
        col_totals=action_totals,
        grand=usage.grand,
    )
    lines = [*usage.lines(), *action_grid.lines()]
    feature_index = {code: j for j, (code, _l) in enumerate(features)}
    for i in range(len(month_list) + 1):  # the months, then the period
        parts_of = action_cells[i] if i < len(month_list) else action_totals
        feature_row = usage.cells[i] if i < len(month_list) else usage.col_totals
        for code, j in feature_index.items():
            parts = [parts_of[n] for n, col in enumerate(columns) if col[2] == code]
            if parts:
                lines.append((parts, feature_row[j]))

    # Desktop and mobile: every activity row has one device.
    devices = Grid(
        cells=[[cube.monthly(f"device:{d}", m) for d, _l in DEVICES] for m in month_list],
        row_totals=[cube.monthly("active", m) for m in month_list],
        col_totals=[cube.total(f"device:{d}") for d, _l in DEVICES],
        grand=cube.total("active"),
    )
    lines += devices.lines()

    cohorts, cohort_lines, cohort_cells = _cohorts(cube, period, rows, k, today)
    lines += cohort_lines
    all_cells = [*usage.all_cells(), *action_cells_flat(action_grid), *devices.all_cells()]
    suppress_lines([*all_cells, *cohort_cells], lines, k=k)
    cohort_width = max((len(c.cells) for c in cohorts), default=0)
    for cohort in cohorts:
        cohort.cells = [(cell, cohort_share(cell, cohort.size)) for cell, _s in cohort.cells]
        cohort.pad = cohort_width - len(cohort.cells)

    campaigns, campaigns_total = campaign_rows(organisation, scope, period, k)
    hidden_count = (
        sum(r.active.hidden for r in rows)
        + sum(c.hidden for c in all_cells)
        + sum(c.hidden for c in cohort_cells)
        + sum(r.opened.hidden + r.closed.hidden for r in campaigns)
    )
    return Dashboard(
        organisation=organisation,
        k=k,
        scope=scope,
        months=rows,
        managers=managers,
        features=features,
        usage=usage,
        first_month=period.first,
        last_month=period.last,
        hidden_count=hidden_count,
        period=period,
        refreshed_at=refreshed_at,
        actions=[(key, label) for key, label, _f, _m in columns],
        action_grid=action_grid,
        devices=devices,
        cohorts=cohorts,
        cohort_width=cohort_width,
        campaigns=campaigns,
        campaigns_total=campaigns_total,
    )


def action_cells_flat(grid: Grid) -> list[Cell]:
    """The action grid's own cells (its row totals and grand total are the usage grid's)."""
    return [c for row in grid.cells for c in row] + list(grid.col_totals)


def _cohorts(
    cube: Cube, period: Period, rows: list[MonthRow], k: int, today: dt.date | None
) -> tuple[list[CohortRow], list, list[Cell]]:
    """Managers by month of first recorded activity, and the share of them active n months
    later. The oldest kept month is left out: its "first" activity may be much older.

    A cohort's active count hides when it, or the cohort's inactive rest, is under k. Each
    month's active managers are the sum of the cohorts active that month (plus older
    managers): one line per month, with the month's count as total."""
    oldest, _latest = kept_months(today)
    cohorts: list[CohortRow] = []
    by_month: dict[dt.date, list[Cell]] = {m: [] for m in period.months}
    cells: list[Cell] = []
    for c in period.months:
        if c <= oldest:
            continue
        metric = f"cohort:{c:%Y-%m}"
        size_people = cube.people(metric, c)
        if not size_people:
            continue  # nobody started that month
        row_cells: list[tuple[Cell, float | None]] = []
        for m in month_span(c, period.last):
            active = cube.people(metric, m)
            cell = Cell(
                value=active,
                people=active,
                hidden=is_small(size_people, k) or is_small(size_people - active, k),
            )
            by_month[m].append(cell)
            cells.append(cell)
            row_cells.append((cell, None))
        # The cohort's size is its month-0 figure: the same cell, so both hide together.
        size = row_cells[0][0]
        cohorts.append(
            CohortRow(
                month=c, label=date_format(c, "YEAR_MONTH_FORMAT"), size=size, cells=row_cells
            )
        )
    lines = []
    for row in rows:
        parts = by_month[row.month]
        rest = row.active.value - sum(c.value for c in parts)
        # Managers of older cohorts: never shown, so hidden unless there are none.
        older = Cell(value=rest, people=rest, hidden=rest > 0)
        lines.append(([*parts, older], row.active))
    # Shares once the suppression is done: computed lazily by the template from the cells.
    return cohorts, lines, cells


def cohort_share(cell: Cell, size: Cell) -> float | None:
    if cell.hidden or size.hidden or not size.value:
        return None
    return round(100 * cell.value / size.value)


# --- 180° campaigns ----------------------------------------------------------------------------

_CAMPAIGN_SCOPE_SQL = {
    "branch": "AND o.branch_id = %(value)s",
    "organism": "AND c.organism_id = %(value)s",
    "level": "AND u.level = %(value)s",
}

# Main campaigns only (the day-60 re-checks are pulses of the same campaign). Months in the
# organisation's time zone; one row per month and one for the whole period (GROUPING SETS).
_OPENED_SQL = """
SELECT date_trunc('month', c.opened_at AT TIME ZONE %(tz)s)::date AS month,
       count(*) AS campaigns, count(DISTINCT c.manager_id) AS managers
FROM feedback180_campaign c
JOIN campus_user u ON u.id = c.manager_id
LEFT JOIN campus_organism o ON o.id = c.organism_id
WHERE c.organisation_id = %(organisation)s AND c.kind = 'main'
  AND c.opened_at AT TIME ZONE %(tz)s >= %(first)s AND c.opened_at AT TIME ZONE %(tz)s < %(end)s
  {scope}
GROUP BY GROUPING SETS ((1), ())
"""
_CLOSED_SQL = """
SELECT date_trunc('month', c.closed_at AT TIME ZONE %(tz)s)::date AS month,
       count(*) AS campaigns, count(DISTINCT c.manager_id) AS managers,
       sum(i.sent) AS sent, sum(i.responded) AS responded
FROM feedback180_campaign c
JOIN campus_user u ON u.id = c.manager_id
LEFT JOIN campus_organism o ON o.id = c.organism_id
CROSS JOIN LATERAL (
    SELECT count(*) FILTER (WHERE sent) AS sent, count(*) FILTER (WHERE responded) AS responded
    FROM feedback180_invitation WHERE campaign_id = c.id
) AS i
WHERE c.organisation_id = %(organisation)s AND c.kind = 'main'
  AND c.closed_at AT TIME ZONE %(tz)s >= %(first)s AND c.closed_at AT TIME ZONE %(tz)s < %(end)s
  {scope}
GROUP BY GROUPING SETS ((1), ())
"""


def _campaign_query(sql: str, organisation: Organisation, scope: Scope, period: Period) -> dict:
    params = {
        "organisation": organisation.pk,
        "tz": settings.TIME_ZONE,
        "first": period.first,
        "end": month_after(period.last),
        "value": scope.value,
    }
    with connection.cursor() as cursor:
        cursor.execute(sql.format(scope=_CAMPAIGN_SCOPE_SQL.get(scope.dimension, "")), params)
        columns = [c.name for c in cursor.description]
        return {row[0]: dict(zip(columns, row, strict=True)) for row in cursor.fetchall()}


def campaign_rows(
    organisation: Organisation, scope: Scope, period: Period, k: int
) -> tuple[list[CampaignRow], CampaignRow]:
    """180° campaigns opened and closed by month, and the response rate of those closed
    (responses / invitations sent), from the feedback180 tables: counts only, never a
    campaign's results. Two queries. A figure on fewer than k managers is masked, with
    complementary suppression down each column."""
    opened = _campaign_query(_OPENED_SQL, organisation, scope, period)
    closed = _campaign_query(_CLOSED_SQL, organisation, scope, period)

    def cell(rows: dict, key: dt.date | None) -> Cell:
        row = rows.get(key) or {"campaigns": 0, "managers": 0}
        return Cell(value=row["campaigns"], people=row["managers"])

    months = period.months
    opened_cells = [cell(opened, m) for m in months]
    closed_cells = [cell(closed, m) for m in months]
    opened_total, closed_total = cell(opened, None), cell(closed, None)
    suppress_lines(
        [*opened_cells, *closed_cells, opened_total, closed_total],
        [(opened_cells, opened_total), (closed_cells, closed_total)],
        k=k,
    )

    def rate(key: dt.date | None, closed_cell: Cell) -> tuple[float | None, bool]:
        row = closed.get(key)
        if row is None or not row["sent"]:
            return None, False
        if closed_cell.hidden or is_small(row["managers"], k):
            return None, True
        return round(100 * row["responded"] / row["sent"], 1), False

    result = []
    for month, o, c in zip(months, opened_cells, closed_cells, strict=True):
        value, hidden = rate(month, c)
        result.append(
            CampaignRow(
                label=date_format(month, "YEAR_MONTH_FORMAT"),
                short_label=date_format(month, "M"),
                opened=o,
                closed=c,
                rate=value,
                rate_hidden=hidden,
            )
        )
    value, hidden = rate(None, closed_total)
    total = CampaignRow(
        label=_("Total sur la période"),
        opened=opened_total,
        closed=closed_total,
        rate=value,
        rate_hidden=hidden,
    )
    return result, total


# --- Outcomes ----------------------------------------------------------------------------------

#: Score bands of the self-diagnosis (mean of a competency's items, 1 to 5).
SCORE_BANDS = [
    ("1-2", _lazy("de 1 à moins de 2"), 1.0, 2.0),
    ("2-3", _lazy("de 2 à moins de 3"), 2.0, 3.0),
    ("3-4", _lazy("de 3 à moins de 4"), 3.0, 4.0),
    ("4-5", _lazy("de 4 à 5"), 4.0, 5.01),
]
#: A change of a competency's score smaller than this is "stable" (the scale is 1 to 5).
EVOLUTION_STEP = 0.25
EVOLUTIONS = [
    ("up", _lazy("En progrès")),
    ("same", _lazy("Stables")),
    ("down", _lazy("En recul")),
]
TOP_PRACTICES = 10

_DIAGNOSIS_SCOPE_SQL = {
    "branch": "AND o.branch_id = %(value)s",
    "organism": "AND d.organism_id = %(value)s",
    "level": "AND d.level = %(value)s",
}

# The latest submitted diagnosis of each manager (level and organism frozen at submission),
# one row per competency; by competency and, for the whole organisation, by competency and
# level (one dimension at a time).
_SCORES_SQL = """
SELECT s.key AS code, {level} AS level, count(*) AS people,
       percentile_cont(ARRAY[0.25, 0.5, 0.75]) WITHIN GROUP (ORDER BY s.value::float) AS q,
       {bands}
FROM selfdiag_diagnosis d
LEFT JOIN campus_organism o ON o.id = d.organism_id
CROSS JOIN LATERAL jsonb_each_text(d.scores) AS s(key, value)
WHERE d.organisation_id = %(organisation)s AND d.latest AND d.status = 'submitted' {scope}
GROUP BY {grouping}
"""

# Managers with two submitted diagnoses or more: their first against their latest.
_EVOLUTION_SQL = """
WITH firsts AS (
    SELECT DISTINCT ON (d.user_id) d.user_id, d.id, d.scores
    FROM selfdiag_diagnosis d
    WHERE d.organisation_id = %(organisation)s AND d.status = 'submitted'
    ORDER BY d.user_id, d.submitted_at, d.id
),
pairs AS (
    SELECT l.key AS code, l.value::float - f.value::float AS delta
    FROM selfdiag_diagnosis d
    LEFT JOIN campus_organism o ON o.id = d.organism_id
    JOIN firsts ON firsts.user_id = d.user_id AND firsts.id <> d.id
    CROSS JOIN LATERAL jsonb_each_text(d.scores) AS l(key, value)
    JOIN LATERAL jsonb_each_text(firsts.scores) AS f(key, value) ON f.key = l.key
    WHERE d.organisation_id = %(organisation)s AND d.latest AND d.status = 'submitted' {scope}
)
SELECT code, count(*) AS people, avg(delta) AS mean,
       count(*) FILTER (WHERE delta >= %(step)s) AS up,
       count(*) FILTER (WHERE delta > -%(step)s AND delta < %(step)s) AS same,
       count(*) FILTER (WHERE delta <= -%(step)s) AS down
FROM pairs GROUP BY code
"""


@dataclass
class ScoreRow:
    code: str
    label: str
    people: Cell
    quartiles: tuple[float, float, float] | None  # None when hidden
    bands: list[Cell]


@dataclass
class LevelScores:
    level: str
    label: str
    people: Cell
    medians: dict[str, float | None]  # by competency code


@dataclass
class EvolutionRow:
    code: str
    label: str
    people: Cell
    mean: float | None
    parts: list[Cell]  # up, same, down


@dataclass
class RankRow:
    label: str
    theme: str
    count: int
    people: int | None = None


@dataclass
class Outcomes:
    organisation: Organisation
    k: int
    scope: Scope
    period: Period
    competencies: list[tuple[str, str]]
    scores: list[ScoreRow]
    levels: list[LevelScores]
    evolution: list[EvolutionRow]
    campaigns: list[CampaignRow]
    campaigns_total: CampaignRow
    practices: list[RankRow]
    themes: list[RankRow]
    hidden_themes: int
    coach: list[RankRow]
    hidden_coach_themes: int
    mentions_available: bool = True

    @property
    def first_month(self) -> dt.date:
        return self.period.first

    @property
    def last_month(self) -> dt.date:
        return self.period.last


def _cursor_rows(sql: str, params: dict) -> list[dict]:
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        columns = [c.name for c in cursor.description]
        return [dict(zip(columns, row, strict=True)) for row in cursor.fetchall()]


def competency_labels(organisation: Organisation) -> list[tuple[str, str]]:
    """(code, label) of the competencies, in questionnaire order; the organisation's own
    questionnaire first, the latest version's label winning (codes never change)."""
    from selfdiag.models import Competency

    rows = (
        Competency.objects.filter(
            Q(questionnaire__organisation=organisation)
            | Q(questionnaire__organisation__isnull=True)
        )
        .order_by("questionnaire__organisation_id", "-questionnaire__version", "position")
        .values_list("code", "label")
    )
    labels: dict[str, str] = {}
    for code, label in rows:
        labels.setdefault(code, label)
    return list(labels.items())


def score_distributions(
    organisation: Organisation, scope: Scope, k: int, competencies: list[tuple[str, str]]
) -> tuple[list[ScoreRow], list[LevelScores]]:
    """Latest self-diagnosis scores by competency: quartiles and bands (each competency's
    bands add up to its people: complementary suppression on every row); for the whole
    organisation, the median by level too. One query."""
    bands = ", ".join(
        f"count(*) FILTER (WHERE s.value::float >= {low} AND s.value::float < {high}) "
        f'AS "band_{key}"'
        for key, _l, low, high in SCORE_BANDS
    )
    by_level = not scope.dimension
    sql = _SCORES_SQL.format(
        level="d.level" if by_level else "''",
        bands=bands,
        scope=_DIAGNOSIS_SCOPE_SQL.get(scope.dimension, ""),
        grouping="GROUPING SETS ((s.key), (s.key, d.level))" if by_level else "s.key",
    )
    rows = _cursor_rows(sql, {"organisation": organisation.pk, "value": scope.value})
    overall = {r["code"]: r for r in rows if r["level"] is None or not by_level}
    labels = dict(competencies)
    codes = [c for c, _l in competencies if c in overall] + sorted(set(overall) - set(labels))
    scores = []
    for code in codes:
        row = overall[code]
        people = Cell(value=row["people"], people=row["people"])
        cells = [
            Cell(value=row[f"band_{key}"], people=row[f"band_{key}"]) for key, *_x in SCORE_BANDS
        ]
        suppress_lines([people, *cells], [(cells, people)], k=k)
        quartiles = None if people.hidden else tuple(round(q, 2) for q in row["q"])
        scores.append(
            ScoreRow(
                code=code,
                label=labels.get(code, code),
                people=people,
                quartiles=quartiles,
                bands=cells,
            )
        )
    levels = []
    if by_level:
        per_level = {(r["code"], r["level"]): r for r in rows if r["level"] is not None}
        level_labels = dict(Level.choices)
        # The people of a level: those with a score (every diagnosis scores every competency).
        counts = {}
        for (_code, level), r in per_level.items():
            counts[level] = max(counts.get(level, 0), r["people"])
        level_cells = {level: Cell(value=n, people=n) for level, n in counts.items()}
        ordered = [v for v, _l in Level.choices if v in level_cells] + sorted(
            set(level_cells) - set(level_labels)
        )
        total = Cell(
            value=sum(c.value for c in level_cells.values()),
            people=sum(c.people for c in level_cells.values()),
        )
        parts = [level_cells[v] for v in ordered]
        suppress_lines([*parts, total], [(parts, total)], k=k)
        for level in ordered:
            cell = level_cells[level]
            medians = {
                code: None
                if cell.hidden or (code, level) not in per_level
                else round(per_level[(code, level)]["q"][1], 2)
                for code in codes
            }
            levels.append(
                LevelScores(
                    level=level,
                    label=str(level_labels.get(level, level or _("Non renseigné"))),
                    people=cell,
                    medians=medians,
                )
            )
    return scores, levels


def score_evolution(
    organisation: Organisation, scope: Scope, k: int, competencies: list[tuple[str, str]]
) -> list[EvolutionRow]:
    """By competency, managers with two diagnoses or more: mean change between the first and
    the latest, and how many progressed, stayed stable or declined. One query."""
    sql = _EVOLUTION_SQL.format(scope=_DIAGNOSIS_SCOPE_SQL.get(scope.dimension, ""))
    rows = {
        r["code"]: r
        for r in _cursor_rows(
            sql, {"organisation": organisation.pk, "value": scope.value, "step": EVOLUTION_STEP}
        )
    }
    labels = dict(competencies)
    codes = [c for c, _l in competencies if c in rows] + sorted(set(rows) - set(labels))
    result = []
    for code in codes:
        row = rows[code]
        people = Cell(value=row["people"], people=row["people"])
        parts = [Cell(value=row[key], people=row[key]) for key, _l in EVOLUTIONS]
        suppress_lines([people, *parts], [(parts, people)], k=k)
        result.append(
            EvolutionRow(
                code=code,
                label=labels.get(code, code),
                people=people,
                mean=None if people.hidden else round(row["mean"], 2),
                parts=parts,
            )
        )
    return result


#: The diagnosis figures are cached this long, and recomputed as soon as a diagnosis is
#: submitted or deleted (the cache key holds their count and the latest submission).
DIAGNOSIS_CACHE_SECONDS = 3600


def diagnosis_figures(
    organisation: Organisation, scope: Scope, k: int
) -> tuple[list[tuple[str, str]], list[ScoreRow], list[LevelScores], list[EvolutionRow]]:
    """Scores and evolution of the self-diagnoses: the two heaviest reads of the outcomes
    page (every latest diagnosis's scores, sorted for the quartiles), so cached; one query
    when cached, four otherwise."""
    from selfdiag.models import Diagnosis

    version = Diagnosis.objects.filter(organisation=organisation, status="submitted").aggregate(
        n=Count("pk"), last=Max("submitted_at")
    )
    last = version["last"].timestamp() if version["last"] else 0
    key = f"analytics:diagnoses:{organisation.pk}:{scope.key}:{k}:{version['n']}:{last}"

    def compute() -> tuple:
        competencies = competency_labels(organisation)
        scores, levels = score_distributions(organisation, scope, k, competencies)
        evolution = score_evolution(organisation, scope, k, competencies)
        return competencies, scores, levels, evolution

    return cache.get_or_set(key, compute, DIAGNOSIS_CACHE_SECONDS)


def _period_bounds(period: Period) -> tuple[dt.date, dt.date]:
    return period.first, month_after(period.last)


# Mentions by practice over the period, counted before the practices and their themes are
# joined: a few hundred rows to join instead of every mention, and both rankings (practices,
# themes) are summed from them, so the mentions are read once.
_MENTIONS_SQL = """
SELECT p.title AS title, t.label AS theme, m.n AS n
FROM (
    SELECT m.practice_id, count(*) AS n
    FROM mallette_mention m
    WHERE m.organisation_id = %(organisation)s AND m.day >= %(start)s AND m.day < %(end)s
      {scope}
    GROUP BY m.practice_id
) AS m
JOIN mallette_practice p ON p.id = m.practice_id
JOIN mallette_theme t ON t.id = p.primary_theme_id
"""
_MENTIONS_SCOPE_SQL = {
    "organism": "AND m.organism_id = %(value)s",
    "branch": "AND m.organism_id IN (SELECT id FROM campus_organism WHERE branch_id = %(value)s)",
}


def evoked(
    organisation: Organisation, scope: Scope, period: Period, k: int
) -> tuple[list[RankRow], list[RankRow], int, bool]:
    """The practices and themes most evoked in the campus's texts (coach questions, community
    posts, 180° verbatims) over the period: counts of texts only, and only from k texts up
    (a mention records no person, so the threshold applies to the texts). Mentions record no
    level: for a level scope, not available. One query."""
    if scope.dimension == "level":
        return [], [], 0, False
    start, end = _period_bounds(period)
    sql = _MENTIONS_SQL.format(scope=_MENTIONS_SCOPE_SQL.get(scope.dimension, ""))
    rows = _cursor_rows(
        sql, {"organisation": organisation.pk, "start": start, "end": end, "value": scope.value}
    )
    # Practices of the same title and theme count as one line, themes of the same label as one.
    by_practice: dict[tuple[str, str], int] = {}
    by_theme: dict[str, int] = {}
    for row in rows:
        key = (row["title"], row["theme"] or "")
        by_practice[key] = by_practice.get(key, 0) + row["n"]
        by_theme[row["theme"] or ""] = by_theme.get(row["theme"] or "", 0) + row["n"]
    top = sorted(
        ((title, theme, n) for (title, theme), n in by_practice.items() if n >= k),
        key=lambda line: (-line[2], line[0]),
    )[:TOP_PRACTICES]
    practices = [RankRow(label=title, theme=theme, count=n) for title, theme, n in top]
    themes = [
        RankRow(label=label or _("Sans thème"), theme="", count=n)
        for label, n in sorted(by_theme.items(), key=lambda item: (-item[1], item[0]))
        if n >= k
    ]
    return practices, themes, len(by_theme) - len(themes), True


def coach_themes(
    organisation: Organisation, scope: Scope, period: Period, k: int
) -> tuple[list[RankRow], int]:
    """Questions to the coach by theme over the period: number of questions and of distinct
    managers, for themes at least k managers asked about. No question, no answer: the theme
    the coach filed each exchange under. One query (plus the theme labels)."""
    from coach.models import AnswerKind, Exchange
    from mallette.models import Theme

    start, end = _period_bounds(period)
    tz = timezone.get_current_timezone()
    exchanges = Exchange.objects.filter(
        conversation__user__organisation=organisation,
        created_at__gte=dt.datetime.combine(start, dt.time(), tzinfo=tz),
        created_at__lt=dt.datetime.combine(end, dt.time(), tzinfo=tz),
        kind__in=[AnswerKind.ANSWER, AnswerKind.SAFETY],
    ).exclude(theme_slug="")
    exchanges = exchanges.filter(_prefixed(scope.people_filter(), "conversation__user__"))
    rows = list(
        exchanges.values("theme_slug")
        .annotate(questions=Count("pk"), people=Count("conversation__user", distinct=True))
        .order_by()
    )
    labels = dict(Theme.objects.values_list("slug", "label"))
    shown = [
        RankRow(
            label=labels.get(r["theme_slug"], r["theme_slug"]),
            theme=r["theme_slug"],
            count=r["questions"],
            people=r["people"],
        )
        for r in rows
        if r["people"] >= k
    ]
    shown.sort(key=lambda r: (-r.count, r.label))
    return shown, len(rows) - len(shown)


def _prefixed(q: Q, prefix: str) -> Q:
    """``q`` (on people) as seen from a related model."""
    if not q.children:
        return q
    return Q(**{f"{prefix}{key}": value for key, value in q.children})


def outcomes(
    *,
    organisation: Organisation,
    scope: Scope,
    today: dt.date | None = None,
    period: Period | None = None,
) -> Outcomes:
    """Aggregates of the results: never one manager's 180° result, never a coach
    conversation. A constant number of queries."""
    k = min_people(organisation)
    period = period or Period.trailing(MONTHS, today)
    competencies, scores, levels, evolution = diagnosis_figures(organisation, scope, k)
    campaigns, campaigns_total = campaign_rows(organisation, scope, period, k)
    practices, themes, hidden_themes, available = evoked(organisation, scope, period, k)
    coach, hidden_coach = coach_themes(organisation, scope, period, k)
    return Outcomes(
        organisation=organisation,
        k=k,
        scope=scope,
        period=period,
        competencies=[(c, label) for c, label in competencies if any(r.code == c for r in scores)],
        scores=scores,
        levels=levels,
        evolution=evolution,
        campaigns=campaigns,
        campaigns_total=campaigns_total,
        practices=practices,
        themes=themes,
        hidden_themes=hidden_themes,
        coach=coach,
        hidden_coach_themes=hidden_coach,
        mentions_available=available,
    )
