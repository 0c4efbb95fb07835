from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.template.loader import render_to_string
from django.utils import timezone
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from campus.models import Level
from mallette.selectors import get_practice_for_user
from selfdiag import charts, services
from selfdiag.forms import ActionCreateForm, ActionUpdateForm, OpenAnswersForm, StepForm
from selfdiag.models import Action, ActionSource, Item, OpenQuestion
from selfdiag.results import result_context
from selfdiag.selectors import (
    RENEWAL_AFTER,
    actions_of,
    completion_by_level,
    completion_counts,
    draft_of,
    get_action_for_user,
    get_diagnosis_for_user,
    get_draft_for_user,
    questionnaire_current,
    questionnaire_structure,
    renewal_due,
    submitted_of,
)

PLAN_PAGE_SIZE = 20
HISTORY_LIMIT = 12


@login_required
@require_GET
def index(request: HttpRequest) -> HttpResponse:
    user = request.user
    draft = draft_of(user)
    history = list(submitted_of(user).only("pk", "submitted_at", "overall")[:3])
    last = history[0] if history else None
    questionnaire = draft.questionnaire if draft else questionnaire_current(user.organisation)
    structure = questionnaire_structure(questionnaire)
    open_actions = actions_of(user).filter(status__in=["todo", "doing"]).count()
    return render(
        request,
        "selfdiag/index.html",
        {
            "draft": draft,
            "last": last,
            "history": history,
            "structure": structure,
            "item_count": sum(len(c.items.all()) for c in structure.competencies),
            "renewal_due": renewal_due(last),
            "renewal_date": (last.submitted_at + RENEWAL_AFTER) if last else None,
            "open_actions": open_actions,
        },
    )


@login_required
@require_POST
def start(request: HttpRequest) -> HttpResponse:
    diagnosis = services.diagnosis_start(user=request.user)
    return redirect("selfdiag:step", pk=diagnosis.pk, step=diagnosis.step)


def _step_forms(structure, diagnosis, step: int, data=None, *, required: bool = False):
    if step <= len(structure.competencies):
        competency = structure.competencies[step - 1]
        initial = {
            f"item_{item.pk}": str(diagnosis.answers[str(item.pk)])
            for item in competency.items.all()
            if str(item.pk) in diagnosis.answers
        }
        form = StepForm(
            data,
            initial=initial,
            competency=competency,
            scale=structure.questionnaire.scale,
            required=required,
        )
        return competency, form
    initial = {
        f"open_{q.pk}": diagnosis.open_answers.get(str(q.pk), "") for q in structure.open_questions
    }
    return None, OpenAnswersForm(data, initial=initial, questions=structure.open_questions)


@login_required
@require_http_methods(["GET", "POST"])
def step(request: HttpRequest, pk: int, step: int) -> HttpResponse:
    """One step of the questionnaire: a competency, or the open questions last."""
    diagnosis = get_draft_for_user(request.user, pk)
    structure = questionnaire_structure(diagnosis.questionnaire)
    if not 1 <= step <= structure.step_count:
        raise Http404
    competency, form = _step_forms(structure, diagnosis, step, request.POST or None)
    if request.method == "POST":
        action = request.POST.get("action", "next")
        if form.is_valid():
            if competency is not None:
                services.diagnosis_save(diagnosis=diagnosis, answers=form.answers(), step=step)
            else:
                services.diagnosis_save(diagnosis=diagnosis, open_answers=form.answers(), step=step)
            if action == "previous" and step > 1:
                return redirect("selfdiag:step", pk=diagnosis.pk, step=step - 1)
            if action == "save":
                messages.success(
                    request,
                    _("Vos réponses sont enregistrées. Vous reprendrez à l’étape %(step)d.")
                    % {"step": step},
                )
                return redirect("selfdiag:index")
            if competency is not None:
                # "Suivant" needs every answer of the step; what was given is already saved.
                _unused, strict = _step_forms(
                    structure, diagnosis, step, request.POST, required=True
                )
                if strict.is_valid():
                    services.diagnosis_save(diagnosis=diagnosis, step=step + 1)
                    return redirect("selfdiag:step", pk=diagnosis.pk, step=step + 1)
                form = strict
            else:
                try:
                    done = services.diagnosis_submit(diagnosis=diagnosis)
                except services.DiagnosisIncomplete as exc:
                    messages.error(
                        request,
                        _(
                            "Il reste des énoncés sans réponse à l’étape %(step)d : complétez-la "
                            "pour voir vos résultats."
                        )
                        % {"step": exc.step},
                    )
                    return redirect("selfdiag:step", pk=diagnosis.pk, step=exc.step)
                messages.success(request, _("Merci ! Voici les résultats de votre autodiagnostic."))
                return redirect("selfdiag:result", pk=done.pk)
    answered = {int(k) for k in diagnosis.answers}
    steps = [
        {
            "number": i,
            "label": c.label,
            "done": all(item.pk in answered for item in c.items.all()),
        }
        for i, c in enumerate(structure.competencies, start=1)
    ]
    if structure.open_questions:
        steps.append({"number": len(steps) + 1, "label": _("Vos priorités"), "done": False})
    return render(
        request,
        "selfdiag/step.html",
        {
            "diagnosis": diagnosis,
            "structure": structure,
            "competency": competency,
            "form": form,
            "step": step,
            "steps": steps,
            "step_count": structure.step_count,
            "is_last": step == structure.step_count,
        },
    )


