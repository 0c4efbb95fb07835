from __future__ import annotations

import pytest
from django.utils.text import slugify

from mallette.corpus import themes_load
from mallette.models import Practice, PracticeStatus, Theme
from mallette.services import practices_index


@pytest.fixture
def empty_library(db):
    """The test database holds the editorial corpus (data migration); page tests start empty.
    Themes are ensured: a transactional test elsewhere may have flushed the tables."""
    Practice.objects.all().delete()
    themes_load(theme_model=Theme)


@pytest.fixture
def make_practice(db):
    def make(
        title,
        summary,
        body="- Faites le point.",
        *,
        themes=("delegation",),
        organisation=None,
        organism=None,
        status=PracticeStatus.PUBLISHED,
        level="all",
        slug=None,
    ):
        theme_objs = [Theme.objects.get(slug=s) for s in themes]
        practice = Practice.objects.create(
            organisation=organisation,
            organism=organism,
            slug=slug or slugify(title)[:90],
            title=title,
            summary=summary,
            body=body,
            primary_theme=theme_objs[0],
            level=level,
            status=status,
        )
        practice.themes.set(theme_objs)
        return practice

    return make


@pytest.fixture
def library(empty_library, make_practice, organism):
    """A small library: editorial practices, one national to the organisation, one local to the
    manager's organism, one of another organisation, one draft."""
    items = {
        "deleguer": make_practice(
            "Déléguer un dossier complexe",
            "Confiez un dossier en précisant le résultat attendu et les points d’étape.",
            themes=("delegation",),
            level="proximity",
        ),
        "feedback": make_practice(
            "Recadrer un comportement inapproprié",
            "Nommez le fait, son effet et l’attendu, en tête-à-tête.",
            themes=("feedback", "conflict"),
        ),
        "teletravail": make_practice(
            "Garder le lien en télétravail",
            "Un rituel court en visio les jours à distance entretient la cohésion de l’équipe.",
            themes=("remote",),
        ),
        "merci": make_practice(
            "Remercier précisément",
            "Un merci qui cite le fait et l’effet sur le service motive plus qu’un bravo général.",
            themes=("recognition",),
        ),
        "national": make_practice(
            "Préparer les entretiens annuels",
            "Relisez les objectifs de l’an dernier avec l’agent avant l’entretien annuel.",
            themes=("development",),
            organisation=organism.organisation,
        ),
        "local": make_practice(
            "Organiser l’accueil du Rhône",
            "Une pratique propre à l’organisme du manager.",
            themes=("organisation",),
            organisation=organism.organisation,
            organism=organism,
        ),
        "brouillon": make_practice(
            "Pratique en brouillon", "Pas encore publiée.", status=PracticeStatus.DRAFT
        ),
    }
    practices_index()
    for p in items.values():
        p.refresh_from_db()
    return items
