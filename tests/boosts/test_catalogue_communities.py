"""Catalogue filter "Mes communautés": the boosts whose audience names one of my groups.

Rules under test (boosts/views.py ``index``, boosts/selectors.py ``communities_of``,
``for_communities``, ``community_mentions``): only groups the person is an *active* member of
count (an invitation does not, leaving ends it); the filter narrows what the person may see
anyway and combines with the period, theme and format; each card names the person's own
groups in the audience and no other; the page costs the same number of queries whatever the
number of boosts and groups; a bad value is ignored with a French message, never a 500."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from boosts.models import Boost, BoostFormat, Registration, RegistrationStatus
from communities.models import Group, GroupVisibility, Membership, MembershipStatus
from mallette.models import Theme
from tests.boosts.groups import client_of, join, make_group
from tests.factories import HrAdminFactory, ManagerFactory

pytestmark = pytest.mark.django_db

INDEX = reverse("boosts:index")


def page(c: Client, **params: str) -> str:
    response = c.get(INDEX, params)
    assert response.status_code == 200
    return response.content.decode()


def results(c: Client, **params: str) -> str:
    """The list region only (the htmx fragment), so the filter's options do not count."""
    response = c.get(INDEX, params, HTTP_HX_REQUEST="true")
    assert response.status_code == 200
    return response.content.decode()


@pytest.fixture
def secret(organism) -> Group:
    """A closed group the manager is not in: its name must never reach them."""
    return make_group(organism.organisation, "Club confidentiel", visibility=GroupVisibility.CLOSED)


@pytest.fixture
def others(organism) -> Group:
    return make_group(organism.organisation, "Qualité de vie au travail")


@pytest.fixture
def pending(organism) -> Group:
    return make_group(organism.organisation, "Invitation en attente")


@pytest.fixture
def catalogue(make_boost, manager, pilots, circle, secret, others, pending) -> dict[str, Boost]:
    """The manager is an active member of "pilots" and "circle", invited to "pending"."""
    join(pilots, manager)
    join(circle, manager)
    join(pending, manager, status=MembershipStatus.INVITED)
    boosts = {
        "open": make_boost(title="Ouvert à tous"),
        "pilots": make_boost(title="Pour les pilotes"),
        "circle": make_boost(title="Pour le cercle"),
        "mixed": make_boost(title="Pilotes et club"),
        "pending": make_boost(title="Pour les invités"),
    }
    boosts["pilots"].audience_communities.set([pilots])
    boosts["circle"].audience_communities.set([circle])
    boosts["mixed"].audience_communities.set([pilots, secret, others])
    boosts["pending"].audience_communities.set([pending])
    return boosts


# --- The filter ---------------------------------------------------------------------------


def test_filter_lists_only_the_boosts_of_my_active_communities(catalogue, manager):
    c = client_of(manager)
    everything = results(c)
    assert "Ouvert à tous" in everything
    assert "Pour les invités" not in everything  # not in the audience at all

    mine = results(c, community="mine")
    assert "Pour les pilotes" in mine
    assert "Pour le cercle" in mine
    assert "Pilotes et club" in mine
    assert "Ouvert à tous" not in mine  # no community in its audience
    assert "Pour les invités" not in mine  # an invitation is not a membership


def test_filter_on_one_community(catalogue, manager, circle):
    listing = results(client_of(manager), community=str(circle.pk))
    assert "Pour le cercle" in listing
    assert "Pour les pilotes" not in listing
    assert "Pilotes et club" not in listing
    assert "Ouvert à tous" not in listing


def test_accepting_the_invitation_brings_its_boosts(catalogue, manager, pending):
    Membership.objects.filter(group=pending, user=manager).update(status=MembershipStatus.ACTIVE)
    assert "Pour les invités" in results(client_of(manager), community="mine")


