"""One validation path for customer fields, whatever the way in: form, API, import, CLI.

``CONTACT_FIELDS`` and ``ACCOUNT_FIELDS`` describe each field a person may enter (kind,
maximum length, choices, and the aliases a file header may use for it).
``clean_contact_values(raw, workspace=...)`` and ``clean_account_values(...)`` turn raw
input (strings from a form or a CSV cell, numbers and dates from an XLSX cell, JSON values)
into values ready for the model, and return ``(clean, errors)`` with translated messages
per field. They are pure: no database writes, and no query unless custom fields are given
without their ``definitions``. The importer calls them once per row, so they are written
for speed (fast paths for the common shapes of phones and dates).

Keys of ``raw`` are model field names; ``address`` is accepted for ``street``; custom
fields come as ``{"custom": {key: value}}`` or as ``"custom.<key>"``. Unknown keys are
errors. Only the keys given are returned (plus the derived names), empty input clears a
field ("" for text, ``None`` for dates and numbers). Custom values are checked by
``guanxi.platform.custom_fields.clean_value`` (and, unless ``partial``, for required fields
and defaults); whether a unique custom value is taken is the caller's check
(``custom_fields.validate`` with the model), since it needs the database.
"""

from __future__ import annotations

import datetime as dt
import decimal
import re
import unicodedata
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from functools import cache
from typing import Any

import phonenumbers
from django.core.exceptions import ValidationError
from django.core.validators import EmailValidator
from django.utils import translation
from django.utils.translation import gettext_lazy as _

from . import normalize
from .models import (
    AccountType,
    Channel,
    Education,
    Gender,
    IncomeBand,
    LifecycleStage,
    LoyaltyStage,
)

CONTACT_KEY = "customers.contact"
ACCOUNT_KEY = "customers.account"

TEXT = "text"
LONG_TEXT = "long_text"
PHONE = "phone"
EMAIL = "email"
DATE = "date"
CHOICE = "choice"
DECIMAL = "decimal"
INTEGER = "integer"
LATITUDE = "latitude"
LONGITUDE = "longitude"
COUNTRY = "country"
CURRENCY = "currency"
ID_NUMBER = "id_number"


@dataclass(frozen=True)
class FieldDef:
    name: str
    label: Any
    kind: str = TEXT
    max_length: int | None = None
    choices: Any = None  # a TextChoices class
    aliases: tuple[str, ...] = ()
    max_digits: int | None = None
    decimal_places: int | None = None
    synonyms: dict[str, str] = field(default_factory=dict)  # choice synonyms → value


# --- field definitions -----------------------------------------------------------------

_GENDER_SYNONYMS = {
    "男": "male",
    "男性": "male",
    "男士": "male",
    "先生": "male",
    "m": "male",
    "man": "male",
    "male": "male",
    "女": "female",
    "女性": "female",
    "女士": "female",
    "小姐": "female",
    "f": "female",
    "w": "female",
    "woman": "female",
    "female": "female",
    "其他": "other",
    "其它": "other",
    "o": "other",
    "x": "other",
}

