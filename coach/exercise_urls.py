"""URLs of the weekly exercises, included by ``coach.urls`` under ``exercices/`` (namespace
``coach``)."""

from __future__ import annotations

from django.urls import path

from coach import exercise_views

urlpatterns = [
    path("", exercise_views.exercise_list, name="exercise_list"),
    path("cette-semaine/", exercise_views.exercise_start, name="exercise_start"),
    path("<int:pk>/", exercise_views.exercise_detail, name="exercise_detail"),
    path("preferences/", exercise_views.exercise_preferences, name="exercise_preferences"),
]
