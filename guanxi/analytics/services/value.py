"""Customer value: revenue per customer per year, the Pareto curve and the ABC classes.

``value_recompute`` does the whole computation, set-based in SQL on both databases:

1. revenue per customer and calendar year from ``sales.OrderLine.amount_base`` of orders
   not cancelled (the customer is the line's account, or its contact when it has no
   account) replaces the workspace's ``CustomerYearRevenue`` rows in one transaction: one
   ``INSERT … SELECT … GROUP BY`` into a temporary table, then only the rows that differ
   are deleted and inserted (no row passes through Python);
2. the Pareto curve of the reference year (default: the last full year) with one window
   query (``ROW_NUMBER`` and a running ``SUM``), see ``selectors.value.pareto_compute``;
3. the classes, in a temporary table filled by one ``INSERT … SELECT`` per kind of
   customer: A = account type in ``a_account_types`` or revenue in the reference year at or
   above the revenue of the customer ranked ``ceil(N × a_top_percent / 100)`` (ties at the
   cut-off are in); B = not A and revenue grew by at least ``b_growth_percent`` % in each
   of the last ``b_years`` years (each previous year above zero); C = the rest, customers
   with no sales included. Customers are every account and every contact with no account
   (and any contact whose order lines name no account);
4. only changed classes are written (``customers.services.records.set_value_classes``, in
   chunks), each with a ``ClassChange`` row;
5. the ``ValueRun`` keeps the counts and the curve.

It runs as the ``analytics.value_recompute`` job (``value_recompute_start``) and nightly
(``value_nightly_start_due``, an hourly Huey task) at ``ValueSettings.nightly_hour`` in the
workspace's time zone.
"""

from __future__ import annotations

import contextlib
import datetime as dt
from collections.abc import Callable
from decimal import Decimal, InvalidOperation

from django.db import IntegrityError, connection, transaction
from django.utils import timezone
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from guanxi.activities.localtime import zone_named
from guanxi.common.errors import Conflict, FieldErrors, NotFound
from guanxi.customers.models import Account, AccountType, Contact
from guanxi.customers.services.records import set_value_classes
from guanxi.platform import audit, jobs, permissions
from guanxi.platform.models import Action, Job, JobState, User, Workspace
from guanxi.sales.models import Order, OrderLine, OrderStatus

from ..models import ClassChange, CustomerYearRevenue, RunState, ValueRun, ValueSettings
from ..objects import CUSTOMER_VALUE
from ..selectors import value as selectors
from ..selectors.value import cents_sql

JOB_KIND = "analytics.value_recompute"
TEMP_TABLE = "analytics_value_new_class"
REVENUE_TEMP_TABLE = "analytics_value_revenue"
CHANGE_CHUNK = 5000
MAX_B_YEARS = 10
PG_WORK_MEM = "64MB"
DEFAULT_ACCOUNT_TYPES = ["agent"]

Progress = Callable[..., None]


# --- the rules ---------------------------------------------------------------------------------


def value_settings_get(*, workspace) -> ValueSettings:
    """The workspace's rules, created with the defaults on first use."""
    stored = ValueSettings.objects.in_workspace(workspace).first()
    if stored is not None:
        return stored
    try:
        with transaction.atomic():
            return ValueSettings.objects.create(
                workspace_id=getattr(workspace, "pk", workspace),
                a_account_types=list(DEFAULT_ACCOUNT_TYPES),
            )
    except IntegrityError:  # made by a concurrent first use
        return ValueSettings.objects.in_workspace(workspace).get()


def _decimal(value, *, field: str, low: Decimal, high: Decimal, errors: FieldErrors):
    try:
        number = Decimal(str(value).strip())
    except (InvalidOperation, ValueError):
        number = None
    if (
        number is None
        or isinstance(value, bool)
        or not number.is_finite()
        or not (low <= number <= high)
        or number != number.quantize(Decimal("0.01"))
    ):
        errors.add(
            field,
            _("Enter a number from %(low)s to %(high)s, with at most two decimals.")
            % {"low": low, "high": high},
        )
        return None
    return number


