"""The order import: grouping into orders, customers by account then contact code, unknown
products created or reported, bad lines reported with their order left out, the checkpoint
(a crash after a batch and a resume create nothing twice), rights."""

from __future__ import annotations

from decimal import Decimal

import pytest

from guanxi.common.errors import ApplicationError, PermissionDenied
from guanxi.customers.tests.factories import AccountFactory, ContactFactory
from guanxi.sales.models import Order, OrderLine, OrderStatus, Product
from guanxi.sales.models.orders import OrderImport
from guanxi.sales.selectors.receivables import credit_status
from guanxi.sales.services import order_import

from .orders_support import *  # noqa: F403
from .orders_support import D

pytestmark = pytest.mark.django_db

HEADER = "customer code,date,product,quantity,amount,order number,unit price,currency\n"


@pytest.fixture
def boss(sales_ws, team):
    from guanxi.platform.tests.factories import UserFactory

    return UserFactory(workspace=sales_ws, team=team, role_code="sales_manager")


@pytest.fixture
def customers(sales_ws, rep):
    return (
        AccountFactory(workspace=sales_ws, code="A1", owner=rep),
        ContactFactory(workspace=sales_ws, code="C1"),
    )


def run(actor, text, **options):
    made = order_import.order_import_create(
        actor=actor,
        workspace=actor.workspace,
        file_name="o.csv",
        source=text.encode("utf-8"),
        **options,
    )
    return order_import.order_import_start(
        actor=actor, workspace=actor.workspace, import_id=made.pk, background=False
    )


def test_groups_lines_into_orders(boss, customers, product, sales_ws):
    account, contact = customers
    text = HEADER + (
        "A1,2025-03-01,P-1,2,200,X-1,,\n"
        "A1,2025-03-01,P-1,1,100,X-1,,\n"  # the same order
        "C1,2025-03-02,P-1,3,30,,,\n"
        "C1,2025-03-02,P-1,1,10,,,\n"  # customer + day: one order
        "C1,2025-03-05,P-1,1,10,,,USD\n"
    )
    result = run(boss, text)
    assert (result.orders_created, result.lines_created, result.failed) == (3, 5, 0)
    x1 = Order.objects.in_workspace(sales_ws).get(number="X-1")
    assert x1.account_id == account.pk and x1.total == D("300") and x1.owner_id == account.owner_id
    assert x1.status == OrderStatus.COMPLETED and x1.paid_total == x1.total
    assert list(x1.lines.order_by("position").values_list("position", "unit_price")) == [
        (1, D("100")),
        (2, D("100")),
    ]
    by_contact = Order.objects.in_workspace(sales_ws).filter(contact=contact).order_by("order_date")
    assert [o.total for o in by_contact] == [D("40"), D("10")]
    assert by_contact[1].total_base == D("72.00")
    assert by_contact[0].number.startswith("SO-2025-")
    # Settled history does not count as owed.
    assert credit_status(workspace=sales_ws, account=account).outstanding == 0


def test_bad_lines_reported_and_their_order_left_out(boss, customers, product, sales_ws):
    text = HEADER + (
        "A1,2025-03-01,P-1,-2,200,X-1,,\n"  # negative quantity: X-1 left out whole
        "A1,2025-03-01,P-1,1,100,X-1,,\n"
        "A1,2025-03-02,P-1,1,-5,,,\n"  # negative amount
        "NOPE,2025-03-02,P-1,1,5,,,\n"  # unknown customer
        "A1,2025-13-02,P-1,1,5,,,\n"  # bad date
        "A1,2025-03-03,P-404,1,5,,,\n"  # unknown product, not created
        "A1,2025-03-04,P-1,1,5,,,EUR\n"  # no rate
        "A1,2025-03-09,P-1,1,5,,,\n"  # fine
    )
    result = run(boss, text)
    assert result.orders_created == 1 and result.lines_created == 1
    assert result.failed == 7
    with open(result.error_path, encoding="utf-8-sig") as f:
        report = f.read()
    for needle in ("quantity", "amount", "NOPE", "P-404", "EUR", "2025-13-02"):
        assert needle in report
    assert not Order.objects.in_workspace(sales_ws).filter(number="X-1").exists()