@login_required
@require_POST
def autosave(request: HttpRequest, pk: int) -> HttpResponse:
    """htmx: every change of an answer is saved at once (the page works without it)."""
    diagnosis = get_draft_for_user(request.user, pk)
    items = set(
        Item.objects.filter(competency__questionnaire_id=diagnosis.questionnaire_id).values_list(
            "pk", flat=True
        )
    )
    questions = set(
        OpenQuestion.objects.filter(questionnaire_id=diagnosis.questionnaire_id).values_list(
            "pk", flat=True
        )
    )
    answers: dict[int, int] = {}
    open_answers: dict[int, str] = {}
    for name, value in request.POST.items():
        key = name.partition("_")[2]
        if not key.isdigit():
            continue
        if name.startswith("item_") and int(key) in items and value in {"1", "2", "3", "4", "5"}:
            answers[int(key)] = int(value)
        elif name.startswith("open_") and int(key) in questions:
            open_answers[int(key)] = value
    services.diagnosis_save(diagnosis=diagnosis, answers=answers, open_answers=open_answers)
    if not request.htmx:
        return redirect("selfdiag:step", pk=diagnosis.pk, step=diagnosis.step)
    return render(
        request,
        "selfdiag/step.html#autosave-status",
        {"saved_at": timezone.localtime()},
    )


@login_required
@require_GET
def result(request: HttpRequest, pk: int) -> HttpResponse:
    diagnosis = get_diagnosis_for_user(request.user, pk)
    return render(request, "selfdiag/result.html", result_context(request.user, diagnosis))


@login_required
@require_GET
def result_pdf(request: HttpRequest, pk: int) -> HttpResponse:
    """The result as a designed PDF (WeasyPrint), radar included."""
    diagnosis = get_diagnosis_for_user(request.user, pk)
    context = result_context(request.user, diagnosis, with_plan=False)
    html = render_to_string("selfdiag/result_pdf.html", context, request=request)
    from weasyprint import HTML  # heavy import, only where a PDF is made

    pdf = HTML(string=html, base_url=request.build_absolute_uri("/")).write_pdf()
    when = timezone.localtime(diagnosis.submitted_at).strftime("%Y-%m-%d")
    response = HttpResponse(pdf, content_type="application/pdf")
    response["Content-Disposition"] = f'attachment; filename="autodiagnostic-{when}.pdf"'
    return response


@login_required
@require_GET
def history(request: HttpRequest) -> HttpResponse:
    """Every diagnosis, and the evolution of each competency (chart and table)."""
    diagnoses = list(
        submitted_of(request.user).only("pk", "submitted_at", "overall", "scores", "results")[
            :HISTORY_LIMIT
        ]
    )
    diagnoses.reverse()  # oldest first, for the evolution
    competencies: list[dict] = []
    if diagnoses:
        latest = diagnoses[-1].results.get("competencies", [])
        for c in latest:
            values = [d.scores.get(c["code"]) for d in diagnoses]
            competencies.append(
                {
                    "label": c["label"],
                    "values": [services.fr_number(v) for v in values],
                    "chart": charts.sparkline(c["label"], values),
                }
            )
    last = diagnoses[-1] if diagnoses else None
    return render(
        request,
        "selfdiag/history.html",
        {
            "diagnoses": diagnoses,
            "newest_first": list(reversed(diagnoses)),
            "competencies": competencies,
            "overall_chart": charts.sparkline(
                _("Score d’ensemble"), [d.overall for d in diagnoses]
            ),
            "renewal_due": renewal_due(last),
            "has_draft": draft_of(request.user) is not None,
        },
    )


# --- Action plan ------------------------------------------------------------------------------


