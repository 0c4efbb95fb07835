"""Views of the 180° feedback: the manager's pages, the rater's one-time form, the HR view."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_POST

from campus import ai
from feedback180 import services
from feedback180.forms import ActionForm, CampaignForm, GroupForm, ItemsForm, ReflectionForm
from feedback180.models import Campaign
from feedback180.selectors import (
    current_campaign,
    debrief_context,
    get_campaign_for_user,
    main_campaigns_of,
    participation_by_organism,
    recheck_context,
    response_count,
)

# --- Manager ------------------------------------------------------------------------------------


@login_required
def index(request: HttpRequest) -> HttpResponse:
    campaigns = list(main_campaigns_of(request.user)[:20])
    return render(
        request,
        "feedback180/index.html",
        {
            "current": current_campaign(request.user),
            "campaigns": campaigns,
            "raters": len(services.default_raters(request.user)),
            "k": services.k_floor(request.user.organisation),
        },
    )


@login_required
@require_POST
def campaign_create(request: HttpRequest) -> HttpResponse:
    try:
        campaign = services.campaign_create(manager=request.user, created_by=request.user)
    except services.CampaignError as exc:
        messages.error(request, str(exc))
        return redirect("feedback180:index")
    return redirect("feedback180:edit", campaign.pk)


@login_required
def campaign_edit(request: HttpRequest, pk: int) -> HttpResponse:
    campaign = get_campaign_for_user(request.user, pk)
    if not campaign.is_draft:
        return redirect("feedback180:campaign", campaign.pk)
    initial = {
        "raters": "\n".join(campaign.invitations.values_list("email", flat=True)),
        "closes_on": campaign.closes_on,
        "min_responses": campaign.min_responses,
    }
    form = CampaignForm(request.POST or None, campaign=campaign, initial=initial)
    if request.method == "POST" and form.is_valid():
        try:
            services.campaign_update(
                campaign=campaign,
                closes_on=form.cleaned_data["closes_on"],
                emails=form.cleaned_data["raters"],
                k=form.cleaned_data["min_responses"],
            )
        except services.CampaignError as exc:
            form.add_error(None, str(exc))
        else:
            messages.success(request, _("La campagne est enregistrée."))
            return redirect("feedback180:edit", campaign.pk)
    answered, invited = response_count(campaign)
    return render(
        request,
        "feedback180/edit.html",
        {
            "campaign": campaign,
            "form": form,
            "invited": invited,
            "self_done": bool(campaign.self_answers),
        },
    )


@login_required
def campaign_self(request: HttpRequest, pk: int) -> HttpResponse:
    campaign = get_campaign_for_user(request.user, pk)
    initial = {f"item_{k}": str(v) for k, v in campaign.self_answers.items()}
    form = ItemsForm(
        request.POST or None, campaign=campaign, own=True, comments=False, initial=initial
    )
    if campaign.is_closed:
        messages.info(request, _("La campagne est clôturée : l’autoévaluation ne change plus."))
        return redirect("feedback180:campaign", campaign.pk)
    if request.method == "POST" and form.is_valid():
        services.campaign_self_assess(campaign=campaign, answers=form.answers())
        messages.success(request, _("Votre autoévaluation est enregistrée."))
        return redirect(
            "feedback180:edit" if campaign.is_draft else "feedback180:campaign", campaign.pk
        )
    return render(request, "feedback180/self.html", {"campaign": campaign, "form": form})


@login_required
@require_POST
def campaign_open(request: HttpRequest, pk: int) -> HttpResponse:
    campaign = get_campaign_for_user(request.user, pk)
    try:
        services.campaign_open(campaign=campaign)
    except services.CampaignError as exc:
        messages.error(request, str(exc))
        return redirect("feedback180:edit", campaign.pk)
    messages.success(request, _("La campagne est ouverte : les invitations partent."))
    return redirect("feedback180:campaign", campaign.pk)


@login_required
def campaign_detail(request: HttpRequest, pk: int) -> HttpResponse:
    campaign = get_campaign_for_user(request.user, pk)
    if campaign.is_draft:
        return redirect("feedback180:edit", campaign.pk)
    if campaign.processed_at is not None:
        return redirect("feedback180:debrief", campaign.pk)
    answered, invited = response_count(campaign)
    return render(
        request,
        "feedback180/campaign.html",
        {
            "campaign": campaign,
            "answered": answered,
            "invited": invited,
            "job": campaign.job,
            "self_done": bool(campaign.self_answers),
        },
    )


@login_required
@require_POST
def campaign_close(request: HttpRequest, pk: int) -> HttpResponse:
    campaign = get_campaign_for_user(request.user, pk)
    try:
        services.campaign_close(campaign=campaign)
    except services.CampaignError as exc:
        messages.error(request, str(exc))
    return redirect("feedback180:campaign", campaign.pk)


def _debrief(request: HttpRequest, campaign: Campaign, **extra: object) -> HttpResponse:
    context = debrief_context(campaign)
    context.update(recheck_context(campaign))
    actions = list(services.plan_actions(campaign)) if campaign.released else []
    context.update(
        {
            "campaign": campaign,
            "reflection_form": ReflectionForm(initial=campaign.reflection),
            "action_form": ActionForm(practices=context.get("practices", [])),
            "actions": actions,
            "plan_min": services.PLAN_MIN_ACTIONS,
            "plan_max": services.PLAN_MAX_ACTIONS,
            "plan_full": len(actions) >= services.PLAN_MAX_ACTIONS,
        }
    )
    context.update(extra)
    return render(request, "feedback180/debrief.html", context)


@login_required
def debrief(request: HttpRequest, pk: int) -> HttpResponse:
    campaign = get_campaign_for_user(request.user, pk)
    if campaign.processed_at is None:
        return redirect("feedback180:campaign", campaign.pk)
    if campaign.is_recheck:  # shown next to the debrief it follows
        return redirect(reverse("feedback180:debrief", args=[campaign.parent_id]) + "#recheck")
    return _debrief(request, campaign)


@login_required
@require_POST
def reflection_save(request: HttpRequest, pk: int) -> HttpResponse:
    campaign = get_campaign_for_user(request.user, pk)
    if not campaign.released:
        raise Http404
    form = ReflectionForm(request.POST)
    if not form.is_valid():
        return _debrief(request, campaign, reflection_form=form)
    services.reflection_save(campaign=campaign, answers=form.cleaned_data)
    messages.success(request, _("Votre réflexion est enregistrée. Elle n’est visible que de vous."))
    return redirect("feedback180:debrief", campaign.pk)


@login_required
@require_POST
def plan_add(request: HttpRequest, pk: int) -> HttpResponse:
    campaign = get_campaign_for_user(request.user, pk)
    context = debrief_context(campaign)
    form = ActionForm(request.POST, practices=context.get("practices", []))
    if not form.is_valid():
        return _debrief(request, campaign, action_form=form)
    try:
        services.plan_action_add(
            campaign=campaign,
            practice=form.cleaned_data.get("practice"),
            title=form.cleaned_data.get("title") or "",
            due_date=form.cleaned_data.get("due_date"),
        )
    except services.CampaignError as exc:
        form.add_error(None, str(exc))
        return _debrief(request, campaign, action_form=form)
    messages.success(request, _("L’action est ajoutée à votre plan."))
    return redirect(reverse("feedback180:debrief", args=[campaign.pk]) + "#plan")


@login_required
@require_POST
def summary_share(request: HttpRequest, pk: int) -> HttpResponse:
    campaign = get_campaign_for_user(request.user, pk)
    try:
        count = services.summary_share(campaign=campaign)
    except services.CampaignError as exc:
        messages.error(request, str(exc))
    else:
        messages.success(
            request,
            _("Le résumé est envoyé aux %(count)d personnes invitées.") % {"count": count},
        )
    return redirect("feedback180:debrief", campaign.pk)


# --- Rater (no account) -------------------------------------------------------------------------


def _private(response: HttpResponse) -> HttpResponse:
    # The token is in the address: never send it to another site ("no-referrer" would make
    # the browser send "Origin: null" and fail the CSRF check), never cache the form.
    response["Referrer-Policy"] = "same-origin"
    response["Cache-Control"] = "no-store"
    return response


@never_cache
def respond(request: HttpRequest, token: str) -> HttpResponse:
    try:
        invitation = services.invitation_for_token(token)
    except services.InvalidLink:
        return _private(render(request, "feedback180/respond_invalid.html", status=404))
    campaign = invitation.campaign
    form = ItemsForm(request.POST or None, campaign=campaign)
    context = {
        "campaign": campaign,
        "manager": campaign.manager,
        "form": form,
        "k": campaign.min_responses,
        "reformulated": ai.can_generate(campaign.organisation),
    }
    step = request.POST.get("step", "") if request.method == "POST" else ""
    if step and not form.comment_fields:
        step = "send"  # nothing written, nothing to preview (the day-60 pulse)
    if not step or not form.is_valid():
        return _private(render(request, "feedback180/respond.html", context))
    comments = form.comments()
    previews = {
        key: services.comment_preview(campaign=campaign, text=text)
        for key, text in comments.items()
    }
    changed = any(
        " ".join(previews[key].split()) != " ".join(text.split()) for key, text in comments.items()
    )
    if step == "review" or (changed and not request.POST.get("confirmed")):
        rows = [
            (question, form[name], previews[question["id"]], comments[question["id"]])
            for question, name in form.comment_fields
        ]
        return _private(
            render(
                request,
                "feedback180/respond_review.html",
                {**context, "rows": rows, "again": step == "send"},
            )
        )
    try:
        services.response_submit(token=token, answers=form.answers(), comments=comments)
    except services.InvalidLink:
        return _private(render(request, "feedback180/respond_invalid.html", status=404))
    return redirect("feedback180:thanks")


def thanks(request: HttpRequest) -> HttpResponse:
    return render(request, "feedback180/thanks.html")


# --- HR -----------------------------------------------------------------------------------------


@login_required
def hr(request: HttpRequest) -> HttpResponse:
    user = request.user
    if not (user.is_hr_admin or user.is_hr_analyst):
        raise Http404
    form = GroupForm(request.POST or None, organisation_id=user.organisation_id)
    if request.method == "POST":
        if not user.is_hr_admin:
            raise Http404
        if form.is_valid():
            count = services.campaigns_prepare_for_group(
                hr=user,
                organism_id=form.cleaned_data["organism"].pk,
                level=form.cleaned_data["level"],
            )
            messages.success(
                request,
                _("%(count)d campagnes préparées ; chaque manager est prévenu par courriel.")
                % {"count": count},
            )
            return redirect("feedback180:hr")
    rows = participation_by_organism(user.organisation)
    return render(request, "feedback180/hr.html", {"rows": rows, "form": form})
