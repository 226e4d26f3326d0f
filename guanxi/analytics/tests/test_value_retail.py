"""The customer-value figures checked on a retail transaction data set, as issue 5 asks.

A seeded file in the shape of the UCI "Online Retail II" set (Invoice, StockCode,
Description, Quantity, InvoiceDate, Price, Customer ID, Country: cancellations "C…" with
negative quantities, guests without a customer ID, "Adjust bad debt" lines of quantity 1
and a negative price, prices to a tenth of a penny, IDs written "13085.0", and the
workbook's two overlapping sheets) goes the way a user takes with the real file:
``bench/retail_to_orders.py`` → ``guanxi import orders FILE --returns credit
--create-customers --create-products`` → ``guanxi report pareto --year Y --recompute`` → ``GET
/api/v1/analytics/pareto``. The figures and every customer's class are compared, exact to
the cent, with a plain-Python computation from the ORIGINAL rows (not from the database):
net revenue per customer and year, the ranked curve and the ABC rules of
docs/analytics/value.md.
"""

from __future__ import annotations

import csv
import datetime as dt
import json
import math
import random
from collections import defaultdict
from decimal import ROUND_HALF_UP, Decimal

import pytest
from django.core.management import call_command

from bench import retail_to_orders
from guanxi.analytics.models import CustomerYearRevenue
from guanxi.customers.models import Account
from guanxi.platform.tests.test_api_support import ApiClient, make_token
from guanxi.sales.models import Order, OrderLine
from guanxi.sales.models.orders import OrderImport
from guanxi.sales.services import order_import
from guanxi.sales.services.setup import ensure_sales_defaults

pytestmark = pytest.mark.django_db

YEAR = 2011  # the reference year; the data runs from 2009
HEADER = [
    "Invoice",
    "StockCode",
    "Description",
    "Quantity",
    "InvoiceDate",
    "Price",
    "Customer ID",
    "Country",
]
CENT = Decimal("0.01")
PRICES = [
    "0.001",
    "0.125",  # × an odd quantity: half a penny, rounded up
    "0.29",
    "0.42",
    "0.85",
    "1.25",
    "1.65",
    "2.95",
    "4.95",
    "6.75",
    "12.75",
    "18.00",
    "165.00",
]
QUANTITIES = [1, 1, 2, 3, 4, 5, 6, 12, 12, 24, 25, 48, 96]
SHEET_1_END = dt.datetime(2010, 12, 10)  # the workbook's first sheet runs to 9 Dec 2010
SHEET_2_START = dt.datetime(2010, 12, 1)  # the second starts on 1 Dec 2010: they overlap


# --- the data set --------------------------------------------------------------------------------


def _when(rng: random.Random, year: int) -> dt.datetime:
    start = dt.datetime(year, 1, 1, 7, 0)
    return start + dt.timedelta(days=rng.randrange(364), minutes=rng.randrange(11 * 60))


