"""Turn the UCI "Online Retail II" data set (or the older "Online Retail") into guanxi's order
CSV, to check the customer-value figures (Pareto curve, ABC classes) on public data.

    .venv/bin/python bench/retail_to_orders.py online_retail_II.xlsx var/retail-orders.csv
    .venv/bin/python bench/retail_to_orders.py online_retail_II.csv var/retail-orders.csv
    guanxi import orders var/retail-orders.csv --returns credit --create-customers
    guanxi report pareto --year 2010 --recompute

Reads the columns Invoice (or InvoiceNo), StockCode, Quantity, InvoiceDate, Price (or
UnitPrice) and Customer ID (or CustomerID) of a CSV file or of every sheet of an XLSX
workbook (``--sheet NAME`` for one), and writes ``number,customer,date,product,quantity,
amount``:

- number = the invoice (cancellations keep their "C…" numbers), customer = the customer ID
  without the ".0" a spreadsheet adds, date = the invoice's day (of its first line),
  product = the stock code, amount = quantity × price rounded half up to the cent — so
  cancellations (negative quantities) and "Adjust bad debt" lines (quantity 1, negative
  price) come out as negative amounts, for ``--returns credit``;
- lines with no customer are left out (the import needs one), and so are lines whose
  quantity, price or date cannot be read;
- an invoice whose lines come back after other invoices' lines is a repeat and left out:
  the workbook's two sheets overlap (1–9 December 2010), and the one-file CSV copies keep
  both. ``--keep-repeats`` keeps them.

What was left out, and why, is printed at the end. No customer names or other columns are
written; amounts are in the data set's currency (pounds) and are imported as the
workspace's base currency (no currency column).
"""

from __future__ import annotations

import argparse
import csv
import datetime as dt
import sys
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation
from pathlib import Path

OUT_HEADER = ["number", "customer", "date", "product", "quantity", "amount"]
CENT = Decimal("0.01")

# Our field → the data set's headers (lower case, spaces and _ removed), both editions.
COLUMNS = {
    "invoice": ("invoice", "invoiceno"),
    "product": ("stockcode",),
    "quantity": ("quantity",),
    "date": ("invoicedate",),
    "price": ("price", "unitprice"),
    "customer": ("customerid",),
}
DATE_FORMATS = ("%m/%d/%Y %H:%M", "%m/%d/%Y %H:%M:%S", "%m/%d/%Y", "%d.%m.%Y %H:%M")


@dataclass
class Counts:
    read: int = 0
    written: int = 0
    no_customer: int = 0
    repeated: int = 0
    unreadable: int = 0

    def summary(self) -> str:
        return (
            f"read {self.read:,} lines, wrote {self.written:,}; left out "
            f"{self.no_customer:,} without a customer, {self.repeated:,} of repeated "
            f"invoices, {self.unreadable:,} unreadable"
        )


def _key(header) -> str:
    return str(header or "").strip().lower().replace(" ", "").replace("_", "").lstrip("\ufeff")


def _columns(header: Iterable) -> dict[str, int]:
    names = {alias: name for name, aliases in COLUMNS.items() for alias in aliases}
    found: dict[str, int] = {}
    for index, cell in enumerate(header):
        name = names.get(_key(cell))
        if name and name not in found:
            found[name] = index
    missing = [name for name in COLUMNS if name not in found]
    if missing:
        raise SystemExit(f"No column for: {', '.join(missing)} (found: {list(header)})")
    return found


def _records(rows: Iterator[tuple | list], part: int = 0) -> Iterator[dict]:
    """Dicts of the wanted cells of a header row and the rows after it; ``part`` numbers
    the sheet they come from."""
    header = next(rows, None)
    if header is None:
        return
    columns = _columns(header)
    for row in rows:
        if not any(cell not in (None, "") for cell in row):
            continue
        record = {name: (row[i] if i < len(row) else None) for name, i in columns.items()}
        record["part"] = part
        yield record


def read_csv(path: Path) -> Iterator[dict]:
    # Descriptions in some copies are Latin-1; only codes and numbers are read here.
    with open(path, encoding="utf-8-sig", errors="replace", newline="") as f:
        yield from _records(iter(csv.reader(f)))


