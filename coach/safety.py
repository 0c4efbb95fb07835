"""Sensitive situations: the coach does not improvise, it points to people who can help.

Detection is lexical on purpose: it is predictable, explainable to HR and occupational
health, and never depends on a model being available. A false alarm costs little (the answer
adds contacts to vetted practices); a miss could cost a lot, so the patterns are generous.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from django.db.models import Q
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from campus.models import Organisation, Organism
from campus.search import unaccent
from coach.models import SupportContact, SupportKind

# Patterns run on lower-case text with accents folded. Order matters: the first topic that
# matches names the answer (suicide before distress, harassment before violence).
_PATTERNS: list[tuple[str, str]] = [
    (
        "suicide",
        r"suicid|mettre fin a (ses|sa|mes|ma) (jours|vie)|en finir avec (la|sa) vie"
        r"|idees? noires?|se tuer|me tuer|plus envie de vivre|se faire du mal|automutil"
        r"|scarifi",
    ),
    (
        "harassment",
        r"harcel|harass|agissements? sexistes?|attouchement|agression sexuelle|\bviol\b"
        r"|avances (sexuelles|insistantes|deplacees)|mise au placard|chantage",
    ),
    (
        "violence",
        r"violen|\bfrapp|\bgifl|coups? de poing|bouscul|agression physique|agresse(e|s)?\b"
        r"|menaces? de mort|menace(e|s)? (avec|de)|\barme\b|couteau|crache",
    ),
    (
        "discrimination",
        r"discrimin|racis|homophob|transphob|antisemit|islamophob|xenophob|sexisme"
        r"|propos sexistes|porte le voile|sa religion|ses origines|couleur de (sa |la )?peau"
        r"|orientation sexuelle",
    ),
    (
        "distress",
        r"detresse|depression|depressi|burn.?out|crise d.angoisse|attaques? de panique"
        r"|s.effondre|effondree?|pleure tous les jours|ne dort plus|a bout\b|craque(r)? nerveus",
    ),
    (
        "legal",
        r"prud.?hom|avocat|porter plainte|deposer (une )?plainte|plainte (contre|penale)"
        r"|tribunal|\bproces\b|poursuites? (judiciaire|penale)|licenci|faute grave"
        r"|sanction disciplinaire|conseil de discipline|inspection du travail|droit de retrait"
        r"|mise a pied",
    ),
]
_COMPILED = [(topic, re.compile(pattern)) for topic, pattern in _PATTERNS]

TOPIC_LABELS = {
    "suicide": "risque suicidaire",
    "harassment": "harcèlement",
    "violence": "violence",
    "discrimination": "discrimination",
    "distress": "détresse psychologique",
    "legal": "situation juridique ou disciplinaire",
}

# Who to contact first, per topic (the organisation's contacts of these kinds are listed).
_KINDS_FOR = {
    "suicide": [SupportKind.EMERGENCY, SupportKind.PSYCHOLOGICAL, SupportKind.OCCUPATIONAL_HEALTH],
    "harassment": [SupportKind.HR, SupportKind.OCCUPATIONAL_HEALTH, SupportKind.PSYCHOLOGICAL],
    "violence": [SupportKind.EMERGENCY, SupportKind.HR, SupportKind.OCCUPATIONAL_HEALTH],
    "discrimination": [SupportKind.HR, SupportKind.LEGAL, SupportKind.PSYCHOLOGICAL],
    "distress": [
        SupportKind.OCCUPATIONAL_HEALTH,
        SupportKind.PSYCHOLOGICAL,
        SupportKind.SOCIAL,
        SupportKind.HR,
    ],
    "legal": [SupportKind.HR, SupportKind.LEGAL],
}


def safety_topic(text: str) -> str:
    """The sensitive topic ``text`` raises (``""`` when none)."""
    folded = unaccent(text).lower().replace("’", "'")
    for topic, pattern in _COMPILED:
        if pattern.search(folded):
            return topic
    return ""


@dataclass(frozen=True)
class Contact:
    label: str
    kind: str
    phone: str = ""
    email: str = ""
    url: str = ""
    details: str = ""


def _national_contacts(topic: str) -> list[Contact]:
    """Public national resources, always listed last (they exist whatever the organisation)."""
    contacts = []
    if topic in ("suicide", "distress"):
        contacts.append(
            Contact(
                label=_("Numéro national de prévention du suicide"),
                kind=SupportKind.EMERGENCY,
                phone="3114",
                details=_("Gratuit, 24 h/24, 7 j/7, pour la personne ou pour son entourage."),
            )
        )
    if topic in ("suicide", "violence", "distress"):
        contacts.append(
            Contact(
                label=_("Urgence vitale ou danger immédiat"),
                kind=SupportKind.EMERGENCY,
                phone="15 / 17 / 112",
                details=_("SAMU, police, numéro d’urgence européen."),
            )
        )
    if topic in ("harassment", "discrimination"):
        contacts.append(
            Contact(
                label=_("Défenseur des droits"),
                kind=SupportKind.LEGAL,
                phone="3928",
                url="https://www.defenseurdesdroits.fr",
                details=_("Pour les victimes ou témoins de discriminations."),
            )
        )
    return contacts


def support_contacts(
    *, organisation: Organisation | None, organism: Organism | None, topic: str
) -> list[Contact]:
    """The contacts to show for ``topic``: the organism's, then the organisation's, of the
    kinds that matter for this topic, then national public resources."""
    kinds = _KINDS_FOR.get(topic, [SupportKind.HR])
    contacts: list[Contact] = []
    if organisation is not None:
        scope = Q(organism__isnull=True)
        if organism is not None:
            scope |= Q(organism=organism)
        rows = list(SupportContact.objects.filter(scope, organisation=organisation, kind__in=kinds))
        # The organism's own contacts first, then by kind in the topic's order.
        rows.sort(key=lambda c: (c.organism_id is None, kinds.index(c.kind), c.position, c.pk))
        contacts = [
            Contact(
                label=c.label,
                kind=c.kind,
                phone=c.phone,
                email=c.email,
                url=c.url,
                details=c.details,
            )
            for c in rows
        ]
    if not contacts:
        contacts.append(
            Contact(
                label=_("Votre service des ressources humaines et le service de santé au travail"),
                kind=SupportKind.HR,
                details=_(
                    "Votre organisme n’a pas encore renseigné ses contacts dans le campus : "
                    "adressez-vous à votre responsable RH ou à votre médecin du travail."
                ),
            )
        )
    return contacts + _national_contacts(topic)


_GUIDANCE = {
    "suicide": gettext_lazy(
        "Ce que vous décrivez peut signaler un risque pour la vie d’une personne. Ce n’est pas "
        "une situation que vous devez gérer seul, ni un sujet sur lequel un coach automatique "
        "peut vous conseiller.\n\n"
        "- Si le danger est immédiat, ne laissez pas la personne seule et appelez le 15 ou le "
        "112.\n"
        "- Sinon, prenez le temps d’écouter sans juger, dites-lui que vous êtes inquiet pour "
        "elle, et proposez-lui d’appeler avec vous le 3114 ou le service de santé au travail.\n"
        "- Prévenez le médecin du travail et votre responsable RH le jour même."
    ),
    "harassment": gettext_lazy(
        "Une situation de harcèlement, présumée ou avérée, appelle une réponse encadrée par "
        "votre organisme : l’employeur a l’obligation d’agir, et une réaction improvisée peut "
        "nuire à la personne comme à l’enquête.\n\n"
        "- Écoutez la personne, prenez ses propos au sérieux et notez les faits qu’elle "
        "rapporte (dates, lieux, témoins), sans mener d’enquête vous-même.\n"
        "- Alertez sans attendre votre responsable RH, qui déclenchera la procédure prévue.\n"
        "- Proposez à la personne de rencontrer le médecin du travail ou le soutien "
        "psychologique."
    ),
    "violence": gettext_lazy(
        "Une violence ou une menace au travail doit être traitée avec les personnes "
        "compétentes de votre organisme.\n\n"
        "- Mettez d’abord les personnes en sécurité ; en cas de danger immédiat, appelez le 17 "
        "ou le 112.\n"
        "- Recueillez les faits et signalez l’incident selon la procédure de votre organisme "
        "(registre, déclaration d’incident).\n"
        "- Prévenez votre responsable RH et proposez à la personne concernée un rendez-vous "
        "avec le service de santé au travail."
    ),
    "discrimination": gettext_lazy(
        "Un soupçon de discrimination doit être examiné avec sérieux et avec l’appui des "
        "ressources humaines, car il touche aux droits de la personne.\n\n"
        "- Écoutez la personne et remerciez-la de vous en avoir parlé ; notez les faits "
        "précis qu’elle rapporte.\n"
        "- Vérifiez, avec les RH, les critères et les décisions en cause (évaluations, "
        "affectations, promotions) sur des éléments objectifs.\n"
        "- Informez-la des recours possibles : RH, référent égalité ou diversité, Défenseur "
        "des droits."
    ),
    "distress": gettext_lazy(
        "Ce que vous décrivez ressemble à une souffrance importante. Votre rôle est de "
        "repérer, d’écouter et d’orienter, pas de soigner.\n\n"
        "- Prenez un moment en tête-à-tête, dites ce que vous observez sans porter de "
        "diagnostic, et écoutez.\n"
        "- Orientez vers le médecin du travail, le soutien psychologique ou l’assistante "
        "sociale du travail ; proposez d’aider à prendre le rendez-vous.\n"
        "- Allégez si besoin la charge à court terme et convenez d’un point de suivi."
    ),
    "legal": gettext_lazy(
        "Votre question touche au droit du travail ou à la discipline : les règles applicables "
        "dépendent de votre convention collective et des procédures internes de votre "
        "organisme, que le coach ne connaît pas et n’invente pas.\n\n"
        "- Avant toute décision ou tout entretien formel, prenez l’avis de votre service RH "
        "ou juridique.\n"
        "- Consignez les faits de façon factuelle et datée.\n"
        "- Ne promettez ni n’annoncez de sanction avant d’avoir été conseillé."
    ),
}


def guidance(topic: str) -> str:
    """The vetted, careful text for a sensitive topic (Markdown, written by the campus team)."""
    return str(_GUIDANCE[topic])
