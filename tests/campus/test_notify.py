"""Shared notifications: payload formats checked on a real local HTTP server, never the network."""

from __future__ import annotations

import pytest
from django.core import mail
from django.core.exceptions import ValidationError

from campus import notify
from tests.coach.webhook_server import WebhookServer

LINK = "https://campus.example.fr/coach/exercices/1/"


@pytest.fixture(scope="module")
def server():
    s = WebhookServer()
    yield s
    s.stop()


@pytest.fixture
def hooks(server):
    server.reset()
    yield server
    server.reset()


def card(**kwargs):
    return notify.teams_card(
        title=kwargs.get("title", "Déléguer une mission"),
        paragraphs=kwargs.get("paragraphs", ["Cette semaine, essayez :"]),
        bullets=kwargs.get("bullets", ["Choisir une mission", "Fixer un point d’étape"]),
        url=LINK,
        button="Répondre dans le campus",
    )


def test_teams_post_sends_an_adaptive_card_inside_a_message(hooks):
    notify.teams_post(hooks.url + "/teams", card())
    (received,) = hooks.to("/teams")
    assert received.headers["content-type"].startswith("application/json")
    body = received.body
    assert body["type"] == "message"
    (attachment,) = body["attachments"]
    assert attachment["contentType"] == "application/vnd.microsoft.card.adaptive"
    content = attachment["content"]
    assert content["type"] == "AdaptiveCard"
    assert content["version"] == "1.4"
    assert content["$schema"] == "http://adaptivecards.io/schemas/adaptive-card.json"
    assert content["body"][0] == {
        "type": "TextBlock",
        "text": "Déléguer une mission",
        "size": "Large",
        "weight": "Bolder",
        "wrap": True,
    }
    assert all(block["type"] == "TextBlock" and block["wrap"] for block in content["body"])
    assert "- Choisir une mission" in content["body"][-1]["text"]
    assert content["actions"] == [
        {"type": "Action.OpenUrl", "title": "Répondre dans le campus", "url": LINK}
    ]


def test_slack_post_sends_header_section_and_button_blocks(hooks):
    payload = notify.slack_message(
        title="Déléguer une mission",
        paragraphs=["Cette semaine, essayez :"],
        bullets=["Choisir une mission"],
        url=LINK,
        button="Répondre dans le campus",
    )
    notify.slack_post(hooks.url + "/slack", payload)
    body = hooks.to("/slack")[0].body
    assert body["text"] == "Déléguer une mission"
    header, section, actions = body["blocks"]
    assert header == {
        "type": "header",
        "text": {"type": "plain_text", "text": "Déléguer une mission", "emoji": False},
    }
    assert section["type"] == "section" and section["text"]["type"] == "mrkdwn"
    assert section["text"]["text"] == "Cette semaine, essayez :\n\n• Choisir une mission"
    assert actions["type"] == "actions"
    (button,) = actions["elements"]
    assert button["type"] == "button" and button["url"] == LINK
    assert button["text"] == {"type": "plain_text", "text": "Répondre dans le campus"}


def test_slack_text_is_escaped_so_mentions_and_links_cannot_be_forged():
    payload = notify.slack_message(
        title="<!channel> & co",
        paragraphs=["Voir <https://evil.example|ici> & <!here>"],
        url=LINK,
        button="Ouvrir",
    )
    section = payload["blocks"][1]["text"]["text"]
    assert section == "Voir &lt;https://evil.example|ici&gt; &amp; &lt;!here&gt;"
    assert payload["text"] == "&lt;!channel&gt; &amp; co"
    # plain_text is never interpreted by Slack: kept as typed.
    assert payload["blocks"][0]["text"]["text"] == "<!channel> & co"


def test_teams_text_is_escaped_so_markdown_links_cannot_be_forged():
    body = card(paragraphs=["[Cliquez](https://evil.example) **vite**\n- liste\n1. un"])[
        "attachments"
    ][0]["content"]["body"]
    text = body[1]["text"]
    assert text == "\\[Cliquez\\](https://evil.example) \\*\\*vite\\*\\*\n\\- liste\n1\\. un"
    assert notify.teams_escape("l’agent (absent) fait 2-3 choses") == (
        "l’agent (absent) fait 2-3 choses"
    )


def test_long_text_is_cut_to_the_format_limits():
    payload = notify.slack_message(title="T" * 400, paragraphs=["x" * 5000], url=LINK, button="B")
    assert len(payload["blocks"][0]["text"]["text"]) == notify.SLACK_HEADER_MAX
    assert len(payload["blocks"][1]["text"]["text"]) <= notify.SLACK_SECTION_MAX


