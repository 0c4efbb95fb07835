from __future__ import annotations

from django.urls import include, path

from coach import views

app_name = "coach"

urlpatterns = [
    path("", views.index, name="index"),
    path("demander/", views.ask, name="ask"),
    path("conversations/<str:pk>/", views.conversation, name="conversation"),
    path(
        "conversations/<str:pk>/supprimer/", views.conversation_delete, name="conversation_delete"
    ),
    path("tout-supprimer/", views.conversations_delete_all, name="delete_all"),
    path("echanges/<int:pk>/", views.exchange_fragment, name="exchange"),
    path("echanges/<int:pk>/flux/", views.exchange_stream, name="exchange_stream"),
    path("echanges/<int:pk>/avis/", views.exchange_rate, name="exchange_rate"),
    path("sujets/", views.topics, name="topics"),
    path("exercices/", include("coach.exercise_urls")),
]
