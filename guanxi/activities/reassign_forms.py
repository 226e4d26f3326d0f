"""The form of the reassignment page. It only collects the choices; ``reassign_start``
validates them (and its errors land back on these fields)."""

from __future__ import annotations

from django import forms
from django.utils.translation import gettext_lazy as _

from guanxi.platform.forms import ServiceForm

from .selectors import reassign as selectors
from .services import reassign as service


class ReassignForm(ServiceForm):
    with_custom_fields = False

    mode = forms.ChoiceField(
        label=_("Give the work to"),
        widget=forms.RadioSelect,
        initial=service.MODE_ONE,
        choices=[
            (service.MODE_ONE, _("One person")),
            (service.MODE_TEAM, _("A team, spread by load")),
            (service.MODE_POOL, _("The customer pool")),
        ],
    )
    to_user = forms.ChoiceField(
        label=_("Person"), required=False, help_text=_("When giving everything to one person.")
    )
    team = forms.ChoiceField(
        label=_("Team"),
        required=False,
        help_text=_(
            "Each customer goes, with its contacts, tasks and commitments, to the active "
            "member who holds the fewest customers."
        ),
    )
    tasks_to_user = forms.ChoiceField(
        label=_("Open tasks and commitments go to"),
        required=False,
        help_text=_("When the customers go back to the pool. Empty: you."),
    )
    include = forms.MultipleChoiceField(
        label=_("Reassign"),
        widget=forms.CheckboxSelectMultiple,
        initial=list(service.INCLUDE_ALL),
        choices=[
            (service.CUSTOMERS, _("Customers (accounts and contacts)")),
            (service.TASKS, _("Open tasks, visits included")),
            (service.COMMITMENTS, _("Open commitments")),
        ],
    )
    deactivate = forms.BooleanField(
        label=_("Deactivate the person once everything has moved"), required=False
    )

    def __init__(self, *args, from_user, **kwargs):
        super().__init__(*args, **kwargs)
        people = [("", "—")] + [
            (str(u.pk), u.full_name)
            for u in selectors.target_users(
                workspace=self.workspace, actor=self.actor, exclude_id=from_user.pk
            )
        ]
        self.fields["to_user"].choices = people
        self.fields["tasks_to_user"].choices = people
        self.fields["team"].choices = [("", "—")] + [
            (str(t.pk), t.name)
            for t in selectors.target_teams(workspace=self.workspace, actor=self.actor)
        ]
        if not self.actor.role.is_admin:
            del self.fields["deactivate"]

    def service_kwargs(self) -> dict:
        data = self.cleaned_data
        return {
            "mode": data["mode"],
            "to_user_id": data.get("to_user") or None,
            "team_id": data.get("team") or None,
            "tasks_to_user_id": data.get("tasks_to_user") or None,
            "include": data.get("include") or [],
            "deactivate": bool(data.get("deactivate")),
        }
