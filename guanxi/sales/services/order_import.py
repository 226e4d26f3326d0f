"""Importing orders from a CSV file: customer code, date, product code, quantity, amount, and
optionally order number, unit price and currency (headers in English or Chinese).

Lines with the same order number form one order; lines without one form one order per
customer, day and currency. Customers are found by account code, then contact code; an
unknown code is reported, or (option ``create_customers``, which needs the right to create
accounts) becomes a new account with that code as its code and name, owned by the importer.
Unknown product codes are created (option ``create_products``) or reported. A bad line
(unknown customer, bad date, a currency without a rate…) is reported in the error file and
its whole order is left out; the rest is imported.

Return lines — a negative quantity or amount, as a cancelled invoice or a credit note has —
follow the option ``returns``: ``refuse`` (the default) reports them as bad lines like any
other; ``skip`` leaves them out without taking their order down (counted in
``OrderImport.skipped``, not reported); ``credit`` imports them as given, so a customer's
revenue nets them and an order may total below zero (settled: paid = total, so nothing
shows as owed; owed: an order whose total is not above what was invoiced is not owed).

The file is read as a stream in batches of ``BATCH`` lines. A batch is written in ONE
transaction together with the import's checkpoint (``OrderImport.lines_done``) — its new
products and accounts too — so an import resumed after a crash starts after the last
committed batch and creates nothing twice: a line whose order an earlier batch of the same import made is added to that order
(found in the database, not in memory, so memory stays bounded). Order lines go in with
``COPY`` on PostgreSQL and one prepared ``INSERT`` run for every row (``executemany``) on
SQLite; orders with ``bulk_create`` (their ids come back).

Imported amounts are taken as sold: the amount is the line's total and no tax is added.
With ``settled`` (the default: an import of past sales) the orders are completed and
counted as invoiced and paid, so they do not show as owed; otherwise they are confirmed and
owed until invoiced.
"""

from __future__ import annotations

import codecs
import csv
import datetime as dt
import io
import time
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from pathlib import Path

from django.conf import settings
from django.db import IntegrityError, connection, transaction
from django.db.models import F, Max
from django.utils import timezone
from django.utils.translation import gettext, pgettext_lazy
from django.utils.translation import gettext_lazy as _

from guanxi.common.errors import ApplicationError, Conflict, NotFound
from guanxi.customers import search_keys
from guanxi.customers.models import Account, Contact
from guanxi.customers.services.pool import ensure_capacity
from guanxi.platform import audit, jobs, permissions
from guanxi.platform.models import Action, AuditAction, Job, JobState, User, Workspace

from ..models import Order, OrderLine, OrderStatus, Product
from ..models.orders import OrderImport
from ..objects import ORDER, PRODUCT
from .money import RateTable, base_currency, round_money
from .orders import reserve_numbers
from .setup import sales_settings

JOB_KIND = "sales.order_import"
ACCOUNT = "customers.account"
BATCH = 5000
# Customer codes remembered between batches.
CACHE_MAX = 300_000
SAMPLE_BYTES = 64 * 1024
MAX_QUANTITY = Decimal("99999999999")
MAX_AMOUNT = Decimal("9999999999999999")
CODE_MAX = Account._meta.get_field("code").max_length
csv.field_size_limit(1024 * 1024)

# Field → the headers that name it (compared lower-case, spaces and _ removed).
HEADERS = {
    "customer": ("customercode", "customer", "客户编码", "客户代码", "客户编号", "客户"),
    "date": ("date", "orderdate", "日期", "订单日期", "下单日期"),
    "product": ("product", "productcode", "产品编码", "产品代码", "产品", "商品编码", "商品"),
    "quantity": ("quantity", "qty", "数量"),
    "amount": ("amount", "lineamount", "金额", "总额"),
    "number": ("ordernumber", "order", "orderno", "number", "订单号", "订单编号", "单号"),
    "unit_price": ("unitprice", "price", "单价"),
    "currency": ("currency", "币种", "货币"),
}
REQUIRED = ("customer", "date", "product", "quantity", "amount")
# What becomes of a return line (a negative quantity or amount): option ``returns``.
REFUSE, SKIP, CREDIT = "refuse", "skip", "credit"
RETURNS = {
    REFUSE: pgettext_lazy("return lines", "Refuse"),
    SKIP: pgettext_lazy("return lines", "Skip"),
    CREDIT: pgettext_lazy("return lines", "Import as credit lines"),
}
RETURNS_HELP = {
    REFUSE: _("Each is reported as a bad line and its whole order is left out."),
    SKIP: _("They are left out (and counted); the rest of their order is imported."),
    CREDIT: _(
        "They are imported as given and reduce the customer's revenue; an order may total "
        "below zero."
    ),
}
REPORT_HEADER = ["line", "column", "value", "message"]

# A customer code that becomes a new account in this batch (no ids yet).
NEW_CUSTOMER: tuple[None, None, None] = (None, None, None)

# Tests set this to simulate a crash after a committed batch.
after_batch: Callable[[OrderImport], None] | None = None


def _key(header: str) -> str:
    return header.strip().lower().replace(" ", "").replace("_", "").replace("\ufeff", "")