_SHARED = (
    FieldDef(
        "code",
        _("customer code"),
        max_length=64,
        aliases=(
            "code",
            "customer code",
            "customer no",
            "customer number",
            "id",
            "rec_id",
            "record_id",
            "recid",
            "客户代码",
            "客户编号",
            "客户编码",
            "编号",
            "编码",
            "代码",
            "客户号",
        ),
    ),
    FieldDef(
        "lifecycle_stage",
        _("lifecycle stage"),
        CHOICE,
        20,
        LifecycleStage,
        aliases=(
            "lifecycle stage",
            "lifecycle",
            "stage",
            "生命周期",
            "生命周期阶段",
            "客户阶段",
            "阶段",
        ),
        synonyms={"潜在": "potential", "潜在客户": "potential", "新客户": "new", "流失": "lost"},
    ),
    FieldDef(
        "loyalty_stage",
        _("loyalty stage"),
        CHOICE,
        20,
        LoyaltyStage,
        aliases=(
            "loyalty stage",
            "loyalty",
            "忠诚度",
            "忠诚度阶段",
        ),
    ),
    FieldDef(
        "source",
        _("source"),
        max_length=60,
        aliases=(
            "source",
            "lead source",
            "来源",
            "客户来源",
            "渠道来源",
        ),
    ),
    FieldDef(
        "region", _("region"), max_length=60, aliases=("region", "area", "区域", "大区", "片区")
    ),
    FieldDef(
        "industry", _("industry"), max_length=60, aliases=("industry", "sector", "行业", "所属行业")
    ),
    FieldDef(
        "commission_code",
        _("commission code"),
        max_length=30,
        aliases=(
            "commission code",
            "提成代码",
            "佣金代码",
        ),
    ),
    FieldDef(
        "phone",
        _("phone"),
        PHONE,
        32,
        aliases=(
            "phone",
            "tel",
            "telephone",
            "office phone",
            "work phone",
            "landline",
            "电话",
            "座机",
            "固话",
            "固定电话",
            "办公电话",
            "电话号码",
            "联系电话",
        ),
    ),
    FieldDef(
        "email",
        _("e-mail"),
        EMAIL,
        254,
        aliases=(
            "email",
            "e-mail",
            "mail",
            "email address",
            "邮箱",
            "电子邮件",
            "电子邮箱",
            "邮件",
            "邮箱地址",
        ),
    ),
    FieldDef(
        "country",
        _("country"),
        COUNTRY,
        2,
        aliases=("country", "nation", "国家", "国家地区", "国别"),
    ),
    FieldDef(
        "province",
        _("province"),
        max_length=60,
        aliases=(
            "province",
            "state",
            "省",
            "省份",
            "省市",
            "所在省份",
        ),
    ),
    FieldDef(
        "city",
        _("city"),
        max_length=60,
        aliases=("city", "town", "suburb", "locality", "城市", "市", "所在城市"),
    ),
    FieldDef(
        "district",
        _("district"),
        max_length=60,
        aliases=("district", "county", "区", "区县", "县区"),
    ),
    FieldDef(
        "street",
        _("address"),
        max_length=255,
        aliases=(
            "street",
            "address",
            "street address",
            "addr",
            "street_number",
            "house_number",
            "address_1",
            "address1",
            "address_2",
            "address2",
            "地址",
            "详细地址",
            "街道",
            "街道地址",
            "通讯地址",
            "联系地址",
            "公司地址",
        ),
    ),
    FieldDef(
        "postal_code",
        _("postal code"),
        max_length=20,
        aliases=(
            "postal code",
            "postcode",
            "zip",
            "zip code",
            "zipcode",
            "邮编",
            "邮政编码",
        ),
    ),
    FieldDef("latitude", _("latitude"), LATITUDE, aliases=("latitude", "lat", "纬度")),
    FieldDef("longitude", _("longitude"), LONGITUDE, aliases=("longitude", "lng", "lon", "经度")),
    FieldDef(
        "notes",
        _("notes"),
        LONG_TEXT,
        aliases=("notes", "note", "remarks", "comment", "备注", "说明"),
    ),
    FieldDef("currency", _("currency"), CURRENCY, 3, aliases=("currency", "币种", "货币")),
    FieldDef(
        "payment_terms",
        _("payment terms"),
        max_length=60,
        aliases=(
            "payment terms",
            "付款条件",
            "付款方式",
            "账期",
        ),
    ),
)

_CONTACT_ONLY = (
    FieldDef(
        "name",
        _("name"),
        max_length=200,
        aliases=(
            "name",
            "full name",
            "contact",
            "contact name",
            "姓名",
            "名字",
            "联系人",
            "联系人姓名",
            "客户姓名",
        ),
    ),
    FieldDef(
        "first_name",
        _("first name"),
        max_length=100,
        aliases=(
            "first name",
            "firstname",
            "given name",
            "forename",
            "given_name",
            "名",
        ),
    ),
    FieldDef(
        "last_name",
        _("last name"),
        max_length=100,
        aliases=(
            "last name",
            "lastname",
            "surname",
            "family name",
            "family_name",
            "姓",
            "姓氏",
        ),
    ),
    FieldDef(
        "company",
        _("company"),
        max_length=200,
        aliases=(
            "company",
            "company name",
            "organization",
            "organisation",
            "employer",
            "account",
            "公司",
            "单位",
            "公司名称",
            "工作单位",
            "单位名称",
            "企业",
            "企业名称",
            "所属公司",
        ),
    ),
    FieldDef(
        "title",
        _("job title"),
        max_length=120,
        aliases=(
            "title",
            "job title",
            "position",
            "role",
            "职位",
            "职务",
            "职称",
            "岗位",
            "头衔",
        ),
    ),
    FieldDef(
        "department",
        _("department"),
        max_length=120,
        aliases=("department", "dept", "部门", "所属部门"),
    ),
    FieldDef(
        "mobile",
        _("mobile"),
        PHONE,
        32,
        aliases=(
            "mobile",
            "mobile phone",
            "cell",
            "cellphone",
            "cell phone",
            "mobile number",
            "手机",
            "手机号",
            "手机号码",
            "移动电话",
        ),
    ),
    FieldDef(
        "gender",
        _("gender"),
        CHOICE,
        10,
        Gender,
        aliases=("gender", "sex", "性别"),
        synonyms=_GENDER_SYNONYMS,
    ),
    FieldDef(
        "birthday",
        _("birthday"),
        DATE,
        aliases=(
            "birthday",
            "birth date",
            "date of birth",
            "dob",
            "birthdate",
            "生日",
            "出生日期",
            "出生年月日",
        ),
    ),
    FieldDef(
        "id_number",
        _("ID number"),
        ID_NUMBER,
        40,
        aliases=(
            "id number",
            "id no",
            "id card",
            "identity number",
            "national id",
            "soc_sec_id",
            "ssn",
            "social security number",
            "身份证",
            "身份证号",
            "身份证号码",
            "证件号",
            "证件号码",
        ),
    ),
    FieldDef("family", _("family"), LONG_TEXT, aliases=("family", "家庭", "家庭情况")),
    FieldDef(
        "income_band",
        _("income band"),
        CHOICE,
        20,
        IncomeBand,
        aliases=(
            "income band",
            "income",
            "收入",
            "收入水平",
        ),
    ),
    FieldDef(
        "education",
        _("education"),
        CHOICE,
        20,
        Education,
        aliases=(
            "education",
            "学历",
            "教育程度",
        ),
        synonyms={
            "本科": "bachelor",
            "硕士": "master",
            "博士": "doctorate",
            "高中": "secondary",
            "大专": "vocational",
            "专科": "vocational",
            "中专": "vocational",
        },
    ),
    FieldDef("hobbies", _("hobbies"), LONG_TEXT, aliases=("hobbies", "hobby", "爱好", "兴趣爱好")),
    FieldDef("habits", _("habits"), LONG_TEXT, aliases=("habits", "习惯", "生活习惯")),
    FieldDef(
        "personality",
        _("personality notes"),
        LONG_TEXT,
        aliases=("personality", "性格", "性格特点"),
    ),
    FieldDef(
        "preferred_channel",
        _("preferred channel"),
        CHOICE,
        10,
        Channel,
        aliases=(
            "preferred channel",
            "联系方式偏好",
            "首选联系方式",
        ),
        synonyms={
            "微信": "wechat",
            "短信": "sms",
            "电话": "phone",
            "邮件": "email",
            "邮寄": "mail",
            "拜访": "visit",
        },
    ),
    FieldDef(
        "preferred_time",
        _("preferred contact time"),
        max_length=60,
        aliases=(
            "preferred time",
            "preferred contact time",
            "联系时间",
            "方便联系时间",
        ),
    ),
)

