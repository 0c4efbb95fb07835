"""With a language model configured, verbatims are scrubbed, then reworded; the model only
ever sees scrubbed text, and the manager only ever the reworded one."""

from __future__ import annotations

import json

import pytest

from feedback180 import services
from feedback180.models import Response
from tests.campus.ai.fake_openai import CHAT, Reply
from tests.feedback180.conftest import all_items, run_processing

pytestmark = pytest.mark.django_db

RAW = "Franchement Alice Durand dit qu’il nous laisse jamais finir nos phrases en réunion."
REWORDED = "[une personne] indique qu’il ne nous laisse pas terminer nos phrases en réunion."


def test_verbatims_are_reformulated_when_a_model_is_configured(fake_openai, open_campaign):
    campaign, tokens = open_campaign(k=5)
    for email in list(tokens)[:5]:
        services.response_submit(
            token=tokens[email], answers=all_items(campaign), comments={"stop": RAW}
        )
    fake_openai.enqueue(CHAT, *[Reply(json.dumps({"text": REWORDED})) for _ in range(5)])

    campaign = run_processing(campaign)

    sent = [json.dumps(r.body, ensure_ascii=False) for r in fake_openai.requests_to(CHAT)]
    assert len(sent) == 5
    assert all("<verbatim>" in s and "Durand" not in s and "Alice" not in s for s in sent)
    rows = list(Response.objects.filter(campaign=campaign).values("raw_comments", "comments"))
    assert all(r["raw_comments"] == {} for r in rows)
    assert all(r["comments"]["stop"] == REWORDED for r in rows)
    assert campaign.released
