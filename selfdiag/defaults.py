"""The default questionnaire, written for Campus: 9 competencies mapped to the mallette's
themes, 36 behavioural items on a 5-point frequency scale, 2 open questions.

Items describe observable behaviours ("Je …"), not self-judgements ("je suis bon en …"): a
frequency is easier to answer honestly than a rating of oneself. Two items are reverse-scored
(behaviours to avoid) to temper the habit of answering "souvent" everywhere.

Loaded by a data migration (historical models) and, should every questionnaire have been
deleted, by ``selfdiag.services.questionnaire_current``.
"""

from __future__ import annotations

from typing import Any

TITLE = "Autodiagnostic des pratiques managériales"
INTRO = (
    "Pour chaque affirmation, indiquez à quelle fréquence elle correspond à votre pratique "
    "actuelle, sur les trois derniers mois. Il n’y a pas de bonne réponse : ce questionnaire "
    "est pour vous seul, vos réponses ne sont transmises à personne."
)
SCALE = ["Jamais", "Rarement", "Parfois", "Souvent", "Toujours ou presque"]

# (code, label, short label, description, theme slugs, items). An item starting with "!" is
# reverse-scored.
COMPETENCIES: list[tuple[str, str, str, str, list[str], list[str]]] = [
    (
        "sens",
        "Donner du sens et communiquer",
        "Sens",
        "Expliquer le pourquoi des décisions, relayer l’information, rendre visible la "
        "contribution de l’équipe au service rendu aux assurés.",
        ["communication", "meetings"],
        [
            "J’explique à mon équipe les raisons des décisions, pas seulement leur contenu.",
            "Je relie le travail quotidien de l’équipe au service rendu aux assurés et aux "
            "allocataires.",
            "Je relaie les informations de la direction dans les jours qui suivent, en les "
            "traduisant pour mon équipe.",
            "Je prends le temps de répondre aux questions de l’équipe, même quand je n’ai pas "
            "toutes les réponses.",
        ],
    ),
    (
        "delegation",
        "Déléguer et responsabiliser",
        "Délégation",
        "Confier des missions avec un cadre clair, laisser de l’autonomie et accepter une "
        "autre façon de faire.",
        ["delegation"],
        [
            "Je confie des missions en précisant le résultat attendu, les marges de manœuvre et "
            "l’échéance.",
            "Je choisis à qui déléguer en pensant aussi au développement de la personne.",
            "Je conviens de points d’étape plutôt que de contrôler chaque avancée.",
            "!Je reprends moi-même un dossier délégué quand il n’avance pas comme je le ferais.",
        ],
    ),
    (
        "feedback",
        "Feedback et reconnaissance",
        "Feedback",
        "Dire ce qui va et ce qui ne va pas, de façon précise et régulière, et reconnaître le "
        "travail accompli.",
        ["feedback", "recognition"],
        [
            "Je remercie en citant un fait précis et son effet sur le service.",
            "Je fais un retour sur un point à améliorer dans les jours qui suivent, en "
            "tête-à-tête.",
            "Je demande à mon équipe ce que je pourrais faire autrement.",
            "Je valorise le travail de l’équipe auprès de ma hiérarchie et des autres services.",
        ],
    ),
    (
        "organisation",
        "Organiser et piloter l’activité",
        "Organisation",
        "Fixer les priorités, répartir la charge, piloter avec quelques indicateurs utiles et "
        "décider au bon moment.",
        ["organisation", "decision", "meetings"],
        [
            "Je clarifie les priorités de l’équipe quand la charge augmente.",
            "Je répartis l’activité en tenant compte de la charge réelle de chacun.",
            "Je partage avec l’équipe les indicateurs de suivi et ce qu’ils signifient.",
            "Je tranche dans un délai raisonnable quand une décision m’appartient.",
        ],
    ),
    (
        "changement",
        "Accompagner le changement",
        "Changement",
        "Préparer l’équipe aux transformations (organisation, outils, métiers), écouter les "
        "inquiétudes et ajuster.",
        ["change", "digital"],
        [
            "J’annonce un changement en expliquant ce qui change, ce qui ne change pas et "
            "pourquoi.",
            "J’écoute les inquiétudes exprimées sans chercher d’abord à les réfuter.",
            "J’associe l’équipe à la mise en œuvre d’un changement qui la concerne.",
            "Je vérifie que chacun est à l’aise avec les nouveaux outils numériques.",
        ],
    ),
    (
        "cooperation",
        "Coopérer et réguler les tensions",
        "Coopération",
        "Favoriser l’entraide et le travail avec les autres services, et traiter les tensions "
        "avant qu’elles ne s’installent.",
        ["cooperation", "conflict"],
        [
            "J’encourage l’entraide et le partage de pratiques entre les membres de l’équipe.",
            "Je travaille avec les autres services pour régler les difficultés communes.",
            "J’interviens rapidement quand je perçois une tension dans l’équipe.",
            "!Je laisse un désaccord entre deux collaborateurs se régler de lui-même.",
        ],
    ),
    (
        "qualite-vie",
        "Qualité de vie et prévention",
        "Qualité de vie",
        "Veiller à la charge et à la santé de l’équipe, repérer les signaux faibles, agir avec "
        "les acteurs de la prévention.",
        ["wellbeing", "inclusion"],
        [
            "Je suis attentif aux signes de fatigue ou de surcharge chez mes collaborateurs.",
            "J’aborde la charge de travail lors de mes échanges individuels.",
            "Je sais vers qui orienter un collaborateur en difficulté (médecine du travail, "
            "assistante sociale, RH).",
            "Je respecte le droit à la déconnexion, y compris dans mes propres envois.",
        ],
    ),
    (
        "developpement",
        "Développer les compétences",
        "Compétences",
        "Faire progresser chacun : entretiens, formation, tutorat, accueil des nouveaux "
        "arrivants, parcours.",
        ["development", "onboarding"],
        [
            "Je prépare les entretiens annuels et professionnels avec chaque collaborateur.",
            "Je discute avec chacun de ses envies d’évolution, en dehors de l’entretien annuel.",
            "J’organise l’accueil et le tutorat des nouveaux arrivants.",
            "Je donne l’occasion d’apprendre en confiant des missions nouvelles.",
        ],
    ),
    (
        "hybride",
        "Manager en hybride et à distance",
        "Hybride",
        "Garder le lien et l’équité entre présents et distants, organiser le télétravail et "
        "les rituels d’équipe.",
        ["remote", "meetings"],
        [
            "Je garde un contact régulier avec chaque collaborateur, qu’il soit sur site ou à "
            "distance.",
            "J’organise des réunions où les personnes à distance participent autant que les "
            "autres.",
            "Je fixe avec l’équipe des règles communes pour le travail à distance.",
            "Je juge le travail sur les résultats plutôt que sur la présence.",
        ],
    ),
]

