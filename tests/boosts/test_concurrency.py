"""Two people ask for the last seat at the same moment: exactly one gets it (real Postgres
row locks, two threads with their own database connections)."""

from __future__ import annotations

import threading

import pytest
from django.db import connection

from boosts import services
from boosts.models import Registration, RegistrationStatus
from tests.factories import ManagerFactory


@pytest.mark.django_db(transaction=True)
def test_two_people_registering_for_the_last_seat_only_one_gets_it(make_boost, organism):
    boost = make_boost(capacity=1)
    people = [ManagerFactory(organism=organism) for _ in range(2)]
    barrier = threading.Barrier(2)
    outcomes: list[str] = []
    errors: list[BaseException] = []

    def attempt(user) -> None:
        try:
            barrier.wait(timeout=10)
            outcomes.append(services.registration_create(boost=boost, user=user).status)
        except BaseException as exc:  # noqa: BLE001 (reported below)
            errors.append(exc)
        finally:
            connection.close()  # each thread has its own connection

    threads = [threading.Thread(target=attempt, args=(p,)) for p in people]
    for _round in range(1):
        for t in threads:
            t.start()
        for t in threads:
            t.join(timeout=30)
    assert errors == []
    assert sorted(outcomes) == ["confirmed", "waitlisted"]
    assert (
        Registration.objects.filter(boost=boost, status=RegistrationStatus.CONFIRMED).count() == 1
    )


@pytest.mark.django_db(transaction=True)
def test_twenty_people_for_five_seats_never_overbook(make_boost, organism):
    boost = make_boost(capacity=5)
    people = [ManagerFactory(organism=organism) for _ in range(20)]
    barrier = threading.Barrier(len(people))

    def attempt(user) -> None:
        try:
            barrier.wait(timeout=10)
            services.registration_create(boost=boost, user=user)
        finally:
            connection.close()

    threads = [threading.Thread(target=attempt, args=(p,)) for p in people]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=60)
    statuses = list(Registration.objects.filter(boost=boost).values_list("status", flat=True))
    assert len(statuses) == 20
    assert statuses.count("confirmed") == 5
