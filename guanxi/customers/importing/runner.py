"""The import runner: reads a file in batches, cleans each row through ``cleaning``, finds
duplicates, and writes each batch in ONE transaction with the run's checkpoint.

A batch either commits whole — its records and ``ImportRun.rows_done`` and counts — or not
at all, so a run resumed after a crash (the job re-run by the sweeper, or ``guanxi import
--run ID``) starts after the last committed batch and creates no double rows. Rows with
errors, and duplicates skipped, go to the run's report CSV (row, column, value, message).
A dry run does everything but the writes to the customer file, and gives the same report.

Big files run as a two-process pipeline: a forked worker reads, cleans and computes the
search keys of batch N+1 (no database work) while this process finds the duplicates of
batch N and writes it with the checkpoint. Batches pass through a queue of
``PIPELINE_DEPTH``, so memory stays bounded; the worker starts at the checkpoint, and it is
stopped and reaped whatever happens. Small files (fewer than ``PIPELINE_MIN_ROWS`` rows to
go), runs inside a transaction and systems without ``fork`` run in one process.
"""

from __future__ import annotations

import csv
import json
import multiprocessing
import queue as queue_module
import re
import traceback
import uuid
from collections.abc import Callable
from contextlib import contextmanager
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import Any

from django.conf import settings
from django.core.serializers.json import DjangoJSONEncoder
from django.db import connection, connections, transaction
from django.db.models import F
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from guanxi.common.errors import ApplicationError, Conflict
from guanxi.platform import audit, custom_fields, permissions
from guanxi.platform.models import Action, AuditAction, User

from .. import cleaning, normalize, search, search_keys
from ..models import (
    Account,
    CandidateStatus,
    Contact,
    DuplicateCandidate,
    DuplicatePolicy,
    ImportRun,
)
from ..services.codes import ACCOUNT_PREFIX, CONTACT_PREFIX, codes_reserve
from . import reader

BATCH = 5000
# The pipeline (a forked worker cleans while this process writes) from this many rows on,
# with at most this many cleaned batches waiting.
PIPELINE_MIN_ROWS = 5000
PIPELINE_DEPTH = 2
# The run's settings that have no column of their own live under this key of ``mapping``.
OPTIONS_KEY = "@options"
REPORT_HEADER = ["row", "column", "value", "message", "kind"]
# The report's kinds of line: the row was not imported; it was skipped as a duplicate; it
# was imported without a value (or with a made-up name).
ERROR, SKIPPED, WARNING = "error", "skipped", "warning"
FORMULA_START = ("=", "+", "-", "@", "\t", "\r")

# Keys that identify the same customer, in the order they are tried.
CONTACT_MATCH_KEYS = ("code", "mobile", "phone", "email", "id_number")
ACCOUNT_MATCH_KEYS = ("code", "name_core", "tax_number")
PARTIAL_INDEX_KEYS = frozenset({"id_number", "tax_number"})
# The duplicate review's reasons (``dedupe.matching.REASONS``) for a repeated key.
DUPLICATE_REASONS = {
    "mobile": "same_mobile",
    "phone": "same_mobile",
    "email": "same_email",
    "id_number": "same_id_number",
    "name_core": "same_company",
    "tax_number": "tax_number",
}

# Tests set this to simulate a crash after a committed batch.
after_batch: Callable[[ImportRun], None] | None = None


def import_dir(workspace_id: int) -> Path:
    base = Path(getattr(settings, "IMPORT_DIR", settings.VAR_DIR / "imports"))
    path = base / str(workspace_id)
    path.mkdir(parents=True, exist_ok=True)
    return path


def column_mapping(run: ImportRun) -> dict[str, str]:
    return {k: v for k, v in (run.mapping or {}).items() if k != OPTIONS_KEY and v}


def run_options(run: ImportRun) -> dict:
    return dict((run.mapping or {}).get(OPTIONS_KEY) or {})


def model_for(object_key: str):
    return Contact if object_key == cleaning.CONTACT_KEY else Account


def require_rights(actor: User, object_key: str, policy: str, fields: set[str]) -> None:
    permissions.require(actor, object_key, Action.CREATE)
    if policy == DuplicatePolicy.UPDATE:
        permissions.require(actor, object_key, Action.UPDATE)
    permissions.check_writable(actor, object_key, fields)


@dataclass
class _Row:
    number: int
    clean: dict
    keys: list[tuple[str, str]] = field(default_factory=list)
    # Records this row repeats on a strong key, under the policy "create": (where, ref, key)
    # with where "db" (ref: the record's id) or "file" (ref: the earlier row's index).
    links: list[tuple[str, int, str]] = field(default_factory=list)
    name_from_code: bool = False  # no name, nothing else to make one from but the code
    # The search columns of ``clean`` (computed with the cleaning; None: to compute).
    search: dict | None = None


