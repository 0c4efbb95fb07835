from __future__ import annotations

from django import forms
from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.files.uploadedfile import UploadedFile
from django.template.defaultfilters import filesizeformat
from django.utils.translation import gettext_lazy as _

from campus.people_import import ImportFileError, file_too_large_message, import_file_kind

# Enough to recognise the format and read the header line of a CSV.
_SNIFF_BYTES = 64 * 1024


class PeopleImportForm(forms.Form):
    """Upload of the people and teams file. The full check runs in the import job; the form
    catches what it can see at once (size, format, encoding, header) to answer immediately."""

    file = forms.FileField(
        label=_("Fichier à importer"),
        error_messages={
            "required": _("Choisissez le fichier à importer (CSV ou Excel .xlsx)."),
            "empty": _("Le fichier est vide : il doit contenir une ligne d’en-têtes."),
            "invalid": _("Ce fichier n’a pas pu être reçu : déposez-le à nouveau."),
            "missing": _("Aucun fichier n’a été reçu : déposez-le à nouveau."),
        },
    )
    dry_run = forms.BooleanField(
        label=_("Vérifier seulement (ne rien importer)"),
        required=False,
        help_text=_("Le fichier est contrôlé et le rapport produit, mais rien n’est enregistré."),
    )

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.fields["file"].help_text = _(
            "CSV en UTF-8 (séparateur « ; » ou « , ») ou classeur Excel .xlsx, %(limit)s au plus."
        ) % {"limit": filesizeformat(settings.CAMPUS_IMPORT_MAX_BYTES)}
        self.fields["file"].widget.attrs["accept"] = (
            ".csv,.xlsx,text/csv,application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
        )
        self.file_kind = ""

    def clean_file(self) -> UploadedFile:
        uploaded: UploadedFile = self.cleaned_data["file"]
        # The size is known before reading anything: a huge upload is refused unread.
        if uploaded.size is not None and uploaded.size > settings.CAMPUS_IMPORT_MAX_BYTES:
            raise ValidationError(file_too_large_message(uploaded.size), code="too_large")
        uploaded.seek(0)
        head = uploaded.read(_SNIFF_BYTES)
        uploaded.seek(0)
        try:
            self.file_kind = import_file_kind(head, complete=len(head) < _SNIFF_BYTES)
        except ImportFileError as exc:
            raise ValidationError(exc.message, code="invalid_content") from None
        return uploaded