def test_a_left_community_no_longer_counts_even_for_a_kept_registration(catalogue, manager, circle):
    Registration.objects.create(
        boost=catalogue["circle"], user=manager, status=RegistrationStatus.CONFIRMED
    )
    Membership.objects.filter(group=circle, user=manager).delete()  # what leaving does
    c = client_of(manager)
    assert "Pour le cercle" in results(c)  # kept: they are registered (boosts_visible_to)
    mine = results(c, community="mine")
    assert "Pour le cercle" not in mine
    assert "Pour les pilotes" in mine
    # The left group is no longer offered, and asking for it is refused.
    assert "Cercle des directeurs" not in page(c)
    refused = page(c, community=str(circle.pk))
    assert "Cette communauté ne fait pas partie des vôtres" in refused


def test_non_member_sees_nothing_with_the_filter_and_gets_the_directory_link(catalogue, organism):
    stranger = ManagerFactory(organism=organism)
    c = client_of(stranger)
    assert "Ouvert à tous" in results(c)
    listing = results(c, community="mine")
    for boost in catalogue.values():
        assert boost.title not in listing
    assert "Vous n’êtes membre actif d’aucune communauté" in listing
    assert f'href="{reverse("communities:index")}#annuaire-titre"' in listing
    assert "Parcourir l’annuaire des communautés" in listing


def test_hr_admin_sees_every_boost_but_the_filter_keeps_only_their_groups(
    catalogue, organism, others
):
    admin = HrAdminFactory(organism=organism)
    join(others, admin)
    c = client_of(admin)
    everything = results(c)
    assert "Pour les invités" in everything and "Pour le cercle" in everything
    mine = results(c, community="mine")
    assert "Pilotes et club" in mine
    for title in ("Ouvert à tous", "Pour les pilotes", "Pour le cercle", "Pour les invités"):
        assert title not in mine


def test_other_organisations_boosts_are_never_shown(catalogue, manager, outsider):
    foreign_group = make_group(outsider.organisation, "Pilotes d’ailleurs")
    join(foreign_group, outsider)
    # Even a stray membership across organisations gives nothing away.
    join(foreign_group, manager)
    foreign = Boost.objects.create(
        organisation=outsider.organisation,
        host=outsider,
        title="Boost d’une autre institution",
        starts_at=timezone.now() + timedelta(days=2),
        capacity=10,
        meeting_url="https://teams.example.test/r/9",
    )
    foreign.audience_communities.set([foreign_group])
    c = client_of(manager)
    full = page(c, community="mine")
    assert "Boost d’une autre institution" not in full
    assert "Pilotes d’ailleurs" not in full  # not offered as one of "my" communities
    refused = page(c, community=str(foreign_group.pk))
    assert "Cette communauté ne fait pas partie des vôtres" in refused
    assert "Boost d’une autre institution" not in refused
    # And the outsider does not see this organisation's boosts through the filter either.
    assert "Pour les pilotes" not in results(client_of(outsider), community="mine")


def test_filter_combines_with_period_theme_and_format(make_boost, manager, pilots):
    join(pilots, manager)
    theme_a, theme_b = list(Theme.objects.order_by("pk")[:2])
    past = make_boost(title="Pilotes, séance passée", starts_at=timezone.now() - timedelta(days=3))
    in_a = make_boost(title="Pilotes, thème A", themes=[theme_a])
    in_b = make_boost(
        title="Pilotes, thème B en salle",
        themes=[theme_b],
        format=BoostFormat.ONSITE,
        room="Salle 1",
        meeting_url="",
    )
    for boost in (past, in_a, in_b):
        boost.audience_communities.set([pilots])
    make_boost(title="Tout public, passé", starts_at=timezone.now() - timedelta(days=2))
    c = client_of(manager)

    upcoming = results(c, community="mine")
    assert "Pilotes, thème A" in upcoming and "Pilotes, thème B en salle" in upcoming
    assert "Pilotes, séance passée" not in upcoming

    past_page = results(c, community="mine", when="past")
    assert "Pilotes, séance passée" in past_page
    assert "Tout public, passé" not in past_page
    assert "Pilotes, thème A" not in past_page

    themed = results(c, community="mine", theme=theme_b.slug)
    assert "Pilotes, thème B en salle" in themed and "Pilotes, thème A" not in themed

    onsite = results(c, community=str(pilots.pk), format=BoostFormat.ONSITE)
    assert "Pilotes, thème B en salle" in onsite and "Pilotes, thème A" not in onsite

    Registration.objects.create(boost=in_a, user=manager, status=RegistrationStatus.CONFIRMED)
    registered = results(c, community="mine", when="mine")
    assert "Pilotes, thème A" in registered and "Pilotes, thème B en salle" not in registered


