"""Writes of the self-diagnosis and of the action plan."""

from __future__ import annotations

import logging
from collections.abc import Mapping, Sequence
from datetime import date, timedelta
from typing import Any

from django.conf import settings
from django.core.mail import send_mail
from django.db import IntegrityError, transaction
from django.db.models import Case, Count, F, IntegerField, OuterRef, Subquery, Value, When
from django.urls import reverse
from django.utils import timezone
from django.utils.formats import date_format
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from campus import ai, notify
from campus.analytics.models import Feature
from campus.analytics.services import activity_record
from campus.models import User
from campus.search import hybrid_search
from mallette.models import Practice, PracticeUse, Theme
from mallette.selectors import practices_visible_to
from selfdiag import prompts, scoring
from selfdiag.defaults import questionnaire_default_load
from selfdiag.models import (
    OPEN_STATUSES,
    Action,
    ActionReminder,
    ActionSource,
    ActionStatus,
    Competency,
    Diagnosis,
    DiagnosisStatus,
    Item,
    OpenQuestion,
    Questionnaire,
    QuestionnaireStatus,
    ReminderKind,
)
from selfdiag.selectors import (
    Structure,
    previous_diagnosis,
    questionnaire_current,
    questionnaire_structure,
)

logger = logging.getLogger(__name__)

PRACTICES_PER_AREA = 4
OPEN_ANSWER_MAX = 2000
SYNTHESIS_MAX = 3000
REMINDER_DAYS_BEFORE = 3


class DiagnosisIncomplete(Exception):
    """Some items are unanswered; ``step`` is the first step to complete."""

    def __init__(self, step: int) -> None:
        self.step = step
        super().__init__(f"unanswered items from step {step}")


def fr_number(value: float | None) -> str:
    return "–" if value is None else f"{value:.1f}".replace(".", ",")


def fr_join(parts: Sequence[str]) -> str:
    parts = list(parts)
    if len(parts) <= 1:
        return "".join(parts)
    return _("%(first)s et %(last)s") % {"first": ", ".join(parts[:-1]), "last": parts[-1]}


# --- Questionnaires ---------------------------------------------------------------------------


def questionnaire_default_ensure() -> Questionnaire:
    return questionnaire_default_load(
        questionnaire_model=Questionnaire,
        competency_model=Competency,
        item_model=Item,
        open_question_model=OpenQuestion,
        theme_model=Theme,
    )


@transaction.atomic
def questionnaire_new_version(*, questionnaire: Questionnaire) -> Questionnaire:
    """A draft copy of ``questionnaire`` (competencies, items, themes, open questions) with the
    next version number: how an HR admin edits a questionnaire that already has answers."""
    last = (
        Questionnaire.objects.select_for_update()
        .filter(organisation_id=questionnaire.organisation_id)
        .order_by("-version")
        .first()
    )
    copy = Questionnaire.objects.create(
        organisation_id=questionnaire.organisation_id,
        title=questionnaire.title,
        version=(last.version if last else 0) + 1,
        status=QuestionnaireStatus.DRAFT,
        intro=questionnaire.intro,
        **{f"scale_label_{v}": label for v, label in questionnaire.scale},
    )
    for competency in questionnaire.competencies.prefetch_related("items", "themes"):
        themes = list(competency.themes.all())
        items = list(competency.items.all())
        competency.pk = None
        competency.questionnaire = copy
        competency.save()
        competency.themes.set(themes)
        Item.objects.bulk_create(
            [
                Item(
                    competency=competency,
                    text=i.text,
                    reverse_scored=i.reverse_scored,
                    position=i.position,
                )
                for i in items
            ]
        )
    OpenQuestion.objects.bulk_create(
        [
            OpenQuestion(
                questionnaire=copy, text=q.text, help_text=q.help_text, position=q.position
            )
            for q in questionnaire.open_questions.all()
        ]
    )
    return copy


@transaction.atomic
def questionnaire_publish(*, questionnaire: Questionnaire) -> Questionnaire:
    """Publish a version; the other published versions of the same scope are archived (their
    diagnoses keep them)."""
    Questionnaire.objects.filter(
        organisation_id=questionnaire.organisation_id, status=QuestionnaireStatus.PUBLISHED
    ).exclude(pk=questionnaire.pk).update(status=QuestionnaireStatus.ARCHIVED)
    questionnaire.status = QuestionnaireStatus.PUBLISHED
    questionnaire.published_at = timezone.now()
    questionnaire.save(update_fields=["status", "published_at"])
    return questionnaire


