"""URLs of the analytics exports (jobs, downloads, log, subscription), in the ``analytics``
namespace (included by ``campus/analytics/urls.py``)."""

from __future__ import annotations

from django.urls import path

from campus.analytics import export_views

urlpatterns: list = [
    path("exports/", export_views.export_list, name="export_list"),
    path("exports/abonnement/", export_views.report_subscription, name="report_subscription"),
    path("exports/nouveau/<slug:page>/", export_views.export_start, name="export_start"),
    path("exports/<int:pk>/", export_views.export_detail, name="export_detail"),
    path("exports/<int:pk>/fichier/", export_views.export_download, name="export_download"),
    path("exports/<int:pk>/regenerer/", export_views.export_regenerate, name="export_regenerate"),
]
