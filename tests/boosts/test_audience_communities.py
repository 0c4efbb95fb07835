"""Audience by community: a boost reserved to the active members of one or more groups.

Rules under test (boosts/selectors.py, ``audience_filter`` and ``boosts_visible_to``): the
communities are one more audience dimension, combined with levels, branches and organisms by
AND; inside it, any one of the groups is enough. Only active members count. A person who was
registered keeps their registration (and the boost) after leaving the group; they cannot
register again once they cancel."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.db import connection
from django.db.models import RestrictedError
from django.forms import inlineformset_factory
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from boosts.admin import BoostCommunityFormSet
from boosts.models import Boost, BoostCommunity, Registration, RegistrationStatus
from campus.models import Level
from communities import services as community_services
from communities.models import Membership, MembershipStatus
from tests.boosts.groups import client_of, join, make_group
from tests.boosts.test_host import form_data
from tests.factories import ManagerFactory, OrganisationFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def for_pilots(make_boost, pilots) -> Boost:
    boost = make_boost(title="Réservé aux pilotes")
    boost.audience_communities.set([pilots])
    return boost


@pytest.fixture
def host_client(host):
    return client_of(host)


# --- Seeing and registering ---------------------------------------------------------------


def test_member_of_the_community_sees_and_registers(for_pilots, pilots, manager):
    join(pilots, manager)
    c = client_of(manager)
    assert "Réservé aux pilotes" in c.get(reverse("boosts:index")).content.decode()
    page = c.get(reverse("boosts:detail", args=[for_pilots.pk])).content.decode()
    assert "Membres des communautés : Pilotes du changement" in page
    assert c.post(reverse("boosts:register", args=[for_pilots.pk])).status_code == 302
    registration = Registration.objects.get(boost=for_pilots, user=manager)
    assert registration.status == RegistrationStatus.CONFIRMED


@pytest.mark.parametrize("status", [None, MembershipStatus.INVITED])
def test_non_member_or_invitee_gets_404_and_cannot_register(for_pilots, pilots, manager, status):
    if status:
        join(pilots, manager, status=status)  # a pending invitation does not count
    c = client_of(manager)
    assert "Réservé aux pilotes" not in c.get(reverse("boosts:index")).content.decode()
    assert c.get(reverse("boosts:detail", args=[for_pilots.pk])).status_code == 404
    assert c.post(reverse("boosts:register", args=[for_pilots.pk])).status_code == 404
    assert c.get(reverse("boosts:live", args=[for_pilots.pk])).status_code == 404
    assert not Registration.objects.filter(boost=for_pilots).exists()


def test_any_listed_community_is_enough_and_dimensions_combine_with_and(
    make_boost, pilots, circle, manager, organism
):
    join(circle, manager)
    either = make_boost(title="Pilotes ou cercle")
    either.audience_communities.set([pilots, circle])
    directors = make_boost(title="Directeurs du cercle", audience_levels=[Level.DIRECTOR])
    directors.audience_communities.set([circle])
    branch = make_boost(title="Cercle et branche", audience_branch_ids=[organism.branch_id])
    branch.audience_communities.set([circle])
    c = client_of(manager)  # a proximity manager, member of the circle only
    assert c.get(reverse("boosts:detail", args=[either.pk])).status_code == 200
    assert c.get(reverse("boosts:detail", args=[branch.pk])).status_code == 200
    assert c.get(reverse("boosts:detail", args=[directors.pk])).status_code == 404
    director = ManagerFactory(organism=organism, level=Level.DIRECTOR)
    assert client_of(director).get(reverse("boosts:detail", args=[directors.pk])).status_code == (
        404  # the right level, but not a member
    )
    join(circle, director)
    assert client_of(director).get(reverse("boosts:detail", args=[directors.pk])).status_code == (
        200
    )


def test_a_boost_without_communities_stays_open_to_everyone(boost, pilots, manager):
    assert client_of(manager).get(reverse("boosts:detail", args=[boost.pk])).status_code == 200


def test_host_and_hr_see_their_community_boost_without_being_members(for_pilots, host, hr_admin):
    for user in (host, hr_admin):
        assert client_of(user).get(reverse("boosts:detail", args=[for_pilots.pk])).status_code == (
            200
        )


def test_other_organisation_never_sees_the_boost(for_pilots, outsider):
    assert client_of(outsider).get(reverse("boosts:detail", args=[for_pilots.pk])).status_code == (
        404
    )


# --- Leaving the group ------------------------------------------------------------------------


def test_leaving_the_group_keeps_the_registration_but_closes_new_ones(
    make_boost, for_pilots, pilots, manager
):
    """Decision: a registration made while a member is kept (seat, invitation, live room,
    replay, cancellation); leaving stops new registrations, including after a cancellation."""
    join(pilots, manager)
    later = make_boost(title="Pilotes, deuxième séance")
    later.audience_communities.set([pilots])
    c = client_of(manager)
    assert c.post(reverse("boosts:register", args=[for_pilots.pk])).status_code == 302
    community_services.group_leave(group=pilots, user=manager)

    # Not registered: gone at once.
    assert c.get(reverse("boosts:detail", args=[later.pk])).status_code == 404
    assert c.post(reverse("boosts:register", args=[later.pk])).status_code == 404
    # Registered: kept, with the invitation, until they cancel.
    page = c.get(reverse("boosts:detail", args=[for_pilots.pk]))
    assert page.status_code == 200 and "Vous êtes inscrit." in page.content.decode()
    assert c.get(reverse("boosts:ics", args=[for_pilots.pk])).status_code == 200
    assert c.post(reverse("boosts:unregister", args=[for_pilots.pk])).status_code == 302
    assert (
        Registration.objects.get(boost=for_pilots, user=manager).status
        == RegistrationStatus.CANCELLED
    )
    assert c.get(reverse("boosts:detail", args=[for_pilots.pk])).status_code == 404
    assert c.post(reverse("boosts:register", args=[for_pilots.pk])).status_code == 404
    assert (
        Registration.objects.get(boost=for_pilots, user=manager).status
        == RegistrationStatus.CANCELLED
    )


def test_a_removed_member_loses_access_too(for_pilots, pilots, manager, host):
    membership = join(pilots, manager)
    Membership.objects.create(group=pilots, user=host, role="moderator")
    c = client_of(manager)
    assert c.get(reverse("boosts:detail", args=[for_pilots.pk])).status_code == 200
    community_services.member_remove(group=pilots, membership_id=membership.pk)
    assert c.get(reverse("boosts:detail", args=[for_pilots.pk])).status_code == 404


# --- Detail page: naming the communities ------------------------------------------------------


def test_closed_communities_are_counted_not_named_for_non_members(
    make_boost, pilots, circle, manager, peer_of
):
    boost = make_boost(title="Pilotes et cercle")
    boost.audience_communities.set([pilots, circle])
    join(pilots, manager)
    page = client_of(manager).get(reverse("boosts:detail", args=[boost.pk])).content.decode()
    assert "Pilotes du changement" in page
    assert "Cercle des directeurs" not in page
    assert "1 groupe sur invitation" in page
    member = peer_of(manager)
    join(circle, member)
    page = client_of(member).get(reverse("boosts:detail", args=[boost.pk])).content.decode()
    assert "Cercle des directeurs" in page


@pytest.fixture
def peer_of():
    def make(user):
        return ManagerFactory(organism=user.organism)

    return make


def test_deleting_a_group_named_in_an_audience_is_refused(for_pilots, pilots):
    """A plain many-to-many would drop the row and open the boost to everyone."""
    with pytest.raises(RestrictedError):
        pilots.delete()
    for_pilots.audience_communities.clear()
    pilots.delete()


# --- The form ---------------------------------------------------------------------------------


def test_form_offers_only_the_communities_the_host_may_see(host_client, host, pilots, circle):
    other = OrganisationFactory(name="Autre", slug="autre-org")
    make_group(other, "Groupe d’ailleurs")
    html = host_client.get(reverse("boosts:create")).content.decode()
    assert "Pilotes du changement" in html
    assert "Groupe d’ailleurs" not in html
    assert "Cercle des directeurs" not in html  # closed, and the host is not a member
    join(circle, host)
    html = host_client.get(reverse("boosts:create")).content.decode()
    assert "Cercle des directeurs (sur invitation)" in html


def test_form_rejects_a_community_of_another_organisation(host_client):
    other = OrganisationFactory(name="Autre", slug="autre-org")
    elsewhere = make_group(other, "Groupe d’ailleurs")
    response = host_client.post(
        reverse("boosts:create"), form_data(audience_communities=[elsewhere.pk])
    )
    assert response.status_code == 400
    html = response.content.decode()
    assert "Ce groupe n’est pas proposé : choisissez une communauté de votre organisation" in html
    assert not Boost.objects.exists()


def test_form_rejects_a_closed_community_the_host_is_not_in(host_client, circle):
    response = host_client.post(
        reverse("boosts:create"), form_data(audience_communities=[circle.pk])
    )
    assert response.status_code == 400
    assert not Boost.objects.exists()


def test_host_creates_a_boost_for_communities(host_client, pilots, circle, host):
    join(circle, host)
    response = host_client.post(
        reverse("boosts:create"), form_data(audience_communities=[pilots.pk, circle.pk])
    )
    assert response.status_code == 302
    boost = Boost.objects.get()
    assert set(boost.audience_communities.all()) == {pilots, circle}


def test_a_series_copies_the_communities_to_every_session(host_client, pilots):
    response = host_client.post(
        reverse("boosts:create"),
        form_data(audience_communities=[pilots.pk], repeat="weekly", count="3"),
    )
    assert response.status_code == 302
    assert Boost.objects.count() == 3
    for boost in Boost.objects.all():
        assert list(boost.audience_communities.all()) == [pilots]


def test_editing_can_clear_the_communities(host_client, for_pilots):
    local = timezone.localtime(for_pilots.starts_at)
    data = form_data(title=for_pilots.title, day=local.date().isoformat(), capacity="10")
    response = host_client.post(reverse("boosts:edit", args=[for_pilots.pk]), data)
    assert response.status_code == 302
    assert not for_pilots.audience_communities.exists()


def test_editing_keeps_closed_communities_the_editor_cannot_see(
    make_boost, pilots, circle, hr_admin
):
    """HR is not a member of the circle: unseen, it must not be dropped (that would open the
    boost to people outside the circle)."""
    boost = make_boost(title="Cercle")
    boost.audience_communities.set([circle])
    c = client_of(hr_admin)
    html = c.get(reverse("boosts:edit", args=[boost.pk])).content.decode()
    assert "Cercle des directeurs" not in html
    assert "Ce boost vise aussi 1 groupe sur invitation" in html
    local = timezone.localtime(boost.starts_at)
    data = form_data(
        title="Cercle, nouveau titre",
        day=local.date().isoformat(),
        capacity="10",
        host=boost.host_id,
        audience_communities=[pilots.pk],
    )
    assert c.post(reverse("boosts:edit", args=[boost.pk]), data).status_code == 302
    assert set(boost.audience_communities.all()) == {pilots, circle}


def test_edit_form_checks_the_current_communities(host_client, for_pilots, pilots):
    html = host_client.get(reverse("boosts:edit", args=[for_pilots.pk])).content.decode()
    assert f'value="{pilots.pk}"' in html
    checked = html.split(f'value="{pilots.pk}"', 1)[1].split(">", 1)[0]
    assert "checked" in checked


def test_duplicate_keeps_the_communities(host_client, for_pilots, pilots):
    html = host_client.get(reverse("boosts:duplicate", args=[for_pilots.pk])).content.decode()
    checked = html.split(f'value="{pilots.pk}"', 1)[1].split(">", 1)[0]
    assert "checked" in checked
    day = (timezone.localdate() + timedelta(days=40)).isoformat()
    data = form_data(title="Réservé aux pilotes (bis)", day=day, audience_communities=[pilots.pk])
    response = host_client.post(reverse("boosts:duplicate", args=[for_pilots.pk]), data)
    assert response.status_code == 302
    copy = Boost.objects.get(title="Réservé aux pilotes (bis)")
    assert list(copy.audience_communities.all()) == [pilots]


def test_form_data_carries_the_community_ids_to_the_services(host, pilots, for_pilots):
    from boosts.forms import BoostForm

    local = timezone.localtime(for_pilots.starts_at)
    data = form_data(
        title=for_pilots.title,
        day=local.date().isoformat(),
        capacity="10",
        audience_communities=[pilots.pk],
    )
    form = BoostForm(data, instance=for_pilots, user=host, series=False)
    assert form.is_valid(), form.errors
    service_data = form.service_data()
    assert service_data["audience_community_ids"] == [pilots.pk]
    assert "audience_communities" not in service_data  # a many-to-many is not an attribute


# --- Query counts -----------------------------------------------------------------------------


def _queries(c: Client, url: str) -> int:
    with CaptureQueriesContext(connection) as ctx:
        assert c.get(url).status_code == 200
    return len(ctx.captured_queries)


def test_catalogue_and_detail_queries_do_not_grow_with_communities(
    make_boost, pilots, circle, manager, organism
):
    join(pilots, manager)
    join(circle, manager)
    first = make_boost(title="Séance 1")
    first.audience_communities.set([pilots])
    c = client_of(manager)
    c.get(reverse("boosts:index"))  # warm the per-organism branch cache
    index_small = _queries(c, reverse("boosts:index"))
    detail_small = _queries(c, reverse("boosts:detail", args=[first.pk]))
    for i in range(4):
        more = make_boost(title=f"Séance {i + 2}")
        more.audience_communities.set([pilots, circle])
    extra = [make_group(organism.organisation, f"Groupe {i}") for i in range(3)]
    first.audience_communities.add(circle, *extra)
    assert _queries(c, reverse("boosts:index")) == index_small
    assert _queries(c, reverse("boosts:detail", args=[first.pk])) == detail_small


def test_demo_reserves_the_directors_boost_to_the_directors_circle(organism):
    from boosts.demo import demo_boosts_seed
    from communities.demo import demo_groups_seed
    from tests.factories import HrAdminFactory

    HrAdminFactory(organism=organism, email="rh.admin@demo.campus.test")
    for level in (Level.DIRECTOR, Level.DIRECTOR, Level.STRATEGIC, Level.PROXIMITY):
        ManagerFactory(organism=organism, level=level)
    demo_groups_seed(organism.organisation)
    assert demo_boosts_seed(organism.organisation) == 5
    boost = Boost.objects.get(title__startswith="Piloter par la confiance")
    [circle] = boost.audience_communities.all()
    assert circle.slug == "cercle-des-directeurs"
    members = set(circle.memberships.values_list("user_id", flat=True))
    assert set(boost.registrations.values_list("user_id", flat=True)) <= members
    others = Boost.objects.exclude(pk=boost.pk)
    assert not Boost.audience_communities.through.objects.filter(boost__in=others).exists()


def test_admin_shows_the_communities_and_refuses_another_organisations(
    for_pilots, pilots, hr_admin
):
    hr_admin.is_staff = hr_admin.is_superuser = True
    hr_admin.save(update_fields=["is_staff", "is_superuser"])
    c = client_of(hr_admin)
    url = reverse("admin:boosts_boost_change", args=[for_pilots.pk])
    html = c.get(url).content.decode()
    assert "Pilotes du changement" in html
    elsewhere = make_group(OrganisationFactory(name="Autre", slug="autre-org"), "Ailleurs")
    FormSet = inlineformset_factory(
        Boost, BoostCommunity, formset=BoostCommunityFormSet, fields=["group"], extra=1
    )
    prefix = "rows"
    data = {
        f"{prefix}-TOTAL_FORMS": "1",
        f"{prefix}-INITIAL_FORMS": "0",
        f"{prefix}-0-group": str(elsewhere.pk),
    }
    formset = FormSet(data, instance=for_pilots, prefix=prefix)
    assert not formset.is_valid()
    assert "Choisissez une communauté de l’organisation de ce boost." in str(formset.errors)
