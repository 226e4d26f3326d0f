"""The deals' services: open, change, move on the kanban, win, lose, reopen, reassign,
products and competitors — rights, validation, optimistic locking, history and timeline."""

from __future__ import annotations

import itertools
from decimal import Decimal

import pytest

from guanxi.activities.models import TimelineEntry
from guanxi.activities.timeline_display import system_text
from guanxi.common.errors import ApplicationError, Conflict, NotFound, PermissionDenied
from guanxi.customers.models import Account
from guanxi.platform.models import AuditEntry
from guanxi.sales.models import (
    Deal,
    DealCompetitor,
    DealLine,
    DealStageChange,
    LostReason,
    Product,
    Stage,
)
from guanxi.sales.services import deals as svc

from .deals_support import *  # noqa: F403

pytestmark = pytest.mark.django_db


def _new(rep, workspace, **kw):
    kw.setdefault("name", "泵站改造")
    return svc.deal_create(actor=rep, workspace=workspace, **kw)


# --- create ---------------------------------------------------------------------------------


def test_create_defaults_pipeline_stage_currency_and_history(workspace, rep, account, sales):
    deal = _new(rep, workspace, account=account, amount=Decimal("120000"))
    first = sales["stages"]["open1"]
    assert deal.pipeline_id == sales["pipeline"].pk
    assert deal.stage_id == first.pk
    assert deal.currency == workspace.default_currency
    assert deal.amount_base == Decimal("120000.00")
    assert deal.probability == first.probability
    assert deal.forecast_category == first.forecast_category
    assert deal.owner_id == rep.pk and deal.status == "open" and deal.version == 1
    assert deal.stage_changed_at is not None
    change = DealStageChange.objects.in_workspace(workspace).get(deal=deal)
    assert change.from_stage_id is None and change.to_stage_id == first.pk
    entry = TimelineEntry.objects.in_workspace(workspace).get(subtype="deal_created")
    assert entry.account_id == account.pk
    assert (entry.related_object_key, entry.related_object_id) == ("sales.deal", deal.pk)
    assert "泵站改造" in system_text(entry) and first.name in system_text(entry)
    assert (
        AuditEntry.objects.in_workspace(workspace)
        .filter(object_key="sales.deal", object_id=str(deal.pk), action="create")
        .exists()
    )


def test_create_converts_foreign_currency_to_base(workspace, rep, sales):
    deal = _new(rep, workspace, amount="1000", currency="usd")
    assert deal.currency == "USD"
    assert deal.amount_base == Decimal("7100.00")


def test_create_reports_every_bad_field_and_writes_nothing(workspace, rep, sales, other_admin):
    from guanxi.customers.tests.factories import AccountFactory

    foreign = AccountFactory(workspace=other_admin.workspace)
    with pytest.raises(ApplicationError) as caught:
        _new(
            rep,
            workspace,
            name="",
            amount="-5",
            currency="EUR",
            account=foreign.pk,
            expected_close_date="31/12/2026",
            stage=sales["stages"]["won"],
        )
    fields = caught.value.fields
    assert {"name", "amount", "account", "expected_close_date", "stage"} <= set(fields)
    assert not Deal.objects.in_workspace(workspace).exists()


def test_create_refuses_currency_without_rate(workspace, rep, sales):
    with pytest.raises(ApplicationError) as caught:
        _new(rep, workspace, amount="5", currency="EUR")
    assert "currency" in caught.value.fields
    assert not Deal.objects.in_workspace(workspace).exists()


def test_contact_brings_its_account_and_timeline_links_both(workspace, rep, contact, sales):
    deal = _new(rep, workspace, contact=contact)
    assert deal.account_id == contact.account_id
    entry = TimelineEntry.objects.in_workspace(workspace).get(subtype="deal_created")
    assert list(entry.contacts.values_list("pk", flat=True)) == [contact.pk]


def test_rights_create(workspace, reader, sales):
    with pytest.raises(PermissionDenied):
        _new(reader, workspace)
    assert (
        AuditEntry.objects.in_workspace(workspace)
        .filter(action="permission_denied", actor=reader)
        .exists()
    )