def questionnaire_is_locked(questionnaire: Questionnaire) -> bool:
    """A version with diagnoses (even drafts) is never edited in place."""
    return questionnaire.diagnoses.exists()


# --- Diagnoses --------------------------------------------------------------------------------


@transaction.atomic
def diagnosis_start(*, user: User) -> Diagnosis:
    """The manager's draft: the one in progress (resume) or a new one on the current
    questionnaire."""
    existing = Diagnosis.objects.filter(user=user, status=DiagnosisStatus.DRAFT).first()
    if existing is not None:
        return existing
    questionnaire = questionnaire_current(user.organisation)
    try:
        with transaction.atomic():
            diagnosis = Diagnosis.objects.create(
                user=user, organisation_id=user.organisation_id, questionnaire=questionnaire
            )
    except IntegrityError:  # a double click created it meanwhile
        return Diagnosis.objects.get(user=user, status=DiagnosisStatus.DRAFT)
    activity_record(user=user, feature=Feature.SELFDIAG, action="start")
    return diagnosis


@transaction.atomic
def diagnosis_save(
    *,
    diagnosis: Diagnosis,
    answers: Mapping[int, int] | None = None,
    open_answers: Mapping[int, str] | None = None,
    step: int | None = None,
) -> Diagnosis:
    """Merge answers into the draft (autosave); ``step`` is where to resume."""
    if diagnosis.is_submitted:
        raise ValueError("a submitted diagnosis cannot change")
    for item_id, value in (answers or {}).items():
        if not scoring.SCALE_MIN <= int(value) <= scoring.SCALE_MAX:
            raise ValueError(f"answer out of the scale: {value}")
        diagnosis.answers[str(item_id)] = int(value)
    for question_id, text in (open_answers or {}).items():
        diagnosis.open_answers[str(question_id)] = text.strip()[:OPEN_ANSWER_MAX]
    if step is not None:
        diagnosis.step = step
    diagnosis.save(update_fields=["answers", "open_answers", "step", "updated_at"])
    return diagnosis


def first_incomplete_step(structure: Structure, answers: Mapping[str, Any]) -> int | None:
    for step, competency in enumerate(structure.competencies, start=1):
        if any(str(item.pk) not in answers for item in competency.items.all()):
            return step
    return None


@transaction.atomic
def diagnosis_submit(*, diagnosis: Diagnosis) -> Diagnosis:
    """Score, freeze the results, choose the practices and write the synthesis: the result
    page then only reads. Raises :class:`DiagnosisIncomplete` when items are unanswered."""
    diagnosis = (
        Diagnosis.objects.select_for_update(of=("self",))
        .select_related("user", "user__organisation", "questionnaire")
        .get(pk=diagnosis.pk)
    )
    if diagnosis.is_submitted:
        return diagnosis
    user = diagnosis.user
    structure = questionnaire_structure(diagnosis.questionnaire)
    missing = first_incomplete_step(structure, diagnosis.answers)
    if missing is not None:
        raise DiagnosisIncomplete(missing)
    specs = structure.specs()
    scores = scoring.competency_scores(specs, diagnosis.answers)
    overall = scoring.overall_score(scores)
    strengths, improvements = scoring.highlights(specs, scores)
    open_text = "\n".join(
        diagnosis.open_answers.get(str(q.pk), "") for q in structure.open_questions
    ).strip()
    by_code = {s.code: s for s in specs}
    recommendations = recommendations_choose(
        user=user, areas=[by_code[c] for c in improvements], open_text=open_text
    )

    now = timezone.now()
    Diagnosis.objects.filter(user=user, latest=True).update(latest=False)
    diagnosis.status = DiagnosisStatus.SUBMITTED
    diagnosis.submitted_at = now
    diagnosis.latest = True
    diagnosis.level = user.level
    diagnosis.organism_id = user.organism_id
    diagnosis.scores = scores
    diagnosis.overall = overall
    diagnosis.results = {
        "questionnaire": {
            "title": structure.questionnaire.title,
            "version": structure.questionnaire.version,
        },
        "competencies": [
            {
                "code": s.code,
                "label": s.label,
                "short_label": s.short_label or s.label,
                "description": s.description,
                "themes": list(s.themes),
                "score": scores[s.code],
            }
            for s in specs
        ],
        "strengths": strengths,
        "improvements": improvements,
        "recommendations": recommendations,
        "open_answers": [
            {"question": q.text, "answer": diagnosis.open_answers.get(str(q.pk), "")}
            for q in structure.open_questions
        ],
    }
    previous = previous_diagnosis(diagnosis)
    text, generated, notice = synthesis_write(
        diagnosis=diagnosis, previous=previous, open_text=open_text
    )
    diagnosis.synthesis = text
    diagnosis.synthesis_generated = generated
    diagnosis.synthesis_notice = notice
    diagnosis.save()
    activity_record(user=user, feature=Feature.SELFDIAG, action="submit")
    return diagnosis


