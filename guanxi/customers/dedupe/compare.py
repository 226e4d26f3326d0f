"""The side-by-side comparison of a candidate pair, for the review page.

``pair_compare`` reads the two records the actor can see, picks the survivor (the older
record unless asked otherwise) and lists every customer-file field and custom field with
both values and the default choice: the survivor's value, unless it is empty and the other
record has one. What merges is decided by ``services.merge``; this only reads.
"""

from __future__ import annotations

from django.utils.formats import date_format

from guanxi.common.errors import NotFound
from guanxi.platform import custom_fields, permissions
from guanxi.platform.models import FieldType, User

from .. import selectors
from ..models import (
    AccountContact,
    AccountTag,
    Address,
    CandidateStatus,
    ContactPoint,
    ContactTag,
    DuplicateCandidate,
)
from ..services.merge import merge_fields
from . import matching


def _empty(value) -> bool:
    return value is None or value == "" or value == [] or value == {}


def _display(record, field) -> str:
    value = getattr(record, field.name)
    if _empty(value):
        return ""
    if field.choices:
        return str(getattr(record, f"get_{field.name}_display")())
    if field.is_relation:
        return str(getattr(value, "full_name", None) or getattr(value, "name", None) or value)
    if hasattr(value, "year"):
        return date_format(value, "SHORT_DATE_FORMAT")
    return str(value)


def _records(workspace, actor, object_key: str, ids: list[int]) -> dict:
    if object_key == matching.CONTACT:
        qs = selectors.contact_list(workspace=workspace, actor=actor)
    else:
        qs = selectors.account_list(workspace=workspace, actor=actor).select_related(
            "owner", "parent"
        )
    return {r.pk: r for r in qs.filter(pk__in=ids)}


def _related(workspace, object_key: str, record) -> dict:
    fk = "contact" if object_key == matching.CONTACT else "account"
    tag_model = ContactTag if fk == "contact" else AccountTag
    tags = list(
        tag_model.objects.in_workspace(workspace)
        .filter(**{fk: record})
        .order_by("tag__name")
        .values_list("tag__name", flat=True)
    )
    counts = {
        "memberships": AccountContact.objects.in_workspace(workspace)
        .filter(**{fk: record})
        .count(),
        "addresses": Address.objects.in_workspace(workspace).filter(**{fk: record}).count(),
        "points": ContactPoint.objects.in_workspace(workspace).filter(**{fk: record}).count(),
    }
    return {"tags": tags, **counts}


def pair_compare(*, workspace, actor, candidate_id, survivor_id=None) -> dict:
    """Everything the compare page shows for one open candidate pair."""
    try:
        candidate = DuplicateCandidate.objects.in_workspace(workspace).get(pk=int(candidate_id))
    except (DuplicateCandidate.DoesNotExist, TypeError, ValueError):
        raise NotFound() from None
    object_key = candidate.object_key
    permissions.require(actor, object_key, "read")
    records = _records(workspace, actor, object_key, [candidate.left_id, candidate.right_id])
    if len(records) != 2:
        raise NotFound()
    left, right = records[candidate.left_id], records[candidate.right_id]
    older, newer = sorted((left, right), key=lambda r: (r.created_at, r.pk))
    try:
        asked = int(survivor_id) if survivor_id not in (None, "") else None
    except (TypeError, ValueError):
        asked = None
    survivor, merged = (newer, older) if asked == newer.pk else (older, newer)
    hidden = permissions.hidden_fields(actor, object_key)
    read_only = permissions.read_only_fields(actor, object_key)
    model = type(survivor)
    rows = []
    for name in merge_fields(object_key):
        if name in hidden:
            continue
        field = model._meta.get_field(name)
        a, b = getattr(survivor, field.attname), getattr(merged, field.attname)
        differs = not (_empty(a) and _empty(b)) and a != b
        rows.append(
            {
                "name": name,
                "label": field.verbose_name,
                "survivor": _display(survivor, field),
                "merged": _display(merged, field),
                "differs": differs,
                "choice": "merged" if differs and _empty(a) else "survivor",
                "locked": name in read_only,
            }
        )
    defs = [
        d
        for d in custom_fields.definitions(workspace, object_key)
        if f"custom.{d.key}" not in hidden
    ]
    users = {}
    if any(d.field_type == FieldType.USER for d in defs):
        users = dict(User.objects.filter(workspace=workspace).values_list("id", "full_name"))
    currency = workspace.default_currency
    for d in defs:
        a, b = (survivor.custom or {}).get(d.key), (merged.custom or {}).get(d.key)
        differs = not (_empty(a) and _empty(b)) and a != b
        rows.append(
            {
                "name": f"custom.{d.key}",
                "label": d.label,
                "survivor": custom_fields.display(d, a, users=users, currency=currency),
                "merged": custom_fields.display(d, b, users=users, currency=currency),
                "differs": differs,
                "choice": "merged" if differs and _empty(a) else "survivor",
                "locked": f"custom.{d.key}" in read_only,
            }
        )
    return {
        "candidate": candidate,
        "object_key": object_key,
        "survivor": survivor,
        "merged": merged,
        "rows": rows,
        "differing": [r for r in rows if r["differs"]],
        "related": {
            "survivor": _related(workspace, object_key, survivor),
            "merged": _related(workspace, object_key, merged),
        },
        "reasons": [matching.REASONS.get(x, x) for x in candidate.reasons or []],
        "is_open": candidate.status == CandidateStatus.OPEN,
        "can_merge": permissions.can(actor, object_key, "update")
        and permissions.can(actor, object_key, "delete"),
        "can_dismiss": permissions.can(actor, object_key, "update"),
    }


def chosen_values(post, rows: list[dict]) -> dict:
    """The merge service's ``choices`` from the form: ``choice:<field>`` per differing row."""
    out = {}
    for row in rows:
        if not row["differs"] or row["locked"]:
            continue
        value = post.get(f"choice:{row['name']}", row["choice"])
        out[row["name"]] = "merged" if value == "merged" else "survivor"
    return {k: v for k, v in out.items() if v == "merged"}