def test_rep_may_not_give_a_new_deal_to_someone_else(workspace, rep, rep2, manager, sales):
    with pytest.raises(PermissionDenied):
        _new(rep, workspace, owner=rep2)
    deal = _new(manager, workspace, owner=rep2)
    assert deal.owner_id == rep2.pk


def test_new_deal_goes_on_top_of_its_column(workspace, rep, sales):
    first = _new(rep, workspace, name="one")
    second = _new(rep, workspace, name="two")
    assert second.position < first.position


def test_lines_set_amount_when_none_given(workspace, rep, sales):
    product = Product.objects.create(workspace=workspace, code="P1", name="泵")
    deal = _new(
        rep, workspace, lines=[{"product": product.pk, "quantity": "3", "unit_price": "99.5"}]
    )
    assert deal.amount == Decimal("298.50")
    line = DealLine.objects.in_workspace(workspace).get(deal=deal)
    assert line.amount == Decimal("298.50")
    with pytest.raises(ApplicationError) as caught:
        _new(rep, workspace, lines=[{"product": product.pk, "quantity": "0", "unit_price": "1"}])
    assert "lines.0.quantity" in caught.value.fields


# --- win / lose / reopen ------------------------------------------------------------------


def test_win(workspace, rep, account, sales):
    deal = _new(rep, workspace, account=account, amount="500")
    won = svc.deal_win(actor=rep, workspace=workspace, deal=deal, version=deal.version)
    assert won.status == "won" and won.stage_id == sales["stages"]["won"].pk
    assert won.probability == 100 and won.forecast_category == "closed"
    assert won.closed_at is not None and won.version == 2
    assert DealStageChange.objects.in_workspace(workspace).filter(deal=deal).count() == 2
    entry = TimelineEntry.objects.in_workspace(workspace).get(subtype="deal_won")
    assert "500" in system_text(entry)
    with pytest.raises(Conflict):
        svc.deal_win(actor=rep, workspace=workspace, deal=deal)


def test_win_with_stale_version_is_a_conflict(workspace, rep, sales):
    deal = _new(rep, workspace)
    svc.deal_update(actor=rep, workspace=workspace, deal=deal, version=1, name="改名")
    with pytest.raises(Conflict) as caught:
        svc.deal_win(actor=rep, workspace=workspace, deal=deal, version=1)
    assert caught.value.status == 409
    assert Deal.objects.in_workspace(workspace).get(pk=deal.pk).status == "open"


def test_lose_needs_a_reason(workspace, rep, account, sales):
    deal = _new(rep, workspace, account=account)
    with pytest.raises(ApplicationError) as caught:
        svc.deal_lose(actor=rep, workspace=workspace, deal=deal, reason=None)
    assert caught.value.code == "reason_required" and caught.value.status == 422
    inactive = LostReason.objects.create(workspace=workspace, name="old", active=False)
    with pytest.raises(ApplicationError):
        svc.deal_lose(actor=rep, workspace=workspace, deal=deal, reason=inactive.pk)
    lost = svc.deal_lose(
        actor=rep, workspace=workspace, deal=deal, reason=sales["reason"].pk, note="贵了 20%"
    )
    assert lost.status == "lost" and lost.lost_reason_id == sales["reason"].pk
    assert lost.probability == 0 and lost.forecast_category == "omitted"
    entry = TimelineEntry.objects.in_workspace(workspace).get(subtype="deal_lost")
    assert sales["reason"].name in system_text(entry)


def test_reopen(workspace, rep, sales):
    deal = _new(rep, workspace)
    svc.deal_lose(actor=rep, workspace=workspace, deal=deal, reason=sales["reason"])
    again = svc.deal_reopen(actor=rep, workspace=workspace, deal=deal)
    assert again.status == "open" and again.lost_reason_id is None
    assert again.stage_id == sales["stages"]["open1"].pk and again.closed_at is None
    with pytest.raises(Conflict):
        svc.deal_reopen(actor=rep, workspace=workspace, deal=deal)