def _scrub(text: str, user: User) -> str:
    names = [n for n in (user.first_name, user.last_name) if n]
    return ai.anonymise(text, known_names=names) if text else ""


def _text_leaves_machine_for_search() -> bool:
    return ai.embedding_model_id().startswith("api:")


def recommendations_choose(
    *,
    user: User,
    areas: Sequence[scoring.CompetencySpec],
    open_text: str = "",
    per_area: int = PRACTICES_PER_AREA,
) -> dict[str, list[int]]:
    """Practices the manager may see, ``per_area`` per improvement area: first those closest
    in meaning to their open answers within the area's themes, then the area's practices
    (primary theme first, most used first). A practice is proposed once."""
    visible = practices_visible_to(user)
    if user.level:
        visible = visible.filter(level__in=[user.level, "all"])
    query_vector: list[float] | None = None
    query = open_text.strip()
    if query and _text_leaves_machine_for_search():
        query = _scrub(query, user)
    if query:
        try:
            query_vector = ai.embed([query], kind="query", user=user, feature="selfdiag.search")[0]
        except ai.AIError:
            logger.warning("selfdiag: embedding unavailable, recommendations by theme only")
            query = ""
    uses = (
        PracticeUse.objects.filter(practice=OuterRef("pk"))
        .order_by()
        .values("practice")
        .annotate(n=Count("pk"))
        .values("n")
    )
    chosen: dict[str, list[int]] = {}
    taken: set[int] = set()
    for area in areas:
        slugs = list(area.themes)
        in_area = visible.filter(
            pk__in=Practice.objects.filter(themes__slug__in=slugs).values("pk")
        ).exclude(pk__in=taken)
        picked: list[int] = []
        if query and query_vector is not None:
            hits = hybrid_search(in_area, query, limit=2, query_vector=query_vector)
            picked += [h.obj.pk for h in hits]
        rest = (
            in_area.exclude(pk__in=picked)
            .annotate(
                primary=Case(
                    When(primary_theme__slug__in=slugs, then=Value(0)),
                    default=Value(1),
                    output_field=IntegerField(),
                ),
                n_uses=Subquery(uses, output_field=IntegerField()),
            )
            .order_by("primary", F("n_uses").desc(nulls_last=True), "title")
            .values_list("pk", flat=True)[: per_area - len(picked)]
        )
        picked += list(rest)
        chosen[area.code] = picked
        taken.update(picked)
    return chosen