def column_map(headers: list[str]) -> dict[str, int]:
    """The column index of each known field."""
    names = {alias: name for name, aliases in HEADERS.items() for alias in aliases}
    found: dict[str, int] = {}
    for index, header in enumerate(headers):
        name = names.get(_key(header))
        if name and name not in found:
            found[name] = index
    return found


def import_dir(workspace_id: int) -> Path:
    base = Path(getattr(settings, "IMPORT_DIR", settings.VAR_DIR / "imports"))
    path = base / str(workspace_id) / "orders"
    path.mkdir(parents=True, exist_ok=True)
    return path


def detect_encoding(sample: bytes, *, final: bool = False) -> str:
    """The text encoding of a file that starts with ``sample`` (``final``: the whole file)."""
    if sample.startswith(codecs.BOM_UTF8):
        return "utf-8-sig"
    try:
        codecs.getincrementaldecoder("utf-8")(errors="strict").decode(sample, final=final)
        return "utf-8"
    except UnicodeDecodeError:
        pass
    try:
        codecs.getincrementaldecoder("gb18030")(errors="strict").decode(sample, final=final)
    except UnicodeDecodeError:
        raise _file_error(_("The file is neither UTF-8 nor GBK/GB18030 text.")) from None
    return "gb18030"


def _file_error(message) -> ApplicationError:
    return ApplicationError(message, code="invalid_file", fields={"file": [message]})


def _open(path: Path) -> tuple[io.TextIOWrapper, list[str], dict[str, int]]:
    with open(path, "rb") as f:
        sample = f.read(SAMPLE_BYTES)
    if sample.startswith(b"PK\x03\x04"):
        raise _file_error(_("Save the sheet as CSV (UTF-8) and import that file."))
    encoding = detect_encoding(sample, final=len(sample) < SAMPLE_BYTES)
    text = open(path, encoding=encoding, newline="")  # noqa: SIM115 (closed by the caller)
    head = sample.decode(encoding, errors="ignore").splitlines()[:1]
    delimiter = "\t" if head and head[0].count("\t") > head[0].count(",") else ","
    if head and head[0].count(";") > max(head[0].count(","), head[0].count("\t")):
        delimiter = ";"
    rows = csv.reader(text, delimiter=delimiter)
    try:
        headers = next(rows, None)
    except UnicodeDecodeError:
        text.close()
        raise _file_error(_("The file is neither UTF-8 nor GBK/GB18030 text.")) from None
    if not headers:
        text.close()
        raise _file_error(_("The file is empty."))
    columns = column_map(headers)
    missing = [name for name in REQUIRED if name not in columns]
    if missing:
        text.close()
        labels = {
            "customer": _("customer code"),
            "date": _("date"),
            "product": _("product code"),
            "quantity": _("quantity"),
            "amount": _("amount"),
        }
        raise _file_error(
            _("The file has no column for: %(columns)s.")
            % {"columns": ", ".join(str(labels[m]) for m in missing)}
        )
    text.rows = rows  # type: ignore[attr-defined]
    return text, headers, columns


# --- starting --------------------------------------------------------------------------------


def _require(actor: User, create_products: bool, create_customers: bool = False) -> None:
    permissions.require(actor, ORDER, Action.CREATE)
    permissions.require(actor, ORDER, Action.BULK)
    if create_products:
        permissions.require(actor, PRODUCT, Action.CREATE)
    if create_customers:
        permissions.require(actor, ACCOUNT, Action.CREATE)


def check_returns(value) -> str:
    """The ``returns`` option, checked: ``refuse``, ``skip`` or ``credit``."""
    if isinstance(value, str) and value.strip().lower() in RETURNS:
        return value.strip().lower()
    message = _("Choose what becomes of return lines: %(choices)s.") % {
        "choices": ", ".join(RETURNS)
    }
    raise ApplicationError(message, code="invalid_option", fields={"returns": [message]})


def order_import_create(
    *,
    actor: User,
    workspace: Workspace,
    file_name: str,
    source,
    create_products: bool = False,
    settled: bool = True,
    returns: str = REFUSE,
    create_customers: bool = False,
) -> OrderImport:
    """Store the file (``source``: a path on this machine, bytes, or a file object), check
    its header and options, and make the import row. ``order_import_start`` runs it.

    ``returns``: what becomes of lines with a negative quantity or amount — ``refuse``
    (reported, their order left out), ``skip`` (left out, counted) or ``credit`` (imported
    as given). ``create_customers``: an unknown customer code becomes an account owned by
    the importer (needs the right to create accounts)."""
    returns = check_returns(returns)
    _require(actor, create_products, bool(create_customers))
    if actor.workspace_id != workspace.pk:
        raise NotFound()
    target = import_dir(workspace.pk) / f"{uuid.uuid4().hex}.csv"
    try:
        if isinstance(source, str | Path):
            path = Path(source)
            if not path.is_file():
                raise ApplicationError(_("There is no file %(path)s.") % {"path": str(path)})
            with open(path, "rb") as src, open(target, "wb") as dst:
                while chunk := src.read(1 << 20):
                    dst.write(chunk)
        elif isinstance(source, bytes):
            target.write_bytes(source)
        else:
            with open(target, "wb") as dst:
                for chunk in source.chunks() if hasattr(source, "chunks") else [source.read()]:
                    dst.write(chunk)
        text, _headers, _columns = _open(target)
        text.close()
        lines = _count_lines(target)
    except ApplicationError:
        target.unlink(missing_ok=True)
        raise
    return OrderImport.objects.create(
        workspace=workspace,
        file_name=str(file_name or target.name)[:255],
        file_path=str(target),
        options={
            "create_products": bool(create_products),
            "settled": bool(settled),
            "returns": returns,
            "create_customers": bool(create_customers),
        },
        lines_total=max(lines - 1, 0),
        created_by=actor,
    )


