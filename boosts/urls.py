from __future__ import annotations

from django.urls import path

from boosts import views

app_name = "boosts"

urlpatterns = [
    path("", views.index, name="index"),
    path("<int:pk>/", views.detail, name="detail"),
    path("<int:pk>/register/", views.register, name="register"),
    path("<int:pk>/unregister/", views.unregister, name="unregister"),
    path("<int:pk>/boost.ics", views.boost_ics, name="ics"),
    path("<int:pk>/satisfaction/", views.satisfaction, name="satisfaction"),
    path("calendar/", views.calendar, name="calendar"),
    path("calendar/<str:token>.ics", views.calendar_feed, name="calendar_feed"),
    path("checkin/", views.checkin, name="checkin"),
    # Live room
    path("<int:pk>/live/", views.live, name="live"),
    path("<int:pk>/live/updates/", views.live_updates, name="live_updates"),
    path("<int:pk>/live/questions/", views.live_questions, name="live_questions"),
    path("<int:pk>/live/poll/", views.live_poll, name="live_poll"),
    path("<int:pk>/live/ask/", views.question_ask, name="ask"),
    path("questions/<int:pk>/vote/", views.question_vote, name="vote"),
    path("questions/<int:pk>/moderate/", views.question_moderate, name="moderate"),
    path("polls/<int:pk>/answer/", views.poll_answer, name="poll_answer"),
    path("polls/<int:pk>/control/", views.poll_control, name="poll_control"),
    # Host and HR
    path("host/", views.host_index, name="host"),
    path("new/", views.boost_create, name="create"),
    path("<int:pk>/duplicate/", views.boost_duplicate, name="duplicate"),
    path("<int:pk>/edit/", views.boost_edit, name="edit"),
    path("<int:pk>/cancel/", views.boost_cancel, name="cancel"),
    path("<int:pk>/manage/", views.manage, name="manage"),
    path("<int:pk>/polls/new/", views.poll_create, name="poll_create"),
    path("<int:pk>/export.<str:fmt>", views.export, name="export"),
    path("stats/", views.stats, name="stats"),
]