def test_others_deal_is_not_found_and_reader_may_not_change(
    workspace, rep, outsider, reader, other_admin, sales
):
    deal = _new(rep, workspace)
    with pytest.raises(NotFound):
        svc.deal_win(actor=outsider, workspace=workspace, deal=deal)
    with pytest.raises(PermissionDenied):
        svc.deal_win(actor=reader, workspace=workspace, deal=deal)
    with pytest.raises(NotFound):
        svc.deal_win(actor=other_admin, workspace=other_admin.workspace, deal=deal.pk)
    assert Deal.objects.in_workspace(workspace).get(pk=deal.pk).status == "open"


# --- move, positions -------------------------------------------------------------------------


def _column(workspace, stage):
    return list(
        Deal.objects.in_workspace(workspace)
        .filter(stage=stage, status="open")
        .order_by("position", "id")
        .values_list("name", flat=True)
    )


def test_move_between_neighbours_and_renumber(workspace, rep, account, sales):
    first, second = sales["stages"]["open1"], sales["stages"]["open2"]
    a, b, c = (_new(rep, workspace, name=n, stage=second) for n in ("a", "b", "c"))
    assert _column(workspace, second) == ["c", "b", "a"]
    x = _new(rep, workspace, name="x", stage=first, account=account)
    moved = svc.deal_move(
        actor=rep,
        workspace=workspace,
        deal=x,
        stage=second,
        after_id=c.pk,
        before_id=b.pk,
        version=1,
    )
    assert _column(workspace, second) == ["c", "x", "b", "a"]
    assert moved.version == 2 and moved.stage_changed_at is not None
    entry = TimelineEntry.objects.in_workspace(workspace).get(subtype="deal_stage")
    assert system_text(entry) == f"Deal x: {first.name} → {second.name}"
    # Squeeze the gap until it is too small: the column is renumbered, the order kept.
    Deal.objects.in_workspace(workspace).filter(pk=b.pk).update(position=moved.position + 1e-9)
    y = _new(rep, workspace, name="y", stage=first)
    svc.deal_move(
        actor=rep,
        workspace=workspace,
        deal=y,
        stage=second,
        after_id=x.pk,
        before_id=b.pk,
        version=1,
    )
    assert _column(workspace, second) == ["c", "x", "y", "b", "a"]
    gaps = list(
        Deal.objects.in_workspace(workspace)
        .filter(stage=second)
        .order_by("position")
        .values_list("position", flat=True)
    )
    assert min(b - a for a, b in itertools.pairwise(gaps)) > 1
    # Within a column: no stage change, no history row.
    changes = DealStageChange.objects.in_workspace(workspace).count()
    a.refresh_from_db()
    svc.deal_move(
        actor=rep, workspace=workspace, deal=a, stage=second, before_id=c.pk, version=a.version
    )
    assert _column(workspace, second)[0] == "a"
    assert DealStageChange.objects.in_workspace(workspace).count() == changes


def test_move_to_won_and_lost_stages(workspace, rep, sales):
    deal = _new(rep, workspace)
    with pytest.raises(ApplicationError) as caught:
        svc.deal_move(
            actor=rep, workspace=workspace, deal=deal, stage=sales["stages"]["lost"], version=1
        )
    assert caught.value.code == "reason_required"
    won = svc.deal_move(
        actor=rep, workspace=workspace, deal=deal, stage=sales["stages"]["won"], version=1
    )
    assert won.status == "won"
    with pytest.raises(Conflict):
        svc.deal_move(
            actor=rep,
            workspace=workspace,
            deal=deal,
            stage=sales["stages"]["open2"],
            version=won.version,
        )


def test_move_to_another_pipelines_stage_is_refused(workspace, rep, manager, sales):
    from guanxi.sales.services import pipelines

    other = pipelines.pipeline_create(actor=manager, workspace=workspace, name="项目")
    stage = Stage.objects.in_workspace(workspace).filter(pipeline=other, kind="open").first()
    deal = _new(rep, workspace)
    with pytest.raises(ApplicationError) as caught:
        svc.deal_move(actor=rep, workspace=workspace, deal=deal, stage=stage, version=1)
    assert caught.value.code == "other_pipeline"