def read_xlsx(path: Path, sheet: str | None = None) -> Iterator[dict]:
    from openpyxl import load_workbook

    book = load_workbook(path, read_only=True, data_only=True)
    try:
        names = [sheet] if sheet else book.sheetnames
        for part, name in enumerate(names):
            yield from _records(book[name].iter_rows(values_only=True), part)
    finally:
        book.close()


def read(path: Path, sheet: str | None = None) -> Iterator[dict]:
    if path.suffix.lower() in (".xlsx", ".xlsm"):
        return read_xlsx(path, sheet)
    return read_csv(path)


def _text(value) -> str:
    if value is None:
        return ""
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    text = str(value).strip()
    return "" if text.lower() == "nan" else text


def customer_code(value) -> str:
    """``13085.0`` (a spreadsheet's float) → ``13085``."""
    text = _text(value)
    head, dot, tail = text.partition(".")
    if dot and head.isdigit() and tail.strip("0") == "":
        return head
    return text


def _number(value) -> Decimal | None:
    if isinstance(value, float):
        value = repr(value)  # the shortest text that reads back as the same float
    try:
        number = Decimal(_text(value))
    except (InvalidOperation, ValueError):
        return None
    return number if number.is_finite() else None


def _day(value) -> dt.date | None:
    if isinstance(value, dt.datetime):
        return value.date()
    if isinstance(value, dt.date):
        return value
    text = _text(value)
    try:
        return dt.date.fromisoformat(text[:10])
    except ValueError:
        pass
    for fmt in DATE_FORMATS:
        try:
            return dt.datetime.strptime(text, fmt).date()
        except ValueError:
            continue
    return None


def line_amount(quantity: Decimal, price: Decimal) -> Decimal:
    """The line's amount: quantity × price, rounded half up to the cent (never "-0.00")."""
    amount = (quantity * price).quantize(CENT, rounding=ROUND_HALF_UP)
    return amount if amount else abs(amount)


def _plain(number: Decimal) -> str:
    """12 for 12 or 12.0, 1.5 for 1.50; never an exponent."""
    if number == number.to_integral_value():
        return str(number.quantize(Decimal(1)))
    return format(number.normalize(), "f")


def convert(records: Iterable[dict], out, *, keep_repeats: bool = False) -> Counts:
    """Write the order lines of ``records`` to the text file ``out``; returns the counts."""
    counts = Counts()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(OUT_HEADER)
    finished: set[str] = set()  # invoices whose run of lines has ended
    current, current_day = None, None  # (sheet, invoice) of the run of lines being read
    for record in records:
        counts.read += 1
        invoice = _text(record["invoice"])
        if (record.get("part", 0), invoice) != current:
            if current is not None:
                finished.add(current[1])
            if invoice in finished and not keep_repeats:
                counts.repeated += 1
                continue
            current, current_day = (record.get("part", 0), invoice), None
        customer = customer_code(record["customer"])
        if not customer:
            counts.no_customer += 1
            continue
        quantity, price = _number(record["quantity"]), _number(record["price"])
        day = _day(record["date"])
        product = _text(record["product"])
        if not invoice or quantity is None or price is None or day is None or not product:
            counts.unreadable += 1
            continue
        # One invoice, one day (a few invoices' lines straddle a minute, not a day, but
        # the import refuses an order whose lines name different days).
        current_day = current_day or day
        writer.writerow(
            [
                invoice,
                customer,
                current_day.isoformat(),
                product,
                _plain(quantity),
                line_amount(quantity, price),
            ]
        )
        counts.written += 1
    return counts


def main(argv: list[str] | None = None) -> Counts:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("source", type=Path, help="online_retail_II.xlsx or a CSV copy")
    parser.add_argument("target", type=Path, help="the order CSV to write")
    parser.add_argument("--sheet", help="only this sheet of a workbook (default: all)")
    parser.add_argument(
        "--keep-repeats",
        action="store_true",
        help="keep an invoice's lines that come back after other invoices",
    )
    args = parser.parse_args(argv)
    if not args.source.is_file():
        parser.error(f"there is no file {args.source}")
    args.target.parent.mkdir(parents=True, exist_ok=True)
    with open(args.target, "w", encoding="utf-8", newline="") as out:
        counts = convert(read(args.source, args.sheet), out, keep_repeats=args.keep_repeats)
    print(f"{args.target}: {counts.summary()}", file=sys.stderr)
    return counts


if __name__ == "__main__":
    main()
