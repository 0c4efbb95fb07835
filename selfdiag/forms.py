from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from django import forms
from django.utils.translation import gettext_lazy as _

from selfdiag.models import ActionStatus, Competency, OpenQuestion

DATE_FORMATS = ["%Y-%m-%d", "%d/%m/%Y"]


class StepForm(forms.Form):
    """The items of one competency, each a group of five radio buttons.

    ``required`` is False for "Précédent" and "Enregistrer et reprendre plus tard": a partial
    step is saved as is; "Suivant" asks for every answer of the step."""

    def __init__(
        self,
        *args: Any,
        competency: Competency,
        scale: Sequence[tuple[int, str]],
        required: bool = True,
        **kwargs: Any,
    ) -> None:
        super().__init__(*args, **kwargs)
        choices = [(str(value), label) for value, label in scale]
        for item in competency.items.all():
            self.fields[f"item_{item.pk}"] = forms.TypedChoiceField(
                label=item.text,
                choices=choices,
                coerce=int,
                widget=forms.RadioSelect,
                required=required,
                error_messages={"required": _("Choisissez une réponse pour cet énoncé.")},
            )

    def answers(self) -> dict[int, int]:
        return {
            int(name.removeprefix("item_")): value
            for name, value in self.cleaned_data.items()
            if value not in (None, "")
        }


class OpenAnswersForm(forms.Form):
    def __init__(self, *args: Any, questions: Sequence[OpenQuestion], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        for question in questions:
            self.fields[f"open_{question.pk}"] = forms.CharField(
                label=question.text,
                help_text=question.help_text,
                required=False,
                max_length=2000,
                widget=forms.Textarea(attrs={"rows": 4}),
            )

    def answers(self) -> dict[int, str]:
        return {int(name.removeprefix("open_")): value for name, value in self.cleaned_data.items()}


class ActionCreateForm(forms.Form):
    title = forms.CharField(
        label=_("Nouvelle action"),
        max_length=200,
        help_text=_("Ex. : faire un point individuel de 20 minutes avec chaque agent."),
        error_messages={"required": _("Décrivez l’action en quelques mots.")},
    )
    due_date = forms.DateField(
        label=_("Échéance (facultatif)"),
        required=False,
        input_formats=DATE_FORMATS,
        widget=forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"),
        error_messages={"invalid": _("Saisissez une date valide, par exemple 15/09/2026.")},
    )


class ActionUpdateForm(forms.Form):
    title = forms.CharField(label=_("Action"), max_length=200, required=False)
    due_date = forms.DateField(
        label=_("Échéance"),
        required=False,
        input_formats=DATE_FORMATS,
        widget=forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"),
        error_messages={"invalid": _("Saisissez une date valide, par exemple 15/09/2026.")},
    )
    status = forms.ChoiceField(label=_("Statut"), choices=ActionStatus.choices)
