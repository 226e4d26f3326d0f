"""Comparing two customers: the features of a record, the blocking keys that bring likely
pairs together, and the score of a pair with its reasons.

People are compared field by field in the Fellegi–Sunter way: each field that both records
have adds evidence for (agreement) or against (disagreement) the pair being one person, in
log-odds; fields that one side lacks add nothing. The total becomes a score in [0, 1] with a
logistic curve, and the fields that agreed are the reasons the review page shows.

Names understand typos (Jaro–Winkler), swapped first and last names, nicknames (Bob =
Robert), and Chinese in simplified, traditional and pinyin (张三 = 張三 = "Zhang San" =
"San Zhang"). Phones are compared in E.164, birthdays also with day and month swapped or
one digit mistyped, ID numbers with one typo allowed, addresses by house number and words.
Companies are compared by their name without legal suffixes (``Account.name_core``).
"""

from __future__ import annotations

import math
import re
import unicodedata
from functools import lru_cache

import jellyfish
from django.utils.translation import gettext_lazy as _
from pypinyin import lazy_pinyin
from rapidfuzz.distance import DamerauLevenshtein, JaroWinkler
from rapidfuzz.fuzz import token_set_ratio

from .. import normalize

CONTACT = "customers.contact"
ACCOUNT = "customers.account"

# The reasons a pair is shown with, translated on the review page.
REASONS = {
    "same_name": _("same name"),
    "name_similar": _("similar name"),
    "name_swapped": _("first and last name swapped"),
    "nickname": _("one first name is a nickname of the other"),
    "same_mobile": _("same phone number"),
    "same_email": _("same e-mail"),
    "same_id_number": _("same ID number"),
    "id_number_similar": _("ID number differs by one character"),
    "birthday": _("same birthday"),
    "birthday_similar": _("birthday nearly the same"),
    "address": _("same address"),
    "address_similar": _("similar address"),
    "postal_code": _("same postal code"),
    "city": _("same city"),
    "same_company": _("same company name"),
    "company_similar": _("similar company name"),
    "tax_number": _("same tax number"),
    "website": _("same website"),
}

# Pairs at or above this score are candidates (the scan's default threshold).
DEFAULT_THRESHOLD = 0.5

SEP = "\x1f"

# --- normal forms ---------------------------------------------------------------------------

_NON_ALNUM = re.compile(r"[^0-9a-z]+")
_NON_WORD = re.compile(r"[^\w]+")
_DIGITS = re.compile(r"\d+")
_COMPOUND_SURNAMES = {
    "欧阳", "司马", "上官", "诸葛", "东方", "皇甫", "尉迟", "公孙", "慕容", "长孙",
    "宇文", "司徒", "夏侯", "令狐", "端木", "独孤", "南宫", "西门", "澹台", "公冶",
}  # fmt: skip


def ascii_fold(text: str) -> str:
    """Lower case, accents removed, full-width folded: "José" → "jose"."""
    text = unicodedata.normalize("NFKD", unicodedata.normalize("NFKC", text or ""))
    return "".join(c for c in text if not unicodedata.combining(c)).lower().strip()


def _latin_token(text: str) -> str:
    return _NON_ALNUM.sub("", ascii_fold(text))


@lru_cache(maxsize=65536)
def _cjk_pinyin(text: str) -> str:
    return "".join(lazy_pinyin(text, errors="ignore")).lower()


def split_cjk_name(name: str) -> tuple[str, str]:
    """(surname, given name) of a Chinese name: 欧阳修 → (欧阳, 修), 张三 → (张, 三)."""
    name = "".join(c for c in normalize.simplified(name) if normalize.has_cjk(c))
    if len(name) >= 3 and name[:2] in _COMPOUND_SURNAMES:
        return name[:2], name[2:]
    return name[:1], name[1:]


