"""Demo activities: a year and a half of history on the demo customers, open commitments,
and each sales person's day (visits with places and time windows, calls, overdue to-dos), so
"my day", the route, the calendar and the 360° timeline have something to show.

``seed_demo(workspace=, users=)`` runs once: a workspace with timeline entries is left alone.
The rows are inserted directly (one demo, thousands of rows); the timeline goes through
``record_entry`` like everything else that writes it.
"""

from __future__ import annotations

import datetime as dt
import random
import zoneinfo
from decimal import Decimal

from django.db import transaction
from django.utils import timezone

from guanxi.customers.models import Account, Contact

from .models import (
    CallOutcome,
    Commitment,
    Direction,
    EmailTemplate,
    EntryKind,
    Task,
    TaskKind,
    TimelineEntry,
    VisitMeans,
)
from .services.timeline import record_entry

# Demo customers sit around Shanghai so that a rep's day makes a plausible route.
SHANGHAI = (31.2304, 121.4737)
DISTRICTS = (
    "黄浦区",
    "徐汇区",
    "长宁区",
    "静安区",
    "普陀区",
    "虹口区",
    "杨浦区",
    "浦东新区",
    "闵行区",
)
HISTORY_DAYS = 540

CALL_SUBJECTS = (
    "询问新品报价",
    "确认发货时间",
    "回访使用情况",
    "催收尾款",
    "Follow-up on the quotation",
    "预约下次拜访",
)
VISIT_SUBJECTS = ("季度拜访", "介绍新产品线", "样板工厂参观", "技术方案交流", "管理层调研")
MEETING_SUBJECTS = ("年度合作洽谈", "项目启动会", "Quarterly business review", "合同条款沟通")
NOTE_SUBJECTS = ("客户喜欢下午联系", "采购负责人换人了", "对价格比较敏感", "Prefers WeChat")
EMAIL_SUBJECTS = ("报价单", "产品资料", "会议纪要", "Meeting notes")
PROMISES = (
    "下周五前寄送样品",
    "月底前给出正式报价",
    "安排工程师上门调试",
    "提供三家同行业案例",
    "Send the revised contract by Friday",
)
TODOS = ("整理拜访记录", "准备报价单", "更新客户资料", "Prepare the QBR slides")


def seed_demo(*, workspace, users) -> dict:
    if TimelineEntry.objects.in_workspace(workspace).exists():
        return {"entries": 0}
    rng = random.Random(2026)
    users = list(users)
    sales = [u for u in users if getattr(u.role, "code", "").startswith("sales")] or users
    accounts = list(Account.objects.in_workspace(workspace).order_by("pk"))
    contacts_by_account: dict[int, list[int]] = {}
    for contact_id, account_id in (
        Contact.objects.in_workspace(workspace)
        .filter(account__isnull=False)
        .values_list("pk", "account_id")
    ):
        contacts_by_account.setdefault(account_id, []).append(contact_id)
    now = timezone.now()
    with transaction.atomic():
        _place_accounts(accounts, rng)
        entries = 0
        for account in accounts:
            people = contacts_by_account.get(account.pk, [])
            for _ in range(rng.randint(4, 20)):
                _history_entry(workspace, account, people, sales, rng, now)
                entries += 1
        commitments = _commitments(workspace, accounts, contacts_by_account, sales, rng, now)
        tasks = _days(workspace, accounts, sales, rng)
        _templates(workspace, users[0])
    return {"entries": entries, "commitments": commitments, "tasks": tasks}


def _place_accounts(accounts, rng) -> None:
    for account in accounts:
        if account.latitude is not None:
            continue
        account.latitude = Decimal(str(round(SHANGHAI[0] + rng.uniform(-0.12, 0.12), 6)))
        account.longitude = Decimal(str(round(SHANGHAI[1] + rng.uniform(-0.15, 0.15), 6)))
        account.city = account.city or "上海市"
        account.district = account.district or rng.choice(DISTRICTS)
    if accounts:
        Account.objects.in_workspace(accounts[0].workspace_id).bulk_update(
            accounts, ["latitude", "longitude", "city", "district"]
        )


