"""Notifications for the whole campus: email, Microsoft Teams and Slack incoming webhooks.

* ``email_send`` renders a plain-text body and an HTML alternative from two templates
  (``<prefix>.txt`` and ``<prefix>.html``) and sends them with Django's mail backend.
* ``teams_post`` / ``slack_post`` POST JSON to an incoming webhook with the standard library
  (no extra dependency), a short timeout and no redirects (a redirect could point the
  server at an internal address). Any failure raises :class:`NotificationError` with a French
  message fit for a delivery log or a form message; nothing is retried here: retries belong
  to the Celery task that called us.
* ``teams_card`` / ``slack_message`` build the payloads. Text from users or from the LLM is
  escaped for each format: Slack ``mrkdwn`` control characters (``& < >``, which also stops
  ``<!channel>`` mentions and forged links) and the Markdown subset that Teams renders in
  Adaptive Card text blocks. Only our own absolute URLs become buttons.
* ``webhook_url_validate`` is the one rule for webhook addresses, used by forms and the admin.
"""

from __future__ import annotations

import ipaddress
import json
import logging
import re
import smtplib
import urllib.error
import urllib.request
from collections.abc import Iterable, Mapping
from typing import Any
from urllib.parse import urlsplit

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.mail import EmailMultiAlternatives
from django.template.loader import render_to_string
from django.utils.translation import gettext as _

logger = logging.getLogger(__name__)

#: Seconds to wait for a webhook endpoint (connect + answer). Teams and Slack answer in well
#: under a second; a slow endpoint must not hold a Celery worker.
WEBHOOK_TIMEOUT = 10

ADAPTIVE_CARD_SCHEMA = "http://adaptivecards.io/schemas/adaptive-card.json"
#: Limits of the formats (longer text is cut with an ellipsis rather than rejected).
SLACK_HEADER_MAX = 150
SLACK_SECTION_MAX = 3000
SLACK_BUTTON_MAX = 75

#: Hosts of the incoming webhooks a manager may enter for themself. Organism webhooks are
#: entered by HR admins and only need https. The restriction for personal addresses keeps the
#: server from being pointed at arbitrary hosts of the internal network (SSRF).
DEFAULT_PERSONAL_WEBHOOK_HOSTS = (
    ".webhook.office.com",  # Teams incoming webhooks (connectors)
    ".logic.azure.com",  # Teams "Workflows" (Power Automate) webhooks
    ".api.powerplatform.com",  # Teams Workflows, newer addresses
    "hooks.slack.com",
)
LOOPBACK_HOSTS = {"127.0.0.1", "localhost", "::1"}


class NotificationError(Exception):
    """A notification could not be delivered; ``str()`` is a French message."""


# --- Email ------------------------------------------------------------------------------------


def absolute_url(path: str) -> str:
    """``path`` on the campus's public address (``CAMPUS_SITE_URL``), for links in emails and
    Teams/Slack messages."""
    return settings.CAMPUS_SITE_URL.rstrip("/") + path


def email_send(
    *,
    to: str | Iterable[str],
    subject: str,
    template: str,
    context: Mapping[str, Any],
    from_email: str | None = None,
    reply_to: Iterable[str] = (),
    attachments: Iterable[tuple[str, bytes, str]] = (),
) -> None:
    """Send one email whose bodies are ``<template>.txt`` (plain text) and ``<template>.html``
    (the HTML alternative), both rendered with ``context`` (autoescaped). ``attachments`` are
    ``(file name, content, MIME type)`` triples (e.g. the monthly analytics report as a PDF)."""
    recipients = [to] if isinstance(to, str) else list(to)
    if not recipients:
        raise NotificationError(_("Aucun destinataire pour ce courriel."))
    text = render_to_string(f"{template}.txt", dict(context))
    html = render_to_string(f"{template}.html", dict(context))
    message = EmailMultiAlternatives(
        subject=" ".join(subject.split()),  # no header injection through new lines
        body=text,
        from_email=from_email or settings.DEFAULT_FROM_EMAIL,
        to=recipients,
        reply_to=list(reply_to),
    )
    message.attach_alternative(html, "text/html")
    for filename, content, mimetype in attachments:
        # The name goes into a header: no line breaks (header injection), no path.
        safe_name = " ".join(filename.split()).replace("/", "-").replace("\\", "-")
        message.attach(safe_name, content, mimetype)
    try:
        message.send()
    except (smtplib.SMTPException, OSError) as exc:
        logger.warning("email %r not sent: %s", subject, exc)
        raise NotificationError(
            _("Le serveur de messagerie n’a pas accepté le courriel (%(error)s).")
            % {"error": exc.__class__.__name__}
        ) from exc


# --- Webhooks ---------------------------------------------------------------------------------