def _retail_rows(seed: int) -> list[dict]:
    """The rows of a retail data set, invoice by invoice in date order (numbered in that
    order, as the real one is)."""
    rng = random.Random(seed)
    products = [
        f"{rng.randint(10000, 99999)}{rng.choice(['', '', '', 'A', 'B'])}" for _ in range(200)
    ]
    invoices: list[tuple] = []  # (when, prefix, customer, [(code, qty, price)])

    def sale(customer, when, lines):
        invoices.append((when, "", customer, lines))

    def cancel(customer, when, lines):
        invoices.append((when, "C", customer, [(c, -q, p) for c, q, p in lines]))

    def some_lines():
        return [
            (rng.choice(products), rng.choice(QUANTITIES), rng.choice(PRICES))
            for _ in range(rng.randint(1, 8))
        ]

    customers = [str(12346 + n) for n in range(125)]
    for n, customer in enumerate(customers):
        shape = rng.random()
        if n < 3:  # grown by exactly 10 % twice: B (at 121.00 not near the top)
            for back, qty in ((2, 100), (1, 110), (0, 121)):
                sale(customer, _when(rng, YEAR - back), [("22423", qty, "1.00")])
        elif n < 5:  # grown by 10 % less a penny: C
            for back, price in ((2, "100.00"), (1, "110.00"), (0, "120.99")):
                sale(customer, _when(rng, YEAR - back), [("22423", 1, price)])
        elif shape < 0.08:  # growing steadily
            for back, qty in ((2, 10), (1, 13), (0, 17)):
                sale(customer, _when(rng, YEAR - back), [("21232", qty, "2.95")])
        elif shape < 0.13:  # bought last year, returned this year: below zero this year
            lines = some_lines()
            when = dt.datetime(YEAR - 1, 12, 20, 10, 0)
            sale(customer, when, lines)
            cancel(customer, dt.datetime(YEAR, 1, 5 + n % 20, 11, 0), lines[:1])
        elif shape < 0.16:  # bought and returned it all this year: zero
            lines = some_lines()
            when = _when(rng, YEAR)
            sale(customer, when, lines)
            cancel(customer, when + dt.timedelta(days=3), lines)
        elif shape < 0.22:  # only cancellations in the data (the sale predates it)
            cancel(customer, _when(rng, YEAR), some_lines())
        else:
            for year in range(YEAR - 2, YEAR + 1):
                for _ in range(rng.randint(0, 4)):
                    when = _when(rng, year)
                    lines = some_lines()
                    if rng.random() < 0.1:  # the same product twice on one invoice
                        lines.append(lines[0])
                    sale(customer, when, lines)
                    if rng.random() < 0.15:  # part returned, sometimes the next year
                        back = rng.sample(lines, k=min(len(lines), rng.randint(1, 2)))
                        cancel(customer, when + dt.timedelta(days=rng.randint(1, 60)), back)
    for _ in range(60):  # guests: no customer ID, left out by the converter
        year = rng.randint(YEAR - 2, YEAR)
        sale(None, _when(rng, year), some_lines())
        if rng.random() < 0.2:
            cancel(None, _when(rng, year), some_lines()[:1])
    # Bad debt written off: quantity 1, a negative price; the real ones have no customer.
    for customer, price in ((None, "-11062.06"), (None, "-53594.36"), (customers[40], "-61.30")):
        invoices.append((_when(rng, YEAR), "A", customer, [("B", 1, price)]))
    rows = _numbered(invoices)
    _tie_at_the_cut_off(rows, rng)
    return rows


def _numbered(invoices) -> list[dict]:
    rows = []
    invoices.sort(key=lambda i: i[0])
    for number, (when, prefix, customer, lines) in enumerate(invoices, start=489434):
        for code, quantity, price in lines:
            rows.append(
                {
                    "Invoice": f"{prefix}{number}",
                    "StockCode": "B" if prefix == "A" else code,
                    "Description": "Adjust bad debt" if prefix == "A" else f"ITEM {code}",
                    "Quantity": str(quantity),
                    "InvoiceDate": when.strftime("%Y-%m-%d %H:%M:%S"),
                    "Price": str(price),
                    "Customer ID": f"{customer}.0" if customer else "",
                    "Country": "United Kingdom",
                }
            )
    return rows


def _tie_at_the_cut_off(rows: list[dict], rng: random.Random) -> None:
    """Raise the customer ranked just below the class cut-off to the cut-off's revenue
    with one more invoice, so that the tie rule ("ties are in") is exercised."""
    ranked = sorted(
        ((v, c) for (c, y), v in net_revenue(rows).items() if y == YEAR and v > 0), reverse=True
    )
    k = math.ceil(len(ranked) * 20 / 100)
    (cut, _who), (below, customer) = ranked[k - 1], ranked[k]
    assert cut > below
    last = int(rows[-1]["Invoice"].lstrip("CA")) + 1
    rows.append(
        {
            "Invoice": str(last),
            "StockCode": "85123A",
            "Description": "TOP UP",
            "Quantity": "1",
            "InvoiceDate": f"{YEAR}-12-09 12:50:00",
            "Price": str(cut - below),
            "Customer ID": f"{customer}.0",
            "Country": "United Kingdom",
        }
    )


