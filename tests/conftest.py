"""Shared fixtures: personas (manager, member, outsider, HR admin) on the embedded Postgres."""

from __future__ import annotations

import pytest
from django.core.cache import cache

from tests.factories import (
    TEST_PASSWORD,
    CollaboratorFactory,
    HrAdminFactory,
    HrAnalystFactory,
    ManagerFactory,
    OrganisationFactory,
    OrganismFactory,
)


@pytest.fixture(scope="session")
def django_db_setup(django_db_setup, django_db_blocker):
    """Data migrations load the themes and the editorial corpus; transactional tests flush
    every table when they end, so a reused test database may have lost them. Put them back
    (idempotent: nothing is written when they are there)."""
    from mallette.corpus import corpus_load
    from mallette.models import Practice, Theme

    with django_db_blocker.unblock():
        corpus_load(theme_model=Theme, practice_model=Practice)


@pytest.fixture(autouse=True)
def _clear_cache():
    """Rate-limit counters and cached sessions live in Redis: start each test clean."""
    cache.clear()
    yield
    cache.clear()


@pytest.fixture
def password() -> str:
    return TEST_PASSWORD


@pytest.fixture
def organism(db):
    return OrganismFactory()


@pytest.fixture
def manager(organism):
    return ManagerFactory(organism=organism, email="manager@campus.test", first_name="Camille")


@pytest.fixture
def member(manager):
    """A collaborator in the manager's team (n+1 = manager)."""
    return CollaboratorFactory(organism=manager.organism, manager=manager)


@pytest.fixture
def outsider(db):
    """A manager of another organisation: must never see the first organisation's objects."""
    other = OrganisationFactory(name="Autre institution", slug="autre")
    organism = OrganismFactory(branch__organisation=other, branch__code="autre")
    return ManagerFactory(organism=organism, email="outsider@autre.test")


@pytest.fixture
def hr_admin(organism):
    return HrAdminFactory(organism=organism, email="rh.admin@campus.test")


@pytest.fixture
def hr_analyst(organism):
    return HrAnalystFactory(organism=organism, email="rh.analyste@campus.test")


@pytest.fixture
def manager_client(client, manager):
    client.force_login(manager)
    return client


@pytest.fixture
def celery_worker_process(transactional_db, settings):
    """A real Celery worker process on the embedded Redis, reading the test database."""
    import os
    import subprocess
    import sys
    import threading

    from django.db import connection

    from campus.celery import app

    db = connection.settings_dict
    host = db.get("HOST") or db["OPTIONS"].get("host", "")
    env = {
        **os.environ,
        "DATABASE_URL": f"postgresql://{db['USER']}:@/{db['NAME']}?host={host}",
        "REDIS_URL": settings.REDIS_URL,
        "SECRET_KEY": settings.SECRET_KEY,
        "CAMPUS_DEV": "1",
        "CAMPUS_TESTING": "1",
        "PYTHONUNBUFFERED": "1",
    }
    app.control.purge()  # drop messages left in the queues by earlier tests
    proc = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "celery",
            "-A",
            "campus",
            "worker",
            "-Q",
            "default,ai,email",
            "--pool",
            "solo",
            "-l",
            "info",
            "--without-gossip",
            "--without-mingle",
            "--without-heartbeat",
        ],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    log: list[str] = []
    ready = threading.Event()

    def drain() -> None:  # keep reading so a chatty worker never blocks on a full pipe
        for line in proc.stdout:
            log.append(line)
            if "ready." in line:
                ready.set()

    threading.Thread(target=drain, daemon=True).start()
    if not ready.wait(timeout=60):
        proc.kill()
        raise RuntimeError("Celery worker did not start:\n" + "".join(log[-40:]))
    proc.log = log
    yield proc
    proc.terminate()
    try:
        proc.wait(timeout=15)
    except subprocess.TimeoutExpired:
        proc.kill()
