"""Reading an import file, row by row, without loading it into memory.

CSV: the encoding is detected on a sample (UTF-8 with or without BOM, else GB18030, which
is a superset of GBK and GB2312), the delimiter sniffed (comma, semicolon, tab). XLSX:
openpyxl in read-only mode, first sheet. Row numbers are those a spreadsheet shows: the
header is row 1, the first data row is row 2.
"""

from __future__ import annotations

import codecs
import csv
import io
import zipfile
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from django.utils.translation import gettext_lazy as _

from guanxi.common.errors import ApplicationError

SAMPLE_BYTES = 256 * 1024
DELIMITERS = ",;\t"
MAX_COLUMNS = 500
# Big enough for a long address or notes cell, small enough to stop a runaway quote.
csv.field_size_limit(1024 * 1024)

XLSX = "xlsx"


def _file_error(message, code: str = "invalid_file") -> ApplicationError:
    return ApplicationError(message, code=code, fields={"file": [message]})


def detect_encoding(sample: bytes) -> str:
    """``utf-8-sig`` (with BOM), ``utf-8``, or ``gb18030`` (GBK and GB2312 files too)."""
    if sample.startswith(codecs.BOM_UTF8):
        return "utf-8-sig"
    decoder = codecs.getincrementaldecoder("utf-8")(errors="strict")
    try:
        decoder.decode(sample, final=False)  # a character cut at the sample's end is fine
        return "utf-8"
    except UnicodeDecodeError:
        pass
    try:
        codecs.getincrementaldecoder("gb18030")(errors="strict").decode(sample, final=False)
    except UnicodeDecodeError:
        raise _file_error(
            _("The file is neither UTF-8 nor GBK/GB18030 text. Save it as CSV UTF-8 and retry."),
            code="unknown_encoding",
        ) from None
    return "gb18030"


def sniff_delimiter(text: str) -> str:
    lines = [line for line in text.splitlines()[:20] if line.strip()]
    if not lines:
        return ","
    try:
        return csv.Sniffer().sniff("\n".join(lines), delimiters=DELIMITERS).delimiter
    except csv.Error:
        header = lines[0]
        counts = {d: header.count(d) for d in DELIMITERS}
        best = max(counts, key=counts.get)
        return best if counts[best] else ","


def is_xlsx(path: Path) -> bool:
    with open(path, "rb") as f:
        if f.read(4) != b"PK\x03\x04":
            return False
    if not zipfile.is_zipfile(path):
        raise _file_error(_("The Excel file is damaged or not an .xlsx workbook."))
    return True


@dataclass
class Table:
    """An open view of one file: its headers and a way to iterate its rows."""

    path: Path
    kind: str  # "csv" or "xlsx"
    encoding: str = ""
    delimiter: str = ","
    headers: list[str] = field(default_factory=list)

    def rows(self, *, skip: int = 0) -> Iterator[tuple[int, list[Any]]]:
        """``(row number, cells)`` of each data row after the first ``skip`` ones."""
        if self.kind == XLSX:
            yield from self._xlsx_rows(skip)
        else:
            yield from self._csv_rows(skip)

    def _csv_rows(self, skip: int) -> Iterator[tuple[int, list[Any]]]:
        with open(self.path, encoding=self.encoding, newline="", errors="strict") as f:
            reader = csv.reader(f, delimiter=self.delimiter)
            number = 1
            try:
                next(reader, None)
                for cells in reader:
                    number += 1
                    if number - 1 <= skip:
                        continue
                    yield number, cells
            except UnicodeDecodeError:
                raise _file_error(
                    _("Row %(row)s is not valid %(encoding)s text; the file mixes encodings.")
                    % {"row": number + 1, "encoding": self.encoding},
                    code="bad_encoding",
                ) from None
            except csv.Error as exc:
                raise _file_error(
                    _("Row %(row)s cannot be read as CSV: %(error)s")
                    % {"row": number + 1, "error": str(exc)},
                    code="bad_csv",
                ) from None

    def _xlsx_rows(self, skip: int) -> Iterator[tuple[int, list[Any]]]:
        book = _open_xlsx(self.path)
        try:
            sheet = book.worksheets[0]
            rows = sheet.iter_rows(min_row=2 + skip, values_only=True)
            for number, cells in enumerate(rows, start=2 + skip):
                yield number, list(cells)
        finally:
            book.close()

    def count_rows(self) -> int | None:
        """Data rows (an estimate for CSV with line breaks inside cells)."""
        if self.kind == XLSX:
            book = _open_xlsx(self.path)
            try:
                rows = book.worksheets[0].max_row
            finally:
                book.close()
            return max(0, rows - 1) if rows else None
        lines = 0
        last = b"\n"
        with open(self.path, "rb") as f:
            while chunk := f.read(1024 * 1024):
                lines += chunk.count(b"\n")
                last = chunk[-1:]
        if last != b"\n":
            lines += 1
        return max(0, lines - 1)


def _open_xlsx(path: Path):
    from openpyxl import load_workbook

    try:
        return load_workbook(path, read_only=True, data_only=True)
    except Exception:  # openpyxl raises many kinds for a damaged workbook
        raise _file_error(_("The Excel file is damaged or not an .xlsx workbook.")) from None


def open_table(path: Path | str, *, encoding: str = "") -> Table:
    """Open ``path`` and read its header row; ``encoding`` forces the one found before."""
    path = Path(path)
    if not path.exists() or path.stat().st_size == 0:
        raise _file_error(_("The file is empty."), code="empty_file")
    if is_xlsx(path):
        table = Table(path=path, kind=XLSX, encoding=XLSX)
        book = _open_xlsx(path)
        try:
            if not book.worksheets:
                raise _file_error(_("The workbook has no sheet."), code="empty_file")
            first = next(book.worksheets[0].iter_rows(max_row=1, values_only=True), None)
        finally:
            book.close()
        table.headers = _clean_headers(first or ())
    else:
        with open(path, "rb") as f:
            sample = f.read(SAMPLE_BYTES)
        if b"\x00" in sample:
            raise _file_error(
                _("This is not a CSV or XLSX file (it contains binary data)."),
                code="not_a_table",
            )
        encoding = encoding if encoding and encoding != XLSX else detect_encoding(sample)
        text = sample.decode(encoding, errors="ignore")
        delimiter = sniff_delimiter(text)
        table = Table(path=path, kind="csv", encoding=encoding, delimiter=delimiter)
        first = next(csv.reader(io.StringIO(text), delimiter=delimiter), None)
        table.headers = _clean_headers(first or ())
    if not any(table.headers):
        raise _file_error(_("The first row must name the columns."), code="no_header")
    if len(table.headers) > MAX_COLUMNS:
        raise _file_error(
            _("The file has more than %(n)s columns.") % {"n": MAX_COLUMNS}, code="too_many_columns"
        )
    return table


def _clean_headers(cells) -> list[str]:
    headers = []
    for cell in cells:
        text = "" if cell is None else str(cell).replace("\ufeff", "").strip()
        headers.append(text)
    while headers and not headers[-1]:
        headers.pop()
    # Blank or repeated headers get a position so every column has a distinct name.
    seen: set[str] = set()
    for i, text in enumerate(headers):
        if not text or text in seen:
            headers[i] = f"{text} ({i + 1})" if text else f"#{i + 1}"
        seen.add(headers[i])
    return headers
