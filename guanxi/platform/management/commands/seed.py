"""``guanxi seed``: demo data for trying guanxi, and bulk data for benchmarks.

The demo workspace is built through the services, exactly as an administrator would build
it, so every row has its audit entry. Bulk rows for benchmarks (``--users``, ``--audit``)
go to a separate "Bench" workspace through ``bulk_create``: they are many, synthetic, and
must be fast to make.
"""

from __future__ import annotations

import importlib
import importlib.util
import random
from dataclasses import dataclass

from django.core.management.base import BaseCommand, CommandError
from django.db import connection, transaction
from django.utils.text import slugify
from faker import Faker
from pypinyin import lazy_pinyin

from guanxi.platform import audit, services
from guanxi.platform.models import (
    AuditAction,
    AuditEntry,
    Role,
    Team,
    TeamKind,
    User,
)

DEMO_WORKSPACE = "演示科技有限公司 (Demo Co.)"
DEMO_DOMAIN = "demo.guanxi.local"
DEMO_ADMIN_EMAIL = f"admin@{DEMO_DOMAIN}"
DEMO_PASSWORD = "guanxi-demo-2026"
DEMO_URL = "http://127.0.0.1:8000"
# Faker is seeded, so the demo company has the same people on every machine.
DEMO_SEED = 2026

BENCH_WORKSPACE = "Bench"
BENCH_BATCH = 1000
# Bench users cannot sign in (an unusable password costs nothing to make); their
# administrator can, with the demo password.
BENCH_UNUSABLE_PASSWORD = "!bench-user-without-password"


@dataclass(frozen=True)
class TeamSpec:
    key: str
    name: str
    kind: str
    parent: str | None = None


@dataclass(frozen=True)
class PersonSpec:
    role: str
    team: str | None
    english: bool = False
    manages: str | None = None


DEMO_TEAMS = (
    TeamSpec("sales", "销售部", TeamKind.DEPARTMENT),
    TeamSpec("sales_east", "华东销售组", TeamKind.TEAM, parent="sales"),
    TeamSpec("sales_south", "华南销售组", TeamKind.TEAM, parent="sales"),
    TeamSpec("marketing", "市场部", TeamKind.DEPARTMENT),
    TeamSpec("service", "客户服务部", TeamKind.DEPARTMENT),
    TeamSpec("support", "技术支持组", TeamKind.TEAM, parent="service"),
)

# Everyone besides the administrator (who is made with the workspace). Every built-in
# role appears at least once; a few colleagues have English names, as in many Chinese
# companies.
DEMO_PEOPLE = (
    PersonSpec("sales_manager", "sales", manages="sales"),
    PersonSpec("sales_manager", "sales_east", manages="sales_east"),
    PersonSpec("sales_rep", "sales_east"),
    PersonSpec("sales_rep", "sales_east"),
    PersonSpec("sales_manager", "sales_south", manages="sales_south"),
    PersonSpec("sales_rep", "sales_south"),
    PersonSpec("sales_rep", "sales_south", english=True),
    PersonSpec("marketing", "marketing", manages="marketing"),
    PersonSpec("marketing", "marketing", english=True),
    PersonSpec("service_manager", "service", manages="service"),
    PersonSpec("service_agent", "service"),
    PersonSpec("technician", "support", manages="support"),
    PersonSpec("technician", "support", english=True),
    PersonSpec("read_only", None),
)


