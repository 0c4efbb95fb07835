"""Messages to registrants: emails with the iCalendar invitation attached, and reminders on
the manager's own Teams/Slack webhooks when they configured them (coach preferences)."""

from __future__ import annotations

import logging
import smtplib

from django.conf import settings
from django.core.mail import EmailMultiAlternatives
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import timezone
from django.utils.formats import date_format
from django.utils.translation import gettext as _

from boosts import ics
from boosts.models import Boost, Registration
from campus import notify

logger = logging.getLogger(__name__)


def when_text(boost: Boost) -> str:
    start = timezone.localtime(boost.starts_at)
    end = timezone.localtime(boost.ends_at)
    return _("%(day)s de %(start)s à %(end)s (heure de Paris)") % {
        "day": date_format(start, "l j F Y"),
        "start": start.strftime("%H:%M"),
        "end": end.strftime("%H:%M"),
    }


def where_text(boost: Boost) -> str:
    parts = []
    if boost.is_onsite and boost.room:
        parts.append(boost.room)
    if boost.is_online:
        parts.append(boost.meeting_url or _("En ligne"))
    return " · ".join(parts)


def boost_event(boost: Boost, *, email: str = "", cancelled: bool = False) -> ics.Event:
    url = notify.absolute_url(reverse("boosts:detail", args=[boost.pk]))
    description = boost.description
    if boost.is_online and boost.meeting_url:
        description += "\n\n" + _("Rejoindre en ligne : %(url)s") % {"url": boost.meeting_url}
    description += "\n\n" + _("Page du boost : %(url)s") % {"url": url}
    return ics.Event(
        uid=f"boost-{boost.uid}@campus",
        sequence=boost.sequence,
        start=boost.starts_at,
        end=boost.ends_at,
        summary=boost.title,
        description=description,
        location=where_text(boost),
        url=url,
        organizer_email=_plain_address(settings.DEFAULT_FROM_EMAIL),
        organizer_name=boost.host.full_name if boost.host_id else "",
        attendee_email=email,
        cancelled=cancelled or boost.is_cancelled,
    )


def _plain_address(value: str) -> str:
    return value.split("<")[-1].rstrip(">").strip()


def invitation(boost: Boost, *, email: str, cancelled: bool = False) -> str:
    cancelled = cancelled or boost.is_cancelled
    return ics.calendar(
        [boost_event(boost, email=email, cancelled=cancelled)],
        method="CANCEL" if cancelled else "REQUEST",
    )


SUBJECTS = {
    "confirmed": _("Inscription confirmée : %(title)s"),
    "waitlisted": _("Liste d’attente : %(title)s"),
    "promoted": _("Une place s’est libérée : vous êtes inscrit à %(title)s"),
    "changed": _("Changement : %(title)s"),
    "cancelled": _("Désinscription : %(title)s"),
    "boost_cancelled": _("Annulé : %(title)s"),
    "reminder_day": _("Demain : %(title)s"),
    "reminder_soon": _("Dans 15 minutes : %(title)s"),
}

#: Which messages carry the invitation, and whether it is a cancellation.
ATTACHMENTS = {
    "confirmed": False,
    "promoted": False,
    "changed": False,
    "cancelled": True,
    "boost_cancelled": True,
}


def registration_message(registration: Registration, kind: str) -> EmailMultiAlternatives:
    boost = registration.boost
    user = registration.user
    subject = str(SUBJECTS[kind]) % {"title": boost.title}
    context = {
        "kind": kind,
        "first_name": user.first_name,
        "boost": boost,
        "when": when_text(boost),
        "where": where_text(boost),
        "url": notify.absolute_url(reverse("boosts:detail", args=[boost.pk])),
        "live_url": notify.absolute_url(reverse("boosts:live", args=[boost.pk])),
        "campus_name": settings.CAMPUS_NAME,
    }
    message = EmailMultiAlternatives(
        subject=" ".join(subject.split()),
        body=render_to_string("boosts/emails/notice.txt", context),
        from_email=settings.DEFAULT_FROM_EMAIL,
        to=[user.email],
    )
    message.attach_alternative(render_to_string("boosts/emails/notice.html", context), "text/html")
    if kind in ATTACHMENTS:
        cancelled = ATTACHMENTS[kind]
        method = "CANCEL" if cancelled or boost.is_cancelled else "REQUEST"
        message.attach(
            "boost.ics",
            invitation(boost, email=user.email, cancelled=cancelled),
            f"text/calendar; method={method}; charset=UTF-8",
        )
    return message


def registration_send(registration: Registration, kind: str) -> None:
    try:
        registration_message(registration, kind).send()
    except (smtplib.SMTPException, OSError) as exc:
        raise notify.NotificationError(str(exc)) from exc
    if kind.startswith("reminder"):
        _webhooks(registration, kind)


def _webhooks(registration: Registration, kind: str) -> None:
    """Reminders also go to the manager's own Teams/Slack webhooks (coach preferences)."""
    try:
        from coach.models import ExercisePreference

        preference = ExercisePreference.objects.filter(user_id=registration.user_id).first()
    except Exception:  # noqa: BLE001 (coach is optional here)
        return
    if preference is None:
        return
    boost = registration.boost
    title = str(SUBJECTS[kind]) % {"title": boost.title}
    paragraphs = [when_text(boost), where_text(boost)]
    url = notify.absolute_url(reverse("boosts:live", args=[boost.pk]))
    button = _("Entrer dans la salle")
    for target, post, build in (
        (preference.teams_webhook_url, notify.teams_post, notify.teams_card),
        (preference.slack_webhook_url, notify.slack_post, notify.slack_message),
    ):
        if target:
            try:
                post(target, build(title=title, paragraphs=paragraphs, url=url, button=button))
            except notify.NotificationError as exc:
                logger.warning("boost reminder webhook failed: %s", exc)