def _count_lines(path: Path) -> int:
    count = 0
    last = b"\n"
    with open(path, "rb") as f:
        while chunk := f.read(1 << 20):
            count += chunk.count(b"\n")
            last = chunk[-1:]
    return count + (0 if last == b"\n" else 1)


def order_import_start(
    *, actor: User, workspace: Workspace, import_id, background: bool = True
) -> OrderImport:
    """Run the import as a platform job (``background``), or here and now (the CLI)."""
    run = order_import_get(actor=actor, workspace=workspace, import_id=import_id)
    _require(
        actor,
        bool(run.options.get("create_products")),
        bool(run.options.get("create_customers")),
    )
    if run.finished_at is not None:
        raise Conflict(_("This import has finished."), code="import_finished")
    if background:
        job = jobs.job_start(
            actor=actor,
            workspace=workspace,
            kind=JOB_KIND,
            params={"import_id": run.pk},
            idempotency_key=f"sales.order_import:{run.pk}",
        )
        OrderImport.objects.in_workspace(workspace).filter(pk=run.pk, job__isnull=True).update(
            job=job
        )
        run.job = job
        return run
    return order_import_execute(run=run, progress=None)


def order_import_get(*, actor: User, workspace: Workspace, import_id) -> OrderImport:
    permissions.require(actor, ORDER, Action.READ)
    try:
        run = (
            OrderImport.objects.in_workspace(workspace)
            .select_related("job", "created_by")
            .get(pk=import_id)
        )
    except (OrderImport.DoesNotExist, ValueError, TypeError):
        raise NotFound() from None
    if run.created_by_id != actor.pk and not permissions.can(actor, ORDER, Action.BULK):
        raise NotFound()
    return run


def order_import_list(*, actor: User, workspace: Workspace, limit: int = 20) -> list[OrderImport]:
    if not permissions.can(actor, ORDER, Action.BULK):
        return []
    return list(
        OrderImport.objects.in_workspace(workspace).select_related("job").order_by("-id")[:limit]
    )


# --- running ---------------------------------------------------------------------------------


@dataclass
class _Line:
    line: int  # file line number (the header is line 1)
    customer: str
    day: dt.date
    product: str
    quantity: Decimal
    amount: Decimal
    unit_price: Decimal
    number: str
    currency: str
    # A reported line, kept only so that its order is left out whole.
    bad: bool = False


@dataclass
class _Group:
    key: tuple
    lines: list[_Line] = field(default_factory=list)
    bad: bool = False


class _NewOrder:
    """An order about to be inserted (a model instance costs more than the insert itself)."""

    __slots__ = (
        "account_id",
        "contact_id",
        "currency",
        "exchange_rate",
        "number",
        "order_date",
        "owner_id",
        "paid",
        "pk",
        "status",
        "total",
        "total_base",
    )  # fmt: skip

    def __init__(self, **values):
        self.pk = None
        for name, value in values.items():
            setattr(self, name, value)


class _Report:
    """The error file (CSV, UTF-8 with BOM so Excel opens it), appended batch by batch."""

    def __init__(self, path: Path):
        self.path = path
        self.pending: list[list] = []

    def add(self, line: int, column: str, value, message) -> None:
        self.pending.append([line, column, str(value)[:200], str(message)])

    def flush(self) -> None:
        if not self.pending:
            return
        new = not self.path.exists()
        with open(self.path, "a", encoding="utf-8-sig" if new else "utf-8", newline="") as f:
            writer = csv.writer(f)
            if new:
                writer.writerow(REPORT_HEADER)
            writer.writerows(self.pending)
        self.pending = []


def _decimal(text: str) -> Decimal | None:
    text = text.strip().replace(",", "")
    if not text:
        return None
    try:
        value = Decimal(text)
    except (InvalidOperation, ValueError):
        return None
    return value if value.is_finite() else None


_DATE_FORMATS = ("%Y-%m-%d", "%Y/%m/%d", "%Y.%m.%d", "%d/%m/%Y %H:%M", "%m/%d/%Y %H:%M")


def _date(text: str, memo: dict) -> dt.date | None:
    found = memo.get(text, memo)
    if found is not memo:
        return found
    value = None
    raw = text.strip()
    try:
        value = dt.date.fromisoformat(raw[:10])
    except ValueError:
        for fmt in _DATE_FORMATS:
            try:
                value = dt.datetime.strptime(raw, fmt).date()
                break
            except ValueError:
                continue
    if value is not None and not dt.date(1900, 1, 1) <= value <= dt.date(2999, 12, 31):
        value = None
    if len(memo) < 100_000:
        memo[text] = value
    return value