# --- the independent computation ---------------------------------------------------------------


def net_revenue(rows: list[dict]) -> dict[tuple[str, int], Decimal]:
    """(customer ID, year) → quantity × price per line, rounded half up to the cent,
    summed; lines without a customer ID are nobody's."""
    out: dict = defaultdict(lambda: Decimal("0.00"))
    for row in rows:
        customer = row["Customer ID"].split(".")[0]
        if not customer:
            continue
        amount = (Decimal(row["Quantity"]) * Decimal(row["Price"])).quantize(
            CENT, rounding=ROUND_HALF_UP
        )
        out[(customer, int(row["InvoiceDate"][:4]))] += amount
    return dict(out)


def expected_pareto(revenue: dict, year: int) -> dict:
    """Customers with net revenue above zero, best first; for x = 0, 0.5 … 100 % the top
    ceil(N·x/100) of them, their revenue and share (4 decimals, half up)."""
    values = sorted((v for (_c, y), v in revenue.items() if y == year and v > 0), reverse=True)
    total = sum(values, Decimal("0.00"))
    points = []
    for step in range(201):
        percent = Decimal(step) / 2
        k = math.ceil(len(values) * percent / 100)
        top = sum(values[:k], Decimal("0.00"))
        share = (top * 100 / total).quantize(Decimal("0.0001"), rounding=ROUND_HALF_UP)
        points.append((percent, k, top, share))
    return {"customers": len(values), "revenue": total, "points": points, "ranked": values}


def expected_classes(revenue: dict, year: int) -> dict[str, str]:
    """A: revenue in the year at or above the revenue of the customer ranked ceil(N·20 %)
    (ties in); B: not A, grown by at least 10 % in each of the last two years from a year
    above zero; C: the rest. Every customer ID in the data is a customer."""
    ranked = expected_pareto(revenue, year)["ranked"]
    cut = ranked[math.ceil(len(ranked) * 20 / 100) - 1]
    out = {}
    for customer in {c for c, _y in revenue}:

        def rev(y, customer=customer):
            return revenue.get((customer, y), Decimal(0))

        if rev(year) >= cut:
            out[customer] = "A"
        elif all(
            rev(year - i - 1) > 0 and rev(year - i) * 100 >= rev(year - i - 1) * 110
            for i in range(2)
        ):
            out[customer] = "B"
        else:
            out[customer] = "C"
    return out


# --- the files --------------------------------------------------------------------------------


def _write_csv(path, rows) -> None:
    with open(path, "w", encoding="utf-8", newline="") as f:
        writer = csv.DictWriter(f, fieldnames=HEADER)
        writer.writeheader()
        writer.writerows(rows)


def _cell(name: str, value: str):
    """As the workbook stores it: numbers as numbers, dates as dates."""
    if name == "InvoiceDate":
        return dt.datetime.fromisoformat(value)
    if name in ("Quantity",) or (name in ("Invoice", "StockCode") and value.isdigit()):
        return int(value)
    if name in ("Price", "Customer ID"):
        return float(value) if value else None
    return value


def _write_workbook(path, rows) -> int:
    """The two sheets of the published workbook, overlapping; returns the repeated lines."""
    from openpyxl import Workbook

    book = Workbook(write_only=True)
    repeated = 0
    for title, keep in (
        ("Year 2009-2010", lambda when: when < SHEET_1_END),
        ("Year 2010-2011", lambda when: when >= SHEET_2_START),
    ):
        sheet = book.create_sheet(title)
        sheet.append(HEADER)
        for row in rows:
            if keep(dt.datetime.fromisoformat(row["InvoiceDate"])):
                sheet.append([_cell(name, row[name]) for name in HEADER])
                if title.endswith("2011") and dt.datetime.fromisoformat(row["InvoiceDate"]) < (
                    SHEET_1_END
                ):
                    repeated += 1
    book.save(path)
    return repeated