OPEN_QUESTIONS: list[tuple[str, str]] = [
    (
        "Quelle situation managériale vous occupe le plus en ce moment ?",
        "Décrivez-la en quelques phrases sans nommer de personne : nous vous proposerons des "
        "pratiques de la mallette qui s’en approchent.",
    ),
    (
        "Sur quel point souhaitez-vous progresser dans les six prochains mois ?",
        "Par exemple : mieux déléguer, animer des réunions plus courtes, accompagner une "
        "réorganisation…",
    ),
]


def questionnaire_default_load(
    *,
    questionnaire_model: Any,
    competency_model: Any,
    item_model: Any,
    open_question_model: Any,
    theme_model: Any,
) -> Any:
    """Create the default questionnaire (no organisation, version 1, published) unless one
    exists; works with historical models. Returns it."""
    from django.utils import timezone

    existing = questionnaire_model.objects.filter(organisation__isnull=True, version=1).first()
    if existing is not None:
        return existing
    questionnaire = questionnaire_model.objects.create(
        organisation=None,
        title=TITLE,
        version=1,
        status="published",
        intro=INTRO,
        published_at=timezone.now(),
        **{f"scale_label_{i}": label for i, label in enumerate(SCALE, start=1)},
    )
    themes = {t.slug: t for t in theme_model.objects.all()}
    for position, (code, label, short, description, slugs, items) in enumerate(
        COMPETENCIES, start=1
    ):
        competency = competency_model.objects.create(
            questionnaire=questionnaire,
            code=code,
            label=label,
            short_label=short,
            description=description,
            position=position,
        )
        competency.themes.set([themes[s] for s in slugs if s in themes])
        item_model.objects.bulk_create(
            [
                item_model(
                    competency=competency,
                    text=text.removeprefix("!"),
                    reverse_scored=text.startswith("!"),
                    position=i,
                )
                for i, text in enumerate(items, start=1)
            ]
        )
    for position, (text, help_text) in enumerate(OPEN_QUESTIONS, start=1):
        open_question_model.objects.create(
            questionnaire=questionnaire, text=text, help_text=help_text, position=position
        )
    return questionnaire