class _Runner:
    def __init__(self, run: OrderImport, progress):
        self.run = run
        self.workspace = run.workspace
        self.ws_id = run.workspace_id
        self.actor = run.created_by
        self.progress = progress or (lambda done, total=None, message="": None)
        self.create_products = bool(run.options.get("create_products"))
        self.create_customers = bool(run.options.get("create_customers"))
        self.returns = run.options.get("returns") or REFUSE
        self.settled = bool(run.options.get("settled", True))
        self.base = base_currency(self.workspace)
        self.rates = RateTable(self.workspace)
        self.prefix = sales_settings(self.workspace).order_number_prefix
        self.date_memo: dict = {}
        self.customer_cache: dict[str, tuple] = {}
        # After the first batch, a customer + day may already have an order of this import.
        self._appending = bool(run.lines_done)
        self.report = _Report(Path(run.error_path) if run.error_path else self._report_path())

    def _report_path(self) -> Path:
        path = Path(self.run.file_path).with_suffix(".errors.csv")
        self.run.error_path = str(path)
        OrderImport.objects.in_workspace(self.ws_id).filter(pk=self.run.pk).update(
            error_path=str(path)
        )
        return path

    # reading

    def _batches(self, rows: Iterator[list], columns: dict[str, int]) -> Iterator[list]:
        """Batches of (line number, cells), starting after the checkpoint."""
        skip = self.run.lines_done
        batch: list = []
        line = 1
        for cells in rows:
            line += 1
            if skip:
                skip -= 1
                continue
            batch.append((line, cells))
            if len(batch) >= BATCH:
                yield batch
                batch = []
        if batch:
            yield batch

    def _parse(self, batch, columns) -> tuple[list[_Line], int]:
        """Clean lines; bad ones are reported (their order is then left out too). Returns
        the lines and how many return lines were skipped (option ``returns = "skip"``)."""
        get = columns.get
        i_customer, i_date, i_product = columns["customer"], columns["date"], columns["product"]
        i_qty, i_amount = columns["quantity"], columns["amount"]
        i_number, i_price, i_currency = get("number"), get("unit_price"), get("currency")
        out: list[_Line] = []
        skipped = 0
        report = self.report
        refuse_returns = self.returns == REFUSE
        for line, cells in batch:
            if not any(c.strip() for c in cells):
                continue  # a blank line

            def cell(i, cells=cells):
                return cells[i].strip() if i is not None and i < len(cells) else ""

            errors = []
            customer = cell(i_customer)
            if not customer:
                errors.append(("customer", customer, gettext("The customer code is missing.")))
            day = _date(cell(i_date), self.date_memo)
            if day is None:
                errors.append(("date", cell(i_date), gettext("Enter a date (YYYY-MM-DD).")))
            product = cell(i_product)
            if not product or len(product) > 64:
                errors.append(("product", product, gettext("The product code is missing.")))
            quantity = _decimal(cell(i_qty))
            if quantity is None or abs(quantity) > MAX_QUANTITY:
                errors.append(("quantity", cell(i_qty), gettext("Enter a number.")))
                quantity = None
            elif quantity < 0 and refuse_returns:
                errors.append(
                    ("quantity", cell(i_qty), gettext("The quantity cannot be negative."))
                )
            amount = _decimal(cell(i_amount))
            if amount is None or abs(amount) > MAX_AMOUNT:
                errors.append(("amount", cell(i_amount), gettext("Enter a number.")))
                amount = None
            elif amount < 0 and refuse_returns:
                errors.append(("amount", cell(i_amount), gettext("The amount cannot be negative.")))
            # A return line: a negative quantity or amount (a cancellation, a credit note).
            returned = (quantity is not None and quantity < 0) or (
                amount is not None and amount < 0
            )
            price_text = cell(i_price)
            unit_price = None
            if price_text:
                unit_price = _decimal(price_text)
                # A credit line may carry a negative price; a sale may not.
                negative_allowed = returned and not refuse_returns
                if (
                    unit_price is None
                    or abs(unit_price) > MAX_AMOUNT
                    or (unit_price < 0 and not negative_allowed)
                ):
                    errors.append(("unit_price", price_text, gettext("Enter a price.")))
            currency = (cell(i_currency) or self.base).upper()
            if len(currency) != 3 or not currency.isalpha():
                errors.append(("currency", currency, gettext("Enter a three-letter code.")))
            elif day is not None and self.rates.rate(currency, day) is None:
                errors.append(
                    (
                        "currency",
                        currency,
                        gettext("There is no exchange rate for %(currency)s on %(day)s.")
                        % {"currency": currency, "day": day.isoformat()},
                    )
                )
            number = cell(i_number)
            if len(number) > 40:
                errors.append(("number", number, gettext("At most 40 characters.")))
            if errors:
                for column, value, message in errors:
                    report.add(line, column, value, message)
                # Still keep the line's order key, so its order is left out whole.
                if customer and day is not None:
                    out.append(
                        _Line(
                            line,
                            customer,
                            day,
                            "",
                            Decimal(0),
                            Decimal(0),
                            Decimal(0),
                            number,
                            currency,
                            bad=True,
                        )
                    )
                continue
            if returned and self.returns == SKIP:
                skipped += 1
                continue
            if unit_price is None:
                unit_price = (amount / quantity).quantize(Decimal("0.0001")) if quantity else amount
            amount = round_money(amount)
            quantity = quantity.quantize(Decimal("0.001"))
            out.append(
                _Line(line, customer, day, product, quantity, amount, unit_price, number, currency)
            )
        return out, skipped

    # resolving

    def _customers(self, codes: set[str]) -> dict[str, tuple[int | None, int | None, int | None]]:
        """code → (account id, contact id, owner id): accounts first, then contacts. Codes
        seen in earlier batches come from a cache (bounded: cleared when it grows large)."""
        cache = self.customer_cache
        if len(cache) > CACHE_MAX:
            cache.clear()
        wanted = codes - cache.keys()
        if wanted:
            cache.update(self._customers_from_db(wanted))
        return cache

    def _customers_from_db(self, codes: set[str]) -> dict[str, tuple]:
        found: dict[str, tuple] = {}
        for code, pk, owner in (
            Account.objects.in_workspace(self.ws_id)
            .filter(code__in=codes)
            .values_list("code", "id", "owner_id")
        ):
            found[code] = (pk, None, owner)
        rest = codes - found.keys()
        if rest:
            for code, pk, owner in (
                Contact.objects.in_workspace(self.ws_id)
                .filter(code__in=rest)
                .values_list("code", "id", "owner_id")
            ):
                found[code] = (None, pk, owner)
        return found

    def _create_accounts(self, codes: list[str]) -> tuple[dict[str, tuple], dict[str, tuple]]:
        """Accounts for unknown customer codes, in the batch's transaction (a batch that
        does not commit leaves none behind, so a resumed import makes each once): code and
        name = the code, owned by the importer, the search columns filled, within the
        owner's customer cap. A code another transaction made meanwhile is used, not made
        twice. Returns every code's (account, contact, owner) and the ones made here."""
        owner = self.actor
        owner_id = owner.pk if owner is not None else None
        resolved: dict[str, tuple] = {}
        made: dict[str, tuple] = {}
        missing = list(codes)
        while missing:
            ensure_capacity(workspace=self.workspace, owner=owner, adding=len(missing))
            now = timezone.now()
            accounts = []
            for code in missing:
                account = Account(
                    workspace_id=self.ws_id,
                    code=code,
                    name=code,
                    owner_id=owner_id,
                    owned_since=now if owner_id else None,
                    created_by_id=owner_id,
                    source="import",
                )
                search_keys.apply_account_keys(account)
                accounts.append(account)
            try:
                with transaction.atomic():
                    Account.objects.bulk_create(accounts, batch_size=1000)
            except IntegrityError:
                # Another import (or a person) gave one of the codes to a customer first.
                found = self._customers_from_db(set(missing))
                if not found:
                    raise
                resolved.update(found)
                missing = [code for code in missing if code not in found]
                continue
            for account in accounts:
                made[account.code] = resolved[account.code] = (account.pk, None, owner_id)
            missing = []
        return resolved, made

    def _products(self, codes: set[str]) -> tuple[dict[str, int], list[Product]]:
        found = dict(
            Product.objects.in_workspace(self.ws_id)
            .filter(code__in=codes)
            .values_list("code", "id")
        )
        new = []
        if self.create_products:
            new = [
                Product(workspace_id=self.ws_id, code=code, name=code, search_text=code.lower())
                for code in sorted(codes - found.keys())
            ]
        return found, new

    def _batch(self, batch, columns) -> None:
        lines, skipped = self._parse(batch, columns)
        report = self.report
        reported = {line for line, *_rest in report.pending}

        def refuse(group: _Group, column: str, message) -> None:
            for ln in group.lines:
                if ln.line not in reported:
                    report.add(ln.line, column, getattr(ln, column, ""), message)
                    reported.add(ln.line)
            group.bad = True

        codes = {ln.customer for ln in lines}
        cache = self._customers(codes)
        # This batch's customers: code → (account id, contact id, owner id); a code that
        # becomes a new account maps to NEW_CUSTOMER until the account is written.
        customers = {code: cache[code] for code in codes if code in cache}
        new_codes: set[str] = set()
        # Group into orders: by number, else by customer + day + currency.
        groups: dict[tuple, _Group] = {}
        for ln in lines:
            key = ("n", ln.number) if ln.number else ("c", ln.customer, ln.day, ln.currency)
            group = groups.get(key)
            if group is None:
                group = groups[key] = _Group(key)
            group.lines.append(ln)
            if ln.bad:  # a line reported by the parser
                group.bad = True
        for group in groups.values():
            first = group.lines[0]
            if first.customer not in customers and self.create_customers:
                if len(first.customer) > CODE_MAX:
                    refuse(
                        group,
                        "customer",
                        gettext("A customer code has at most %(n)s characters.") % {"n": CODE_MAX},
                    )
                    continue
                customers[first.customer] = NEW_CUSTOMER
                new_codes.add(first.customer)
            if first.customer not in customers:
                refuse(group, "customer", gettext("No account or contact has this code."))
            elif any(
                (ln.customer, ln.day, ln.currency) != (first.customer, first.day, first.currency)
                for ln in group.lines[1:]
            ):
                refuse(
                    group,
                    "number",
                    gettext(
                        "The lines of this order name different customers, dates or currencies."
                    ),
                )
        good = [g for g in groups.values() if not g.bad]
        products, new_products = self._products({ln.product for g in good for ln in g.lines})
        if not self.create_products:
            for group in good:
                for ln in group.lines:
                    if ln.product not in products:
                        report.add(
                            ln.line, "product", ln.product, gettext("No product has this code.")
                        )
                        reported.add(ln.line)
                        group.bad = True
            good = [g for g in good if not g.bad]
        existing_by_number, existing_by_key = self._existing(good, customers)
        job_id = self.run.job_id
        new_orders: list[tuple[_Group, Order]] = []
        appended: list[tuple[_Group, int]] = []
        for group in good:
            first = group.lines[0]
            account_id, contact_id, owner_id = customers[first.customer]
            if group.key[0] == "n":
                hit = existing_by_number.get(group.key[1])
                if hit is not None:
                    if hit[1] != job_id or hit[2:] != (
                        account_id,
                        contact_id,
                        first.day,
                        first.currency,
                    ):
                        refuse(group, "number", gettext("An order with this number exists."))
                        continue
                    appended.append((group, hit[0]))
                    continue
            else:
                hit = existing_by_key.get((account_id, contact_id, first.day, first.currency))
                if hit is not None:
                    appended.append((group, hit))
                    continue
            rate = self.rates.rate(first.currency, first.day)
            total = sum((ln.amount for ln in group.lines), Decimal(0))
            order = _NewOrder(
                number=group.key[1] if group.key[0] == "n" else "",
                status=OrderStatus.COMPLETED if self.settled else OrderStatus.CONFIRMED,
                order_date=first.day,
                account_id=account_id,
                contact_id=contact_id,
                owner_id=owner_id or (self.actor.pk if self.actor else None),
                currency=first.currency,
                total=total,
                total_base=round_money(total * rate),
                exchange_rate=rate,
                paid=total if self.settled else Decimal(0),
            )
            new_orders.append((group, order))
        for group in groups.values():
            if group.bad:
                refuse(group, "", gettext("Not imported: a line of its order is not valid."))
        self._number(new_orders)
        waiting: dict[str, list[_NewOrder]] = {}
        for group, order in new_orders:
            code = group.lines[0].customer
            if code in new_codes:
                waiting.setdefault(code, []).append(order)
        made: dict[str, tuple] = {}
        with transaction.atomic():
            if new_products:
                Product.objects.bulk_create(new_products, batch_size=1000)
                products.update({p.code: p.pk for p in new_products})
            if waiting:
                resolved, made = self._create_accounts(sorted(waiting))
                for code, orders in waiting.items():
                    account_id, contact_id, owner_id = resolved[code]
                    for order in orders:
                        order.account_id, order.contact_id = account_id, contact_id
                        order.owner_id = owner_id or order.owner_id
            _insert_orders(self.ws_id, self.run.job_id, [o for _g, o in new_orders])
            records = []
            for group, order in new_orders:
                for position, ln in enumerate(group.lines, start=1):
                    records.append(self._line_row(order, position, ln, products))
            if appended:
                self._append(appended, products, records)
            _insert_lines(self.ws_id, records)
            done = self.run.lines_done + len(batch)
            failed = len(reported)
            written = (
                OrderImport.objects.in_workspace(self.ws_id)
                .filter(pk=self.run.pk, lines_done=self.run.lines_done, finished_at__isnull=True)
                .update(
                    lines_done=done,
                    orders_created=F("orders_created") + len(new_orders),
                    lines_created=F("lines_created") + len(records),
                    products_created=F("products_created") + len(new_products),
                    customers_created=F("customers_created") + len(made),
                    failed=F("failed") + failed,
                    skipped=F("skipped") + skipped,
                    updated_at=timezone.now(),
                )
            )
            if written != 1:
                raise Conflict(_("This import is being run elsewhere."), code="import_running")
            # The report is written with the batch: a crash before the commit leaves the
            # lines to be reported again by the resumed run, not twice.
            report.flush()
        run = self.run
        run.lines_done = done
        run.orders_created += len(new_orders)
        run.lines_created += len(records)
        run.products_created += len(new_products)
        run.customers_created += len(made)
        run.failed += failed
        run.skipped += skipped
        # Known from now on (the batch is committed).
        self.customer_cache.update(made)

    def _existing(self, good: list[_Group], customers) -> tuple[dict, dict]:
        """Orders the database already holds for the batch's numbers (anyone's: a number
        is unique), and this import's orders for its customer + day keys."""
        numbers = {g.key[1] for g in good if g.key[0] == "n"}
        by_number = {}
        if numbers:
            for pk, number, run_id, account_id, contact_id, day, currency in (
                Order.objects.in_workspace(self.ws_id)
                .filter(number__in=numbers)
                .values_list(
                    "id",
                    "number",
                    "import_run_id",
                    "account_id",
                    "contact_id",
                    "order_date",
                    "currency",
                )
            ):
                by_number[number] = (pk, run_id, account_id, contact_id, day, currency)
        dated = [g for g in good if g.key[0] == "c"]
        by_key = {}
        if dated and self.run.job_id and (self.run.lines_done or self._appending):
            account_ids = {customers[g.key[1]][0] for g in dated} - {None}
            contact_ids = {customers[g.key[1]][1] for g in dated} - {None}
            qs = Order.objects.in_workspace(self.ws_id).filter(
                import_run_id=self.run.job_id, order_date__in={g.key[2] for g in dated}
            )
            for name, ids in (("account_id__in", account_ids), ("contact_id__in", contact_ids)):
                if ids:
                    for pk, account_id, contact_id, day, currency in qs.filter(
                        **{name: ids}
                    ).values_list("id", "account_id", "contact_id", "order_date", "currency"):
                        by_key[(account_id, contact_id, day, currency)] = pk
        self._appending = True
        return by_number, by_key

    def _number(self, new_orders) -> None:
        by_year: dict[int, list[_NewOrder]] = {}
        for _group, order in new_orders:
            if not order.number:
                by_year.setdefault(order.order_date.year, []).append(order)
        for year, orders in by_year.items():
            pending = orders
            while pending:
                numbers = reserve_numbers(
                    workspace=self.ws_id,
                    kind="o",
                    prefix=self.prefix,
                    year=year,
                    count=len(pending),
                )
                taken = set(
                    Order.objects.in_workspace(self.ws_id)
                    .filter(number__in=numbers)
                    .values_list("number", flat=True)
                )
                rest = []
                free = iter(n for n in numbers if n not in taken)
                for order in pending:
                    number = next(free, None)
                    if number is None:
                        rest.append(order)
                    else:
                        order.number = number
                pending = rest

    def _line_row(self, order, position: int, ln: _Line, products) -> tuple:
        return (
            order.pk,
            position,
            products[ln.product],
            ln.quantity,
            ln.unit_price,
            ln.amount,
            round_money(ln.amount * order.exchange_rate),
            order.order_date,
            order.account_id,
            order.contact_id,
        )

    def _append(self, appended, products, records) -> None:
        """Lines of orders an earlier batch of this import made: add them and their sums."""
        ids = [pk for _g, pk in appended]
        orders = Order.objects.in_workspace(self.ws_id).in_bulk(ids)
        last = dict(
            OrderLine.objects.in_workspace(self.ws_id)
            .filter(order_id__in=ids)
            .values("order_id")
            .annotate(m=Max("position"))
            .values_list("order_id", "m")
        )
        for group, pk in appended:
            order = orders[pk]
            position = last.get(pk) or 0
            added = Decimal(0)
            for ln in group.lines:
                position += 1
                records.append(self._line_row(order, position, ln, products))
                added += ln.amount
            last[pk] = position
            order.subtotal += added
            order.total += added
            order.total_base = round_money(order.total * order.exchange_rate)
            if self.settled:
                order.invoiced_total += added
                order.paid_total += added
        Order.objects.in_workspace(self.ws_id).bulk_update(
            list(orders.values()),
            ["subtotal", "total", "total_base", "invoiced_total", "paid_total"],
            batch_size=500,
        )

    def execute(self) -> OrderImport:
        run = self.run
        path = Path(run.file_path)
        if not path.is_file():
            raise ApplicationError(_("The import's file is gone; upload it again."))
        text, _headers, columns = _open(path)
        started = time.monotonic()
        try:
            self.progress(run.lines_done, run.lines_total, "")
            for batch in self._batches(text.rows, columns):
                self._batch(batch, columns)
                if after_batch is not None:
                    after_batch(run)
                rate = run.lines_done / max(time.monotonic() - started, 1e-6)
                self.progress(
                    run.lines_done,
                    max(run.lines_total or 0, run.lines_done),
                    progress_message(run) + f" ({rate:,.0f}/s)",
                )
        finally:
            text.close()
        with transaction.atomic():
            now = timezone.now()
            OrderImport.objects.in_workspace(self.ws_id).filter(pk=run.pk).update(
                finished_at=now, lines_total=run.lines_done
            )
            run.finished_at = now
            audit.log(
                actor=self.actor,
                workspace=self.ws_id,
                action=AuditAction.CREATE,
                object_key="sales.order_import",
                object_id=run.pk,
                object_repr=run.file_name,
                changes={
                    "orders": [None, run.orders_created],
                    "lines": [None, run.lines_created],
                    "products": [None, run.products_created],
                    "customers": [None, run.customers_created],
                    "failed": [None, run.failed],
                    "skipped": [None, run.skipped],
                    "returns": [None, self.returns],
                },
            )
            if run.customers_created:
                # One summary row in the accounts' own history (the import made them).
                audit.log(
                    actor=self.actor,
                    workspace=self.ws_id,
                    action=AuditAction.CREATE,
                    object_key=ACCOUNT,
                    object_id="",
                    object_repr=gettext("Order import of %(file)s") % {"file": run.file_name},
                    changes={
                        "order_import": [None, run.pk],
                        "created": [None, run.customers_created],
                    },
                )
        return run