# --- the check --------------------------------------------------------------------------------


def test_pareto_and_classes_match_an_independent_computation(
    workspace, admin_user, tmp_path, monkeypatch, capsys
):
    ensure_sales_defaults(workspace)
    rows = _retail_rows(seed=5)
    assert 2500 <= len(rows) <= 3500
    source = tmp_path / "online_retail_II.csv"
    _write_csv(source, rows)
    converted = tmp_path / "orders.csv"
    counts = retail_to_orders.main([str(source), str(converted)])
    guests = sum(1 for r in rows if not r["Customer ID"])
    assert (counts.read, counts.no_customer, counts.repeated, counts.unreadable) == (
        len(rows),
        guests,
        0,
        0,
    )
    assert counts.written == len(rows) - guests
    assert "without a customer" in capsys.readouterr().err

    # The workbook gives the same file: the overlap of its sheets is read once.
    workbook = tmp_path / "online_retail_II.xlsx"
    overlap = _write_workbook(workbook, rows)
    from_workbook = tmp_path / "orders-from-xlsx.csv"
    counts_xlsx = retail_to_orders.main([str(workbook), str(from_workbook)])
    assert overlap > 0 and counts_xlsx.repeated == overlap
    assert from_workbook.read_text() == converted.read_text()

    # guanxi import orders FILE --returns credit --create-customers --create-products
    # (in several batches)
    monkeypatch.setattr(order_import, "BATCH", 700)
    call_command(
        "import",
        "orders",
        str(converted),
        "--workspace",
        workspace.slug,
        "--returns",
        "credit",
        "--create-customers",
        "--create-products",
        "--quiet",
    )
    run = OrderImport.objects.in_workspace(workspace).get()
    revenue = net_revenue(rows)
    customers = {c for c, _y in revenue}
    assert (run.failed, run.skipped, run.lines_created) == (0, 0, counts.written)
    assert run.customers_created == len(customers)
    assert run.orders_created == len({r["Invoice"] for r in rows if r["Customer ID"]})
    assert OrderLine.objects.in_workspace(workspace).count() == counts.written
    assert Order.objects.in_workspace(workspace).filter(total__lt=0).exists()

    # guanxi report pareto --year YEAR --recompute --format json
    capsys.readouterr()
    call_command(
        "report",
        "pareto",
        "--year",
        str(YEAR),
        "--workspace",
        workspace.slug,
        "--recompute",
        "--format",
        "json",
    )
    report = json.loads(capsys.readouterr().out)

    # Revenue per customer and year, every year.
    codes = dict(Account.objects.in_workspace(workspace).values_list("pk", "code"))
    stored = {
        (codes[r.account_id], r.year): r.revenue
        for r in CustomerYearRevenue.objects.in_workspace(workspace)
    }
    assert stored == {key: value for key, value in revenue.items()}

    # The Pareto figures: the API and the command line against the plain computation.
    expected = expected_pareto(revenue, YEAR)
    below_zero = [c for (c, y), v in revenue.items() if y == YEAR and v < 0]
    at_zero = [c for (c, y), v in revenue.items() if y == YEAR and v == 0]
    assert below_zero and at_zero  # customers left out of the curve
    body = ApiClient(make_token(admin_user, scopes=["read"])).get("/analytics/pareto", year=YEAR)
    assert body.status_code == 200, body.content
    for figures in (body.json(), report):
        assert figures["year"] == YEAR and figures["run_id"]
        assert figures["customers"] == expected["customers"]
        assert Decimal(figures["revenue"]) == expected["revenue"]
        got = [
            (Decimal(p["percent"]), p["customers"], Decimal(p["revenue"]), Decimal(p["share"]))
            for p in figures["points"]
        ]
        assert got == expected["points"]
        top = {Decimal(p["percent"]): p for p in figures["top"]}
        for percent, k, amount, share in expected["points"]:
            if percent in top:
                assert (top[percent]["customers"], Decimal(top[percent]["revenue"])) == (k, amount)
                assert Decimal(top[percent]["share"]) == share
        assert set(top) == {Decimal(p) for p in ("1", "5", "10", "20", "50")}

    # The classes of every customer.
    classes = expected_classes(revenue, YEAR)
    got_classes = dict(Account.objects.in_workspace(workspace).values_list("code", "value_class"))
    assert got_classes == classes
    counts_by_class = {c: list(classes.values()).count(c) for c in "ABC"}
    k = math.ceil(expected["customers"] * 20 / 100)
    assert counts_by_class["A"] > k  # the tie at the cut-off is in
    assert counts_by_class["B"] >= 3 and counts_by_class["C"] > 0
    assert all(classes[c] != "A" for c in below_zero + at_zero)
    api_classes = ApiClient(make_token(admin_user, scopes=["read"])).get("/analytics/classes")
    assert api_classes.json()["counts"] == counts_by_class


