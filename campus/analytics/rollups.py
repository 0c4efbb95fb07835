"""Pre-aggregated activity for the adoption dashboard, refreshed by Celery beat.

Aggregating the activity log on every page view is too slow at the benchmark size (20,000
managers, about a million activity rows a year: several hundred milliseconds per aggregate).
The beat job folds it into one row per organisation, *scope*, month and *metric*: the page
then reads a few hundred rows.

Scopes: ``""`` (the whole organisation), ``branch:<id>``, ``organism:<id>``, ``level:<code>``
(the keys of :class:`campus.analytics.selectors.Scope`): never two dimensions crossed.

Metrics (``uses``: activity rows, i.e. person-days; ``people``: distinct managers):

* ``active``: any activity (logins included);
* ``used``: any use of a feature (logins excluded);
* ``feature:<feature>``, ``action:<feature>.<action>``, ``device:<device>``;
* ``cohort:<YYYY-MM>``: managers whose first recorded activity was that month, active in the
  row's month (the first recorded activity: the log keeps 13 months);
* ``last:<metric>``: managers whose *last* month with that metric is the row's month. The
  distinct people over months ``first..last`` are the sum of these rows when no later month
  exists (periods that end with the latest month): exact period totals without scanning the
  log; for older periods they give a lower bound (see ``selectors``).
"""

from __future__ import annotations

from celery import shared_task
from django.db import connection, models, transaction
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from campus.analytics.models import RETENTION_MONTHS


class ActivityRollup(models.Model):
    organisation = models.ForeignKey(
        "campus.Organisation", on_delete=models.CASCADE, related_name="+"
    )
    scope = models.CharField(_("périmètre"), max_length=40, blank=True)
    month = models.DateField(_("mois"))
    metric = models.CharField(_("mesure"), max_length=80)
    uses = models.PositiveIntegerField(_("utilisations"), default=0)
    people = models.PositiveIntegerField(_("personnes"), default=0)

    class Meta:
        verbose_name = _("agrégat d’activité")
        verbose_name_plural = _("agrégats d’activité")
        constraints = [
            # Its index serves the page's only read: one organisation, one scope, a month range.
            models.UniqueConstraint(
                fields=["organisation", "scope", "month", "metric"], name="rollup_unique"
            )
        ]

    def __str__(self) -> str:
        return f"{self.scope or '*'} {self.month:%Y-%m} {self.metric}"


class RollupRefresh(models.Model):
    """When an organisation's rollup was last rebuilt (shown on the dashboard)."""

    organisation = models.OneToOneField(
        "campus.Organisation", on_delete=models.CASCADE, related_name="+"
    )
    refreshed_at = models.DateTimeField(_("mis à jour le"))

    class Meta:
        verbose_name = _("mise à jour des agrégats")
        verbose_name_plural = _("mises à jour des agrégats")

    def __str__(self) -> str:
        return f"{self.organisation_id} @ {self.refreshed_at:%Y-%m-%d %H:%M}"


