from __future__ import annotations

import csv
import datetime as dt
import io
import re
from html.parser import HTMLParser

import pytest
from django.urls import reverse
from django.utils import timezone

from campus.analytics.exports import report_csv
from campus.analytics.models import Activity, Feature
from campus.analytics.rollups import rollup_refresh
from campus.analytics.services import activity_record, month_start, months_back
from campus.analytics.tables import report_for
from campus.models import Level
from tests.factories import ManagerFactory, OrganismFactory

pytestmark = pytest.mark.django_db

URL = "/analyses/"


def add(user, feature: str, action: str = "use", months_ago: int = 0) -> None:
    month = months_back(month_start(timezone.localdate()), months_ago)
    Activity.objects.create(
        user=user,
        organisation=user.organisation,
        organism=user.organism,
        level=user.level,
        feature=feature,
        action=action,
        day=month,
        month=month,
    )


@pytest.fixture
def managers(organism):
    """30 managers in one organism (the ``manager`` fixture is not among them)."""
    return ManagerFactory.create_batch(30, organism=organism)


class RefreshingClient:
    """A test client whose GETs first run the beat job (the rollup refresh), as if the
    activity added by the test had been folded into the dashboard's aggregates."""

    def __init__(self, client, organisation):
        self.client = client
        self.organisation = organisation

    def get(self, *args, **kwargs):
        rollup_refresh(organisation=self.organisation)
        return self.client.get(*args, **kwargs)


@pytest.fixture
def analyst_client(client, hr_analyst):
    client.force_login(hr_analyst)
    return RefreshingClient(client, hr_analyst.organisation)


def csv_rows(organisation, params: dict | None = None) -> list[list[str]]:
    """The adoption report as the CSV export writes it (after the beat's rollup refresh)."""
    rollup_refresh(organisation=organisation)
    data = report_csv(report_for("adoption", organisation, params or {}))
    return list(csv.reader(io.StringIO(data.decode("utf-8-sig")), delimiter=";"))


# --- Access ----------------------------------------------------------------------------------


def test_a_manager_gets_404(client, manager):
    client.force_login(manager)
    assert client.get(URL).status_code == 404


def test_an_outsider_gets_404(client, outsider):
    client.force_login(outsider)
    assert client.get(URL).status_code == 404


def test_anonymous_visitors_are_sent_to_login(client):
    response = client.get(URL)
    assert response.status_code == 302
    assert "/comptes/" in response["Location"]


@pytest.mark.parametrize("persona", ["hr_analyst", "hr_admin"])
def test_hr_analysts_and_admins_see_the_dashboard(client, request, persona):
    client.force_login(request.getfixturevalue(persona))
    response = client.get(URL)
    assert response.status_code == 200
    assert reverse("analytics:dashboard") == URL
    assert b"<svg" in response.content and b"<table" in response.content
    assert b"style=" not in response.content.split(b"<main")[1]


def test_an_unknown_scope_falls_back_to_the_organisation(analyst_client):
    for bad in ["organism:999999", "level:nope", "branch:abc", "x" * 300]:
        response = analyst_client.get(URL, {"perimetre": bad})
        assert response.status_code == 200
        assert csv_rows(analyst_client.organisation, {"perimetre": bad})[0][1] == (
            "Toute l’organisation"
        )


# --- Figures ---------------------------------------------------------------------------------


def test_monthly_active_managers_count_and_share(analyst_client, managers, manager):
    for m in managers[:15]:
        add(m, Feature.COACH)
        add(m, Feature.LOGIN)  # the same person twice in a month counts once
    add(managers[0], Feature.COACH, months_ago=1)  # one active manager last month: masked
    response = analyst_client.get(URL)
    current = response.context["dashboard"].months[-1]
    previous = response.context["dashboard"].months[-2]
    assert response.context["dashboard"].managers.value == 31
    assert current.active.shown == 15
    assert current.share == round(100 * 15 / 31, 1)
    assert previous.active.hidden and previous.share is None
    assert len(response.context["dashboard"].months) == 12
    html = response.content.decode()
    assert "masqué" in html
    assert "48,4 %" in html  # 15 / 31, French decimal comma