_ACCOUNT_ONLY = (
    FieldDef(
        "name",
        _("name"),
        max_length=200,
        aliases=(
            "name",
            "account",
            "account name",
            "company",
            "company name",
            "organization",
            "organisation",
            "customer",
            "customer name",
            "公司",
            "公司名称",
            "客户名称",
            "单位",
            "单位名称",
            "企业名称",
            "名称",
            "客户",
        ),
    ),
    FieldDef(
        "short_name",
        _("short name"),
        max_length=100,
        aliases=("short name", "abbreviation", "简称", "公司简称"),
    ),
    FieldDef(
        "account_type",
        _("customer type"),
        CHOICE,
        20,
        AccountType,
        aliases=(
            "customer type",
            "account type",
            "type",
            "客户类型",
            "类型",
        ),
        synonyms={
            "客户": "customer",
            "潜在客户": "prospect",
            "代理商": "agent",
            "经销商": "agent",
            "合作伙伴": "partner",
            "供应商": "supplier",
            "竞争对手": "competitor",
        },
    ),
    FieldDef(
        "website",
        _("website"),
        max_length=200,
        aliases=("website", "web", "url", "网站", "网址", "官网"),
    ),
    FieldDef(
        "tax_number",
        _("tax number"),
        max_length=40,
        aliases=(
            "tax number",
            "tax id",
            "vat number",
            "税号",
            "纳税人识别号",
            "统一社会信用代码",
            "信用代码",
        ),
    ),
    FieldDef(
        "invoice_title",
        _("invoice title"),
        max_length=200,
        aliases=("invoice title", "发票抬头", "开票抬头"),
    ),
    FieldDef(
        "credit_limit",
        _("credit limit"),
        DECIMAL,
        max_digits=16,
        decimal_places=2,
        aliases=(
            "credit limit",
            "信用额度",
            "授信额度",
        ),
    ),
    FieldDef(
        "credit_rating",
        _("credit rating"),
        max_length=20,
        aliases=("credit rating", "信用等级", "信用评级"),
    ),
    FieldDef("credit_record", _("credit record"), LONG_TEXT, aliases=("credit record", "信用记录")),
    FieldDef(
        "employees",
        _("employees"),
        INTEGER,
        aliases=(
            "employees",
            "headcount",
            "staff",
            "员工",
            "员工人数",
            "员工数",
            "人数",
        ),
    ),
    FieldDef(
        "annual_revenue",
        _("annual revenue"),
        DECIMAL,
        max_digits=18,
        decimal_places=2,
        aliases=(
            "annual revenue",
            "revenue",
            "turnover",
            "年营业额",
            "年收入",
            "营业额",
            "年销售额",
        ),
    ),
)

CONTACT_FIELDS: dict[str, FieldDef] = {f.name: f for f in (*_CONTACT_ONLY, *_SHARED)}
ACCOUNT_FIELDS: dict[str, FieldDef] = {f.name: f for f in (*_ACCOUNT_ONLY, *_SHARED)}

