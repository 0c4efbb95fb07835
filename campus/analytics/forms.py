from __future__ import annotations

from django import forms
from django.utils.translation import gettext_lazy as _


class ScopeForm(forms.Form):
    """One select, so that only one dimension beyond the organisation can be chosen."""

    perimetre = forms.ChoiceField(label=_("Périmètre"), required=False)

    def __init__(self, *args: object, choices: list[tuple[str, object]], **kwargs: object):
        super().__init__(*args, **kwargs)
        self.fields["perimetre"].choices = choices