def person_names(name: str, first_name: str, last_name: str) -> tuple[str, str, str]:
    """(first, last, chinese) in comparable form: Latin letters for both (pinyin for Chinese
    names) and the simplified Chinese name, if any."""
    first_name = (first_name or "").strip()
    last_name = (last_name or "").strip()
    name = (name or "").strip()
    cjk = ""
    if normalize.has_cjk(first_name + last_name + name):
        if last_name and normalize.has_cjk(last_name):
            surname, given = normalize.simplified(last_name), normalize.simplified(first_name)
        else:
            surname, given = split_cjk_name(name or last_name + first_name)
        cjk = surname + given
        return _cjk_pinyin(given), _cjk_pinyin(surname), cjk
    if first_name or last_name:
        return _latin_token(first_name), _latin_token(last_name), ""
    tokens = [t for t in (_latin_token(p) for p in name.replace(",", " ").split()) if t]
    if not tokens:
        return "", "", ""
    if "," in name:  # "Zhang, San": last name first
        return (tokens[1] if len(tokens) > 1 else ""), tokens[0], ""
    return tokens[0], (tokens[-1] if len(tokens) > 1 else ""), ""


def _phones(*values: str) -> str:
    out = []
    for value in values:
        if not value:
            continue
        try:
            e164 = normalize.phone(value)
        except normalize.InvalidPhone:
            e164 = re.sub(r"\D", "", value)
        if e164 and e164 not in out:
            out.append(e164)
    return " ".join(out)


def _birthday(value) -> str:
    if not value:
        return ""
    if hasattr(value, "strftime"):
        return value.strftime("%Y%m%d")
    return re.sub(r"\D", "", str(value))[:8]


def _street(text: str) -> str:
    return " ".join(_NON_WORD.sub(" ", normalize.fold(text or "")).split())


def _postal(text: str) -> str:
    return _NON_ALNUM.sub("", ascii_fold(text or ""))


# --- features ---------------------------------------------------------------------------------

CONTACT_FIELDS = (
    "name", "first_name", "last_name", "mobile", "phone", "email", "birthday", "id_number",
    "street", "city", "province", "postal_code", "company",
)  # fmt: skip
ACCOUNT_FIELDS = (
    "name", "name_core", "name_pinyin", "phone", "email", "tax_number", "website",
    "street", "city", "province", "postal_code",
)  # fmt: skip

# Positions in a contact's feature tuple.
FN, LN, CJK, PHONES, EMAIL, BDAY, IDNO, STREET, CITY, PROV, POSTAL, COMPANY = range(12)
# Positions in an account's feature tuple.
A_CORE, A_PINYIN, A_PHONES, A_EMAIL, A_TAX, A_WEB, A_STREET, A_CITY, A_POSTAL = range(9)


def contact_features(row: dict) -> tuple[str, ...]:
    """The comparable form of a contact (a dict of ``CONTACT_FIELDS``)."""
    fn, ln, cjk = person_names(row.get("name"), row.get("first_name"), row.get("last_name"))
    return (
        fn,
        ln,
        cjk,
        _phones(row.get("mobile"), row.get("phone")),
        normalize.email(row.get("email") or ""),
        _birthday(row.get("birthday")),
        _NON_ALNUM.sub("", ascii_fold(row.get("id_number") or "")),
        _street(row.get("street")),
        normalize.fold(row.get("city") or ""),
        normalize.fold(row.get("province") or ""),
        _postal(row.get("postal_code")),
        normalize.company_core(row.get("company") or ""),
    )


def _website(text: str) -> str:
    text = ascii_fold(text or "")
    text = re.sub(r"^[a-z]+://", "", text).split("/")[0]
    return text.removeprefix("www.")