# The columns of a plain export (and of a file that needs no mapping), in order.
CONTACT_COLUMNS = (
    "code",
    "name",
    "first_name",
    "last_name",
    "company",
    "title",
    "department",
    "phone",
    "mobile",
    "email",
    "street",
    "city",
    "district",
    "province",
    "postal_code",
    "country",
    "birthday",
    "gender",
    "id_number",
    "lifecycle_stage",
    "loyalty_stage",
    "source",
    "region",
    "industry",
    "notes",
)
ACCOUNT_COLUMNS = (
    "code",
    "name",
    "short_name",
    "account_type",
    "phone",
    "email",
    "website",
    "street",
    "city",
    "district",
    "province",
    "postal_code",
    "country",
    "industry",
    "tax_number",
    "invoice_title",
    "credit_limit",
    "employees",
    "annual_revenue",
    "lifecycle_stage",
    "loyalty_stage",
    "source",
    "region",
    "notes",
)
# Input names that stand for a model field.
INPUT_ALIASES = {"address": "street"}


def fields_for(object_key: str) -> dict[str, FieldDef]:
    if object_key == CONTACT_KEY:
        return CONTACT_FIELDS
    if object_key == ACCOUNT_KEY:
        return ACCOUNT_FIELDS
    raise ValueError(object_key)


def columns_for(object_key: str) -> tuple[str, ...]:
    return CONTACT_COLUMNS if object_key == CONTACT_KEY else ACCOUNT_COLUMNS


# --- header matching ---------------------------------------------------------------------

_HEADER_JUNK = re.compile(r"[\s_\-\.\,，。、:：;；/\\()（）\[\]【】*＊#'\"]+")


def header_key(text: Any) -> str:
    """A header as compared: NFKC, simplified, lower case, no spaces or punctuation;
    "E-mail " and "e_mail" and "電子郵件" meet their aliases."""
    return _HEADER_JUNK.sub("", normalize.fold(str(text or "")))


@cache
def _alias_index(object_key: str) -> dict[str, str]:
    index: dict[str, str] = {}
    defs = fields_for(object_key)
    # The field name wins over another field's synonym; then our aliases; then the labels
    # in each language (a translation may reuse a word an alias gives another field).
    for fdef in defs.values():
        index.setdefault(header_key(fdef.name), fdef.name)
    for name, target in INPUT_ALIASES.items():
        index.setdefault(header_key(name), target)
    for fdef in defs.values():
        for alias in fdef.aliases:
            index.setdefault(header_key(alias), fdef.name)
    for lang in ("en", "zh-hans", "zh-hant"):
        with translation.override(lang):
            for fdef in defs.values():
                index.setdefault(header_key(str(fdef.label)), fdef.name)
    return index


def match_header(header: Any, object_key: str, custom_defs: Iterable = ()) -> str:
    """The field a file column stands for ("" when none): a field name, label or alias, or
    ``custom.<key>`` for a custom field named by its key or label."""
    key = header_key(header)
    if not key:
        return ""
    text = str(header).strip()
    if text.startswith("custom."):
        wanted = text[len("custom.") :]
        for definition in custom_defs:
            if definition.key == wanted:
                return f"custom.{definition.key}"
    found = _alias_index(object_key).get(key)
    if found:
        return found
    for definition in custom_defs:
        if key in (header_key(definition.key), header_key(definition.label)):
            return f"custom.{definition.key}"
    return ""


# Fields the header matching gives several columns (a house number, address line 1 and
# line 2 all go to ``street``); their values are joined with spaces, in the order of
# ``join_rank`` and then of the file.
AUTO_JOINED = frozenset({"street"})
_JOIN_RANKS = {
    "streetnumber": 0,
    "housenumber": 0,
    "streetno": 0,
    "houseno": 0,
    "address2": 2,
    "addressline2": 2,
    "street2": 2,
}


def join_rank(header: Any) -> int:
    """Where a column's value goes when several columns fill one text field: house
    numbers first, then the address (line 1), then line 2."""
    return _JOIN_RANKS.get(header_key(header), 1)


def joinable(object_key: str, name: str) -> bool:
    """Whether several columns may fill this field (text fields: their values are joined)."""
    fdef = fields_for(object_key).get(INPUT_ALIASES.get(name, name))
    return fdef is not None and fdef.kind in (TEXT, LONG_TEXT) and name != "code"


def match_headers(headers: Iterable[Any], object_key: str, custom_defs: Iterable = ()) -> dict:
    """``{column: field}`` for every column; a field matched by two columns keeps the first,
    except the fields of ``AUTO_JOINED`` (several address columns → ``street``)."""
    custom_defs = list(custom_defs)
    taken: set[str] = set()
    out: dict[str, str] = {}
    for header in headers:
        target = match_header(header, object_key, custom_defs)
        if target and target in taken and target not in AUTO_JOINED:
            target = ""
        if target:
            taken.add(target)
        out[str(header)] = target
    return out


# --- messages (lazy; evaluated only when a value is bad) ---------------------------------

