from __future__ import annotations

import pytest
from django.core.exceptions import ImproperlyConfigured
from django.http import Http404

from campus import access
from campus import settings as campus_settings
from tests.factories import TeamFactory


def test_people_directory_is_scoped_to_the_organisation(manager, member, outsider):
    visible = set(access.people_visible_to(manager))
    assert member in visible
    assert outsider not in visible


def test_person_helper_returns_404_to_outsiders(manager, outsider):
    assert access.get_person_for_user(manager, manager.pk) == manager
    with pytest.raises(Http404):
        access.get_person_for_user(outsider, manager.pk)
    with pytest.raises(Http404):
        access.get_person_for_user(manager, "abc")


def test_team_and_organism_helpers_return_404_to_outsiders(manager, outsider):
    team = TeamFactory(organism=manager.organism, manager=manager)
    assert access.get_team_for_user(manager, team.pk) == team
    assert access.get_organism_for_user(manager, manager.organism_id) == manager.organism
    with pytest.raises(Http404):
        access.get_team_for_user(outsider, team.pk)
    with pytest.raises(Http404):
        access.get_organism_for_user(outsider, manager.organism_id)


def test_roles_drive_the_persona_properties(manager, member, hr_admin, hr_analyst):
    assert manager.is_manager and not manager.is_hr_admin
    assert not member.is_manager and not member.has_usable_password()
    assert hr_admin.is_hr_admin and hr_admin.is_hr_analyst
    assert hr_analyst.is_hr_analyst and not hr_analyst.is_hr_admin


@pytest.mark.parametrize(
    ("helper", "value"),
    [
        (lambda: campus_settings.env_bool("X_CAMPUS_TEST", False), "peut-être"),
        (lambda: campus_settings.env_int("X_CAMPUS_TEST", 1), "dix"),
    ],
)
def test_settings_helpers_fail_loudly_on_bad_values(monkeypatch, helper, value):
    monkeypatch.setenv("X_CAMPUS_TEST", value)
    with pytest.raises(ImproperlyConfigured):
        helper()


def test_settings_helpers_parse_good_values(monkeypatch):
    monkeypatch.setenv("X_CAMPUS_TEST", "off")
    assert campus_settings.env_bool("X_CAMPUS_TEST", True) is False
    monkeypatch.setenv("X_CAMPUS_TEST", "a.fr, b.fr,")
    assert campus_settings.env_list("X_CAMPUS_TEST", []) == ["a.fr", "b.fr"]