def test_a_count_close_to_the_population_is_masked_too(analyst_client, managers, manager):
    """28 active out of 31: the 3 inactive managers are a small group given by subtraction."""
    for m in managers[:28]:
        add(m, Feature.COACH)
    current = analyst_client.get(URL).context["dashboard"].months[-1]
    assert current.active.hidden


def test_hr_staff_activity_and_other_organisations_are_not_counted(
    analyst_client, managers, hr_analyst, outsider
):
    for m in managers[:12]:
        add(m, Feature.COACH)
    add(hr_analyst, Feature.COACH)
    add(outsider, Feature.COACH)
    current = analyst_client.get(URL).context["dashboard"].months[-1]
    assert current.active.shown == 12


def test_feature_uses_with_complementary_suppression(analyst_client, managers):
    """One small cell in the current month's row (3 people on the boosts): another cell of
    the row is masked too, so the row total cannot give it back."""
    for m in managers[:20]:
        add(m, Feature.COACH)
    for m in managers[:12]:
        add(m, Feature.MALLETTE)
    for m in managers[:3]:
        add(m, Feature.BOOSTS)
    dashboard = analyst_client.get(URL).context["dashboard"]
    codes = [code for code, _label in dashboard.features]
    row = dashboard.usage.cells[-1]
    total = dashboard.usage.row_totals[-1]
    boosts = row[codes.index("boosts")]
    assert boosts.hidden
    hidden = [c for c in row if c.hidden]
    assert len(hidden) >= 2 or total.hidden
    visible = sum(c.value for c in row if not c.hidden)
    if not total.hidden:
        assert total.value - visible != boosts.value
    # The smallest other figure (mallette, 12) is the complementary cell; coach stays.
    assert row[codes.index("mallette")].hidden
    assert row[codes.index("coach")].shown == 20
    # The column totals over the period hide them as well (else column = row subtraction).
    assert dashboard.usage.col_totals[codes.index("boosts")].hidden


def test_one_dimension_filters_population_and_activity(analyst_client, managers):
    other = OrganismFactory(branch=managers[0].organism.branch)
    others = ManagerFactory.create_batch(12, organism=other, level=Level.STRATEGIC)
    for m in others:
        add(m, Feature.COACH)
    for m in managers[:15]:
        add(m, Feature.COACH)
    response = analyst_client.get(URL, {"perimetre": f"organism:{other.pk}"})
    dashboard = response.context["dashboard"]
    assert dashboard.scope.label == other.name
    assert dashboard.managers.value == 12
    # 12 active of 12: the inactive group is 0 (nobody), so the count is shown.
    assert dashboard.months[-1].active.shown == 12
    by_level = analyst_client.get(URL, {"perimetre": f"level:{Level.STRATEGIC}"})
    assert by_level.context["dashboard"].months[-1].active.shown == 12
    by_branch = analyst_client.get(URL, {"perimetre": f"branch:{other.branch_id}"})
    assert by_branch.context["dashboard"].months[-1].active.shown == 27


def test_a_small_scope_masks_everything(analyst_client, managers):
    few = ManagerFactory.create_batch(4, organism=managers[0].organism, level=Level.DIRECTOR)
    for m in few:
        add(m, Feature.COACH)
    dashboard = analyst_client.get(URL, {"perimetre": f"level:{Level.DIRECTOR}"}).context[
        "dashboard"
    ]
    assert dashboard.managers.hidden
    assert all(m.active.hidden or m.active.value == 0 for m in dashboard.months)
    assert dashboard.months[-1].active.hidden


def test_the_organisation_threshold_raises_k_but_never_lowers_it(analyst_client, managers):
    organisation = managers[0].organisation
    for m in managers[:15]:
        add(m, Feature.COACH)
    organisation.analytics_min_people = 3
    organisation.save()
    assert analyst_client.get(URL).context["dashboard"].k == 10
    organisation.analytics_min_people = 20
    organisation.save()
    dashboard = analyst_client.get(URL).context["dashboard"]
    assert dashboard.k == 20
    assert dashboard.months[-1].active.hidden


