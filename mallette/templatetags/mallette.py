from __future__ import annotations

from django import template
from django.utils.safestring import SafeString, mark_safe

from mallette.markdown import render_markdown

register = template.Library()


@register.filter(name="markdown")
def markdown_filter(text: str) -> SafeString:
    # Safe: render_markdown disables raw HTML and sanitises the output with an allow-list.
    return mark_safe(render_markdown(text))  # noqa: S308
