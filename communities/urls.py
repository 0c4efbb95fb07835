from __future__ import annotations

from django.urls import path

from communities import views

app_name = "communities"

urlpatterns = [
    path("", views.index, name="index"),
    path("nouveau-groupe/", views.group_create, name="group_create"),
    path("recherche/", views.search, name="search"),
    path("notifications/", views.notifications, name="notifications"),
    path("preferences/", views.member_settings, name="settings"),
    path("moderation/", views.moderation, name="moderation"),
    path("pratiques/", views.practice_picker, name="practice_picker"),
    path("groupes/<slug:slug>/", views.group_detail, name="group"),
    path("groupes/<slug:slug>/modifier/", views.group_edit, name="group_edit"),
    path("groupes/<slug:slug>/rejoindre/", views.group_join, name="group_join"),
    path("groupes/<slug:slug>/quitter/", views.group_leave, name="group_leave"),
    path("groupes/<slug:slug>/inviter/", views.group_invite, name="group_invite"),
    path("groupes/<slug:slug>/membres/", views.group_members, name="group_members"),
    path(
        "groupes/<slug:slug>/membres/<int:pk>/promouvoir/",
        views.member_promote,
        name="member_promote",
    ),
    path(
        "groupes/<slug:slug>/membres/<int:pk>/retrograder/",
        views.member_demote,
        name="member_demote",
    ),
    path(
        "groupes/<slug:slug>/membres/<int:pk>/retirer/", views.member_remove, name="member_remove"
    ),
    path("groupes/<slug:slug>/nouvelle-discussion/", views.thread_create, name="thread_create"),
    path("discussions/<int:pk>/", views.thread_detail, name="thread"),
    path("discussions/<int:pk>/repondre/", views.post_reply, name="reply"),
    path("discussions/<int:pk>/suivre/", views.follow_toggle, name="follow"),
    path("discussions/<int:pk>/resumer/", views.thread_summarise, name="summarise"),
    path("messages/<int:pk>/", views.post_locate, name="post"),
    path("messages/<int:pk>/reagir/<str:kind>/", views.reaction_toggle, name="react"),
    path("messages/<int:pk>/modifier/", views.post_edit, name="post_edit"),
    path("messages/<int:pk>/supprimer/", views.post_delete, name="post_delete"),
    path("messages/<int:pk>/signaler/", views.post_report, name="post_report"),
    path("messages/<int:pk>/proposer/", views.post_share, name="post_share"),
    path("messages/<int:pk>/masquer/", views.post_hide, name="post_hide"),
    path("messages/<int:pk>/retablir/", views.post_restore, name="post_restore"),
    path("messages/<int:pk>/classer/", views.reports_dismiss, name="reports_dismiss"),
]
