"""Finding customers by any part of a name, company, phone, e-mail, pinyin or initials.

A first, plain version: the search helper replaces it with indexed search.
"""

from __future__ import annotations

from django.db.models import Q

from . import normalize, selectors


def _match(qs, term: str):
    folded = normalize.fold(term)
    return qs.filter(Q(search_text__contains=folded) | Q(name_initials__startswith=folded))


def search_contacts(*, workspace, actor, term: str, limit: int = 20):
    qs = selectors.contact_list(workspace=workspace, actor=actor)
    return list(_match(qs, term).order_by("name", "id")[:limit])


def search_accounts(*, workspace, actor, term: str, limit: int = 20):
    qs = selectors.account_list(workspace=workspace, actor=actor)
    return list(_match(qs, term).order_by("name", "id")[:limit])
