from __future__ import annotations

from django.urls import path

from coach import views

app_name = "coach"

urlpatterns = [
    path("", views.index, name="index"),
]
