from __future__ import annotations

from django.urls import path

from feedback180 import views

app_name = "feedback180"

urlpatterns = [
    path("", views.index, name="index"),
]