MSG_NUL = _("Text may not contain NUL characters.")
MSG_TOO_LONG = _("At most %(n)s characters.")
MSG_PHONE = _("Enter a valid phone number.")
MSG_EMAIL = _("Enter a valid e-mail address.")
MSG_DATE = _("Enter a date such as 2024-01-31.")
MSG_REAL_DATE = _("This date does not exist.")
MSG_CHOICE = _("“%(value)s” is not one of the choices.")
MSG_NUMBER = _("Enter a number.")
MSG_INTEGER = _("Enter a whole number, 0 or more.")
MSG_DIGITS = _("Enter a number with at most %(n)s digits before the decimal point.")
MSG_LATITUDE = _("Enter a latitude between -90 and 90.")
MSG_LONGITUDE = _("Enter a longitude between -180 and 180.")
MSG_COUNTRY = _("Enter a country as a two-letter code such as CN.")
MSG_CURRENCY = _("Enter a currency as a three-letter code such as CNY.")
MSG_REQUIRED = _("This field is required.")
MSG_UNKNOWN = _("There is no field “%(name)s”.")
MSG_NAME_REQUIRED = _("Enter a name, or a first or last name.")


class _Bad(Exception):
    def __init__(self, message):
        self.message = message


# --- value cleaners --------------------------------------------------------------------


def _as_text(raw: Any) -> str:
    if raw is None:
        return ""
    if isinstance(raw, str):
        return raw.strip()
    if isinstance(raw, bool):
        return "1" if raw else "0"
    if isinstance(raw, float) and raw.is_integer():
        return str(int(raw))  # 200000.0 from an XLSX number cell → "200000"
    if isinstance(raw, dt.datetime):
        return raw.isoformat(sep=" ")
    return str(raw).strip()


as_text = _as_text  # a cell as stripped text (numbers and dates as they read)


def _text(fdef: FieldDef, raw: Any) -> str:
    text = _as_text(raw)
    if "\x00" in text:
        raise _Bad(MSG_NUL)
    if fdef.max_length and len(text) > fdef.max_length:
        raise _Bad(MSG_TOO_LONG % {"n": fdef.max_length})
    return text


def _long_text(fdef: FieldDef, raw: Any) -> str:
    text = _as_text(raw) if not isinstance(raw, str) else raw.strip()
    if "\x00" in text:
        raise _Bad(MSG_NUL)
    if len(text) > 10_000:
        raise _Bad(MSG_TOO_LONG % {"n": 10_000})
    return text


def _phone(fdef: FieldDef, raw: Any) -> str:
    text = _as_text(raw)
    if not text:
        return ""
    if "\x00" in text:
        raise _Bad(MSG_NUL)
    try:
        value = normalize.phone(text)
    except normalize.InvalidPhone:
        raise _Bad(MSG_PHONE) from None
    if len(value) > 32:
        raise _Bad(MSG_PHONE)
    return value


_validate_email = EmailValidator()


def _email(fdef: FieldDef, raw: Any) -> str:
    text = normalize.email(_as_text(raw))
    if not text:
        return ""
    if len(text) > 254:
        raise _Bad(MSG_TOO_LONG % {"n": 254})
    try:
        _validate_email(text)
    except ValidationError:
        raise _Bad(MSG_EMAIL) from None
    return text


_DATE_SEP = re.compile(r"(\d{4})\s*[-/\.年]\s*(\d{1,2})\s*[-/\.月]\s*(\d{1,2})\s*日?(?:[ T].*)?")
_DATE_COMPACT = re.compile(r"(\d{4})(\d{2})(\d{2})")
_EXCEL_EPOCH = dt.date(1899, 12, 30)


def _date(fdef: FieldDef, raw: Any) -> dt.date | None:
    if raw is None:
        return None
    if isinstance(raw, dt.datetime):
        return raw.date()
    if isinstance(raw, dt.date):
        return raw
    if isinstance(raw, int | float) and not isinstance(raw, bool):
        return _excel_date(raw)
    text = unicodedata.normalize("NFKC", str(raw)).strip()
    if not text:
        return None
    m = _DATE_SEP.fullmatch(text) or _DATE_COMPACT.fullmatch(text)
    if m:
        try:
            return dt.date(int(m.group(1)), int(m.group(2)), int(m.group(3)))
        except ValueError:
            raise _Bad(MSG_REAL_DATE) from None
    if re.fullmatch(r"\d{1,5}(?:\.\d+)?", text):
        return _excel_date(float(text))
    raise _Bad(MSG_DATE)


def _excel_date(serial: float) -> dt.date:
    # Excel counts days from 1899-12-30 (its 1900 leap-year bug included); 2958465 = 9999-12-31.
    if not 1 <= serial <= 2958465:
        raise _Bad(MSG_DATE)
    return _EXCEL_EPOCH + dt.timedelta(days=int(serial))


@cache
def _choice_index(choices, synonyms_items: tuple) -> dict[str, str]:
    index: dict[str, str] = {}
    for value, _label in choices.choices:
        index[normalize.fold(value)] = value
        index[normalize.fold(value.replace("_", " "))] = value
    for lang in ("en", "zh-hans", "zh-hant"):
        with translation.override(lang):
            for value, label in choices.choices:
                index.setdefault(normalize.fold(str(label)), value)
    for word, value in synonyms_items:
        index.setdefault(normalize.fold(word), value)
    return index


