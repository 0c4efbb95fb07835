from __future__ import annotations

from datetime import timedelta

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.contrib.auth.models import AnonymousUser
from django.core.cache import cache
from django.core.paginator import Paginator
from django.db.models import DateTimeField, ExpressionWrapper, F, Q
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseNotModified
from django.shortcuts import redirect, render
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import get_language
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from boosts import exports, ics, notifications, services
from boosts.forms import (
    BoostForm,
    CheckinForm,
    FilterForm,
    PollForm,
    QuestionForm,
    SatisfactionForm,
)
from boosts.middleware import room_pass
from boosts.models import (
    LIVE_CLOSES_AFTER,
    LIVE_OPENS_BEFORE,
    Boost,
    CalendarToken,
    Poll,
    PollState,
    Question,
    QuestionVote,
    Registration,
    RegistrationStatus,
    SatisfactionReceipt,
)
from boosts.selectors import (
    attendance_rate,
    boost_stats,
    boosts_managed_by,
    boosts_visible_to,
    can_host,
    communities_of,
    community_mentions,
    current_poll,
    for_communities,
    get_boost_for_host,
    get_boost_for_user,
    is_visible_to,
    may_manage,
    poll_counts,
    poll_mine,
    poll_result,
    registration_of,
    satisfaction_summary,
    theme_slugs_for_you,
    with_counts,
)
from boosts.selectors import (
    live_questions as live_questions_of,
)
from campus.models import User
from mallette.models import Theme

PAGE_SIZE = 20
LIVE_POLL_SECONDS = 3


def _ends() -> ExpressionWrapper:
    return ExpressionWrapper(
        F("starts_at") + F("duration_minutes") * timedelta(minutes=1),
        output_field=DateTimeField(),
    )


def _section(context: dict) -> dict:
    return {"section": "boosts", **context}


# --- Catalogue --------------------------------------------------------------------------------


@login_required
@require_GET
def index(request: HttpRequest) -> HttpResponse:
    user: User = request.user  # type: ignore[assignment]
    themes = list(Theme.objects.all())
    communities = communities_of(user)
    form = FilterForm(request.GET or None, themes=themes, communities=communities)
    data: dict = {}
    if form.is_bound:
        # A bad value (a hand-edited address, a group the person has left) is dropped from
        # ``cleaned_data`` and shown as an error on its field; the other filters still apply.
        form.is_valid()
        data = form.cleaned_data
    now = timezone.now()
    visible = with_counts(boosts_visible_to(user)).annotate(ends_at_db=_ends())
    when = data.get("when") or ""
    if when == "past":
        listing = visible.filter(ends_at_db__lt=now).order_by("-starts_at", "-pk")
    elif when == "mine":
        listing = visible.filter(
            registrations__user=user,
            registrations__status__in=[RegistrationStatus.CONFIRMED, RegistrationStatus.WAITLISTED],
        ).order_by("-starts_at", "-pk")
    else:
        listing = visible.filter(ends_at_db__gte=now).order_by("starts_at", "pk")
    if data.get("theme"):
        listing = listing.filter(
            pk__in=Boost.objects.filter(themes__slug=data["theme"]).values("pk")
        )
    if data.get("format"):
        listing = listing.filter(format=data["format"])
    community_ids = form.community_ids()
    if community_ids is not None:
        listing = for_communities(listing, community_ids)
    listing = listing.select_related("host").prefetch_related("themes").distinct()
    # A bad or out-of-range page number gives the nearest page, never an error.
    page = Paginator(listing, PAGE_SIZE).get_page(request.GET.get("page"))
    boosts = list(page.object_list)
    mine = dict(
        Registration.objects.filter(user=user, boost__in=[b.pk for b in boosts]).values_list(
            "boost_id", "status"
        )
    )
    for_you: list[Boost] = []
    if not when and not request.htmx:  # the panel is not part of the refreshed list
        # Upcoming boosts of the manager's themes (action plan first), not already joined.
        slugs = theme_slugs_for_you(user)[:6]
        if slugs:
            for_you = list(
                with_counts(boosts_visible_to(user))
                .annotate(ends_at_db=_ends())
                .filter(ends_at_db__gte=now)
                # A subquery, not a join: a join on several matching themes would multiply
                # the seat counts.
                .filter(pk__in=Boost.objects.filter(themes__slug__in=slugs).values("pk"))
                .exclude(status="cancelled")
                .exclude(registrations__user=user)
                .select_related("host")
                .prefetch_related("themes")
                .distinct()
                .order_by("starts_at")[:3]
            )
    mentions = community_mentions([b.pk for b in [*boosts, *for_you]], communities)
    for b in [*boosts, *for_you]:
        b.seats_left = max(0, b.capacity - b.confirmed_count)
        b.my_status = mine.get(b.pk, "")
        b.my_communities = mentions.get(b.pk, [])
    context = _section(
        {
            "form": form,
            "boosts": boosts,
            "page": page,
            "mine": mine,
            "for_you": for_you,
            "when": when,
            "community_filter": community_ids is not None,
            "has_communities": bool(communities),
            "can_host": can_host(user),
            "checkin_form": CheckinForm(),
        }
    )
    template = "boosts/index.html#results" if request.htmx else "boosts/index.html"
    return render(request, template, context)


