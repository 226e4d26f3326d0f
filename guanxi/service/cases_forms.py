"""Forms of the case pages. They only collect input: the case services validate it (every
bad field at once) and their errors are put back on the fields by ``add_errors``."""

from __future__ import annotations

from django import forms
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from guanxi.common.errors import ApplicationError
from guanxi.customers.models import Account, Contact
from guanxi.platform.models import User
from guanxi.sales.models import Order, Product

from .models import CasePriority, CaseStatus, CaseType, CaseTypeKind, Queue
from .services import case_types


def add_errors(form: forms.Form, exc: ApplicationError) -> None:
    """Show a service's error on the form: on its fields, else above them."""
    placed = False
    for name, messages in exc.fields.items():
        # Hidden fields (the lock version) show their errors above the form.
        shown = name in form.fields and not form.fields[name].widget.is_hidden
        target = name if shown else None
        for message in messages:
            form.add_error(target, str(message))
            placed = True
    if not placed:
        form.add_error(None, str(exc.message))


def _users(workspace) -> list[tuple]:
    return [
        (u.pk, u.full_name or u.email)
        for u in User.objects.filter(workspace=workspace, is_active=True).order_by("full_name")
    ]


def _queues(workspace) -> list[tuple]:
    return [
        (q.pk, q.name)
        for q in Queue.objects.in_workspace(workspace).filter(active=True).order_by("name")
    ]


def category_choices(workspace, actor, *, current=None) -> list[tuple]:
    rows = case_types.case_category_list(actor=actor, workspace=workspace)
    out = []
    for row, depth in case_types.categories_as_tree(rows):
        if not row.active and row.pk != current:
            continue
        out.append((row.pk, ("— " if depth else "") + row.name))
    return out


def type_choices(workspace, actor, *, current=None) -> list[tuple]:
    return [
        (t.pk, t.name)
        for t in case_types.case_type_list(actor=actor, workspace=workspace)
        if t.active or t.pk == current
    ]


class CaseForm(forms.Form):
    """A new case (an agent, often on the phone) or a change to one."""

    account = forms.CharField(
        label=_("Account"),
        required=False,
        widget=forms.Select(attrs={"data-picker": "account"}),
    )
    contact = forms.CharField(
        label=_("Contact"),
        required=False,
        widget=forms.Select(attrs={"data-picker": "contact"}),
    )
    case_type = forms.ChoiceField(label=_("Type"), required=False)
    category = forms.ChoiceField(label=_("Category"), required=False)
    priority = forms.ChoiceField(
        label=_("Priority"), choices=CasePriority.choices, initial=CasePriority.NORMAL
    )
    subject = forms.CharField(label=_("Subject"), max_length=200, required=False)
    description = forms.CharField(
        label=_("Description"), required=False, widget=forms.Textarea({"rows": 5})
    )
    product = forms.CharField(
        label=_("Product"), required=False, widget=forms.Select(attrs={"data-picker": "product"})
    )
    order = forms.CharField(
        label=pgettext_lazy("sales order", "Order"),
        required=False,
        widget=forms.Select(attrs={"data-picker": "order"}),
    )
    reply_phone = forms.CharField(
        label=_("Reply phone"),
        required=False,
        max_length=40,
        widget=forms.TextInput({"type": "tel"}),
        help_text=_("Where to answer when the caller is not a known customer."),
    )
    reply_email = forms.CharField(
        label=_("Reply e-mail"), required=False, max_length=254, widget=forms.EmailInput()
    )
    assignee = forms.ChoiceField(label=_("Assignee"), required=False)
    queue = forms.ChoiceField(label=_("Queue"), required=False)
    lock_version = forms.IntegerField(required=False, widget=forms.HiddenInput())

    PICKERS = (
        ("account", Account, "name"),
        ("contact", Contact, "name"),
        ("product", Product, "name"),
        ("order", Order, "number"),
    )

    def __init__(self, *args, workspace, actor, case=None, **kwargs):
        super().__init__(*args, **kwargs)
        self.case = case
        self.fields["case_type"].choices = [
            ("", _("— choose —")),
            *type_choices(workspace, actor, current=case.case_type_id if case else None),
        ]
        self.fields["category"].choices = [
            ("", _("— none —")),
            *category_choices(workspace, actor, current=case.category_id if case else None),
        ]
        if case is None:
            self.fields["assignee"].choices = [
                ("", _("Automatic (the queues decide)")),
                ("me", _("Me")),
                *_users(workspace),
            ]
            self.fields["queue"].choices = [("", _("— automatic —")), *_queues(workspace)]
            del self.fields["lock_version"]
        else:
            del self.fields["assignee"]
            del self.fields["queue"]
        # The pickers start with the chosen record (preset, or the case's) and fill by search.
        for name, model, label in self.PICKERS:
            chosen = self.data.get(name) if self.is_bound else self.initial.get(name)
            options = [("", _("— none —"))]
            if chosen and str(chosen).isdigit():
                row = (
                    model.objects.in_workspace(workspace)
                    .filter(pk=int(chosen))
                    .only("id", label)
                    .first()
                )
                if row is not None:
                    options.append((row.pk, getattr(row, label)))
            self.fields[name].widget.choices = options

    def values(self, actor) -> dict:
        """The case's values for ``case_create``/``case_update``."""
        data = dict(self.cleaned_data)
        data.pop("lock_version", None)
        out = {k: (v if v != "" else None) for k, v in data.items()}
        for name in ("subject", "description", "reply_phone", "reply_email"):
            out[name] = data.get(name, "")
        if out.get("assignee") == "me":
            out["assignee"] = actor.pk
        return out