def _choice(fdef: FieldDef, raw: Any) -> str:
    text = _as_text(raw)
    if not text:
        return ""
    index = _choice_index(fdef.choices, tuple(sorted(fdef.synonyms.items())))
    value = index.get(text) or index.get(normalize.fold(text))
    if value is None:
        raise _Bad(MSG_CHOICE % {"value": text[:50]})
    return value


_MONEY_JUNK = re.compile(r"[,，\s¥￥$€£]|^(?:RMB|CNY|USD)", re.IGNORECASE)


def _to_decimal(raw: Any) -> decimal.Decimal | None:
    if isinstance(raw, bool):
        raise _Bad(MSG_NUMBER)
    if isinstance(raw, int | decimal.Decimal):
        number = decimal.Decimal(raw)
    elif isinstance(raw, float):
        number = decimal.Decimal(repr(raw))
    else:
        text = _MONEY_JUNK.sub("", unicodedata.normalize("NFKC", _as_text(raw)))
        if not text:
            return None
        try:
            number = decimal.Decimal(text)
        except decimal.InvalidOperation:
            raise _Bad(MSG_NUMBER) from None
    if not number.is_finite():
        raise _Bad(MSG_NUMBER)
    return number


def _decimal(fdef: FieldDef, raw: Any) -> decimal.Decimal | None:
    number = _to_decimal(raw)
    if number is None:
        return None
    places = fdef.decimal_places or 0
    whole = (fdef.max_digits or 18) - places
    try:
        number = number.quantize(decimal.Decimal(1).scaleb(-places), rounding=decimal.ROUND_HALF_UP)
    except decimal.InvalidOperation:  # more digits than the context holds: far too big
        raise _Bad(MSG_DIGITS % {"n": whole}) from None
    if abs(number) >= decimal.Decimal(10) ** whole:
        raise _Bad(MSG_DIGITS % {"n": whole})
    return number


def _integer(fdef: FieldDef, raw: Any) -> int | None:
    try:
        number = _to_decimal(raw)
    except _Bad:
        raise _Bad(MSG_INTEGER) from None
    if number is None:
        return None
    if number != number.to_integral_value() or number < 0 or number > 2_147_483_647:
        raise _Bad(MSG_INTEGER)
    return int(number)


def _coordinate(limit: int, message):
    def clean(fdef: FieldDef, raw: Any) -> decimal.Decimal | None:
        try:
            number = _to_decimal(raw)
        except _Bad:
            raise _Bad(message) from None
        if number is None:
            return None
        if abs(number) > limit:
            raise _Bad(message)
        return number.quantize(decimal.Decimal("0.000001"), rounding=decimal.ROUND_HALF_UP)

    return clean


_COUNTRY_NAMES = {
    "中国": "CN",
    "中华人民共和国": "CN",
    "中國": "CN",
    "china": "CN",
    "prc": "CN",
    "peoplesrepublicofchina": "CN",
    "中国大陆": "CN",
    "大陆": "CN",
    "香港": "HK",
    "hongkong": "HK",
    "中国香港": "HK",
    "澳门": "MO",
    "macau": "MO",
    "macao": "MO",
    "中国澳门": "MO",
    "台湾": "TW",
    "taiwan": "TW",
    "中国台湾": "TW",
    "美国": "US",
    "usa": "US",
    "unitedstates": "US",
    "unitedstatesofamerica": "US",
    "america": "US",
    "英国": "GB",
    "uk": "GB",
    "unitedkingdom": "GB",
    "greatbritain": "GB",
    "england": "GB",
    "日本": "JP",
    "japan": "JP",
    "韩国": "KR",
    "southkorea": "KR",
    "korea": "KR",
    "德国": "DE",
    "germany": "DE",
    "法国": "FR",
    "france": "FR",
    "意大利": "IT",
    "italy": "IT",
    "西班牙": "ES",
    "spain": "ES",
    "荷兰": "NL",
    "netherlands": "NL",
    "瑞士": "CH",
    "switzerland": "CH",
    "俄罗斯": "RU",
    "russia": "RU",
    "加拿大": "CA",
    "canada": "CA",
    "澳大利亚": "AU",
    "australia": "AU",
    "新西兰": "NZ",
    "newzealand": "NZ",
    "新加坡": "SG",
    "singapore": "SG",
    "马来西亚": "MY",
    "malaysia": "MY",
    "泰国": "TH",
    "thailand": "TH",
    "越南": "VN",
    "vietnam": "VN",
    "印度尼西亚": "ID",
    "印尼": "ID",
    "indonesia": "ID",
    "菲律宾": "PH",
    "philippines": "PH",
    "印度": "IN",
    "india": "IN",
    "巴西": "BR",
    "brazil": "BR",
    "墨西哥": "MX",
    "mexico": "MX",
    "阿联酋": "AE",
    "uae": "AE",
    "unitedarabemirates": "AE",
    "沙特阿拉伯": "SA",
    "saudiarabia": "SA",
    "南非": "ZA",
    "southafrica": "ZA",
    "瑞典": "SE",
    "sweden": "SE",
    "挪威": "NO",
    "norway": "NO",
    "丹麦": "DK",
    "denmark": "DK",
    "芬兰": "FI",
    "finland": "FI",
    "比利时": "BE",
    "belgium": "BE",
    "奥地利": "AT",
    "austria": "AT",
    "爱尔兰": "IE",
    "ireland": "IE",
    "葡萄牙": "PT",
    "portugal": "PT",
    "波兰": "PL",
    "poland": "PL",
    "土耳其": "TR",
    "turkey": "TR",
    "以色列": "IL",
    "israel": "IL",
    "埃及": "EG",
    "egypt": "EG",
    "阿根廷": "AR",
    "argentina": "AR",
    "智利": "CL",
    "chile": "CL",
    "巴基斯坦": "PK",
    "pakistan": "PK",
    "孟加拉国": "BD",
    "bangladesh": "BD",
    "蒙古": "MN",
    "mongolia": "MN",
    "哈萨克斯坦": "KZ",
    "kazakhstan": "KZ",
}
_COUNTRY_CODES = frozenset(phonenumbers.SUPPORTED_REGIONS) | {"XK"}


