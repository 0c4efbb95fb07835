from __future__ import annotations

import re
from io import StringIO

import pytest
from django.conf import settings
from django.core.management import call_command
from django.core.management.base import CommandError
from django.db.models import Count, Q

from campus.demo import DEMO_LOGINS, DemoResetRefused, demo_delete, demo_seed
from campus.models import Branch, Level, Organisation, Organism, Role, Team, User

pytestmark = pytest.mark.django_db

SMALL = 120  # enough for every level in every organism's chain, fast to write
RANK = {Level.PROXIMITY: 1, Level.MIDDLE: 2, Level.STRATEGIC: 3, Level.DIRECTOR: 4}
CAMILLE, ISABELLE, RH_ADMIN, RH_ANALYSTE = (email for _, email in DEMO_LOGINS)


@pytest.fixture
def seeded() -> dict[str, int]:
    return demo_seed(managers=SMALL)


def _managers():
    return User.objects.filter(roles__contains=[Role.MANAGER])


def _collaborators():
    return User.objects.filter(roles__contains=[Role.COLLABORATOR])


def _snapshot() -> list[tuple[str, ...]]:
    return list(
        User.objects.order_by("email").values_list(
            "email", "first_name", "last_name", "job_title", "level", "organism__code"
        )
    )


def test_seed_creates_the_requested_managers_over_every_level(seeded):
    assert seeded["created"] == 1
    assert _managers().count() == seeded["managers"] == SMALL
    levels = dict(_managers().values_list("level").annotate(n=Count("pk")))
    assert set(levels) == set(Level.values)
    assert levels[Level.DIRECTOR] == 33
    assert sum(levels.values()) == SMALL
    assert seeded["teams"] == Team.objects.count() == SMALL


def test_seed_creates_five_branches_and_33_organisms(seeded):
    assert set(Branch.objects.values_list("code", flat=True)) == {
        "maladie",
        "famille",
        "retraite",
        "recouvrement",
        "autonomie",
    }
    assert Organism.objects.count() == 33
    rhone = Organism.objects.get(name="CPAM du Rhône")
    assert (rhone.code, rhone.branch.name, rhone.region) == (
        "cpam-du-rhone",
        "Maladie",
        "Auvergne-Rhône-Alpes",
    )
    assert Organism.objects.get(name="CAF de la Gironde").branch.code == "famille"
    assert Organism.objects.get(name="CNSA").branch.code == "autonomie"
    assert not Organism.objects.filter(name__icontains="MSA").exists()
    for code in Organism.objects.values_list("code", flat=True):
        assert re.fullmatch(r"[a-z0-9]+(-[a-z0-9]+)*", code)
    organisation = Organisation.objects.get(slug="secu")
    assert organisation.name == settings.CAMPUS_ORGANISATION_NAME
    assert (organisation.feedback_min_responses, organisation.analytics_min_people) == (5, 10)


def test_every_non_director_reports_to_a_higher_level_in_the_same_organism(seeded):
    rows = _managers().values_list(
        "level", "organism_id", "manager__level", "manager__organism_id", "manager__roles"
    )
    for level, organism, boss_level, boss_organism, boss_roles in rows:
        if level == Level.DIRECTOR:
            assert boss_level is None
            continue
        assert Role.MANAGER in boss_roles
        assert RANK[boss_level] > RANK[level]
        assert boss_organism == organism


def test_every_collaborator_reports_to_a_proximity_or_middle_manager_and_sits_in_their_team(
    seeded,
):
    rows = _collaborators().values_list(
        "level", "manager__level", "team__manager_id", "manager_id", "password"
    )
    assert rows
    for level, boss_level, team_manager, boss, password in rows:
        assert level == ""
        assert boss_level in (Level.PROXIMITY, Level.MIDDLE)
        assert team_manager == boss
        assert password.startswith("!")  # unusable


def test_each_manager_leads_one_team_nested_like_the_hierarchy(seeded):
    for manager in _managers().select_related("manager").prefetch_related("managed_teams"):
        (led,) = manager.managed_teams.all()
        assert led.organism_id == manager.organism_id
        if manager.level == Level.DIRECTOR:
            assert led.parent_id is None
            assert manager.team_id == led.pk
        else:
            boss_team = manager.manager.managed_teams.get()
            assert led.parent_id == boss_team.pk
            assert manager.team_id == boss_team.pk


def test_demo_accounts_are_real_people_in_the_structure(seeded):
    isabelle = User.objects.get(email=ISABELLE)
    assert (isabelle.full_name, isabelle.level, isabelle.organism.name) == (
        "Isabelle Lefèvre",
        Level.DIRECTOR,
        "CPAM du Rhône",
    )
    camille = User.objects.get(email=CAMILLE)
    assert (camille.full_name, camille.level, camille.organism_id) == (
        "Camille Martin",
        Level.PROXIMITY,
        isabelle.organism_id,
    )
    assert camille.roles == [Role.MANAGER]
    assert camille.reports.filter(roles__contains=[Role.COLLABORATOR]).count() == 8
    assert camille.manager.manager.manager == isabelle

    admin = User.objects.get(email=RH_ADMIN)
    assert admin.roles == [Role.HR_ADMIN, Role.BOOST_HOST]  # hosts the demo boosts
    assert admin.is_staff and admin.is_superuser
    analyst = User.objects.get(email=RH_ANALYSTE)
    assert analyst.roles == [Role.HR_ANALYST]
    assert not analyst.is_staff
    for person in (admin, analyst):
        assert person.organism.name == "Ucanss"
        assert person.manager.organism.name == "Ucanss"
        assert person.team is not None


