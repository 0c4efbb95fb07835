from __future__ import annotations

from allauth.account.decorators import secure_admin_login
from django.contrib import admin
from django.urls import include, path

from campus import import_views, views

# The admin login goes through allauth, so its rate limits and login flows apply there too.
admin.site.login = secure_admin_login(admin.site.login)  # type: ignore[method-assign]
admin.site.site_header = "Campus · administration"
admin.site.site_title = "Campus"
admin.site.index_title = "Administration RH"

urlpatterns = [
    path("", views.home, name="home"),
    path("taches/<str:job_id>/", views.job_status, name="job_status"),
    path("annuaire/import/", import_views.people_import, name="people_import"),
    path(
        "annuaire/import/modele.csv",
        import_views.people_import_template,
        name="people_import_template",
    ),
    path(
        "annuaire/import/<str:job_id>/rapport.csv",
        import_views.import_report,
        name="people_import_report",
    ),
    path("accessibilite/", views.accessibility, name="accessibility"),
    path("confidentialite/", views.privacy, name="privacy"),
    path("healthz", views.healthz, name="healthz"),
    path("favicon.ico", views.favicon),
    path("comptes/", include("allauth.urls")),
    path("admin/", admin.site.urls),
    path("autodiagnostic/", include("selfdiag.urls")),
    path("feedback-180/", include("feedback180.urls")),
    path("mallette/", include("mallette.urls")),
    path("coach/", include("coach.urls")),
    path("boosts/", include("boosts.urls")),
    path("communautes/", include("communities.urls")),
    path("analyses/", include("campus.analytics.urls")),
]
