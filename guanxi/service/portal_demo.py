"""Demo data of the portal for ``guanxi seed`` / ``make run``: the portal's welcome text and
two weeks of customers' searches (some answered by an article, some finding nothing), so
the deflection page has figures. Call ``seed`` after the knowledge base's and the cases'
demo data (``guanxi/service/demo.py`` runs the parts in order, as sales' demo does)."""

from __future__ import annotations

import datetime as dt
import random
import secrets

from django.utils import timezone

from .models import PortalSearch, PortalSettings
from .services.portal import public_articles

WELCOME = "您好！常见问题的答案都在这里。找不到答案时，登录后提交工单，我们会尽快回复。"
GAPS = ("发票抬头怎么改", "上门安装要多少钱", "积分怎么兑换", "退货运费谁出")


def seed(*, workspace, users, rng: random.Random | None = None) -> None:
    """Idempotent: a workspace that already has portal searches gets nothing more."""
    rng = rng or random.Random(20261201)
    if PortalSearch.objects.in_workspace(workspace).exists():
        return
    PortalSettings.objects.get_or_create(workspace=workspace, defaults={"welcome": WELCOME})
    articles = list(public_articles(workspace).only("id", "title")[:20])
    now = timezone.now()
    rows = []
    for day in range(14):
        for _n in range(rng.randint(3, 9)):
            when = now - dt.timedelta(days=day, minutes=rng.randint(0, 12 * 60))
            visitor = secrets.token_urlsafe(18)
            if articles and rng.random() < 0.75:
                article = rng.choice(articles)
                opened = rng.random() < 0.8
                rows.append(
                    (
                        when,
                        PortalSearch(
                            workspace=workspace,
                            visitor_key=visitor,
                            query=article.title[:12],
                            results=rng.randint(1, 5),
                            opened_article=article if opened else None,
                            helpful=rng.choice((True, True, True, False, None)) if opened else None,
                        ),
                    )
                )
            else:
                rows.append(
                    (
                        when,
                        PortalSearch(
                            workspace=workspace,
                            visitor_key=visitor,
                            query=rng.choice(GAPS),
                            results=0,
                        ),
                    )
                )
    made = PortalSearch.objects.bulk_create([row for _when, row in rows])
    # ``created_at`` is set on insert; the searches happened over the two weeks.
    for (when, _row), row in zip(rows, made, strict=True):
        row.created_at = when
    PortalSearch.objects.in_workspace(workspace).bulk_update(made, ["created_at"], batch_size=500)
