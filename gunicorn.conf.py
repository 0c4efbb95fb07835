"""Gunicorn settings for the Campus web container (``gunicorn -c gunicorn.conf.py``).

Environment:
- ``PORT`` (default 8000): listens on 0.0.0.0:PORT inside the container.
- ``WEB_CONCURRENCY`` (default 0 = automatic: 2 x CPUs + 1, at most 8): worker processes.
  Never set it to an empty string: gunicorn itself parses it as an integer on import.
- ``GUNICORN_THREADS`` (default 1): threads per worker; above 1 gunicorn uses gthread workers.
- ``FORWARDED_ALLOW_IPS`` (default ``*``): addresses allowed to set X-Forwarded-* headers. The
  container port must be reachable only from the organisation's reverse proxy (TLS ends there).
- ``CAMPUS_LOG_LEVEL`` (default INFO): also the gunicorn error-log level.
"""

from __future__ import annotations

import os

MAX_DEFAULT_WORKERS = 8


def _env_int(name: str, default: int, minimum: int = 1) -> int:
    raw = os.environ.get(name, "").strip()
    if not raw:
        return default
    try:
        value = int(raw)
    except ValueError:
        raise ValueError(f"{name} must be an integer, got {raw!r}") from None
    if value < minimum:
        raise ValueError(f"{name} must be at least {minimum}, got {value}")
    return value


def _cpu_count() -> int:
    try:
        return len(os.sched_getaffinity(0))  # honours the container's cpuset
    except AttributeError:  # not on Linux
        return os.cpu_count() or 1


bind = [f"0.0.0.0:{_env_int('PORT', 8000)}"]
workers = _env_int("WEB_CONCURRENCY", 0, minimum=0) or min(
    2 * _cpu_count() + 1, MAX_DEFAULT_WORKERS
)
threads = _env_int("GUNICORN_THREADS", 1)

# Requests slower than this are killed (long work goes to Celery jobs with a progress bar).
timeout = 60
graceful_timeout = 30
keepalive = 5
# Recycle workers now and then so that slow leaks never accumulate; jitter avoids all of them
# restarting at once. Not too often: a live boost of 500 people sends about 170 requests a
# second, and a restarting worker costs a second or two of CPU to load Django again.
max_requests = 20000
max_requests_jitter = 2000

# TLS terminates at the reverse proxy; trust its X-Forwarded-Proto.
forwarded_allow_ips = os.environ.get("FORWARDED_ALLOW_IPS", "*")

# Heartbeat files in memory rather than on the container's overlay filesystem.
worker_tmp_dir = "/dev/shm" if os.path.isdir("/dev/shm") else None  # noqa: S108

# Logs to stdout/stderr for the container runtime. The access log leaves out the client address,
# user agent, referrer and query string: collaborators answering a 180° feedback must not be
# traceable from the application's logs.
accesslog = "-"
errorlog = "-"
access_log_format = '%(t)s "%(m)s %(U)s %(H)s" %(s)s %(B)s %(M)sms'
loglevel = os.environ.get("CAMPUS_LOG_LEVEL", "INFO").strip().lower() or "info"
