"""The default 180° questionnaire: 18 behavioural items, two for each competency of the
self-diagnosis (same codes, so the mallette themes and the plan line up), and the three open
questions "keep / start / stop".

Items describe what the team observes ("Mon manager …"); the manager answers the same items
about themselves in the first person (``self_text``). A campaign copies the questionnaire when
it is created (``Campaign.questionnaire``): later edits never move past results.
"""

from __future__ import annotations

from typing import Any

SCALE = ["Jamais", "Rarement", "Parfois", "Souvent", "Toujours ou presque"]

# (competency code, team wording, self wording)
ITEMS: list[tuple[str, str, str]] = [
    (
        "sens",
        "explique les raisons des décisions, pas seulement leur contenu.",
        "J’explique les raisons des décisions, pas seulement leur contenu.",
    ),
    (
        "sens",
        "relie notre travail quotidien au service rendu aux assurés.",
        "Je relie le travail quotidien de l’équipe au service rendu aux assurés.",
    ),
    (
        "delegation",
        "confie des missions avec un résultat attendu et une échéance clairs.",
        "Je confie des missions avec un résultat attendu et une échéance clairs.",
    ),
    (
        "delegation",
        "nous laisse de l’autonomie sur la façon de faire.",
        "Je laisse à l’équipe de l’autonomie sur la façon de faire.",
    ),
    ("feedback", "remercie en citant un fait précis.", "Je remercie en citant un fait précis."),
    (
        "feedback",
        "fait des retours sur les points à améliorer, en tête-à-tête et rapidement.",
        "Je fais des retours sur les points à améliorer, en tête-à-tête et rapidement.",
    ),
    (
        "organisation",
        "fixe des priorités claires quand la charge augmente.",
        "Je fixe des priorités claires quand la charge augmente.",
    ),
    (
        "organisation",
        "prend les décisions au bon moment.",
        "Je prends les décisions au bon moment.",
    ),
    (
        "changement",
        "nous associe à la mise en œuvre des changements.",
        "J’associe l’équipe à la mise en œuvre des changements.",
    ),
    (
        "changement",
        "écoute les inquiétudes liées aux changements.",
        "J’écoute les inquiétudes de l’équipe liées aux changements.",
    ),
    ("cooperation", "favorise l’entraide dans l’équipe.", "Je favorise l’entraide dans l’équipe."),
    (
        "cooperation",
        "traite les tensions avant qu’elles ne s’installent.",
        "Je traite les tensions avant qu’elles ne s’installent.",
    ),
    (
        "qualite-vie",
        "est attentif ou attentive à notre charge de travail.",
        "Je suis attentif ou attentive à la charge de travail de chacun.",
    ),
    (
        "qualite-vie",
        "réagit quand quelqu’un ne va pas bien.",
        "Je réagis quand quelqu’un de l’équipe ne va pas bien.",
    ),
    (
        "developpement",
        "nous aide à développer nos compétences.",
        "J’aide chaque membre de l’équipe à développer ses compétences.",
    ),
    (
        "developpement",
        "prend le temps de bien accueillir les nouveaux arrivants.",
        "Je prends le temps de bien accueillir les nouveaux arrivants.",
    ),
    (
        "hybride",
        "garde le lien avec chacun, sur site comme à distance.",
        "Je garde le lien avec chacun, sur site comme à distance.",
    ),
    (
        "hybride",
        "organise des réunions utiles, où chacun peut s’exprimer.",
        "J’organise des réunions utiles, où chacun peut s’exprimer.",
    ),
]

OPEN_QUESTIONS: list[tuple[str, str, str]] = [
    (
        "keep",
        "Que devrait continuer à faire votre manager ?",
        "Une pratique qui vous aide au quotidien.",
    ),
    (
        "start",
        "Que devrait commencer à faire votre manager ?",
        "Une chose qui vous manque aujourd’hui.",
    ),
    (
        "stop",
        "Que devrait arrêter de faire votre manager ?",
        "Une habitude qui vous gêne, décrite sans viser une situation précise.",
    ),
]


def competencies() -> list[dict[str, Any]]:
    """Competency codes, labels and mallette themes, read from the self-diagnosis defaults
    (the shared vocabulary) and kept in this questionnaire's order."""
    from selfdiag.defaults import COMPETENCIES

    by_code = {c[0]: c for c in COMPETENCIES}
    seen: list[str] = []
    for code, _team, _self in ITEMS:
        if code not in seen:
            seen.append(code)
    return [
        {
            "code": code,
            "label": by_code[code][1] if code in by_code else code,
            "short_label": by_code[code][2] if code in by_code else code,
            "description": by_code[code][3] if code in by_code else "",
            "themes": list(by_code[code][4]) if code in by_code else [],
        }
        for code in seen
    ]


def questionnaire_default() -> dict[str, Any]:
    """The snapshot stored on a new campaign."""
    return {
        "version": 1,
        "scale": SCALE,
        "competencies": competencies(),
        "items": [
            {"id": f"i{n}", "competency": code, "text": f"Mon manager {team}", "self_text": own}
            for n, (code, team, own) in enumerate(ITEMS, start=1)
        ],
        "open_questions": [
            {"id": key, "text": text, "help": help_text} for key, text, help_text in OPEN_QUESTIONS
        ],
    }


RECHECK_ITEMS: list[str] = [
    "Depuis le débrief, mon manager a changé certaines de ses pratiques.",
    "Les changements annoncés par mon manager ont été mis en œuvre.",
    "Ces changements ont amélioré le travail de l’équipe.",
]


def questionnaire_recheck() -> dict[str, Any]:
    """The day-60 pulse: three items, no open question (nothing written, nothing to scrub)."""
    return {
        "version": 1,
        "scale": SCALE,
        "competencies": [],
        "items": [
            {"id": f"r{n}", "competency": "recheck", "text": text, "self_text": text}
            for n, text in enumerate(RECHECK_ITEMS, start=1)
        ],
        "open_questions": [],
    }