def _integer(value, *, field: str, low: int, high: int, errors: FieldErrors):
    try:
        number = int(str(value).strip())
    except (TypeError, ValueError):
        number = None
    if number is None or isinstance(value, bool) or not (low <= number <= high):
        errors.add(
            field, _("Enter a whole number from %(low)s to %(high)s.") % {"low": low, "high": high}
        )
        return None
    return number


def value_settings_update(
    *,
    actor: User,
    workspace: Workspace,
    a_top_percent=None,
    a_account_types=None,
    b_growth_percent=None,
    b_years=None,
    nightly_hour=None,
) -> ValueSettings:
    """Change the ABC rules (right ``analytics.customer_value`` update). Only the given
    values change; every bad one is reported at once and nothing is saved. The new rules
    apply from the next recompute."""
    permissions.require(actor, CUSTOMER_VALUE, Action.UPDATE)
    errors = FieldErrors()
    changes: dict = {}
    if a_top_percent is not None:
        changes["a_top_percent"] = _decimal(
            a_top_percent, field="a_top_percent", low=Decimal(0), high=Decimal(100), errors=errors
        )
    if a_account_types is not None:
        values = a_account_types if isinstance(a_account_types, list | tuple) else None
        if values is None or any(v not in AccountType.values for v in values):
            errors.add(
                "a_account_types",
                _("Choose customer types from: %(types)s.")
                % {"types": ", ".join(AccountType.values)},
            )
        else:
            changes["a_account_types"] = sorted(set(values))
    if b_growth_percent is not None:
        changes["b_growth_percent"] = _decimal(
            b_growth_percent,
            field="b_growth_percent",
            low=Decimal(0),
            high=Decimal(1000),
            errors=errors,
        )
    if b_years is not None:
        changes["b_years"] = _integer(
            b_years, field="b_years", low=1, high=MAX_B_YEARS, errors=errors
        )
    if nightly_hour is not None:
        changes["nightly_hour"] = _integer(
            nightly_hour, field="nightly_hour", low=0, high=23, errors=errors
        )
    errors.raise_if_any()
    value_settings_get(workspace=workspace)
    with transaction.atomic():
        rules = ValueSettings.objects.in_workspace(workspace).select_for_update().get()
        before = audit.snapshot(rules)
        for name, value in changes.items():
            setattr(rules, name, value)
        rules.save()
        audit.log_update(actor=actor, instance=rules, before=before)
    return rules


# --- starting ------------------------------------------------------------------------------------


def _running(workspace) -> Job | None:
    return (
        Job.objects.in_workspace(workspace)
        .filter(kind=JOB_KIND, state__in=[JobState.QUEUED, JobState.RUNNING])
        .order_by("-id")
        .first()
    )


def value_recompute_start(*, actor: User, workspace: Workspace, year=None) -> Job:
    """Start a recompute as a background job (right ``analytics.customer_value``
    update); refused with 409 ``value_recompute_running`` while one is queued or running."""
    if actor.workspace_id != workspace.pk:
        raise NotFound()
    permissions.require(actor, CUSTOMER_VALUE, Action.UPDATE)
    params: dict = {"trigger": "manual"}
    if year not in (None, ""):
        params["year"] = selectors.check_year(year)
    with transaction.atomic():
        value_settings_get(workspace=workspace)
        ValueSettings.objects.in_workspace(workspace).select_for_update().get()
        if _running(workspace) is not None:
            raise Conflict(
                _("Customer value is being recomputed already; wait for it to finish."),
                code="value_recompute_running",
            )
        return jobs.job_start(actor=actor, workspace=workspace, kind=JOB_KIND, params=params)