def test_constant_number_of_queries(client, hr_analyst, managers, django_assert_max_num_queries):
    """Session, user, scope choices (2), population, refresh date, rollup rows, 180° campaigns
    (2): the same count whatever the data, read from the rollup."""
    client.force_login(hr_analyst)
    for m in managers:
        activity_record(user=m, feature=Feature.COACH, action="question")
        add(m, Feature.MALLETTE, months_ago=3)
    OrganismFactory.create_batch(5, branch=managers[0].organism.branch)
    rollup_refresh(organisation=hr_analyst.organisation)
    with django_assert_max_num_queries(9):
        assert client.get(URL).status_code == 200
    more = ManagerFactory.create_batch(20, organism=managers[0].organism)
    for m in more:
        for months_ago in range(12):
            add(m, Feature.BOOSTS, "attend", months_ago=months_ago)
    rollup_refresh(organisation=hr_analyst.organisation)
    with django_assert_max_num_queries(9):
        params = {"perimetre": f"level:{Level.PROXIMITY}", "periode": "6"}
        assert client.get(URL, params).status_code == 200


# --- CSV export ------------------------------------------------------------------------------


def test_the_csv_keeps_suppressed_cells_suppressed(analyst_client, managers):
    for m in managers[:20]:
        add(m, Feature.COACH)
    for m in managers[:12]:
        add(m, Feature.MALLETTE)
    for m in managers[:3]:
        add(m, Feature.BOOSTS)
    add(managers[0], Feature.LOGIN, months_ago=1)  # a login only: not a use of a feature
    rows = csv_rows(analyst_client.organisation)
    headers = [i for i, r in enumerate(rows) if r and r[0] == "Mois"]
    # Active managers by month, uses by feature, by action, devices, 180° campaigns.
    assert len(headers) == 5
    active_header, active_body = rows[headers[0]], rows[headers[0] + 1 : headers[0] + 13]
    assert active_body[-1][active_header.index("Managers actifs")] == "20"
    assert active_body[-2][active_header.index("Managers actifs")] == "masqué"
    header = rows[headers[1]]
    body = rows[headers[1] + 1 : rows.index([], headers[1])]
    current = body[-2]
    assert current[header.index("Boosts")] == "masqué"
    assert current[header.index("Mallette des pratiques")] == "masqué"
    assert current[header.index("Coach")] == "20"
    # No number in the file gives back a masked one: the 3 boost uses appear nowhere.
    assert body[-1][header.index("Boosts")] == "masqué"


def test_the_csv_escapes_cells_that_look_like_formulas(analyst_client, managers):
    evil = OrganismFactory(branch=managers[0].organism.branch, name='=HYPERLINK("http://x")')
    for name in ["+cmd", "-2+3", "@SUM(A1)"]:
        OrganismFactory(branch=managers[0].organism.branch, name=name)
    rows = csv_rows(analyst_client.organisation, {"perimetre": f"organism:{evil.pk}"})
    assert rows[0][1] == "'" + evil.name
    for row in rows:
        for cell in row:
            assert not cell.startswith(("=", "+", "-", "@")), cell


def test_the_csv_follows_the_scope(analyst_client, managers):
    others = ManagerFactory.create_batch(4, organism=managers[0].organism, level=Level.DIRECTOR)
    for m in others:
        add(m, Feature.COACH)
    rows = csv_rows(analyst_client.organisation, {"perimetre": f"level:{Level.DIRECTOR}"})
    assert rows[1][1] == "masqué"  # fewer than k managers in scope


# --- Every analytics URL is closed to managers --------------------------------------------------


def _analytics_urls() -> list[str]:
    """Every URL of the ``analytics`` namespace (exports included), with sample arguments."""
    from django.urls import get_resolver

    resolver = get_resolver()
    urls = []
    namespace = resolver.namespace_dict["analytics"][1]
    for pattern in namespace.url_patterns:
        kwargs = {key: ("adoption" if key == "page" else 1) for key in pattern.pattern.converters}
        urls.append(reverse(f"analytics:{pattern.name}", kwargs=kwargs))
    return urls


def test_a_manager_gets_404_on_every_analytics_url(client, manager):
    client.force_login(manager)
    urls = _analytics_urls()
    assert {URL, "/analyses/resultats/", "/analyses/seuil/", "/analyses/exports/"} <= set(urls)
    for url in urls:
        # 405 only for a method the URL never serves (it says nothing about the data).
        statuses = {client.get(url).status_code, client.post(url).status_code}
        assert 404 in statuses and statuses <= {404, 405}, (url, statuses)