@dataclass
class _Prepared:
    """A batch read and cleaned: what the worker hands to the writer."""

    size: int  # lines of the file, blank ones included (the checkpoint counts them)
    rows: list[_Row]
    lines: list[list]  # report lines of the cleaning
    failed: int
    warnings: int


@dataclass
class _Counts:
    created: int = 0
    updated: int = 0
    skipped: int = 0
    failed: int = 0
    warnings: int = 0


def _report_line(number: int, column: str, value: Any, message, kind: str) -> list:
    text = "" if value is None else str(value)
    # The report opens in a spreadsheet: a value that starts like a formula stays text.
    if text[:1] in FORMULA_START:
        text = "'" + text
    return [number, column, text[:500], str(message), kind]


class _Lines:
    """Report lines of one batch, kept until the batch is written."""

    def __init__(self):
        self.lines: list[list] = []

    def add(self, number: int, column: str, value: Any, message, kind: str = ERROR) -> None:
        self.lines.append(_report_line(number, column, value, message, kind))


class _Report:
    """The per-row report CSV. On resume it keeps only the rows of committed batches."""

    def __init__(self, path: Path, keep_through_row: int | None):
        self.path = path
        kept: list[list[str]] = []
        if keep_through_row and path.exists():
            with open(path, encoding="utf-8-sig", newline="") as f:
                rows = csv.reader(f)
                next(rows, None)
                kept = [r for r in rows if r and r[0].isdigit() and int(r[0]) <= keep_through_row]
        self.file = open(path, "w", encoding="utf-8-sig", newline="")  # noqa: SIM115
        self.writer = csv.writer(self.file)
        self.writer.writerow(REPORT_HEADER)
        self.writer.writerows(kept)

    def add(self, number: int, column: str, value: Any, message, kind: str = ERROR) -> None:
        self.writer.writerow(_report_line(number, column, value, message, kind))

    def extend(self, lines: list[list]) -> None:
        self.writer.writerows(lines)

    def flush(self) -> None:
        self.file.flush()

    def close(self) -> None:
        self.file.close()


# Errors that make a row no record: the row fails even without ``strict``.
FATAL_FIELDS = frozenset({"name", "code"})
_NAME_SOURCES = {
    "first_and_last_name": _("first and last name"),
    "email": _("e-mail"),
    "mobile": _("mobile"),
    "phone": _("phone"),
    "code": _("customer code"),
}


def _only_name_missing(errors: dict) -> bool:
    messages = errors.get("name")
    return bool(messages) and all(m is cleaning.MSG_NAME_REQUIRED for m in messages)


def _made_up_name(clean: dict) -> tuple[str, str]:
    """A name for a contact that has none: last+first, else the e-mail, else the mobile or
    phone, else the code ("" and "code" when the code is still to be generated); ("", "")
    when the row has no value at all."""
    first, last = clean.get("first_name", ""), clean.get("last_name", "")
    if first or last:
        return cleaning.join_name(last, first), "first_and_last_name"
    for key in ("email", "mobile", "phone", "code"):
        if clean.get(key):
            return clean[key], key
    if any(v not in ("", None, {}) for k, v in clean.items() if k != "custom"):
        return "", "code"
    return "", ""