def account_features(row: dict) -> tuple[str, ...]:
    core = row.get("name_core") or normalize.company_core(row.get("name") or "")
    pinyin = row.get("name_pinyin")
    if pinyin is None:
        pinyin = normalize.pinyin(row.get("name") or "")[0]
    if normalize.has_cjk(core):
        pinyin = _cjk_pinyin(core)
    return (
        core,
        pinyin or "",
        _phones(row.get("phone")),
        normalize.email(row.get("email") or ""),
        _NON_ALNUM.sub("", ascii_fold(row.get("tax_number") or "")),
        _website(row.get("website")),
        _street(row.get("street")),
        normalize.fold(row.get("city") or ""),
        _postal(row.get("postal_code")),
    )


def features(object_key: str, row: dict) -> tuple[str, ...]:
    return contact_features(row) if object_key == CONTACT else account_features(row)


def fields(object_key: str) -> tuple[str, ...]:
    return CONTACT_FIELDS if object_key == CONTACT else ACCOUNT_FIELDS


# --- blocking keys ----------------------------------------------------------------------------


@lru_cache(maxsize=65536)
def _sound(token: str) -> str:
    if not token or not token.isascii() or not token[0].isalpha():
        return token[:4]
    return jellyfish.soundex(token)


def contact_keys(f: tuple[str, ...]) -> list[str]:
    """Several blocking keys, so a typo in one field still leaves others to meet on."""
    keys = []
    for p in f[PHONES].split():
        keys.append("p" + p)
    if f[EMAIL]:
        keys.append("e" + f[EMAIL])
    idno = f[IDNO]
    if len(idno) >= 4:
        keys.append("i" + idno)
        half = len(idno) // 2
        keys.append("ia" + idno[:half] + _sound(f[LN]))
        keys.append("ib" + idno[half:] + _sound(f[FN]))
    fn, ln = f[FN], f[LN]
    if f[CJK]:
        keys.append("c" + f[CJK])
    if fn or ln:
        keys.append("n" + " ".join(sorted((fn, ln))))
        sounds = " ".join(sorted((_sound(fn), _sound(ln))))
        if f[POSTAL]:
            keys.append("sp" + sounds + f[POSTAL])
        if f[BDAY]:
            keys.append("sb" + sounds + f[BDAY][:4])
    bday = f[BDAY]
    if bday:
        initials = "".join(sorted((fn[:1], ln[:1])))
        keys.append("b" + bday + initials)
        if f[POSTAL]:
            keys.append("bp" + bday + f[POSTAL])
        for token in (fn, ln):
            if token:
                keys.append("bs" + bday + _sound(token))
    if f[STREET]:
        numbers = _DIGITS.findall(f[STREET])
        words = [w for w in f[STREET].split() if not w.isdigit()]
        number = numbers[0] if numbers else ""
        first_word = _sound(words[0]) if words else ""
        if f[POSTAL]:
            keys.append("a" + f[POSTAL] + number + _sound(ln or fn))
            keys.append("aw" + f[POSTAL] + number + first_word)
        if f[CITY]:
            keys.append("ac" + f[CITY] + number + first_word)
    return keys


def account_keys(f: tuple[str, ...]) -> list[str]:
    keys = []
    if f[A_CORE]:
        keys.append("k" + f[A_CORE])
    if f[A_PINYIN]:
        keys.append("y" + f[A_PINYIN])
        keys.append("y4" + f[A_PINYIN][:6] + f[A_CITY])
    for p in f[A_PHONES].split():
        keys.append("p" + p)
    if f[A_EMAIL]:
        keys.append("e" + f[A_EMAIL])
        domain = f[A_EMAIL].rpartition("@")[2]
        if domain and domain not in _FREEMAIL:
            keys.append("w" + domain)
    if f[A_TAX]:
        keys.append("t" + f[A_TAX])
    if f[A_WEB]:
        keys.append("w" + f[A_WEB])
    return keys


_FREEMAIL = {
    "qq.com", "163.com", "126.com", "gmail.com", "hotmail.com", "outlook.com", "sina.com",
    "yahoo.com", "foxmail.com", "sohu.com", "139.com", "aliyun.com", "icloud.com",
}  # fmt: skip