# --- Period ------------------------------------------------------------------------------------


def test_the_period_filter_chooses_the_months(analyst_client, managers):
    for m in managers[:12]:
        add(m, Feature.COACH, months_ago=4)
    three = analyst_client.get(URL, {"periode": "3"}).context["dashboard"]
    assert len(three.months) == 3
    assert three.months[-1].month == month_start(timezone.localdate())
    assert three.usage.grand.value == 0  # the coach uses of 4 months ago are outside
    six = analyst_client.get(URL, {"periode": "6"}).context["dashboard"]
    assert len(six.months) == 6 and six.usage.grand.shown == 12

    first = months_back(month_start(timezone.localdate()), 5)
    last = months_back(month_start(timezone.localdate()), 4)
    params = {"periode": "mois", "debut": f"{first:%Y-%m}", "fin": f"{last:%Y-%m}"}
    response = analyst_client.get(URL, params)
    ranged = response.context["dashboard"]
    assert [m.month for m in ranged.months] == [first, last]
    assert ranged.months[-1].active.shown == 12
    # The export links carry the period.
    assert f"debut={first:%Y-%m}" in response.context["query"]
    assert f"periode=mois&amp;debut={first:%Y-%m}" in response.content.decode()


@pytest.mark.parametrize(
    ("params", "message"),
    [
        ({"periode": "mois", "debut": "2020-01", "fin": "2020-02"}, "Choisissez un mois entre"),
        ({"periode": "mois", "debut": "janvier", "fin": ""}, "Indiquez un mois au format AAAA-MM"),
        ({"periode": "mois", "debut": "", "fin": ""}, "indiquez le premier et le dernier mois"),
        ({"periode": "24"}, "Sélectionnez un choix valide"),
    ],
)
def test_an_invalid_period_says_why_in_french_and_shows_12_months(analyst_client, params, message):
    response = analyst_client.get(URL, params)
    assert response.status_code == 200
    html = response.content.decode()
    assert message in html
    assert "La période n’est pas valide" in html
    assert len(response.context["dashboard"].months) == 12
    # What was typed stays in the form.
    for key, value in params.items():
        if value and key != "periode":
            assert f'value="{value}"' in html


def test_a_range_in_the_wrong_order_is_refused(analyst_client):
    last = month_start(timezone.localdate())
    params = {"periode": "mois", "debut": f"{last:%Y-%m}", "fin": f"{months_back(last, 2):%Y-%m}"}
    html = analyst_client.get(URL, params).content.decode()
    assert "Le premier mois doit précéder le dernier" in html


# --- Actions, devices, cohorts, campaigns -------------------------------------------------------


def test_uses_by_action_with_complementary_suppression_across_tables(analyst_client, managers):
    """15 boost registrations and 3 attendances this month: attendance is masked, and since
    the boosts' uses (feature table) add up to both, registrations are masked too."""
    for m in managers[:15]:
        add(m, Feature.BOOSTS, "register")
    for m in managers[:3]:
        add(m, Feature.BOOSTS, "attend")
    for m in managers[:20]:
        add(m, Feature.COACH, "question")
    dashboard = analyst_client.get(URL).context["dashboard"]
    keys = [key for key, _label in dashboard.actions]
    row = dashboard.action_grid.cells[-1]
    attend, register = row[keys.index("boosts.attend")], row[keys.index("boosts.register")]
    assert attend.people == 3 and attend.hidden
    codes = [code for code, _l in dashboard.features]
    boosts = dashboard.usage.cells[-1][codes.index("boosts")]
    assert boosts.value == 18
    assert register.hidden or boosts.hidden
    assert row[keys.index("coach.question")].shown == 20
    # The period column of attendance is masked as well (it equals this month's).
    assert dashboard.action_grid.col_totals[keys.index("boosts.attend")].hidden


def test_untracked_actions_fill_an_other_column_so_that_features_add_up(analyst_client, managers):
    for m in managers[:12]:
        add(m, Feature.COACH, "question")
        add(m, Feature.COACH, "exercise")
    dashboard = analyst_client.get(URL).context["dashboard"]
    keys = [key for key, _label in dashboard.actions]
    assert "coach.autres" in keys
    row = dashboard.action_grid.cells[-1]
    assert row[keys.index("coach.autres")].shown == 12
    assert sum(c.value for c in row) == dashboard.usage.row_totals[-1].value


