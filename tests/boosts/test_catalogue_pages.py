"""The boosts catalogue in pages of 20: filters kept from page to page, bad page numbers
harmless, the same number of queries on every page."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from mallette.models import Theme

pytestmark = pytest.mark.django_db

INDEX = reverse("boosts:index")


@pytest.fixture
def many(make_boost):
    """25 upcoming boosts, in order of their start: "Séance 00" first."""
    start = timezone.now() + timedelta(days=2)
    return [
        make_boost(title=f"Séance {i:02d}", starts_at=start + timedelta(hours=i)) for i in range(25)
    ]


@pytest.fixture
def c(manager):
    client = Client()
    client.force_login(manager)
    return client


def titles(html: str) -> list[str]:
    return re.findall(r"Séance \d\d", html)


def test_the_catalogue_shows_20_boosts_a_page_with_links_both_ways(many, c):
    first = c.get(INDEX).content.decode()
    assert titles(first) == [f"Séance {i:02d}" for i in range(20)]
    assert "Page 1 sur 2" in first and 'rel="next"' in first and 'rel="prev"' not in first
    second = c.get(INDEX, {"page": "2"}).content.decode()
    assert titles(second) == [f"Séance {i:02d}" for i in range(20, 25)]
    assert "Page 2 sur 2" in second and 'rel="prev"' in second and 'rel="next"' not in second


def test_page_links_keep_the_filters(many, c):
    theme = Theme.objects.first()
    html = c.get(INDEX, {"theme": theme.slug, "format": ""}).content.decode()
    link = re.search(r'<a href="([^"]+)" rel="next"', html).group(1).replace("&amp;", "&")
    assert f"theme={theme.slug}" in link and "page=2" in link
    assert titles(c.get(INDEX + link).content.decode()) == [
        f"Séance {i:02d}" for i in range(20, 25)
    ]


@pytest.mark.parametrize(("raw", "shown"), [("abc", 1), ("0", 2), ("-3", 2), ("99", 2), ("", 1)])
def test_a_bad_page_number_shows_the_nearest_page(many, c, raw, shown):
    response = c.get(INDEX, {"page": raw})
    assert response.status_code == 200
    assert f"Page {shown} sur 2" in response.content.decode()


def test_one_page_needs_no_pagination(make_boost, c):
    make_boost(title="Séance 00")
    html = c.get(INDEX).content.decode()
    assert titles(html) == ["Séance 00"] and "Page 1 sur" not in html


def test_every_page_costs_the_same_queries(many, c, django_assert_num_queries):
    c.get(INDEX, HTTP_HX_REQUEST="true")  # warm the per-organism caches
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    with CaptureQueriesContext(connection) as ctx:
        c.get(INDEX, {"page": "1"}, HTTP_HX_REQUEST="true")
    with django_assert_num_queries(len(ctx.captured_queries)):
        html = c.get(INDEX, {"page": "2"}, HTTP_HX_REQUEST="true").content.decode()
    assert len(titles(html)) == 5


def test_the_refreshed_list_does_not_compute_the_for_you_panel(many, c, manager):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    c.get(INDEX, HTTP_HX_REQUEST="true")
    with CaptureQueriesContext(connection) as full:
        page = c.get(INDEX).content.decode()
    with CaptureQueriesContext(connection) as fragment:
        part = c.get(INDEX, HTTP_HX_REQUEST="true").content.decode()
    assert 'id="boost-results"' in part and "<html" not in part and "<html" in page
    assert len(fragment.captured_queries) < len(full.captured_queries)