def _country(fdef: FieldDef, raw: Any) -> str:
    text = _as_text(raw)
    if not text:
        return ""
    if len(text) == 2 and text.upper() in _COUNTRY_CODES:
        return text.upper()
    code = _COUNTRY_NAMES.get(header_key(text))
    if code is None:
        raise _Bad(MSG_COUNTRY)
    return code


_CURRENCY_NAMES = {
    "人民币": "CNY",
    "rmb": "CNY",
    "美元": "USD",
    "欧元": "EUR",
    "港币": "HKD",
    "港元": "HKD",
    "日元": "JPY",
    "英镑": "GBP",
}


def _currency(fdef: FieldDef, raw: Any) -> str:
    text = _as_text(raw)
    if not text:
        return ""
    if re.fullmatch(r"[A-Za-z]{3}", text):
        return text.upper()
    code = _CURRENCY_NAMES.get(header_key(text))
    if code is None:
        raise _Bad(MSG_CURRENCY)
    return code


def _id_number(fdef: FieldDef, raw: Any) -> str:
    text = re.sub(r"\s", "", unicodedata.normalize("NFKC", _as_text(raw))).upper()
    if "\x00" in text:
        raise _Bad(MSG_NUL)
    if len(text) > (fdef.max_length or 40):
        raise _Bad(MSG_TOO_LONG % {"n": fdef.max_length})
    return text


_CLEANERS: dict[str, Callable[[FieldDef, Any], Any]] = {
    TEXT: _text,
    LONG_TEXT: _long_text,
    PHONE: _phone,
    EMAIL: _email,
    DATE: _date,
    CHOICE: _choice,
    DECIMAL: _decimal,
    INTEGER: _integer,
    LATITUDE: _coordinate(90, MSG_LATITUDE),
    LONGITUDE: _coordinate(180, MSG_LONGITUDE),
    COUNTRY: _country,
    CURRENCY: _currency,
    ID_NUMBER: _id_number,
}


@cache
def _plan(object_key: str) -> dict[str, tuple[FieldDef, Callable]]:
    plan = {name: (fdef, _CLEANERS[fdef.kind]) for name, fdef in fields_for(object_key).items()}
    for alias, target in INPUT_ALIASES.items():
        plan[alias] = plan[target]
    return plan


def clean_value(object_key: str, name: str, raw: Any) -> Any:
    """One field's clean value; raises ``ValueError`` with the translated message."""
    fdef, cleaner = _plan(object_key)[name]
    try:
        return cleaner(fdef, raw)
    except _Bad as bad:
        raise ValueError(str(bad.message)) from None


# --- names ---------------------------------------------------------------------------------

COMPOUND_SURNAMES = frozenset(
    [
        "欧阳",
        "司马",
        "上官",
        "诸葛",
        "东方",
        "皇甫",
        "尉迟",
        "公孙",
        "慕容",
        "长孙",
        "宇文",
        "司徒",
        "夏侯",
        "轩辕",
        "令狐",
        "钟离",
        "端木",
        "独孤",
        "南宫",
        "西门",
        "百里",
        "呼延",
        "澹台",
        "公冶",
        "太史",
        "申屠",
        "闻人",
        "赫连",
        "万俟",
        "单于",
        "濮阳",
        "淳于",
        "司空",
        "东郭",
        "拓跋",
        "完颜",
        "歐陽",
        "諸葛",
        "長孫",
        "司馬",
        "鍾離",
        "東方",
    ]
)


def split_chinese_name(name: str) -> tuple[str, str]:
    """(last, first) of a 2–4 character Chinese name (欧阳娜娜 → 欧阳, 娜娜); ("", "")
    when the name is not one."""
    if not 2 <= len(name) <= 4 or not all(normalize.has_cjk(c) for c in name):
        return "", ""
    if len(name) >= 3 and name[:2] in COMPOUND_SURNAMES:
        return name[:2], name[2:]
    return name[:1], name[1:]


