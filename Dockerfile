# syntax=docker/dockerfile:1
# Campus production image: gunicorn (web), Celery worker and beat all run from this image.
#   docker build -t campus:local .
# The application code runs from /app (templates/ and static/ live beside the packages), so the
# virtualenv holds only the pinned dependencies. TLS is terminated by the organisation's reverse
# proxy, which must send X-Forwarded-Proto: https.

# --- Dependencies --------------------------------------------------------------------------------
FROM python:3.11-slim AS deps

ENV PIP_DISABLE_PIP_VERSION_CHECK=1 \
    PIP_NO_CACHE_DIR=1 \
    PYTHONDONTWRITEBYTECODE=1

RUN python -m venv /opt/venv
ENV PATH=/opt/venv/bin:$PATH

WORKDIR /build
# Only the dependency declarations: this layer is rebuilt when they change, not on every commit.
# Without the package directories the project installs as metadata only, with all its pinned
# dependencies (no dev extras).
COPY pyproject.toml constraints.txt ./
RUN pip install --upgrade "pip>=24" \
 && pip install -c constraints.txt .

# --- Runtime -------------------------------------------------------------------------------------
FROM python:3.11-slim

ENV PATH=/opt/venv/bin:$PATH \
    PYTHONPATH=/app \
    PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    DJANGO_SETTINGS_MODULE=campus.settings \
    CAMPUS_MEDIA_ROOT=/app/media \
    CAMPUS_BEAT_SCHEDULE=/app/var/celerybeat-schedule \
    PORT=8000

# Pango and fonts for the PDF exports (WeasyPrint).
RUN apt-get update \
 && apt-get install -y --no-install-recommends libpango-1.0-0 libpangoft2-1.0-0 fonts-dejavu-core \
 && rm -rf /var/lib/apt/lists/*

RUN groupadd --system --gid 10001 campus \
 && useradd --system --uid 10001 --gid campus --home-dir /app --no-create-home \
      --shell /usr/sbin/nologin campus

COPY --from=deps /opt/venv /opt/venv

WORKDIR /app
# Code stays owned by root (read-only for the service); only media/ and var/ are writable.
COPY . /app

# Static files are collected at build time (hashed, compressed, served by WhiteNoise). These
# placeholder values exist only for this step: settings do not connect to any service on import.
RUN DATABASE_URL=postgres://build@localhost/build \
    REDIS_URL=redis://localhost:6379/0 \
    SECRET_KEY=build-only \
    python manage.py collectstatic --noinput --verbosity 0 \
 && python -m compileall -q /app/campus /app/selfdiag /app/feedback180 /app/mallette \
      /app/coach /app/boosts /app/communities \
 && mkdir -p /app/media /app/var \
 && chown campus:campus /app/media /app/var

USER campus:campus

EXPOSE 8000

# /healthz runs "SELECT 1". The request carries the first ALLOWED_HOSTS entry and
# X-Forwarded-Proto (as the reverse proxy would) so that host validation and the HTTPS redirect
# do not reject it. Python, because the slim image has no curl.
HEALTHCHECK --interval=30s --timeout=10s --start-period=30s --retries=3 \
  CMD ["python", "-c", "import os, urllib.request as u; h = (os.environ.get('ALLOWED_HOSTS') or 'localhost').split(',')[0].strip().lstrip('.').replace('*', '') or 'localhost'; u.urlopen(u.Request('http://127.0.0.1:' + os.environ.get('PORT', '8000') + '/healthz', headers={'Host': h, 'X-Forwarded-Proto': 'https'}), timeout=8)"]

CMD ["gunicorn", "--config", "/app/gunicorn.conf.py", "campus.wsgi:application"]
