"""Fixtures for the AI gateway: a real OpenAI-compatible server on 127.0.0.1, never the network."""

from __future__ import annotations

import pytest

from tests.campus.ai.fake_openai import FakeOpenAI


@pytest.fixture(scope="session")
def fake_openai_server():
    server = FakeOpenAI().start()
    yield server
    server.stop()


@pytest.fixture
def fake_openai(fake_openai_server, settings):
    """The fake server, emptied, with the gateway pointed at it (settings are read per call)."""
    fake_openai_server.reset()
    settings.CAMPUS_AI_BACKEND = "openai"
    settings.CAMPUS_LLM_BASE_URL = fake_openai_server.url + "/v1"
    settings.CAMPUS_LLM_API_KEY = "test"
    settings.CAMPUS_LLM_MODEL = "campus-test"
    settings.CAMPUS_EMBEDDING_MODEL = ""
    settings.CAMPUS_LLM_TIMEOUT = 2
    settings.CAMPUS_LLM_MAX_RETRIES = 1
    yield fake_openai_server
    fake_openai_server.reset()


@pytest.fixture
def local_ai(settings):
    """The default offline backend."""
    settings.CAMPUS_AI_BACKEND = "local"
    settings.CAMPUS_EMBEDDING_MODEL = ""
    return settings