class Importer:
    def __init__(self, run: ImportRun, progress=None):
        self.run = run
        self.progress = progress or (lambda *a, **k: None)
        self.actor: User = run.created_by
        self.workspace_id = run.workspace_id
        self.object_key = run.object_key
        self.model = model_for(self.object_key)
        self.is_contact = self.model is Contact
        self.keys_of = search_keys.contact_keys if self.is_contact else search_keys.account_keys
        self.match_keys = CONTACT_MATCH_KEYS if self.is_contact else ACCOUNT_MATCH_KEYS
        self.policy = run.on_duplicate
        self.dry_run = run.dry_run
        self.strict = run.strict
        self.definitions = custom_fields.definitions(self.workspace_id, self.object_key)
        options = run_options(run)
        owner = options.get("owner", "me")
        if owner == "pool":
            self.owner_id = None
        elif owner in ("me", None, ""):
            self.owner_id = self.actor.pk
        else:
            self.owner_id = int(owner)
        self.now = timezone.now()
        # Dry runs write nothing, so duplicates across batches are remembered here.
        self.dry_seen: dict[tuple[str, str], int] = {}
        # Rows this run added, and how many there were at the last ANALYZE (PostgreSQL).
        self.added = 0
        self.analyzed_at = 0

    # --- the run ----------------------------------------------------------------------

    def execute(self) -> ImportRun:
        run = self.run
        if run.finished_at is not None:
            return run
        if self.actor is None or not self.actor.is_active:
            raise ApplicationError(_("The person who started this import can no longer sign in."))
        mapping = column_mapping(run)
        table = reader.open_table(run.file_path, encoding=run.encoding)
        self.columns = self._columns(table.headers, mapping)
        require_rights(self.actor, self.object_key, self.policy, {f for _i, _h, f in self.columns})
        if run.rows_total is None:
            run.rows_total = table.count_rows()
            ImportRun.objects.in_workspace(self.workspace_id).filter(pk=run.pk).update(
                rows_total=run.rows_total
            )
        report_path = Path(run.error_path) if run.error_path else None
        if report_path is None:
            # A random part: ids repeat across databases that share the import folder.
            report_path = (
                import_dir(self.workspace_id) / f"run-{run.pk}-{uuid.uuid4().hex[:12]}-report.csv"
            )
            run.error_path = str(report_path)
            ImportRun.objects.in_workspace(self.workspace_id).filter(pk=run.pk).update(
                error_path=run.error_path
            )
        self.report = _Report(report_path, run.rows_done + 1 if run.rows_done else None)
        # A process killed inside ``search.index_deferred`` (a seed) left the index off.
        search.ensure_index()
        try:
            # The search index stays on: taking it off for the run and rebuilding it at the
            # end (``search.index_deferred``) was no faster — 1M contacts on SQLite, a quiet
            # machine: 146.4 s deferred, 146.9 s indexed batch by batch — and would hide the
            # run's rows from searches until it ends.
            self.progress(run.rows_done, run.rows_total, "")
            if self._pipeline_wanted():
                prepared = self._pipelined(table, run.rows_done)
            else:
                prepared = (self._prepare(batch) for batch in self._batches(table, run.rows_done))
            try:
                for batch in prepared:
                    self._batch(batch)
            finally:
                prepared.close()  # stops and reaps the worker when a batch fails here
        finally:
            self.report.close()
        self._finish()
        return run

    @staticmethod
    def _batches(table, skip: int):
        batch: list[tuple[int, list]] = []
        size = BATCH
        for number, cells in table.rows(skip=skip):
            batch.append((number, cells))
            if len(batch) >= size:
                yield batch
                batch = []
        if batch:
            yield batch

    # --- the pipeline -------------------------------------------------------------------

    def _pipeline_wanted(self) -> bool:
        run = self.run
        if (run.rows_total or 0) - run.rows_done < PIPELINE_MIN_ROWS:
            return False
        if "fork" not in multiprocessing.get_all_start_methods():
            return False
        if multiprocessing.current_process().daemon:
            return False  # a daemonic process may not have children
        # The connection is closed before forking, which a transaction around the run
        # (tests) forbids.
        return not any(c.in_atomic_block for c in connections.all(initialized_only=True))

    def _pipelined(self, table, skip: int):
        """Batches cleaned by a forked worker, in order; the worker is reaped on every
        way out (end, error here or there, a consumer that stops early)."""
        context = multiprocessing.get_context("fork")
        channel = context.Queue(maxsize=PIPELINE_DEPTH)
        # The child must not share the parent's database sockets.
        connections.close_all()
        worker = context.Process(
            target=self._work, args=(table, skip, channel), name="guanxi-import-clean"
        )
        worker.daemon = True
        worker.start()
        try:
            while True:
                kind, payload = self._receive(channel, worker)
                if kind == "end":
                    break
                if kind == "error":
                    message, code, detail = payload
                    if code is None:
                        raise RuntimeError(f"The import's cleaning worker failed: {detail}")
                    raise ApplicationError(message, code=code)
                yield payload
        finally:
            if worker.is_alive():
                worker.terminate()
            worker.join(5)
            if worker.is_alive():
                worker.kill()
                worker.join()
            channel.close()
            channel.cancel_join_thread()

    @staticmethod
    def _receive(channel, worker):
        while True:
            try:
                return channel.get(timeout=1)
            except queue_module.Empty:
                if worker.is_alive():
                    continue
            # Dead: what it sent before it died is in the pipe already.
            try:
                return channel.get(timeout=1)
            except queue_module.Empty:
                raise RuntimeError(
                    f"The import's cleaning worker stopped (exit code {worker.exitcode})."
                ) from None

    def _work(self, table, skip: int, channel) -> None:
        """The worker: no database, only the file, cleaning and search keys."""
        try:
            for batch in self._batches(table, skip):
                channel.put(("batch", self._prepare(batch)))
            channel.put(("end", None))
        except ApplicationError as exc:
            channel.put(("error", (str(exc.message), exc.code, "")))
        except BaseException as exc:  # reported to the parent, which raises
            detail = "".join(traceback.format_exception_only(type(exc), exc)).strip()
            channel.put(("error", ("", None, detail)))

    def _columns(self, headers: list[str], mapping: dict[str, str]) -> list[tuple]:
        valid = set(cleaning.fields_for(self.object_key)) | set(cleaning.INPUT_ALIASES)
        valid |= {f"custom.{d.key}" for d in self.definitions}
        columns = []
        used: set[str] = set()
        for index, header in enumerate(headers):
            target = mapping.get(header, "")
            target = cleaning.INPUT_ALIASES.get(target, target)
            if not target:
                continue
            if target not in valid:
                raise ApplicationError(
                    _("The column “%(column)s” is mapped to an unknown field “%(field)s”.")
                    % {"column": header, "field": target},
                    code="invalid_mapping",
                )
            if target in used and not cleaning.joinable(self.object_key, target):
                raise ApplicationError(
                    _("Two columns are mapped to the field “%(field)s”.") % {"field": target},
                    code="invalid_mapping",
                )
            used.add(target)
            columns.append((index, header, target))
        if not columns:
            raise ApplicationError(
                _("No column is mapped to a field; choose the fields of the columns."),
                code="invalid_mapping",
            )
        # A field several columns fill gets their values joined with spaces (house number,
        # address line 1, line 2 → street).
        targets = [t for _i, _h, t in columns]
        joined = {t for t in targets if targets.count(t) > 1}
        self.single = [(i, t) for i, _h, t in columns if t not in joined]
        self.joined = [
            (
                target,
                [
                    i
                    for _r, i in sorted(
                        (cleaning.join_rank(h), i) for i, h, t in columns if t == target
                    )
                ],
            )
            for target in sorted(joined)
        ]
        return columns

    # --- one batch ------------------------------------------------------------------------

    def _prepare(self, batch: list[tuple[int, list]]) -> _Prepared:
        """Read and clean one batch (the worker's part: no database)."""
        counts = _Counts()
        lines = _Lines()
        rows = self._clean_rows(batch, counts, lines)
        if not self.dry_run:
            keys_of = self.keys_of
            for row in rows:
                if not row.name_from_code:
                    row.search = keys_of(_Record(row.clean))
        return _Prepared(len(batch), rows, lines.lines, counts.failed, counts.warnings)

    def _batch(self, prepared: _Prepared) -> None:
        counts = _Counts(failed=prepared.failed, warnings=prepared.warnings)
        self.report.extend(prepared.lines)
        rows = prepared.rows
        creates, updates = self._resolve(rows, counts)
        run = self.run
        done = run.rows_done + prepared.size
        with transaction.atomic():
            if not self.dry_run:
                self._write(creates, updates)
            written = (
                ImportRun.objects.in_workspace(self.workspace_id)
                .filter(pk=run.pk, rows_done=run.rows_done, finished_at__isnull=True)
                .update(
                    rows_done=done,
                    created=F("created") + counts.created,
                    updated=F("updated") + counts.updated,
                    skipped=F("skipped") + counts.skipped,
                    failed=F("failed") + counts.failed,
                    warnings=F("warnings") + counts.warnings,
                )
            )
            if written != 1:
                raise Conflict(_("This import is being run elsewhere."), code="import_running")
            self.report.flush()
        run.rows_done = done
        run.created += counts.created
        run.updated += counts.updated
        run.skipped += counts.skipped
        run.failed += counts.failed
        run.warnings += counts.warnings
        self.progress(
            done,
            max(run.rows_total or 0, done),
            _(
                "%(created)s created, %(updated)s updated, %(skipped)s skipped, "
                "%(failed)s failed, %(warnings)s warnings"
            )
            % {
                "created": run.created,
                "updated": run.updated,
                "skipped": run.skipped,
                "failed": run.failed,
                "warnings": run.warnings,
            },
        )
        self._refresh_statistics(counts.created)
        if after_batch is not None:
            after_batch(run)

    def _refresh_statistics(self, created: int) -> None:
        """PostgreSQL plans the duplicate lookups from the table's statistics; a table that
        grows from nothing by a million rows faster than autovacuum analyses it gets
        sequential scans. ANALYZE each time the rows this run added double."""
        if connection.vendor != "postgresql" or self.dry_run or not created:
            return
        self.added += created
        if self.added >= 2 * self.analyzed_at:
            self.analyzed_at = self.added
            with connection.cursor() as cursor:
                cursor.execute(f"ANALYZE {connection.ops.quote_name(self.model._meta.db_table)}")

    def _clean_rows(self, batch, counts: _Counts, report) -> list[_Row]:
        clean_values = (
            cleaning.clean_contact_values if self.is_contact else cleaning.clean_account_values
        )
        field_columns: dict[str, str] = {}
        for _i, header, target in self.columns:
            field_columns.setdefault(target, header)
        single, joined = self.single, self.joined
        rows: list[_Row] = []
        for number, cells in batch:
            raw: dict[str, Any] = {}
            width = len(cells)
            for index, target in single:
                value = cells[index] if index < width else None
                if value is None or value == "":
                    continue
                if value.__class__ is str:
                    if value.isspace():
                        continue
                    if value[0] == "'" and value[1:2] in FORMULA_START:
                        value = value[1:]  # quoted by an export against formula injection
                raw[target] = value
            for target, indexes in joined:
                parts = []
                for index in indexes:
                    value = cleaning.as_text(cells[index] if index < width else None)
                    if value[:1] == "'" and value[1:2] in FORMULA_START:
                        value = value[1:]
                    if value:
                        parts.append(value)
                if parts:
                    raw[target] = " ".join(parts)
            if not raw:
                continue  # a blank line
            clean, errors = clean_values(
                raw, workspace=self.workspace_id, definitions=self.definitions
            )
            warnings: list[tuple[str, Any, Any]] = []
            if errors and not self.strict:
                clean, errors, warnings = self._leave_empty(raw, clean, errors, clean_values)
            name_from_code = False
            if self.is_contact and not self.strict and _only_name_missing(errors):
                name, made_from = _made_up_name(clean)
                if name or made_from == "code":
                    del errors["name"]
                    if name:
                        clean["name"] = name[:200]
                    else:
                        name_from_code = True
                    warnings.append(
                        (
                            "name",
                            name,
                            _("No name; the name was made from the %(field)s.")
                            % {"field": _NAME_SOURCES[made_from]},
                        )
                    )
            if errors:
                counts.failed += 1
                for name, messages in errors.items():
                    column = field_columns.get(name, "")
                    if not column and name == "street":
                        column = field_columns.get("address", "")
                    for message in messages:
                        report.add(number, column, raw.get(name, ""), message)
                continue
            for name, value, message in warnings:
                counts.warnings += 1
                report.add(number, field_columns.get(name, ""), value, message, WARNING)
            row = _Row(number, clean, name_from_code=name_from_code)
            for key in self.match_keys:
                if key == "name_core":
                    value = normalize.company_core(clean.get("name", ""))
                else:
                    value = clean.get(key) or ""
                if value:
                    row.keys.append((key, value))
            rows.append(row)
        return rows

    def _leave_empty(self, raw: dict, clean: dict, errors: dict, clean_values):
        """Without ``strict``, a bad value of an optional field is left out and the row
        imported: ``(clean, errors, warnings)`` of the row cleaned again without the bad
        values. Errors that make the row no record (a bad name or code) stay errors."""
        if any(
            name in FATAL_FIELDS for name in errors if not _only_name_missing({name: errors[name]})
        ):
            return clean, errors, []
        warnings = []
        kept = dict(raw)
        for name, messages in errors.items():
            if name == "name" and _only_name_missing({name: messages}):
                continue
            value = kept.pop(name, None)
            if value is None and name == "street":
                value = kept.pop("address", None)
            for message in messages:
                warnings.append(
                    (name, value, _("value left empty: %(message)s") % {"message": message})
                )
        if not warnings:
            return clean, errors, []
        clean, errors = clean_values(
            kept, workspace=self.workspace_id, definitions=self.definitions
        )
        return clean, errors, warnings

    def _existing(self, rows: list[_Row]) -> dict[tuple[str, str], int]:
        """``{(key, value): pk}`` of records already in the workspace, one query per key."""
        wanted: dict[str, set[str]] = {}
        for row in rows:
            for key, value in row.keys:
                wanted.setdefault(key, set()).add(value)
        found: dict[tuple[str, str], int] = {}
        # Plain SQL: the ORM spends longer building a 2,000-value IN than the database
        # answering it. Every key column has an index that leads with the workspace.
        table = connection.ops.quote_name(self.model._meta.db_table)
        with connection.cursor() as cursor:
            for key, values in wanted.items():
                column = connection.ops.quote_name(self.model._meta.get_field(key).column)
                values = list(values)
                marks = ", ".join(["%s"] * len(values))
                # ID and tax numbers have partial indexes (non-empty values only); SQLite
                # uses them only when the query repeats their condition word for word.
                partial = f" AND NOT ({column} = '')" if key in PARTIAL_INDEX_KEYS else ""
                cursor.execute(
                    f"SELECT {column}, id FROM {table} "
                    f"WHERE workspace_id = %s AND {column} IN ({marks}){partial}",
                    [self.workspace_id, *values],
                )
                for value, pk in cursor.fetchall():
                    found.setdefault((key, value), pk)
        return found

    def _resolve(self, rows: list[_Row], counts: _Counts):
        existing = self._existing(rows)
        policy = self.policy
        seen_in_file: dict[tuple[str, str], int] = {}  # → index in ``creates``
        creates: list[_Row] = []
        updates: dict[int, dict] = {}  # pk → merged clean values
        for row in rows:
            target = None
            links: list[tuple[str, int, str]] = []
            for key, value in row.keys:
                pair = (key, value)
                if pair in existing:
                    found = ("db", existing[pair], key, value)
                elif pair in seen_in_file:
                    found = ("file", seen_in_file[pair], key, value)
                elif pair in self.dry_seen:
                    found = ("dry", self.dry_seen[pair], key, value)
                else:
                    continue
                if policy != DuplicatePolicy.CREATE or key == "code":
                    target = found
                    break
                # "create": the row is created, and each record it repeats flagged.
                link = (found[0], found[1], key)
                if found[0] != "dry" and not any(lk[:2] == link[:2] for lk in links):
                    links.append(link)
            if target is None:
                for pair in row.keys:
                    seen_in_file.setdefault(pair, len(creates))
                    if self.dry_run:
                        self.dry_seen.setdefault(pair, row.number)
                row.links = links
                creates.append(row)
                counts.created += 1
                continue
            where, ref, key, value = target
            column = self._column_of(key)
            if policy == DuplicatePolicy.CREATE and where == "file":
                # The same code twice in one file: which of the rows is the record?
                counts.failed += 1
                self.report.add(
                    row.number,
                    column,
                    value,
                    _("This customer code repeats an earlier row; the row was not imported."),
                )
            elif policy in (DuplicatePolicy.SKIP, DuplicatePolicy.CREATE):
                counts.skipped += 1
                if where == "db":
                    message = _("Already in the customer file (same %(field)s); skipped.")
                else:
                    message = _("Repeats an earlier row of the file (same %(field)s); skipped.")
                self.report.add(row.number, column, value, message % {"field": key}, SKIPPED)
            else:
                counts.updated += 1
                if where == "db":
                    self._merge(updates.setdefault(ref, {}), row.clean)
                elif where == "file":
                    self._merge(creates[ref].clean, row.clean)
                    creates[ref].search = None  # its values changed
        return creates, updates

    def _column_of(self, key: str) -> str:
        if key == "name_core":
            key = "name"
        for _i, header, target in self.columns:
            if target == key:
                return header
        return key

    @staticmethod
    def _merge(into: dict, clean: dict) -> None:
        for name, value in clean.items():
            if name == "custom":
                into.setdefault("custom", {}).update(value or {})
            elif value not in ("", None):
                into[name] = value

    # --- writing ----------------------------------------------------------------------------

    def _write(self, creates: list[_Row], updates: dict[int, dict]) -> None:
        model = self.model
        apply_keys = (
            search_keys.apply_contact_keys if self.is_contact else search_keys.apply_account_keys
        )
        if creates:
            self._assign_codes(creates)
            for row in creates:
                if row.name_from_code:
                    row.clean["name"] = row.clean["code"]
            base = {
                "workspace_id": self.workspace_id,
                "owner_id": self.owner_id,
                "owned_since": self.now if self.owner_id else None,
                "created_by_id": self.actor.pk,
                "created_at": self.now,
                "updated_at": self.now,
            }
            records = []
            for row in creates:
                values = {**base, **row.clean}
                if row.search is not None:
                    values.update(row.search)
                if not values.get("source"):
                    values["source"] = "import"
                records.append(values)
            _insert(model, records, apply_keys)
            self._flag_duplicates(creates)
        if updates:
            given = set(self._mapped_custom_keys())
            objects = list(model.objects.in_workspace(self.workspace_id).filter(pk__in=updates))
            fields: set[str] = set()
            for obj in objects:
                values = updates[obj.pk]
                for name, value in values.items():
                    if name == "code":
                        continue  # a record keeps its code; the code only finds it
                    if name == "custom":
                        # Only custom values the file gives; defaults apply to new rows only.
                        merged = dict(obj.custom or {})
                        for key, item in value.items():
                            if key in given:
                                merged[key] = item
                        obj.custom = merged
                    else:
                        setattr(obj, name, value)
                    fields.add(name)
                apply_keys(obj)
            fields.discard("code")
            fields |= {"name_pinyin", "name_initials", "search_text", "search_grams", "updated_at"}
            if not self.is_contact:
                fields.add("name_core")
            now = timezone.now()
            for obj in objects:
                obj.updated_at = now
            model.objects.in_workspace(self.workspace_id).bulk_update(
                objects, sorted(fields), batch_size=500
            )

    def _flag_duplicates(self, creates: list[_Row]) -> None:
        """Under "create", each new record that repeats another on a strong key becomes an
        open duplicate candidate, for the review page right after the import."""
        linked = [row for row in creates if row.links]
        if not linked:
            return
        wanted = {row.clean["code"] for row in linked}
        for row in linked:
            for where, ref, _key in row.links:
                if where == "file":
                    wanted.add(creates[ref].clean["code"])
        ids: dict[str, int] = {}
        table = connection.ops.quote_name(self.model._meta.db_table)
        codes = list(wanted)
        with connection.cursor() as cursor:
            for start in range(0, len(codes), 500):
                part = codes[start : start + 500]
                marks = ", ".join(["%s"] * len(part))
                cursor.execute(
                    f"SELECT code, id FROM {table} WHERE workspace_id = %s AND code IN ({marks})",
                    [self.workspace_id, *part],
                )
                ids.update(cursor.fetchall())
        pairs: dict[tuple[int, int], list[str]] = {}
        for row in linked:
            this = ids[row.clean["code"]]
            for where, ref, key in row.links:
                other = ref if where == "db" else ids[creates[ref].clean["code"]]
                if other == this:
                    continue
                reasons = pairs.setdefault((min(this, other), max(this, other)), [])
                reason = DUPLICATE_REASONS.get(key, f"same_{key}")
                if reason not in reasons:
                    reasons.append(reason)
        DuplicateCandidate.objects.bulk_create(
            [
                DuplicateCandidate(
                    workspace_id=self.workspace_id,
                    object_key=self.object_key,
                    left_id=left,
                    right_id=right,
                    score=1.0,
                    reasons=reasons,
                    status=CandidateStatus.OPEN,
                )
                for (left, right), reasons in pairs.items()
            ],
            batch_size=1000,
            ignore_conflicts=True,
        )

    def _mapped_custom_keys(self):
        return [t[len("custom.") :] for _i, _h, t in self.columns if t.startswith("custom.")]

    def _assign_codes(self, creates: list[_Row]) -> None:
        """Rows without a code get generated ones; a generated code that the file or the
        workspace already uses (an earlier import of numbered codes) is skipped."""
        missing = [row for row in creates if not row.clean.get("code")]
        if not missing:
            return
        prefix = CONTACT_PREFIX if self.is_contact else ACCOUNT_PREFIX
        taken = {row.clean["code"] for row in creates if row.clean.get("code")}
        table = connection.ops.quote_name(self.model._meta.db_table)
        while missing:
            codes = codes_reserve(workspace=self.workspace_id, prefix=prefix, count=len(missing))
            # Reserved codes are consecutive and of one width: one range scan of the
            # (workspace, code) index finds any already taken.
            with connection.cursor() as cursor:
                cursor.execute(
                    f"SELECT code FROM {table} WHERE workspace_id = %s AND code >= %s "
                    "AND code <= %s",
                    [self.workspace_id, codes[0], codes[-1]],
                )
                used = {code for (code,) in cursor.fetchall()} | taken
            rest = []
            for row, code in zip(missing, codes, strict=True):
                if code in used:
                    rest.append(row)
                else:
                    row.clean["code"] = code
            missing = rest

    def _finish(self) -> None:
        run = self.run
        now = timezone.now()
        with transaction.atomic():
            ImportRun.objects.in_workspace(self.workspace_id).filter(pk=run.pk).update(
                finished_at=now
            )
            run.finished_at = now
            audit.log(
                actor=self.actor,
                workspace=self.workspace_id,
                action=AuditAction.CREATE if run.created else AuditAction.UPDATE,
                object_key=self.object_key,
                object_id="",
                object_repr=str(_("Import of %(file)s") % {"file": run.file_name}),
                changes={
                    "import_run": [None, run.pk],
                    "dry_run": [None, run.dry_run],
                    "on_duplicate": [None, run.on_duplicate],
                    "rows": [None, run.rows_done],
                    "created": [None, run.created],
                    "updated": [None, run.updated],
                    "skipped": [None, run.skipped],
                    "failed": [None, run.failed],
                    "warnings": [None, run.warnings],
                },
            )


