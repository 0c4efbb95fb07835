from __future__ import annotations

from django.urls import path

from campus.analytics import export_urls, views

app_name = "analytics"

urlpatterns = [
    path("", views.dashboard, name="dashboard"),
    path("resultats/", views.outcomes, name="outcomes"),
    path("seuil/", views.threshold, name="threshold"),
]

urlpatterns += export_urls.urlpatterns
