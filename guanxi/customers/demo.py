"""Demo and bench customers: realistic Chinese and English accounts and contacts, fast.

``seed_contacts(workspace=, actor=, count=)`` (``guanxi seed --contacts N``) adds ``count``
contacts to a bench workspace with ``bulk_create``: Faker builds pools of names,
companies, addresses and job titles once, and rows combine them (calling Faker per row
would take an hour for a million). A known share of rows (``DUPLICATE_SHARE``) are
planted duplicates of an earlier contact — a typo in the name, traditional characters,
the name in pinyin, a company without its legal suffix, another e-mail — and each planted
pair is written to ``var/seed-duplicates-<database>-<workspace id>.csv`` (original code, duplicate
code, kind) so the duplicate check's recall can be measured.

``seed_demo(workspace=, users=)`` fills the demo workspace with a few hundred accounts and
contacts: tags, stages, owners among the demo's sales people, some in the pool.
"""

from __future__ import annotations

import csv
import random
import re
import time
from dataclasses import dataclass, field
from datetime import date, timedelta
from pathlib import Path

from django.conf import settings
from django.db import connection, models, transaction
from django.utils import timezone
from faker import Faker
from opencc import OpenCC

from guanxi.platform import audit
from guanxi.platform.models import AuditAction, User

from . import normalize, search, search_keys
from .models import (
    Account,
    AccountTag,
    AccountType,
    Channel,
    Contact,
    ContactTag,
    Education,
    Gender,
    IncomeBand,
    LifecycleStage,
    LoyaltyStage,
    Tag,
    TagKind,
)
from .services.codes import ACCOUNT_PREFIX, CONTACT_PREFIX, codes_reserve

DUPLICATE_SHARE = 0.05
POOL_SHARE = 0.1  # contacts with no owner: in the customer pool (公海)
TAGGED_SHARE = 0.1
ENGLISH_SHARE = 0.12
BATCH = 2000
NAME_POOL = 40000
COMPANY_POOL = 3000

LIFECYCLE_WEIGHTS = {
    LifecycleStage.POTENTIAL: 40,
    LifecycleStage.NEW: 20,
    LifecycleStage.SATISFIED: 15,
    LifecycleStage.RETAINED: 10,
    LifecycleStage.LONG_STANDING: 8,
    LifecycleStage.LOST: 7,
}
SOURCES = ("展会", "官网", "转介绍", "电话营销", "广告", "合作伙伴", "trade show", "website")
INDUSTRIES = ("制造业", "零售", "金融", "医疗", "教育", "物流", "软件", "房地产", "能源", "餐饮")
REGIONS = ("华东", "华南", "华北", "华中", "西南", "西北", "东北")
TAG_NAMES = ("VIP", "重点客户", "展会名片", "老客户", "代理商", "待跟进", "大客户", "Key account")
INTEREST_NAMES = ("新品发布", "技术培训", "优惠活动", "行业报告")
MAIL_DOMAINS = ("163.com", "126.com", "qq.com", "sina.com", "gmail.com", "outlook.com")
MOBILE_PREFIXES = ("130", "131", "132", "135", "136", "137", "138", "139", "150", "151",
                   "152", "155", "156", "158", "159", "176", "177", "180", "186", "187", "188",
                   "189", "199")  # fmt: skip
# 6-digit ID-number region codes (province capitals and a few cities).
ID_REGIONS = ("110101", "310104", "440106", "440305", "330106", "320102", "510104", "420102",
              "610113", "370102", "500103", "120101", "210102", "350102", "430102", "410105")  # fmt: skip
_ID_WEIGHTS = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)
_ID_CHECK = "10X98765432"

_s2t = OpenCC("s2t")


def id_number(rng: random.Random, birthday: date, male: bool) -> str:
    """A well-formed 18-digit resident ID number (GB 11643 checksum)."""
    seq = rng.randrange(0, 500) * 2 + (1 if male else 0)
    body = f"{rng.choice(ID_REGIONS)}{birthday:%Y%m%d}{seq:03d}"
    total = sum(int(d) * w for d, w in zip(body, _ID_WEIGHTS, strict=True))
    return body + _ID_CHECK[total % 11]


@dataclass
class Pools:
    zh_names: list[tuple[str, str]]  # (family name, given name)
    en_names: list[tuple[str, str]]  # (first name, last name)
    zh_companies: list[str]
    en_companies: list[str]
    addresses: list[tuple[str, str, str, str, str]]  # province, city, district, street, postcode
    zh_titles: list[str]
    en_titles: list[str]
    given_chars: list[str] = field(default_factory=list)


