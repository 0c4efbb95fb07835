"""Reformulation: scrubbed locally first, reworded by the LLM through the real SDK."""

from __future__ import annotations

import json

from campus.ai.reformulate import reformulate
from tests.campus.ai.fake_openai import CHAT, Reply, Status

VERBATIM = "Franchement Mme Lefèvre nous laisse jamais finir nos phrases en réunion, appelez moi au 06 12 34 56 78."


def test_offline_the_verbatim_is_only_scrubbed(local_ai, manager):
    result = reformulate(
        VERBATIM, organisation=manager.organisation, known_names=["Claire Lefèvre"]
    )
    assert not result.reformulated
    assert "Lefèvre" not in result.text and "06 12" not in result.text
    assert "réunion" in result.text


def test_the_llm_only_ever_sees_scrubbed_text_and_its_answer_is_scrubbed_again(
    fake_openai, manager
):
    fake_openai.enqueue(
        CHAT,
        Reply(
            json.dumps(
                {
                    "text": "[une personne] ne nous laisse pas terminer nos phrases en réunion ; Mme Lefèvre, vous pouvez me joindre au [téléphone]."
                }
            )
        ),
    )
    result = reformulate(
        VERBATIM, organisation=manager.organisation, known_names=["Claire Lefèvre"]
    )
    sent = json.dumps(fake_openai.requests_to(CHAT)[0].body, ensure_ascii=False)
    assert "Lefèvre" not in sent and "06 12 34" not in sent
    assert "<verbatim>" in sent
    assert result.reformulated
    assert "Lefèvre" not in result.text  # a name the model echoed is removed again
    assert "terminer nos phrases" in result.text


def test_an_answer_that_drifts_is_not_kept(fake_openai, manager):
    fake_openai.enqueue(CHAT, Reply(json.dumps({"text": "Très bien."})))
    result = reformulate(VERBATIM, organisation=manager.organisation)
    assert not result.reformulated
    assert "réunion" in result.text


def test_an_outage_falls_back_to_the_scrubbed_text_with_a_notice(fake_openai, manager):
    fake_openai.enqueue(CHAT, Status(500), Status(500), Status(500))
    result = reformulate(VERBATIM, organisation=manager.organisation)
    assert not result.reformulated
    assert result.notice
    assert "06 12" not in result.text