class ReplyForm(forms.Form):
    body = forms.CharField(
        label=_("Message"), widget=forms.Textarea({"rows": 4}), required=False, max_length=20_000
    )
    internal = forms.BooleanField(label=_("Internal note (not sent)"), required=False)
    lock_version = forms.IntegerField(required=False, widget=forms.HiddenInput())


class StatusForm(forms.Form):
    status = forms.ChoiceField(choices=CaseStatus.choices)
    resolution = forms.CharField(
        label=_("Resolution"), required=False, widget=forms.Textarea({"rows": 3})
    )
    lock_version = forms.IntegerField(required=False, widget=forms.HiddenInput())


class AssignForm(forms.Form):
    assignee = forms.ChoiceField(label=_("Assignee"), required=False)
    queue = forms.ChoiceField(label=_("Queue"), required=False)
    lock_version = forms.IntegerField(required=False, widget=forms.HiddenInput())

    def __init__(self, *args, workspace, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["assignee"].choices = [("", _("— nobody —")), *_users(workspace)]
        self.fields["queue"].choices = [("", _("— no queue —")), *_queues(workspace)]


class CaseTypeForm(forms.Form):
    name = forms.CharField(label=_("Name"), max_length=80, required=False)
    kind = forms.ChoiceField(label=_("Kind"), choices=CaseTypeKind.choices)
    position = forms.IntegerField(label=_("Position"), required=False, min_value=0)
    active = forms.BooleanField(label=_("Active"), required=False, initial=True)

    @classmethod
    def for_row(cls, row: CaseType, data=None):
        return cls(
            data,
            initial={
                "name": row.name,
                "kind": row.kind,
                "position": row.position,
                "active": row.active,
            },
        )


class CategoryForm(forms.Form):
    name = forms.CharField(label=_("Name"), max_length=80, required=False)
    parent = forms.ChoiceField(label=_("Under"), required=False)
    queue = forms.ChoiceField(label=_("Queue for its cases"), required=False)
    active = forms.BooleanField(label=_("Active"), required=False, initial=True)

    def __init__(self, *args, workspace, actor, exclude=None, **kwargs):
        super().__init__(*args, **kwargs)
        tops = [
            (row.pk, row.name)
            for row, depth in case_types.categories_as_tree(
                case_types.case_category_list(actor=actor, workspace=workspace)
            )
            if depth == 0 and row.pk != exclude
        ]
        self.fields["parent"].choices = [("", _("— top level —")), *tops]
        self.fields["queue"].choices = [("", _("— none —")), *_queues(workspace)]

    def values(self) -> dict:
        data = dict(self.cleaned_data)
        for name in ("parent", "queue"):
            data[name] = data.get(name) or None
        return data
