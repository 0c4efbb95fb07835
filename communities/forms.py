from __future__ import annotations

from typing import Any

from django import forms
from django.core.exceptions import ValidationError
from django.utils.translation import gettext_lazy as _

from campus.models import Level, User
from campus.notify import webhook_url_validate
from communities.models import (
    DigestFrequency,
    Group,
    GroupKind,
    GroupVisibility,
    ReportReason,
)
from mallette.models import Theme

BODY_HELP = _(
    "Markdown limité : **gras**, *italique*, listes, liens. Tapez # pour citer une pratique "
    "de la mallette (ou collez son code, par exemple #pratique-12)."
)


class DirectoryFilterForm(forms.Form):
    q = forms.CharField(label=_("Rechercher un groupe"), required=False, max_length=100)
    kind = forms.ChoiceField(
        label=_("Type de groupe"),
        required=False,
        choices=[("", _("Tous les types")), *GroupKind.choices],
    )


class SearchForm(forms.Form):
    q = forms.CharField(label=_("Rechercher dans les discussions"), max_length=200)


class GroupForm(forms.ModelForm):
    webhook_url = forms.URLField(
        label=_("Webhook Teams ou Slack"),
        required=False,
        max_length=500,
        assume_scheme="https",
        help_text=_("Les nouvelles discussions y sont annoncées (adresse https)."),
        error_messages={"invalid": _("Cette adresse n’est pas valide.")},
    )

    class Meta:
        model = Group
        fields = [
            "name",
            "description",
            "kind",
            "visibility",
            "level",
            "theme",
            "charter",
            "animated",
            "webhook_url",
        ]
        widgets = {
            "description": forms.Textarea(attrs={"rows": 3}),
            "charter": forms.Textarea(attrs={"rows": 5}),
        }
        error_messages = {"name": {"required": _("Donnez un nom au groupe.")}}

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["theme"].queryset = Theme.objects.all()
        self.fields["theme"].empty_label = _("Aucun thème")
        self.fields["level"].choices = [("", _("Tous les niveaux")), *Level.choices]

    def clean_webhook_url(self) -> str:
        url = (self.cleaned_data.get("webhook_url") or "").strip()
        if url:
            webhook_url_validate(url)
        return url


class JoinForm(forms.Form):
    charter = forms.BooleanField(
        label=_("J’ai lu la charte du groupe et je m’engage à la respecter"),
        error_messages={"required": _("Acceptez la charte pour rejoindre le groupe.")},
    )


class InviteForm(forms.Form):
    email = forms.EmailField(
        label=_("Adresse e-mail de la personne à inviter"),
        error_messages={
            "required": _("Indiquez l’adresse e-mail de la personne."),
            "invalid": _("Cette adresse e-mail n’est pas valide."),
        },
    )

    def __init__(self, *args: Any, organisation_id: int, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.organisation_id = organisation_id

    def clean_email(self) -> User:
        email = self.cleaned_data["email"].strip().lower()
        user = User.objects.filter(
            email__iexact=email, organisation_id=self.organisation_id, is_active=True
        ).first()
        if user is None:
            raise ValidationError(_("Personne de votre organisation n’a cette adresse."))
        return user


class PostForm(forms.Form):
    body = forms.CharField(
        label=_("Votre message"),
        max_length=5000,
        widget=forms.Textarea(attrs={"rows": 5}),
        help_text=BODY_HELP,
        error_messages={
            "required": _("Écrivez votre message avant de le publier."),
            "max_length": _("Votre message est trop long (5 000 caractères au plus)."),
        },
    )


class ThreadForm(PostForm):
    title = forms.CharField(
        label=_("Titre de la discussion"),
        max_length=160,
        error_messages={
            "required": _("Donnez un titre à la discussion."),
            "max_length": _("Le titre est trop long (160 caractères au plus)."),
        },
    )
    field_order = ["title", "body"]


class ReportForm(forms.Form):
    reason = forms.ChoiceField(
        label=_("Motif du signalement"),
        choices=ReportReason.choices,
        widget=forms.RadioSelect,
        error_messages={"required": _("Choisissez un motif.")},
    )
    comment = forms.CharField(
        label=_("Précisions (facultatif)"),
        required=False,
        max_length=500,
        widget=forms.Textarea(attrs={"rows": 3}),
    )


class HideForm(forms.Form):
    reason = forms.CharField(
        label=_("Motif, communiqué à l’auteur"),
        max_length=300,
        widget=forms.Textarea(attrs={"rows": 3}),
        error_messages={"required": _("Indiquez le motif : l’auteur le verra.")},
    )


class SettingsForm(forms.Form):
    digest = forms.ChoiceField(
        label=_("Recevoir le résumé de mes communautés par courriel"),
        choices=DigestFrequency.choices,
        widget=forms.RadioSelect,
    )
    notify_new_threads = forms.BooleanField(
        label=_("Me notifier sur Campus des nouvelles discussions de mes groupes"),
        required=False,
    )


__all__ = [
    "DirectoryFilterForm",
    "GroupForm",
    "GroupVisibility",
    "HideForm",
    "InviteForm",
    "JoinForm",
    "PostForm",
    "ReportForm",
    "SearchForm",
    "SettingsForm",
    "ThreadForm",
]
