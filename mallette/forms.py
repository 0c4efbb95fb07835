from __future__ import annotations

import re
from typing import Any

from django import forms
from django.utils.translation import gettext_lazy as _

from mallette.models import Practice, PracticeLevel, PracticeSource, Theme


class PracticeFilterForm(forms.Form):
    q = forms.CharField(
        label=_("Rechercher une pratique"),
        required=False,
        max_length=300,
        widget=forms.TextInput(
            attrs={
                "type": "search",
                "placeholder": _("Ex. : comment déléguer sans tout contrôler ?"),
            }
        ),
    )
    theme = forms.ChoiceField(label=_("Thème"), required=False)
    level = forms.ChoiceField(
        label=_("Niveau"),
        required=False,
        choices=[("", _("Tous les niveaux"))]
        + [(v, label) for v, label in PracticeLevel.choices if v != PracticeLevel.ALL],
    )
    source = forms.ChoiceField(
        label=_("Origine"),
        required=False,
        choices=[("", _("Toutes les origines")), *PracticeSource.choices],
    )

    def __init__(self, *args: Any, themes: list[Theme], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["theme"].choices = [("", _("Tous les thèmes"))] + [
            (t.slug, t.label) for t in themes
        ]


# A line that already uses Markdown structure: list items, numbered steps, headings, quotes.
_MARKDOWN_LINE = re.compile(r"^\s*([-*+]\s|\d+[.)]\s|#|>)")


def steps_to_markdown(text: str) -> str:
    """ "One step per line" becomes a Markdown list; text already in Markdown is kept as is."""
    lines = [line.strip() for line in text.strip().splitlines() if line.strip()]
    if len(lines) < 2 or any(_MARKDOWN_LINE.match(line) for line in lines):
        return text.strip()
    return "\n".join(f"- {line}" for line in lines)


class PracticeProposalForm(forms.Form):
    """What a manager proposes, and what a moderator edits: the text of a practice."""

    title = forms.CharField(
        label=_("Titre"),
        max_length=160,
        help_text=_("Une action, en quelques mots. Ex. : « Déléguer un dossier complexe »."),
        error_messages={"required": _("Donnez un titre à votre pratique.")},
    )
    summary = forms.CharField(
        label=_("Résumé"),
        max_length=400,
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text=_("Deux phrases au plus : ce que fait la pratique et ce qu’elle apporte."),
        error_messages={"required": _("Résumez votre pratique en une ou deux phrases.")},
    )
    situation = forms.CharField(
        label=_("La situation"),
        required=False,
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text=_("Quand cette pratique est-elle utile ? Décrivez le contexte."),
    )
    body = forms.CharField(
        label=_("Ce qu’il faut faire"),
        widget=forms.Textarea(attrs={"rows": 7}),
        help_text=_(
            "Une étape par ligne, ou du Markdown limité : listes, **gras**, *italique*, liens."
        ),
        error_messages={"required": _("Décrivez ce qu’il faut faire, étape par étape.")},
    )
    pitfalls = forms.CharField(
        label=_("Les pièges à éviter"),
        required=False,
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text=_("Un piège par ligne."),
    )
    primary_theme = forms.ModelChoiceField(
        label=_("Thème principal"),
        queryset=Theme.objects.all(),
        to_field_name="slug",
        empty_label=_("Choisissez un thème"),
        error_messages={"required": _("Choisissez le thème principal de la pratique.")},
    )
    second_theme = forms.ModelChoiceField(
        label=_("Second thème (facultatif)"),
        queryset=Theme.objects.all(),
        to_field_name="slug",
        required=False,
        empty_label=_("Aucun"),
    )
    level = forms.ChoiceField(
        label=_("Pour quels managers ?"), choices=PracticeLevel.choices, initial=PracticeLevel.ALL
    )
    anonymous = forms.BooleanField(label=_("Publier sans mon nom"), required=False)

    def clean_title(self) -> str:
        title = self.cleaned_data["title"].strip()
        if len(title) < 5:
            raise forms.ValidationError(_("Le titre est trop court : 5 caractères au moins."))
        return title

    def clean_body(self) -> str:
        return steps_to_markdown(self.cleaned_data["body"])

    def clean_pitfalls(self) -> str:
        return steps_to_markdown(self.cleaned_data.get("pitfalls") or "")

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        if data.get("second_theme") and data.get("second_theme") == data.get("primary_theme"):
            self.add_error(
                "second_theme", _("Le second thème doit être différent du thème principal.")
            )
        return data

    @classmethod
    def initial_for(cls, practice: Practice) -> dict[str, Any]:
        others = [t for t in practice.themes.all() if t.pk != practice.primary_theme_id]
        return {
            "title": practice.title,
            "summary": practice.summary,
            "situation": practice.situation,
            "body": practice.body,
            "pitfalls": practice.pitfalls,
            "primary_theme": practice.primary_theme.slug,
            "second_theme": others[0].slug if others else None,
            "level": practice.level,
            "anonymous": practice.anonymous,
        }


class PracticePublishForm(forms.Form):
    national = forms.BooleanField(
        label=_("Rendre visible dans toute l’organisation (pratique nationale)"),
        required=False,
        help_text=_("Sinon, seuls les managers de l’organisme de l’auteur la verront."),
    )


class PracticeRejectForm(forms.Form):
    reason = forms.CharField(
        label=_("Motif du refus"),
        max_length=1000,
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text=_("Il sera montré à l’auteur : restez précis et bienveillant."),
        error_messages={"required": _("Indiquez le motif du refus : l’auteur le verra.")},
    )


class CommentForm(forms.Form):
    body = forms.CharField(
        label=_("Votre commentaire"),
        max_length=2000,
        widget=forms.Textarea(attrs={"rows": 4}),
        help_text=_(
            "Partagez votre expérience de cette pratique. Markdown limité : listes, **gras**, "
            "*italique*, liens. Visible des managers de votre organisation."
        ),
        error_messages={
            "required": _("Écrivez votre commentaire avant de le publier."),
            "max_length": _(
                "Votre commentaire est trop long : %(limit_value)d caractères au plus "
                "(actuellement %(show_value)d)."
            ),
        },
    )

    def clean_body(self) -> str:
        body = self.cleaned_data["body"].strip()
        if len(body) < 3:
            raise forms.ValidationError(
                _("Votre commentaire est trop court : 3 caractères au moins.")
            )
        return body


class MostEvokedFilterForm(forms.Form):
    period = forms.TypedChoiceField(
        label=_("Période"),
        coerce=int,
        required=False,
        empty_value=30,
        choices=[(30, _("30 derniers jours")), (90, _("90 derniers jours"))],
    )
    scope = forms.ChoiceField(
        label=_("Périmètre"),
        required=False,
        choices=[
            ("national", _("Toute mon organisation")),
            ("organisme", _("Mon organisme")),
        ],
    )
    theme = forms.ChoiceField(label=_("Thème"), required=False)

    def __init__(self, *args: Any, themes: list[Theme], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["theme"].choices = [("", _("Tous les thèmes"))] + [
            (t.slug, t.label) for t in themes
        ]