def test_an_error_status_raises_a_french_notification_error(hooks):
    hooks.script("/teams", 500)
    with pytest.raises(notify.NotificationError) as caught:
        notify.teams_post(hooks.url + "/teams", card())
    assert str(caught.value) == "Microsoft Teams a refusé le message (réponse HTTP 500)."


def test_a_redirect_is_not_followed(hooks):
    hooks.script("/slack", 302)
    with pytest.raises(notify.NotificationError, match="HTTP 302"):
        notify.slack_post(hooks.url + "/slack", {"text": "x"})
    assert len(hooks.received) == 1


def test_a_slow_endpoint_times_out(hooks, settings):
    settings.CAMPUS_WEBHOOK_TIMEOUT = 0.3
    hooks.script("/slack", 2.0)
    with pytest.raises(notify.NotificationError, match="n’a pas répondu à temps"):
        notify.slack_post(hooks.url + "/slack", {"text": "x"})


def test_an_unreachable_endpoint_raises_a_notification_error():
    with pytest.raises(notify.NotificationError, match="injoignable"):
        notify.slack_post("http://127.0.0.1:9/nothing", {"text": "x"})


def test_a_non_https_address_is_never_posted_to():
    with pytest.raises(notify.NotificationError, match="https://"):
        notify.teams_post("http://hooks.example.org/x", card())


@pytest.mark.parametrize(
    ("url", "personal", "code"),
    [
        ("http://hooks.slack.com/services/T/B/X", True, "https"),
        ("ftp://hooks.slack.com/x", False, "https"),
        ("https://10.0.0.5/hook", False, "ip"),
        ("https://user:pw@hooks.slack.com/services/x", True, "credentials"),
        ("https://intranet.example.org/hook", True, "host"),
        ("https://hooks.slack.com.evil.example/x", True, "host"),
        ("https:///nohost", False, "invalid"),
    ],
)
def test_bad_webhook_addresses_are_refused_in_french(url, personal, code):
    with pytest.raises(ValidationError) as caught:
        notify.webhook_url_validate(url, personal=personal)
    assert caught.value.code == code


@pytest.mark.parametrize(
    ("url", "personal"),
    [
        ("https://hooks.slack.com/services/T0/B0/abc", True),
        ("https://cnam.webhook.office.com/webhookb2/abc", True),
        ("https://prod-12.westeurope.logic.azure.com:443/workflows/abc", True),
        ("https://mattermost.cpam.example.fr/hooks/abc", False),
    ],
)
def test_good_webhook_addresses_are_accepted(url, personal):
    notify.webhook_url_validate(url, personal=personal)


def test_plain_http_to_this_machine_only_in_development_or_tests(settings):
    notify.webhook_url_validate("http://127.0.0.1:8123/hook", personal=True)
    settings.DEBUG = False
    settings.TESTING = False
    with pytest.raises(ValidationError):
        notify.webhook_url_validate("http://127.0.0.1:8123/hook")
    with pytest.raises(ValidationError):
        notify.webhook_url_validate("https://localhost/hook")


def test_email_send_renders_text_and_an_escaped_html_alternative(db, settings):
    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"

    class Exercise:
        title = "Déléguer <script>alert(1)</script>"
        question = "Qu’avez-vous délégué ?"

    notify.email_send(
        to="camille@campus.test",
        subject="Votre exercice\nBcc: intrus@example.org",
        template="coach/emails/exercise",
        context={
            "first_name": "Camille",
            "exercise": Exercise(),
            "actions": ["Choisir une mission"],
            "url": LINK,
            "preferences_url": "https://campus.example.fr/prefs/",
            "campus_name": "Campus",
        },
    )
    (message,) = mail.outbox
    assert message.to == ["camille@campus.test"]
    assert message.subject == "Votre exercice Bcc: intrus@example.org"
    assert "Bonjour Camille," in message.body
    assert "- Choisir une mission" in message.body
    assert LINK in message.body
    html, mimetype = message.alternatives[0]
    assert mimetype == "text/html"
    assert "&lt;script&gt;" in html and "<script>" not in html
    assert f'href="{LINK}"' in html


def test_email_send_without_recipient_raises(db):
    with pytest.raises(notify.NotificationError):
        notify.email_send(to=[], subject="x", template="coach/emails/exercise", context={})