def progress_message(run: OrderImport) -> str:
    """The counts so far, in words (the job's progress line)."""
    parts = [
        gettext("%(orders)s orders, %(lines)s lines, %(failed)s bad lines")
        % {
            "orders": f"{run.orders_created:,}",
            "lines": f"{run.lines_created:,}",
            "failed": f"{run.failed:,}",
        }
    ]
    if run.skipped:
        parts.append(gettext("%(n)s return lines skipped") % {"n": f"{run.skipped:,}"})
    if run.customers_created:
        parts.append(gettext("%(n)s customers created") % {"n": f"{run.customers_created:,}"})
    return ", ".join(parts)


_ORDER_COLUMNS = (
    "workspace_id", "import_run_id", "number", "status", "order_date", "account_id",
    "contact_id", "owner_id", "currency", "subtotal", "tax_total", "total", "total_base",
    "exchange_rate", "invoiced_total", "paid_total", "payment_terms_days", "notes",
    "created_at", "updated_at",
)  # fmt: skip


def _insert_orders(workspace_id: int, job_id: int | None, orders: list[_NewOrder]) -> None:
    """INSERT orders and set their ids: on PostgreSQL the ids are taken from the sequence
    first and the rows copied in; on SQLite (one writer at a time, inside this transaction)
    the AUTOINCREMENT ids of one executemany are consecutive up to ``last_insert_rowid()``."""
    if not orders:
        return
    table = connection.ops.quote_name(Order._meta.db_table)
    now = timezone.now()

    def values(o, stamp):
        return (
            workspace_id, job_id, o.number, o.status, o.order_date, o.account_id,
            o.contact_id, o.owner_id, o.currency, o.total, 0, o.total, o.total_base,
            o.exchange_rate, o.paid, o.paid, 30, "", stamp, stamp,
        )  # fmt: skip

    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute(
                "SELECT nextval(pg_get_serial_sequence(%s, 'id')) FROM generate_series(1, %s)",
                [Order._meta.db_table, len(orders)],
            )
            for order, (pk,) in zip(orders, cursor.fetchall(), strict=True):
                order.pk = pk
            quoted = ", ".join(connection.ops.quote_name(c) for c in ("id", *_ORDER_COLUMNS))
            with cursor.cursor.copy(f"COPY {table} ({quoted}) FROM STDIN") as copy:
                for order in orders:
                    copy.write_row((order.pk, *values(order, now)))
        else:
            stamp = connection.ops.adapt_datetimefield_value(now)
            quoted = ", ".join(connection.ops.quote_name(c) for c in _ORDER_COLUMNS)
            marks = ", ".join(["%s"] * len(_ORDER_COLUMNS))
            cursor.executemany(
                f"INSERT INTO {table} ({quoted}) VALUES ({marks})",
                [
                    tuple(
                        str(v)
                        if isinstance(v, Decimal)
                        else v.isoformat()
                        if isinstance(v, dt.date)
                        else v
                        for v in values(order, stamp)
                    )
                    for order in orders
                ],
            )
            cursor.execute("SELECT last_insert_rowid()")
            last = cursor.fetchone()[0]
            for offset, order in enumerate(orders):
                order.pk = last - len(orders) + 1 + offset


