"""How the deals' system entries read on a customer's timeline, in the reader's language
(registered with ``activities.timeline_display`` by ``deals_ui``)."""

from __future__ import annotations

from django.utils.translation import gettext as _


def _name(data: dict) -> str:
    return str(data.get("deal") or "—")


def created(data: dict) -> str:
    return _("Deal opened: %(deal)s (%(stage)s, %(amount)s %(currency)s)") % {
        "deal": _name(data),
        "stage": data.get("stage") or "—",
        "amount": data.get("amount") or "0",
        "currency": data.get("currency") or "",
    }


def stage(data: dict) -> str:
    return _("Deal %(deal)s: %(from)s → %(to)s") % {
        "deal": _name(data),
        "from": data.get("from") or "—",
        "to": data.get("to") or "—",
    }


def won(data: dict) -> str:
    return _("Deal won: %(deal)s (%(amount)s %(currency)s)") % {
        "deal": _name(data),
        "amount": data.get("amount") or "0",
        "currency": data.get("currency") or "",
    }


def lost(data: dict) -> str:
    text = _("Deal lost: %(deal)s — %(reason)s") % {
        "deal": _name(data),
        "reason": data.get("reason") or "—",
    }
    if data.get("note"):
        text += f" ({data['note']})"
    return text


def reopened(data: dict) -> str:
    return _("Deal reopened: %(deal)s (%(stage)s)") % {
        "deal": _name(data),
        "stage": data.get("stage") or "—",
    }


def owner(data: dict) -> str:
    def person(ref):
        return str((ref or {}).get("name") or "—")

    return _("Deal %(deal)s: owner %(from)s → %(to)s") % {
        "deal": _name(data),
        "from": person(data.get("from")),
        "to": person(data.get("to")),
    }


RENDERERS = {
    "deal_created": created,
    "deal_stage": stage,
    "deal_won": won,
    "deal_lost": lost,
    "deal_reopened": reopened,
    "deal_owner": owner,
}
