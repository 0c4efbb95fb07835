from __future__ import annotations

from django import forms
from django.utils.translation import gettext_lazy as _

from coach.answering import MAX_QUESTION


class AskForm(forms.Form):
    question = forms.CharField(
        label=_("Votre question"),
        max_length=MAX_QUESTION,
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text=_(
            "Décrivez la situation sans nommer personne : les noms et données personnelles "
            "sont retirés automatiquement avant tout traitement."
        ),
        error_messages={
            "required": _("Écrivez votre question avant d’envoyer."),
            "max_length": _("Votre question est trop longue (%(limit_value)s caractères au plus)."),
        },
    )

    def clean_question(self) -> str:
        question = " ".join(self.cleaned_data["question"].split())
        if len(question) < 3:
            raise forms.ValidationError(_("Votre question est trop courte."))
        return question


class RatingForm(forms.Form):
    rating = forms.TypedChoiceField(
        choices=[(1, _("Utile")), (-1, _("Pas utile"))],
        coerce=int,
        error_messages={"required": _("Choisissez « utile » ou « pas utile ».")},
    )
    comment = forms.CharField(
        label=_("Un commentaire (facultatif)"),
        required=False,
        max_length=2000,
        widget=forms.Textarea(attrs={"rows": 2}),
    )
