"""Directory search: accent- and case-insensitive substring match on the stored folded columns
of groups, which PostgreSQL keeps current on every write path."""

from __future__ import annotations

import pytest
from django.db.models import F
from django.urls import reverse

from communities import services
from communities.models import Group, GroupVisibility
from communities.selectors import directory
from tests.communities.conftest import join, make_group

pytestmark = pytest.mark.django_db


@pytest.fixture
def equipe_groups(manager, peer):
    """Open groups with "équipe" in the name or the description, a closed one the ``stranger``
    is not in, and one without the word."""
    make_group(manager, name="Équipe projet", description="Piloter ensemble.")
    make_group(manager, name="Animer au quotidien", description="Fédérer son ÉQUIPE à distance.")
    closed = make_group(
        manager,
        name="Équipe de direction",
        description="Réservé à l’équipe de direction.",
        visibility=GroupVisibility.CLOSED,
    )
    join(closed, peer)
    make_group(manager, name="Télétravail", description="Organiser le travail hybride.")


def _names(user, query: str) -> set[str]:
    return set(directory(user, query=query).values_list("name", flat=True))


@pytest.mark.parametrize("query", ["equipe", "EQUIPE", "Équipe", "  équipe  "])
def test_search_folds_accents_and_case_in_name_and_description(
    equipe_groups, stranger, peer, query
):
    assert _names(stranger, query) == {"Équipe projet", "Animer au quotidien"}
    assert _names(peer, query) == {
        "Équipe projet",
        "Animer au quotidien",
        "Équipe de direction",
    }


def test_search_finds_substrings_and_folds_ligatures(manager, stranger):
    make_group(manager, name="Cœur de métier", description="")
    assert _names(stranger, "COEUR DE MET") == {"Cœur de métier"}
    assert _names(stranger, "tier") == {"Cœur de métier"}
    assert _names(stranger, "métiers") == set()


def test_search_never_matches_across_name_and_description(manager, stranger):
    make_group(manager, name="Réunion", description="Efficace et courte.")
    assert _names(stranger, "reunion efficace") == set()
    assert _names(stranger, "reunion") == {"Réunion"}


def test_search_escapes_like_wildcards(manager, stranger):
    make_group(manager, name="Objectifs 100 %", description="")
    make_group(manager, name="Objectifs annuels", description="")
    assert _names(stranger, "%") == {"Objectifs 100 %"}
    assert _names(stranger, "objectifs_") == set()


def test_outsider_finds_nothing(equipe_groups, outsider):
    assert _names(outsider, "equipe") == set()


def test_search_is_one_query_whatever_the_number_of_groups(
    manager, stranger, django_assert_num_queries
):
    for i in range(5):
        make_group(manager, name=f"Équipe {i}")
    with django_assert_num_queries(1):
        few = [(g.name, g.member_count, g.is_member) for g in directory(stranger, query="equipe")]
    for i in range(5, 40):
        make_group(manager, name=f"Équipe {i}", visibility=GroupVisibility.CLOSED)
        make_group(manager, name=f"Autre {i}", description="Une équipe.")
    with django_assert_num_queries(1):
        many = [(g.name, g.member_count, g.is_member) for g in directory(stranger, query="equipe")]
    assert len(few) == 5
    assert len(many) == 5 + 35
    assert all(count == 1 and not is_member for _name, count, is_member in many)


def test_search_page_has_constant_queries(client, manager, stranger, django_assert_max_num_queries):
    client.force_login(stranger)
    url = reverse("communities:index")
    for i in range(10):
        make_group(manager, name=f"Équipe {i:03d}")
    client.get(url, {"q": "EQUIPE"})
    with django_assert_max_num_queries(12) as small:
        response = client.get(url, {"q": "EQUIPE"})
    assert "Équipe 000" in response.content.decode()
    for i in range(10, 60):
        make_group(manager, name=f"Équipe {i:03d}")
    with django_assert_max_num_queries(len(small.captured_queries)):
        response = client.get(url, {"q": "EQUIPE"})
    assert response.status_code == 200
    assert "Équipe 000" in response.content.decode()


