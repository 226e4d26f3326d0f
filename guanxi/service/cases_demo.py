"""Demo data of the cases part (``seed(workspace=, users=, rng=)``), called by ``demo.py``.

A few categories, then about 300 cases over the demo customers: some 250 from the past
months, resolved or closed (a few cancelled), written in bulk with their conversation and
history; and about 50 open ones opened through the case services (numbered, SLA-timed,
routed, on the customers' timelines), some of them complaints (their customers carry the
open-complaint flag), some waiting on the customer, some answered. Runs once: a workspace
with cases is left alone."""

from __future__ import annotations

import datetime as dt
import logging

from django.db import transaction
from django.utils import timezone

from guanxi.common.errors import ApplicationError
from guanxi.customers import normalize
from guanxi.customers.models import Account, Contact

from .models import Case, CaseCategory, CaseEvent, CaseMessage, CaseType
from .services import cases as case_services
from .services.case_numbers import case_numbers_reserve
from .services.case_types import service_setup

logger = logging.getLogger(__name__)

HISTORY = 250
OPEN = 50

CATEGORIES = {
    "硬件故障": ["打印机", "空调", "热水器"],
    "安装与上门": ["新机安装", "移机"],
    "账单与发票": ["发票", "退款"],
    "物流": ["破损", "延迟"],
    "账号与软件": [],
}
# (kind, category, subject, what the customer wrote, the answer)
STORIES = [
    (
        "fault",
        "打印机",
        "打印机不出纸",
        "早上开机后一直提示卡纸，纸盒是满的。",
        "请按说明清理搓纸轮，我们已寄出新的搓纸轮。",
    ),
    (
        "repair",
        "空调",
        "空调不制冷",
        "空调开了一个小时还是不冷，外机不转。",
        "已安排师傅上门检查外机电容。",
    ),
    (
        "repair",
        "热水器",
        "热水器漏水",
        "热水器下面一直滴水，能上门修吗？",
        "技术员明天上午上门更换进水阀。",
    ),
    (
        "request",
        "新机安装",
        "预约安装新空调",
        "新买的空调下周到货，想预约安装。",
        "已预约周三下午安装，请保持电话畅通。",
    ),
    (
        "request",
        "移机",
        "搬家需要移机",
        "下个月搬家，两台空调要移机。",
        "移机费用已发到您的邮箱，请确认时间。",
    ),
    (
        "inquiry",
        "发票",
        "发票抬头怎么改",
        "发票抬头写错了，能重开吗？",
        "请在门户里提交正确的抬头，财务三个工作日内重开。",
    ),
    (
        "complaint",
        "退款",
        "退款一直没到账",
        "退货两周了钱还没退回来，太慢了！",
        "非常抱歉，退款已加急处理，预计两天内到账。",
    ),
    (
        "complaint",
        "破损",
        "快递把货摔坏了",
        "收到的机器外壳裂了，包装也破了。",
        "非常抱歉，已为您补发新机，破损件无需寄回。",
    ),
    (
        "complaint",
        "延迟",
        "送货比承诺晚了五天",
        "说好周一送到，周六才到，耽误了开业。",
        "非常抱歉，已补偿一张 200 元代金券。",
    ),
    ("inquiry", None, "保修期多长", "买的热水器保修几年？", "整机保修三年，内胆保修八年。"),
    (
        "fault",
        None,
        "App 登录不上",
        "手机 App 一直提示密码错误，重置了也不行。",
        "已为您解锁账号，请重新登录。",
    ),
]
WAITING_NOTE = "请您拍一张铭牌照片发给我们，以便确认型号。"


def _categories(workspace) -> dict[str, CaseCategory]:
    out = {}
    for top, children in CATEGORIES.items():
        parent, _ = CaseCategory.objects.get_or_create(workspace=workspace, name=top, parent=None)
        out[top] = parent
        for name in children:
            out[name], _ = CaseCategory.objects.get_or_create(
                workspace=workspace, name=name, parent=parent
            )
    return out


def _customers(workspace, rng, n: int) -> list[tuple]:
    """(account id or None, contact id or None, name) of up to ``n`` demo customers."""
    contacts = list(
        Contact.objects.in_workspace(workspace)
        .filter(erased_at__isnull=True)
        .order_by("id")
        .values_list("pk", "account_id", "name")[:n]
    )
    rows = [(account_id, pk, name) for pk, account_id, name in contacts]
    if len(rows) < n:
        accounts = Account.objects.in_workspace(workspace).order_by("id")
        rows += [
            (pk, None, name) for pk, name in accounts.values_list("pk", "name")[: n - len(rows)]
        ]
    rng.shuffle(rows)
    return rows


def seed(*, workspace, users, rng) -> dict:
    if Case.objects.in_workspace(workspace).exists():
        return {"cases": 0}
    service_setup(workspace)
    agents = [
        u for u in users if u.is_active and u.role.code in ("service_agent", "service_manager")
    ]
    admin = next((u for u in users if u.role.is_admin), users[0])
    agents = agents or [admin]
    types = {t.kind: t for t in CaseType.objects.in_workspace(workspace)}
    categories = _categories(workspace)
    customers = _customers(workspace, rng, 120)
    if not customers:
        return {"cases": 0}
    made = _history(workspace, rng, types, categories, customers, agents)
    made += _open_cases(workspace, rng, types, categories, customers, agents)
    return {"cases": made}


