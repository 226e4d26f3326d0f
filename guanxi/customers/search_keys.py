"""The derived search columns of accounts and contacts.

``contact_keys(contact)`` and ``account_keys(account)`` return the values of ``name_pinyin``,
``name_initials``, ``search_text`` and ``search_grams`` (and ``name_core`` for accounts).
Every code path that writes a customer — services, the importer, the seeder, merges —
calls ``apply_contact_keys``/``apply_account_keys`` before saving, so search always sees
the record as it is.
"""

from __future__ import annotations

from functools import lru_cache

from . import normalize

# Names and companies repeat a lot (a bulk import or the seeder writes a million rows from
# far fewer distinct values), and folding runs OpenCC: remember recent results.
_fold = lru_cache(maxsize=131072)(normalize.fold)


def _grams(text: str) -> list[str]:
    """Two-character grams of each run of Chinese characters: the index that serves
    1–2 character Chinese queries, which trigram indexes cannot."""
    out: list[str] = []
    run = ""
    for ch in text + " ":
        if normalize.has_cjk(ch):
            run += ch
            continue
        if len(run) == 1:
            out.append(run)
        for i in range(len(run) - 1):
            out.append(run[i : i + 2])
        run = ""
    return out


def _phone_text(values: list[str]) -> list[str]:
    parts = []
    for value in values:
        if value:
            parts.append(value.lstrip("+"))
            parts.append(normalize.phone_national_digits(value))
    return parts


def _keys(name: str, others: list[str], phones: list[str], emails: list[str]) -> dict:
    full, initials = normalize.pinyin(name)
    texts = [_fold(t) for t in [name, *others] if t]
    searchable = [*texts, *_phone_text(phones), *[normalize.email(e) for e in emails if e]]
    if full:
        searchable += [full, initials]
    grams: list[str] = []
    for text in texts:
        grams += _grams(text)
    return {
        "name_pinyin": full[:255],
        "name_initials": initials[:64],
        "search_text": " ".join(dict.fromkeys(p for p in searchable if p)),
        "search_grams": " ".join(dict.fromkeys(grams)),
    }


def contact_keys(contact) -> dict:
    return _keys(
        contact.name,
        [contact.company],
        [contact.mobile, contact.phone],
        [contact.email],
    )


def account_keys(account) -> dict:
    keys = _keys(account.name, [account.short_name], [account.phone], [account.email])
    keys["name_core"] = normalize.company_core(account.name)[:200]
    return keys


def apply_contact_keys(contact) -> None:
    for name, value in contact_keys(contact).items():
        setattr(contact, name, value)


def apply_account_keys(account) -> None:
    for name, value in account_keys(account).items():
        setattr(account, name, value)