def test_demo_accounts_and_managers_log_in_with_the_demo_password(client, seeded):
    any_manager = _managers().exclude(email__in=[CAMILLE, ISABELLE]).first()
    for email in [*(email for _, email in DEMO_LOGINS), any_manager.email]:
        assert client.login(email=email, password=settings.CAMPUS_DEMO_PASSWORD), email
        client.logout()
    assert not client.login(email=CAMILLE, password="mauvais-mot-de-passe")


def test_collaborators_cannot_log_in(client, seeded):
    collaborator = _collaborators().first()
    assert not collaborator.has_usable_password()
    assert not client.login(email=collaborator.email, password=settings.CAMPUS_DEMO_PASSWORD)


def test_emails_are_deaccented_lowercase_and_unique(seeded):
    emails = list(User.objects.values_list("email", flat=True))
    assert len(emails) == len(set(emails))
    generated = [email for email in emails if email not in {e for _, e in DEMO_LOGINS}]
    for email in generated:
        assert re.fullmatch(r"[a-z-]+\.[a-z-]+\d*@[a-z0-9-]+\.demo\.campus\.test", email), email
    rhone = User.objects.filter(organism__code="cpam-du-rhone").exclude(
        email__in=[CAMILLE, ISABELLE]
    )
    assert all(
        email.endswith("@cpam-du-rhone.demo.campus.test")
        for email in rhone.values_list("email", flat=True)
    )


def test_running_twice_creates_nothing(seeded):
    people = User.objects.count()
    again = demo_seed(managers=SMALL)
    assert again["created"] == 0
    assert {**again, "created": 1} == seeded
    assert User.objects.count() == people
    assert Organisation.objects.filter(slug="secu").count() == 1
    assert Organism.objects.count() == 33


def test_same_seed_gives_the_same_people(seeded):
    first = _snapshot()
    demo_delete()
    assert not User.objects.exists()
    demo_seed(managers=SMALL)
    assert _snapshot() == first
    demo_delete()
    demo_seed(seed=7, managers=SMALL)
    assert _snapshot() != first


def test_seed_refuses_fewer_managers_than_organisms():
    with pytest.raises(ValueError, match="at least"):
        demo_seed(managers=10)
    assert not User.objects.exists()


def test_seed_demo_command_builds_a_thousand_managers_and_prints_the_logins():
    out = StringIO()
    call_command("seed_demo", stdout=out)
    output = out.getvalue()
    assert "créée" in output
    assert settings.CAMPUS_DEMO_PASSWORD in output
    for label, email in DEMO_LOGINS:
        assert label in output
        assert email in output

    levels = dict(_managers().values_list("level").annotate(n=Count("pk")))
    assert sum(levels.values()) == 1000
    assert levels[Level.DIRECTOR] == 33
    assert 66 <= levels[Level.STRATEGIC] <= 132
    assert 200 <= levels[Level.MIDDLE] <= 300
    assert 550 <= levels[Level.PROXIMITY] <= 700
    assert 5000 <= _collaborators().count() <= 7000
    team_sizes = (
        _managers()
        .filter(level=Level.PROXIMITY)
        .annotate(n=Count("reports", filter=Q(reports__roles__contains=[Role.COLLABORATOR])))
        .values_list("n", flat=True)
    )
    assert min(team_sizes) >= 5
    assert max(team_sizes) <= 12


def test_seed_demo_command_on_existing_demo_says_so_and_still_prints_the_logins(seeded):
    out = StringIO()
    call_command("seed_demo", stdout=out)
    assert "existe déjà" in out.getvalue()
    assert CAMILLE in out.getvalue()
    assert _managers().count() == SMALL


def test_seed_demo_reset_recreates_the_demo(seeded):
    old_pks = set(User.objects.values_list("pk", flat=True))
    out = StringIO()
    call_command("seed_demo", "--reset", "--managers", str(SMALL), stdout=out)
    assert "supprimée" in out.getvalue()
    assert "créée" in out.getvalue()
    assert _managers().count() == SMALL
    assert not old_pks & set(User.objects.values_list("pk", flat=True))
    assert Organisation.objects.filter(slug="secu").count() == 1


def test_seed_demo_reset_never_deletes_real_people(seeded):
    organisation = Organisation.objects.get(slug="secu")
    User.objects.create_user("vraie.personne@assurance-maladie.fr", organisation=organisation)
    with pytest.raises(CommandError, match="pas des comptes de démonstration"):
        call_command("seed_demo", "--reset", stdout=StringIO())
    with pytest.raises(DemoResetRefused):
        demo_delete()
    assert _managers().count() == SMALL
