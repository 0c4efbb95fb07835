"""`make run`: the whole campus on one machine, from a fresh clone.

Starts (or reuses) the embedded PostgreSQL and Redis, migrates, loads the demo organisation
on the first run, then supervises a Celery worker, Celery beat and the web server as child
processes. Ctrl-C stops every process it started, then the embedded services.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from typing import Any

from django.conf import settings
from django.core.management import call_command
from django.core.management.base import BaseCommand, CommandError
from django.db import connection

from campus import embedded
from campus.models import Organisation


class Command(BaseCommand):
    help = "Lance le campus complet : services embarqués, worker Celery, beat et serveur web."

    def add_arguments(self, parser: Any) -> None:
        parser.add_argument("--host", default=os.environ.get("HOST", "127.0.0.1"))
        parser.add_argument("--port", default=os.environ.get("PORT", "8000"))
        parser.add_argument("--no-seed", action="store_true", help="Ne charge pas la démo.")

    def handle(self, *args: Any, host: str, port: str, no_seed: bool, **options: Any) -> None:
        if not str(port).isdigit():
            raise CommandError(f"PORT doit être un nombre, reçu {port!r}.")
        self.stdout.write("Migrations…")
        call_command("migrate", interactive=False, verbosity=0)
        if not no_seed and not Organisation.objects.exists():
            self.stdout.write("Premier lancement : chargement de l’organisation de démonstration…")
            call_command("seed_demo")
        connection.close()

        env = self._child_env()
        python = sys.executable
        children = {
            "worker": [
                python,
                "-m",
                "celery",
                "-A",
                "campus",
                "worker",
                "-Q",
                "default,ai,email",
                "--concurrency",
                "2",
                "-l",
                "info",
                "--without-gossip",
                "--without-mingle",
            ],
            "beat": [
                python,
                "-m",
                "celery",
                "-A",
                "campus",
                "beat",
                "-l",
                "info",
                "-s",
                str(embedded.data_dir() / "celerybeat-schedule"),
            ],
            "web": [python, "manage.py", "runserver", f"{host}:{port}", "--noreload"],
        }
        procs: dict[str, subprocess.Popen[bytes]] = {}
        stopping = False

        def stop(*_: Any) -> None:
            nonlocal stopping
            stopping = True

        signal.signal(signal.SIGINT, stop)
        signal.signal(signal.SIGTERM, stop)
        try:
            for name, cmd in children.items():
                # Own process groups: Ctrl-C reaches us once, and we stop children in order.
                procs[name] = subprocess.Popen(cmd, env=env, start_new_session=True)
            # The worker indexes the practices in the background (about a minute the first
            # time); the site is usable meanwhile and beat keeps the index current afterwards.
            from campus.celery import app

            app.send_task("mallette.tasks.practices_index", queue="ai")
            self._print_logins(host, port)
            while not stopping:
                for name, proc in procs.items():
                    if proc.poll() is not None:
                        self.stderr.write(
                            f"Le processus « {name} » s’est arrêté ({proc.returncode})."
                        )
                        stopping = True
                time.sleep(0.5)
        finally:
            self.stdout.write("\nArrêt du campus…")
            for proc in procs.values():
                if proc.poll() is None:
                    proc.terminate()
            deadline = time.monotonic() + 15
            for proc in procs.values():
                try:
                    proc.wait(timeout=max(0.1, deadline - time.monotonic()))
                except subprocess.TimeoutExpired:
                    proc.kill()
            if not os.environ.get("REDIS_URL"):
                embedded.redis_stop()
            self.stdout.write("Tous les processus sont arrêtés.")
        # The embedded PostgreSQL stops when this process exits (pgserver reference count).

    def _child_env(self) -> dict[str, str]:
        env = dict(os.environ)
        db = settings.DATABASES["default"]
        if not env.get("DATABASE_URL"):
            env["DATABASE_URL"] = embedded.database_url(db["NAME"])
            env["CAMPUS_DEV"] = "1"
        env.setdefault("REDIS_URL", settings.REDIS_URL)
        env.setdefault("SECRET_KEY", settings.SECRET_KEY)
        env.setdefault("DEBUG", "1" if settings.DEBUG else "0")
        env.setdefault("CAMPUS_DATA_DIR", str(embedded.data_dir()))
        env["PYTHONUNBUFFERED"] = "1"
        return env

    def _print_logins(self, host: str, port: str) -> None:
        from campus.demo import DEMO_LOGINS

        password = settings.CAMPUS_DEMO_PASSWORD
        lines = [
            "",
            "=" * 72,
            f"  Campus est prêt : http://{host}:{port}/",
            "  Comptes de démonstration (mot de passe : " + password + ")",
        ]
        for label, email in DEMO_LOGINS:
            lines.append(f"    {label:<22} {email}")
        lines += ["  Ctrl-C arrête tout.", "=" * 72, ""]
        self.stdout.write("\n".join(lines))