def _history_entry(workspace, account, people, sales, rng, now) -> None:
    author = rng.choice(sales)
    when = now - dt.timedelta(days=rng.uniform(1, HISTORY_DAYS))
    kind = rng.choices(
        (EntryKind.CALL, EntryKind.VISIT, EntryKind.MEETING, EntryKind.EMAIL, EntryKind.NOTE),
        weights=(40, 15, 10, 15, 20),
    )[0]
    fields: dict = {}
    if kind == EntryKind.CALL:
        fields = {
            "subject": rng.choice(CALL_SUBJECTS),
            "direction": rng.choice((Direction.OUTBOUND, Direction.OUTBOUND, Direction.INBOUND)),
            "channel": "phone",
            "outcome": rng.choice(CallOutcome.values),
            "duration_seconds": rng.randint(30, 1200),
        }
    elif kind == EntryKind.VISIT:
        fields = {
            "subject": rng.choice(VISIT_SUBJECTS),
            "subtype": rng.choice(VisitMeans.values),
            "channel": "in_person",
            "duration_seconds": rng.choice((1800, 3600, 5400)),
        }
    elif kind == EntryKind.MEETING:
        fields = {"subject": rng.choice(MEETING_SUBJECTS), "channel": "in_person"}
    elif kind == EntryKind.EMAIL:
        fields = {
            "subject": rng.choice(EMAIL_SUBJECTS),
            "direction": Direction.OUTBOUND,
            "channel": "email",
        }
    else:
        fields = {"subject": rng.choice(NOTE_SUBJECTS)}
    record_entry(
        workspace=workspace,
        author=author,
        kind=kind,
        occurred_at=when,
        account=account,
        contacts=rng.sample(people, k=min(len(people), rng.randint(0, 2))),
        **fields,
    )


def _commitments(workspace, accounts, contacts_by_account, sales, rng, now) -> int:
    rows = []
    today = timezone.localdate()
    for account in accounts:
        if rng.random() > 0.35:
            continue
        for _ in range(rng.randint(1, 3)):
            people = contacts_by_account.get(account.pk, [])
            rows.append(
                Commitment(
                    workspace=workspace,
                    account=account,
                    contact_id=rng.choice(people) if people else None,
                    promised_by=rng.choice(sales),
                    created_by=rng.choice(sales),
                    text=rng.choice(PROMISES),
                    due_date=today + dt.timedelta(days=rng.randint(-10, 30)),
                )
            )
    Commitment.objects.bulk_create(rows)
    return len(rows)


def _days(workspace, accounts, sales, rng) -> int:
    """Today's visits (with time windows for some), a few calls this week, and overdue to-dos,
    for every sales person, in their own time zone."""
    rows = []
    for user in sales:
        zone = zoneinfo.ZoneInfo(user.time_zone or "Asia/Shanghai")
        today = timezone.localdate(timezone=zone)
        theirs = [a for a in accounts if a.owner_id == user.pk] or accounts
        for hour, account in zip(
            (9, 10, 11, 13, 14, 16), rng.sample(theirs, k=min(6, len(theirs))), strict=False
        ):
            start = dt.datetime.combine(today, dt.time(hour, 30), tzinfo=zone)
            windowed = rng.random() < 0.4
            rows.append(
                Task(
                    workspace=workspace,
                    kind=TaskKind.VISIT,
                    title=f"拜访 {account.name}",
                    due_at=start,
                    ends_at=start + dt.timedelta(minutes=45),
                    window_start=dt.time(hour, 0) if windowed else None,
                    window_end=dt.time(hour + 2, 0) if windowed else None,
                    assignee=user,
                    created_by=user,
                    account=account,
                )
            )
        for day in range(1, 5):
            account = rng.choice(theirs)
            rows.append(
                Task(
                    workspace=workspace,
                    kind=TaskKind.CALL,
                    title=f"电话回访 {account.name}",
                    due_at=dt.datetime.combine(
                        today + dt.timedelta(days=day), dt.time(15, 0), tzinfo=zone
                    ),
                    assignee=user,
                    created_by=user,
                    account=account,
                )
            )
        for late in (1, 3):
            rows.append(
                Task(
                    workspace=workspace,
                    kind=TaskKind.TODO,
                    title=rng.choice(TODOS),
                    due_at=dt.datetime.combine(
                        today - dt.timedelta(days=late), dt.time(17, 0), tzinfo=zone
                    ),
                    priority="high",
                    assignee=user,
                    created_by=user,
                )
            )
    Task.objects.bulk_create(rows)
    return len(rows)


def _templates(workspace, author) -> None:
    EmailTemplate.objects.bulk_create(
        [
            EmailTemplate(
                workspace=workspace,
                name="拜访后致谢",
                language="zh-hans",
                subject="感谢您今天的接待",
                body=(
                    "{{ contact.name }}您好：\n\n感谢您今天抽出时间接待我们。"
                    "我们会按约定尽快把资料发给您。\n\n{{ user.full_name }}\n{{ user.email }}"
                ),
                created_by=author,
            ),
            EmailTemplate(
                workspace=workspace,
                name="Thank you for the visit",
                language="en",
                subject="Thank you for meeting us today",
                body=(
                    "Dear {{ contact.name }},\n\nThank you for your time today. We will send "
                    "the material we promised shortly.\n\nBest regards,\n{{ user.full_name }}"
                ),
                created_by=author,
            ),
        ]
    )
