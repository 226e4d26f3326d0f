"""What the quotes part adds to the shared UI (navigation, the "Quotes" section of the
customer 360° page and of the deal page, the timeline's sentences for quote events) and the
hooks it registers with the lower apps (customer merges move quotes and their lines)."""

from __future__ import annotations

from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from guanxi.activities.timeline_display import register_system_renderer
from guanxi.customers import sections
from guanxi.customers.services import merge, privacy
from guanxi.platform import permissions
from guanxi.platform.navigation import NavItem, register

from . import quotes_jobs  # noqa: F401  (the periodic expiry job)
from .models import Quote, QuoteLine
from .objects import QUOTE, QUOTE_APPROVAL
from .ui import SALES

register(
    NavItem(
        section=SALES,
        label=gettext_lazy("Quotes"),
        url_name="sales:quote_list",
        order=330,
        allowed=lambda user: permissions.can(user, QUOTE, "read"),
    )
)
register(
    NavItem(
        section=SALES,
        label=gettext_lazy("Quote approvals"),
        url_name="sales:quote_approvals",
        order=331,
        allowed=lambda user: permissions.can(user, QUOTE_APPROVAL, "update"),
    )
)


def _customer_section(request, object_key, record):
    from .quotes_views import customer_section

    return customer_section(request, object_key, record)


sections.register(
    sections.Section(
        key="sales.quotes",
        title=gettext_lazy("Quotes"),
        object_keys=(sections.ACCOUNT, sections.CONTACT),
        order=320,
        loader=_customer_section,
        template="sales/quotes/section_customer.html",
        allowed=lambda user: permissions.can(user, QUOTE, "read"),
    )
)


def _register_deal_section() -> None:
    """The deal page's "Quotes" section, when the deals part offers its section registry."""
    try:
        from . import deal_sections
    except ImportError:
        return
    section_type = getattr(deal_sections, "Section", None)
    if section_type is None:
        return

    def loader(request, deal):
        from .quotes_views import deal_section

        return deal_section(request, deal)

    try:
        deal_sections.register(
            section_type(
                key="sales.quotes",
                title=gettext_lazy("Quotes"),
                loader=loader,
                template="sales/quotes/section_deal.html",
                order=300,
            )
        )
    except TypeError:
        return


_register_deal_section()


# --- the timeline's sentences (in the reader's language) -----------------------------------------


def _quote(data) -> str:
    return f"{data['number']} v{data['version']}"


register_system_renderer(
    "quote_created",
    lambda d: (
        _("Quote %(quote)s made: %(total)s %(currency)s")
        % {"quote": _quote(d), "total": d["total"], "currency": d["currency"]}
    ),
)
register_system_renderer(
    "quote_new_version",
    lambda d: (
        _("Quote %(quote)s: a new version, %(total)s %(currency)s")
        % {"quote": _quote(d), "total": d["total"], "currency": d["currency"]}
    ),
)
register_system_renderer(
    "quote_submitted",
    lambda d: _("Quote %(quote)s sent to a manager for approval") % {"quote": _quote(d)},
)
register_system_renderer(
    "quote_approved",
    lambda d: _("Quote %(quote)s approved by %(who)s") % {"quote": _quote(d), "who": d["by"]},
)
register_system_renderer(
    "quote_rejected",
    lambda d: _("Quote %(quote)s rejected by %(who)s") % {"quote": _quote(d), "who": d["by"]},
)
register_system_renderer(
    "quote_sent",
    lambda d: (
        _("Quote %(quote)s sent: %(total)s %(currency)s")
        % {"quote": _quote(d), "total": d["total"], "currency": d["currency"]}
    ),
)
register_system_renderer(
    "quote_accepted",
    lambda d: (
        _("Quote %(quote)s accepted: order %(order)s")
        % {"quote": _quote(d), "order": d["order_number"]}
    ),
)
register_system_renderer(
    "quote_declined",
    lambda d: _("Quote %(quote)s declined by the customer") % {"quote": _quote(d)},
)


# --- customer merges ----------------------------------------------------------------------------


def _mover(model, fk: str):
    def move(*, workspace, survivor, merged) -> int:
        return model.objects.in_workspace(workspace).filter(**{fk: merged}).update(**{fk: survivor})

    return move


for _key, _fk in ((sections.ACCOUNT, "account"), (sections.CONTACT, "contact")):
    merge.register_mover(_key, _mover(Quote, _fk), name=f"sales.Quote.{_fk}")
    merge.register_mover(_key, _mover(QuoteLine, _fk), name=f"sales.QuoteLine.{_fk}")


# --- personal data --------------------------------------------------------------------------------


def _personal_quotes(workspace_id: int, contact) -> dict:
    rows = (
        Quote.objects.in_workspace(workspace_id)
        .filter(contact=contact)
        .order_by("created_at", "id")
        .values(
            "number",
            "version_number",
            "status",
            "currency",
            "total",
            "valid_until",
            "sent_at",
            "decided_at",
            "notes",
        )[:5000]
    )
    return {
        "sales.quotes": [
            {k: (str(v) if v is not None else None) for k, v in row.items()} for row in rows
        ]
    }


def _erase_quotes(workspace_id: int, contact) -> dict:
    """Quotes are commercial records and stay; their internal notes (where a rep may have
    written what the person said, or why they declined) are emptied."""
    changed = (
        Quote.objects.in_workspace(workspace_id)
        .filter(contact=contact)
        .exclude(notes="")
        .update(notes="")
    )
    return {"sales.quotes": changed}


privacy.register_personal_data("sales.quotes", provider=_personal_quotes, eraser=_erase_quotes)