def webhook_url_validate(url: str, *, personal: bool = False) -> None:
    """Raise a French ``ValidationError`` unless ``url`` may receive our webhook posts.

    https only; plain http only to this machine (127.0.0.1, localhost) and only in
    development (``DEBUG``) or tests. ``personal`` addresses, typed by managers, must also
    belong to Teams or Slack (``CAMPUS_WEBHOOK_HOSTS`` overrides the list).
    """
    try:
        parts = urlsplit(url.strip())
        host = (parts.hostname or "").lower()
        parts.port  # noqa: B018 (raises ValueError on a bad port)
    except ValueError:
        raise ValidationError(
            _("Cette adresse de webhook n’est pas valide."), code="invalid"
        ) from None
    if not host:
        raise ValidationError(_("Cette adresse de webhook n’est pas valide."), code="invalid")
    if parts.username or parts.password:
        raise ValidationError(
            _("L’adresse du webhook ne doit pas contenir d’identifiant ni de mot de passe."),
            code="credentials",
        )
    local_ok = host in LOOPBACK_HOSTS and (settings.DEBUG or getattr(settings, "TESTING", False))
    if parts.scheme == "http" and local_ok:
        return
    if parts.scheme != "https":
        raise ValidationError(
            _("L’adresse du webhook doit commencer par https:// (connexion chiffrée)."),
            code="https",
        )
    if local_ok:
        return
    if _is_ip(host) or host in LOOPBACK_HOSTS:
        raise ValidationError(
            _("L’adresse du webhook doit être un nom de domaine, pas une adresse IP."),
            code="ip",
        )
    if personal:
        allowed = tuple(getattr(settings, "CAMPUS_WEBHOOK_HOSTS", DEFAULT_PERSONAL_WEBHOOK_HOSTS))
        if not any(
            host == h.lstrip(".") or host.endswith(h if h.startswith(".") else "." + h)
            for h in allowed
        ):
            raise ValidationError(
                _(
                    "Indiquez l’adresse d’un webhook entrant Microsoft Teams ou Slack "
                    "(par exemple https://hooks.slack.com/services/…)."
                ),
                code="host",
            )


def _is_ip(host: str) -> bool:
    try:
        ipaddress.ip_address(host)
    except ValueError:
        return False
    return True


class _NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args: Any, **kwargs: Any) -> None:
        return None  # a 3xx then surfaces as an HTTPError


_opener = urllib.request.build_opener(_NoRedirect)


def _post_json(url: str, payload: Mapping[str, Any], *, service: str) -> str:
    """POST ``payload`` as JSON; return the response body, or raise NotificationError."""
    try:
        webhook_url_validate(url)
    except ValidationError as exc:
        raise NotificationError(exc.messages[0]) from exc
    body = json.dumps(payload, ensure_ascii=False).encode("utf-8")
    request = urllib.request.Request(  # noqa: S310 (scheme checked just above)
        url,
        data=body,
        method="POST",
        headers={"Content-Type": "application/json; charset=utf-8", "User-Agent": "Campus"},
    )
    timeout = getattr(settings, "CAMPUS_WEBHOOK_TIMEOUT", WEBHOOK_TIMEOUT)
    try:
        with _opener.open(request, timeout=timeout) as response:
            text = response.read(2000).decode("utf-8", "replace")
            status = response.status
    except urllib.error.HTTPError as exc:
        logger.warning("%s webhook answered %s", service, exc.code)
        raise NotificationError(
            _("%(service)s a refusé le message (réponse HTTP %(status)s).")
            % {"service": service, "status": exc.code}
        ) from exc
    except TimeoutError as exc:
        logger.warning("%s webhook timed out", service)
        raise NotificationError(
            _("%(service)s n’a pas répondu à temps (plus de %(seconds)s secondes).")
            % {"service": service, "seconds": timeout}
        ) from exc
    except (urllib.error.URLError, OSError) as exc:
        if isinstance(getattr(exc, "reason", None), TimeoutError):
            logger.warning("%s webhook timed out", service)
            raise NotificationError(
                _("%(service)s n’a pas répondu à temps (plus de %(seconds)s secondes).")
                % {"service": service, "seconds": timeout}
            ) from exc
        logger.warning("%s webhook unreachable: %s", service, exc)
        raise NotificationError(
            _("%(service)s est injoignable pour le moment.") % {"service": service}
        ) from exc
    if not 200 <= status < 300:
        raise NotificationError(
            _("%(service)s a refusé le message (réponse HTTP %(status)s).")
            % {"service": service, "status": status}
        )
    return text


def teams_post(url: str, card: Mapping[str, Any]) -> None:
    """Post a message (see :func:`teams_card`) to a Microsoft Teams incoming webhook."""
    _post_json(url, card, service="Microsoft Teams")