def _detail_context(request: HttpRequest, boost: Boost, **extra: object) -> dict:
    user: User = request.user  # type: ignore[assignment]
    registration = registration_of(user, boost)
    now = timezone.now()
    past = boost.is_past(now)
    counts = with_counts(Boost.objects.filter(pk=boost.pk)).values(
        "confirmed_count", "waitlist_count"
    )[0]
    answered = SatisfactionReceipt.objects.filter(boost=boost, user=user).exists()
    attended = bool(registration and registration.checked_in_at)
    practices = []
    if past:
        from mallette.selectors import practices_visible_to

        practices = list(
            practices_visible_to(user)
            .filter(themes__in=boost.themes.all())
            .select_related("primary_theme")
            .distinct()
            .order_by("title")[:5]
        )
    return _section(
        {
            "boost": boost,
            "themes": list(boost.themes.all()),
            "registration": registration,
            "confirmed_count": counts["confirmed_count"],
            "waitlist_count": counts["waitlist_count"],
            "seats_left": max(0, boost.capacity - counts["confirmed_count"]),
            "past": past,
            "live_open": boost.live_is_open(now),
            "manage": may_manage(user, boost),
            "satisfaction_form": extra.pop("satisfaction_form", None) or SatisfactionForm(),
            "may_answer_satisfaction": past and attended and not answered,
            "answered_satisfaction": answered,
            "practices": practices,
            "when": notifications.when_text(boost),
            **extra,
        }
    )


@login_required
@require_GET
def detail(request: HttpRequest, pk: int) -> HttpResponse:
    boost = get_boost_for_user(request.user, pk)
    return render(request, "boosts/detail.html", _detail_context(request, boost))


@login_required
@require_POST
def register(request: HttpRequest, pk: int) -> HttpResponse:
    boost = get_boost_for_user(request.user, pk)
    try:
        registration = services.registration_create(boost=boost, user=request.user)
    except services.BoostError as exc:
        messages.error(request, str(exc))
    else:
        if registration.is_confirmed:
            messages.success(
                request,
                _("Vous êtes inscrit. L’invitation pour votre agenda arrive par courriel."),
            )
        else:
            messages.warning(
                request,
                _(
                    "Le boost est complet : vous êtes sur la liste d’attente. Vous recevrez un "
                    "courriel si une place se libère."
                ),
            )
    return redirect("boosts:detail", pk=boost.pk)


@login_required
@require_POST
def unregister(request: HttpRequest, pk: int) -> HttpResponse:
    boost = get_boost_for_user(request.user, pk)
    registration = registration_of(request.user, boost)
    if registration is not None:
        services.registration_cancel(registration=registration)
        messages.success(request, _("Votre inscription est annulée."))
    return redirect("boosts:detail", pk=boost.pk)


