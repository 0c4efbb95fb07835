from __future__ import annotations

from django.urls import path

from selfdiag import views

app_name = "selfdiag"

urlpatterns = [
    path("", views.index, name="index"),
]
