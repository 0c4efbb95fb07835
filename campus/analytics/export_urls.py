"""URLs of the analytics exports (jobs, downloads, log, subscription), in the ``analytics``
namespace (included by ``campus/analytics/urls.py``)."""

from __future__ import annotations

urlpatterns: list = []
