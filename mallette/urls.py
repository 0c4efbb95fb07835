from __future__ import annotations

from django.urls import path

from mallette import views

app_name = "mallette"

urlpatterns = [
    path("", views.index, name="index"),
    path("pratiques/<int:pk>/", views.practice_detail, name="practice"),
    path("pratiques/<int:pk>/<slug:slug>/", views.practice_detail, name="practice"),
]
