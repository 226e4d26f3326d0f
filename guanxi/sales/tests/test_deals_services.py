"""The deals' services: open, change, move on the kanban, win, lose, reopen, reassign,
products and competitors — rights, validation, optimistic locking, history and timeline."""

from __future__ import annotations

from decimal import Decimal

import pytest

from guanxi.activities.models import TimelineEntry
from guanxi.activities.timeline_display import system_text
from guanxi.common.errors import ApplicationError, Conflict, NotFound, PermissionDenied
from guanxi.platform.models import AuditEntry
from guanxi.sales.models import (
    Deal,
    DealLine,
    DealStageChange,
    LostReason,
    Product,
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
