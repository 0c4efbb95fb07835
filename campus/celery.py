"""The Celery application. Workers: ``celery -A campus worker -Q default,ai,email``."""

from __future__ import annotations

import os

from celery import Celery

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "campus.settings")

app = Celery("campus")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()