def value_nightly_start_due(*, now: dt.datetime | None = None) -> list[int]:
    """Start the nightly recompute of every workspace whose ``nightly_hour`` is the current
    hour in its time zone (once a day: the job's idempotency key names the local date).
    Returns the jobs started. Called hourly by the Huey task."""
    now = now or timezone.now()
    hours = dict(
        ValueSettings.objects.across_workspaces().values_list("workspace_id", "nightly_hour")
    )
    default_hour = ValueSettings._meta.get_field("nightly_hour").default
    started = []
    for workspace in Workspace.objects.all().only("pk", "time_zone"):
        local = now.astimezone(zone_named(workspace.time_zone))
        if local.hour != hours.get(workspace.pk, default_hour):
            continue
        job = jobs.job_start(
            actor=None,
            workspace=workspace,
            kind=JOB_KIND,
            params={"trigger": "nightly"},
            idempotency_key=f"value-nightly:{local.date().isoformat()}",
        )
        started.append(job.pk)
    return started


# --- the recompute ----------------------------------------------------------------------------


def _table(model) -> str:
    return connection.ops.quote_name(model._meta.db_table)


def _year_sql(column: str) -> str:
    if connection.vendor == "sqlite":
        return f"CAST(substr({column}, 1, 4) AS INTEGER)"
    return f"CAST(EXTRACT(YEAR FROM {column}) AS INTEGER)"


def _revenue_sum_sql(column: str) -> str:
    if connection.vendor == "sqlite":
        # Whole cents summed as integers (exact), back to the 2-decimal amount.
        return f"SUM({cents_sql(column)}) / 100.0"
    return f"SUM({column})"


def _replace_revenue(ws_id: int, now: dt.datetime) -> int:
    """Replace the workspace's revenue per customer and year, in SQL: the new figures are
    grouped into a temporary table, then only rows that differ are deleted and only the
    missing ones inserted — after the first run most years are unchanged, and rewriting
    millions of identical indexed rows every night would be most of the run's time.
    Returns the rows written."""
    revenue, lines, orders = (
        _table(CustomerYearRevenue),
        _table(OrderLine),
        _table(Order),
    )
    fresh = _temp_name(REVENUE_TEMP_TABLE)
    contact = "CASE WHEN l.account_id IS NULL THEN l.contact_id END"
    year = _year_sql("l.order_date")
    same_customer = {
        # account rows, then rows of contacts with no account
        "account": "n.account_id = c.account_id",
        "contact": "n.account_id IS NULL AND c.account_id IS NULL AND n.contact_id = c.contact_id",
    }
    with connection.cursor() as cursor:
        _pg_work_mem(cursor)
        cursor.execute(f"DROP TABLE IF EXISTS {fresh}")
        cursor.execute(
            f"CREATE TEMPORARY TABLE {REVENUE_TEMP_TABLE} (account_id BIGINT, contact_id BIGINT,"
            " year INTEGER NOT NULL, revenue NUMERIC(20, 2) NOT NULL, lines INTEGER NOT NULL)"
        )
        cursor.execute(
            f"INSERT INTO {fresh} (account_id, contact_id, year, revenue, lines)"
            f" SELECT l.account_id, {contact}, {year}, {_revenue_sum_sql('l.amount_base')},"
            f" COUNT(*) FROM {lines} l JOIN {orders} o ON o.id = l.order_id"
            " WHERE l.workspace_id = %s AND o.workspace_id = %s AND o.status <> %s"
            " AND (l.account_id IS NOT NULL OR l.contact_id IS NOT NULL)"
            f" GROUP BY l.account_id, {contact}, {year}",
            [ws_id, ws_id, OrderStatus.CANCELLED.value],
        )
        # The anti-joins below look rows up by customer and year (SQLite would otherwise
        # scan the whole table for every row).
        for column in ("account_id", "contact_id"):
            cursor.execute(
                f"CREATE INDEX {REVENUE_TEMP_TABLE}_{column} ON {REVENUE_TEMP_TABLE}"
                f" ({column}, year)"
            )
        if connection.vendor == "postgresql":
            cursor.execute(f"ANALYZE {fresh}")
        for kind, match in same_customer.items():
            stored = "c.account_id IS NOT NULL" if kind == "account" else "c.account_id IS NULL"
            cursor.execute(
                f"DELETE FROM {revenue} WHERE id IN (SELECT c.id FROM {revenue} c"
                f" WHERE c.workspace_id = %s AND {stored} AND NOT EXISTS (SELECT 1 FROM {fresh} n"
                f" WHERE {match} AND n.year = c.year AND n.revenue = c.revenue"
                " AND n.lines = c.lines))",
                [ws_id],
            )
        written = 0
        for kind, match in same_customer.items():
            new_rows = "n.account_id IS NOT NULL" if kind == "account" else "n.account_id IS NULL"
            cursor.execute(
                f"INSERT INTO {revenue}"
                " (workspace_id, account_id, contact_id, year, revenue, lines, created_at,"
                " updated_at)"
                f" SELECT %s, n.account_id, n.contact_id, n.year, n.revenue, n.lines, %s, %s"
                f" FROM {fresh} n WHERE {new_rows} AND NOT EXISTS (SELECT 1 FROM {revenue} c"
                f" WHERE c.workspace_id = %s AND {match} AND c.year = n.year)",
                [ws_id, now, now, ws_id],
            )
            written += max(cursor.rowcount, 0)
        cursor.execute(f"DROP TABLE IF EXISTS {fresh}")
        if connection.vendor == "postgresql":
            # Fresh statistics, or after the first run the planner takes the table for
            # empty and the classification's joins turn into nested scans.
            cursor.execute(f"ANALYZE {revenue}")
        return written


