"""The order import: grouping into orders, customers by account then contact code, unknown
products created or reported, bad lines reported with their order left out, the checkpoint
(a crash after a batch and a resume create nothing twice), rights; return lines refused,
skipped or imported as credit lines; unknown customers created as accounts (with the right,
within the owner's cap, once across a crash); the options through the CLI, the page and the
API."""

from __future__ import annotations

import io
import json
from decimal import Decimal
from pathlib import Path

import pytest
from django.core.management.base import CommandError

from guanxi.common.errors import ApplicationError, Conflict, PermissionDenied
from guanxi.customers.models import Account
from guanxi.customers.tests.factories import AccountFactory, ContactFactory
from guanxi.platform.models import AuditEntry
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


@pytest.mark.parametrize("source", [b"\xb5", b"\xff\xfe\x00", "客户编码".encode("gb18030")[:-1]])
def test_a_file_that_is_no_text_is_refused(boss, sales_ws, source):
    """A short file cut inside a character (schemathesis sent one) is no text: a clear
    message, not a 500."""
    with pytest.raises(ApplicationError) as err:
        order_import.order_import_create(
            actor=boss, workspace=sales_ws, file_name="x.csv", source=source
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


# --- return lines ------------------------------------------------------------------------------

RETURNS_FILE = HEADER + (
    "A1,2025-03-01,P-1,2,200,R-1,,\n"
    "A1,2025-03-01,P-1,-1,-100,R-1,,\n"  # a return inside an order
    "A1,2025-03-02,P-1,1,-30,R-2,,\n"  # a credit note: negative amount, quantity 1
    "C1,2025-03-03,P-1,-3,-45,C-3,,\n"  # a cancelled invoice: its only line
    "A1,2025-03-04,P-1,1,10,R-4,-10,\n"  # a sale at a negative price: always bad
    "A1,2025-03-05,P-1,-1,-5,R-5,,ZZZ\n"  # a return with a bad currency: always bad
)


def _report(result) -> str:
    if not result.error_path or not Path(result.error_path).exists():
        return ""
    return Path(result.error_path).read_text(encoding="utf-8-sig")


def test_returns_refused_by_default(boss, customers, product, sales_ws):
    result = run(boss, RETURNS_FILE)
    assert result.options["returns"] == "refuse" and result.skipped == 0
    assert (result.orders_created, result.failed) == (0, 6)
    report = _report(result)
    assert "The quantity cannot be negative." in report
    assert "The amount cannot be negative." in report


def test_returns_skipped_leave_their_order_in(boss, customers, product, sales_ws):
    result = run(boss, RETURNS_FILE, returns="skip")
    # R-1 keeps its sale; R-2 and C-3 had only returns (no order); are bad.
    assert (result.skipped, result.failed) == (3, 2)
    assert (result.orders_created, result.lines_created) == (1, 1)
    r1 = Order.objects.in_workspace(sales_ws).get()
    assert r1.number == "R-1" and r1.total == D("200")
    report = _report(result)
    assert "cannot be negative" not in report
    assert {row.split(",")[0] for row in report.splitlines()[1:]} == {"6", "7"}


def test_returns_as_credit_lines(boss, customers, product, sales_ws):
    account, contact = customers
    result = run(boss, RETURNS_FILE, returns="credit")
    assert (result.orders_created, result.lines_created, result.failed) == (3, 4, 2)
    assert result.skipped == 0
    orders = {o.number: o for o in Order.objects.in_workspace(sales_ws)}
    assert set(orders) == {"R-1", "R-2", "C-3"}
    assert orders["R-1"].total == D("100") and orders["R-1"].lines.count() == 2
    returned = orders["R-1"].lines.get(position=2)
    assert (returned.quantity, returned.amount, returned.unit_price) == (
        D("-1"),
        D("-100"),
        D("100"),
    )
    assert returned.amount_base == D("-100")
    credit_note = orders["R-2"].lines.get()
    assert (credit_note.quantity, credit_note.unit_price) == (D("1"), D("-30"))
    # Below zero, settled: paid equals total, nothing owed.
    assert orders["C-3"].total == D("-45") and orders["C-3"].contact_id == contact.pk
    for order in orders.values():
        assert order.paid_total == order.invoiced_total == order.total
    assert credit_status(workspace=sales_ws, account=account).outstanding == 0
    # The sale at a negative price is still refused; a bad return is reported as bad.
    report = _report(result)
    assert "Enter a price." in report and "ZZZ" in report


def test_credit_lines_owed_are_not_owed_below_zero(boss, customers, product, sales_ws):
    account, _contact = customers
    text = HEADER + "A1,2025-03-01,P-1,1,100,O-1,,\nA1,2025-03-02,P-1,-1,-30,O-2,,\n"
    result = run(boss, text, returns="credit", settled=False)
    assert result.orders_created == 2
    totals = dict(Order.objects.in_workspace(sales_ws).values_list("number", "total"))
    assert totals == {"O-1": D("100"), "O-2": D("-30")}
    # The sale is owed; the credit order owes nothing (and is not a debt of ours either).
    assert credit_status(workspace=sales_ws, account=account).outstanding == D("100")


@pytest.mark.parametrize("bad", ["credits", "", None, 1, "REFUSE "])
def test_bad_returns_option_refused(boss, sales_ws, bad):
    if bad == "REFUSE ":  # the option is read case- and space-insensitively
        made = order_import.order_import_create(
            actor=boss, workspace=sales_ws, file_name="o.csv", source=HEADER.encode(), returns=bad
        )
        assert made.options["returns"] == "refuse"
        return
    before = set(order_import.import_dir(sales_ws.pk).iterdir())
    with pytest.raises(ApplicationError) as err:
        order_import.order_import_create(
            actor=boss, workspace=sales_ws, file_name="o.csv", source=HEADER.encode(), returns=bad
        )
    assert err.value.code == "invalid_option"
    assert "refuse, skip, credit" in str(err.value.fields["returns"][0])
    assert not OrderImport.objects.in_workspace(sales_ws).exists()
    assert set(order_import.import_dir(sales_ws.pk).iterdir()) == before


def test_skipped_and_credit_lines_across_batches(boss, customers, product, sales_ws, monkeypatch):
    """A return in a later batch is added to its order made by an earlier batch."""
    monkeypatch.setattr(order_import, "BATCH", 2)
    text = HEADER + (
        "A1,2025-03-01,P-1,2,200,B-1,,\n"
        "A1,2025-03-01,P-1,1,100,B-1,,\n"
        "A1,2025-03-01,P-1,-1,-100,B-1,,\n"  # the second batch
        "A1,2025-03-02,P-1,-1,-7,,,\n"
    )
    result = run(boss, text, returns="credit")
    order = Order.objects.in_workspace(sales_ws).get(number="B-1")
    assert order.total == D("200") and order.paid_total == D("200") and order.lines.count() == 3
    assert result.orders_created == 2 and result.lines_created == 4
    OrderLine.objects.in_workspace(sales_ws).delete()
    Order.objects.in_workspace(sales_ws).delete()
    skipped = run(boss, text, returns="skip")
    assert (skipped.skipped, skipped.orders_created, skipped.lines_created) == (2, 1, 2)


# --- unknown customers -------------------------------------------------------------------------


def test_unknown_customers_created_as_accounts(boss, customers, product, sales_ws):
    account, contact = customers
    text = HEADER + (
        "13085,2025-03-01,P-1,2,20,N-1,,\n"
        "13085,2025-03-02,P-1,1,10,N-2,,\n"  # the same new customer: one account
        "王五商店,2025-03-02,P-1,1,10,,,\n"
        "A1,2025-03-03,P-1,1,10,,,\n"  # an account: found
        "C1,2025-03-03,P-1,1,10,,,\n"  # a contact: found, no account made for it
        "NOPROD,2025-03-04,P-404,1,10,,,\n"  # its order is refused: no account made
        + f"{'X' * 65},2025-03-04,P-1,1,10,,,\n"  # too long for a code
    )
    result = run(boss, text, create_customers=True)
    assert result.customers_created == 2 and result.failed == 2
    assert result.orders_created == 5
    made = Account.objects.in_workspace(sales_ws).exclude(pk=account.pk)
    assert sorted(made.values_list("code", flat=True)) == ["13085", "王五商店"]
    new = made.get(code="王五商店")
    assert new.name == "王五商店" and new.owner_id == boss.pk and new.created_by_id == boss.pk
    assert new.owned_since is not None and new.source == "import"
    assert new.search_text and new.name_pinyin == "wangwushangdian" and new.search_grams
    orders = Order.objects.in_workspace(sales_ws).filter(account__code="13085")
    assert orders.count() == 2 and {o.owner_id for o in orders} == {boss.pk}
    assert OrderLine.objects.in_workspace(sales_ws).filter(account=new).count() == 1
    assert Order.objects.in_workspace(sales_ws).filter(contact=contact).count() == 1
    assert "at most 64 characters" in _report(result)
    entries = AuditEntry.objects.in_workspace(sales_ws)
    summary = entries.get(object_key="customers.account")
    assert summary.changes["created"] == [None, 2]
    import_row = entries.get(object_key="sales.order_import")
    assert import_row.changes["customers"] == [None, 2]
    assert import_row.changes["skipped"] == [None, 0]
    # The accounts are found by search like any other.
    from guanxi.customers.search import search_accounts

    assert [
        a.pk for a in search_accounts(workspace=sales_ws, actor=boss, term="wwsd", limit=5)
    ] == [new.pk]


def test_without_the_option_unknown_customers_are_reported(boss, product, sales_ws):
    result = run(boss, HEADER + "NEW-1,2025-03-01,P-1,1,5,,,\n")
    assert result.customers_created == 0 and result.failed == 1
    assert not Account.objects.in_workspace(sales_ws).filter(code="NEW-1").exists()


@pytest.fixture
def importer_without_accounts(sales_ws, team):
    """May import orders in bulk, but not create accounts."""
    from guanxi.platform.models import Role
    from guanxi.platform.tests.factories import UserFactory

    everything = ["create", "read", "update", "delete", "bulk"]
    role = Role.objects.create(
        workspace=sales_ws,
        name="Order clerk",
        code="order_clerk",
        rights={
            "sales.order": {"actions": everything, "visibility": "all"},
            "sales.product": {"actions": everything, "visibility": "all"},
            "customers.account": {"actions": ["read", "update"], "visibility": "all"},
        },
    )
    return UserFactory(workspace=sales_ws, team=team, role=role)


def test_creating_customers_needs_the_account_right(
    importer_without_accounts, customers, product, sales_ws
):
    clerk = importer_without_accounts
    with pytest.raises(PermissionDenied):
        run(clerk, HEADER + "NEW-1,2025-03-01,P-1,1,5,,,\n", create_customers=True)
    assert not OrderImport.objects.in_workspace(sales_ws).exists()
    # Without the option the clerk imports (and the unknown code is reported).
    result = run(clerk, HEADER + "A1,2025-03-01,P-1,1,5,,,\nNEW-1,2025-03-01,P-1,1,5,,,\n")
    assert result.orders_created == 1 and result.failed == 1
    # A role that lost the right meanwhile cannot start an import made with the option.
    made = order_import.order_import_create(
        actor=boss_of(sales_ws),
        workspace=sales_ws,
        file_name="o.csv",
        source=(HEADER + "NEW-2,2025-03-01,P-1,1,5,,,\n").encode(),
        create_customers=True,
    )
    OrderImport.objects.in_workspace(sales_ws).filter(pk=made.pk).update(created_by=clerk)
    with pytest.raises(PermissionDenied):
        order_import.order_import_start(
            actor=clerk, workspace=sales_ws, import_id=made.pk, background=False
        )
    assert not Account.objects.in_workspace(sales_ws).filter(code="NEW-2").exists()


def boss_of(workspace):
    from guanxi.platform.tests.factories import UserFactory

    return UserFactory(workspace=workspace, role_code="sales_manager")


def test_created_customers_stay_within_the_owner_cap(boss, product, sales_ws):
    from guanxi.customers.models import PoolSettings

    PoolSettings.objects.create(workspace=sales_ws, max_per_rep=1)
    text = HEADER + "NEW-1,2025-03-01,P-1,1,5,,,\nNEW-2,2025-03-01,P-1,1,5,,,\n"
    with pytest.raises(Conflict) as err:
        run(boss, text, create_customers=True)
    assert err.value.code == "pool_cap_reached"
    # The batch wrote nothing; the import waits, unfinished, to be resumed.
    assert not Account.objects.in_workspace(sales_ws).filter(code__startswith="NEW-").exists()
    assert not Order.objects.in_workspace(sales_ws).exists()
    pending = OrderImport.objects.in_workspace(sales_ws).get()
    assert pending.finished_at is None and pending.lines_done == 0


def test_a_code_taken_meanwhile_is_used_not_made_twice(boss, rep, product, sales_ws, monkeypatch):
    """Another transaction gives one of the codes to a customer between the look-up and
    the insert: the batch uses that customer and makes only the rest."""
    real = order_import.ensure_capacity
    rival = {}

    def someone_else_first(**kwargs):
        if not rival:
            rival["account"] = AccountFactory(workspace=sales_ws, code="NEW-1", owner=rep)
        return real(**kwargs)

    monkeypatch.setattr(order_import, "ensure_capacity", someone_else_first)
    text = HEADER + "NEW-1,2025-03-01,P-1,1,5,,,\nNEW-2,2025-03-01,P-1,1,5,,,\n"
    result = run(boss, text, create_customers=True)
    assert result.customers_created == 1 and result.orders_created == 2
    assert Account.objects.in_workspace(sales_ws).filter(code="NEW-1").count() == 1
    mine = Order.objects.in_workspace(sales_ws).get(account__code="NEW-1")
    assert mine.account_id == rival["account"].pk
    assert mine.owner_id == rep.pk


def test_crash_then_resume_creates_each_customer_once(boss, product, sales_ws, monkeypatch):
    monkeypatch.setattr(order_import, "BATCH", 3)
    lines = [
        "NEW-1,2025-03-01,P-1,1,1,,,\n",
        "NEW-2,2025-03-01,P-1,1,2,,,\n",
        "NEW-1,2025-03-02,P-1,-1,-1,,,\n",  # a credit line
        # the second batch: a customer made by the first, and new ones
        "NEW-1,2025-03-02,P-1,1,4,,,\n",
        "NEW-3,2025-03-02,P-1,1,5,,,\n",
        "NEW-4,2025-03-02,P-1,1,6,,,\n",
        # the third batch
        "NEW-2,2025-03-03,P-1,1,7,,,\n",
        "NEW-5,2025-03-03,P-1,1,8,,,\n",
    ]
    made = order_import.order_import_create(
        actor=boss,
        workspace=sales_ws,
        file_name="o.csv",
        source=(HEADER + "".join(lines)).encode(),
        returns="credit",
        create_customers=True,
    )

    class Crash(Exception):
        pass

    calls = []

    def crash_after_the_second_batch(run_):
        calls.append(run_.lines_done)
        if len(calls) == 2:
            raise Crash

    monkeypatch.setattr(order_import, "after_batch", crash_after_the_second_batch)
    with pytest.raises(Crash):
        order_import.order_import_start(
            actor=boss, workspace=sales_ws, import_id=made.pk, background=False
        )
    assert Account.objects.in_workspace(sales_ws).count() == 4
    stored = OrderImport.objects.in_workspace(sales_ws).get(pk=made.pk)
    assert (stored.lines_done, stored.customers_created) == (6, 4)

    # The third batch dies before its commit: its new account is not left behind.
    def fail_in_the_batch(**kwargs):
        raise Crash

    monkeypatch.setattr(order_import, "after_batch", None)
    monkeypatch.setattr(order_import, "_insert_lines", lambda *a, **k: fail_in_the_batch())
    with pytest.raises(Crash):
        order_import.order_import_execute(run=stored)
    assert not Account.objects.in_workspace(sales_ws).filter(code="NEW-5").exists()
    monkeypatch.undo()

    done = order_import.order_import_execute(
        run=OrderImport.objects.in_workspace(sales_ws).get(pk=made.pk)
    )
    assert done.customers_created == 5 and done.lines_created == 8 and done.failed == 0
    codes = list(Account.objects.in_workspace(sales_ws).values_list("code", flat=True))
    assert sorted(codes) == ["NEW-1", "NEW-2", "NEW-3", "NEW-4", "NEW-5"]
    new_1 = Order.objects.in_workspace(sales_ws).get(account__code="NEW-1", order_date="2025-03-02")
    assert new_1.total == D("3") and new_1.lines.count() == 2  # -1 then +4, split by the batch
    assert AuditEntry.objects.in_workspace(sales_ws).get(object_key="customers.account").changes[
        "created"
    ] == [None, 5]


# --- the options through the CLI, the page and the API ----------------------------------------


def test_cli_options(admin_user, customers, product, sales_ws, tmp_path, capsys):
    from django.core.management import call_command

    path = tmp_path / "orders.csv"
    path.write_text(
        HEADER + "NEW-9,2025-03-01,P-1,2,10,CLI-1,,\nNEW-9,2025-03-01,P-1,-1,-5,CLI-1,,\n",
        encoding="utf-8",
    )
    call_command(
        "import",
        "orders",
        str(path),
        "--workspace",
        sales_ws.slug,
        "--returns",
        "credit",
        "--create-customers",
        "--quiet",
    )
    order = Order.objects.in_workspace(sales_ws).get(number="CLI-1")
    assert order.total == D("5") and order.account.code == "NEW-9"
    assert "1 customers created" in capsys.readouterr().out
    path.write_text(HEADER + "A1,2025-03-02,P-1,-1,-5,CLI-2,,\n", encoding="utf-8")
    out = io.StringIO()
    call_command(
        "orders_import",
        str(path),
        "--workspace",
        sales_ws.slug,
        "--returns",
        "skip",
        "--quiet",
        stdout=out,
    )
    assert "1 return lines skipped" in out.getvalue()
    assert not Order.objects.in_workspace(sales_ws).filter(number="CLI-2").exists()
    with pytest.raises(CommandError):
        call_command("orders_import", str(path), "--workspace", sales_ws.slug, "--returns", "maybe")


def test_api_options(
    boss,
    customers,
    product,
    other_admin,
    importer_without_accounts,
    django_capture_on_commit_callbacks,
):
    from django.core.files.uploadedfile import SimpleUploadedFile
    from django.test import Client

    from guanxi.platform.tests.test_api_support import ApiClient, assert_error, make_token

    def client_for(user):
        token = make_token(user, scopes=["read", "write"])
        return Client(headers={"authorization": f"Bearer {token}"})

    csv_text = HEADER + "NEW-7,2025-03-01,P-1,2,10,API-1,,\nNEW-7,2025-03-01,P-1,-1,-5,API-1,,\n"

    def post(user, **data):
        return client_for(user).post(
            "/api/v1/orders/import",
            {"file": SimpleUploadedFile("o.csv", csv_text.encode(), "text/csv"), **data},
        )

    with django_capture_on_commit_callbacks(execute=True):
        response = post(boss, returns="skip", create_customers="true")
    assert response.status_code == 202, response.content
    body = (
        ApiClient(make_token(boss, scopes=["read"]))
        .get(f"/orders/import/{response.json()['id']}")
        .json()
    )
    assert body["job_state"] == "succeeded"
    assert (body["returns"], body["create_customers"]) == ("skip", True)
    assert (body["skipped"], body["customers_created"], body["lines_created"]) == (1, 1, 1)
    error = assert_error(post(boss, returns="sometimes"), 422)
    assert "returns" in str(error["fields"])
    assert_error(post(importer_without_accounts, create_customers="true"), 403)
    assert_error(
        ApiClient(make_token(other_admin, scopes=["read"])).get(
            f"/orders/import/{response.json()['id']}"
        ),
        404,
    )
    schema = client_for(boss).get("/api/v1/openapi.json").json()
    form = schema["paths"]["/api/v1/orders/import"]["post"]["requestBody"]["content"]
    assert "returns" in json.dumps(form) and "create_customers" in json.dumps(form)
    assert Account.objects.in_workspace(boss.workspace).filter(code="NEW-7").count() == 1


def test_page_options(
    client,
    boss,
    customers,
    product,
    sales_ws,
    importer_without_accounts,
    other_admin,
    django_capture_on_commit_callbacks,
    django_assert_max_num_queries,
):
    from django.core.files.uploadedfile import SimpleUploadedFile
    from django.urls import reverse

    client.force_login(boss)
    with django_assert_max_num_queries(8):
        page = client.get(reverse("sales:order_import"))
    html = page.content.decode()
    assert 'name="returns" value="credit"' in html and 'name="create_customers"' in html
    assert 'id="create-customers" name="create_customers" value="1" disabled' not in html
    text = HEADER + "NEW-8,2025-03-01,P-1,2,10,PG-1,,\nNEW-8,2025-03-02,P-1,-1,-5,PG-2,,\n"
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(
            reverse("sales:order_import"),
            {
                "file": SimpleUploadedFile("o.csv", text.encode()),
                "settled": "1",
                "returns": "credit",
                "create_customers": "1",
            },
        )
    assert response.status_code == 302
    with django_assert_max_num_queries(8):
        detail = client.get(response["Location"])
    html = detail.content.decode()
    assert detail.status_code == 200 and "Customers created" in html
    assert "Import as credit lines" in html
    totals = dict(Order.objects.in_workspace(sales_ws).values_list("number", "total"))
    assert totals == {"PG-1": D("10"), "PG-2": D("-5")}
    with django_assert_max_num_queries(8):  # the same with earlier imports listed
        listing = client.get(reverse("sales:order_import")).content.decode()
    assert "1 customers created" in listing
    # A bad option value: the form again, with the message, nothing made.
    bad = client.post(
        reverse("sales:order_import"),
        {"file": SimpleUploadedFile("x.csv", text.encode()), "returns": "sometimes"},
    )
    assert bad.status_code == 400 and "refuse, skip, credit" in bad.content.decode()
    assert OrderImport.objects.in_workspace(sales_ws).count() == 1
    # Someone else's workspace: not found; a role without the account right: refused.
    client.force_login(other_admin)
    assert client.get(response["Location"]).status_code == 404
    client.force_login(importer_without_accounts)
    form = client.get(reverse("sales:order_import")).content.decode()
    assert 'id="create-customers" name="create_customers" value="1" disabled' in form
    refused = client.post(
        reverse("sales:order_import"),
        {"file": SimpleUploadedFile("o.csv", text.encode()), "create_customers": "1"},
    )
    assert refused.status_code == 403
    assert OrderImport.objects.in_workspace(sales_ws).count() == 1
