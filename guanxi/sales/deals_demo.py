"""Demo data of the deals part (``seed(workspace=, users=, rng=)``), called by ``demo.py``:
about 40 deals of the demo reps on the default pipeline, spread over its stages (opened
through the services, moved stage by stage so the history and the timeline are real), a few
stale (no move and no activity for longer than the stale period), some won and some lost
with reasons, and a few competitors. Seeding twice adds nothing."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

from django.utils import timezone

from guanxi.customers.models import Account
from guanxi.platform import permissions
from guanxi.platform.models import Action

from .models import Competitor, Deal, LostReason, Stage
from .objects import DEAL
from .services import deals as services
from .services.setup import default_pipeline

DEALS = 40
TOPICS = (
    "产线改造",
    "年度采购",
    "泵站扩容",
    "备件框架协议",
    "节能改造",
    "新厂设备",
    "维保续约",
    "自动化升级",
)
COMPETITORS = ("南方泵业", "格兰富", "威乐中国")


def seed(*, workspace, users, rng) -> None:
    if Deal.objects.in_workspace(workspace).exists():
        return  # seeded already
    reps = [
        u
        for u in users
        if u.is_active and permissions.can(u, DEAL, Action.CREATE) and not u.role.is_admin
    ] or [u for u in users if u.is_active and u.role.is_admin]
    if not reps:
        return
    pipeline = default_pipeline(workspace)
    stages = list(Stage.objects.in_workspace(workspace).filter(pipeline=pipeline).order_by("order"))
    opens = [s for s in stages if s.kind == "open"]
    reasons = list(LostReason.objects.in_workspace(workspace).filter(active=True).order_by("order"))
    competitors = [
        Competitor.objects.get_or_create(workspace=workspace, name=name)[0] for name in COMPETITORS
    ]
    accounts_by_owner: dict[int, list[Account]] = {}
    for account in (
        Account.objects.in_workspace(workspace)
        .filter(owner_id__in=[r.pk for r in reps])
        .order_by("id")[:400]
    ):
        accounts_by_owner.setdefault(account.owner_id, []).append(account)
    today = timezone.localdate()
    for i in range(DEALS):
        rep = reps[i % len(reps)]
        mine = accounts_by_owner.get(rep.pk) or []
        account = mine[i % len(mine)] if mine else None
        deal = services.deal_create(
            actor=rep,
            workspace=workspace,
            name=f"{account.name[:20] if account else '新客户'} · {TOPICS[i % len(TOPICS)]}",
            account=account,
            amount=Decimal(rng.randrange(20, 400) * 1000),
            expected_close_date=today + dt.timedelta(days=rng.randrange(-10, 120)),
            competitors=[competitors[i % len(competitors)]] if i % 3 == 0 else (),
            source="demo",
        )
        # Walk it forward: most stay open somewhere along the pipeline.
        target = rng.randrange(len(opens))
        for stage in opens[1 : target + 1]:
            deal = services.deal_move(
                actor=rep, workspace=workspace, deal=deal, stage=stage, version=deal.version
            )
        if i % 8 == 3:
            services.deal_win(actor=rep, workspace=workspace, deal=deal, version=deal.version)
        elif i % 8 == 5 and reasons:
            services.deal_lose(
                actor=rep,
                workspace=workspace,
                deal=deal,
                reason=reasons[i % len(reasons)],
                note="客户预算推迟到明年" if i % 2 else "",
                version=deal.version,
            )
        elif i % 10 == 7:
            # Stale: nothing moved for two months, and the customer has been quiet.
            quiet = timezone.now() - dt.timedelta(days=60 + i)
            Deal.objects.in_workspace(workspace).filter(pk=deal.pk).update(stage_changed_at=quiet)
            if account is not None:
                Account.objects.in_workspace(workspace).filter(pk=account.pk).update(
                    last_activity_at=quiet
                )
