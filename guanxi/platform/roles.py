"""The built-in roles every workspace starts with. Administrators may edit their rights or
add roles of their own; the built-in ones cannot be deleted while users hold them.

Domain apps add their objects' default grants here as they land (and a data migration
extends existing workspaces' roles).
"""

from __future__ import annotations

from dataclasses import dataclass, field

from django.utils.functional import Promise
from django.utils.translation import gettext_lazy as _

from . import registry

ALL = ["create", "read", "update", "delete", "export", "bulk"]
READ = ["read"]


@dataclass(frozen=True)
class RoleSpec:
    code: str
    name: str | Promise
    description: str | Promise
    is_admin: bool = False
    grants: dict[str, tuple[list[str], str]] = field(default_factory=dict)

    def rights(self) -> dict:
        return {
            key: {"actions": sorted(actions), "visibility": visibility}
            for key, (actions, visibility) in self.grants.items()
            if registry.find(key) is not None
        }


_directory = {
    "platform.user": (READ, "all"),
    "platform.team": (READ, "all"),
    "platform.job": (READ, "own"),
}

# Customers: everyone works from one customer database; reps own theirs.
_CUSTOMERS = ("customers.account", "customers.contact")
WORK = ["create", "read", "update", "export"]


def _customers(actions: list[str], visibility: str) -> dict:
    return {key: (actions, visibility) for key in _CUSTOMERS}


# Activities: everyone who sees a customer sees its whole timeline (entries, commitments,
# e-mail); tasks and check-ins are each person's own, their managers see their team's. The
# visibility of entries only decides who sees *private* ones: their author, and managers.
LOG = ["create", "read"]


def _activities(*, work: str, plans: list[str]) -> dict:
    return {
        "activities.entry": (LOG, "own"),
        "activities.commitment": (["create", "read", "update"], "all"),
        "activities.email": (LOG, "all"),
        "activities.task": (WORK, work),
        "activities.checkin": (LOG, work),
        "activities.visit_plan": (plans, "all"),
    }


_ACTIVITIES_MANAGER = {
    key: (ALL, "team_below")
    for key in (
        "activities.entry",
        "activities.commitment",
        "activities.email",
        "activities.task",
        "activities.checkin",
        "activities.visit_plan",
    )
}


# Sales: reps work their own leads, deals, quotes and orders and read the catalogue; managers
# see their teams', approve discounts and set quotas; marketing owns the web forms and sees
# leads; service reads what customers bought. Settings (pipelines, rules, rates) are managers'.
def _sales_rep() -> dict:
    return {
        "sales.lead": (WORK, "own"),
        "sales.deal": (WORK, "own"),
        "sales.quote": (WORK, "own"),
        "sales.quote_approval": (READ, "own"),
        "sales.order": (WORK, "own"),
        "sales.invoice": (WORK, "own"),
        "sales.product": (READ, "all"),
        "sales.price_book": (READ, "all"),
        "sales.quota": (READ, "own"),
        "sales.lead_form": (READ, "all"),
        "sales.configuration": (READ, "all"),
        "analytics.customer_value": (READ, "all"),
    }


_SALES_MANAGER = {
    **{
        key: (ALL, "team_below")
        for key in (
            "sales.lead",
            "sales.deal",
            "sales.quote",
            "sales.order",
            "sales.invoice",
            "sales.quota",
        )
    },
    "sales.quote_approval": (["read", "update"], "team_below"),
    **{
        key: (ALL, "all")
        for key in ("sales.product", "sales.price_book", "sales.lead_form", "sales.configuration")
    },
    "analytics.customer_value": (["read", "update", "export"], "all"),
}

_SALES_READER = {
    "sales.deal": (READ, "all"),
    "sales.quote": (READ, "all"),
    "sales.order": (READ, "all"),
    "sales.product": (READ, "all"),
    "sales.price_book": (READ, "all"),
    "sales.configuration": (READ, "all"),
    "analytics.customer_value": (READ, "all"),
}


