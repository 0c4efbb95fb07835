from __future__ import annotations

from django.urls import path

from mallette import views

app_name = "mallette"

urlpatterns = [
    path("", views.index, name="index"),
    path("pratiques/<int:pk>/", views.practice_detail, name="practice"),
    path("pratiques/<int:pk>/<slug:slug>/", views.practice_detail, name="practice"),
    path(
        "pratiques/<int:pk>/marquer/<str:kind>/",
        views.practice_use_toggle,
        name="use_toggle",
    ),
    path("proposer/", views.propose, name="propose"),
    path("mes-contributions/", views.mine, name="mine"),
    path("mes-favoris/", views.favourites, name="favourites"),
    path("moderation/", views.moderation, name="moderation"),
    path("moderation/<int:pk>/modifier/", views.moderation_edit, name="moderation_edit"),
    path("moderation/<int:pk>/publier/", views.moderation_publish, name="moderation_publish"),
    path("moderation/<int:pk>/refuser/", views.moderation_reject, name="moderation_reject"),
    path("moderation/<int:pk>/fusionner/", views.moderation_merge, name="moderation_merge"),
]