class Command(BaseCommand):
    help = (
        "Create the demo workspace (演示科技有限公司) with teams and a user of every role; "
        "optionally bulk users and audit rows in a separate Bench workspace."
    )

    def add_arguments(self, parser):
        parser.add_argument(
            "--once",
            action="store_true",
            help="Do nothing if the demo workspace exists already (just print the login).",
        )
        parser.add_argument(
            "--users",
            type=int,
            default=0,
            metavar="N",
            help="Add N users to the Bench workspace (bulk, for benchmarks).",
        )
        parser.add_argument(
            "--audit",
            type=int,
            default=0,
            metavar="N",
            help="Add N audit rows to the Bench workspace (bulk, for benchmarks).",
        )
        parser.add_argument(
            "--contacts",
            type=int,
            default=0,
            metavar="N",
            help="Add N contacts to the Bench workspace (needs the customers module).",
        )

    def handle(self, *args, once: bool, users: int, audit: int, contacts: int, **options):
        if min(users, audit, contacts) < 0:
            raise CommandError("--users, --audit and --contacts take a number of 0 or more.")
        # Checked before anything is written, so a run that cannot do all it was asked to
        # does none of it.
        seed_contacts = _contact_seeder() if contacts else None

        demo = find_demo_admin()
        if once and demo is not None:
            self.stdout.write(f"The demo workspace exists already: {demo.workspace.name}")
            self._print_login(demo)
            return

        if demo is None:
            demo = seed_demo()
            self.stdout.write(
                self.style.SUCCESS(f"Created the demo workspace: {demo.workspace.name}")
            )
        else:
            self.stdout.write(f"The demo workspace exists already: {demo.workspace.name}")

        if users or audit or contacts:
            bench_admin = bench_workspace()
            workspace = bench_admin.workspace
            if users:
                made = bench_add_users(bench_admin, users)
                self.stdout.write(f"Bench: added {made:,} users to “{workspace.name}”.")
            if audit:
                made = bench_add_audit(bench_admin, audit)
                self.stdout.write(f"Bench: added {made:,} audit rows to “{workspace.name}”.")
            if contacts:
                seed_contacts(workspace=workspace, actor=bench_admin, count=contacts)
                self.stdout.write(f"Bench: added {contacts:,} contacts to “{workspace.name}”.")
            self.stdout.write(
                f"Bench workspace “{workspace.name}”: sign in as {bench_admin.email} / {DEMO_PASSWORD}"
            )

        self._print_login(demo)

    def _print_login(self, admin: User) -> None:
        others = (
            User.objects.filter(workspace=admin.workspace)
            .exclude(pk=admin.pk)
            .select_related("role", "team")
            .order_by("role__id", "id")
        )
        self.stdout.write("")
        self.stdout.write(self.style.SUCCESS("guanxi demo login"))
        self.stdout.write(f"  Open      {DEMO_URL}")
        self.stdout.write(f"  E-mail    {admin.email}")
        self.stdout.write(f"  Password  {DEMO_PASSWORD}")
        self.stdout.write("  Other demo users (same password), one of every role:")
        for user in others:
            team = f", {user.team.name}" if user.team_id else ""
            self.stdout.write(f"    {user.email:<38} {user.full_name} ({user.role.name}{team})")
        self.stdout.write("")


def _contact_seeder():
    """The customers module's bulk contact maker, or a clear refusal while it does not exist.

    The customers app provides ``guanxi.customers.demo.seed_contacts(*, workspace, actor,
    count)`` when it lands; until then nothing is faked here.
    """
    try:
        spec = importlib.util.find_spec("guanxi.customers.demo")
    except ModuleNotFoundError:
        spec = None
    seeder = getattr(importlib.import_module(spec.name), "seed_contacts", None) if spec else None
    if seeder is None:
        raise CommandError(
            "--contacts: contacts arrive with the customers module (guanxi.customers), which "
            "is not part of this installation yet, so no contacts were created. Nothing else "
            "was changed either."
        )
    return seeder


# --- the demo workspace ----------------------------------------------------------------------


def find_demo_admin() -> User | None:
    return User.objects.filter(email__iexact=DEMO_ADMIN_EMAIL).select_related("workspace").first()


def _english_name(fake: Faker) -> str:
    # Faker's name() sometimes adds "Dr." or "MD"; colleagues are listed without them.
    return f"{fake.first_name()} {fake.last_name()}"


def _email_for(name: str, *, english: bool, taken: set[str]) -> str:
    if english:
        parts = name.split()[:2]
    else:
        # Chinese names read as pinyin: 张伟 → zhang.wei (two-character family names such
        # as 欧阳 come out as ou.yangnana, which people accept as an address).
        syllables = lazy_pinyin(name)
        parts = [syllables[0], "".join(syllables[1:])]
    local = ".".join(p for p in (slugify(part).replace("-", "") for part in parts) if p) or "user"
    candidate, n = local, 2
    while f"{candidate}@{DEMO_DOMAIN}" in taken:
        candidate, n = f"{local}{n}", n + 1
    email = f"{candidate}@{DEMO_DOMAIN}"
    taken.add(email)
    return email