# --- update, reassign, lines, competitors --------------------------------------------------


def test_update_fields_and_refusals(workspace, rep, sales):
    deal = _new(rep, workspace, amount="10")
    deal = svc.deal_update(
        actor=rep,
        workspace=workspace,
        deal=deal,
        version=1,
        amount="1000",
        currency="USD",
        probability=55,
        forecast_category="commit",
        expected_close_date="2030-01-31",
    )
    assert deal.amount_base == Decimal("7100.00") and deal.probability == 55
    assert deal.expected_close_date.isoformat() == "2030-01-31" and deal.version == 2
    with pytest.raises(ApplicationError) as caught:
        svc.deal_update(
            actor=rep,
            workspace=workspace,
            deal=deal,
            version=2,
            probability=101,
            forecast_category="maybe",
            name="",
        )
    assert {"probability", "forecast_category", "name"} <= set(caught.value.fields)
    with pytest.raises(ApplicationError):
        svc.deal_update(actor=rep, workspace=workspace, deal=deal, version=2, owner=rep)
    svc.deal_win(actor=rep, workspace=workspace, deal=deal)
    with pytest.raises(ApplicationError):
        svc.deal_update(actor=rep, workspace=workspace, deal=deal, version=3, amount="1")


def test_reassign(workspace, rep, rep2, manager, outsider, account, sales):
    deal = _new(rep, workspace, account=account)
    with pytest.raises(PermissionDenied):
        svc.deal_reassign(actor=rep, workspace=workspace, deal=deal, owner=rep2)
    with pytest.raises(PermissionDenied):
        svc.deal_reassign(actor=manager, workspace=workspace, deal=deal, owner=outsider)
    moved = svc.deal_reassign(actor=manager, workspace=workspace, deal=deal, owner=rep2.pk)
    assert moved.owner_id == rep2.pk
    entry = TimelineEntry.objects.in_workspace(workspace).get(subtype="deal_owner")
    assert rep2.full_name in system_text(entry)


def test_lines_use_the_catalogue_price(workspace, rep, sales):
    from guanxi.sales.models import PriceBook, PriceBookEntry

    product = Product.objects.create(workspace=workspace, code="P9", name="阀门")
    book = PriceBook.objects.create(workspace=workspace, name="标准", currency="CNY")
    PriceBookEntry.objects.create(
        workspace=workspace, price_book=book, product=product, unit_price=Decimal("80")
    )
    deal = _new(rep, workspace)
    deal = svc.deal_set_lines(
        actor=rep, workspace=workspace, deal=deal, lines=[{"product": product, "quantity": 2}]
    )
    assert deal.amount == Decimal("160.00")
    line = DealLine.objects.in_workspace(workspace).get(deal=deal)
    assert line.unit_price == Decimal("80")
    usd = _new(rep, workspace, currency="USD")
    with pytest.raises(ApplicationError) as caught:
        svc.deal_set_lines(
            actor=rep, workspace=workspace, deal=usd, lines=[{"product": product, "quantity": 1}]
        )
    assert "lines.0.unit_price" in caught.value.fields


def test_competitors(workspace, rep, manager, sales):
    from guanxi.sales.services import pipelines

    first = pipelines.competitor_create(actor=manager, workspace=workspace, name="甲公司")
    second = pipelines.competitor_create(actor=manager, workspace=workspace, name="乙公司")
    with pytest.raises(Conflict):
        pipelines.competitor_create(actor=manager, workspace=workspace, name="甲公司")
    with pytest.raises(PermissionDenied):
        pipelines.competitor_create(actor=rep, workspace=workspace, name="丙")
    deal = _new(rep, workspace, competitors=[first.pk])
    svc.deal_set_competitors(actor=rep, workspace=workspace, deal=deal, competitors=[second])
    assert list(
        DealCompetitor.objects.in_workspace(workspace)
        .filter(deal=deal)
        .values_list("competitor_id", flat=True)
    ) == [second.pk]
    with pytest.raises(ApplicationError):
        svc.deal_set_competitors(actor=rep, workspace=workspace, deal=deal, competitors=[999999])


