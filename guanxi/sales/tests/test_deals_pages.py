"""The deal pages: the kanban (fixed query count at two sizes, filters, load more, the drop
and its refusals), the list, the deal page with its sections, the new-deal form, the
pipelines admin, the 360° section; other workspaces and users without the right."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from guanxi.sales.models import Deal, DealStageChange, Pipeline, Stage
from guanxi.sales.services import deals as svc

from .deals_support import *  # noqa: F403

pytestmark = pytest.mark.django_db


def _many(workspace, owner, sales, n, *, account=None):
    """``n`` open deals spread over the open stages, written directly (fast)."""
    now = timezone.now()
    opens = [s for k, s in sales["stages"].items() if k.startswith("open")]
    Deal.objects.bulk_create(
        Deal(
            workspace=workspace,
            name=f"批量 {i}",
            pipeline=sales["pipeline"],
            stage=opens[i % len(opens)],
            owner=owner,
            account=account,
            amount=Decimal(100 + i),
            amount_base=Decimal(100 + i),
            currency="CNY",
            probability=10,
            stage_changed_at=now,
            position=float(i),
        )
        for i in range(n)
    )


def _board_queries(client, url) -> int:
    with CaptureQueriesContext(connection) as ctx:
        response = client.get(url)
    assert response.status_code == 200
    return len(ctx)


def test_board_query_count_is_fixed(client, workspace, rep, account, sales):
    client.force_login(rep)
    url = reverse("sales:deal_board")
    _many(workspace, rep, sales, 5, account=account)
    client.get(url)  # warm the per-process caches (navigation URLs, settings)
    small = _board_queries(client, url)
    _many(workspace, rep, sales, 200, account=account)
    large = _board_queries(client, url)
    assert small == large


def test_board_shows_columns_counts_sums_and_load_more(client, workspace, rep, sales):
    client.force_login(rep)
    _many(workspace, rep, sales, 5 * 31)  # 31 per open column
    body = client.get(reverse("sales:deal_board")).content.decode()
    first = sales["stages"]["open1"]
    assert first.name in body and "Load more" in body
    assert body.count('<li class="deal-card') == 5 * 30
    column = reverse("sales:deal_board_column", args=[first.pk])
    last = Deal.objects.in_workspace(workspace).filter(stage=first).order_by("position", "id")[29]
    more = client.get(column, {"after": f"{last.position!r}:{last.pk}"}).content.decode()
    assert more.count('<li class="deal-card') == 1 and "Load more" not in more


def test_board_filters(client, workspace, rep, rep2, manager, sales):
    svc.deal_create(actor=rep, workspace=workspace, name="我的单")
    svc.deal_create(
        actor=rep2, workspace=workspace, name="他的单", expected_close_date=dt.date(2030, 5, 3)
    )
    client.force_login(manager)
    url = reverse("sales:deal_board")
    body = client.get(url, {"owner": str(rep.pk)}).content.decode()
    assert "我的单" in body and "他的单" not in body
    body = client.get(url, {"close_month": "2030-05"}).content.decode()
    assert "他的单" in body and "我的单" not in body
    body = client.get(url, {"stale": "1"}).content.decode()
    assert "我的单" not in body
    Deal.objects.in_workspace(workspace).filter(name="我的单").update(
        stage_changed_at=timezone.now() - dt.timedelta(days=90)
    )
    body = client.get(url, {"stale": "1"}).content.decode()
    assert "我的单" in body and "Stale" in body
    client.force_login(rep)
    assert "他的单" not in client.get(url).content.decode()  # a rep sees their own


def test_move_by_fetch_and_refusals(client, workspace, rep, sales):
    client.force_login(rep)
    a = svc.deal_create(actor=rep, workspace=workspace, name="A")
    b = svc.deal_create(actor=rep, workspace=workspace, name="B")
    url = reverse("sales:deal_move", args=[a.pk])
    second = sales["stages"]["open2"]
    json = {"HTTP_ACCEPT": "application/json"}
    response = client.post(url, {"stage": second.pk, "version": 1}, **json)
    assert response.status_code == 200 and response.json()["version"] == 2
    assert DealStageChange.objects.in_workspace(workspace).filter(deal=a).count() == 2
    stale = client.post(url, {"stage": sales["stages"]["open3"].pk, "version": 1}, **json)
    assert stale.status_code == 409 and stale.json()["code"] == "stale_version"
    lost = client.post(url, {"stage": sales["stages"]["lost"].pk, "version": 2}, **json)
    assert lost.status_code == 422 and lost.json()["code"] == "reason_required"
    done = client.post(
        url,
        {"stage": sales["stages"]["lost"].pk, "version": 2, "reason": sales["reason"].pk},
        **json,
    )
    assert done.status_code == 200 and done.json()["status"] == "lost"
    # Placing between two cards of the same column.
    c = svc.deal_create(actor=rep, workspace=workspace, name="C")
    b.refresh_from_db()
    response = client.post(
        reverse("sales:deal_move", args=[c.pk]),
        {"stage": c.stage_id, "version": c.version, "after_id": b.pk},
        **json,
    )
    assert response.status_code == 200
    c.refresh_from_db()
    assert c.position > b.position


def test_move_form_without_js_redirects_with_message(client, workspace, rep, sales):
    client.force_login(rep)
    deal = svc.deal_create(actor=rep, workspace=workspace, name="A")
    response = client.post(
        reverse("sales:deal_move", args=[deal.pk]),
        {"stage": sales["stages"]["open2"].pk, "version": 1, "next": "/sales/deals/board/"},
    )
    assert response.status_code == 302 and response["Location"] == "/sales/deals/board/"
    assert Deal.objects.in_workspace(workspace).get(pk=deal.pk).stage_id == (
        sales["stages"]["open2"].pk
    )


def test_others_cannot_read_or_move(client, workspace, rep, outsider, reader, other_admin, sales):
    deal = svc.deal_create(actor=rep, workspace=workspace, name="秘密")
    detail = reverse("sales:deal_detail", args=[deal.pk])
    move = reverse("sales:deal_move", args=[deal.pk])
    json = {"HTTP_ACCEPT": "application/json"}
    for user, read_status, move_status in (
        (other_admin, 404, 404),
        (outsider, 404, 404),
        (reader, 200, 403),
    ):
        client.force_login(user)
        assert client.get(detail).status_code == read_status
        response = client.post(move, {"stage": sales["stages"]["open2"].pk}, **json)
        assert response.status_code == move_status
        assert "秘密" not in client.get(reverse("sales:deal_board")).content.decode() or (
            user == reader
        )
    assert Deal.objects.in_workspace(workspace).get(pk=deal.pk).stage_id == (
        sales["stages"]["open1"].pk
    )
    client.force_login(other_admin)
    assert client.get(reverse("sales:deal_board_column", args=[deal.stage_id])).status_code == 404


def test_deal_page_history_timeline_and_close_buttons(client, workspace, rep, account, sales):
    client.force_login(rep)
    deal = svc.deal_create(actor=rep, workspace=workspace, name="大单", account=account)
    url = reverse("sales:deal_detail", args=[deal.pk])
    body = client.get(url).content.decode()
    assert "大单" in body and "Deal opened: 大单" in body and sales["stages"]["open1"].name in body
    response = client.post(reverse("sales:deal_close", args=[deal.pk, "won"]), {"version": 1})
    assert response.status_code == 302
    assert Deal.objects.in_workspace(workspace).get(pk=deal.pk).status == "won"
    client.post(reverse("sales:deal_close", args=[deal.pk, "reopen"]), {"version": 2})
    client.post(
        reverse("sales:deal_close", args=[deal.pk, "lost"]),
        {"version": 3, "reason": sales["reason"].pk, "note": "价格"},
    )
    deal.refresh_from_db()
    assert deal.status == "lost" and deal.lost_note == "价格"
    body = client.get(url).content.decode()
    assert "Deal lost: 大单" in body


def test_deal_page_query_count_is_fixed(client, workspace, rep, account, sales):
    client.force_login(rep)
    deal = svc.deal_create(actor=rep, workspace=workspace, name="大单", account=account)
    url = reverse("sales:deal_detail", args=[deal.pk])
    client.get(url)
    with CaptureQueriesContext(connection) as small:
        client.get(url)
    for i in range(8):
        stage = sales["stages"]["open2" if i % 2 == 0 else "open1"]
        deal = svc.deal_move(actor=rep, workspace=workspace, deal=deal, stage=stage, version=None)
    with CaptureQueriesContext(connection) as large:
        client.get(url)
    assert len(small) == len(large)


def test_new_deal_form(client, workspace, rep, account, sales):
    client.force_login(rep)
    url = reverse("sales:deal_create")
    page = client.get(url, {"account": account.pk}).content.decode()
    assert account.name in page
    response = client.post(url, {"name": "", "amount": "-1"})
    assert response.status_code == 200 and not Deal.objects.in_workspace(workspace).exists()
    response = client.post(
        url, {"name": "新单", "account": account.pk, "amount": "1000", "currency": "CNY"}
    )
    assert response.status_code == 302
    deal = Deal.objects.in_workspace(workspace).get()
    assert deal.account_id == account.pk and deal.owner_id == rep.pk
    picker = client.get(reverse("sales:deal_customer_picker"), {"q": account.name[:4]})
    assert account.name in picker.content.decode()


def test_reader_cannot_open_the_form_and_list_works(client, workspace, rep, reader, sales):
    svc.deal_create(actor=rep, workspace=workspace, name="列表单")
    client.force_login(reader)
    assert client.get(reverse("sales:deal_create")).status_code == 403
    body = client.get(reverse("sales:deal_list")).content.decode()
    assert "列表单" in body


def test_customer_section_fixed_queries(client, workspace, rep, account, sales):
    client.force_login(rep)
    url = reverse("customers:account_detail", args=[account.pk])
    svc.deal_create(actor=rep, workspace=workspace, name="客户单", account=account)
    client.get(url)
    with CaptureQueriesContext(connection) as small:
        body = client.get(url).content.decode()
    assert "Open deals" in body and "客户单" in body
    _many(workspace, rep, sales, 30, account=account)
    with CaptureQueriesContext(connection) as large:
        client.get(url)
    assert len(small) == len(large)


def test_pipelines_admin(client, workspace, rep, manager, sales):
    url = reverse("sales:pipeline_settings")
    client.force_login(rep)
    assert client.get(url).status_code == 200  # reps read the configuration
    client.post(url, {"action": "pipeline_create", "name": "项目"})
    assert not Pipeline.objects.in_workspace(workspace).filter(name="项目").exists()
    client.force_login(manager)
    client.post(url, {"action": "pipeline_create", "name": "项目"})
    pipeline = Pipeline.objects.in_workspace(workspace).get(name="项目")
    client.post(
        url,
        {"action": "stage_create", "pipeline": pipeline.pk, "name": "方案", "probability": "40"},
    )
    names = list(
        Stage.objects.in_workspace(workspace)
        .filter(pipeline=pipeline)
        .order_by("order")
        .values_list("name", "kind")
    )
    assert names[1] == ("方案", "open") and names[-1][1] == "lost"
    stage = Stage.objects.in_workspace(workspace).get(pipeline=pipeline, name="方案")
    client.post(url, {"action": "stage_up", "stage": stage.pk})
    assert (
        Stage.objects.in_workspace(workspace).filter(pipeline=pipeline).order_by("order").first()
        == stage
    )
    body = client.get(url).content.decode()
    assert "项目" in body and "方案" in body


def test_a_role_without_deals_sees_none_of_it(client, workspace, rep, account, sales):
    from guanxi.platform.tests.factories import UserFactory

    from .deals_support import api_for

    svc.deal_create(actor=rep, workspace=workspace, name="看不见", account=account)
    from guanxi.platform.models import Role

    role = Role.objects.in_workspace(workspace).get(code="marketing")
    role.rights.pop("sales.deal", None)
    role.save()
    marketer = UserFactory(workspace=workspace, role_code="marketing")
    client.force_login(marketer)
    for name in ("sales:deal_board", "sales:deal_list", "sales:deal_create"):
        assert client.get(reverse(name)).status_code == 403
    deal = Deal.objects.in_workspace(workspace).get()
    assert client.get(reverse("sales:deal_detail", args=[deal.pk])).status_code == 403
    assert api_for(marketer).get("/deals").status_code == 403
    assert api_for(marketer).get(f"/deals/{deal.pk}").status_code == 403


def test_edit_form_competitors_conflict_and_reassign(
    client, workspace, rep, rep2, manager, outsider, sales
):
    from guanxi.sales.models import Competitor, DealCompetitor

    rival = Competitor.objects.create(workspace=workspace, name="对手甲")
    deal = svc.deal_create(actor=rep, workspace=workspace, name="可改")
    url = reverse("sales:deal_edit", args=[deal.pk])
    client.force_login(rep)
    assert "对手甲" in client.get(url).content.decode()
    values = {
        "version": 1,
        "name": "改好了",
        "amount": "500",
        "currency": "CNY",
        "probability": "60",
        "forecast_category": "commit",
        "competitors": [rival.pk],
    }
    assert client.post(url, values).status_code == 302
    deal.refresh_from_db()
    assert (deal.name, deal.probability, deal.amount) == ("改好了", 60, Decimal("500"))
    assert DealCompetitor.objects.in_workspace(workspace).filter(deal=deal).count() == 1
    stale = client.post(url, {**values, "name": "旧表单"})
    assert stale.status_code == 200 and "Someone else changed this deal" in stale.content.decode()
    assert Deal.objects.in_workspace(workspace).get(pk=deal.pk).name == "改好了"
    reassign = reverse("sales:deal_reassign", args=[deal.pk])
    client.post(reassign, {"owner": rep2.pk})
    assert Deal.objects.in_workspace(workspace).get(pk=deal.pk).owner_id == rep.pk
    client.force_login(manager)
    client.post(reassign, {"owner": rep2.pk})
    assert Deal.objects.in_workspace(workspace).get(pk=deal.pk).owner_id == rep2.pk
    client.force_login(outsider)
    assert client.get(url).status_code == 404
    assert client.post(reassign, {"owner": outsider.pk}).status_code == 404
    assert Deal.objects.in_workspace(workspace).get(pk=deal.pk).owner_id == rep2.pk