def seed_demo() -> User:
    """Create the demo workspace through the services; return its administrator."""
    zh, en = Faker("zh_CN"), Faker("en_US")
    zh.seed_instance(DEMO_SEED)
    en.seed_instance(DEMO_SEED)
    taken = {DEMO_ADMIN_EMAIL}
    with transaction.atomic():
        workspace, admin = services.workspace_create(
            name=DEMO_WORKSPACE,
            admin_email=DEMO_ADMIN_EMAIL,
            admin_name=zh.name(),
            admin_password=DEMO_PASSWORD,
            language="zh-hans",
            time_zone="Asia/Shanghai",
        )
        teams: dict[str, Team] = {}
        for spec in DEMO_TEAMS:
            teams[spec.key] = services.team_create(
                actor=admin,
                workspace=workspace,
                name=spec.name,
                kind=spec.kind,
                parent_id=teams[spec.parent].pk if spec.parent else None,
            )
        roles = {role.code: role for role in Role.objects.in_workspace(workspace)}
        for person in DEMO_PEOPLE:
            name = _english_name(en) if person.english else zh.name()
            user = services.user_create(
                actor=admin,
                workspace=workspace,
                email=_email_for(name, english=person.english, taken=taken),
                full_name=name,
                role_id=roles[person.role].pk,
                team_id=teams[person.team].pk if person.team else None,
                phone=zh.phone_number(),
                password=DEMO_PASSWORD,
                language="en" if person.english else "zh-hans",
            )
            if person.manages:
                services.team_update(
                    actor=admin,
                    workspace=workspace,
                    team_id=teams[person.manages].pk,
                    manager_id=user.pk,
                )
    _seed_demo_customers(admin)
    return admin


def _seed_demo_customers(admin: User) -> None:
    """Demo accounts and contacts, their activities, sales and customer value, when those
    modules are installed."""
    try:
        from guanxi.customers.demo import seed_demo as seed_customers
    except ImportError:
        return
    users = list(User.objects.filter(workspace=admin.workspace).select_related("role"))
    seed_customers(workspace=admin.workspace, users=users)
    try:
        from guanxi.activities.demo import seed_demo as seed_activities
    except ImportError:
        return
    seed_activities(workspace=admin.workspace, users=users)
    try:
        from guanxi.analytics.demo import seed_demo as seed_value
        from guanxi.sales.demo import seed_demo as seed_sales
    except ImportError:
        return
    seed_sales(workspace=admin.workspace, users=users)
    seed_value(workspace=admin.workspace, users=users)
    from guanxi.service.demo import seed_demo as seed_service

    seed_service(workspace=admin.workspace, users=users)


# --- bulk rows for benchmarks ----------------------------------------------------------------


def bench_admin_email(name: str) -> str:
    return f"admin@{slugify(name) or 'bench'}.guanxi.local"


def bench_workspace(name: str = BENCH_WORKSPACE) -> User:
    """The administrator of the bench workspace ``name``, creating it (with a few teams)
    through the services the first time."""
    email = bench_admin_email(name)
    admin = User.objects.filter(email__iexact=email).select_related("workspace").first()
    if admin is not None:
        return admin
    with transaction.atomic():
        workspace, admin = services.workspace_create(
            name=name,
            admin_email=email,
            admin_name=f"{name} admin",
            admin_password=DEMO_PASSWORD,
            language="zh-hans",
            time_zone="Asia/Shanghai",
        )
        department = services.team_create(
            actor=admin, workspace=workspace, name="销售部", kind=TeamKind.DEPARTMENT
        )
        for team_name in ("华东销售组", "华南销售组", "华北销售组", "西南销售组"):
            services.team_create(
                actor=admin, workspace=workspace, name=team_name, parent_id=department.pk
            )
    return admin


