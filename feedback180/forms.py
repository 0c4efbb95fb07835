"""Forms of the 180° feedback; every message in French, input kept on error."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from django import forms
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from feedback180.models import Campaign
from feedback180.services import COMMENT_MAX_CHARS, MAX_RATERS, emails_parse, k_floor

DONT_KNOW = "0"


class CampaignForm(forms.Form):
    raters = forms.CharField(
        label=gettext_lazy("Personnes invitées"),
        widget=forms.Textarea(attrs={"rows": 8}),
        help_text=gettext_lazy(
            "Une adresse e-mail par ligne (vous pouvez aussi coller une liste séparée par des "
            "virgules ou des points-virgules)."
        ),
        error_messages={"required": gettext_lazy("Indiquez au moins une adresse e-mail.")},
    )
    closes_on = forms.DateField(
        label=gettext_lazy("Date de clôture"),
        widget=forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"),
        error_messages={
            "required": gettext_lazy("Indiquez une date de clôture."),
            "invalid": gettext_lazy("Indiquez une date valide."),
        },
    )
    min_responses = forms.IntegerField(
        label=gettext_lazy("Seuil d’anonymat (k)"),
        help_text=gettext_lazy(
            "Nombre minimal de réponses pour que vous voyiez les résultats. Verrouillé à "
            "l’ouverture."
        ),
        error_messages={
            "required": gettext_lazy("Indiquez un seuil."),
            "invalid": gettext_lazy("Indiquez un nombre entier."),
        },
    )

    def __init__(self, *args: Any, campaign: Campaign, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.campaign = campaign
        self.floor = k_floor(campaign.organisation)
        self.fields["min_responses"].min_value = self.floor
        self.fields["min_responses"].widget.attrs.update({"min": self.floor, "max": 50})

    def clean_raters(self) -> list[str]:
        valid, invalid = emails_parse(self.cleaned_data["raters"])
        if invalid:
            raise forms.ValidationError(
                _("Adresses non valides : %(list)s."), params={"list": ", ".join(invalid[:10])}
            )
        if not valid:
            raise forms.ValidationError(_("Indiquez au moins une adresse e-mail."))
        if len(valid) > MAX_RATERS:
            raise forms.ValidationError(
                _("Au plus %(max)d personnes peuvent être invitées."), params={"max": MAX_RATERS}
            )
        if self.campaign.manager.email.lower() in valid:
            raise forms.ValidationError(_("Vous ne pouvez pas vous inviter vous-même."))
        return valid

    def clean_closes_on(self):
        value = self.cleaned_data["closes_on"]
        today = timezone.localdate()
        if value <= today:
            raise forms.ValidationError(_("La date de clôture doit être dans le futur."))
        if value > today + timedelta(days=60):
            raise forms.ValidationError(_("Une campagne dure au plus deux mois."))
        return value

    def clean_min_responses(self) -> int:
        value = self.cleaned_data["min_responses"]
        if value < self.floor:
            raise forms.ValidationError(
                _("Le seuil ne peut pas être inférieur à %(floor)d."), params={"floor": self.floor}
            )
        if value > 50:
            raise forms.ValidationError(_("Le seuil ne peut pas dépasser 50."))
        return value


def _scale_choices(scale: list[str], *, dont_know: bool) -> list[tuple[str, str]]:
    choices = [(str(n), label) for n, label in enumerate(scale, start=1)]
    if dont_know:
        choices.append((DONT_KNOW, _("Je ne sais pas")))
    return choices


class ItemsForm(forms.Form):
    """The behavioural items (team wording or self wording) and, for raters, the comments."""

    def __init__(
        self,
        *args: Any,
        campaign: Campaign,
        own: bool = False,
        comments: bool = True,
        **kwargs: Any,
    ) -> None:
        super().__init__(*args, **kwargs)
        scale = campaign.questionnaire.get("scale", [])
        self.item_fields: list[tuple[dict, str]] = []
        for item in campaign.items:
            name = f"item_{item['id']}"
            self.fields[name] = forms.ChoiceField(
                label=item["self_text"] if own else item["text"],
                choices=_scale_choices(scale, dont_know=not own),
                widget=forms.RadioSelect,
                error_messages={"required": _("Choisissez une réponse.")},
            )
            self.item_fields.append((item, name))
        self.comment_fields: list[tuple[dict, str]] = []
        if comments:
            for question in campaign.open_questions:
                name = f"comment_{question['id']}"
                self.fields[name] = forms.CharField(
                    label=question["text"],
                    help_text=question.get("help", ""),
                    required=False,
                    max_length=COMMENT_MAX_CHARS,
                    widget=forms.Textarea(attrs={"rows": 4}),
                    error_messages={
                        "max_length": _(
                            "Votre commentaire est trop long (%(limit_value)d caractères au plus)."
                        )
                    },
                )
                self.comment_fields.append((question, name))

    def answers(self) -> dict[str, int]:
        out = {}
        for item, name in self.item_fields:
            value = self.cleaned_data.get(name)
            if value and value != DONT_KNOW:
                out[item["id"]] = int(value)
        return out

    def comments(self) -> dict[str, str]:
        return {q["id"]: self.cleaned_data.get(name, "") for q, name in self.comment_fields}

    def items_bound(self) -> list[forms.BoundField]:
        return [self[name] for _item, name in self.item_fields]

    def comments_bound(self) -> list[forms.BoundField]:
        return [self[name] for _q, name in self.comment_fields]


class ReflectionForm(forms.Form):
    def __init__(self, *args: Any, **kwargs: Any) -> None:
        from feedback180.services import REFLECTION_QUESTIONS

        super().__init__(*args, **kwargs)
        for key, text in REFLECTION_QUESTIONS:
            self.fields[key] = forms.CharField(
                label=_(text),
                required=False,
                max_length=2000,
                widget=forms.Textarea(attrs={"rows": 3}),
            )


class ActionForm(forms.Form):
    practice = forms.TypedChoiceField(
        label=gettext_lazy("Une pratique suggérée"), required=False, coerce=int, empty_value=None
    )
    title = forms.CharField(
        label=gettext_lazy("Ou votre propre action"), required=False, max_length=200
    )
    due_date = forms.DateField(
        label=gettext_lazy("Échéance"),
        required=False,
        widget=forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"),
        error_messages={"invalid": gettext_lazy("Indiquez une date valide.")},
    )

    def __init__(self, *args: Any, practices: list, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.practice_map = {p.pk: p for p in practices}
        self.fields["practice"].choices = [("", _("— Choisir une pratique —"))] + [
            (p.pk, p.title) for p in practices
        ]
        self.fields["due_date"].initial = timezone.localdate() + timedelta(days=60)

    def clean(self) -> dict[str, Any]:
        data = super().clean()
        if not data.get("practice") and not (data.get("title") or "").strip():
            raise forms.ValidationError(_("Choisissez une pratique ou écrivez une action."))
        if data.get("practice"):
            data["practice"] = self.practice_map.get(data["practice"])
        return data


class GroupForm(forms.Form):
    organism = forms.ModelChoiceField(
        label=gettext_lazy("Organisme"),
        queryset=None,
        error_messages={"required": gettext_lazy("Choisissez un organisme.")},
    )
    level = forms.ChoiceField(label=gettext_lazy("Niveau managérial"), required=False)

    def __init__(self, *args: Any, organisation_id: int, **kwargs: Any) -> None:
        from campus.models import Level, Organism

        super().__init__(*args, **kwargs)
        self.fields["organism"].queryset = Organism.objects.filter(
            organisation_id=organisation_id
        ).order_by("name")
        self.fields["level"].choices = [("", _("Tous les niveaux"))] + list(Level.choices)
