"""How Liza answers: scrub, classify, retrieve, then write (LLM) or extract (offline).

``coach_prepare`` does everything that does not need a language model and decides the kind of
answer; ``answer_text`` (offline or non-streamed) and ``answer_stream`` write it. Both the
web views and ``manage.py coach_ask`` go through these functions.
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from typing import Any

from django.db.models import Prefetch, Q, QuerySet
from django.utils.translation import gettext as _

from campus import ai
from campus.models import Organisation, Organism, User
from campus.search import SearchHit, hybrid_search, unaccent
from coach import prompts, relevance, safety
from coach.followups import followups_for
from coach.models import AnswerKind
from mallette.models import Practice, PracticeStatus, Theme
from mallette.search import theme_slugs
from mallette.selectors import practices_visible_to

MAX_QUESTION = 2000
RETRIEVED = 8
#: Practices given to the language model as context.
CONTEXT_PRACTICES = 5
#: Practices quoted by the offline answer.
EXTRACTIVE_PRACTICES = 3
ACTIONS_PER_PRACTICE = 3

_MARKER = re.compile(r"\[P(\d+)\]")
# Questions about rules and entitlements (leave, pay, allowances, legal texts): the library
# holds management practices, not the organisation's rules, and the coach never invents them.
_RULES = re.compile(
    r"\b(a|ai|as|ont) droit\b|droit a combien|combien de (jours|rtt|heures)|\brtt\b|bareme"
    r"|reglementation|texte de loi|code du travail|convention collective|grille (indiciaire|"
    r"salariale)|\bindice\b|\bprime\b|remboursement des frais|frais (de deplacement|"
    r"kilometriques)|indemnit|cotisation|bulletin de (paie|salaire)|parametr"
)
_LIST_ITEM = re.compile(r"^\s*(?:[-*+]|\d+[.)])\s+(.*\S)\s*$")


@dataclass
class Prepared:
    question: str
    scrubbed: str
    kind: str
    safety_topic: str = ""
    #: Practices given to the language model as context, best first.
    practices: list[Practice] = field(default_factory=list)
    #: Those close enough to the best one to be quoted by the offline answer.
    close: list[Practice] = field(default_factory=list)
    relevance: relevance.Relevance | None = None
    contacts: list[safety.Contact] = field(default_factory=list)

    @property
    def declined(self) -> bool:
        return self.kind in (AnswerKind.OFF_TOPIC, AnswerKind.NOT_FOUND)


@dataclass
class Answer:
    kind: str
    text: str
    practices: list[Practice]
    followups: list[str]
    scrubbed: str
    safety_topic: str = ""
    backend: str = "local"
    notice: str = ""

    @property
    def declined(self) -> bool:
        return self.kind in (AnswerKind.OFF_TOPIC, AnswerKind.NOT_FOUND)

    def as_json(self) -> dict[str, Any]:
        return {
            "answer": self.text,
            "declined": self.declined,
            "sources": [
                {"id": p.pk, "title": p.title, "themes": theme_slugs(p)} for p in self.practices
            ],
        }


def normalise_question(text: str) -> str:
    return re.sub(r"\s+", " ", text or "").strip()[:MAX_QUESTION]


def known_names_of(user: User | None) -> list[str]:
    """Names the scrubber must remove even when it would not recognise them: the manager's
    team, direct reports, own manager and themselves."""
    if user is None:
        return []
    scope = Q(manager_id=user.pk) | Q(pk=user.pk)
    if user.manager_id:
        scope |= Q(pk=user.manager_id)
    if user.team_id:
        scope |= Q(team_id=user.team_id)
    rows = User.objects.filter(scope).values_list("first_name", "last_name")[:500]
    return [f"{first} {last}".strip() for first, last in rows if first or last]


def _scoped(
    user: User | None, organisation: Organisation | None, organism: Organism | None
) -> QuerySet[Practice]:
    if user is not None:
        queryset = practices_visible_to(user)
    else:
        scope = Q(organisation__isnull=True)
        if organisation is not None:
            national = Q(organisation=organisation, organism__isnull=True)
            scope |= national if organism is None else national | Q(organism=organism)
        queryset = Practice.objects.filter(scope, status=PracticeStatus.PUBLISHED)
    return queryset.select_related("primary_theme").prefetch_related(
        Prefetch("themes", queryset=Theme.objects.order_by("position"))
    )


def _close_to_best(hits: Sequence[SearchHit], limit: int) -> list[Practice]:
    """Hits in rank order whose similarity is close to the best one's."""
    best = max((h.similarity or 0.0 for h in hits), default=0.0)
    chosen = [
        h.obj
        for h in hits
        if h.similarity is not None and h.similarity >= best - relevance.CLOSE_TO_BEST
    ]
    return chosen[:limit]


