"""As you type: the likely existing matches of a record being entered (or imported).

Only indexed, exact lookups (phone, mobile, e-mail, ID or tax number, name pinyin,
company core) find the
candidates, a few dozen at most; the matcher then scores them. Records the actor cannot
see are not offered.
"""

from __future__ import annotations

from django.db.models import Q

from .. import normalize, selectors
from . import matching

LOOKUP_LIMIT = 50


def _phone(value: str) -> str:
    try:
        return normalize.phone(value)
    except normalize.InvalidPhone:
        return ""


def likely_matches(*, workspace, actor, object_key: str, values: dict, limit: int = 3) -> list:
    """``[(record, score, reasons)]`` best first, at or above the default threshold."""
    values = {k: (v or "") for k, v in (values or {}).items() if isinstance(v, str | None)}
    if object_key == matching.CONTACT:
        qs = selectors.contact_list(workspace=workspace, actor=actor)
        f = matching.contact_features(values)
        query = Q()
        for p in f[matching.PHONES].split():
            query |= Q(mobile=p) | Q(phone=p)
        if f[matching.EMAIL]:
            query |= Q(email=f[matching.EMAIL])
        id_number = "".join((values.get("id_number") or "").split()).upper()
        if id_number:
            query |= Q(id_number=id_number) & ~Q(id_number="")  # the partial index
        name = values.get("name") or " ".join(
            v for v in (values.get("last_name"), values.get("first_name")) if v
        )
        full = normalize.pinyin(name)[0] if normalize.has_cjk(name) else ""
        if full:
            query |= Q(name_pinyin=full)
        elif f[matching.FN] and f[matching.LN]:  # "Zhang San" / "San Zhang" for 张三
            query |= Q(name_pinyin__in=[f[0] + f[1], f[1] + f[0]])
        if name.strip():
            query |= Q(name=name.strip())
    else:
        qs = selectors.account_list(workspace=workspace, actor=actor)
        f = matching.account_features(values)
        query = Q()
        if f[matching.A_CORE]:
            query |= Q(name_core=f[matching.A_CORE])
        if f[matching.A_PINYIN]:
            query |= Q(name_pinyin=normalize.pinyin(values.get("name") or "")[0] or f[1])
        for p in f[matching.A_PHONES].split():
            query |= Q(phone=p)
        tax_number = (values.get("tax_number") or "").strip()
        if tax_number:
            query |= Q(tax_number=tax_number) & ~Q(tax_number="")
    if not query:
        return []
    names = matching.fields(object_key)
    candidates = list(qs.filter(query)[:LOOKUP_LIMIT])
    out = []
    for record in candidates:
        row = {n: getattr(record, n, "") for n in names}
        s, reasons = matching.score(object_key, f, matching.features(object_key, row))
        if s >= matching.DEFAULT_THRESHOLD:
            out.append((record, s, reasons))
    out.sort(key=lambda t: -t[1])
    return out[:limit]
