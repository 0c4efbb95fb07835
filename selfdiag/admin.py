"""HR admins edit questionnaires here. A version that already has diagnoses is read-only: the
"new version" action copies it into an editable draft, so past results never change."""

from __future__ import annotations

from typing import Any

from django.contrib import admin, messages
from django.db.models import QuerySet
from django.http import HttpRequest
from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext

from selfdiag import services
from selfdiag.models import (
    Competency,
    Item,
    OpenQuestion,
    Questionnaire,
    QuestionnaireStatus,
)


def _locked(obj: Any) -> bool:
    questionnaire = getattr(obj, "questionnaire", obj)
    if isinstance(obj, Item):
        questionnaire = obj.competency.questionnaire
    return (
        questionnaire is not None
        and questionnaire.pk is not None
        and (services.questionnaire_is_locked(questionnaire))
    )


class LockedMixin:
    """Read-only once the questionnaire has diagnoses."""

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        if obj is not None and _locked(obj):
            return False
        return super().has_change_permission(request, obj)  # type: ignore[misc]

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        if obj is not None and _locked(obj):
            return False
        return super().has_delete_permission(request, obj)  # type: ignore[misc]


class LockedInlineMixin(LockedMixin):
    def has_add_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        if obj is not None and _locked(obj):
            return False
        return super().has_add_permission(request, obj)  # type: ignore[misc]


class CompetencyInline(LockedInlineMixin, admin.TabularInline):
    model = Competency
    fields = ["position", "code", "label", "short_label", "themes"]
    extra = 0
    show_change_link = True


class OpenQuestionInline(LockedInlineMixin, admin.TabularInline):
    model = OpenQuestion
    fields = ["position", "text", "help_text"]
    extra = 0


class ItemInline(LockedInlineMixin, admin.TabularInline):
    model = Item
    fields = ["position", "text", "reverse_scored"]
    extra = 0


@admin.register(Questionnaire)
class QuestionnaireAdmin(LockedMixin, admin.ModelAdmin):
    list_display = ["title", "version", "organisation", "status", "published_at"]
    list_filter = ["status", "organisation"]
    readonly_fields = ["status", "published_at", "version"]
    fields = [
        "organisation",
        "title",
        "version",
        "status",
        "published_at",
        "intro",
        "scale_label_1",
        "scale_label_2",
        "scale_label_3",
        "scale_label_4",
        "scale_label_5",
    ]
    inlines = [CompetencyInline, OpenQuestionInline]
    actions = ["new_version", "publish"]

    def save_model(self, request: HttpRequest, obj: Questionnaire, form: Any, change: bool) -> None:
        if not change:
            last = (
                Questionnaire.objects.filter(organisation_id=obj.organisation_id)
                .order_by("-version")
                .first()
            )
            obj.version = (last.version if last else 0) + 1
        super().save_model(request, obj, form, change)

    @admin.action(description=_("Créer une nouvelle version modifiable"))
    def new_version(self, request: HttpRequest, queryset: QuerySet[Questionnaire]) -> None:
        for questionnaire in queryset:
            copy = services.questionnaire_new_version(questionnaire=questionnaire)
            self.message_user(
                request,
                _("Version %(version)d créée en brouillon : modifiez-la puis publiez-la.")
                % {"version": copy.version},
                messages.SUCCESS,
            )

    @admin.action(description=_("Publier (les nouveaux diagnostics utiliseront cette version)"))
    def publish(self, request: HttpRequest, queryset: QuerySet[Questionnaire]) -> None:
        count = 0
        for questionnaire in queryset.exclude(status=QuestionnaireStatus.PUBLISHED):
            services.questionnaire_publish(questionnaire=questionnaire)
            count += 1
        self.message_user(
            request,
            ngettext("%(count)d questionnaire publié.", "%(count)d questionnaires publiés.", count)
            % {"count": count},
            messages.SUCCESS,
        )


@admin.register(Competency)
class CompetencyAdmin(LockedMixin, admin.ModelAdmin):
    list_display = ["label", "code", "questionnaire", "position"]
    list_filter = ["questionnaire"]
    list_select_related = ["questionnaire"]
    filter_horizontal = ["themes"]
    inlines = [ItemInline]
