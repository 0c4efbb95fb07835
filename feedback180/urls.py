from __future__ import annotations

from django.urls import path

from feedback180 import views

app_name = "feedback180"

urlpatterns = [
    path("", views.index, name="index"),
    path("nouvelle/", views.campaign_create, name="create"),
    path("campagnes/<int:pk>/", views.campaign_detail, name="campaign"),
    path("campagnes/<int:pk>/preparer/", views.campaign_edit, name="edit"),
    path("campagnes/<int:pk>/autoevaluation/", views.campaign_self, name="self"),
    path("campagnes/<int:pk>/ouvrir/", views.campaign_open, name="open"),
    path("campagnes/<int:pk>/cloturer/", views.campaign_close, name="close"),
    path("campagnes/<int:pk>/debrief/", views.debrief, name="debrief"),
    path("campagnes/<int:pk>/debrief/reflexion/", views.reflection_save, name="reflection"),
    path("campagnes/<int:pk>/debrief/plan/", views.plan_add, name="plan_add"),
    path("campagnes/<int:pk>/debrief/partager/", views.summary_share, name="share"),
    path("repondre/<str:token>/", views.respond, name="respond"),
    path("merci/", views.thanks, name="thanks"),
    path("rh/", views.hr, name="hr"),
]