def test_converter_reads_both_editions_and_says_what_it_left_out(tmp_path, capsys):
    """The older "Online Retail" headers (InvoiceNo, UnitPrice, CustomerID) and its US
    dates; lines without a customer, unreadable ones and repeated invoices left out."""
    source = tmp_path / "Online Retail.csv"
    source.write_text(
        "InvoiceNo,StockCode,Description,Quantity,InvoiceDate,UnitPrice,CustomerID,Country\n"
        "536365,85123A,WHITE HANGING HEART,6,12/1/2010 8:26,2.55,17850,United Kingdom\n"
        "536365,71053,WHITE METAL LANTERN,6,12/1/2010 8:27,3.39,17850,United Kingdom\n"
        "536366,22633,HAND WARMER,6,12/1/2010 8:28,1.85,,United Kingdom\n"
        "C536379,D,Discount,-1,12/1/2010 9:41,27.5,14527,United Kingdom\n"
        "536380,22961,JAM MAKING SET,x,12/1/2010 9:41,1.45,17809,United Kingdom\n"
        "536365,85123A,WHITE HANGING HEART,6,12/1/2010 8:26,2.55,17850,United Kingdom\n"
        "A563186,B,Adjust bad debt,1,8/12/2011 14:51,-11062.06,,United Kingdom\n",
        encoding="utf-8",
    )
    target = tmp_path / "out" / "orders.csv"
    counts = retail_to_orders.main([str(source), str(target)])
    assert (counts.read, counts.written) == (7, 3)
    assert (counts.no_customer, counts.unreadable, counts.repeated) == (2, 1, 1)
    assert target.read_text().splitlines() == [
        "number,customer,date,product,quantity,amount",
        "536365,17850,2010-12-01,85123A,6,15.30",
        "536365,17850,2010-12-01,71053,6,20.34",
        "C536379,14527,2010-12-01,D,-1,-27.50",
    ]
    err = capsys.readouterr().err
    assert "2 without a customer, 1 of repeated invoices, 1 unreadable" in err
    keep = retail_to_orders.main([str(source), str(target), "--keep-repeats"])
    assert (keep.written, keep.repeated) == (4, 0)
    # The import reads the converter's header as is.
    header = target.read_text().splitlines()[0].split(",")
    assert set(order_import.column_map(header)) == {
        "number",
        "customer",
        "date",
        "product",
        "quantity",
        "amount",
    }
    assert retail_to_orders.line_amount(Decimal("3"), Decimal("0.125")) == Decimal("0.38")
    assert retail_to_orders.line_amount(Decimal("0"), Decimal("-1.5")) == Decimal("0.00")
    assert str(retail_to_orders.line_amount(Decimal("0"), Decimal("-1.5"))) == "0.00"
    assert retail_to_orders.customer_code(13085.0) == "13085"
    assert retail_to_orders.customer_code("13085.0") == "13085"
    assert retail_to_orders.customer_code("C-77") == "C-77"