def blocking_keys(object_key: str, f: tuple[str, ...]) -> list[str]:
    return contact_keys(f) if object_key == CONTACT else account_keys(f)


# --- scoring ----------------------------------------------------------------------------------

# Log-odds of the evidence, in natural units. Agreement on a rare identifier (phone, e-mail,
# ID number) weighs most; names and birthday next; address parts least.
OFFSET = 4.0  # the total at which a pair is even odds (score 0.5)
SLOPE = 0.7


@lru_cache(maxsize=200000)
def _nick_group(name: str) -> frozenset[str]:
    namer = _namer()
    out = set(namer.canonicals_of(name)) | set(namer.nicknames_of(name)) | {name}
    return frozenset(out)


@lru_cache(maxsize=1)
def _namer():
    from nicknames import NickNamer

    return NickNamer()


def _nick(a: str, b: str) -> bool:
    if not a or not b or not a.isascii() or not b.isascii():
        return False
    ga, gb = _nick_group(a), _nick_group(b)
    return b in ga or a in gb or bool(ga & gb - {a, b} and len(a) > 2 and len(b) > 2)


def _name_sim(a: str, b: str) -> float:
    if not a or not b:
        return -1.0
    if a == b:
        return 1.0
    sim = JaroWinkler.normalized_similarity(a, b)
    if sim < 0.9 and _nick(a, b):
        return 0.93
    # A one-character edit in a short name (lee/lea) is still similar.
    if sim < 0.85 and len(a) >= 4 and DamerauLevenshtein.distance(a, b, score_cutoff=1) <= 1:
        sim = 0.88
    return sim


def _name_weight(sim: float, agree: float) -> float:
    if sim < 0:
        return 0.0
    if sim >= 0.97:
        return agree
    if sim >= 0.9:
        return agree * 0.6
    if sim >= 0.8:
        return agree * 0.1
    return -agree * 0.9


def _birthday_cmp(a: str, b: str) -> tuple[float, str | None]:
    if not a or not b:
        return 0.0, None
    if a == b:
        return 4.5, "birthday"
    if len(a) == 8 and len(b) == 8:
        if a[:4] == b[:4] and a[4:6] == b[6:8] and a[6:8] == b[4:6]:
            return 3.0, "birthday_similar"
        diff = sum(x != y for x, y in zip(a, b, strict=True))
        if diff == 1:
            return 2.5, "birthday_similar"
        if diff == 2 and DamerauLevenshtein.distance(a, b) == 1:  # two digits swapped
            return 2.0, "birthday_similar"
    return -3.0, None


def _id_cmp(a: str, b: str) -> tuple[float, str | None]:
    if not a or not b:
        return 0.0, None
    if a == b:
        return 6.0, "same_id_number"
    if len(a) >= 5 and DamerauLevenshtein.distance(a, b, score_cutoff=1) <= 1:
        return 3.5, "id_number_similar"
    return -3.5, None


def _street_cmp(a: str, b: str) -> tuple[float, str | None]:
    if not a or not b:
        return 0.0, None
    if a == b:
        return 3.0, "address"
    na, nb = _DIGITS.findall(a), _DIGITS.findall(b)
    sim = token_set_ratio(a, b) / 100.0
    if na and nb and na[0] != nb[0]:
        sim -= 0.15
    if sim >= 0.9:
        return 2.5, "address_similar"
    if sim >= 0.75:
        return 1.0, "address_similar"
    return -2.0, None


def _postal_cmp(a: str, b: str) -> tuple[float, str | None]:
    if not a or not b:
        return 0.0, None
    if a == b:
        return 2.0, "postal_code"
    if len(a) == len(b) and sum(x != y for x, y in zip(a, b, strict=True)) == 1:
        return 0.8, None
    return -1.5, None


def _city_cmp(a: str, b: str) -> tuple[float, str | None]:
    if not a or not b:
        return 0.0, None
    if a == b:
        return 1.5, "city"
    if JaroWinkler.normalized_similarity(a, b) >= 0.9:
        return 1.0, None
    return -1.5, None


