"""Fixtures of the 180° tests: a manager with a team, open campaigns, tokens from the emails."""

from __future__ import annotations

import re
from collections.abc import Callable

import pytest
from django.core import mail
from django.utils.text import slugify

from feedback180 import services
from feedback180.models import Campaign
from tests.factories import CollaboratorFactory

LINK = re.compile(r"/feedback-180/repondre/([A-Za-z0-9_-]+)/")


@pytest.fixture
def eager_tasks():
    """Celery tasks sent after commit run in this process (emails land in mail.outbox)."""
    from campus.celery import app

    app.conf.task_always_eager = True
    yield
    app.conf.task_always_eager = False


@pytest.fixture
def team(manager) -> list:
    names = ["Alice", "Bruno", "Chloé", "David", "Emma", "Farid", "Gaëlle"]
    return [
        CollaboratorFactory(
            organism=manager.organism,
            manager=manager,
            first_name=first,
            last_name="Durand" if first == "Alice" else f"Nom{n}",
            email=f"{slugify(first)}@campus.test",
        )
        for n, first in enumerate(names)
    ]


def tokens_from_outbox() -> dict[str, str]:
    """{email: token} of the last link sent to each address."""
    found: dict[str, str] = {}
    for message in mail.outbox:
        match = LINK.search(message.body)
        if match:
            found[message.to[0]] = match.group(1)
    return found


@pytest.fixture
def open_campaign(manager, team, eager_tasks, django_capture_on_commit_callbacks) -> Callable:
    """Create and open a campaign for the manager; returns (campaign, {email: token})."""

    def make(*, k: int | None = None, self_answers: dict | None = None):
        campaign = services.campaign_create(manager=manager, created_by=manager)
        if k is not None:
            services.campaign_threshold_set(campaign=campaign, k=k)
        if self_answers:
            services.campaign_self_assess(campaign=campaign, answers=self_answers)
        mail.outbox.clear()
        with django_capture_on_commit_callbacks(execute=True):
            services.campaign_open(campaign=campaign)
        return Campaign.objects.get(pk=campaign.pk), tokens_from_outbox()

    return make


def all_items(campaign: Campaign, value: int = 4) -> dict[str, int]:
    return {item["id"]: value for item in campaign.items}


def run_processing(campaign: Campaign) -> Campaign:
    """Close the campaign and run its job in this process, as the worker would."""
    from feedback180.tasks import campaign_process

    job = services.campaign_close(campaign=campaign)
    campaign_process.apply(kwargs={"job_id": str(job.pk)})
    return Campaign.objects.get(pk=campaign.pk)


# The gateway's fake OpenAI-compatible server on 127.0.0.1 (never the network).
from tests.campus.ai.conftest import fake_openai, fake_openai_server  # noqa: E402, F401
