"""Shared fixtures: personas (manager, member, outsider, HR admin) on the embedded Postgres."""

from __future__ import annotations

import collections
import os

import pytest
from django.core.cache import cache

from campus.ai import embeddings
from tests.factories import (
    TEST_PASSWORD,
    CollaboratorFactory,
    HrAdminFactory,
    HrAnalystFactory,
    ManagerFactory,
    OrganisationFactory,
    OrganismFactory,
)


class MemoE5:
    """The bundled e5 model, remembering its vectors per (kind, text) for the process.

    Embedding is the suite's largest CPU cost and tests embed the same texts again and again
    (fixture libraries, questions). The engine encodes each text on its own: a vector does not
    depend on the other texts of the batch (bit-identical), so a remembered vector is exactly
    the model's answer. Set CAMPUS_TEST_EMBED_MEMO=0 to compute every vector afresh."""

    def __init__(self, model):
        self._model = model
        self._memo: dict[tuple[bool, str], object] = {}
        self.dim = model.dim

    def _encode(self, texts, is_query: bool):
        import numpy as np

        single = isinstance(texts, str)
        items = [texts] if single else list(texts)
        missing = [t for t in dict.fromkeys(items) if (is_query, t) not in self._memo]
        if missing:
            matrix = self._model.query(missing) if is_query else self._model.passage(missing)
            for text, vector in zip(missing, matrix, strict=True):
                self._memo[(is_query, text)] = vector.copy()
        out = np.empty((len(items), self.dim), dtype=np.float32)
        for row, text in enumerate(items):
            out[row] = self._memo[(is_query, text)]
        return out[0] if single else out

    def query(self, texts):
        return self._encode(texts, True)

    def passage(self, texts):
        return self._encode(texts, False)

    def __getattr__(self, name):
        return getattr(self._model, name)


# pytest-xdist runs one process per core: an engine spreading each call over every core with
# OpenMP would only fight the other worker for it (its threads spin, waiting for each other:
# a one-line query then takes 0.8 s instead of 45 ms on a busy 2-core machine). Vectors are
# bit-identical with one thread. Read when the engine loads, on the first embedding.
if os.environ.get("PYTEST_XDIST_WORKER"):
    os.environ.setdefault("OMP_NUM_THREADS", "1")

if os.environ.get("CAMPUS_TEST_EMBED_MEMO", "1") != "0":
    _load_e5 = embeddings._load_model
    embeddings._load_model = lambda: MemoE5(_load_e5())


REFERENCE_SCHEMA = "campus_test_reference"


def reference_data_load() -> None:
    """What the data migrations load: themes, the editorial corpus, the default questionnaire
    (idempotent: nothing is written when they are there)."""
    from mallette.corpus import corpus_load
    from mallette.models import Practice, Theme
    from selfdiag.services import questionnaire_default_ensure

    corpus_load(theme_model=Theme, practice_model=Practice)
    questionnaire_default_ensure()


def reference_data_snapshot() -> None:
    """Copy every non-empty table of the fresh test database (the rows of the data migrations)
    into a schema of its own, which flushes do not reach."""
    from django.db import connection

    tables = connection.introspection.django_table_names(only_existing=True, include_views=False)
    with connection.cursor() as cursor:
        cursor.execute(f"DROP SCHEMA IF EXISTS {REFERENCE_SCHEMA} CASCADE")
        cursor.execute(f"CREATE SCHEMA {REFERENCE_SCHEMA}")
        for table in map(connection.ops.quote_name, sorted(tables)):
            cursor.execute(f"SELECT EXISTS (SELECT 1 FROM {table})")  # noqa: S608
            if cursor.fetchone()[0]:
                cursor.execute(f"CREATE TABLE {REFERENCE_SCHEMA}.{table} AS TABLE {table}")


def reference_data_restore() -> None:
    """After a flush: put the snapshot back into the tables left empty, with the same primary
    keys (contenttypes and permissions, which the flush recreates, are left as they are)."""
    from django.db import connection, transaction

    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute("SET CONSTRAINTS ALL DEFERRED")
        cursor.execute(
            "SELECT table_name FROM information_schema.tables WHERE table_schema = %s",
            [REFERENCE_SCHEMA],
        )
        for table in [connection.ops.quote_name(name) for (name,) in cursor.fetchall()]:
            cursor.execute(f"SELECT EXISTS (SELECT 1 FROM {table})")  # noqa: S608
            if not cursor.fetchone()[0]:
                cursor.execute(f"INSERT INTO {table} TABLE {REFERENCE_SCHEMA}.{table}")


@pytest.fixture(scope="session")
def django_db_setup(django_db_setup, django_db_blocker):
    """Transactional tests flush every table when they end, so a reused test database may have
    lost the data of the data migrations: put it back, then keep a copy of it for the flushes
    to come."""
    with django_db_blocker.unblock():
        reference_data_load()
        reference_data_snapshot()


def pytest_configure(config):
    # pytest-xdist would reorder the files by number of tests: keep the order set below.
    if getattr(config.option, "loadscopereorder", False):
        config.option.loadscopereorder = False


def pytest_collection_modifyitems(config, items):
    """Files holding ``slow`` tests first (minute-long end-to-end runs, real Celery workers),
    then the files with the most tests: with ``--dist loadfile`` no long file is left for the
    end while the other worker idles."""
    slow = {item.path for item in items if item.get_closest_marker("slow")}
    counts = collections.Counter(item.path for item in items)
    items.sort(key=lambda item: (item.path not in slow, -counts[item.path], str(item.path)))


def _is_transactional(item: pytest.Item) -> bool:
    marker = item.get_closest_marker("django_db")
    if marker and (marker.kwargs.get("transaction") or (marker.args and marker.args[0])):
        return True
    names = getattr(item, "fixturenames", ())
    return "transactional_db" in names or "live_server" in names


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_teardown(item, nextitem):
    """A transactional test ends by flushing every table, data migrations' rows included: put
    them back at once, so that the next test on this worker finds the same database whatever
    ran before it (xdist distributes the files differently from run to run)."""
    yield
    if _is_transactional(item):
        from pytest_django.plugin import blocking_manager_key

        with item.config.stash[blocking_manager_key].unblock():
            reference_data_restore()


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