def test_desktop_and_mobile_shares_with_suppression(analyst_client, managers):
    for m in managers[:20]:
        add(m, Feature.COACH)
    for m in managers[20:23]:
        Activity.objects.filter(user=m).delete()
        activity = Activity(
            user=m,
            organisation=m.organisation,
            organism=m.organism,
            level=m.level,
            feature=Feature.COACH,
            action="question",
            day=month_start(timezone.localdate()),
            month=month_start(timezone.localdate()),
            device="mobile",
        )
        activity.save()
    response = analyst_client.get(URL)
    dashboard = response.context["dashboard"]
    label, cells, total, share = dashboard.device_rows[-2]  # this month
    desktop, mobile = cells
    assert mobile.people == 3 and mobile.hidden
    assert desktop.hidden  # else 23 - 20 gives the 3 mobile uses back
    assert share is None
    for m in managers[23:30]:
        add(m, Feature.COACH)  # desktop
    assert b'role="img"' in response.content


def test_cohorts_on_a_small_hand_made_dataset(analyst_client, managers, organism):
    """Cohort A: 30 managers first active 3 months ago, then 20, 10 and 25 of them active;
    cohort B: 12 managers first active last month, all active again this month."""
    more = ManagerFactory.create_batch(30, organism=organism)  # never active: population
    cohort_a = managers[:30]
    cohort_b = more[:12]
    for m in cohort_a:
        add(m, Feature.LOGIN, "login", months_ago=3)
    for m in cohort_a[:20]:
        add(m, Feature.COACH, months_ago=2)
    for m in cohort_a[:10]:
        add(m, Feature.COACH, months_ago=1)
    for m in cohort_a[:25]:
        add(m, Feature.COACH, months_ago=0)
    for m in cohort_b:
        add(m, Feature.MALLETTE, "view", months_ago=1)
        add(m, Feature.MALLETTE, "view", months_ago=0)
    dashboard = analyst_client.get(URL).context["dashboard"]
    cohorts = {c.month: c for c in dashboard.cohorts}
    this = month_start(timezone.localdate())
    a, b = cohorts[months_back(this, 3)], cohorts[months_back(this, 1)]
    assert a.size.shown == 30 and b.size.shown == 12
    shares_a = [share for _cell, share in a.cells]
    # 100 %, 20/30, 10/30, then 25/30 masked: the 5 inactive managers are fewer than k.
    assert shares_a[:3] == [100, 67, 33]
    assert shares_a[3] is None and a.cells[3][0].hidden
    # This month's active count (37) = 25 (masked) + 12 (cohort B) + nobody older: cohort B's
    # figure or the month's count is masked too, so that 25 cannot be recovered.
    current = dashboard.months[-1]
    assert current.active.value == 37
    assert b.cells[1][0].hidden or current.active.hidden
    assert b.cells[0][1] == 100
    assert dashboard.cohort_width == 4
    assert len(a.cells) + a.pad == len(b.cells) + b.pad == 4
    assert all(c.month != months_back(this, 12) for c in dashboard.cohorts)


def _campaign(manager, *, opened, closed=None, invited=0, responded=0):
    from feedback180.models import Campaign, CampaignStatus, Invitation

    campaign = Campaign.objects.create(
        organisation=manager.organisation,
        manager=manager,
        organism=manager.organism,
        status=CampaignStatus.CLOSED if closed else CampaignStatus.OPEN,
        closes_on=timezone.localdate(),
        opened_at=opened,
        closed_at=closed,
    )
    Invitation.objects.bulk_create(
        [
            Invitation(campaign=campaign, email=f"r{i}@x.test", sent=True, responded=i < responded)
            for i in range(invited)
        ]
    )
    return campaign


def test_campaigns_and_response_rates_are_aggregated_and_suppressed(analyst_client, managers):
    now = timezone.now()
    for m in managers[:12]:
        _campaign(m, opened=now, closed=now, invited=5, responded=4)
    for m in managers[12:15]:
        _campaign(m, opened=now)
    dashboard = analyst_client.get(URL).context["dashboard"]
    current = dashboard.campaigns[-1]
    assert current.opened.shown == 15
    assert current.closed.shown == 12
    assert current.rate == 80.0
    assert dashboard.campaigns_total.closed.shown == 12


