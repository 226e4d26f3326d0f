"""How a timeline entry reads, in the reader's language.

Entries store facts (kind, subtype, direction, outcome, duration, and for system events
ids, codes and choice values in ``data``); the sentence is made when it is shown, so a
Chinese reader and an English reader each see their own ("生命周期阶段：潜在 → 新",
"Lifecycle stage: Potential → New").
"""

from __future__ import annotations

from django.utils.translation import gettext as _
from django.utils.translation import pgettext

from guanxi.customers.models import (
    Channel as ConsentChannel,
)
from guanxi.customers.models import (
    ConsentPurpose,
    ConsentStatus,
    LifecycleStage,
    LoyaltyStage,
    PoolEvent,
)

from .models import (
    CallOutcome,
    CommitmentStatus,
    Direction,
    EntryKind,
    SystemEvent,
    TaskKind,
    TimelineEntry,
    VisitMeans,
)
from .services.checkins import VisitOutcome


def _label(choices, value) -> str:
    if not value:
        return "—"
    return str(dict(choices.choices).get(value, value))


def duration_text(seconds: int | None) -> str:
    if seconds is None:
        return ""
    if seconds < 60:
        return _("%(n)s s") % {"n": seconds}
    minutes, _rest = divmod(seconds, 60)
    if minutes < 60:
        return _("%(n)s min") % {"n": minutes}
    hours, minutes = divmod(minutes, 60)
    return _("%(h)s h %(m)s min") % {"h": hours, "m": minutes}


def _person(ref) -> str:
    if not ref:
        return pgettext("owner", "pool")
    return str(ref.get("name") or ref.get("id") or "?")


def _stage(data: dict) -> str:
    which = data.get("stage")
    choices = LoyaltyStage if which == "loyalty" else LifecycleStage
    title = _("Loyalty stage") if which == "loyalty" else _("Lifecycle stage")
    return _("%(title)s: %(from)s → %(to)s") % {
        "title": title,
        "from": _label(choices, data.get("from")),
        "to": _label(choices, data.get("to")),
    }


def _owner(data: dict) -> str:
    text = _("Owner: %(from)s → %(to)s") % {
        "from": _person(data.get("from")),
        "to": _person(data.get("to")),
    }
    how = data.get("how")
    if how:
        text += f" ({_label(PoolEvent.Kind, how)})"
    return text


def _merge(data: dict) -> str:
    return _("Merged in: %(name)s (%(code)s)") % {
        "name": data.get("merged_name") or "—",
        "code": data.get("merged_code") or "—",
    }


def _consent(data: dict) -> str:
    parts = [
        "{} · {}: {}".format(
            _label(ConsentChannel, change.get("channel")),
            _label(ConsentPurpose, change.get("purpose")),
            _label(ConsentStatus, change.get("status")),
        )
        for change in data.get("changes") or []
    ]
    return _("Consent: %(changes)s") % {"changes": "; ".join(parts) or "—"}


SYSTEM_RENDERERS = {
    SystemEvent.STAGE_CHANGE: _stage,
    SystemEvent.OWNER_CHANGE: _owner,
    SystemEvent.MERGE: _merge,
    SystemEvent.CONSENT_CHANGE: _consent,
}


def register_system_renderer(subtype: str, render) -> None:
    """A later app's system event (a deal's stage change, a quote's approval, a case's
    escalation): ``render(data) -> str`` makes its sentence in the reader's language."""
    SYSTEM_RENDERERS[subtype] = render


def system_text(entry: TimelineEntry) -> str:
    render = SYSTEM_RENDERERS.get(entry.subtype)
    data = entry.data if isinstance(entry.data, dict) else {}
    if render is not None:
        try:
            return render(data)
        except (AttributeError, TypeError, KeyError):
            pass  # an older or foreign shape: fall back to the event's name
    return entry.subject or _label(SystemEvent, entry.subtype)


def _commitment(entry: TimelineEntry) -> str:
    promiser = (entry.data or {}).get("promised_by") or {}
    who = promiser.get("name") or ""
    if entry.subtype == "made":
        return _("%(who)s promised") % {"who": who} if who else _("Promise made")
    closed = {
        CommitmentStatus.KEPT: _("Promise kept"),
        CommitmentStatus.BROKEN: _("Promise broken"),
        CommitmentStatus.CANCELLED: _("Promise cancelled"),
    }
    return closed.get(entry.subtype) or _label(EntryKind, entry.kind)


def headline(entry: TimelineEntry) -> str:
    """The entry's first line: what kind of activity, and its facts."""
    if entry.kind == EntryKind.SYSTEM:
        return system_text(entry)
    if entry.kind == EntryKind.COMMITMENT:
        return _commitment(entry)
    parts = [_label(EntryKind, entry.kind)]
    if entry.kind == EntryKind.VISIT and entry.subtype:
        parts.append(_label(VisitMeans, entry.subtype))
    elif entry.kind == EntryKind.TASK and entry.subtype:
        parts.append(_label(TaskKind, entry.subtype))  # a done task's kind, not its code
    elif entry.subtype:
        parts.append(entry.subtype)
    if entry.direction:
        parts.append(_label(Direction, entry.direction))
    if entry.outcome:
        outcomes = {EntryKind.CALL: CallOutcome, EntryKind.VISIT: VisitOutcome}.get(entry.kind)
        parts.append(_label(outcomes, entry.outcome) if outcomes else entry.outcome)
    if entry.duration_seconds is not None:
        parts.append(duration_text(entry.duration_seconds))
    return " · ".join(parts)


ICONS = {
    EntryKind.CALL: "☎",
    EntryKind.EMAIL: "✉",
    EntryKind.SMS: "✆",
    EntryKind.MEETING: "◎",
    EntryKind.VISIT: "⌂",
    EntryKind.NOTE: "✎",
    EntryKind.COMMITMENT: "✓",
    EntryKind.TASK: "☑",
    EntryKind.SYSTEM: "⚙",
}


def decorate(entries) -> None:
    """Set what a timeline row shows on each entry: ``headline``, ``icon``, ``when`` (local,
    short) and ``when_iso``, ``who``, and ``contact_anchors`` ((name, url) pairs). Done here
    once rather than by tags in the row template: with 30 rows on every 360° page, template
    lookups were most of the section's time."""
    from django.urls import reverse
    from django.utils import formats, timezone

    contact_url = reverse("customers:contact_detail", args=[0]).replace("/0/", "/{}/")
    for entry in entries:
        entry.headline = headline(entry)
        entry.icon = ICONS.get(entry.kind, "✎")
        local = timezone.localtime(entry.occurred_at)
        entry.when = formats.date_format(local, "SHORT_DATETIME_FORMAT")
        entry.when_iso = local.isoformat()
        author = entry.author
        entry.who = (author.full_name or author.email) if author else _("System")
        entry.contact_anchors = [
            (c.name, contact_url.format(c.pk)) for c in getattr(entry, "contact_list", [])
        ]