def test_filter_is_a_labelled_select_that_keeps_its_value(catalogue, manager, circle, pilots):
    c = client_of(manager)
    html = page(c, community="mine")
    assert '<label for="id_community">Mes communautés' in html
    assert '<select name="community" id="id_community">' in html
    assert '<option value="mine" selected>Réservés à mes communautés</option>' in html
    # My groups, by name, in their own option group; no one else's.
    assert '<optgroup label="Une de mes communautés">' in html
    assert html.index("Cercle des directeurs") < html.index("Pilotes du changement")
    for name in ("Club confidentiel", "Qualité de vie au travail", "Invitation en attente"):
        assert name not in html
    one = page(c, community=str(circle.pk))
    assert f'<option value="{circle.pk}" selected>Cercle des directeurs</option>' in one
    # The form works without JavaScript: a GET form with a submit button.
    assert f'<form method="get" action="{INDEX}"' in html


# --- The mention on each card -------------------------------------------------------------


def test_card_names_only_my_active_communities(catalogue, manager):
    listing = results(client_of(manager))
    assert "Pour votre communauté : Pilotes du changement" in listing
    assert "Pour votre communauté : Cercle des directeurs" in listing
    # "mixed" is also for a closed group and an open group the manager is not in.
    assert "Club confidentiel" not in listing
    assert "Qualité de vie au travail" not in listing
    assert "Invitation en attente" not in listing


def test_card_lists_several_of_my_communities_by_name(make_boost, manager, pilots, circle):
    join(pilots, manager)
    join(circle, manager)
    make_boost(title="Pour les deux").audience_communities.set([pilots, circle])
    listing = results(client_of(manager))
    assert "Pour vos communautés : Cercle des directeurs, Pilotes du changement" in listing


def test_community_names_are_escaped_once(make_boost, manager, organism):
    group = make_group(organism.organisation, "R&D <b>pilotes</b>")
    join(group, manager)
    make_boost(title="Pour la R&D").audience_communities.set([group])
    html = page(client_of(manager))
    assert "Pour votre communauté : R&amp;D &lt;b&gt;pilotes&lt;/b&gt;" in html
    assert "<b>pilotes</b>" not in html and "&amp;amp;" not in html


def test_no_mention_for_a_boost_without_my_communities(make_boost, manager, pilots):
    join(pilots, manager, status=MembershipStatus.INVITED)
    make_boost(title="Ouvert à tous")
    listing = results(client_of(manager))
    assert "Ouvert à tous" in listing
    assert "Pour votre communauté" not in listing and "Pour vos communautés" not in listing


# --- Empty state --------------------------------------------------------------------------


def test_empty_state_for_a_member_with_no_matching_boost(make_boost, manager, pilots):
    join(pilots, manager)
    make_boost(title="Ouvert à tous", themes=list(Theme.objects.order_by("pk")[:1]))
    listing = results(client_of(manager), community="mine", when="past")
    assert "Aucun boost réservé à vos communautés ne correspond à ces critères." in listing
    assert "Découvrir d’autres communautés" in listing
    assert f'href="{reverse("communities:index")}#annuaire-titre"' in listing
    # "See every boost" keeps the other filters and drops only the community one.
    assert f'href="{INDEX}?when=past"' in listing
    assert 'role="status"' in listing


def test_plain_empty_state_is_unchanged_without_the_filter(manager):
    listing = results(client_of(manager), when="past")
    assert "Aucun boost ne correspond." in listing
    assert "communauté" not in listing