def bench_add_users(admin: User, count: int, *, batch_size: int = BENCH_BATCH) -> int:
    """Add ``count`` users to the admin's workspace with ``bulk_create``; one audit row
    records the bulk insert. Returns the number added."""
    workspace = admin.workspace
    existing = User.objects.filter(workspace=workspace).count()
    rng = random.Random(f"{workspace.pk}:{existing}")
    zh, en = Faker("zh_CN"), Faker("en_US")
    zh.seed_instance(rng.random())
    en.seed_instance(rng.random())
    roles = list(Role.objects.in_workspace(workspace).filter(is_admin=False))
    teams = [*Team.objects.in_workspace(workspace), None]
    domain = admin.email.split("@", 1)[1]
    with transaction.atomic():
        made = 0
        while made < count:
            batch = []
            for _ in range(min(batch_size, count - made)):
                number = existing + made + len(batch)
                english = rng.random() < 0.25
                batch.append(
                    User(
                        workspace=workspace,
                        email=f"user{number:07d}@{domain}",
                        full_name=_english_name(en) if english else zh.name(),
                        phone=f"1{rng.choice('3456789')}{rng.randrange(10**9):09d}",
                        role=rng.choice(roles),
                        team=rng.choice(teams),
                        language="en" if english else "zh-hans",
                        password=BENCH_UNUSABLE_PASSWORD,
                    )
                )
            User.objects.bulk_create(batch, batch_size=batch_size)
            made += len(batch)
        audit.log(
            actor=admin,
            workspace=workspace,
            action=AuditAction.CREATE,
            object_key="platform.user",
            object_repr=f"{made} bench users (bulk)",
            changes={"bulk_created": [None, made]},
        )
    _analyze(User)
    return made


_AUDIT_CHANGES = (
    ("phone", lambda rng: [f"138{rng.randrange(10**8):08d}", f"139{rng.randrange(10**8):08d}"]),
    ("is_active", lambda rng: [True, False]),
    ("language", lambda rng: ["zh-hans", "en"]),
    ("full_name", lambda rng: ["张伟", "张维"]),
)


def bench_add_audit(admin: User, count: int, *, batch_size: int = BENCH_BATCH) -> int:
    """Add ``count`` synthetic audit rows (sign-ins and changes to users) with ``bulk_create``."""
    workspace = admin.workspace
    existing = AuditEntry.objects.filter(workspace=workspace).count()
    rng = random.Random(f"audit:{workspace.pk}:{existing}")
    people = list(
        User.objects.filter(workspace=workspace)
        .order_by("-id")
        .values_list("id", "full_name", "email")[:500]
    )
    with transaction.atomic():
        made = 0
        while made < count:
            batch = []
            for _ in range(min(batch_size, count - made)):
                actor_id, actor_name, actor_email = rng.choice(people)
                target_id, target_name, _email = rng.choice(people)
                if rng.random() < 0.3:
                    action, key, object_id, obj, changes = AuditAction.SIGN_IN, "", "", "", {}
                else:
                    field, values = rng.choice(_AUDIT_CHANGES)
                    action, key = AuditAction.UPDATE, "platform.user"
                    object_id, obj, changes = str(target_id), target_name, {field: values(rng)}
                batch.append(
                    AuditEntry(
                        workspace=workspace,
                        actor_id=actor_id,
                        actor_label=f"{actor_name} <{actor_email}>",
                        action=action,
                        object_key=key,
                        object_id=object_id,
                        object_repr=obj,
                        changes=changes,
                        ip_address=f"10.{rng.randrange(256)}.{rng.randrange(256)}.{rng.randrange(1, 255)}",
                    )
                )
            AuditEntry.objects.bulk_create(batch, batch_size=batch_size)
            made += len(batch)
    _analyze(AuditEntry)
    return made


def _analyze(*models) -> None:
    """Refresh PostgreSQL's planner statistics after a bulk load, as autovacuum would do
    shortly after; until then the planner thinks the tables are nearly empty and skips
    their indexes. (SQLite has no autovacuum-analyze, so a real one runs without.)"""
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            for model in models:
                cursor.execute(f"ANALYZE {connection.ops.quote_name(model._meta.db_table)}")


def bench_fill(name: str, *, users: int, audit_rows: int) -> User:
    """Top the bench workspace ``name`` up to ``users`` users and ``audit_rows`` audit rows."""
    admin = bench_workspace(name)
    have = User.objects.filter(workspace=admin.workspace).count()
    if have < users:
        bench_add_users(admin, users - have)
    have = AuditEntry.objects.filter(workspace=admin.workspace).count()
    if have < audit_rows:
        bench_add_audit(admin, audit_rows - have)
    return admin
