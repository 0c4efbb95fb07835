from __future__ import annotations

from datetime import datetime, time
from typing import Any

from django import forms
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from boosts.models import Boost, BoostFormat, PollKind
from campus.models import Branch, Level, Organism, User
from communities.models import Group
from mallette.models import Theme


class CommunityChoiceField(forms.ModelMultipleChoiceField):
    def label_from_instance(self, obj: Group) -> str:
        if obj.is_open:
            return obj.name
        return _("%(name)s (sur invitation)") % {"name": obj.name}


class BoostForm(forms.ModelForm):
    """Create or edit a boost. Date and time are typed in Europe/Paris wall-clock time."""

    day = forms.DateField(label=_("Date"), widget=forms.DateInput(attrs={"type": "date"}))
    start_time = forms.TimeField(
        label=_("Heure de début (heure de Paris)"),
        widget=forms.TimeInput(attrs={"type": "time"}, format="%H:%M"),
    )
    audience_branches = forms.ModelMultipleChoiceField(
        label=_("Branches"),
        queryset=Branch.objects.none(),
        required=False,
        widget=forms.CheckboxSelectMultiple,
        help_text=_("Aucune case cochée : toutes les branches."),
    )
    audience_organisms = forms.ModelMultipleChoiceField(
        label=_("Organismes"),
        queryset=Organism.objects.none(),
        required=False,
        help_text=_("Aucun organisme choisi : tous les organismes."),
    )
    audience_communities = CommunityChoiceField(
        label=_("Communautés"),
        queryset=Group.objects.none(),
        required=False,
        widget=forms.CheckboxSelectMultiple,
        help_text=_(
            "Réservé aux membres des groupes cochés (les invitations en attente ne comptent "
            "pas). Aucune case cochée : pas de condition de communauté."
        ),
        error_messages={
            "invalid_choice": _(
                "Ce groupe n’est pas proposé : choisissez une communauté de votre organisation "
                "que vous pouvez voir."
            ),
            "invalid_pk_value": _("« %(pk)s » ne désigne pas une communauté."),
        },
    )
    audience_levels = forms.MultipleChoiceField(
        label=_("Niveaux managériaux"),
        choices=Level.choices,
        required=False,
        widget=forms.CheckboxSelectMultiple,
        help_text=_("Aucune case cochée : tous les niveaux."),
    )
    meeting_url = forms.URLField(
        label=_("Lien de la réunion en ligne"),
        required=False,
        assume_scheme="https",
        max_length=500,
        help_text=_("Teams ou autre outil de visioconférence."),
    )
    replay_url = forms.URLField(
        label=_("Lien du replay"), required=False, assume_scheme="https", max_length=500
    )
    repeat = forms.ChoiceField(
        label=_("Répétition"),
        required=False,
        choices=[
            ("", _("Séance unique")),
            ("weekly", _("Chaque semaine")),
            ("monthly", _("Chaque mois")),
        ],
    )
    count = forms.IntegerField(
        label=_("Nombre de séances"), min_value=1, max_value=24, initial=1, required=False
    )

    class Meta:
        model = Boost
        fields = [
            "title",
            "description",
            "themes",
            "host",
            "duration_minutes",
            "format",
            "meeting_url",
            "room",
            "capacity",
            "resources",
            "replay_url",
            "followup_practice",
            "followup_question",
        ]
        widgets = {
            "themes": forms.CheckboxSelectMultiple,
            "description": forms.Textarea(attrs={"rows": 5}),
            "resources": forms.Textarea(attrs={"rows": 3}),
        }

    def __init__(self, *args: Any, user: User, series: bool = True, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.user = user
        org = user.organisation_id
        self.fields["themes"].queryset = Theme.objects.all()
        if user.is_hr_admin:
            self.fields["host"].queryset = User.objects.filter(
                organisation_id=org, is_active=True, roles__overlap=["boost_host", "hr_admin"]
            )
            self.fields["host"].initial = user.pk
        else:
            del self.fields["host"]  # a host creates and edits their own boosts
        self.fields["audience_branches"].queryset = Branch.objects.filter(organisation_id=org)
        self.fields["audience_organisms"].queryset = Organism.objects.filter(organisation_id=org)
        self._communities_init(org)
        from mallette.selectors import practices_visible_to

        self.fields["followup_practice"].queryset = practices_visible_to(user).order_by("title")
        self.fields["followup_practice"].required = False
        if not series:
            del self.fields["repeat"]
            del self.fields["count"]
        instance = self.instance
        if instance.pk or instance.starts_at:
            local = timezone.localtime(instance.starts_at)
            self.initial.setdefault("day", local.date())
            self.initial.setdefault("start_time", local.time().replace(second=0, microsecond=0))
            self.initial.setdefault("audience_levels", instance.audience_levels)
            self.initial.setdefault("audience_branches", instance.audience_branch_ids)
            self.initial.setdefault("audience_organisms", instance.audience_organism_ids)

    def _communities_init(self, org: int) -> None:
        """Offer the groups the user may see (communities/selectors.py: open ones, closed
        ones they belong to). Groups already in the audience that they may not see (a closed
        group chosen by another host) are neither shown nor dropped: dropping them would
        silently widen the audience. ``kept_communities`` holds them for ``service_data``."""
        from communities.selectors import groups_visible_to

        visible = groups_visible_to(self.user)
        self.fields["audience_communities"].queryset = visible.order_by("name")
        chosen = self.initial.get("audience_communities")
        if chosen is None and self.instance.pk:
            chosen = list(self.instance.audience_communities.all())
        self.kept_communities: list[Group] = []
        if chosen:
            ids = {g.pk if isinstance(g, Group) else int(g) for g in chosen}
            seen = set(visible.filter(pk__in=ids).values_list("pk", flat=True))
            self.initial["audience_communities"] = sorted(seen)
            self.kept_communities = list(
                Group.objects.filter(organisation_id=org, pk__in=ids - seen).order_by("pk")
            )

    def clean(self) -> dict[str, Any]:
        data = super().clean()
        day, start = data.get("day"), data.get("start_time")
        if day and start:
            naive = datetime.combine(day, time(start.hour, start.minute))
            data["starts_at"] = timezone.make_aware(naive, timezone.get_current_timezone())
            if not self.instance.pk and data["starts_at"] < timezone.now():
                self.add_error("day", _("Choisissez une date à venir."))
        fmt = data.get("format")
        if fmt in (BoostFormat.ONLINE, BoostFormat.HYBRID) and not data.get("meeting_url"):
            self.add_error("meeting_url", _("Indiquez le lien de la réunion en ligne."))
        if fmt in (BoostFormat.ONSITE, BoostFormat.HYBRID) and not data.get("room"):
            self.add_error("room", _("Indiquez la salle."))
        if data.get("repeat") and (data.get("count") or 1) < 2:
            self.add_error("count", _("Une série compte au moins deux séances."))
        return data

    def service_data(self) -> dict[str, Any]:
        data = dict(self.cleaned_data)
        for name in ("day", "start_time"):
            data.pop(name, None)
        data["audience_levels"] = list(data.get("audience_levels") or [])
        data["audience_branches"] = list(data.get("audience_branches") or [])
        data["audience_organisms"] = list(data.get("audience_organisms") or [])
        # Ids under their own key, written with ``boost.audience_communities.set()`` by the
        # services (like ``themes``): a many-to-many cannot be assigned as an attribute.
        chosen = data.pop("audience_communities", None) or []
        data["audience_community_ids"] = sorted(
            {g.pk for g in chosen} | {g.pk for g in self.kept_communities}
        )
        data["followup_question"] = data.get("followup_question") or ""
        if "host" not in self.fields:
            data["host"] = self.instance.host if self.instance.host_id else self.user
        return data


class FilterForm(forms.Form):
    when = forms.ChoiceField(
        label=_("Période"),
        required=False,
        choices=[("", _("À venir")), ("past", _("Passés")), ("mine", _("Mes inscriptions"))],
    )
    theme = forms.ChoiceField(label=_("Thème"), required=False)
    format = forms.ChoiceField(
        label=_("Format"), required=False, choices=[("", _("Tous"))] + list(BoostFormat.choices)
    )
    #: "" (no condition), ``MY_COMMUNITIES`` (any of them) or the id of one of the groups the
    #: user is an active member of. Any other value is refused with a message and ignored.
    community = forms.ChoiceField(
        label=_("Mes communautés"),
        required=False,
        error_messages={
            "invalid_choice": _(
                "Cette communauté ne fait pas partie des vôtres. Le filtre est ignoré : "
                "choisissez l’une de vos communautés dans la liste."
            )
        },
    )

    MY_COMMUNITIES = "mine"

    def __init__(
        self,
        *args: Any,
        themes: list[Theme],
        communities: list[tuple[int, str]] | None = None,
        **kwargs: Any,
    ) -> None:
        super().__init__(*args, **kwargs)
        self.communities = communities or []
        self.fields["theme"].choices = [("", _("Tous les thèmes"))] + [
            (t.slug, t.label) for t in themes
        ]
        for name in ("when", "theme", "format"):
            # Django's message repeats the value typed in the address: say it without.
            field = self.fields[name]
            field.error_messages = {
                **field.error_messages,
                "invalid_choice": _("Ce choix n’existe pas : le filtre est ignoré."),
            }
        choices: list[Any] = [
            ("", _("Tous les boosts")),
            (self.MY_COMMUNITIES, _("Réservés à mes communautés")),
        ]
        if communities:
            choices.append(
                (_("Une de mes communautés"), [(str(pk), name) for pk, name in communities])
            )
        self.fields["community"].choices = choices

    def community_ids(self) -> list[int] | None:
        """The groups the catalogue is restricted to (None: no restriction). Call after
        ``is_valid()``: an invalid choice is absent from ``cleaned_data``, hence ignored."""
        value = getattr(self, "cleaned_data", {}).get("community") or ""
        if not value:
            return None
        if value == self.MY_COMMUNITIES:
            return [pk for pk, _name in self.communities]
        return [int(value)]


class QuestionForm(forms.Form):
    body = forms.CharField(
        label=_("Votre question"),
        max_length=500,
        widget=forms.Textarea(attrs={"rows": 2}),
        error_messages={
            "required": _("Écrivez votre question."),
            "max_length": _("500 caractères au plus."),
        },
    )


class CheckinForm(forms.Form):
    code = forms.CharField(
        label=_("Code donné par l’animateur"),
        max_length=12,
        error_messages={"required": _("Saisissez le code.")},
    )


class PollForm(forms.Form):
    kind = forms.ChoiceField(label=_("Type de sondage"), choices=PollKind.choices)
    prompt = forms.CharField(label=_("Question"), max_length=300)
    options = forms.CharField(
        label=_("Réponses proposées (une par ligne)"),
        required=False,
        widget=forms.Textarea(attrs={"rows": 4}),
        help_text=_("Inutile pour un nuage de mots."),
    )

    def clean(self) -> dict[str, Any]:
        data = super().clean()
        lines = [line.strip() for line in (data.get("options") or "").splitlines() if line.strip()]
        if data.get("kind") in (PollKind.SINGLE, PollKind.MULTIPLE):
            if len(lines) < 2:
                self.add_error("options", _("Proposez au moins deux réponses, une par ligne."))
            if len(lines) > 10:
                self.add_error("options", _("10 réponses au plus."))
        data["option_lines"] = lines
        return data


SCALE = [(str(i), str(i)) for i in range(1, 6)]


class SatisfactionForm(forms.Form):
    overall = forms.TypedChoiceField(
        label=_("Dans l’ensemble, ce boost vous a-t-il plu ? (1 : pas du tout, 5 : beaucoup)"),
        choices=SCALE,
        coerce=int,
        widget=forms.RadioSelect,
        error_messages={"required": _("Choisissez une note de 1 à 5.")},
    )
    useful = forms.TypedChoiceField(
        label=_("Allez-vous l’utiliser dans votre pratique ? (1 : pas du tout, 5 : certainement)"),
        choices=SCALE,
        coerce=int,
        widget=forms.RadioSelect,
        error_messages={"required": _("Choisissez une note de 1 à 5.")},
    )
    recommend = forms.TypedChoiceField(
        label=_("Le recommanderiez-vous à un ou une collègue ?"),
        choices=[("yes", _("Oui")), ("no", _("Non"))],
        coerce=lambda v: v == "yes",
        widget=forms.RadioSelect,
        error_messages={"required": _("Répondez par oui ou non.")},
    )