def make_pools(seed, *, names: int = NAME_POOL, companies: int = COMPANY_POOL) -> Pools:
    zh, en = Faker("zh_CN"), Faker("en_US")
    zh.seed_instance(seed)
    en.seed_instance(seed)
    zh_names = list({(zh.last_name(), zh.first_name()) for _ in range(names)})
    zh_names.sort()
    en_names = sorted({(en.first_name(), en.last_name()) for _ in range(max(names // 8, 50))})
    zh_companies = sorted({zh.company() for _ in range(companies)})
    en_companies = sorted({en.company() for _ in range(max(companies // 8, 10))})
    addresses = [
        (zh.province(), zh.city_name(), zh.district() + "区", zh.street_address(), zh.postcode())
        for _ in range(2000)
    ]
    zh_titles = sorted({zh.job() for _ in range(300)})
    en_titles = sorted({en.job() for _ in range(200)})
    given_chars = sorted({c for _f, given in zh_names for c in given})
    return Pools(
        zh_names, en_names, zh_companies, en_companies, addresses, zh_titles, en_titles, given_chars
    )


def _weighted(rng: random.Random, weights: dict):
    return rng.choices(list(weights), weights=list(weights.values()))[0]


class ContactMaker:
    """Makes unsaved ``Contact`` rows from the pools, planting duplicates as it goes."""

    def __init__(self, *, workspace, actor, pools: Pools, accounts: dict, owners, rng, start):
        self.workspace = workspace
        self.actor = actor
        self.pools = pools
        self.accounts = accounts  # company name → account id
        self.owners = owners
        self.rng = rng
        self.serial = start  # makes mobiles and e-mails distinct across runs
        self.recent: list[Contact] = []  # originals a planted duplicate may copy
        self.now = timezone.now()

    def contact(self, code: str) -> tuple[Contact, tuple[str, str] | None]:
        """A new contact, and (original code, kind) when it is a planted duplicate."""
        rng = self.rng
        self.serial += 1
        if self.recent and rng.random() < DUPLICATE_SHARE:
            original = rng.choice(self.recent)
            contact, kind = self._variant(original)
            contact.code = code
            return contact, (original.code, kind)
        contact = self._fresh()
        contact.code = code
        if len(self.recent) < 5000:
            self.recent.append(contact)
        else:
            self.recent[rng.randrange(5000)] = contact
        return contact, None

    def _fresh(self) -> Contact:
        rng, pools, n = self.rng, self.pools, self.serial
        english = rng.random() < ENGLISH_SHARE
        if english:
            first, last = rng.choice(pools.en_names)
            name = f"{first} {last}"
            local = f"{first}.{last}{n % 1000}".lower()
            company = rng.choice(pools.en_companies) if rng.random() < 0.8 else ""
            title = rng.choice(pools.en_titles)
        else:
            last, first = rng.choice(pools.zh_names)
            name = last + first
            full, _initials = normalize.pinyin(name)
            local = f"{full}{n % 100000}"
            company = rng.choice(pools.zh_companies) if rng.random() < 0.8 else ""
            title = rng.choice(pools.zh_titles)
        domain = rng.choice(MAIL_DOMAINS)
        if domain == "qq.com":
            local = str(10_000_000 + (n * 7_919) % 3_000_000_000)
        province, city, district, street, postcode = rng.choice(pools.addresses)
        male = rng.random() < 0.5
        birthday = date(1950, 1, 1) + timedelta(days=rng.randrange(55 * 365))
        owner = None if rng.random() < POOL_SHARE else rng.choice(self.owners)
        # The mobile's last 8 digits are a permutation of the serial: distinct numbers.
        mobile = f"+86{rng.choice(MOBILE_PREFIXES)}{(n * 7_919 + 13) % 100_000_000:08d}"
        return Contact(
            workspace=self.workspace,
            name=name,
            first_name=first,
            last_name=last,
            company=company,
            account_id=self.accounts.get(company),
            title=title,
            mobile=mobile,
            phone=f"+86{rng.choice(('10', '21', '20', '755', '571'))}{rng.randrange(10**7, 10**8)}"
            if rng.random() < 0.3
            else "",
            email=f"{local}@{domain}" if rng.random() < 0.85 else "",
            gender=Gender.MALE if male else Gender.FEMALE,
            birthday=birthday if rng.random() < 0.7 else None,
            id_number=id_number(rng, birthday, male) if rng.random() < 0.4 else "",
            country="US" if english and rng.random() < 0.3 else "CN",
            province=province,
            city=city,
            district=district,
            street=street,
            postal_code=postcode,
            lifecycle_stage=_weighted(rng, LIFECYCLE_WEIGHTS),
            loyalty_stage=rng.choice(LoyaltyStage.values) if rng.random() < 0.5 else "",
            source=rng.choice(SOURCES),
            region=rng.choice(REGIONS),
            industry=rng.choice(INDUSTRIES),
            income_band=rng.choice(IncomeBand.values) if rng.random() < 0.3 else "",
            education=rng.choice(Education.values) if rng.random() < 0.3 else "",
            preferred_channel=rng.choice(Channel.values) if rng.random() < 0.4 else "",
            owner_id=owner,
            owned_since=self.now if owner else None,
            created_by=self.actor,
        )

    def _variant(self, original: Contact) -> tuple[Contact, str]:
        rng = self.rng
        fields = {
            f.attname: getattr(original, f.attname)
            for f in Contact._meta.concrete_fields
            if not f.primary_key
        }
        copy = Contact(**fields)
        cjk = normalize.has_cjk(original.name)
        kinds = ["typo", "email", "company", "phone"]
        if cjk:
            kinds += ["traditional", "pinyin"]
        else:
            kinds += ["swapped"]
        kind = rng.choice(kinds)
        if kind == "typo":
            copy.name = self._typo(original.name, cjk)
        elif kind == "traditional":
            copy.name = _s2t.convert(original.name)
            copy.company = _s2t.convert(original.company)
        elif kind == "pinyin":
            syllables = (
                normalize.pinyin(original.last_name)[0],
                normalize.pinyin(original.first_name)[0],
            )
            copy.name = f"{syllables[1].title()} {syllables[0].title()}"
            copy.first_name, copy.last_name = syllables[1].title(), syllables[0].title()
        elif kind == "swapped":
            copy.name = f"{original.last_name} {original.first_name}"
        elif kind == "email":
            local = original.email.split("@")[0]
            copy.email = f"{local}@{rng.choice(MAIL_DOMAINS)}" if original.email else ""
            copy.mobile = ""
        elif kind == "company":
            copy.company = normalize.company_core(original.company) if original.company else ""
            copy.account_id = None
        elif kind == "phone":
            copy.email = ""
            copy.phone, copy.mobile = original.mobile, ""
        copy.owner_id = rng.choice(self.owners) if rng.random() > POOL_SHARE else None
        return copy, kind

    def _typo(self, name: str, cjk: bool) -> str:
        rng = self.rng
        if cjk and len(name) >= 2:
            i = rng.randrange(1, len(name))
            return name[:i] + rng.choice(self.pools.given_chars) + name[i + 1 :]
        letters = [i for i, c in enumerate(name) if c.isalpha()]
        if len(letters) < 3:
            return name
        i = rng.choice(letters[1:-1])
        return name[:i] + name[i + 1] + name[i] + name[i + 2 :]  # swap two letters


def _owner_ids(workspace, actor, users=None) -> list[int]:
    if users:
        return [u.pk for u in users]
    ids = list(
        User.objects.filter(workspace=workspace, is_active=True)
        .exclude(password__startswith="!")
        .values_list("pk", flat=True)[:200]
    )
    if len(ids) < 2:
        ids = list(
            User.objects.filter(workspace=workspace, is_active=True)
            .order_by("id")
            .values_list("pk", flat=True)[:50]
        )
    return ids or [actor.pk]


def _ensure_accounts(*, workspace, actor, names: list[str], owners, rng) -> dict[str, int]:
    """An account per company name (made once; later runs reuse them)."""
    existing = dict(
        Account.objects.in_workspace(workspace).filter(name__in=names).values_list("name", "pk")
    )
    missing = [n for n in names if n not in existing]
    if missing:
        codes = codes_reserve(workspace=workspace, prefix=ACCOUNT_PREFIX, count=len(missing))
        rows = []
        for name, code in zip(missing, codes, strict=True):
            owner = None if rng.random() < POOL_SHARE else rng.choice(owners)
            account = Account(
                workspace=workspace,
                code=code,
                name=name,
                account_type=rng.choice(AccountType.values[:4]),
                lifecycle_stage=_weighted(rng, LIFECYCLE_WEIGHTS),
                industry=rng.choice(INDUSTRIES),
                region=rng.choice(REGIONS),
                source=rng.choice(SOURCES),
                currency="CNY",
                owner_id=owner,
                owned_since=timezone.now() if owner else None,
                created_by=actor,
            )
            search_keys.apply_account_keys(account)
            rows.append(account)
        for account in Account.objects.bulk_create(rows, batch_size=BATCH):
            existing[account.name] = account.pk
    return existing


def _ensure_tags(workspace) -> list[int]:
    wanted = [(n, TagKind.TAG) for n in TAG_NAMES] + [(n, TagKind.INTEREST) for n in INTEREST_NAMES]
    have = {
        (t.name, t.kind): t.pk
        for t in Tag.objects.in_workspace(workspace).filter(name__in=[n for n, _k in wanted])
    }
    for name, kind in wanted:
        if (name, kind) not in have:
            have[(name, kind)] = Tag.objects.create(workspace=workspace, name=name, kind=kind).pk
    return [have[w] for w in wanted]


def _bulk_insert(model, rows: list) -> None:
    """Insert model instances without Django's per-value compiler (a third of the time of a
    million-row ``bulk_create``): ``COPY`` on PostgreSQL, ``executemany`` on SQLite. The
    SQLite search triggers of migration 0003 fire as for any insert. No ids come back."""
    fields = [f for f in model._meta.concrete_fields if not f.primary_key]
    now = timezone.now()
    plain = (models.CharField, models.TextField, models.ForeignKey)
    converters = [
        None if isinstance(f, plain) else (lambda v, f=f: f.get_db_prep_save(v, connection))
        for f in fields
    ]
    attnames = [f.attname for f in fields]
    values = []
    for obj in rows:
        obj.created_at = obj.updated_at = now
        values.append(
            [
                getattr(obj, a) if c is None else c(getattr(obj, a))
                for a, c in zip(attnames, converters, strict=True)
            ]
        )
    table = connection.ops.quote_name(model._meta.db_table)
    columns = ", ".join(connection.ops.quote_name(f.column) for f in fields)
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            with cursor.cursor.copy(f"COPY {table} ({columns}) FROM STDIN") as copy:
                for row in values:
                    copy.write_row(row)
        else:
            marks = ", ".join(["%s"] * len(fields))
            cursor.executemany(f"INSERT INTO {table} ({columns}) VALUES ({marks})", values)


def _tag_new_contacts(workspace, tags: list[int], after_id: int) -> None:
    """Tag TAGGED_SHARE of the contacts with id > ``after_id``, spread over ``tags``."""
    buckets = round(len(tags) / TAGGED_SHARE)
    now = timezone.now()
    for k, tag_id in enumerate(tags):
        with connection.cursor() as cursor:
            cursor.execute(
                "INSERT INTO customers_contacttag "
                "(workspace_id, contact_id, tag_id, created_at, updated_at) "
                "SELECT workspace_id, id, %s, %s, %s FROM customers_contact "
                "WHERE workspace_id = %s AND id > %s AND id %% %s = %s",
                [tag_id, now, now, workspace.pk, after_id, buckets, k],
            )


# Below this many rows the search index is kept up row by row; above, the seeder takes it
# off and builds it again in one pass: on SQLite the FTS5 triggers cost about 90 µs a row
# against 10 µs for a rebuild; on PostgreSQL the GIN indexes slow COPY down several times.
REBUILD_ABOVE = 20_000


def _search_index_deferred(rows: int):
    """For a large seed: the contact search index is off for the duration and rebuilt at
    the end (``search.index_deferred``, shared with the importer; PostgreSQL too)."""
    return search.index_deferred(rows, threshold=REBUILD_ABOVE, postgresql=True)


def duplicates_path(workspace) -> Path:
    """One file per database and workspace: bench databases share the ``var`` folder."""
    database = re.sub(r"[^\w-]+", "_", Path(str(connection.settings_dict["NAME"])).stem) or "db"
    return Path(settings.VAR_DIR) / f"seed-duplicates-{database}-{workspace.pk}.csv"


def _analyze(*models) -> None:
    """Fresh planner statistics after a bulk load. PostgreSQL's autovacuum would get there
    later; SQLite never does by itself, and without statistics it takes ``workspace_id = ?``
    for a selective index and walks a whole workspace instead of looking rows up by id."""
    if connection.vendor in ("postgresql", "sqlite"):
        with connection.cursor() as cursor:
            for model in models:
                cursor.execute(f"ANALYZE {connection.ops.quote_name(model._meta.db_table)}")


def seed_contacts(*, workspace, actor, count: int, users=None, seed=None, log=None) -> dict:
    """Add ``count`` contacts (and the accounts of their companies) to ``workspace`` with
    ``bulk_create``; return figures: contacts, duplicates planted, seconds, rows/s."""
    started = time.perf_counter()
    existing = Contact.objects.in_workspace(workspace).count()
    rng = random.Random(seed if seed is not None else f"contacts:{workspace.pk}:{existing}")
    pools = make_pools(rng.random(), companies=min(COMPANY_POOL, max(count // 10, 20)))
    owners = _owner_ids(workspace, actor, users)
    with transaction.atomic():
        accounts = _ensure_accounts(
            workspace=workspace,
            actor=actor,
            names=pools.zh_companies + pools.en_companies,
            owners=owners,
            rng=rng,
        )
    tags = _ensure_tags(workspace)
    maker = ContactMaker(
        workspace=workspace,
        actor=actor,
        pools=pools,
        accounts=accounts,
        owners=owners,
        rng=rng,
        start=existing,
    )
    path = duplicates_path(workspace)
    path.parent.mkdir(parents=True, exist_ok=True)
    new_file = not path.exists()
    planted = 0
    made = 0
    last_id = (
        Contact.objects.in_workspace(workspace).order_by("-id").values_list("id", flat=True).first()
        or 0
    )
    with (
        path.open("a", newline="", encoding="utf-8") as out,
        _search_index_deferred(count),
    ):
        writer = csv.writer(out)
        if new_file:
            writer.writerow(["original_code", "duplicate_code", "kind"])
        while made < count:
            size = min(BATCH, count - made)
            codes = codes_reserve(workspace=workspace, prefix=CONTACT_PREFIX, count=size)
            rows, pairs = [], []
            for code in codes:
                contact, pair = maker.contact(code)
                search_keys.apply_contact_keys(contact)
                rows.append(contact)
                if pair:
                    pairs.append((pair[0], code, pair[1]))
            with transaction.atomic():
                _bulk_insert(Contact, rows)
            writer.writerows(pairs)
            planted += len(pairs)
            made += size
            if log and made % 100_000 < BATCH:
                elapsed = time.perf_counter() - started
                log(f"  {made:,} contacts, {made / elapsed:,.0f}/s")
        with transaction.atomic():
            _tag_new_contacts(workspace, tags, last_id)
        audit.log(
            actor=actor,
            workspace=workspace,
            action=AuditAction.CREATE,
            object_key="customers.contact",
            object_repr=f"{made} seeded contacts (bulk)",
            changes={"bulk_created": [None, made], "planted_duplicates": [None, planted]},
        )
    _analyze(Contact, Account, ContactTag)
    seconds = time.perf_counter() - started
    return {
        "contacts": made,
        "duplicates": planted,
        "seconds": seconds,
        "rate": made / seconds if seconds else 0.0,
        "duplicates_file": str(path),
    }


def seed_demo(*, workspace, users, count: int = 300) -> dict:
    """A few hundred accounts and contacts for the demo workspace: owners among ``users``
    (the sales people first), some in the pool, tags and stages. Runs once: a workspace
    with contacts is left alone."""
    if Contact.objects.in_workspace(workspace).exists():
        return {"contacts": 0}
    users = list(users)
    sales = [u for u in users if getattr(u.role, "code", "").startswith("sales")] or users
    admin = next((u for u in users if getattr(u.role, "is_admin", False)), users[0])
    rng = random.Random(2026)
    pools = make_pools(2026, names=600, companies=60)
    owners = [u.pk for u in sales]
    with transaction.atomic():
        accounts = _ensure_accounts(
            workspace=workspace,
            actor=admin,
            names=pools.zh_companies + pools.en_companies,
            owners=owners,
            rng=rng,
        )
        tags = _ensure_tags(workspace)
        AccountTag.objects.bulk_create(
            [
                AccountTag(workspace=workspace, account_id=pk, tag_id=rng.choice(tags))
                for pk in accounts.values()
                if rng.random() < 0.4
            ]
        )
        maker = ContactMaker(
            workspace=workspace,
            actor=admin,
            pools=pools,
            accounts=accounts,
            owners=owners,
            rng=rng,
            start=0,
        )
        rows = []
        for code in codes_reserve(workspace=workspace, prefix=CONTACT_PREFIX, count=count):
            contact, _pair = maker.contact(code)
            search_keys.apply_contact_keys(contact)
            rows.append(contact)
        Contact.objects.bulk_create(rows)
        ContactTag.objects.bulk_create(
            [
                ContactTag(workspace=workspace, contact_id=c.pk, tag_id=rng.choice(tags))
                for c in rows
                if rng.random() < 0.3
            ]
        )
        audit.log(
            actor=admin,
            workspace=workspace,
            action=AuditAction.CREATE,
            object_key="customers.contact",
            object_repr=f"{len(rows)} demo contacts",
            changes={"demo_contacts": [None, len(rows)], "demo_accounts": [None, len(accounts)]},
        )
    return {"contacts": len(rows), "accounts": len(accounts)}
