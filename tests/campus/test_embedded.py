from __future__ import annotations

import io
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

import psutil
import pytest
from django.core.management import call_command

from campus import embedded

ROOT = Path(__file__).resolve().parents[2]


@pytest.mark.django_db
def test_no_model_change_lacks_a_migration():
    out = io.StringIO()
    try:
        call_command("makemigrations", "--check", "--dry-run", stdout=out)
    except SystemExit as exc:  # --check exits non-zero when a migration is missing
        pytest.fail(f"Missing migrations:\n{out.getvalue()}")
        raise exc


@pytest.mark.django_db
def test_database_has_pgvector():
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute("SELECT extversion FROM pg_extension WHERE extname = 'vector'")
        (version,) = cursor.fetchone()
        cursor.execute("SELECT '[1,2,3]'::vector <=> '[1,2,4]'::vector")
        (distance,) = cursor.fetchone()
    assert tuple(int(x) for x in version.split(".")[:2]) >= (0, 8)
    assert 0 < distance < 0.1


def test_embedded_services_are_reused_not_restarted():
    first = embedded.redis_socket()
    second = embedded.redis_socket()
    assert first == second
    assert embedded.database_url() == embedded.database_url()


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _run_campus_once(data_dir: Path) -> tuple[str, list[psutil.Process]]:
    """Start `manage.py run` like `make run`, wait until it serves, press Ctrl-C."""
    port = _free_port()
    env = {k: v for k, v in os.environ.items() if k not in ("DATABASE_URL", "REDIS_URL")}
    env.update(CAMPUS_DATA_DIR=str(data_dir), PORT=str(port), PYTHONUNBUFFERED="1")
    env.pop("CAMPUS_TESTING", None)
    proc = subprocess.Popen(
        [sys.executable, "manage.py", "run"],
        cwd=ROOT,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        start_new_session=True,
    )
    try:
        deadline = time.monotonic() + 180
        while time.monotonic() < deadline:
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{port}/healthz", timeout=2) as r:  # noqa: S310
                    if r.status == 200:
                        break
            except OSError:
                time.sleep(0.5)
            if proc.poll() is not None:
                break
        else:
            pytest.fail("the campus did not answer within 180 s")
        assert proc.poll() is None, proc.stdout.read()
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/comptes/login/", timeout=5) as r:  # noqa: S310
            assert "Connexion au campus" in r.read().decode()
        children = psutil.Process(proc.pid).children(recursive=True)
        names = " ".join(" ".join(c.cmdline()) for c in children)
        assert "worker" in names and "beat" in names and "runserver" in names
        proc.send_signal(signal.SIGINT)
        out, _ = proc.communicate(timeout=60)
    finally:
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGKILL)
    assert proc.returncode == 0, out
    return out, children


@pytest.mark.slow
def test_run_command_serves_the_campus_and_ctrl_c_stops_everything(monkeypatch):
    """`make run` from scratch: services, migrations, demo, worker, beat, web; then Ctrl-C.
    A second run reuses the data."""
    # Under the test data dir, not pytest's tmp_path: PostgreSQL runs as the `pgserver` user
    # when we are root, and pytest's private temp folders may not be traversable by it.
    base = Path(tempfile.mkdtemp(prefix="run-", dir=embedded.data_dir()))
    data_dir = base / "var"

    first, children = _run_campus_once(data_dir)

    assert "Premier lancement" in first
    assert "camille.martin@demo.campus.test" in first
    assert "Tous les processus sont arrêtés." in first
    time.sleep(1)
    assert not [c for c in children if c.is_running() and c.status() != psutil.STATUS_ZOMBIE]
    # The embedded Redis and PostgreSQL of that data directory are stopped too.
    assert not (data_dir / "pg" / "postmaster.pid").exists()
    monkeypatch.setenv("CAMPUS_DATA_DIR", str(data_dir))
    _, sock = embedded._redis_paths()
    assert not embedded._redis_ping(sock)

    second, _ = _run_campus_once(data_dir)

    assert "Premier lancement" not in second
    assert "camille.martin@demo.campus.test" in second
    shutil.rmtree(base, ignore_errors=True)


@pytest.mark.django_db
def test_createsuperuser_works_without_configuration():
    from django.core.management import call_command

    from campus.models import User

    call_command("createsuperuser", interactive=False, email="Admin@Campus.test", verbosity=0)
    admin = User.objects.get(email="admin@campus.test")
    assert admin.is_superuser and admin.is_staff and admin.is_hr_admin
    assert admin.organisation is not None