def _history(workspace, rng, types, categories, customers, agents) -> int:
    """Past cases, resolved and mostly closed, written in bulk (no timeline entries: the
    customers' timelines show the open ones)."""
    now = timezone.now()
    names = {pk: name for _a, pk, name in customers if pk}
    account_names = dict(Account.objects.in_workspace(workspace).values_list("pk", "name"))
    numbers = case_numbers_reserve(workspace=workspace, count=HISTORY)
    cases = []
    for i in range(HISTORY):
        kind, category, subject, question, answer = rng.choice(STORIES)
        account_id, contact_id, _name = rng.choice(customers)
        opened = now - dt.timedelta(days=rng.randint(8, 180), minutes=rng.randint(0, 600))
        answered = opened + dt.timedelta(minutes=rng.randint(10, 600))
        resolved = answered + dt.timedelta(hours=rng.randint(1, 96))
        roll = rng.random()
        status = "closed" if roll < 0.8 else ("resolved" if roll < 0.95 else "cancelled")
        case = Case(
            workspace=workspace,
            number=numbers[i],
            case_type=types[kind],
            kind=kind,
            category=categories.get(category),
            subject=subject,
            description=question,
            priority=rng.choice((1, 2, 3, 3, 3, 4)),
            status=status,
            channel=rng.choice(("phone", "phone", "email", "portal", "sms")),
            account_id=account_id,
            contact_id=contact_id,
            assignee=rng.choice(agents),
            first_response_at=answered,
            resolved_at=None if status == "cancelled" else resolved,
            closed_at=resolved + dt.timedelta(days=3) if status != "resolved" else None,
            last_message_at=answered,
            resolution="" if status == "cancelled" else answer,
            response_due_at=opened + dt.timedelta(hours=4),
            resolution_due_at=opened + dt.timedelta(days=3),
        )
        parts = [case.number, subject, names.get(contact_id, ""), account_names.get(account_id, "")]
        case.search_text = normalize.fold(" ".join(p for p in parts if p))
        case._times = (opened, answered, resolved)
        cases.append(case)
    with transaction.atomic():
        Case.objects.bulk_create(cases, batch_size=500)
        messages, events = [], []
        for case in cases:
            opened, answered, resolved = case._times
            messages.append(
                CaseMessage(
                    workspace=workspace, case=case, kind="in", channel=case.channel,
                    body=case.description, contact_id=case.contact_id,
                )
            )  # fmt: skip
            messages.append(
                CaseMessage(
                    workspace=workspace, case=case, kind="out", channel=case.channel,
                    body=case.resolution or "已收到，正在处理。", author=case.assignee,
                )
            )  # fmt: skip
            events.append(CaseEvent(workspace=workspace, case=case, kind="created", to_value="new"))
            events.append(
                CaseEvent(
                    workspace=workspace, case=case, kind="status", from_value="new",
                    to_value="open", actor=case.assignee,
                )
            )  # fmt: skip
            if case.status != "cancelled":
                events.append(
                    CaseEvent(
                        workspace=workspace, case=case, kind="status", from_value="open",
                        to_value="resolved", note=case.resolution[:300], actor=case.assignee,
                    )
                )  # fmt: skip
            if case.status in ("closed", "cancelled"):
                events.append(
                    CaseEvent(
                        workspace=workspace, case=case, kind="status",
                        from_value="resolved" if case.status == "closed" else "open",
                        to_value=case.status, actor=case.assignee,
                    )
                )  # fmt: skip
        CaseMessage.objects.bulk_create(messages, batch_size=1000)
        CaseEvent.objects.bulk_create(events, batch_size=1000)
        # The history happened over months: date the rows so (created_at is auto_now_add).
        for case in cases:
            opened, answered, resolved = case._times
            Case.objects.in_workspace(workspace).filter(pk=case.pk).update(
                created_at=opened, updated_at=case.closed_at or resolved
            )
    return len(cases)


def _open_cases(workspace, rng, types, categories, customers, agents) -> int:
    """Open cases through the services, as agents on the phone and customers would."""
    made = 0
    for i in range(OPEN):
        kind, category, subject, question, answer = STORIES[i % len(STORIES)]
        account_id, contact_id, _name = customers[i % len(customers)]
        agent = agents[i % len(agents)]
        values = {
            "case_type": types[kind].pk,
            "category": categories[category].pk if category else None,
            "subject": subject,
            "description": question,
            "priority": rng.choice((1, 2, 2, 3, 3, 3, 4)),
        }
        if i % 3 == 0:
            values["assignee"] = agent.pk
        try:
            with transaction.atomic():
                case = case_services.case_create(
                    actor=agent if i % 4 else None,
                    workspace=workspace,
                    values=values,
                    channel=("phone", "email", "portal", "sms")[i % 4],
                    account=account_id,
                    contact=contact_id,
                    acknowledge=False,
                )
                if i % 5 in (1, 2, 3):
                    case_services.case_reply(
                        actor=agent, workspace=workspace, case_id=case.pk, body=answer
                    )
                if i % 5 == 2:
                    case_services.case_change_status(
                        actor=agent, workspace=workspace, case_id=case.pk, status="waiting"
                    )
                    case_services.case_reply(
                        actor=agent, workspace=workspace, case_id=case.pk, body=WAITING_NOTE
                    )
                if i % 7 == 0:
                    case_services.case_reply(
                        actor=agent,
                        workspace=workspace,
                        case_id=case.pk,
                        body="客户情绪较大，注意语气。",
                        internal=True,
                    )
            made += 1
        except ApplicationError as exc:  # a demo customer that does not fit: skip it
            logger.info("demo case skipped: %s", exc.message)
    return made
