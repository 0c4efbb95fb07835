from __future__ import annotations

from typing import Any

from django import forms
from django.utils.translation import gettext_lazy as _

from mallette.models import PracticeLevel, PracticeSource, Theme


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
