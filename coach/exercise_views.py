"""The manager's weekly exercises: this week's and the history, answering, preferences."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods, require_POST

from campus.notify import NotificationError
from coach import exercises
from coach.forms_exercises import ExerciseAnswerForm, ExercisePreferenceForm
from coach.models import ExerciseChannel

HISTORY_PAGE_SIZE = 10


@login_required
@require_http_methods(["GET"])
def exercise_list(request: HttpRequest) -> HttpResponse:
    week = exercises.week_of(timezone.localdate())
    mine = exercises.exercises_of(request.user)
    current = mine.filter(week=week).first()
    history = Paginator(mine.exclude(week=week), HISTORY_PAGE_SIZE).get_page(
        request.GET.get("page")
    )
    return render(
        request,
        "coach/exercises/list.html",
        {
            "current": current,
            "week": week,
            "history": history,
            "preference": exercises.preference_for(request.user),
        },
    )


@login_required
@require_POST
def exercise_start(request: HttpRequest) -> HttpResponse:
    """Get this week's exercise now, without waiting for Monday's message."""
    try:
        exercise = exercises.exercise_for_week(user=request.user, week=timezone.localdate())
    except exercises.ExerciseUnavailable as exc:
        messages.error(request, str(exc))
        return redirect("coach:exercise_list")
    return redirect("coach:exercise_detail", pk=exercise.pk)


@login_required
@require_http_methods(["GET", "POST"])
def exercise_detail(request: HttpRequest, pk: int) -> HttpResponse:
    exercise = exercises.get_exercise_for_user(request.user, pk)
    form = ExerciseAnswerForm(
        request.POST or None, initial={"answer": exercise.answer} if exercise.answer else None
    )
    if request.method == "POST" and form.is_valid():
        exercises.exercise_answer(exercise=exercise, answer=form.cleaned_data["answer"])
        messages.success(request, _("Votre réponse est enregistrée dans votre historique."))
        return redirect("coach:exercise_detail", pk=exercise.pk)
    return render(
        request,
        "coach/exercises/detail.html",
        {
            "exercise": exercise,
            "actions": exercises.exercise_actions(exercise),
            "form": form,
        },
    )


@login_required
@require_http_methods(["GET", "POST"])
def exercise_preferences(request: HttpRequest) -> HttpResponse:
    preference = exercises.preference_for(request.user)
    initial = {
        "enabled": preference.enabled if preference.pk else False,
        "email": preference.email,
        "teams_webhook_url": preference.teams_webhook_url,
        "slack_webhook_url": preference.slack_webhook_url,
        "theme_slugs": preference.theme_slugs,
    }
    form = ExercisePreferenceForm(request.POST or None, initial=initial)
    if request.method == "POST" and form.is_valid():
        action = request.POST.get("action", "save")
        if action in ("test_teams", "test_slack"):
            channel = ExerciseChannel.TEAMS if action == "test_teams" else ExerciseChannel.SLACK
            url = form.webhook_for(channel)
            label = ExerciseChannel(channel).label
            if not url:
                form.add_error(
                    "teams_webhook_url"
                    if channel == ExerciseChannel.TEAMS
                    else "slack_webhook_url",
                    _("Indiquez d’abord l’adresse du webhook à tester."),
                )
            else:
                try:
                    exercises.webhook_test_send(channel=channel, url=url)
                except NotificationError as exc:
                    messages.error(
                        request,
                        _("Le message de test n’a pas pu être envoyé : %(error)s") % {"error": exc},
                    )
                else:
                    messages.success(
                        request,
                        _("Message de test envoyé sur %(channel)s : vérifiez votre canal.")
                        % {"channel": label},
                    )
                # The form keeps what was typed; nothing is saved by a test.
                return render(request, "coach/exercises/preferences.html", {"form": form})
        else:
            exercises.preference_save(user=request.user, **form.cleaned_data)
            messages.success(request, _("Vos préférences sont enregistrées."))
            return redirect("coach:exercise_preferences")
    return render(
        request,
        "coach/exercises/preferences.html",
        {"form": form},
    )