def synthesis_fallback(
    *,
    competencies: Sequence[Mapping[str, Any]],
    strengths: Sequence[str],
    improvements: Sequence[str],
    overall: float | None,
    previous: Diagnosis | None,
    previous_scores: Mapping[str, float] | None = None,
) -> str:
    """The synthesis written from the scores when no language model is available."""
    by_code = {c["code"]: c for c in competencies}

    def named(codes: Sequence[str]) -> str:
        return fr_join(
            [
                _("« %(label)s » (%(score)s)")
                % {"label": by_code[c]["label"], "score": fr_number(by_code[c]["score"])}
                for c in codes
            ]
        )

    paragraphs = []
    score = overall or 0.0
    if score >= 4.2:
        level = _(
            "vos pratiques managériales sont solidement installées dans presque tous les domaines"
        )
    elif score >= 3.5:
        level = _("vos pratiques sont déjà bien installées dans la plupart des domaines")
    elif score >= 2.8:
        level = _(
            "vos pratiques sont en place dans plusieurs domaines et en construction dans d’autres"
        )
    else:
        level = _(
            "vous avez devant vous de belles marges de progrès, et ce diagnostic est un bon point de départ"
        )
    paragraphs.append(
        _("Votre score d’ensemble est de %(score)s sur 5 : %(level)s.")
        % {"score": fr_number(overall), "level": level}
    )
    if strengths:
        paragraphs.append(
            _(
                "Vos points d’appui : %(list)s. Ce sont des ressources pour vous et pour votre "
                "équipe : continuez à les cultiver et servez-vous-en pour progresser ailleurs."
            )
            % {"list": named(strengths)}
        )
    if improvements:
        paragraphs.append(
            _(
                "Vos pistes de progrès : %(list)s. Plutôt que de tout changer à la fois, "
                "choisissez une ou deux des pratiques proposées ci-dessous, ajoutez-les à votre "
                "plan d’action et essayez-les dans le mois qui vient."
            )
            % {"list": named(improvements)}
        )
    if previous is not None and previous.overall is not None and overall is not None:
        delta = round(overall - previous.overall, 2)
        when = date_format(timezone.localtime(previous.submitted_at), "j F Y")
        if delta >= 0.1:
            trend = _("votre score d’ensemble a progressé de %(delta)s point") % {
                "delta": fr_number(delta)
            }
        elif delta <= -0.1:
            trend = _("votre score d’ensemble a baissé de %(delta)s point") % {
                "delta": fr_number(-delta)
            }
        else:
            trend = _("votre score d’ensemble est stable")
        moves = [
            (c["code"], round(c["score"] - previous_scores[c["code"]], 2))
            for c in competencies
            if previous_scores and c["code"] in previous_scores
        ]
        best = max(moves, key=lambda m: m[1], default=None)
        sentence = _("Depuis votre diagnostic du %(date)s, %(trend)s.") % {
            "date": when,
            "trend": trend,
        }
        if best is not None and best[1] >= 0.25:
            sentence += " " + _(
                "La plus forte progression concerne « %(label)s » (+%(delta)s)."
            ) % {
                "label": by_code[best[0]]["label"],
                "delta": fr_number(best[1]),
            }
        paragraphs.append(sentence)
    paragraphs.append(_("Refaites ce diagnostic dans six mois pour mesurer le chemin parcouru."))
    return "\n\n".join(paragraphs)


def synthesis_write(
    *, diagnosis: Diagnosis, previous: Diagnosis | None, open_text: str
) -> tuple[str, bool, str]:
    """(text, generated by a model, notice to show). The open answers are scrubbed locally
    before they are put in a prompt; without a model the template text is used."""
    results = diagnosis.results
    competencies = results["competencies"]

    def fallback() -> str:
        return synthesis_fallback(
            competencies=competencies,
            strengths=results["strengths"],
            improvements=results["improvements"],
            overall=diagnosis.overall,
            previous=previous,
            previous_scores=previous.scores if previous else None,
        )

    if not ai.can_generate(diagnosis.user.organisation):
        return fallback(), False, ""
    by_code = {c["code"]: c for c in competencies}
    payload = {
        "score_global": diagnosis.overall,
        "competences": [{"competence": c["label"], "score": c["score"]} for c in competencies],
        "points_d_appui": [by_code[c]["label"] for c in results["strengths"]],
        "pistes_de_progres": [by_code[c]["label"] for c in results["improvements"]],
        "score_global_precedent": previous.overall if previous else None,
        "reponses_libres": _scrub(open_text, diagnosis.user),
    }
    result = ai.chat(
        prompts.synthesis_messages(payload),
        feature="selfdiag.synthesis",
        user=diagnosis.user,
        fallback=fallback,
        temperature=0.4,
        max_tokens=600,
    )
    text = result.text.strip()[:SYNTHESIS_MAX]
    if not text:
        return fallback(), False, ""
    return text, result.backend != "local", result.notice


# --- Action plan ------------------------------------------------------------------------------


@transaction.atomic
def action_add(
    *,
    user: User,
    practice: Practice | None = None,
    title: str = "",
    due_date: date | None = None,
    source: str = ActionSource.MANUAL,
) -> Action:
    """Add an action to the manager's plan, from a practice or free text. A practice already
    in the plan as an open action is not added twice: that action is returned."""
    title = title.strip()
    if practice is None and not title:
        raise ValueError("an action needs a practice or a title")
    if source not in ActionSource.values:
        raise ValueError(f"unknown source: {source}")
    if practice is not None:
        existing = Action.objects.filter(
            owner=user, practice=practice, status__in=OPEN_STATUSES
        ).first()
        if existing is not None:
            return existing
        title = title or practice.title
    try:
        with transaction.atomic():
            return Action.objects.create(
                owner=user,
                practice=practice,
                title=title[:200],
                due_date=due_date,
                source=source,
            )
    except IntegrityError:  # the same practice added twice at once
        return Action.objects.get(owner=user, practice=practice, status__in=OPEN_STATUSES)