def _pg_work_mem(cursor) -> None:
    """On PostgreSQL, a fixed sort/hash budget for this transaction (the grouping of ten
    million lines would spill to disk in batches at the default 4 MB): memory stays
    bounded, by this figure, whatever the data size."""
    if connection.vendor == "postgresql":
        cursor.execute(f"SET LOCAL work_mem = '{PG_WORK_MEM}'")


def _temp_name(name: str = TEMP_TABLE) -> str:
    prefix = "temp" if connection.vendor == "sqlite" else "pg_temp"
    return f"{prefix}.{name}"


def _reason_sql(
    *, alias: str, link: str, ws_id: int, year: int, rules: ValueSettings, cutoff, types
) -> tuple[str, str, list, list]:
    """The joins and the ``CASE`` giving each customer's reason for its class."""
    revenue = _table(CustomerYearRevenue)
    joins, params = [], []
    for back in range(rules.b_years + 1):
        joins.append(
            f" LEFT JOIN {revenue} r{back} ON r{back}.workspace_id = %s"
            f" AND r{back}.{link} = {alias}.id AND r{back}.year = %s"
        )
        params += [ws_id, year - back]
    cases, case_params = [], []
    if types:
        cases.append(
            f"WHEN {alias}.account_type IN ({', '.join(['%s'] * len(types))}) THEN 'account_type'"
        )
        case_params += list(types)
    if cutoff is not None:
        cases.append(f"WHEN {cents_sql('r0.revenue')} >= %s THEN 'top_share'")
        case_params.append(_cents_param(cutoff))
    # Grown by g % a year: this year's cents × 10000 ≥ last year's × (10000 + g × 100),
    # integers on SQLite, numeric on PostgreSQL — exact on both.
    factor = int(10000 + rules.b_growth_percent * 100)
    growth = " AND ".join(
        f"r{i + 1}.revenue > 0 AND {cents_sql(f'r{i}.revenue')} * 10000"
        f" >= {cents_sql(f'r{i + 1}.revenue')} * %s"
        for i in range(rules.b_years)
    )
    cases.append(f"WHEN {growth} THEN 'growth'")
    case_params += [factor] * rules.b_years
    reason = "CASE " + " ".join(cases) + " ELSE 'rest' END"
    return "".join(joins), reason, params, case_params