_LINE_COLUMNS = (
    "order_id",
    "position",
    "product_id",
    "quantity",
    "unit_price",
    "amount",
    "amount_base",
    "order_date",
    "account_id",
    "contact_id",
)


def _insert_lines(workspace_id: int, records: list[tuple]) -> None:
    """INSERT order lines with COPY (PostgreSQL) or one prepared statement (SQLite)."""
    if not records:
        return
    table = connection.ops.quote_name(OrderLine._meta.db_table)
    # The columns the import does not fill take their defaults here.
    columns = (
        *_LINE_COLUMNS,
        "workspace_id",
        "description",
        "tax_rate",
        "created_at",
        "updated_at",
    )
    quoted = ", ".join(connection.ops.quote_name(c) for c in columns)
    now = timezone.now()
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            with cursor.cursor.copy(f"COPY {table} ({quoted}) FROM STDIN") as copy:
                for row in records:
                    copy.write_row((*row, workspace_id, "", 0, now, now))
        else:
            stamp = connection.ops.adapt_datetimefield_value(now)
            marks = ", ".join(["%s"] * len(columns))
            cursor.executemany(
                f"INSERT INTO {table} ({quoted}) VALUES ({marks})",
                [
                    (
                        order_id,
                        position,
                        product_id,
                        str(quantity),
                        str(unit_price),
                        str(amount),
                        str(amount_base),
                        day.isoformat(),
                        account_id,
                        contact_id,
                        workspace_id,
                        "",
                        "0",
                        stamp,
                        stamp,
                    )
                    for (
                        order_id,
                        position,
                        product_id,
                        quantity,
                        unit_price,
                        amount,
                        amount_base,
                        day,
                        account_id,
                        contact_id,
                    ) in records
                ],
            )


def order_import_execute(*, run: OrderImport, progress=None) -> OrderImport:
    """Run (or resume, from its checkpoint) one import. Used by the job and the CLI."""
    if run.finished_at is not None:
        return run
    run = (
        OrderImport.objects.in_workspace(run.workspace_id)
        .select_related("workspace", "created_by__role")
        .get(pk=run.pk)
    )
    if run.job_id is None:
        # The CLI runs in the foreground, without the worker: a job row (marked running by
        # this process, never enqueued) still names the import's orders
        # (``Order.import_run``), so a resumed run finds them.
        job = Job.objects.create(
            workspace_id=run.workspace_id,
            owner=run.created_by,
            kind=JOB_KIND,
            state=JobState.SUCCEEDED,
            params={"import_id": run.pk, "foreground": True},
            idempotency_key=f"sales.order_import:{run.pk}",
            started_at=timezone.now(),
            finished_at=timezone.now(),
        )
        OrderImport.objects.in_workspace(run.workspace_id).filter(pk=run.pk).update(job=job)
        run.job = job
    return _Runner(run, progress).execute()
