from __future__ import annotations

from django.contrib import admin
from django.db.models import F, QuerySet
from django.http import HttpRequest
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from mallette.models import (
    Comment,
    Mention,
    MentionWatermark,
    Practice,
    PracticeStatus,
    PracticeUse,
    Theme,
    UnmatchedText,
)


@admin.register(Theme)
class ThemeAdmin(admin.ModelAdmin):
    """HR admins may relabel a theme; its slug is fixed (it names the theme everywhere)."""

    list_display = ["label", "slug", "position"]
    list_editable = ["position"]
    readonly_fields = ["slug"]
    search_fields = ["label", "slug"]

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Theme | None = None) -> bool:
        return False


@admin.register(Practice)
class PracticeAdmin(admin.ModelAdmin):
    list_display = [
        "title",
        "primary_theme",
        "status",
        "level",
        "source",
        "organisation",
        "organism",
        "updated_at",
    ]
    list_filter = ["status", "source", "level", "primary_theme", "themes", "organisation"]
    search_fields = ["title", "summary", "slug", "tags"]
    list_select_related = ["primary_theme", "organisation", "organism"]
    autocomplete_fields = ["organism", "author", "moderated_by", "merged_into"]
    filter_horizontal = ["themes"]
    prepopulated_fields = {"slug": ["title"]}
    readonly_fields = [
        "created_at",
        "updated_at",
        "published_at",
        "revision",
        "indexed_revision",
        "embedding_model",
    ]
    actions = ["publish", "archive"]
    show_full_result_count = False
    fieldsets = (
        (None, {"fields": ("title", "slug", "summary", "situation", "body", "pitfalls")}),
        (_("Classement"), {"fields": ("primary_theme", "themes", "tags", "level")}),
        (
            _("Portée et origine"),
            {"fields": ("organisation", "organism", "source", "author", "anonymous", "status")},
        ),
        (
            _("Modération"),
            {"fields": ("moderated_by", "moderated_at", "rejection_reason", "merged_into")},
        ),
        (
            _("Suivi"),
            {
                "fields": (
                    "created_at",
                    "updated_at",
                    "published_at",
                    "revision",
                    "indexed_revision",
                    "embedding_model",
                )
            },
        ),
    )

    def save_model(self, request: HttpRequest, obj: Practice, form, change: bool) -> None:  # type: ignore[no-untyped-def]
        # A text change must reach the search index (the beat job re-indexes stale rows).
        if change and set(form.changed_data) & {
            "title",
            "summary",
            "situation",
            "body",
            "pitfalls",
        }:
            obj.revision += 1
        if obj.status == PracticeStatus.PUBLISHED and obj.published_at is None:
            obj.published_at = timezone.now()
        super().save_model(request, obj, form, change)

    @admin.action(description=_("Publier les pratiques sélectionnées"))
    def publish(self, request: HttpRequest, queryset: QuerySet[Practice]) -> None:
        queryset.filter(published_at__isnull=True).update(published_at=timezone.now())
        count = queryset.update(status=PracticeStatus.PUBLISHED, revision=F("revision") + 1)
        self.message_user(request, _("%(n)d pratique(s) publiée(s).") % {"n": count})

    @admin.action(description=_("Archiver les pratiques sélectionnées"))
    def archive(self, request: HttpRequest, queryset: QuerySet[Practice]) -> None:
        count = queryset.update(status=PracticeStatus.ARCHIVED)
        self.message_user(request, _("%(n)d pratique(s) archivée(s).") % {"n": count})


@admin.register(PracticeUse)
class PracticeUseAdmin(admin.ModelAdmin):
    """Read-only: the marks are the managers' own, made from the practice page."""

    list_display = ["practice", "user", "kind", "created_at"]
    list_filter = ["kind"]
    list_select_related = ["practice", "user"]
    search_fields = ["practice__title", "user__email"]
    date_hierarchy = "created_at"

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: PracticeUse | None = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: PracticeUse | None = None) -> bool:
        return False


class ReadOnlyAdmin(admin.ModelAdmin):
    """Rows written by the detection job: browsable, never edited by hand."""

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: object = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: object = None) -> bool:
        return False


@admin.register(Mention)
class MentionAdmin(ReadOnlyAdmin):
    list_display = ["practice", "organisation", "organism", "source", "day", "similarity"]
    list_filter = ["source", "day", "organisation"]
    list_select_related = ["practice", "organisation", "organism"]
    search_fields = ["practice__title", "source_ref"]
    date_hierarchy = "day"
    show_full_result_count = False


@admin.register(UnmatchedText)
class UnmatchedTextAdmin(ReadOnlyAdmin):
    """Texts no practice answered (kept as vectors only) and the proposal they led to."""

    list_display = ["source_ref", "organisation", "source", "day", "similarity", "proposal"]
    list_filter = ["source", "day"]
    list_select_related = ["organisation", "proposal"]
    exclude = ["embedding", "author_key"]
    show_full_result_count = False


@admin.register(MentionWatermark)
class MentionWatermarkAdmin(ReadOnlyAdmin):
    list_display = ["source", "last_created_at", "last_key", "updated_at"]

    def has_delete_permission(self, request: HttpRequest, obj: object = None) -> bool:
        # Deleting a watermark makes the next run re-read the source (mentions stay unique).
        return bool(request.user.is_superuser)


@admin.register(Comment)
class CommentAdmin(admin.ModelAdmin):
    list_display = ["practice", "author", "organisation", "created_at", "hidden"]
    list_filter = ["hidden", "organisation"]
    list_select_related = ["practice", "author", "organisation"]
    search_fields = ["body", "practice__title", "author__email"]
    date_hierarchy = "created_at"
    readonly_fields = [
        "practice",
        "organisation",
        "author",
        "body",
        "created_at",
        "edited_at",
        "hidden_by",
        "hidden_at",
    ]
    fields = [*readonly_fields[:4], "hidden", *readonly_fields[4:]]
    actions = ["hide", "unhide"]
    show_full_result_count = False

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def save_model(self, request: HttpRequest, obj: Comment, form, change: bool) -> None:  # type: ignore[no-untyped-def]
        if "hidden" in form.changed_data:
            obj.hidden_by = request.user if obj.hidden else None
            obj.hidden_at = timezone.now() if obj.hidden else None
        super().save_model(request, obj, form, change)

    @admin.action(description=_("Masquer les commentaires sélectionnés"))
    def hide(self, request: HttpRequest, queryset: QuerySet[Comment]) -> None:
        count = queryset.update(hidden=True, hidden_by=request.user, hidden_at=timezone.now())
        self.message_user(request, _("%(n)d commentaire(s) masqué(s).") % {"n": count})

    @admin.action(description=_("Rendre visibles les commentaires sélectionnés"))
    def unhide(self, request: HttpRequest, queryset: QuerySet[Comment]) -> None:
        count = queryset.update(hidden=False, hidden_by=None, hidden_at=None)
        self.message_user(request, _("%(n)d commentaire(s) rendu(s) visible(s).") % {"n": count})
