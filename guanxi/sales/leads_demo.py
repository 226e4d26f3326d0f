"""Demo data of the leads part (``seed(workspace=, users=, rng=)``), called by ``demo.py``.

About 60 leads from several sources (two web forms, an import, calls, inbound e-mail,
referrals), scoring rules, assignment rules with rep profiles, some first activities, and
a won/lost history: converted leads whose deals were won or lost (manufacturing and
energy win more often than retail and education) and a few "not a buyer". With that the
predictive model is trained; a workspace without enough history gets none (the scoring
page says why). Runs once: a workspace with leads is left alone."""

from __future__ import annotations

import logging

from django.db import transaction

from guanxi.common.errors import ApplicationError

from .models import Lead, LostReason
from .services import lead_assignment, lead_conversion, lead_forms, lead_model, lead_scoring
from .services import leads as lead_services

logger = logging.getLogger(__name__)

INDUSTRIES = {"制造业": 0.75, "能源": 0.6, "零售": 0.25, "教育": 0.3, "医疗": 0.5}
REGIONS = {"华东": ["上海", "江苏", "浙江"], "华南": ["广东", "福建"], "华北": ["北京", "河北"]}
SURNAMES = "王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗"
GIVEN = ["伟", "芳", "娜", "敏", "静", "磊", "洋", "勇", "艳", "杰", "娟", "涛", "明", "超", "霞"]
TITLES = ["采购经理", "总经理", "技术总监", "工程师", "财务主管", "厂长", "IT 负责人", "行政助理"]
COMPANY_WORDS = ["华", "安", "恒", "盛", "达", "信", "通", "新", "远", "宏", "创", "泰"]
SOURCES = ["web_form", "web_form", "import", "manual", "call", "email", "referral"]


def _phone(rng, used: set) -> str:
    while True:
        number = f"1{rng.choice('3589')}{rng.randint(0, 9)}{rng.randint(10_000_000, 99_999_999)}"
        if number not in used:
            used.add(number)
            return number