def _cents_param(amount: Decimal):
    cents = (amount * 100).to_integral_value()
    return int(cents) if connection.vendor == "sqlite" else cents


def _classify(ws_id: int, year: int, rules: ValueSettings, cutoff) -> None:
    """Fill the temporary table with every customer's old class, new class and reason."""
    temp = _temp_name()
    accounts, contacts, revenue = _table(Account), _table(Contact), _table(CustomerYearRevenue)
    to_class = "CASE reason WHEN 'rest' THEN 'C' WHEN 'growth' THEN 'B' ELSE 'A' END"
    with connection.cursor() as cursor:
        _pg_work_mem(cursor)
        cursor.execute(f"DROP TABLE IF EXISTS {temp}")
        cursor.execute(
            f"CREATE TEMPORARY TABLE {TEMP_TABLE} (kind VARCHAR(7) NOT NULL, id BIGINT NOT NULL,"
            " old_class VARCHAR(1) NOT NULL, new_class VARCHAR(1) NOT NULL,"
            " reason VARCHAR(20) NOT NULL, PRIMARY KEY (kind, id))"
        )
        for kind, table, link, types, where, where_params in (
            ("account", accounts, "account_id", rules.a_account_types or [], "", []),
            (
                "contact",
                contacts,
                "contact_id",
                [],
                f" AND (c.account_id IS NULL OR EXISTS (SELECT 1 FROM {revenue} x"
                " WHERE x.workspace_id = %s AND x.contact_id = c.id))",
                [ws_id],
            ),
        ):
            joins, reason, join_params, case_params = _reason_sql(
                alias="c",
                link=link,
                ws_id=ws_id,
                year=year,
                rules=rules,
                cutoff=cutoff,
                types=types,
            )
            cursor.execute(
                f"INSERT INTO {temp} (kind, id, old_class, new_class, reason)"
                f" SELECT %s, id, old_class, {to_class}, reason FROM ("
                f" SELECT c.id AS id, c.value_class AS old_class, {reason} AS reason"
                f" FROM {table} c{joins} WHERE c.workspace_id = %s{where}) s",
                [kind, *case_params, *join_params, ws_id, *where_params],
            )


def _class_counts() -> dict[str, int]:
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT new_class, COUNT(*) FROM {_temp_name()} GROUP BY new_class")
        counts = {cls: int(n) for cls, n in cursor.fetchall()}
    return {cls: counts.get(cls, 0) for cls in ("A", "B", "C")}


def _record_changes(ws_id: int, run: ValueRun, now: dt.datetime) -> int:
    with connection.cursor() as cursor:
        cursor.execute(
            f"INSERT INTO {_table(ClassChange)} (workspace_id, account_id, contact_id, run_id,"
            " from_class, to_class, reason, changed_at, created_at, updated_at)"
            " SELECT %s, CASE WHEN kind = 'account' THEN id END,"
            " CASE WHEN kind = 'contact' THEN id END, %s, old_class, new_class, reason, %s, %s, %s"
            f" FROM {_temp_name()} WHERE old_class <> new_class",
            [ws_id, run.pk, now, now, now],
        )
        return cursor.rowcount


def _changes():
    """The changed classes, streamed from the temporary table by key, a chunk at a time."""
    temp = _temp_name()
    for kind in ("account", "contact"):
        last = 0
        while True:
            with connection.cursor() as cursor:
                cursor.execute(
                    f"SELECT id, new_class FROM {temp} WHERE kind = %s AND id > %s"
                    " AND old_class <> new_class ORDER BY id LIMIT %s",
                    [kind, last, CHANGE_CHUNK],
                )
                rows = cursor.fetchall()
            if not rows:
                break
            for record_id, new_class in rows:
                yield kind, record_id, new_class
            last = rows[-1][0]