def slack_post(url: str, payload: Mapping[str, Any]) -> None:
    """Post a message (see :func:`slack_message`) to a Slack incoming webhook."""
    _post_json(url, payload, service="Slack")


# --- Payloads ---------------------------------------------------------------------------------

_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")
# Adaptive Cards render a Markdown subset: **bold**, _italic_, [links](url), and lists at the
# start of a line. Escaping these keeps ordinary French punctuation ("l’agent (…)") readable.
_TEAMS_MARKDOWN = re.compile(r"([\\*_\[\]`])")
_TEAMS_LIST_START = re.compile(r"(?m)^(\s*)([-+]|\d+\.)(?=\s)")


def _clip(text: str, limit: int) -> str:
    text = _CONTROL.sub("", text or "").strip()
    return text if len(text) <= limit else text[: limit - 1].rstrip() + "…"


def slack_escape(text: str) -> str:
    """Escape text for Slack ``mrkdwn``: only ``&``, ``<`` and ``>`` are control characters
    (they make links, mentions such as ``<!channel>`` and entities)."""
    return (
        _CONTROL.sub("", text or "").replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
    )


def teams_escape(text: str) -> str:
    """Escape the Markdown that Teams renders in Adaptive Card text, so that user or model
    text cannot make links, images or headings."""
    text = _TEAMS_MARKDOWN.sub(r"\\\1", _CONTROL.sub("", text or ""))
    return _TEAMS_LIST_START.sub(_escape_list_marker, text)


def _escape_list_marker(match: re.Match[str]) -> str:
    indent, marker = match.group(1), match.group(2)
    if marker.endswith("."):  # "1." → "1\." (CommonMark escapes the punctuation)
        return indent + marker[:-1] + "\\."
    return indent + "\\" + marker


def teams_card(
    *,
    title: str,
    paragraphs: Iterable[str],
    url: str,
    button: str,
    bullets: Iterable[str] = (),
) -> dict[str, Any]:
    """A Teams message holding one Adaptive Card (1.4): a title, paragraphs, an optional
    bulleted list and one "open" button. All texts are escaped here."""
    body: list[dict[str, Any]] = [
        {
            "type": "TextBlock",
            "text": teams_escape(_clip(title, 200)),
            "size": "Large",
            "weight": "Bolder",
            "wrap": True,
        }
    ]
    for paragraph in paragraphs:
        if paragraph:
            body.append(
                {"type": "TextBlock", "text": teams_escape(_clip(paragraph, 1500)), "wrap": True}
            )
    items = [b for b in bullets if b]
    if items:
        # One text block per item ("- " is escaped inside the text, the bullet is ours).
        body.append(
            {
                "type": "TextBlock",
                "text": "\r".join("- " + teams_escape(_clip(item, 500)) for item in items),
                "wrap": True,
            }
        )
    return {
        "type": "message",
        "attachments": [
            {
                "contentType": "application/vnd.microsoft.card.adaptive",
                "contentUrl": None,
                "content": {
                    "$schema": ADAPTIVE_CARD_SCHEMA,
                    "type": "AdaptiveCard",
                    "version": "1.4",
                    "body": body,
                    "actions": [{"type": "Action.OpenUrl", "title": _clip(button, 60), "url": url}],
                },
            }
        ],
    }


def slack_message(
    *,
    title: str,
    paragraphs: Iterable[str],
    url: str,
    button: str,
    bullets: Iterable[str] = (),
) -> dict[str, Any]:
    """A Slack incoming-webhook payload: ``text`` (notification fallback) and blocks
    (header, one mrkdwn section, one button)."""
    paragraphs = [p for p in paragraphs if p]
    lines = [slack_escape(_clip(p, 1500)) for p in paragraphs]
    items = [b for b in bullets if b]
    if items:
        lines.append("\n".join("• " + slack_escape(_clip(item, 500)) for item in items))
    section = _clip("\n\n".join(lines), SLACK_SECTION_MAX)
    return {
        "text": slack_escape(_clip(title, SLACK_HEADER_MAX)),
        "blocks": [
            {
                "type": "header",
                # plain_text is never interpreted: no escaping, only the length limit.
                "text": {
                    "type": "plain_text",
                    "text": _clip(title, SLACK_HEADER_MAX),
                    "emoji": False,
                },
            },
            {"type": "section", "text": {"type": "mrkdwn", "text": section}},
            {
                "type": "actions",
                "elements": [
                    {
                        "type": "button",
                        "text": {"type": "plain_text", "text": _clip(button, SLACK_BUTTON_MAX)},
                        "url": url,
                        "action_id": "campus_open",
                    }
                ],
            },
        ],
    }
