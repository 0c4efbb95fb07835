"""Template helpers of the boosts."""

from __future__ import annotations

from django import template

from boosts.models import Boost
from boosts.selectors import AudiencePart, audience_description
from campus.models import User

register = template.Library()


@register.simple_tag
def boost_audience(boost: Boost, viewer: User) -> list[AudiencePart]:
    """``{% boost_audience boost request.user as audience %}``: the audience in words, named
    as the viewer may see it (a tag, so every page showing a boost's facts says the same)."""
    return audience_description(boost, viewer)