@transaction.atomic
def action_update(
    *, action: Action, status: str, due_date: date | None, title: str | None = None
) -> Action:
    if status not in ActionStatus.values:
        raise ValueError(f"unknown status: {status}")
    if (
        status in OPEN_STATUSES
        and action.practice_id
        and not action.is_open
        and Action.objects.filter(
            owner_id=action.owner_id, practice_id=action.practice_id, status__in=OPEN_STATUSES
        )
        .exclude(pk=action.pk)
        .exists()
    ):
        raise ValueError("this practice is already open in the plan")
    action.status = status
    action.due_date = due_date
    if title is not None and title.strip():
        action.title = title.strip()[:200]
    action.completed_at = timezone.now() if status == ActionStatus.DONE else None
    action.save()
    return action


@transaction.atomic
def action_delete(*, action: Action) -> None:
    action.delete()


def _plan_url() -> str:
    return notify.absolute_url(reverse("selfdiag:plan"))


def _reminder_email(user: User, items: list[tuple[Action, str]]) -> tuple[str, str]:
    count = len(items)
    subject = ngettext(
        "Votre plan d’action : %(count)d action à échéance",
        "Votre plan d’action : %(count)d actions à échéance",
        count,
    ) % {"count": count}
    lines = [_("Bonjour %(name)s,") % {"name": user.first_name or user.full_name}, ""]
    lines.append(_("Voici les actions de votre plan qui arrivent à échéance :"))
    lines.append("")
    for action, kind in items:
        when = date_format(action.due_date, "j F Y")
        if kind == ReminderKind.OVERDUE:
            lines.append(
                _("- %(title)s : échéance dépassée (%(date)s)")
                % {"title": action.title, "date": when}
            )
        else:
            lines.append(
                _("- %(title)s : à faire d’ici le %(date)s") % {"title": action.title, "date": when}
            )
    lines += [
        "",
        _("Une action faite, reportée ou devenue sans objet ? Mettez votre plan à jour : %(url)s")
        % {"url": _plan_url()},
        "",
        settings.CAMPUS_NAME,
    ]
    return subject, "\n".join(lines)


def action_reminders_send(*, today: date | None = None) -> int:
    """Email each manager the open actions of their plan due within three days or overdue.

    Idempotent: each reminder (action, kind, due date) is recorded and sent once; running it
    again the same day sends nothing. Emails leave after the commit that records them.
    Returns the number of emails queued."""
    today = today or timezone.localdate()
    horizon = today + timedelta(days=REMINDER_DAYS_BEFORE)
    candidates = list(
        Action.objects.filter(
            status__in=OPEN_STATUSES,
            due_date__isnull=False,
            due_date__lte=horizon,
            owner__is_active=True,
        )
        .exclude(owner__email="")
        .order_by("owner_id", "due_date", "pk")
        .values_list("pk", "owner_id", "due_date")
    )
    by_owner: dict[int, list[int]] = {}
    for pk, owner_id, _due in candidates:
        by_owner.setdefault(owner_id, []).append(pk)
    sent = 0
    for owner_id, pks in by_owner.items():
        with transaction.atomic():
            actions = list(
                Action.objects.select_for_update()
                .filter(pk__in=pks, status__in=OPEN_STATUSES, due_date__lte=horizon)
                .order_by("due_date", "pk")
            )
            done = set(
                ActionReminder.objects.filter(action__in=actions).values_list(
                    "action_id", "kind", "due_date"
                )
            )
            items = []
            for action in actions:
                kind = ReminderKind.OVERDUE if action.due_date < today else ReminderKind.SOON
                if (action.pk, kind, action.due_date) not in done:
                    items.append((action, kind))
            if not items:
                continue
            ActionReminder.objects.bulk_create(
                [ActionReminder(action=a, kind=k, due_date=a.due_date) for a, k in items]
            )
            owner = User.objects.get(pk=owner_id)
            subject, body = _reminder_email(owner, items)
            transaction.on_commit(
                lambda s=subject, b=body, to=owner.email: send_mail(
                    s, b, None, [to], fail_silently=False
                )
            )
            sent += 1
    return sent