# --- Bad input ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    "value",
    [
        "abc",
        "999999999",
        "-1",
        "1.5",
        "mine ",
        "<script>alert(1)</script>",
        "x" * 5000,
        "Pilotes du changement",
        "١",  # an Arabic-Indic digit: int() would accept it, the choices do not
    ],
)
def test_bad_community_value_is_ignored_with_a_french_message(catalogue, manager, value):
    response = client_of(manager).get(INDEX, {"community": value})
    assert response.status_code == 200
    html = response.content.decode()
    assert "Cette communauté ne fait pas partie des vôtres. Le filtre est ignoré" in html
    assert 'aria-invalid="true"' in html and 'aria-describedby="id_community_error"' in html
    assert 'id="id_community_error"' in html
    assert "<script>alert(1)</script>" not in html
    assert "Ouvert à tous" in html  # ignored: the whole catalogue is listed


def test_the_message_is_in_the_list_region_so_the_next_choice_clears_it(catalogue, manager):
    c = client_of(manager)
    assert "ne fait pas partie des vôtres" in results(c, community="abc")
    assert "ne fait pas partie des vôtres" not in results(c, community="mine")


def test_pending_group_id_is_refused(catalogue, manager, pending, secret):
    c = client_of(manager)
    for group in (pending, secret):
        html = page(c, community=str(group.pk))
        assert "Cette communauté ne fait pas partie des vôtres" in html
        assert "Pour les invités" not in html
        assert "Club confidentiel" not in html


def test_repeated_and_mixed_bad_values_never_fail(catalogue, manager):
    c = client_of(manager)
    response = c.get(f"{INDEX}?community=mine&community=abc&when=zzz&theme=%00&format=xyz")
    assert response.status_code == 200
    html = response.content.decode()
    assert html.count("Ce choix n’existe pas : le filtre est ignoré.") == 3
    assert "zzz" not in html and "xyz" not in html  # the typed value is not echoed
    # The valid filters still apply when another one is bad.
    listing = results(c, community="mine", theme="pas-un-theme")
    assert "Pour les pilotes" in listing and "Ouvert à tous" not in listing
    assert results(c, community="\x00").count("Ouvert à tous") == 1


# --- Queries ------------------------------------------------------------------------------


def _count(c: Client, **params: str) -> int:
    with CaptureQueriesContext(connection) as ctx:
        assert c.get(INDEX, params).status_code == 200
    return len(ctx.captured_queries)


#: Measured on the list fragment: the user (the session is in the cache), the themes, my
#: communities, the count for the pages, the listing, the themes of the listed boosts
#: (prefetch), my registrations, the community mentions (the "for you" panel is not part of
#: the refreshed list). The same with or without the filter, for 1 or 12 boosts.
CATALOGUE_QUERIES = 8


def test_catalogue_queries_do_not_grow_with_boosts_and_communities(
    make_boost, manager, organism, django_assert_num_queries
):
    groups = [make_group(organism.organisation, f"Groupe {i}") for i in range(6)]
    for group in groups[:5]:
        join(group, manager)
    c = client_of(manager)
    first = make_boost(title="Séance 0")
    first.audience_communities.set(groups[:2])
    c.get(INDEX)  # warm the per-organism branch cache
    small_all, small_mine = _count(c), _count(c, community="mine")

    for i in range(1, 12):
        boost = make_boost(title=f"Séance {i}")
        # Two of my groups and one I am not in: several names per card, one row per boost.
        boost.audience_communities.set([groups[i % 5], groups[(i + 1) % 5], groups[5]])
    big_all, big_mine = _count(c), _count(c, community="mine")
    assert (big_all, big_mine) == (small_all, small_mine)
    assert small_all == small_mine  # the filter itself is in the listing's query

    with django_assert_num_queries(CATALOGUE_QUERIES):
        html = results(c, community="mine")
    assert html.count('class="boost-item') == 12
    assert html.count("Pour vos communautés") + html.count("Pour votre communauté") == 12
    with django_assert_num_queries(CATALOGUE_QUERIES):
        results(c, community=str(groups[0].pk))