# --- The stored folded columns follow every write path ----------------------------------------


def _folded(group: Group) -> tuple[str, str]:
    return Group.objects.values_list("name_folded", "description_folded").get(pk=group.pk)


def test_folded_columns_are_filled_on_create(manager):
    group = make_group(manager, name="Œuvrer en ÉQUIPE", description="Être À l’écoute.")
    assert _folded(group) == ("oeuvrer en equipe", "etre a l’ecoute.")
    group.refresh_from_db()
    assert group.name_folded == "oeuvrer en equipe"


def test_folded_columns_follow_the_group_update_service(manager, stranger):
    group = make_group(manager, name="Télétravail", description="Hybride.")
    services.group_update(group=group, data={"name": "Équipes", "description": "Réunions."})
    assert _folded(group) == ("equipes", "reunions.")
    assert _names(stranger, "equipes") == {"Équipes"}
    assert _names(stranger, "reunions") == {"Équipes"}
    assert _names(stranger, "teletravail") == set()
    assert _names(stranger, "hybride") == set()


def test_folded_columns_follow_the_group_edit_form(client, manager, stranger):
    group = make_group(manager, name="Télétravail", description="Hybride.")
    client.force_login(manager)
    response = client.post(
        reverse("communities:group_edit", args=[group.slug]),
        {
            "name": "Délégation",
            "description": "Confier un dossier à son équipe.",
            "kind": "theme",
            "visibility": "open",
        },
    )
    assert response.status_code == 302
    assert _folded(group) == ("delegation", "confier un dossier a son equipe.")
    assert _names(stranger, "DELEGATION") == {"Délégation"}
    assert _names(stranger, "son equipe") == {"Délégation"}
    assert _names(stranger, "teletravail") == set()


def test_folded_columns_follow_the_admin(client, hr_admin, manager, stranger):
    group = Group.objects.create(
        organisation=manager.organisation, name="Télétravail", slug="teletravail"
    )
    client.force_login(hr_admin)
    response = client.post(
        reverse("admin:communities_group_change", args=[group.pk]),
        {
            "organisation": manager.organisation.pk,
            "name": "Reconnaissance",
            "slug": "teletravail",
            "description": "Dire merci à l’équipe.",
            "kind": "theme",
            "visibility": "open",
            "memberships-TOTAL_FORMS": "0",
            "memberships-INITIAL_FORMS": "0",
            "memberships-MIN_NUM_FORMS": "0",
            "memberships-MAX_NUM_FORMS": "1000",
        },
    )
    assert response.status_code == 302, response.content.decode()[:2000]
    assert _folded(group) == ("reconnaissance", "dire merci a l’equipe.")
    assert _names(stranger, "merci a l’equipe") == {"Reconnaissance"}
    assert _names(stranger, "teletravail") == set()


def test_folded_columns_follow_bulk_writes(manager, stranger):
    groups = Group.objects.bulk_create(
        [
            Group(organisation=manager.organisation, name=f"Équipe {i}", slug=f"equipe-{i}")
            for i in range(3)
        ]
    )
    assert _names(stranger, "equipe") == {"Équipe 0", "Équipe 1", "Équipe 2"}
    Group.objects.filter(pk=groups[0].pk).update(description="Séminaire annuel")
    groups[1].name = "Séminaire"
    Group.objects.bulk_update([groups[1]], ["name"])
    assert _names(stranger, "SEMINAIRE") == {"Équipe 0", "Séminaire"}
    # The documented refresh, should campus_unaccent() ever change, is a no-op otherwise.
    Group.objects.update(name=F("name"), description=F("description"))
    assert _folded(groups[0]) == ("equipe 0", "seminaire annuel")
    assert _folded(groups[1]) == ("seminaire", "")
