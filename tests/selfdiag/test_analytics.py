from __future__ import annotations

from django.urls import reverse

from selfdiag.selectors import completion_counts
from tests.factories import ManagerFactory, OrganismFactory


def test_completion_counts_are_aggregates_hiding_small_groups(manager, peer_diagnoses, outsider):
    big = OrganismFactory(branch=manager.organism.branch, name="CPAM du Rhône")
    many = ManagerFactory.create_batch(11, organism=big)
    few = ManagerFactory.create_batch(3, organism=manager.organism)
    peer_diagnoses(many, {"sens": 3.0})
    peer_diagnoses(few, {"sens": 3.0})
    peer_diagnoses([outsider], {"sens": 3.0})
    cells, totals = completion_counts(manager.organisation)
    by_organism = {c.organism: c for c in cells}
    assert by_organism["CPAM du Rhône"].managers == 11
    assert by_organism["CPAM du Rhône"].diagnoses == 11
    assert by_organism[manager.organism.name].managers is None  # 3 < 10: hidden
    assert totals == {"managers": 14, "diagnoses": 14}  # the other organisation is not counted


def test_hr_analyst_page_shows_counts_only(client, hr_analyst, manager, peer_diagnoses):
    peer_diagnoses(ManagerFactory.create_batch(10, organism=manager.organism), {"sens": 4.2})
    client.force_login(hr_analyst)
    html = client.get(reverse("selfdiag:analytics")).content.decode()
    assert "10 managers ont terminé 10 diagnostics." in html
    assert "4,2" not in html and "4.2" not in html


def test_managers_do_not_see_the_hr_page(manager_client, client, outsider):
    assert manager_client.get(reverse("selfdiag:analytics")).status_code == 404
    client.force_login(outsider)
    assert client.get(reverse("selfdiag:analytics")).status_code == 404
