"""Follow-up questions the coach suggests, by theme of the practices it cited.

Written by hand rather than generated: they must always make sense, offline included, and
lead to another part of the library.
"""

from __future__ import annotations

from collections.abc import Iterable

from django.utils.translation import gettext_lazy as _

FOLLOWUPS: dict[str, list[str]] = {
    "delegation": [
        _("Comment suivre une mission déléguée sans la reprendre en main ?"),
        _("Quelles tâches déléguer en premier à un agent qui débute ?"),
    ],
    "feedback": [
        _("Comment préparer un entretien de recadrage ?"),
        _("Comment demander du feedback à mon équipe sur mon management ?"),
    ],
    "recognition": [
        _("Comment reconnaître un effort quand les résultats ne suivent pas encore ?"),
        _("Comment valoriser le travail de l’équipe auprès de ma direction ?"),
    ],
    "conflict": [
        _("Comment mener un entretien de médiation entre deux agents ?"),
        _("Comment prévenir les tensions liées aux plannings et aux congés ?"),
    ],
    "change": [
        _("Comment répondre aux inquiétudes de l’équipe pendant une réorganisation ?"),
        _("Comment impliquer les agents dans la mise en œuvre d’un changement ?"),
    ],
    "meetings": [
        _("Comment faire participer les agents les plus discrets en réunion ?"),
        _("Quel rituel court installer pour partager les difficultés de la semaine ?"),
    ],
    "remote": [
        _("Comment garder le lien avec les agents en télétravail ?"),
        _("Comment organiser une réunion hybride où chacun a sa place ?"),
    ],
    "wellbeing": [
        _("Comment repérer une surcharge de travail avant l’épuisement ?"),
        _("Comment soutenir un agent après une altercation avec un usager ?"),
    ],
    "development": [
        _("Comment préparer un entretien professionnel utile pour l’agent ?"),
        _("Comment accompagner un agent qui veut évoluer ?"),
    ],
    "organisation": [
        _("Comment anticiper un pic d’activité avec l’équipe ?"),
        _("Comment mieux protéger mon temps de manager ?"),
    ],
    "communication": [
        _("Comment relayer une décision que je ne partage pas ?"),
        _("Comment donner du sens à des objectifs chiffrés ?"),
    ],
    "cooperation": [
        _("Comment améliorer la coopération avec un autre service ?"),
        _("Quelle méthode d’intelligence collective pour résoudre un problème récurrent ?"),
    ],
    "onboarding": [
        _("Comment organiser le premier jour d’un nouvel agent ?"),
        _("Comment choisir et soutenir un tuteur ?"),
    ],
    "decision": [
        _("Comment décider quand l’équipe est divisée ?"),
        _("Comment expliquer une décision impopulaire ?"),
    ],
    "inclusion": [
        _("Comment accueillir un agent en situation de handicap ?"),
        _("Comment lutter contre les stéréotypes dans l’équipe ?"),
    ],
    "digital": [
        _("Comment accompagner les agents moins à l’aise avec les outils numériques ?"),
        _("Quelles règles d’usage de la messagerie fixer dans l’équipe ?"),
    ],
}

DEFAULT = [
    _("Comment mobiliser mon équipe sur un objectif commun ?"),
    _("Comment donner un feedback utile à un agent ?"),
]


def followups_for(theme_slugs: Iterable[str], *, exclude: str = "", limit: int = 3) -> list[str]:
    """Up to ``limit`` follow-ups, alternating between the themes, without repeating the
    question just asked."""
    pools = [FOLLOWUPS[s] for s in dict.fromkeys(theme_slugs) if s in FOLLOWUPS] or [DEFAULT]
    chosen: list[str] = []
    for depth in range(2):
        for pool in pools:
            if depth < len(pool):
                text = str(pool[depth])
                if text != exclude and text not in chosen:
                    chosen.append(text)
    return chosen[:limit]