def coach_prepare(
    question: str,
    *,
    user: User | None = None,
    organisation: Organisation | None = None,
    organism: Organism | None = None,
) -> Prepared:
    """Scrub the question, detect sensitive or off-topic ones, retrieve what the asker may see."""
    if user is not None:
        organisation = user.organisation
        organism = user.organism
    question = normalise_question(question)
    scrubbed = ai.anonymise(question, known_names=known_names_of(user))
    topic = safety.safety_topic(question)

    vector = ai.embed([scrubbed], kind="query", user=user, organisation=organisation)[0]
    hits = hybrid_search(
        _scoped(user, organisation, organism), scrubbed, limit=RETRIEVED, query_vector=vector
    )
    library = max((h.similarity or 0.0 for h in hits), default=0.0)
    rel = relevance.relevance_of(
        scrubbed,
        vector,
        library=library,
        practice_texts=[f"{h.obj.title} {h.obj.summary}" for h in hits[:3]],
    )
    prepared = Prepared(question=question, scrubbed=scrubbed, kind=AnswerKind.ANSWER)
    prepared.relevance = rel
    if topic:
        prepared.kind = AnswerKind.SAFETY
        prepared.safety_topic = topic
        prepared.contacts = safety.support_contacts(
            organisation=organisation, organism=organism, topic=topic
        )
        if rel.on_topic and rel.found:
            prepared.practices = prepared.close = _close_to_best(hits, EXTRACTIVE_PRACTICES)
    elif not rel.on_topic:
        prepared.kind = AnswerKind.OFF_TOPIC
    elif not rel.found or _RULES.search(unaccent(question).lower()):
        prepared.kind = AnswerKind.NOT_FOUND
    else:
        prepared.practices = [h.obj for h in hits[:CONTEXT_PRACTICES]]
        prepared.close = _close_to_best(hits, EXTRACTIVE_PRACTICES)
    return prepared


# --- Offline texts ----------------------------------------------------------------------------


def key_actions(practice: Practice, limit: int = ACTIONS_PER_PRACTICE) -> list[str]:
    """The first actions of the practice's "what to do" list."""
    actions = []
    for line in practice.body.splitlines():
        match = _LIST_ITEM.match(line)
        if match:
            actions.append(match.group(1))
        if len(actions) >= limit:
            break
    return actions


def extractive_text(practices: Sequence[Practice]) -> str:
    """Introduce the practices and quote their key actions (Markdown)."""
    if len(practices) == 1:
        lines = [_("Une pratique de la mallette répond directement à votre question.")]
    else:
        lines = [
            _("%(count)s pratiques de la mallette répondent à votre question.")
            % {"count": len(practices)}
        ]
    for number, practice in enumerate(practices, start=1):
        lines.append("")
        lines.append(f"**[{number}] {practice.title}** — {practice.summary}")
        actions = key_actions(practice)
        if actions:
            lines.append("")
            lines.append(_("Actions clés :"))
            lines.extend(f"- {action}" for action in actions)
    lines.append("")
    lines.append(
        _(
            "Ouvrez chaque pratique pour le détail de la démarche et les pièges à éviter. Ces "
            "réponses viennent de la mallette ; le coach n’invente pas de règle interne : "
            "pour une question de procédure, adressez-vous à vos ressources humaines."
        )
    )
    return "\n".join(lines)


def declined_text(kind: str) -> str:
    if kind == AnswerKind.OFF_TOPIC:
        return _(
            "Je suis Liza, le coach des managers du campus : je réponds aux questions de "
            "management (équipe, organisation du travail, feedback, changement, qualité de vie "
            "au travail…) en m’appuyant sur la mallette des bonnes pratiques. Votre question "
            "sort de ce cadre : je préfère ne pas y répondre.\n\n"
            "Par exemple, vous pouvez me demander : « Comment faire participer une équipe qui "
            "reste silencieuse en réunion ? »"
        )
    return _(
        "Je n’ai trouvé dans la mallette aucune pratique qui réponde vraiment à votre question, "
        "et je préfère ne pas improviser.\n\n"
        "- Reformulez en décrivant la situation : qui est concerné, ce qui se passe, depuis "
        "quand.\n"
        "- Parcourez la mallette par thème.\n"
        "- Posez la question à vos pairs dans une communauté, ou à votre service RH s’il "
        "s’agit d’une règle ou d’une procédure."
    )


def contacts_text(contacts: Sequence[safety.Contact]) -> str:
    lines = [_("**Qui contacter :**")]
    for contact in contacts:
        means = " · ".join(x for x in (contact.phone, contact.email, contact.url) if x)
        line = f"- **{contact.label}**"
        if means:
            line += f" : {means}"
        if contact.details:
            line += f" — {contact.details}"
        lines.append(line)
    return "\n".join(lines)


