"""Template filters of the HR analytics pages."""

from __future__ import annotations

from django import template
from django.utils.translation import gettext as _

from campus.analytics.suppression import Cell

register = template.Library()


@register.filter
def shown(cell: Cell) -> object:
    """A suppressed figure reads "masqué"; any other shows its value."""
    return _("masqué") if cell.hidden else cell.value
