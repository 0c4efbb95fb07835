from __future__ import annotations

import random

import pytest
from django.db import connection

from campus import search
from tests.factories import OrganisationFactory
from tests.searchapp.models import Doc

DOCS = [
    (
        "sens",
        "Expliquer le pourquoi d’une décision",
        "Avant d’annoncer une nouvelle règle à l’équipe, expliquez à quoi elle sert pour les assurés et ce qu’elle change pour les agents.",
    ),
    (
        "sens",
        "Relier chaque dossier à l’assuré",
        "Rappelez en réunion d’équipe l’histoire d’un assuré aidé grâce au traitement rapide des dossiers : le travail prend du sens.",
    ),
    (
        "reconnaissance",
        "Remercier précisément",
        "Un merci qui cite le fait, l’effort et l’effet sur le service vaut mieux qu’un bravo général. Dites-le dans la journée.",
    ),
    (
        "reconnaissance",
        "Valoriser les progrès de l’équipe",
        "Affichez chaque semaine les délais de traitement gagnés et célébrez-les ensemble au point d’équipe.",
    ),
    (
        "teletravail",
        "Garder le lien en travail hybride",
        "Fixez un rituel court en visioconférence les jours de télétravail et un temps convivial les jours sur site.",
    ),
    (
        "teletravail",
        "Organiser les jours de présence",
        "Construisez avec l’équipe un planning de présence qui garantit l’accueil du public et les moments collectifs.",
    ),
    (
        "conflits",
        "Désamorcer une tension entre deux agents",
        "Recevez chacun séparément, puis ensemble, en vous en tenant aux faits et aux besoins du service.",
    ),
    (
        "conflits",
        "Recadrer un comportement inapproprié",
        "Nommez le comportement, son effet et l’attendu, sans juger la personne, dans un entretien en tête-à-tête.",
    ),
    (
        "changement",
        "Accompagner une réorganisation",
        "Annoncez tôt ce qui est sûr et ce qui ne l’est pas encore, puis ouvrez un temps de questions chaque semaine.",
    ),
    (
        "changement",
        "Associer l’équipe au nouveau logiciel",
        "Désignez deux référents volontaires qui testent l’outil métier et forment leurs collègues.",
    ),
    (
        "delegation",
        "Déléguer un dossier complexe",
        "Précisez le résultat attendu, les marges de manœuvre et les points d’étape, puis laissez faire.",
    ),
    (
        "sante",
        "Repérer l’épuisement professionnel",
        "Soyez attentif aux retards inhabituels, à l’irritabilité et au retrait : proposez un échange et orientez vers la médecine du travail.",
    ),
]


def _embed(texts, kind):
    from campus import ai

    return ai.embed(texts, kind=kind)


@pytest.fixture
def org(db):
    return OrganisationFactory()


@pytest.fixture
def other_org(db):
    return OrganisationFactory(name="Autre", slug="autre")


_VECTORS: dict[str, list[float]] = {}


def _passage_vectors(texts: list[str]) -> list[list[float]]:
    """Embeddings of the test documents, computed once per process (the model is real)."""
    missing = [t for t in dict.fromkeys(texts) if t not in _VECTORS]
    if missing:
        _VECTORS.update(zip(missing, _embed(missing, "passage"), strict=True))
    return [_VECTORS[t] for t in texts]


def _make_docs(org, rows=DOCS):
    from campus import ai

    texts = [f"{title}. {body}" for _, title, body in rows]
    docs = Doc.objects.bulk_create(
        [
            Doc(
                organisation=org,
                theme=t,
                title=title,
                body=body,
                embedding=vector,
                embedding_model=ai.embedding_model_id(),
            )
            for (t, title, body), vector in zip(rows, _passage_vectors(texts), strict=True)
        ]
    )
    search.search_vector_update(
        Doc.objects.filter(organisation=org), weights={"title": "A", "body": "B"}
    )
    return docs


def test_python_and_sql_unaccent_agree(db):
    samples = ["Équipe", "télétravail", "cœur", "ÆSOP", "naïf façon Noël", "déjà vu"]
    with connection.cursor() as cursor:
        for text in samples:
            cursor.execute("SELECT campus_unaccent(%s)", [text])
            assert cursor.fetchone()[0] == search.unaccent(text)


def test_full_text_ignores_accents_and_word_forms(org):
    _make_docs(org)
    tsquery = search.text_query("equipes teletravail")
    titles = set(Doc.objects.filter(search_vector=tsquery).values_list("title", flat=True))
    assert "Garder le lien en travail hybride" in titles
    assert "Valoriser les progrès de l’équipe" in titles