# --- value frequency ---------------------------------------------------------------------------
# Agreeing on a name (or street) that many records in the data share says less than agreeing
# on a rare one (Fellegi–Sunter with value-specific u-probabilities). The scan counts, per
# record, how many records have its name key and its street; a pair's agreement weight falls
# by ``k · ln(count / 2)`` (a duplicate pair alone makes a count of 2), down to a floor.
NAME_FREQ_K = {"cjk": 1.1, "latin": 0.8}
NAME_FLOOR = 1.0
CJK_SIMILAR_MAX = 2.0
STREET_FREQ_K = 0.9
STREET_FLOOR = 0.5


def name_key(f: tuple[str, ...]) -> str:
    """The key a name is counted by: first and last in Latin letters (pinyin for Chinese),
    in either order, so 张三, 張三 and "San Zhang" count together."""
    if not (f[FN] or f[LN]):
        return ""
    return " ".join(sorted((f[FN], f[LN])))


def _freq_weight(weight: float, count: int, k: float, floor: float) -> float:
    if count <= 2 or weight <= floor:
        return weight
    return max(floor, weight - k * math.log(count / 2.0))


def _logistic(total: float) -> float:
    return 1.0 / (1.0 + math.exp(-SLOPE * (total - OFFSET)))


def score_contacts(
    a: tuple[str, ...], b: tuple[str, ...], freq: tuple[int, int] | None = None
) -> tuple[float, list[str]]:
    """(score in [0, 1], reasons) of two contacts' features. ``freq`` is (how many records
    share the pair's name key, how many its street) when the caller counted them (the scan):
    agreement on a common name or a busy address then weighs less."""
    total = 0.0
    reasons: list[str] = []
    name_count, street_count = freq or (0, 0)
    # Names: the Chinese characters when both have them, else first/last (or swapped).
    if a[CJK] and b[CJK] and a[CJK] == b[CJK]:
        # Chinese names are less distinctive than Latin first + last
        total += _freq_weight(5.5, name_count, NAME_FREQ_K["cjk"], NAME_FLOOR)
        reasons.append("same_name")
    else:
        fa, la, fb, lb = a[FN], a[LN], b[FN], b[LN]
        straight = _name_weight(_name_sim(fa, fb), 3.5) + _name_weight(_name_sim(la, lb), 4.0)
        swapped = _name_weight(_name_sim(fa, lb), 3.5) + _name_weight(_name_sim(la, fb), 4.0)
        if swapped > straight + 0.5 and (fa or la) and (fb or lb):
            total += swapped - 0.5
            reasons.append("name_swapped")
        elif straight > 0:
            exact = fa == fb and la == lb and (fa or la)
            if exact or straight >= 7.0:
                k = NAME_FREQ_K["cjk" if a[CJK] or b[CJK] else "latin"]
                straight = _freq_weight(straight, name_count, k, NAME_FLOOR)
            elif a[CJK] or b[CJK]:
                # Chinese names that sound alike in pinyin (瞿林/瞿丽, 欧莹/"Ming Ou") are
                # usually different people: a little evidence, not a name agreement.
                straight = min(straight, CJK_SIMILAR_MAX)
            total += straight
            if exact:
                reasons.append("same_name")
            elif _nick(fa, fb):
                reasons.append("nickname")
                reasons.append("name_similar")
            else:
                reasons.append("name_similar")
        else:
            total += straight
        if a[CJK] and b[CJK]:  # both Chinese and not the same characters
            total -= 1.0
    phones_a, phones_b = a[PHONES], b[PHONES]
    if phones_a and phones_b:
        if set(phones_a.split()) & set(phones_b.split()):
            total += 6.0
            reasons.append("same_mobile")
        else:
            total -= 1.0
    if a[EMAIL] and b[EMAIL]:
        if a[EMAIL] == b[EMAIL]:
            total += 6.0
            reasons.append("same_email")
        else:
            total -= 0.5
    for weight, reason in (_birthday_cmp(a[BDAY], b[BDAY]), _id_cmp(a[IDNO], b[IDNO])):
        total += weight
        if reason:
            reasons.append(reason)
    # Where they live: the street, postal code, city and province say much the same thing,
    # so when the street agrees exactly the others add no further agreement (only
    # disagreement), and a street many records share weighs less.
    street_w, street_r = _street_cmp(a[STREET], b[STREET])
    same_street = street_r == "address"
    if same_street:
        street_w = _freq_weight(street_w, street_count, STREET_FREQ_K, STREET_FLOOR)
    total += street_w
    if street_r:
        reasons.append(street_r)
    for weight, reason in (_postal_cmp(a[POSTAL], b[POSTAL]), _city_cmp(a[CITY], b[CITY])):
        if same_street and weight > 0:
            weight = min(weight, 0.5)
        total += weight
        if reason:
            reasons.append(reason)
    if a[PROV] and b[PROV]:
        total += (0.0 if same_street else 0.3) if a[PROV] == b[PROV] else -0.5
    if a[COMPANY] and b[COMPANY]:
        total += 0.5 if a[COMPANY] == b[COMPANY] else -0.3
    return _logistic(total), reasons