# One statement: the log of the kept months, managers only (HR staff's clicks are not
# adoption), each row expanded into its metrics and reduced to one row per person, month and
# metric. A person is in one organism and one level per month (those of their latest activity
# that month), so each (scope, month, metric) holds a person once: plain counts, not distinct
# counts, and the four scopes come out of one GROUPING SETS pass (hashing, not sorting
# millions of rows: 12 s for the benchmark's 525,000 activity rows, against 40 s for the
# first, distinct-counting version). GROUPING() tells the scope: 7 = the organisation,
# 3 = a branch, 5 = an organism, 6 = a level.
_REFRESH_SQL = """
WITH base AS (
    SELECT a.user_id, a.month, a.day, a.feature, a.action, a.device, a.organism_id,
           o.branch_id, a.level
    FROM campus_activity a
    JOIN campus_user u ON u.id = a.user_id
    LEFT JOIN campus_organism o ON o.id = a.organism_id
    WHERE a.organisation_id = %(organisation)s AND a.month >= %(first)s
      AND u.roles @> ARRAY['manager']::varchar[]
),
user_month AS (
    SELECT DISTINCT ON (user_id, month) user_id, month, organism_id, branch_id, level
    FROM base ORDER BY user_id, month, day DESC
),
cohort AS (
    SELECT user_id, min(month) AS first_month FROM user_month GROUP BY user_id
),
per_user AS (
    SELECT b.user_id, b.month, m.metric, count(*) AS uses
    FROM base b
    JOIN cohort c USING (user_id)
    CROSS JOIN LATERAL (VALUES
        ('active'),
        ('device:' || b.device),
        ('action:' || b.feature || '.' || b.action),
        (CASE WHEN b.feature <> 'login' THEN 'used' END),
        (CASE WHEN b.feature <> 'login' THEN 'feature:' || b.feature END),
        ('cohort:' || to_char(c.first_month, 'YYYY-MM'))
    ) AS m(metric)
    WHERE m.metric IS NOT NULL
    GROUP BY 1, 2, 3
),
joined AS (
    SELECT p.user_id, p.month, p.metric, p.uses, um.organism_id, um.branch_id,
           NULLIF(um.level, '') AS level
    FROM per_user p JOIN user_month um USING (user_id, month)
),
monthly AS (
    SELECT month, metric, branch_id, organism_id, level,
           GROUPING(branch_id, organism_id, level) AS g,
           sum(uses) AS uses, count(*) AS people
    FROM joined
    GROUP BY GROUPING SETS ((month, metric), (month, metric, branch_id),
                            (month, metric, organism_id), (month, metric, level))
),
lasts_user AS (
    SELECT metric, user_id, branch_id, organism_id, level,
           GROUPING(branch_id, organism_id, level) AS g, max(month) AS last_month
    FROM joined WHERE metric NOT LIKE 'cohort:%%'
    GROUP BY GROUPING SETS ((metric, user_id), (metric, user_id, branch_id),
                            (metric, user_id, organism_id), (metric, user_id, level))
),
lasts AS (
    SELECT last_month AS month, 'last:' || metric AS metric, branch_id, organism_id, level, g,
           0 AS uses, count(*) AS people
    FROM lasts_user GROUP BY 1, 2, 3, 4, 5, 6
),
counted AS (
    SELECT * FROM monthly UNION ALL SELECT * FROM lasts
)
INSERT INTO campus_activityrollup (organisation_id, scope, month, metric, uses, people)
SELECT %(organisation)s, scope, month, metric, uses, people
FROM (
    SELECT month, metric, uses, people,
           CASE g WHEN 7 THEN ''
                  WHEN 3 THEN 'branch:' || branch_id
                  WHEN 5 THEN 'organism:' || organism_id
                  WHEN 6 THEN 'level:' || level END AS scope
    FROM counted
) s
WHERE scope IS NOT NULL
"""


@transaction.atomic
def rollup_refresh(*, organisation: object) -> int:
    """Rebuild ``organisation``'s rollup from the activity log (readers see the old rows until
    the commit). Returns the number of rows written."""
    from campus.analytics.services import month_start, months_back

    now = timezone.now()
    first = months_back(month_start(timezone.localdate()), RETENTION_MONTHS - 1)
    org_id = organisation.pk  # type: ignore[attr-defined]
    ActivityRollup.objects.filter(organisation_id=org_id).delete()
    with connection.cursor() as cursor:
        # The hash tables of a large organisation (a million person-metric rows) fit in memory
        # with this; the setting ends with the transaction.
        cursor.execute("SET LOCAL work_mem = '64MB'")
        cursor.execute(_REFRESH_SQL, {"organisation": org_id, "first": first})
        written = cursor.rowcount
    RollupRefresh.objects.update_or_create(organisation_id=org_id, defaults={"refreshed_at": now})
    return written


def rollups_refresh_all() -> int:
    """Every organisation with activity (the beat job). Returns the organisations refreshed."""
    from campus.models import Organisation

    count = 0
    for organisation in Organisation.objects.only("pk"):
        rollup_refresh(organisation=organisation)
        count += 1
    return count


@shared_task(name="campus.tasks.analytics_rollup_refresh", acks_late=True)
def analytics_rollup_refresh() -> int:
    """Beat (every 30 minutes): rebuild the dashboard's pre-aggregated activity. Idempotent.
    Here rather than in ``tasks.py`` so that the model and its job live together; the module
    is imported with the models, so the worker knows the task."""
    return rollups_refresh_all()