def test_few_campaigns_are_masked_with_their_rate(analyst_client, managers):
    now = timezone.now()
    earlier = now - dt.timedelta(days=62)
    for m in managers[:3]:
        _campaign(m, opened=now, closed=now, invited=5, responded=5)
    for m in managers[3:20]:
        _campaign(m, opened=earlier)
    dashboard = analyst_client.get(URL).context["dashboard"]
    current = dashboard.campaigns[-1]
    assert current.closed.hidden and current.opened.hidden
    assert current.rate is None and current.rate_hidden
    # The period's total of opened campaigns (20) minus the visible 17 would give 3 back.
    opened = [r.opened for r in dashboard.campaigns]
    assert sum(c.hidden for c in opened) + dashboard.campaigns_total.opened.hidden >= 2


# --- Structure of the pages (accessibility) ---------------------------------------------------


class _Structure(HTMLParser):
    def __init__(self):
        super().__init__()
        self.headings: list[int] = []
        self.ids: list[str] = []
        self.tables = self.captions = 0
        self.unscoped_th: list[str] = []
        self.labels: set[str] = set()
        self.fields: list[str] = []
        self.in_main = False

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        if tag == "main":
            self.in_main = True
        if "id" in attrs:
            self.ids.append(attrs["id"])
        if not self.in_main:
            return
        if tag in {"h1", "h2", "h3", "h4"}:
            self.headings.append(int(tag[1]))
        elif tag == "table":
            self.tables += 1
        elif tag == "caption":
            self.captions += 1
        elif tag == "th" and "scope" not in attrs:
            self.unscoped_th.append(str(attrs))
        elif tag == "label":
            self.labels.add(attrs.get("for", ""))
        elif tag in {"input", "select", "textarea"} and attrs.get("type") not in {
            "hidden",
            "submit",
        }:
            self.fields.append(attrs.get("id", ""))


@pytest.mark.parametrize("url", [URL, "/analyses/resultats/", "/analyses/seuil/"])
def test_pages_have_ordered_headings_captions_scoped_headers_and_labels(
    client, hr_admin, managers, url
):
    for m in managers[:12]:
        add(m, Feature.COACH)
    rollup_refresh(organisation=hr_admin.organisation)
    client.force_login(hr_admin)
    response = client.get(url, {"periode": "mois", "debut": "x"} if url == URL else {})
    page = _Structure()
    page.feed(response.content.decode())
    assert page.headings[0] == 1 and page.headings.count(1) == 1
    for before, after in zip(page.headings, page.headings[1:], strict=False):
        assert after <= before + 1, page.headings  # no level skipped
    assert page.tables == page.captions
    assert page.unscoped_th == []
    assert set(page.fields) <= page.labels, set(page.fields) - page.labels
    assert len(page.ids) == len(set(page.ids)), "duplicate ids"
    assert b"style=" not in response.content.split(b"<main")[1]


def test_svg_coordinates_are_never_written_with_a_decimal_comma(analyst_client, managers):
    """French number formatting must not reach SVG attributes (browsers reject "130,5")."""
    for m in managers[:15]:
        add(m, Feature.COACH)
    for url in (URL, "/analyses/resultats/"):
        html = analyst_client.get(url).content.decode()
        assert "<svg" in html
        assert not re.search(r'\s(?:x|y|cx|cy|x1|x2|y1|y2|width|height)="-?\d+,\d', html)
        assert not re.search(r'points="[^"]*\d,\d+,', html)


def test_chart_axes_have_whole_tick_values():
    from campus.analytics.charts import bar_chart, stacked_bar_chart

    assert [t.value for t in bar_chart([("a", "a", 0)]).ticks] == [0, 2, 4, 6, 8, 10]
    assert [t.value for t in bar_chart([("a", "a", 17)]).ticks] == [0, 4, 8, 12, 16, 20]
    stacked = stacked_bar_chart([("a", "a", [1, 1])], [("x", ""), ("y", "")])
    assert [t.value for t in stacked.ticks] == [0, 1, 2]