# Service: agents work every case (a caller may be anyone's customer), write articles,
# dispatch technicians and see their own calls and survey results; technicians see the cases
# and work their own dispatches; service managers run it all and its configuration. Sales and
# marketing see customers' cases (a rep may log a complaint; marketing holds off on them).
_SERVICE_READER = {
    "service.case": (READ, "all"),
    "service.article": (READ, "all"),
}

_SERVICE_AGENT = {
    "service.case": (WORK, "all"),
    "service.article": (["create", "read", "update"], "all"),
    "service.dispatch": (["create", "read", "update"], "all"),
    "service.survey": (READ, "own"),
    "service.call": (["create", "read"], "own"),
    "service.configuration": (READ, "all"),
}

_SERVICE_MANAGER = {
    **{key: (ALL, "all") for key in ("service.case", "service.article", "service.configuration")},
    **{key: (ALL, "team_below") for key in ("service.dispatch", "service.call")},
    "service.survey": (["read", "export"], "team_below"),
}


DEFAULT_ROLES: tuple[RoleSpec, ...] = (
    RoleSpec(
        "administrator",
        _("Administrator"),
        _("Manages the workspace: users, teams, roles, custom fields and the audit log."),
        is_admin=True,
    ),
    RoleSpec(
        "sales_manager",
        _("Sales manager"),
        _("Leads a sales team; sees the records of their team and the teams below."),
        grants={
            **_directory,
            "platform.job": (READ, "team_below"),
            **_customers(ALL, "team_below"),
            **_ACTIVITIES_MANAGER,
            **_SALES_MANAGER,
            **_SERVICE_READER,
            "service.case": (["create", "read", "export"], "all"),
        },
    ),
    RoleSpec(
        "sales_rep",
        _("Sales rep"),
        _("Works their own customers and deals."),
        grants={
            **_directory,
            **_customers(WORK, "own"),
            **_activities(work="own", plans=["read", "update"]),
            **_sales_rep(),
            **_SERVICE_READER,
            "service.case": (["create", "read"], "all"),
        },
    ),
    RoleSpec(
        "marketing",
        _("Marketing"),
        _("Runs campaigns, segments and events."),
        grants={
            **_directory,
            **_customers([*WORK, "bulk"], "all"),
            **_activities(work="own", plans=["read"]),
            **_SALES_READER,
            "sales.lead": ([*WORK, "bulk"], "all"),
            "sales.lead_form": (ALL, "all"),
            **_SERVICE_READER,
        },
    ),
    RoleSpec(
        "service_agent",
        _("Service agent"),
        _("Handles cases and calls."),
        grants={
            **_directory,
            **_customers(["create", "read", "update"], "all"),
            **_activities(work="own", plans=["read"]),
            **_SALES_READER,
            "sales.lead": (["create", "read"], "own"),
            **_SERVICE_AGENT,
        },
    ),
    RoleSpec(
        "service_manager",
        _("Service manager"),
        _("Runs the service desk and call centre: queues, SLAs, dispatch and the knowledge base."),
        grants={
            **_directory,
            "platform.job": (READ, "team_below"),
            **_customers([*WORK, "bulk"], "all"),
            **_ACTIVITIES_MANAGER,
            **_SALES_READER,
            "sales.lead": (["create", "read"], "all"),
            **_SERVICE_MANAGER,
        },
    ),
    RoleSpec(
        "technician",
        _("Technician"),
        _("Does on-site repairs and visits."),
        grants={
            **_directory,
            **_customers(READ, "all"),
            **_activities(work="own", plans=["read"]),
            **_SALES_READER,
            **_SERVICE_READER,
            "service.case": (["read", "update"], "all"),
            "service.dispatch": (["read", "update"], "own"),
            "service.call": (["create", "read"], "own"),
            "service.configuration": (READ, "all"),
        },
    ),
    RoleSpec(
        "read_only",
        _("Read-only"),
        _("Sees everything, changes nothing."),
        grants={
            **_directory,
            **_customers(READ, "all"),
            **{key: (READ, "all") for key in _ACTIVITIES_MANAGER},
            "activities.entry": (READ, "own"),
            **_SALES_READER,
            **{key: (READ, "all") for key in _SALES_MANAGER},
            **{key: (READ, "all") for key in _SERVICE_MANAGER},
        },
    ),
)
