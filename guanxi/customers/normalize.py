"""Normal forms of what people type: phones (E.164, default region CN), e-mail addresses,
Chinese text (traditional → simplified), pinyin, and company names without legal suffixes.

Services, the importer, the duplicate check and search all use these, so "the same" means
the same thing everywhere.
"""

from __future__ import annotations

import re
import unicodedata
from functools import lru_cache

import phonenumbers
from opencc import OpenCC
from pypinyin import Style, lazy_pinyin

DEFAULT_REGION = "CN"

_t2s = OpenCC("t2s")
_CJK = re.compile(r"[\u3400-\u9fff\uf900-\ufaff]")
_SPACES = re.compile(r"\s+")


class InvalidPhone(ValueError):
    pass


def has_cjk(text: str) -> bool:
    return bool(_CJK.search(text or ""))


def simplified(text: str) -> str:
    """Traditional characters to simplified; other text unchanged."""
    if not text or not has_cjk(text):
        return text or ""
    return _t2s.convert(text)


def fold(text: str) -> str:
    """Search form: NFKC (full-width → half-width), simplified, lower case, single spaces."""
    text = unicodedata.normalize("NFKC", text or "")
    return _SPACES.sub(" ", simplified(text).lower()).strip()


@lru_cache(maxsize=65536)
def pinyin(text: str) -> tuple[str, str]:
    """(full pinyin, initials) of the Chinese characters in ``text``, lower case, no spaces:
    张三 → ("zhangsan", "zs"). Empty strings when ``text`` has no Chinese."""
    if not has_cjk(text):
        return "", ""
    # Character by character, as before (pypinyin reads a list of characters as one-character
    # words, without context), but each character converted once: names are many, their
    # characters few, and a name's conversion cost ~40 µs.
    syllables, initials = [], []
    for char in simplified(text):
        if _CJK.match(char):
            full, initial = _char_pinyin(char)
            syllables.append(full)
            initials.append(initial)
    return "".join(syllables).lower(), "".join(initials).lower()


@lru_cache(maxsize=32768)
def _char_pinyin(char: str) -> tuple[str, str]:
    return (
        "".join(lazy_pinyin([char], errors="ignore")),
        "".join(lazy_pinyin([char], style=Style.FIRST_LETTER, errors="ignore")),
    )


def phone(raw: str, *, region: str = DEFAULT_REGION) -> str:
    """E.164 (``+8613812345678``) of a phone number in any usual format; ``""`` for empty
    input. Raises ``InvalidPhone`` unless it is a valid number of its country (the right
    length and a prefix in use: "12345" is possible in China, but no number)."""
    text = unicodedata.normalize("NFKC", str(raw or "")).strip()
    if not text:
        return ""
    # The usual Chinese mobile (138 1234 5678, +86-138…) without the parser (~50 µs).
    mobile = _CN_MOBILE.fullmatch(_PHONE_PUNCTUATION.sub("", text)) if region == "CN" else None
    if mobile:
        if not _cn_mobile_range_in_use(mobile.group(1)[:7]):
            raise InvalidPhone(text)
        return "+86" + mobile.group(1)
    try:
        number = phonenumbers.parse(text, region)
    except phonenumbers.NumberParseException:
        raise InvalidPhone(text) from None
    if not phonenumbers.is_valid_number(number):
        raise InvalidPhone(text)
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)


_CN_MOBILE = re.compile(r"(?:\+?86)?(1[3-9]\d{9})")
_PHONE_PUNCTUATION = re.compile(r"[\s\-\(\)\.]")


@lru_cache(maxsize=65536)
def _cn_mobile_range_in_use(prefix: str) -> bool:
    """Whether mobiles starting with these 7 digits are in use (libphonenumber decides by
    the first digits): asked once per prefix instead of once per number."""
    number = phonenumbers.PhoneNumber(country_code=86, national_number=int(prefix + "0000"))
    return phonenumbers.is_valid_number(number)


def phone_national_digits(e164: str) -> str:
    """The digits a person dials at home: +8613812345678 → 13812345678, +862161234567 →
    02161234567."""
    if not e164:
        return ""
    # Chinese numbers without the parser (~50 µs a number; most numbers of an import):
    # mobiles (1[3-9], 11 digits) are dialled as they are, landlines of area codes 2x–8xx
    # with the trunk 0. Beijing (10…), 9xx, 400/800 numbers and the rest go to the parser.
    rest = e164[3:]
    if e164.startswith("+86") and rest.isascii() and rest.isdigit() and len(rest) >= 9:
        if len(rest) == 11 and rest[0] == "1" and rest[1] in "3456789":
            return rest
        if rest[0] in "2345678" and not rest.startswith(("400", "800")):
            return "0" + rest
    try:
        number = phonenumbers.parse(e164, None)
    except phonenumbers.NumberParseException:
        return re.sub(r"\D", "", e164)
    national = phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.NATIONAL)
    return re.sub(r"\D", "", national)


def email(raw: str) -> str:
    return unicodedata.normalize("NFKC", str(raw or "")).strip().lower()


# Legal forms, longest first so 股份有限公司 is removed before 有限公司.
_LEGAL_SUFFIXES = sorted(
    {
        "股份有限公司",
        "有限责任公司",
        "集团有限公司",
        "有限公司",
        "股份公司",
        "集团公司",
        "总公司",
        "分公司",
        "公司",
        "集团",
        "厂",
        "co., ltd.",
        "co.,ltd.",
        "co. ltd.",
        "co ltd",
        "co.,ltd",
        "company limited",
        "limited",
        "ltd.",
        "ltd",
        "incorporated",
        "inc.",
        "inc",
        "corporation",
        "corp.",
        "corp",
        "company",
        "co.",
        "co",
        "llc",
        "l.l.c.",
        "gmbh",
        "ag",
        "s.a.",
        "plc",
        "pte. ltd.",
        "pte ltd",
        "group",
    },
    key=len,
    reverse=True,
)
_PUNCT = re.compile(r"[\s\.,，。、()（）\-_&'\"·]+")


def company_core(name: str) -> str:
    """The company name without legal suffixes, punctuation and spaces, simplified and
    lower case: 上海華為技術有限公司 → 上海华为技术; "Acme Co., Ltd." → "acme"."""
    text = fold(name)
    changed = True
    while changed and text:
        changed = False
        for suffix in _LEGAL_SUFFIXES:
            if text.endswith(suffix) and len(text) > len(suffix):
                text = text[: -len(suffix)].rstrip(" ,.")
                changed = True
                break
    return _PUNCT.sub("", text)