def test_unknown_products_created_on_request(boss, customers, sales_ws):
    result = run(boss, HEADER + "A1,2025-03-01,NEW-9,1,5,,,\n", create_products=True)
    assert result.products_created == 1
    assert Product.objects.in_workspace(sales_ws).get(code="NEW-9")
    assert OrderLine.objects.in_workspace(sales_ws).get().product.code == "NEW-9"


def test_chinese_headers_and_gbk(boss, customers, product, sales_ws):
    text = "客户编码,日期,产品编码,数量,金额\nA1,2025/03/01,P-1,1,5\n"
    made = order_import.order_import_create(
        actor=boss, workspace=sales_ws, file_name="订单.csv", source=text.encode("gb18030")
    )
    result = order_import.order_import_start(
        actor=boss, workspace=sales_ws, import_id=made.pk, background=False
    )
    assert result.lines_created == 1


def test_missing_columns_refused(boss, sales_ws):
    with pytest.raises(ApplicationError) as err:
        order_import.order_import_create(
            actor=boss, workspace=sales_ws, file_name="x.csv", source=b"customer code,date\n"
        )
    assert "file" in err.value.fields
    assert not OrderImport.objects.in_workspace(sales_ws).exists()


def test_rights(rep, sales_ws):
    with pytest.raises(PermissionDenied):  # a rep may not import in bulk
        order_import.order_import_create(
            actor=rep, workspace=sales_ws, file_name="x.csv", source=HEADER.encode()
        )


def test_crash_after_a_batch_then_resume_creates_nothing_twice(
    boss, customers, product, sales_ws, monkeypatch
):
    monkeypatch.setattr(order_import, "BATCH", 3)
    lines = [f"A1,2025-03-{day:02d},P-1,1,{day},,,\n" for day in range(1, 8)]
    # An order split over two batches (lines 3 and 4 share customer and day).
    lines[3] = "A1,2025-03-03,P-1,1,100,,,\n"
    text = HEADER + "".join(lines)
    made = order_import.order_import_create(
        actor=boss, workspace=sales_ws, file_name="o.csv", source=text.encode()
    )

    class Crash(Exception):
        pass

    def crash(run):
        raise Crash

    monkeypatch.setattr(order_import, "after_batch", crash)
    with pytest.raises(Crash):
        order_import.order_import_start(
            actor=boss, workspace=sales_ws, import_id=made.pk, background=False
        )
    assert OrderLine.objects.in_workspace(sales_ws).count() == 3
    monkeypatch.setattr(order_import, "after_batch", None)
    done = order_import.order_import_execute(
        run=OrderImport.objects.in_workspace(sales_ws).get(pk=made.pk)
    )
    assert done.lines_created == 7
    assert OrderLine.objects.in_workspace(sales_ws).count() == 7
    orders = Order.objects.in_workspace(sales_ws)
    assert orders.count() == 6
    split = orders.get(order_date="2025-03-03")
    assert split.total == Decimal("103") and split.lines.count() == 2
    # A finished import runs no more.
    again = order_import.order_import_execute(run=done)
    assert again.lines_created == 7 and OrderLine.objects.in_workspace(sales_ws).count() == 7


def test_background_job(boss, customers, product, sales_ws, django_capture_on_commit_callbacks):
    made = order_import.order_import_create(
        actor=boss,
        workspace=sales_ws,
        file_name="o.csv",
        source=(HEADER + "A1,2025-03-01,P-1,1,5,,,\n").encode(),
    )
    with django_capture_on_commit_callbacks(execute=True):
        run_ = order_import.order_import_start(actor=boss, workspace=sales_ws, import_id=made.pk)
    run_.refresh_from_db()
    run_.job.refresh_from_db()
    assert run_.job.state == "succeeded", run_.job.error
    assert run_.lines_created == 1


def test_guanxi_import_orders_command(admin_user, customers, product, sales_ws, tmp_path):
    from django.core.management import call_command

    path = tmp_path / "orders.csv"
    path.write_text(HEADER + "A1,2025-03-01,P-1,1,5,CLI-1,,\n", encoding="utf-8")
    call_command("import", "orders", str(path), "--workspace", sales_ws.slug, "--quiet")
    assert Order.objects.in_workspace(sales_ws).get().number == "CLI-1"