class _Record:
    """Attribute access to a row's values, for ``search_keys`` (no model instance: building
    a million of them costs more than the rest of the import)."""

    __slots__ = ("_values",)

    def __init__(self, values: dict):
        self._values = values

    def __getattr__(self, name):
        return self._values.get(name, "")

    def __setattr__(self, name, value):
        if name == "_values":
            object.__setattr__(self, name, value)
        else:
            self._values[name] = value


@lru_cache(maxsize=4)
def _insert_plan(model, vendor: str):
    """Columns, per-column defaults and converters of a plain INSERT of ``model``."""
    fields = [f for f in model._meta.concrete_fields if not f.primary_key]
    plain = {"CharField", "TextField", "ForeignKey", "BigIntegerField", "IntegerField"}
    plan = []
    for f in fields:
        default = f.get_default() if f.has_default() else (None if f.null else "")
        kind = f.get_internal_type()
        if kind in plain or (kind == "PositiveIntegerField" and vendor == "postgresql"):
            convert = None
        elif kind == "JSONField":
            convert = "json"
        else:
            convert = f
        plan.append((f.attname, f.column, default, convert))
    return plan


def _insert(model, records: list[dict], apply_keys) -> None:
    """INSERT ``records`` with COPY (PostgreSQL) or one prepared statement run for every row
    (SQLite): the same rows ``bulk_create`` would write, at a fraction of its cost."""
    vendor = connection.vendor
    plan = _insert_plan(model, vendor)
    attnames = [attname for attname, _c, _d, _v in plan]
    defaults = {attname: default for attname, _c, default, _v in plan}
    special = [(i, plan[i][0], plan[i][3]) for i in range(len(plan)) if plan[i][3] is not None]
    rows = []
    # Dates, times and numbers repeat (the batch's timestamps above all): convert each once.
    memo: dict[tuple, Any] = {}
    for values in records:
        if "search_text" not in values:  # not computed with the cleaning
            apply_keys(_Record(values))
        merged = {**defaults, **values}
        row = [merged[attname] for attname in attnames]
        for i, attname, convert in special:
            value = row[i]
            if convert == "json":
                row[i] = json.dumps(value, cls=DjangoJSONEncoder) if value else "{}"
            elif value is not None:
                key = (attname, value)
                converted = memo.get(key, memo)
                if converted is memo:
                    converted = memo[key] = convert.get_db_prep_save(value, connection)
                row[i] = converted
        rows.append(row)
    table = connection.ops.quote_name(model._meta.db_table)
    columns = ", ".join(connection.ops.quote_name(c) for _a, c, _d, _v in plan)
    with connection.cursor() as cursor:
        if vendor == "postgresql":
            raw = cursor.cursor
            with raw.copy(f"COPY {table} ({columns}) FROM STDIN") as copy:
                for row in rows:
                    copy.write_row(row)
        else:
            marks = ", ".join(["%s"] * len(plan))
            sql = f"INSERT INTO {table} ({columns}) VALUES ({marks})"
            with _sqlite_search_index_in_bulk(cursor, model._meta.db_table):
                cursor.executemany(sql, rows)


