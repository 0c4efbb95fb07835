from __future__ import annotations

from django.urls import path

from mallette import views

app_name = "mallette"

urlpatterns = [
    path("", views.index, name="index"),
    path("pratiques/<int:pk>/commentaires/", views.comment_create, name="comment_create"),
    path("pratiques/<int:pk>/", views.practice_detail, name="practice"),
    path("pratiques/<int:pk>/<slug:slug>/", views.practice_detail, name="practice"),
    path(
        "pratiques/<int:pk>/marquer/<str:kind>/",
        views.practice_use_toggle,
        name="use_toggle",
    ),
    path("commentaires/<int:pk>/modifier/", views.comment_edit, name="comment_edit"),
    path("commentaires/<int:pk>/supprimer/", views.comment_delete, name="comment_delete"),
    path("commentaires/<int:pk>/masquer/", views.comment_hide, name="comment_hide"),
    path("les-plus-evoquees/", views.most_evoked, name="most_evoked"),
    path("livre/", views.book, name="book"),
    path("livre/imprimer/", views.book_print, name="book_print"),
    path("livre/<uuid:job_id>/", views.book_job, name="book_job"),
    path("livre/<uuid:job_id>/livre.pdf", views.book_download, name="book_download"),
    path("proposer/", views.propose, name="propose"),
    path("mes-contributions/", views.mine, name="mine"),
    path("mes-favoris/", views.favourites, name="favourites"),
    path("moderation/", views.moderation, name="moderation"),
    path("moderation/<int:pk>/modifier/", views.moderation_edit, name="moderation_edit"),
    path("moderation/<int:pk>/publier/", views.moderation_publish, name="moderation_publish"),
    path("moderation/<int:pk>/refuser/", views.moderation_reject, name="moderation_reject"),
    path("moderation/<int:pk>/fusionner/", views.moderation_merge, name="moderation_merge"),
]
