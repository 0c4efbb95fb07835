from __future__ import annotations

from django.conf import settings
from django.http import HttpRequest


def campus(request: HttpRequest) -> dict[str, object]:
    return {"CAMPUS_NAME": settings.CAMPUS_NAME}
