"""Readings from a CSV file, one row at a time: `(line number, IncomingReading or Refusal)`.

The header names the columns (any order, any case): `patient`, `type` and `at`
are required; `device`, `manual` and `external_id` are optional; every other
column is a value name from `measures.MEASURES` (systolic, kg, taken, ...),
and a row fills only the value columns its type has. A problem in the header
is a `CsvError` (nothing in the file can be read right); a problem in a row
refuses that row alone, naming its column. Values are typed here (numbers,
booleans, text) and checked against their plausible ranges by the ingestion
service, like every other source.

The file is read line by line and never held whole, so a file of millions of
rows costs the memory of one.
"""

from __future__ import annotations

import csv
import datetime as dt
import math
import re
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import Any

from remotecare.ingest.measures import BOOLEAN, MEASURES, READING_TYPES, Number, Text, ValueKind
from remotecare.ingest.reading import IncomingReading, Parsed, Refusal

REQUIRED_COLUMNS = ("patient", "type", "at")
OPTIONAL_COLUMNS = ("device", "manual", "external_id")
VALUE_COLUMNS = tuple(dict.fromkeys(name for measure in MEASURES.values() for name in measure.values))
COLUMNS = REQUIRED_COLUMNS + OPTIONAL_COLUMNS + VALUE_COLUMNS

WRONG_CELL_COUNT = "row"  # the field named when a row's cells do not line up with the header

TRUE_WORDS, FALSE_WORDS = frozenset({"true", "yes", "1"}), frozenset({"false", "no", "0"})
_INTEGER = re.compile(r"[+-]?[0-9]+")  # ASCII digits only: \d would take other scripts' digits
# Plain decimal notation only: float() would also take "1_000", "nan" and "infinity".
_DECIMAL = re.compile(r"[+-]?([0-9]+\.?[0-9]*|\.[0-9]+)([eE][+-]?[0-9]+)?")
_MAX_SERIAL, _MAX_EXTERNAL_ID = 64, 128  # the widths of the columns they are stored in


class CsvError(ValueError):
    """The file as a whole cannot be read: not found, not UTF-8, or a header that is wrong."""


def read_rows(path: Path) -> Iterator[tuple[int, Parsed]]:
    """Each data row with the line it starts on; blank lines are skipped. Raises `CsvError`."""
    try:
        with path.open("rb") as file:
            reader = csv.reader(_decoded_lines(file))
            header = _header(reader)
            while True:
                start = reader.line_num + 1  # a quoted cell may run over several lines; report the first
                try:
                    cells = next(reader)
                except StopIteration:
                    return
                except csv.Error as error:
                    raise CsvError(f"line {start}: {error}") from error
                if _blank(cells):
                    continue
                yield start, parse_row(header, cells)
    except OSError as error:
        raise CsvError(error.strerror or str(error)) from error


def _decoded_lines(file: Iterable[bytes]) -> Iterator[str]:
    """The file's lines as text, so a byte that is not UTF-8 is reported on its own line."""
    for number, raw in enumerate(file, start=1):
        try:
            line = raw.decode("utf-8")
        except UnicodeDecodeError as error:
            raise CsvError(f"line {number}: not UTF-8 text (save the file as UTF-8 CSV)") from error
        yield line.removeprefix("\ufeff") if number == 1 else line  # the BOM spreadsheets write


def _header(reader: Iterator[list[str]]) -> list[str]:
    for cells in reader:
        if not _blank(cells):
            break
    else:
        raise CsvError("the file is empty; a header row naming the columns is required")
    names = [cell.strip().lower() for cell in cells]
    for name in names:
        if name not in COLUMNS:
            raise CsvError(f"unknown column {name!r} (the columns are: {', '.join(COLUMNS)})")
        if names.count(name) > 1:
            raise CsvError(f"column {name!r} appears more than once")
    for name in REQUIRED_COLUMNS:
        if name not in names:
            raise CsvError(f"missing column {name!r} (required: {', '.join(REQUIRED_COLUMNS)})")
    return names