def safety_text(prepared: Prepared) -> str:
    parts = [safety.guidance(prepared.safety_topic), contacts_text(prepared.contacts)]
    if prepared.practices:
        titles = "\n".join(f"- [{n}] {p.title}" for n, p in enumerate(prepared.practices, start=1))
        parts.append(
            _("Pour préparer l’échange, des pratiques de la mallette sur le sujet :")
            + "\n"
            + titles
        )
    return "\n\n".join(parts)


def offline_answer(prepared: Prepared) -> Answer:
    """The answer without a language model (also the fallback when it is unavailable)."""
    cited: list[Practice] = []
    if prepared.kind == AnswerKind.SAFETY:
        text = safety_text(prepared)
        cited = prepared.close
    elif prepared.declined:
        text = declined_text(prepared.kind)
    else:
        cited = prepared.close
        text = extractive_text(cited)
    return Answer(
        kind=prepared.kind,
        text=text,
        practices=cited,
        followups=followups_of(prepared, cited),
        scrubbed=prepared.scrubbed,
        safety_topic=prepared.safety_topic,
    )


def followups_of(prepared: Prepared, cited: Sequence[Practice]) -> list[str]:
    if prepared.kind == AnswerKind.OFF_TOPIC:
        return followups_for([], limit=2)
    slugs = [slug for p in cited for slug in theme_slugs(p)]
    return followups_for(slugs, exclude=prepared.question)


# --- With a language model --------------------------------------------------------------------


def leaks_prompt(text: str) -> bool:
    """The answer quotes the rules (the canary, or a long verbatim line of them)."""
    if prompts.CANARY.lower() in text.lower():
        return True
    rule_lines = [line.strip() for line in prompts.SYSTEM.splitlines() if len(line.strip()) > 60]
    return any(line in text for line in rule_lines)


def finalise_generated(prepared: Prepared, text: str) -> tuple[str, list[Practice]]:
    """Keep only citations of provided practices, renumber them ``[1]``, ``[2]``…, and
    replace an answer that leaks the prompt. Returns the text and the cited practices."""
    if leaks_prompt(text):
        return extractive_text(prepared.close), list(prepared.close)
    by_id = {p.pk: p for p in prepared.practices}
    order: list[int] = []
    for match in _MARKER.finditer(text):
        pk = int(match.group(1))
        if pk in by_id and pk not in order:
            order.append(pk)

    def renumber(match: re.Match[str]) -> str:
        pk = int(match.group(1))
        return f"[{order.index(pk) + 1}]" if pk in order else ""

    text = _MARKER.sub(renumber, text)
    text = re.sub(r"[ \t]+([.,;:!?])", r"\1", text)  # spaces left by a dropped marker
    text = re.sub(r"[ \t]{2,}", " ", text)
    cited = [by_id[pk] for pk in order] or prepared.practices[:1]
    return text.strip(), cited


def generated_answer(
    prepared: Prepared, *, user: User | None, organisation: Organisation | None
) -> Answer:
    """Non-streamed answer with the LLM (no-JS pages, ``coach_ask``); offline when it cannot."""
    if prepared.kind != AnswerKind.ANSWER:
        return offline_answer(prepared)
    offline = offline_answer(prepared)
    result = ai.chat(
        prompts.answer_messages(prepared.scrubbed, prepared.practices),
        feature="coach.answer",
        user=user,
        organisation=organisation,
        fallback=lambda: offline.text,
        temperature=0.3,
        max_tokens=700,
    )
    if result.backend == "local":
        offline.notice = result.notice
        return offline
    text, cited = finalise_generated(prepared, result.text)
    return Answer(
        kind=prepared.kind,
        text=text,
        practices=cited,
        followups=followups_of(prepared, cited),
        scrubbed=prepared.scrubbed,
        backend="openai",
    )


def answer(
    question: str,
    *,
    user: User | None = None,
    organisation: Organisation | None = None,
) -> Answer:
    """Prepare and answer in one go (LLM when available, extractive otherwise)."""
    prepared = coach_prepare(question, user=user, organisation=organisation)
    payer = user.organisation if user is not None else organisation
    if prepared.kind == AnswerKind.ANSWER and payer is not None and ai.can_generate(payer):
        return generated_answer(prepared, user=user, organisation=payer)
    return offline_answer(prepared)


def stream_chunks(prepared: Prepared, *, user: User) -> tuple[ai.ChatStream, Iterator[str]]:
    """Start a streamed LLM answer; the caller iterates the chunks then calls
    ``finalise_generated`` on ``stream.text``. The fallback (outage, cap) is the offline text.
    """
    offline = offline_answer(prepared)
    stream = ai.chat(
        prompts.answer_messages(prepared.scrubbed, prepared.practices),
        feature="coach.answer",
        user=user,
        stream=True,
        fallback=lambda: offline.text,
        temperature=0.3,
        max_tokens=700,
    )
    return stream, iter(stream)