def score_accounts(a: tuple[str, ...], b: tuple[str, ...]) -> tuple[float, list[str]]:
    total = 0.0
    reasons: list[str] = []
    if a[A_CORE] and b[A_CORE]:
        if a[A_CORE] == b[A_CORE] or (a[A_PINYIN] and a[A_PINYIN] == b[A_PINYIN]):
            total += 8.0
            reasons.append("same_company")
        else:
            sim = JaroWinkler.normalized_similarity(a[A_CORE], b[A_CORE])
            if a[A_PINYIN] and b[A_PINYIN]:
                sim = max(sim, JaroWinkler.normalized_similarity(a[A_PINYIN], b[A_PINYIN]))
            shorter, longer = sorted((a[A_CORE], b[A_CORE]), key=len)
            if len(shorter) >= 2 and shorter in longer:
                sim = max(sim, 0.9)
            if sim >= 0.9:
                total += 5.0
                reasons.append("company_similar")
            elif sim >= 0.8:
                total += 1.0
            else:
                total -= 5.0
    if a[A_PHONES] and b[A_PHONES]:
        if set(a[A_PHONES].split()) & set(b[A_PHONES].split()):
            total += 4.0
            reasons.append("same_mobile")
        else:
            total -= 0.5
    if a[A_EMAIL] and b[A_EMAIL] and a[A_EMAIL] == b[A_EMAIL]:
        total += 4.0
        reasons.append("same_email")
    if a[A_TAX] and b[A_TAX]:
        if a[A_TAX] == b[A_TAX]:
            total += 8.0
            reasons.append("tax_number")
        else:
            total -= 6.0
    if a[A_WEB] and b[A_WEB]:
        if a[A_WEB] == b[A_WEB]:
            total += 3.0
            reasons.append("website")
        else:
            total -= 1.0
    for weight, reason in (
        _street_cmp(a[A_STREET], b[A_STREET]),
        _postal_cmp(a[A_POSTAL], b[A_POSTAL]),
        _city_cmp(a[A_CITY], b[A_CITY]),
    ):
        total += weight
        if reason:
            reasons.append(reason)
    return _logistic(total), reasons


def score(
    object_key: str, a: tuple[str, ...], b: tuple[str, ...], freq: tuple[int, int] | None = None
) -> tuple[float, list[str]]:
    if object_key == CONTACT:
        return score_contacts(a, b, freq)
    return score_accounts(a, b)


def score_rows(object_key: str, a: dict, b: dict) -> tuple[float, list[str]]:
    """Score two records given as dicts of their fields (the tests' and the form's way)."""
    return score(object_key, features(object_key, a), features(object_key, b))
