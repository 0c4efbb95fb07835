"""Forms of the weekly exercises: answering one, and the manager's preferences."""

from __future__ import annotations

from typing import Any

from django import forms
from django.core.exceptions import ValidationError
from django.utils.translation import gettext_lazy as _

from campus.notify import webhook_url_validate
from coach.models import ExerciseChannel, OrganismWebhook
from mallette.models import Theme

ANSWER_MAX = 4000


class ExerciseAnswerForm(forms.Form):
    answer = forms.CharField(
        label=_("Votre réponse"),
        help_text=_(
            "Quelques lignes suffisent : elles restent privées et rejoignent votre historique."
        ),
        max_length=ANSWER_MAX,
        widget=forms.Textarea(attrs={"rows": 6}),
        error_messages={
            "required": _("Écrivez votre réponse avant de l’enregistrer."),
            "max_length": _(
                "Votre réponse est trop longue (%(limit_value)d caractères au plus, "
                "vous en avez écrit %(show_value)d)."
            ),
        },
    )

    def clean_answer(self) -> str:
        answer = self.cleaned_data["answer"].strip()
        if not answer:
            raise ValidationError(_("Écrivez votre réponse avant de l’enregistrer."))
        return answer


def _webhook_field(label: str, help_text: str) -> forms.URLField:
    return forms.URLField(
        label=label,
        help_text=help_text,
        required=False,
        max_length=500,
        assume_scheme="https",
        error_messages={
            "invalid": _("Saisissez une adresse web complète, commençant par https://."),
            "max_length": _("Cette adresse est trop longue (500 caractères au plus)."),
        },
    )


class ExercisePreferenceForm(forms.Form):
    enabled = forms.BooleanField(label=_("Recevoir un exercice chaque lundi"), required=False)
    email = forms.BooleanField(label=_("Par courriel"), required=False)
    teams_webhook_url = _webhook_field(
        _("Webhook Microsoft Teams personnel"),
        _("Adresse d’un webhook entrant de votre canal Teams (facultatif)."),
    )
    slack_webhook_url = _webhook_field(
        _("Webhook Slack personnel"),
        _("Adresse d’un webhook entrant Slack, https://hooks.slack.com/… (facultatif)."),
    )
    theme_slugs = forms.MultipleChoiceField(
        label=_("Thèmes préférés"),
        help_text=_("Sans choix, les exercices suivent vos favoris et vos questions au coach."),
        required=False,
        widget=forms.CheckboxSelectMultiple,
        error_messages={"invalid_choice": _("Ce thème n’existe pas.")},
    )

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["theme_slugs"].choices = list(
            Theme.objects.order_by("position", "label").values_list("slug", "label")
        )

    def _clean_webhook(self, name: str) -> str:
        url = self.cleaned_data.get(name, "")
        if url:
            webhook_url_validate(url, personal=True)
        return url

    def clean_teams_webhook_url(self) -> str:
        return self._clean_webhook("teams_webhook_url")

    def clean_slack_webhook_url(self) -> str:
        return self._clean_webhook("slack_webhook_url")

    def webhook_for(self, channel: str) -> str:
        field = "teams_webhook_url" if channel == ExerciseChannel.TEAMS else "slack_webhook_url"
        return self.cleaned_data.get(field, "")


class OrganismWebhookAdminForm(forms.ModelForm):
    """HR admins enter an organism's channel: https required (any host)."""

    url = forms.URLField(label=_("adresse du webhook"), max_length=500, assume_scheme="https")

    class Meta:
        model = OrganismWebhook
        fields = ["organism", "channel", "url", "active"]

    def clean_url(self) -> str:
        url = self.cleaned_data["url"]
        webhook_url_validate(url, personal=False)
        return url
