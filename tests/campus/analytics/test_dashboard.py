from __future__ import annotations

import csv
import io

import pytest
from django.urls import reverse
from django.utils import timezone

from campus.analytics.models import Activity, Feature
from campus.analytics.services import activity_record, month_start, months_back
from campus.models import Level
from tests.factories import ManagerFactory, OrganismFactory

pytestmark = pytest.mark.django_db

URL = "/analyses/"
CSV_URL = "/analyses/adoption.csv"


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


@pytest.fixture
def analyst_client(client, hr_analyst):
    client.force_login(hr_analyst)
    return client


def rows_of(response) -> list[list[str]]:
    text = response.content.decode("utf-8-sig")
    return list(csv.reader(io.StringIO(text), delimiter=";"))


# --- Access ----------------------------------------------------------------------------------


@pytest.mark.parametrize("url", [URL, CSV_URL])
def test_a_manager_gets_404(client, manager, url):
    client.force_login(manager)
    assert client.get(url).status_code == 404


@pytest.mark.parametrize("url", [URL, CSV_URL])
def test_an_outsider_gets_404(client, outsider, url):
    client.force_login(outsider)
    assert client.get(url).status_code == 404


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
        assert analyst_client.get(CSV_URL, {"perimetre": bad}).status_code == 200


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


def test_constant_number_of_queries(analyst_client, managers, django_assert_max_num_queries):
    for m in managers:
        activity_record(user=m, feature=Feature.COACH, action="question")
        add(m, Feature.MALLETTE, months_ago=3)
    OrganismFactory.create_batch(5, branch=managers[0].organism.branch)
    with django_assert_max_num_queries(11):
        assert analyst_client.get(URL).status_code == 200
    more = ManagerFactory.create_batch(20, organism=managers[0].organism)
    for m in more:
        for months_ago in range(12):
            add(m, Feature.BOOSTS, months_ago=months_ago)
    with django_assert_max_num_queries(11):
        assert analyst_client.get(URL, {"perimetre": f"level:{Level.PROXIMITY}"}).status_code == 200


# --- CSV export ------------------------------------------------------------------------------


def test_the_csv_keeps_suppressed_cells_suppressed(analyst_client, managers):
    for m in managers[:20]:
        add(m, Feature.COACH)
    for m in managers[:12]:
        add(m, Feature.MALLETTE)
    for m in managers[:3]:
        add(m, Feature.BOOSTS)
    add(managers[0], Feature.LOGIN, months_ago=1)  # a login only: not a use of a feature
    response = analyst_client.get(CSV_URL)
    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/csv")
    assert "attachment" in response["Content-Disposition"]
    rows = rows_of(response)
    headers = [i for i, r in enumerate(rows) if r and r[0] == "Mois"]
    assert len(headers) == 2  # active managers by month, then uses by month and feature
    active_header, active_body = rows[headers[0]], rows[headers[0] + 1 : headers[0] + 13]
    assert active_body[-1][active_header.index("Managers actifs")] == "20"
    assert active_body[-2][active_header.index("Managers actifs")] == "masqué"
    header = rows[headers[1]]
    body = rows[headers[1] + 1 :]
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
    response = analyst_client.get(CSV_URL, {"perimetre": f"organism:{evil.pk}"})
    rows = rows_of(response)
    assert rows[0][1] == "'" + evil.name
    for row in rows:
        for cell in row:
            assert not cell.startswith(("=", "+", "-", "@")), cell


def test_the_csv_follows_the_scope(analyst_client, managers):
    others = ManagerFactory.create_batch(4, organism=managers[0].organism, level=Level.DIRECTOR)
    for m in others:
        add(m, Feature.COACH)
    rows = rows_of(analyst_client.get(CSV_URL, {"perimetre": f"level:{Level.DIRECTOR}"}))
    assert rows[1][1] == "masqué"  # fewer than k managers in scope