_SEARCH_TRIGGER_BODY = re.compile(
    r"BEGIN\s*INSERT INTO (\w+)\(rowid, search_text\) VALUES \(new\.id, new\.search_text\);"
    r"\s*INSERT INTO (\w+)\(rowid, search_grams\) VALUES \(new\.id, new\.search_grams\);"
    r"\s*END\s*$"
)


@contextmanager
def _sqlite_search_index_in_bulk(cursor, table: str):
    """Feed SQLite's full-text tables once per batch instead of once per row.

    The search migration keeps ``<table>_fts``/``_grams`` current with an AFTER INSERT
    trigger; row by row that costs five times the insert itself. Inside the batch's
    transaction (SQLite DDL is transactional, and the write lock keeps everyone else out)
    the trigger is dropped, the rows inserted, the new rows indexed with one INSERT …
    SELECT per table, and the trigger recreated from its own SQL. A trigger that does not
    look exactly like that is left alone."""
    name = f"{table}_search_ai"
    cursor.execute("SELECT sql FROM sqlite_master WHERE type = 'trigger' AND name = %s", [name])
    found = cursor.fetchone()
    match = _SEARCH_TRIGGER_BODY.search(found[0]) if found else None
    if match is None:
        yield
        return
    fts, grams = match.groups()
    cursor.execute(f'SELECT COALESCE(MAX(id), 0) FROM "{table}"')
    last_id = cursor.fetchone()[0]
    cursor.execute(f'DROP TRIGGER "{name}"')
    yield
    cursor.execute(
        f'INSERT INTO "{fts}"(rowid, search_text) SELECT id, search_text FROM "{table}" '
        "WHERE id > %s",
        [last_id],
    )
    cursor.execute(
        f'INSERT INTO "{grams}"(rowid, search_grams) SELECT id, search_grams FROM "{table}" '
        "WHERE id > %s",
        [last_id],
    )
    cursor.execute(found[0])


def import_run_execute(*, run: ImportRun, progress=None) -> ImportRun:
    """Run (or resume) ``run`` to its end; see the module docstring."""
    return Importer(run, progress).execute()