@login_required
@require_GET
def boost_ics(request: HttpRequest, pk: int) -> HttpResponse:
    boost = get_boost_for_user(request.user, pk)
    registration = registration_of(request.user, boost)
    cancelled = registration is None or registration.status == RegistrationStatus.CANCELLED
    body = notifications.invitation(boost, email=request.user.email, cancelled=cancelled)
    response = HttpResponse(body, content_type="text/calendar; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="boost-{boost.pk}.ics"'
    return response


@login_required
@require_http_methods(["GET", "POST"])
def calendar(request: HttpRequest) -> HttpResponse:
    if request.method == "POST":
        token = services.calendar_token_reset(user=request.user)
        messages.success(request, _("Nouvelle adresse créée : l’ancienne ne fonctionne plus."))
        return redirect("boosts:calendar")
    token = services.calendar_token_for(user=request.user)
    url = request.build_absolute_uri(reverse("boosts:calendar_feed", args=[token.token]))
    return render(request, "boosts/calendar.html", _section({"feed_url": url}))


@require_GET
def calendar_feed(request: HttpRequest, token: str) -> HttpResponse:
    """The manager's boosts for calendar apps (no session: the secret address is the key)."""
    try:
        owner = CalendarToken.objects.select_related("user").get(token=token).user
    except CalendarToken.DoesNotExist:
        raise Http404 from None
    if not owner.is_active:
        raise Http404
    since = timezone.now() - timedelta(days=60)
    registrations = (
        Registration.objects.filter(user=owner, boost__starts_at__gte=since)
        .exclude(status=RegistrationStatus.WAITLISTED)
        .select_related("boost", "boost__host")[:500]
    )
    events = [
        notifications.boost_event(
            r.boost, cancelled=r.status == RegistrationStatus.CANCELLED or r.boost.is_cancelled
        )
        for r in registrations
    ]
    body = ics.calendar(events, name=_("Mes boosts managers"))
    return HttpResponse(body, content_type="text/calendar; charset=utf-8")


@login_required
@require_http_methods(["GET", "POST"])
def checkin(request: HttpRequest) -> HttpResponse:
    form = CheckinForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        now = timezone.now()
        candidates = boosts_visible_to(request.user).filter(
            starts_at__lte=now + timedelta(minutes=15), starts_at__gte=now - timedelta(hours=5)
        )
        try:
            boost = services.checkin_by_code(
                boosts=candidates, user=request.user, code=form.cleaned_data["code"]
            )
        except services.BoostError as exc:
            form.add_error("code", str(exc))
        else:
            messages.success(request, _("Votre présence est enregistrée. Bon boost !"))
            return redirect("boosts:live", pk=boost.pk)
    return render(request, "boosts/checkin.html", _section({"form": form}))


@login_required
@require_POST
def satisfaction(request: HttpRequest, pk: int) -> HttpResponse:
    boost = get_boost_for_user(request.user, pk)
    registration = registration_of(request.user, boost)
    if not (boost.is_past() and registration and registration.checked_in_at):
        raise Http404
    form = SatisfactionForm(request.POST)
    if form.is_valid():
        try:
            services.satisfaction_submit(boost=boost, user=request.user, **form.cleaned_data)
        except services.BoostError as exc:
            messages.error(request, str(exc))
        else:
            messages.success(request, _("Merci ! Vos réponses sont anonymes."))
        return redirect("boosts:detail", pk=boost.pk)
    return render(
        request,
        "boosts/detail.html",
        _detail_context(request, boost, satisfaction_form=form),
        status=400,
    )


# --- Live room --------------------------------------------------------------------------------


def _questions_context(
    request: HttpRequest, boost: Boost, manage: bool, questions: list[Question] | None = None
) -> dict:
    if questions is None:
        questions = list(live_questions_of(boost, request.user, include_hidden=manage))
    # Reversing two URLs per question was a third of the fragment's time (polled by everyone
    # every 3 s): reverse once, then fill in the id.
    vote = reverse("boosts:vote", args=[0]).replace("/0/", "/{}/")
    moderate = reverse("boosts:moderate", args=[0]).replace("/0/", "/{}/")
    for q in questions:
        q.vote_url = vote.format(q.pk)
        q.moderate_url = moderate.format(q.pk)
        q.short = q.body if len(q.body) <= 60 else q.body[:59] + "…"
    return {
        "boost": boost,
        "manage": manage,
        "questions": questions,
        "live_open": boost.live_is_open(),
        "poll_seconds": LIVE_POLL_SECONDS,
    }


def _poll_context(request: HttpRequest, boost: Boost, manage: bool) -> dict:
    poll = current_poll(boost)
    return {
        "boost": boost,
        "manage": manage,
        "poll": poll,
        "result": poll_result(poll, request.user) if poll else None,
        "poll_seconds": LIVE_POLL_SECONDS,
    }


def _not_modified(request: HttpRequest, etag: str) -> bool:
    return bool(etag) and etag in request.headers.get("If-None-Match", "")


def _polled(response: HttpResponse, etag: str = "") -> HttpResponse:
    """A polled fragment's headers: revalidate every time, with its ETag if it has one."""
    if etag:
        response["ETag"] = etag
    response["Cache-Control"] = "private, no-cache"
    return response


def _fragment(request: HttpRequest, template: str, context: dict, etag: str) -> HttpResponse:
    return _polled(render(request, template, context), etag)


def _regions(request: HttpRequest, boost: Boost, manage: bool) -> list[str]:
    """The questions and poll fragments rendered in full (host, or a language other than the
    cached one)."""
    return [
        render_to_string(
            "boosts/live.html#questions",
            _questions_context(request, boost, manage),
            request=request,
        ),
        render_to_string(
            "boosts/live.html#poll", _poll_context(request, boost, manage), request=request
        ),
    ]


@login_required
@require_GET
def live(request: HttpRequest, pk: int) -> HttpResponse:
    boost = get_boost_for_user(request.user, pk)
    manage = may_manage(request.user, boost)
    registration = None
    if not manage:
        # Entering the room is the check-in.
        registration = services.checkin(boost=boost, user=request.user)
    polls = list(boost.polls.prefetch_related("options")) if manage else []
    context = _section(
        {
            **_questions_context(request, boost, manage),
            **_poll_context(request, boost, manage),
            "registration": registration,
            "question_form": QuestionForm(),
            "polls": polls,
            "poll_form": PollForm(),
            "when": notifications.when_text(boost),
            "live_pass": "" if manage else _live_pass(request, boost),
        }
    )
    return render(request, "boosts/live.html", context)


def _live_pass(request: HttpRequest, boost: Boost) -> str:
    """The signed pass that lets this participant's polls skip the full stack (see
    ``boosts.middleware``); issued after the access check above."""
    session_key = request.session.session_key
    if not session_key or boost.is_cancelled:
        return ""
    return room_pass(
        boost_id=boost.pk,
        user_id=request.user.pk,
        session_key=session_key,
        opens=(boost.starts_at - LIVE_OPENS_BEFORE).timestamp(),
        closes=(boost.ends_at + LIVE_CLOSES_AFTER).timestamp(),
    )


def _questions_html(request: HttpRequest, boost: Boost, version: int, mine: int) -> str:
    """The questions fragment as htmx polls it, for participants.

    Rendered once per questions version and shared by everyone in the room (cached), then
    personalised with the one thing that differs, the person's own votes (one small query).
    The shared HTML has no CSRF input: htmx sends the token from ``<body hx-headers>``; the
    full page, used without JavaScript, renders the forms with their token."""
    open_now = boost.live_is_open()
    key = services.live_questions_html_key(boost.pk, version, open_now)
    html = cache.get(key) if get_language() == settings.LANGUAGE_CODE else None
    if html is None:
        questions = list(live_questions_of(boost, AnonymousUser()))
        context = _questions_context(request, boost, False, questions=questions)
        context["shared"] = True
        html = render_to_string("boosts/live.html#questions", context)
        if get_language() == settings.LANGUAGE_CODE:
            latest = (version, timezone.now().timestamp(), html)
            cache.set_many(
                {key: html, services.live_questions_latest_key(boost.pk, open_now): latest},
                timeout=120,
            )
    # Read after the version (see services.live_votes_key): never older than ``mine``.
    voted = list(
        QuestionVote.objects.filter(
            user_id=request.user.pk, question__boost_id=boost.pk
        ).values_list("question_id", flat=True)
    )
    cache.set(services.live_votes_key(boost.pk, request.user.pk, mine), voted, timeout=3600)
    return services.live_questions_personalise(html, voted)


@login_required
@require_GET
@never_cache
def live_questions(request: HttpRequest, pk: int) -> HttpResponse:
    """Polled every few seconds: answers 304 when nothing changed (one cache read)."""
    boost = get_boost_for_user(request.user, pk)
    manage = may_manage(request.user, boost)
    questions, _poll, mine, _results = services.live_versions(boost.pk, request.user.pk)
    etag = services.live_questions_etag(
        questions=questions,
        mine=mine,
        user_id=request.user.pk,
        manage=manage,
        open_now=boost.live_is_open(),
    )
    if _not_modified(request, etag):
        return HttpResponseNotModified()
    if manage or not request.htmx:
        context = _questions_context(request, boost, manage)
        return _fragment(request, "boosts/live.html#questions", context, etag)
    return _polled(HttpResponse(_questions_html(request, boost, questions, mine)), etag)


@login_required
@require_GET
@never_cache
def live_poll(request: HttpRequest, pk: int) -> HttpResponse:
    boost = get_boost_for_user(request.user, pk)
    manage = may_manage(request.user, boost)
    _questions, poll, mine, results = services.live_versions(boost.pk, request.user.pk)
    # The host watches the counts move with every answer: no 304 for them.
    etag = (
        ""
        if manage
        else services.live_poll_etag(poll=poll, results=results, mine=mine, user_id=request.user.pk)
    )
    if _not_modified(request, etag):
        return HttpResponseNotModified()
    if manage or not request.htmx or get_language() != settings.LANGUAGE_CODE:
        context = _poll_context(request, boost, manage)
        return _fragment(request, "boosts/live.html#poll", context, etag)
    return _polled(HttpResponse(_poll_html(request, boost, poll, results, mine)), etag)


def _poll_html(request: HttpRequest, boost: Boost, version: int, results: int, mine: int) -> str:
    """A participant's poll fragment as htmx polls it: their own part (form, answer) cached
    per person and versions, the results rendered once per answers version for everyone
    (the fast path in ``boosts.middleware`` serves both from the cache)."""
    poll = current_poll(boost)
    context = {
        "boost": boost,
        "manage": False,
        "poll": poll,
        "result": poll_mine(poll, request.user) if poll else None,
        "poll_seconds": LIVE_POLL_SECONDS,
        "shared": True,
        "results_slot": True,
    }
    shell = render_to_string("boosts/live.html#poll", context)
    cache.set(
        services.live_poll_shell_key(boost.pk, request.user.pk, version, mine),
        shell,
        timeout=3600,
    )
    if services.POLL_RESULTS_SLOT not in shell:
        return shell
    key = services.live_poll_results_key(boost.pk, version, results)
    shared = cache.get(key)
    if shared is None:
        shared = render_to_string(
            "boosts/live.html#poll_results", {"poll": poll, "result": poll_counts(poll)}
        )
        cache.set_many(
            {
                key: shared,
                services.live_poll_results_latest_key(boost.pk, version): (
                    results,
                    timezone.now().timestamp(),
                    shared,
                ),
            },
            timeout=120,
        )
    return shell.replace(services.POLL_RESULTS_SLOT, shared)


@login_required
@require_GET
@never_cache
def live_updates(request: HttpRequest, pk: int) -> HttpResponse:
    """The room's single poll (htmx, every few seconds): the questions and the poll
    fragments together, swapped out of band, or 304 when neither changed. Participants'
    polls are usually answered by the fast path (``boosts.middleware``) before reaching here;
    this view answers the same thing and fills the cache it reads."""
    boost = get_boost_for_user(request.user, pk)
    manage = may_manage(request.user, boost)
    if manage:
        # The host watches the counts move with every answer: always fresh.
        return _polled(HttpResponse(services.live_updates_html(_regions(request, boost, True))))
    questions, poll, mine, results = services.live_versions(boost.pk, request.user.pk)
    etag = services.live_etag_join(
        [
            services.live_questions_etag(
                questions=questions,
                mine=mine,
                user_id=request.user.pk,
                manage=False,
                open_now=boost.live_is_open(),
            ),
            services.live_poll_etag(poll=poll, results=results, mine=mine, user_id=request.user.pk),
        ]
    )
    if _not_modified(request, etag):
        return HttpResponseNotModified()
    fragments = _participant_regions(request, boost, (questions, poll, mine, results))
    return _polled(HttpResponse(services.live_updates_html(fragments)), etag)


def _participant_regions(
    request: HttpRequest, boost: Boost, versions: tuple[int, int, int, int]
) -> list[str]:
    """A participant's questions and poll fragments for these versions, from the shared
    renders when possible; this also fills the cache the fast path reads, so the
    participant's next poll skips the full stack."""
    questions, poll, mine, results = versions
    if get_language() != settings.LANGUAGE_CODE:
        return _regions(request, boost, False)
    return [
        _questions_html(request, boost, questions, mine),
        _poll_html(request, boost, poll, results, mine),
    ]


def _back_to_live(request: HttpRequest, boost: Boost, part: str) -> HttpResponse:
    manage = may_manage(request.user, boost)
    if request.htmx and not manage:
        # After a vote or an answer (which moved the participant's own version): the shared
        # render of the new version, which the whole room's next polls reuse, and the
        # participant's own parts cached for the fast path.
        versions = services.live_versions(boost.pk, request.user.pk)
        questions_html, poll_html = _participant_regions(request, boost, versions)
        return HttpResponse(questions_html if part == "questions" else poll_html)
    if request.htmx:
        if part == "questions":
            return render(
                request, "boosts/live.html#questions", _questions_context(request, boost, manage)
            )
        return render(request, "boosts/live.html#poll", _poll_context(request, boost, manage))
    return redirect(reverse("boosts:live", args=[boost.pk]) + f"#live-{part}")


@login_required
@require_POST
def question_ask(request: HttpRequest, pk: int) -> HttpResponse:
    boost = get_boost_for_user(request.user, pk)
    form = QuestionForm(request.POST)
    error = ""
    if not boost.live_is_open():
        error = _("La salle est fermée : les questions sont possibles pendant le boost.")
    elif form.is_valid():
        try:
            services.question_ask(boost=boost, user=request.user, body=form.cleaned_data["body"])
        except services.BoostError as exc:
            error = str(exc)
    else:
        error = form.errors["body"][0]
    if request.htmx:
        context = {
            "boost": boost,
            "question_form": QuestionForm() if not error else form,
            "ask_error": error,
        }
        response = render(request, "boosts/live.html#ask", context)
        if not error:
            response["HX-Trigger"] = "boosts:asked"
        return response
    if error:
        messages.error(request, error)
    else:
        messages.success(request, _("Votre question est posée."))
    return redirect(reverse("boosts:live", args=[boost.pk]) + "#live-questions")


def _question_for_user(request: HttpRequest, pk: int) -> Question:
    try:
        question = Question.objects.select_related("boost").get(pk=pk)
    except Question.DoesNotExist:
        raise Http404 from None
    if not is_visible_to(question.boost, request.user):
        raise Http404  # outside the audience
    return question


@login_required
@require_POST
def question_vote(request: HttpRequest, pk: int) -> HttpResponse:
    question = _question_for_user(request, pk)
    if question.hidden or not question.boost.live_is_open():
        raise Http404
    services.question_vote_toggle(question=question, user=request.user)
    return _back_to_live(request, question.boost, "questions")


@login_required
@require_POST
def question_moderate(request: HttpRequest, pk: int) -> HttpResponse:
    question = _question_for_user(request, pk)
    if not may_manage(request.user, question.boost):
        raise Http404
    action = request.POST.get("action", "")
    changes = {
        "answered": {"answered": True},
        "unanswered": {"answered": False},
        "hide": {"hidden": True},
        "show": {"hidden": False},
    }.get(action)
    if changes is None:
        return HttpResponse(_("Action inconnue."), status=400)
    services.question_moderate(question=question, **changes)
    return _back_to_live(request, question.boost, "questions")


def _poll_for_user(request: HttpRequest, pk: int) -> Poll:
    try:
        poll = Poll.objects.select_related("boost").get(pk=pk)
    except Poll.DoesNotExist:
        raise Http404 from None
    if not is_visible_to(poll.boost, request.user):
        raise Http404
    return poll


@login_required
@require_POST
def poll_answer(request: HttpRequest, pk: int) -> HttpResponse:
    poll = _poll_for_user(request, pk)
    if poll.state == PollState.DRAFT:
        raise Http404
    option_ids = [int(v) for v in request.POST.getlist("option") if v.isdigit()]
    try:
        services.poll_answer(
            poll=poll, user=request.user, option_ids=option_ids, text=request.POST.get("words", "")
        )
    except services.BoostError as exc:
        if request.htmx:
            context = _poll_context(request, poll.boost, may_manage(request.user, poll.boost))
            context["poll_error"] = str(exc)
            return render(request, "boosts/live.html#poll", context)
        messages.error(request, str(exc))
    return _back_to_live(request, poll.boost, "poll")


@login_required
@require_POST
def poll_control(request: HttpRequest, pk: int) -> HttpResponse:
    poll = _poll_for_user(request, pk)
    if not may_manage(request.user, poll.boost):
        raise Http404
    action = request.POST.get("action", "")
    if action == "launch":
        services.poll_launch(poll=poll)
    elif action == "close":
        services.poll_close(poll=poll)
    elif action in ("show", "hide"):
        services.poll_results_show(poll=poll, shown=action == "show")
    else:
        return HttpResponse(_("Action inconnue."), status=400)
    return redirect(reverse("boosts:live", args=[poll.boost_id]) + "#host-polls")


@login_required
@require_POST
def poll_create(request: HttpRequest, pk: int) -> HttpResponse:
    boost = get_boost_for_host(request.user, pk)
    form = PollForm(request.POST)
    if form.is_valid():
        try:
            services.poll_create(
                boost=boost,
                kind=form.cleaned_data["kind"],
                prompt=form.cleaned_data["prompt"],
                options=form.cleaned_data["option_lines"],
            )
        except services.BoostError as exc:
            form.add_error(None, str(exc))
        else:
            messages.success(request, _("Sondage prêt : lancez-le au bon moment."))
            return redirect(reverse("boosts:live", args=[boost.pk]) + "#host-polls")
    polls = list(boost.polls.prefetch_related("options"))
    context = _section(
        {
            **_questions_context(request, boost, True),
            **_poll_context(request, boost, True),
            "question_form": QuestionForm(),
            "polls": polls,
            "poll_form": form,
            "when": notifications.when_text(boost),
        }
    )
    return render(request, "boosts/live.html", context, status=400)


# --- Host and HR pages ------------------------------------------------------------------------


def _require_host(user: User) -> None:
    if not can_host(user):
        raise Http404


@login_required
@require_GET
def host_index(request: HttpRequest) -> HttpResponse:
    _require_host(request.user)
    now = timezone.now()
    managed = with_counts(boosts_managed_by(request.user)).annotate(ends_at_db=_ends())
    upcoming = list(
        managed.filter(ends_at_db__gte=now).select_related("host").order_by("starts_at")[:50]
    )
    past = list(
        managed.filter(ends_at_db__lt=now).select_related("host").order_by("-starts_at")[:50]
    )
    return render(request, "boosts/host.html", _section({"upcoming": upcoming, "past": past}))


@login_required
@require_http_methods(["GET", "POST"])
def boost_create(request: HttpRequest, source: Boost | None = None) -> HttpResponse:
    _require_host(request.user)
    initial: dict = {}
    instance = Boost(organisation_id=request.user.organisation_id, host=request.user, capacity=50)
    if source is not None:
        instance = Boost(
            organisation_id=source.organisation_id,
            host=source.host,
            title=source.title,
            description=source.description,
            duration_minutes=source.duration_minutes,
            format=source.format,
            meeting_url=source.meeting_url,
            room=source.room,
            capacity=source.capacity,
            audience_levels=source.audience_levels,
            audience_branch_ids=source.audience_branch_ids,
            audience_organism_ids=source.audience_organism_ids,
            resources=source.resources,
            followup_practice=source.followup_practice,
            followup_question=source.followup_question,
            starts_at=source.starts_at + timedelta(weeks=4),
        )
        initial["themes"] = list(source.themes.all())
        initial["audience_communities"] = list(
            source.audience_communities.values_list("pk", flat=True)
        )
    form = BoostForm(request.POST or None, instance=instance, initial=initial, user=request.user)
    if request.method == "POST" and form.is_valid():
        created = services.boost_create(by=request.user, data=form.service_data())
        if len(created) > 1:
            messages.success(request, _("%(count)s séances créées.") % {"count": len(created)})
        else:
            messages.success(request, _("Boost créé."))
        return redirect("boosts:manage", pk=created[0].pk)
    status = 400 if request.method == "POST" else 200
    return render(
        request,
        "boosts/form.html",
        _section({"form": form, "source": source, "editing": None}),
        status=status,
    )


@login_required
@require_http_methods(["GET", "POST"])
def boost_duplicate(request: HttpRequest, pk: int) -> HttpResponse:
    source = get_boost_for_host(request.user, pk)
    return boost_create(request, source=source)


@login_required
@require_http_methods(["GET", "POST"])
def boost_edit(request: HttpRequest, pk: int) -> HttpResponse:
    boost = get_boost_for_host(request.user, pk)
    if boost.is_cancelled:
        messages.error(request, _("Ce boost est annulé : il ne peut plus être modifié."))
        return redirect("boosts:manage", pk=boost.pk)
    form = BoostForm(request.POST or None, instance=boost, user=request.user, series=False)
    if request.method == "POST" and form.is_valid():
        updated = services.boost_update(boost=boost, data=form.service_data(), by=request.user)
        if updated.sequence != boost.sequence:
            messages.success(request, _("Modifications enregistrées ; les inscrits sont prévenus."))
        else:
            messages.success(request, _("Modifications enregistrées."))
        return redirect("boosts:manage", pk=boost.pk)
    # Unsaved changes must not leak into the page header when the form is invalid.
    boost.refresh_from_db()
    status = 400 if request.method == "POST" else 200
    return render(
        request,
        "boosts/form.html",
        _section({"form": form, "source": None, "editing": boost}),
        status=status,
    )


@login_required
@require_http_methods(["GET", "POST"])
def boost_cancel(request: HttpRequest, pk: int) -> HttpResponse:
    boost = get_boost_for_host(request.user, pk)
    if request.method == "POST":
        services.boost_cancel(boost=boost, by=request.user)
        messages.success(request, _("Boost annulé ; les inscrits sont prévenus."))
        return redirect("boosts:manage", pk=boost.pk)
    return render(request, "boosts/cancel.html", _section({"boost": boost}))


@login_required
@require_GET
def manage(request: HttpRequest, pk: int) -> HttpResponse:
    boost = get_boost_for_host(request.user, pk)
    registrations = list(
        Registration.objects.filter(boost=boost)
        .exclude(status=RegistrationStatus.CANCELLED)
        .select_related("user", "user__organism")
        .order_by("status", "queued_at", "pk")
    )
    confirmed = sum(1 for r in registrations if r.is_confirmed)
    attended = sum(1 for r in registrations if r.checked_in_at)
    return render(
        request,
        "boosts/manage.html",
        _section(
            {
                "boost": boost,
                "registrations": registrations,
                "confirmed": confirmed,
                "waitlisted": sum(1 for r in registrations if r.status == "waitlisted"),
                "attended": attended,
                "rate": attendance_rate(confirmed, attended),
                "satisfaction": satisfaction_summary(boost),
                "when": notifications.when_text(boost),
                "themes": list(boost.themes.all()),
            }
        ),
    )


@login_required
@require_GET
def export(request: HttpRequest, pk: int, fmt: str) -> HttpResponse:
    boost = get_boost_for_host(request.user, pk)
    if fmt == "csv":
        response = HttpResponse(exports.as_csv(boost), content_type="text/csv; charset=utf-8")
    elif fmt == "xlsx":
        response = HttpResponse(
            exports.as_xlsx(boost),
            content_type="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
        )
    else:
        raise Http404
    response["Content-Disposition"] = f'attachment; filename="boost-{boost.pk}-inscrits.{fmt}"'
    return response


@login_required
@require_GET
def stats(request: HttpRequest) -> HttpResponse:
    """Registrations, attendance and satisfaction by boost and by month."""
    _require_host(request.user)
    from django.db.models import Count, Sum
    from django.db.models.functions import TruncMonth

    managed = boosts_managed_by(request.user).filter(status="scheduled")
    rows = list(boost_stats(managed).order_by("-starts_at")[:100])
    for row in rows:
        row.rate = attendance_rate(row.confirmed_count, row.attended_count)
        if (row.sat_count or 0) < 5:
            row.sat_overall = None
    months = list(
        Registration.objects.filter(boost__in=managed)
        .annotate(month=TruncMonth("boost__starts_at"))
        .values("month")
        .annotate(
            confirmed=Count("pk", filter=Q(status="confirmed")),
            attended=Count("pk", filter=Q(checked_in_at__isnull=False)),
            boosts=Count("boost", distinct=True),
        )
        .order_by("-month")[:24]
    )
    for month in months:
        month["rate"] = attendance_rate(month["confirmed"], month["attended"])
    del Sum
    return render(request, "boosts/stats.html", _section({"rows": rows, "months": months}))