def _blank(cells: list[str]) -> bool:
    return all(not cell.strip() for cell in cells)


def parse_row(header: list[str], cells: list[str]) -> Parsed:
    """One row as a reading, or the first problem in it (in the order the columns are listed here)."""
    if len(cells) != len(header):
        return Refusal(WRONG_CELL_COUNT, f"has {len(cells)} cells; the header has {len(header)}")
    row = {name: cell.strip() for name, cell in zip(header, cells, strict=True)}
    try:
        return _reading(row)
    except _Refused as refusal:
        return Refusal(refusal.column, refusal.message)


class _Refused(Exception):
    def __init__(self, column: str, message: str) -> None:
        super().__init__(column, message)
        self.column, self.message = column, message


def _reading(row: dict[str, str]) -> IncomingReading:
    patient = _patient(row["patient"])
    reading_type = row["type"]
    measure = MEASURES.get(reading_type)
    if measure is None:
        raise _Refused("type", f"{reading_type!r} is not a reading type (one of {', '.join(READING_TYPES)})")
    at = _instant(row["at"])
    device = _optional_text(row, "device", _MAX_SERIAL)
    manual = _boolean("manual", row["manual"]) if row.get("manual") else False
    external_id = _optional_text(row, "external_id", _MAX_EXTERNAL_ID)
    values: dict[str, Any] = {}
    for name, text in row.items():
        if name not in VALUE_COLUMNS or not text:
            continue
        kind = measure.values.get(name)
        if kind is None:
            raise _Refused(name, f"is not a value of {reading_type} (its values: {', '.join(measure.values)})")
        values[name] = _value(name, kind, text)
    return IncomingReading(
        type=reading_type,
        values=values,
        at=at,
        patient_id=patient,
        device_serial=device,
        manual=manual,
        external_id=external_id,
    )


def _patient(text: str) -> int:
    if not text:
        raise _Refused("patient", "is required (the patient's record id)")
    if not _INTEGER.fullmatch(text) or int(text) < 1:
        raise _Refused("patient", f"must be the patient's record id (a whole number), not {text!r}")
    return int(text)


def _instant(text: str) -> dt.datetime:
    if not text:
        raise _Refused("at", "is required (ISO 8601 with a UTC offset, e.g. 2025-03-01T08:30:00-06:00)")
    try:
        at = dt.datetime.fromisoformat(text)
    except ValueError:
        raise _Refused("at", f"{text!r} is not an ISO 8601 date and time") from None
    if at.tzinfo is None:
        raise _Refused("at", f"{text!r} has no UTC offset, so its instant is unknown (add Z or e.g. -06:00)")
    return at


def _optional_text(row: dict[str, str], column: str, max_length: int) -> str | None:
    text = row.get(column) or None
    if text is not None and len(text) > max_length:
        raise _Refused(column, f"is longer than {max_length} characters")
    return text


def _value(column: str, kind: ValueKind, text: str) -> Any:
    if kind == BOOLEAN:
        return _boolean(column, text)
    if isinstance(kind, Text):
        return text
    assert isinstance(kind, Number)
    return _number(column, text)


def _boolean(column: str, text: str) -> bool:
    word = text.lower()
    if word in TRUE_WORDS:
        return True
    if word in FALSE_WORDS:
        return False
    raise _Refused(column, f"must be true or false (or yes/no, 1/0), not {text!r}")


def _number(column: str, text: str) -> int | float:
    """An int for integral text ("128"), else a float ("128.0", "71.5"): the value as written."""
    if _INTEGER.fullmatch(text):
        return int(text)
    if _DECIMAL.fullmatch(text):
        number = float(text)
        if math.isfinite(number):
            return number
    raise _Refused(column, f"is not a number: {text!r}")
