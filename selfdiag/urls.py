from __future__ import annotations

from django.urls import path

from selfdiag import views

app_name = "selfdiag"

urlpatterns = [
    path("", views.index, name="index"),
    path("commencer/", views.start, name="start"),
    path("diagnostic/<int:pk>/etape/<int:step>/", views.step, name="step"),
    path("diagnostic/<int:pk>/enregistrer/", views.autosave, name="autosave"),
    path("diagnostic/<int:pk>/", views.result, name="result"),
    path("diagnostic/<int:pk>/pdf/", views.result_pdf, name="result_pdf"),
    path("historique/", views.history, name="history"),
    path("plan/", views.plan, name="plan"),
    path("plan/ajouter/", views.plan_add, name="plan_add"),
    path("plan/<int:pk>/modifier/", views.plan_edit, name="plan_edit"),
    path("plan/<int:pk>/supprimer/", views.plan_delete, name="plan_delete"),
    path("statistiques/", views.analytics, name="analytics"),
]