@pytest.mark.parametrize(
    ("question", "theme"),
    [
        ("Comment donner du sens au travail de mes agents ?", "sens"),
        ("Deux collaborateurs ne se parlent plus, que faire ?", "conflits"),
        ("Mon équipe est à moitié à distance, comment garder la cohésion ?", "teletravail"),
        ("Un agent semble à bout et s’isole", "sante"),
        ("je veux confier un gros dossier à une collaboratrice", "delegation"),
    ],
)
def test_hybrid_search_finds_the_practice_by_meaning(org, question, theme):
    _make_docs(org)
    hits = search.hybrid_search(Doc.objects.filter(organisation=org), question, limit=3)
    # Retrieval quality is measured on the real practice library (make eval); here, on a
    # dozen documents, the fused ranking must bring the right practice into the top three.
    assert theme in [h.obj.theme for h in hits], [h.obj.title for h in hits]
    assert hits[0].score >= hits[1].score >= hits[2].score
    assert all(h.vector_rank for h in hits)


def test_results_outside_the_scope_are_never_returned(org, other_org):
    _make_docs(org)
    _make_docs(
        other_org,
        [
            (
                "sens",
                "Donner du sens au travail des agents",
                "Donner du sens au travail des agents, expliquer le sens.",
            )
        ],
    )
    hits = search.hybrid_search(
        Doc.objects.filter(organisation=org), "donner du sens au travail des agents", limit=20
    )
    assert hits
    assert {h.obj.organisation_id for h in hits} == {org.pk}


def test_a_selective_filter_still_returns_k_results_through_the_hnsw_index(
    org, other_org, monkeypatch
):
    """1,500 rows of another organisation crowd the index; the 12 in scope must all come back."""
    _make_docs(org)
    rng = random.Random(7)
    noise = []
    for i in range(1500):
        vec = [rng.gauss(0, 1) for _ in range(384)]
        norm = sum(v * v for v in vec) ** 0.5
        noise.append(
            Doc(
                organisation=other_org,
                title=f"bruit {i}",
                embedding=[v / norm for v in vec],
                embedding_model="x",
            )
        )
    Doc.objects.bulk_create(noise, batch_size=500)
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE searchapp_doc")
        cursor.execute("SET LOCAL enable_seqscan = off")  # make the planner use the HNSW index
    monkeypatch.setattr(search, "EXACT_SCAN_MAX", 0)  # small sets are otherwise sorted exactly
    hits = search.hybrid_search(
        Doc.objects.filter(organisation=org), "réunion hebdomadaire", limit=10
    )
    assert len(hits) == 10
    assert all(h.vector_rank for h in hits)


def test_stale_vectors_are_re_embedded(org):
    _make_docs(org)
    Doc.objects.filter(pk=Doc.objects.last().pk).update(embedding=None)
    assert search.embeddings_refresh(Doc.objects.all(), text_of=lambda d: d.title) == 1
    assert Doc.objects.filter(embedding__isnull=True).count() == 0
    Doc.objects.filter(pk=Doc.objects.first().pk).update(embedding_model="ancien-modele")
    assert search.embeddings_refresh(Doc.objects.all(), text_of=lambda d: d.title) == 1
    assert search.embeddings_refresh(Doc.objects.all(), text_of=lambda d: d.title) == 0


def test_search_makes_a_constant_number_of_queries(org, django_assert_max_num_queries):
    _make_docs(org)
    vector = _embed(["réunion"], "query")[0]
    with django_assert_max_num_queries(8):
        search.hybrid_search(
            Doc.objects.filter(organisation=org), "réunion d’équipe", limit=5, query_vector=vector
        )


def test_empty_or_punctuation_queries_return_nothing_or_vector_results(org):
    _make_docs(org)
    assert search.hybrid_search(Doc.objects.all(), "   ") == []
    assert search.text_query("?!…") is None


def test_highlight_marks_words_whatever_their_accents():
    fragments = search.highlight(
        "Construisez avec l’équipe un planning de présence.", "equipe presence"
    )
    marked = [f.text for f in fragments if f.match]
    assert marked == ["équipe", "présence"]
    assert (
        "".join(f.text for f in fragments) == "Construisez avec l’équipe un planning de présence."
    )


def test_highlight_cuts_long_text_around_the_first_match():
    text = " ".join(["mot"] * 100 + ["délégation"] + ["fin"] * 100)
    fragments = search.highlight(text, "delegation", max_words=20)
    joined = "".join(f.text for f in fragments)
    assert joined.startswith("… ") and joined.endswith(" …")
    assert any(f.match and f.text == "délégation" for f in fragments)