def seed(*, workspace, users, rng) -> dict:
    if Lead.objects.in_workspace(workspace).exists():
        return {"leads": 0}
    admin = next((u for u in users if u.role.is_admin), users[0])
    reps = [u for u in users if u.role.code == "sales_rep" and u.is_active] or [admin]

    for values in (
        {"kind": "fit", "attribute": "industry", "operator": "in", "value": "制造业,能源", "points": 20},
        {"kind": "fit", "attribute": "employees", "operator": "at_least", "value": "200", "points": 15},
        {"kind": "fit", "attribute": "title", "operator": "contains", "value": "经理,总监,厂长", "points": 10},
        {"kind": "fit", "attribute": "region", "operator": "equals", "value": "华东", "points": 5},
        {"kind": "fit", "attribute": "source", "operator": "equals", "value": "referral", "points": 10},
        {"kind": "engagement", "attribute": "activities", "operator": "at_least", "value": "2", "points": 10},
        {"kind": "engagement", "attribute": "replies", "operator": "at_least", "value": "1", "points": 15},
    ):  # fmt: skip
        lead_scoring.scoring_rule_create(actor=admin, workspace=workspace, **values)

    regions = list(REGIONS)
    for i, rep in enumerate(reps):
        lead_assignment.rep_profile_save(
            actor=admin,
            workspace=workspace,
            user_id=rep.pk,
            territories=[regions[i % len(regions)]],
            skills=[list(INDUSTRIES)[i % len(INDUSTRIES)]],
            max_open_leads=40,
        )
    lead_assignment.assignment_rule_create(
        actor=admin,
        workspace=workspace,
        name="展会线索按区域",
        method="territory",
        order=10,
        conditions={"campaign": ["2026 工业展"]},
        rep_ids=[r.pk for r in reps],
    )
    lead_assignment.assignment_rule_create(
        actor=admin,
        workspace=workspace,
        name="网站线索轮流分配",
        method="round_robin",
        order=20,
        conditions={"source": ["web_form", "email"]},
        rep_ids=[r.pk for r in reps],
    )
    forms = [
        lead_forms.lead_form_create(
            actor=admin,
            workspace=workspace,
            name="官网咨询",
            campaign="官网",
            fields=["company", "title", "industry", "message"],
            thank_you="谢谢！我们的销售会在一个工作日内联系您。",
        ),
        lead_forms.lead_form_create(
            actor=admin,
            workspace=workspace,
            name="2026 工业展报名",
            campaign="2026 工业展",
            fields=["company", "title", "employees", "province", "interest"],
        ),
    ]

    used: set = set()
    made = []
    for i in range(60):
        industry = rng.choice(list(INDUSTRIES))
        region = rng.choice(regions)
        source = rng.choice(SOURCES)
        form = rng.choice(forms) if source == "web_form" else None
        company = (
            f"{rng.choice(REGIONS[region])}{rng.choice(COMPANY_WORDS)}"
            f"{rng.choice(COMPANY_WORDS)}{industry[:1]}业有限公司{i}"
        )
        values = {
            "name": rng.choice(SURNAMES) + rng.choice(GIVEN) + rng.choice(["", *GIVEN]),
            "company": company,
            "title": rng.choice(TITLES),
            "phone": _phone(rng, used) if rng.random() < 0.85 else "",
            "email": f"lead{i}@demo-{rng.randint(100, 999)}.cn",
            "industry": industry,
            "employees": rng.choice([8, 30, 120, 350, 1200]),
            "region": region,
            "province": rng.choice(REGIONS[region]),
            "interest": rng.choice(["数控机床", "软件", "售后服务", "配件", ""]),
            "campaign": form.campaign if form else ("客户推荐" if source == "referral" else ""),
        }
        try:
            with transaction.atomic():
                lead = lead_services.create_lead(
                    workspace=workspace,
                    actor=None if source in ("web_form", "email", "import") else rng.choice(reps),
                    values=values,
                    source=source,
                    form=form,
                )
        except ApplicationError as exc:  # a clash with a demo customer: skip the lead
            logger.info("demo lead skipped: %s", exc)
            continue
        made.append((lead, industry))

    reasons = list(LostReason.objects.in_workspace(workspace).order_by("order"))
    outcomes = {"won": 0, "lost": 0, "unqualified": 0}
    for n, (lead, industry) in enumerate(made):
        owner = lead.owner or admin
        if n % 3 == 0:  # a first call on a third of them
            lead_services.lead_log_activity(
                actor=owner,
                workspace=workspace,
                lead_id=lead.pk,
                kind="call",
                body="首次电话沟通需求",
            )
        if n >= 36:
            continue  # the newest ones are still open
        if n % 9 == 4:
            lead_services.lead_set_status(
                actor=owner, workspace=workspace, lead_id=lead.pk, status="unqualified",
                reason="暂无预算",
            )  # fmt: skip
            outcomes["unqualified"] += 1
            continue
        try:
            with transaction.atomic():
                converted = lead_conversion.lead_convert(
                    actor=owner,
                    workspace=workspace,
                    lead_id=lead.pk,
                    amount=rng.choice([30_000, 80_000, 150_000, 400_000]),
                )
                from .services.deals import deal_lose, deal_win

                if rng.random() < INDUSTRIES[industry]:
                    deal_win(actor=owner, workspace=workspace, deal=converted.deal)
                    outcomes["won"] += 1
                else:
                    deal_lose(
                        actor=owner,
                        workspace=workspace,
                        deal=converted.deal,
                        reason=rng.choice(reasons).pk if reasons else None,
                    )
                    outcomes["lost"] += 1
        except ApplicationError as exc:
            logger.info("demo conversion skipped: %s", exc)
    model, reason = lead_model.train(workspace=workspace)
    if model is None:
        logger.info("demo: no lead model (%s)", reason)
    return {"leads": len(made), **outcomes, "model": model is not None}