def _row_form(action: Action, data=None) -> ActionUpdateForm:
    return ActionUpdateForm(
        data,
        initial={"title": action.title, "due_date": action.due_date, "status": action.status},
        auto_id=f"action-{action.pk}-%s",
    )


@login_required
@require_http_methods(["GET", "POST"])
def plan(request: HttpRequest) -> HttpResponse:
    """ "Mon plan d'action": the list (paginated) and a free-text action form."""
    form = ActionCreateForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        services.action_add(
            user=request.user,
            title=form.cleaned_data["title"],
            due_date=form.cleaned_data["due_date"],
            source=ActionSource.MANUAL,
        )
        messages.success(request, _("L’action est ajoutée à votre plan."))
        return redirect("selfdiag:plan")
    page = Paginator(actions_of(request.user), PLAN_PAGE_SIZE).get_page(request.GET.get("page"))
    rows = [(action, _row_form(action)) for action in page.object_list]
    return render(
        request,
        "selfdiag/plan.html",
        {"form": form, "page": page, "rows": rows},
        status=400 if form.errors else 200,
    )


@login_required
@require_POST
def plan_add(request: HttpRequest) -> HttpResponse:
    """Add a practice to the plan: the button of the result page, the mallette and the coach."""
    practice = get_practice_for_user(request.user, request.POST.get("practice"))
    source = request.POST.get("source", "")
    if source not in ActionSource.values:
        source = ActionSource.MALLETTE
    before = actions_of(request.user).filter(practice=practice, status__in=["todo", "doing"])
    already = before.exists()
    services.action_add(user=request.user, practice=practice, source=source)
    if request.htmx:
        return render(
            request,
            "selfdiag/partials/plan_add_button.html",
            {"practice": practice, "in_plan": True, "just_added": not already},
        )
    if already:
        messages.info(
            request,
            _("« %(title)s » est déjà dans votre plan d’action.") % {"title": practice.title},
        )
    else:
        messages.success(
            request,
            _("« %(title)s » est ajoutée à votre plan d’action.") % {"title": practice.title},
        )
    target = request.POST.get("next", "")
    if url_has_allowed_host_and_scheme(
        target, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        return redirect(target)
    return redirect("selfdiag:plan")


@login_required
@require_http_methods(["GET", "POST"])
def plan_edit(request: HttpRequest, pk: int) -> HttpResponse:
    action = get_action_for_user(request.user, pk)
    form = _row_form(action, request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            services.action_update(
                action=action,
                status=form.cleaned_data["status"],
                due_date=form.cleaned_data["due_date"],
                title=form.cleaned_data["title"],
            )
        except ValueError:
            form.add_error(
                "status", _("Cette pratique est déjà en cours dans votre plan d’action.")
            )
        else:
            if request.htmx:
                return render(
                    request,
                    "selfdiag/plan.html#action-row",
                    {"action": action, "row_form": _row_form(action), "saved": True},
                )
            messages.success(request, _("L’action est mise à jour."))
            return redirect("selfdiag:plan")
    if request.htmx:
        return render(
            request, "selfdiag/plan.html#action-row", {"action": action, "row_form": form}
        )
    return render(
        request,
        "selfdiag/plan_edit.html",
        {"action": action, "form": form},
        status=400 if form.errors else 200,
    )


@login_required
@require_POST
def plan_delete(request: HttpRequest, pk: int) -> HttpResponse:
    action = get_action_for_user(request.user, pk)
    title = action.title
    services.action_delete(action=action)
    if request.htmx:
        return HttpResponse("")
    messages.success(request, _("« %(title)s » est retirée de votre plan.") % {"title": title})
    return redirect("selfdiag:plan")


# --- HR analytics -----------------------------------------------------------------------------


@login_required
@require_GET
def analytics(request: HttpRequest) -> HttpResponse:
    """Completion counts for HR analysts: aggregates only, small groups hidden."""
    if not request.user.is_hr_analyst:
        raise Http404
    organisation = request.user.organisation
    cells, totals = completion_counts(organisation)
    labels = dict(Level.choices)
    for cell in cells:
        cell.level = labels.get(cell.level, cell.level or _("Non renseigné"))
    by_level = completion_by_level(organisation)
    for row in by_level:
        row["label"] = labels.get(row["level"], row["level"] or _("Non renseigné"))
    return render(
        request,
        "selfdiag/analytics.html",
        {
            "cells": cells,
            "totals": totals,
            "by_level": by_level,
            "minimum": organisation.analytics_min_people,
        },
    )
