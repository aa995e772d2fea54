"""Import a CSV file of readings: batch by batch, each batch committed with its own audit event.

A crash loses at most the batch in flight, and running the import again is
safe: the ingestion service answers readings already on file as duplicates.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from itertools import islice
from pathlib import Path
from typing import Any

from sqlalchemy import inspect
from sqlalchemy.orm import Session

from remotecare.ingest.csv_rows import read_rows
from remotecare.ingest.reading import ItemResult, Outcome, Parsed
from remotecare.services import ingestion
from remotecare.services.audit_trail import command_event
from remotecare.store.models import AuditEvent, Device, DeviceAssignment, HeldReading, Observation, Patient, Practice

SOURCE = "csv"
NEEDED_TABLES = tuple(
    model.__tablename__ for model in (Practice, Patient, Device, DeviceAssignment, Observation, HeldReading, AuditEvent)
)


class ImportRefused(ValueError):
    """The import cannot start: the database is not migrated, or the practice is unknown."""


@dataclass(frozen=True, slots=True)
class RejectedRow:
    line: int
    field: str  # the CSV column at fault (or `row` for a row whose cells do not match the header)
    message: str


@dataclass
class ImportReport:
    stored: int = 0
    duplicate: int = 0
    refused: int = 0
    held: int = 0
    rejected: list[RejectedRow] = field(default_factory=list)

    @property
    def rows(self) -> int:
        return self.stored + self.duplicate + self.refused + self.held

    @property
    def complete(self) -> bool:
        """Every row is on file now (stored by this import or an earlier one)."""
        return self.rows == self.stored + self.duplicate

    def add(self, line: int, result: ItemResult) -> None:
        match result.outcome:
            case Outcome.STORED:
                self.stored += 1
            case Outcome.DUPLICATE:
                self.duplicate += 1
            case Outcome.HELD:
                self.held += 1
            case Outcome.REFUSED:
                self.refused += 1
                self.rejected.append(RejectedRow(line, column_of(result.field or "row"), result.message or ""))


def import_readings(
    session_factory: Callable[[], Session],
    practice_id: int,
    path: Path,
    *,
    now: dt.datetime,
    batch_size: int = 1000,
    on_progress: Callable[[int], None] | None = None,
) -> ImportReport:
    """Store the file's readings for the practice. Raises `ImportRefused`, or `CsvError` for a bad file.

    A `CsvError` met part way (a line that is not UTF-8) stops the import after
    the batches already committed; fixing the file and running it again is safe.
    """
    if batch_size < 1:
        raise ValueError("batch_size must be at least 1")
    with session_factory() as session:
        _check_ready(session, practice_id)
    report = ImportReport()
    for batch in _batches(read_rows(path), batch_size):
        results = _import_batch(session_factory, practice_id, batch, file_name=path.name, now=now)
        for (line, _), result in zip(batch, results, strict=True):
            report.add(line, result)
        if on_progress is not None:
            on_progress(report.rows)
    return report


def column_of(service_field: str) -> str:
    """The service names a value `values.kg`; in the file it is the column `kg`."""
    return service_field.removeprefix("values.")


def _check_ready(session: Session, practice_id: int) -> None:
    inspector = inspect(session.connection())
    missing = [table for table in NEEDED_TABLES if not inspector.has_table(table)]
    if missing:
        raise ImportRefused(f"the database is missing table(s) {', '.join(missing)}; run `remotecare db upgrade` first")
    if session.get(Practice, practice_id) is None:
        raise ImportRefused(f"--practice: no practice {practice_id}")


def _batches(rows: Iterator[tuple[int, Parsed]], size: int) -> Iterator[list[tuple[int, Parsed]]]:
    while batch := list(islice(rows, size)):
        yield batch


def _import_batch(
    session_factory: Callable[[], Session],
    practice_id: int,
    batch: Sequence[tuple[int, Parsed]],
    *,
    file_name: str,
    now: dt.datetime,
) -> list[ItemResult]:
    """One transaction: the batch's readings and the audit event naming them, committed together."""
    with session_factory() as session, session.begin():
        results = ingestion.ingest(session, practice_id, [parsed for _, parsed in batch], source=SOURCE, now=now)
        session.add(
            command_event(
                practice_id, "import readings", "ingest", "observation", _audit_detail(file_name, batch, results)
            )
        )
    return results


def _audit_detail(file_name: str, batch: Sequence[tuple[int, Parsed]], results: list[ItemResult]) -> dict[str, Any]:
    counts = {outcome.value: sum(r.outcome is outcome for r in results) for outcome in Outcome}
    return {
        "source": SOURCE,
        "file": file_name,
        "lines": [batch[0][0], batch[-1][0]],
        **counts,
        "stored_ids": [r.id for r in results if r.outcome is Outcome.STORED],
        "held_ids": [r.id for r in results if r.outcome is Outcome.HELD],
    }
