from __future__ import annotations

import datetime as dt
import re

from django import forms
from django.utils.translation import gettext_lazy as _

from campus.analytics.selectors import (
    MIN_PEOPLE_FLOOR,
    MONTHS,
    PERIOD_CHOICES,
    PERIOD_RANGE,
    Period,
    kept_months,
)
from campus.models import Organisation

MONTH_RE = re.compile(r"^(\d{4})-(\d{2})$")


class MonthInput(forms.TextInput):
    input_type = "month"


class FilterForm(forms.Form):
    """The analytics filters: one select for the scope, so that only one dimension beyond
    the organisation can be chosen, and a period within the 13 months kept."""

    perimetre = forms.ChoiceField(label=_("Périmètre"), required=False)
    periode = forms.ChoiceField(
        label=_("Période"), required=False, choices=PERIOD_CHOICES, initial=str(MONTHS)
    )
    debut = forms.CharField(
        label=_("Du mois"),
        required=False,
        max_length=7,
        widget=MonthInput(attrs={"placeholder": "AAAA-MM"}),
        help_text=_("Format AAAA-MM, pour une plage de mois."),
    )
    fin = forms.CharField(
        label=_("Au mois"),
        required=False,
        max_length=7,
        widget=MonthInput(attrs={"placeholder": "AAAA-MM"}),
        help_text=_("Format AAAA-MM, pour une plage de mois."),
    )

    def __init__(
        self,
        *args: object,
        choices: list[tuple[str, object]],
        today: dt.date | None = None,
        **kwargs: object,
    ):
        super().__init__(*args, **kwargs)
        self.fields["perimetre"].choices = choices
        self.oldest, self.latest = kept_months(today)
        self.today = today
        for name in ("debut", "fin"):
            self.fields[name].widget.attrs.update(
                {"min": f"{self.oldest:%Y-%m}", "max": f"{self.latest:%Y-%m}"}
            )

    def _month(self, name: str) -> dt.date | None:
        raw = (self.cleaned_data.get(name) or "").strip()
        if not raw:
            return None
        match = MONTH_RE.match(raw)
        try:
            month = dt.date(int(match.group(1)), int(match.group(2)), 1) if match else None
        except ValueError:
            month = None
        if month is None:
            raise forms.ValidationError(
                _("Indiquez un mois au format AAAA-MM (par exemple %(example)s).")
                % {"example": f"{self.latest:%Y-%m}"},
                code="invalid",
            )
        if not self.oldest <= month <= self.latest:
            raise forms.ValidationError(
                _(
                    "Choisissez un mois entre %(first)s et %(last)s : l’activité est "
                    "conservée 13 mois."
                )
                % {"first": f"{self.oldest:%Y-%m}", "last": f"{self.latest:%Y-%m}"},
                code="out_of_range",
            )
        return month

    def clean_debut(self) -> dt.date | None:
        return self._month("debut")

    def clean_fin(self) -> dt.date | None:
        return self._month("fin")

    def clean(self) -> dict:
        data = super().clean()
        period_fields_ok = not any(name in self.errors for name in ("periode", "debut", "fin"))
        if data.get("periode") == PERIOD_RANGE and period_fields_ok:
            first, last = data.get("debut"), data.get("fin")
            if first is None or last is None:
                raise forms.ValidationError(
                    _("Pour une plage de mois, indiquez le premier et le dernier mois."),
                    code="incomplete",
                )
            if first > last:
                raise forms.ValidationError(
                    _("Le premier mois doit précéder le dernier (ou être le même)."),
                    code="order",
                )
        return data

    def period(self) -> Period:
        """The period chosen, or the last 12 months when the form is invalid."""
        if not self.is_bound or self.period_errors:
            return Period.trailing(MONTHS, self.today)
        choice = self.cleaned_data.get("periode") or str(MONTHS)
        if choice == PERIOD_RANGE:
            return Period(
                first=self.cleaned_data["debut"], last=self.cleaned_data["fin"], choice=choice
            )
        return Period.trailing(int(choice), self.today)

    @property
    def scope_invalid(self) -> bool:
        return "perimetre" in self.errors

    @property
    def period_errors(self) -> list[str]:
        errors = [*self.non_field_errors()]
        for name in ("periode", "debut", "fin"):
            errors.extend(self.errors.get(name, []))
        return errors


#: The name the first version used.
ScopeForm = FilterForm


class ThresholdForm(forms.ModelForm):
    """The organisation's analytics threshold (k), set by an HR admin; never under 10."""

    class Meta:
        model = Organisation
        fields = ["analytics_min_people"]
        labels = {"analytics_min_people": _("Seuil des statistiques (k)")}
        help_texts = {
            "analytics_min_people": _(
                "Tout chiffre calculé sur moins de personnes est masqué dans les tableaux de "
                "bord et les exports (10 au minimum)."
            )
        }

    def clean_analytics_min_people(self) -> int:
        value = self.cleaned_data["analytics_min_people"]
        if value is None or value < MIN_PEOPLE_FLOOR:
            raise forms.ValidationError(
                _("Le seuil ne peut pas être inférieur à %(floor)d personnes.")
                % {"floor": MIN_PEOPLE_FLOOR},
                code="min_value",
            )
        if value > 1000:
            raise forms.ValidationError(
                _("Le seuil ne peut pas dépasser 1 000 personnes."), code="max_value"
            )
        return value