def join_name(last: str, first: str) -> str:
    """Chinese order without a space (张 + 三 → 张三); Western "First Last"."""
    if not last or not first:
        return last or first
    if normalize.has_cjk(last) or normalize.has_cjk(first):
        return f"{last}{first}"
    return f"{first} {last}"


# --- the entry points ------------------------------------------------------------------------


def _clean(raw: dict, object_key: str, *, workspace, partial: bool, definitions) -> tuple:
    plan = _plan(object_key)
    clean: dict[str, Any] = {}
    errors: dict[str, list] = {}
    custom_raw: dict[str, Any] = {}
    for key, value in raw.items():
        entry = plan.get(key)
        if entry is not None:
            fdef, cleaner = entry
            try:
                clean[fdef.name] = cleaner(fdef, value)
            except _Bad as bad:
                errors.setdefault(fdef.name, []).append(bad.message)
            continue
        if key == "custom":
            if isinstance(value, dict):
                custom_raw.update(value)
            elif value not in (None, ""):
                errors["custom"] = [_("Custom fields must be an object of key and value.")]
        elif key.startswith("custom."):
            custom_raw[key[len("custom.") :]] = value
        else:
            errors.setdefault(key, []).append(MSG_UNKNOWN % {"name": str(key)[:50]})
    if custom_raw or (not partial and (definitions or workspace is not None)):
        _clean_custom(custom_raw, object_key, workspace, partial, definitions, clean, errors)
    return clean, errors


def _clean_custom(custom_raw, object_key, workspace, partial, definitions, clean, errors):
    from guanxi.platform import custom_fields

    if definitions is None:
        definitions = custom_fields.definitions(workspace, object_key)
    defs = {d.key: d for d in definitions}
    result: dict[str, Any] = {}
    for key in custom_raw:
        if key not in defs:
            errors[f"custom.{key}"] = [
                _("There is no custom field “%(key)s”.") % {"key": str(key)[:50]}
            ]
    for key, definition in defs.items():
        if key in custom_raw:
            raw_value = custom_raw[key]
        elif partial:
            continue
        else:
            raw_value = definition.default
        try:
            value = custom_fields.clean_value(definition, raw_value, workspace=workspace)
        except ValueError as exc:
            errors[f"custom.{key}"] = [str(exc)]
            continue
        if value is None and definition.required and not partial:
            errors[f"custom.{key}"] = [MSG_REQUIRED]
            continue
        if value is None and partial and definition.required:
            errors[f"custom.{key}"] = [MSG_REQUIRED]
            continue
        if value is not None or partial:
            result[key] = value
    if result or custom_raw or not partial:
        clean["custom"] = result


def clean_contact_values(
    raw: dict, *, workspace, partial: bool = False, definitions: Iterable | None = None
) -> tuple[dict, dict]:
    """Clean values of a contact and ``{field: [messages]}``; see the module docstring.

    ``name`` defaults from the last and first names (张 + 三 → 张三; "Ann" + "Lee" →
    "Ann Lee"); a 2–4 character Chinese name with no first or last name given fills them
    (欧阳娜娜 → 欧阳, 娜娜). Unless ``partial``, a contact without any name is an error.
    ``definitions`` (the workspace's active custom fields) spares a query per call.
    In partial mode a custom value of ``None`` means "clear it".
    """
    clean, errors = _clean(
        raw, CONTACT_KEY, workspace=workspace, partial=partial, definitions=definitions
    )
    if "name" not in errors:
        name = clean.get("name", "")
        first, last = clean.get("first_name", ""), clean.get("last_name", "")
        if not name and (first or last):
            clean["name"] = join_name(last, first)[:200]
        elif name and "first_name" not in raw and "last_name" not in raw:
            last, first = split_chinese_name(name)
            if last:
                clean["last_name"], clean["first_name"] = last, first
        if not clean.get("name") and (not partial or "name" in clean):
            errors.setdefault("name", []).append(MSG_NAME_REQUIRED)
    return clean, errors


def clean_account_values(
    raw: dict, *, workspace, partial: bool = False, definitions: Iterable | None = None
) -> tuple[dict, dict]:
    """Clean values of an account and ``{field: [messages]}``; see the module docstring.
    Unless ``partial``, the name is required."""
    clean, errors = _clean(
        raw, ACCOUNT_KEY, workspace=workspace, partial=partial, definitions=definitions
    )
    if not partial and not clean.get("name") and "name" not in errors:
        errors["name"] = [MSG_REQUIRED]
    if partial and "name" in clean and not clean["name"] and "name" not in errors:
        errors["name"] = [MSG_REQUIRED]
    return clean, errors


def clean_values(object_key: str, raw: dict, **kwargs) -> tuple[dict, dict]:
    if object_key == CONTACT_KEY:
        return clean_contact_values(raw, **kwargs)
    return clean_account_values(raw, **kwargs)