def _drop_temp() -> None:
    with connection.cursor() as cursor:
        for name in (TEMP_TABLE, REVENUE_TEMP_TABLE):
            cursor.execute(f"DROP TABLE IF EXISTS {_temp_name(name)}")


def _no_progress(done: int, total: int | None = None, message: str = "") -> None:
    return None


def value_recompute(
    *,
    workspace: Workspace,
    actor: User | None = None,
    trigger: str = "manual",
    year=None,
    job: Job | None = None,
    progress: Progress | None = None,
) -> ValueRun:
    """Recompute revenue per customer and year, the Pareto curve and the ABC classes of
    one workspace (see the module's docstring). ``year`` is the reference year (default:
    the last full year). Rights are the caller's business (the job's starter was checked);
    returns the finished ``ValueRun``. On failure the run is marked failed and the error
    raised; the revenue table and the classes are never left half-written."""
    progress = progress or _no_progress
    ws_id = workspace.pk
    year = selectors.reference_year(workspace) if year in (None, "") else selectors.check_year(year)
    rules = value_settings_get(workspace=workspace)
    run = ValueRun.objects.create(
        workspace_id=ws_id,
        job=job,
        trigger=trigger[:10],
        started_at=timezone.now(),
        year=year,
    )
    try:
        progress(0, 4, gettext("Adding up revenue per customer and year"))
        with transaction.atomic():
            ValueSettings.objects.in_workspace(workspace).select_for_update().get()
            _replace_revenue(ws_id, timezone.now())
        progress(1, 4, gettext("Drawing the Pareto curve"))
        with transaction.atomic():
            rules = ValueSettings.objects.in_workspace(workspace).select_for_update().get()
            customers = (
                CustomerYearRevenue.objects.in_workspace(workspace)
                .filter(year=year, revenue__gt=0)
                .count()
            )
            top_k = selectors.top_count(customers, rules.a_top_percent)
            pareto = selectors.pareto_compute(
                workspace=workspace, year=year, extra_ranks=[top_k] if top_k else []
            )
            cutoff = pareto.cutoffs.get(top_k)
            progress(2, 4, gettext("Classifying customers"))
            _classify(ws_id, year, rules, cutoff)
            counts = _class_counts()
            now = timezone.now()
            changed = _record_changes(ws_id, run, now)
            progress(3, 4, gettext("Writing the changed classes"))
            set_value_classes(
                workspace=workspace,
                changes=_changes(),
                actor=actor,
                note=gettext("customer value run %(id)s") % {"id": run.pk},
            )
            _drop_temp()
            run.state = RunState.DONE
            run.finished_at = timezone.now()
            run.customers = pareto.customers
            run.revenue = pareto.revenue
            run.pareto = [p.as_list() for p in pareto.points]
            run.class_counts = counts
            run.changed = changed
            run.save()
        progress(4, 4, gettext("%(n)s customers changed class") % {"n": changed})
    except Exception as exc:
        _drop_temp_quietly()
        ValueRun.objects.in_workspace(workspace).filter(pk=run.pk).update(
            state=RunState.FAILED,
            finished_at=timezone.now(),
            error=str(getattr(exc, "message", "") or exc.__class__.__name__)[:500],
        )
        raise
    return run


def _drop_temp_quietly() -> None:
    # In a broken transaction the drop fails too; the table goes with the session then.
    with contextlib.suppress(Exception):
        _drop_temp()


def value_recompute_run(*, job: Job, progress: Progress) -> dict:
    """The job's body: one recompute of the job's workspace."""
    run = value_recompute(
        workspace=job.workspace,
        actor=job.owner,
        trigger=job.params.get("trigger", "manual"),
        year=job.params.get("year"),
        job=job,
        progress=progress,
    )
    from django.urls import reverse

    return {
        "url": reverse("analytics:value"),
        "label": gettext("Open customer value"),
        "run_id": run.pk,
        "year": run.year,
        "customers": run.customers,
        "changed": run.changed,
        "class_counts": run.class_counts,
    }