# --- pipelines admin -----------------------------------------------------------------------


def test_stage_rules(workspace, rep, manager, sales):
    from guanxi.sales.services import pipelines

    deal = _new(rep, workspace)
    used = sales["stages"]["open1"]
    with pytest.raises(Conflict):
        pipelines.stage_delete(actor=manager, workspace=workspace, stage_id=used.pk)
    with pytest.raises(Conflict):
        pipelines.stage_update(actor=manager, workspace=workspace, stage_id=used.pk, kind="won")
    with pytest.raises(Conflict):  # the pipeline's only lost stage
        pipelines.stage_delete(
            actor=manager, workspace=workspace, stage_id=sales["stages"]["lost"].pk
        )
    unused = sales["stages"]["open5"]
    pipelines.stage_delete(actor=manager, workspace=workspace, stage_id=unused.pk)
    changed = pipelines.stage_update(
        actor=manager, workspace=workspace, stage_id=used.pk, name="初步接触", probability=15
    )
    assert changed.name == "初步接触" and changed.probability == 15
    deal.refresh_from_db()
    assert deal.probability == used.probability  # deals keep theirs
    with pytest.raises(ApplicationError) as caught:
        pipelines.stage_create(
            actor=manager,
            workspace=workspace,
            pipeline_id=sales["pipeline"].pk,
            name="",
            probability=150,
        )
    assert {"name", "probability"} <= set(caught.value.fields)
    with pytest.raises(PermissionDenied):
        pipelines.stage_update(actor=rep, workspace=workspace, stage_id=used.pk, name="x")
    with pytest.raises(NotFound):
        pipelines.stage_update(actor=manager, workspace=workspace, stage_id=0, name="x")
    with pytest.raises(Conflict):
        pipelines.pipeline_update(
            actor=manager, workspace=workspace, pipeline_id=sales["pipeline"].pk, active=False
        )
    reason = pipelines.lost_reason_create(actor=manager, workspace=workspace, name="搁置")
    pipelines.lost_reason_update(
        actor=manager, workspace=workspace, reason_id=reason.pk, active=False
    )
    with pytest.raises(ApplicationError):
        svc.deal_lose(actor=rep, workspace=workspace, deal=deal, reason=reason.pk)


# --- stale, merge ----------------------------------------------------------------------------


def test_stale_counts_stage_deal_and_customer_activity(workspace, rep, account, sales):
    import datetime as dt

    from django.utils import timezone

    from guanxi.activities.services.timeline import record_entry
    from guanxi.sales.selectors import deals as selectors

    deal = _new(rep, workspace, account=account)
    cutoff = selectors.stale_cutoff(workspace)
    stale = Deal.objects.in_workspace(workspace).filter(selectors.stale_q(cutoff))
    assert not stale.exists()
    old = timezone.now() - dt.timedelta(days=60)
    Deal.objects.in_workspace(workspace).filter(pk=deal.pk).update(stage_changed_at=old)
    Account.objects.in_workspace(workspace).filter(pk=account.pk).update(last_activity_at=old)
    assert stale.exists()
    svc.deal_touch(workspace=workspace, deal_id=deal.pk, at=timezone.now())
    assert not stale.exists()
    Deal.objects.in_workspace(workspace).filter(pk=deal.pk).update(last_activity_at=old)
    record_entry(workspace=workspace, author=rep, kind="call", account=account)
    assert not stale.exists()  # a call with the customer counts


def test_merge_moves_deals(workspace, rep, account, sales, admin_user):
    from guanxi.customers.services import merge
    from guanxi.customers.tests.factories import AccountFactory

    other = AccountFactory(workspace=workspace, owner=rep)
    deal = _new(rep, workspace, account=other)
    movers = dict(merge._movers["customers.account"])
    assert movers["sales.Deal.account"](workspace=workspace, survivor=account, merged=other) == 1
    deal.refresh_from_db()
    assert deal.account_id == account.pk
