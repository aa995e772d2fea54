"""A billing run: the rules over the database's facts, written as claim lines that a re-run never doubles.

Each line the rules allow is found by (enrollment, code, period start):

- new: stored as proposed;
- proposed, and the facts changed it: updated, since nobody has acted on it;
- approved or exported, and the facts would change it (or no longer support it): left as it is and
  flagged for review with what changed, so history never changes silently;
- void: a biller's decision, kept; flagged if the rules propose it again.

A proposed line the facts no longer support is voided, with the reason in its review note. The caller
commits (together with its audit event).
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any, cast

from sqlalchemy import Table, select
from sqlalchemy.orm import Session

from remotecare.domain.facts import Window
from remotecare.rules.results import ClaimLine as ProposedLine
from remotecare.rules.results import Evaluation
from remotecare.rules.settings import PracticeSettings
from remotecare.services.billing_facts import patient_slices
from remotecare.services.billing_pool import PoolStats, evaluations, fewer_collections
from remotecare.services.line_attribution import KEYS as ATTRIBUTION
from remotecare.services.line_attribution import attributions
from remotecare.store.base import utc_now
from remotecare.store.batches import copy_rows, driver_rows, next_ids, sqlite_insert
from remotecare.store.models import ClaimLine, ClaimStatus

Key = tuple[int, str, dt.date]  # (enrollment id, code, period start)
SLICE = 2000  # patients per slice of a run: about 40 MB of facts


@dataclass
class RunReport:
    window: Window
    proposed: list[int] = field(default_factory=list)  # ids of lines new in this run
    updated: list[int] = field(default_factory=list)
    unchanged: list[int] = field(default_factory=list)
    flagged: list[int] = field(default_factory=list)
    voided: list[int] = field(default_factory=list)
    evaluation: Evaluation | None = None  # kept when the run was one slice (a small practice)
    code_totals: dict[str, tuple[int, int]] = field(default_factory=dict)  # code -> (lines, units)
    pool: PoolStats = field(default_factory=PoolStats)  # the worker processes' peak memory, when any ran

    def counts(self) -> dict[str, int]:
        return {name: len(getattr(self, name)) for name in ("proposed", "updated", "unchanged", "flagged", "voided")}


CHECKIN_SERIAL_PREFIX = "checkin-app-"  # services.checkins names each patient's app device so


def default_window(through: dt.date) -> Window:
    """The month of `through` and the two before it: late data for a period just closed is still billed."""
    start = through.replace(day=1)
    for _ in range(2):
        start = (start - dt.timedelta(days=1)).replace(day=1)
    return Window(start, through)


def run_billing(
    session: Session,
    practice_id: int,
    window: Window,
    settings: PracticeSettings | None = None,
    *,
    slice_size: int = SLICE,
    workers: int = 1,
) -> RunReport:
    """Bill the practice a slice of patients at a time: memory holds a few slices' facts, not the
    practice's. With `workers` above one, slices are judged in that many processes side by side."""
    report = RunReport(window)
    slices = patient_slices(session, practice_id, window, slice_size)
    with fewer_collections():
        for patients, judged in evaluations(session, practice_id, window, slices, settings, workers, report.pool):
            lines = judged.lines if isinstance(judged, Evaluation) else judged
            _write_lines(session, practice_id, window, patients, lines, report)
            if len(slices) == 1 and isinstance(judged, Evaluation):
                report.evaluation = judged
    return report


def _write_lines(
    session: Session,
    practice_id: int,
    window: Window,
    patients: tuple[int, int],
    proposed_lines: Sequence[ProposedLine],
    report: RunReport,
) -> None:
    existing = {
        (line.enrollment_id, line.code, line.period_start): line
        for line in session.scalars(
            select(ClaimLine).where(
                ClaimLine.practice_id == practice_id,
                ClaimLine.patient_id.between(*patients),
                ClaimLine.period_end >= window.start,
                ClaimLine.period_end <= window.end,
            )
        )
    }
    seen: set[Key] = set()
    new: list[dict[str, Any]] = []
    named = attributions(session, practice_id, patients, proposed_lines)
    for index, proposed in enumerate(proposed_lines):
        lines, units = report.code_totals.get(proposed.code, (0, 0))
        report.code_totals[proposed.code] = (lines + 1, units + proposed.units)
        key: Key = (int(proposed.enrollment), proposed.code, proposed.period.start)
        seen.add(key)
        values = _values(proposed, named.get(index, {}))
        line = existing.get(key)
        if line is None:
            new.append(values)
            continue
        values["evidence"] = json.loads(values["evidence"])  # compared as it is stored
        changes = _changes(line, values)
        if not changes and line.status is ClaimStatus.PROPOSED and _named(line.evidence) != _named(values["evidence"]):
            line.evidence = values["evidence"]  # who did it and who supervised: kept current on proposed lines
        if line.status is ClaimStatus.VOID:
            _flag(report, line, "The rules propose this voided line again.")
        elif not changes:
            report.unchanged.append(line.id)
        elif line.status is ClaimStatus.PROPOSED:
            for name, value in values.items():
                setattr(line, name, value)
            report.updated.append(line.id)
        else:
            _flag(
                report, line, f"Data that arrived after it was {line.status.value} would change {', '.join(changes)}."
            )
    for key, line in existing.items():
        if key in seen or line.status is ClaimStatus.VOID:
            continue
        if line.status is ClaimStatus.PROPOSED:
            line.status, line.review_note = ClaimStatus.VOID, "The facts no longer support this line."
            report.voided.append(line.id)
        else:
            _flag(report, line, f"The facts no longer support this {line.status.value} line.")
    session.flush()
    report.proposed.extend(_insert(session, practice_id, new))


def _insert(session: Session, practice_id: int, rows: list[dict[str, Any]]) -> list[int]:
    """New lines in bulk, through the driver: COPY on PostgreSQL (ids drawn from the sequence first), one
    executemany on SQLite. The evidence goes as the JSON text `_values` wrote."""
    if not rows:
        return []
    now = utc_now()
    common = {
        "practice_id": practice_id,
        "status": ClaimStatus.PROPOSED,
        "needs_review": False,
        "version": 1,
        "created_at": now,
        "updated_at": now,
    }
    connection = session.connection()
    table = cast(Table, ClaimLine.__table__)  # a mapped class's table is typed as any FromClause
    # The values every line shares are converted once, not once per line.
    (fixed,) = driver_rows(connection, table, list(common), [list(common.values())])
    names = [*common, *rows[0]]
    if connection.dialect.name == "postgresql":
        ids = next_ids(connection, table.name, len(rows))
        own = driver_rows(
            connection,
            table,
            [*rows[0], "id"],
            ([*row.values(), i] for row, i in zip(rows, ids, strict=True)),
            ready=("evidence",),
        )
        copy_rows(connection, table.name, [*names, "id"], (fixed + row for row in own))
        return ids
    own = driver_rows(connection, table, list(rows[0]), (list(row.values()) for row in rows), ready=("evidence",))
    return sqlite_insert(connection, table, names, [fixed + row for row in own])


def _values(proposed: ProposedLine, named: dict[str, Any]) -> dict[str, Any]:
    """A line's columns, its evidence (with who did the work, `named`) as JSON text."""
    payment = proposed.national_payment_usd
    evidence = {
        **proposed.evidence,
        "program": str(proposed.program),
        "national_payment_usd": None if payment is None else str(payment),
        **_checkin_app_evidence(proposed.evidence.get("devices")),
        **named,
    }
    return {
        "patient_id": int(proposed.patient),
        "enrollment_id": int(proposed.enrollment),
        "code": proposed.code,
        "units": proposed.units,
        "service_date": proposed.service_date,
        "period_start": proposed.period.start,
        "period_end": proposed.period.end,
        "rules": proposed.rules[:32],
        "evidence": json.dumps(evidence, default=_json_value),
    }


def _checkin_app_evidence(devices: Any) -> dict[str, Any]:
    """A line whose days came from a patient's check-in app says so, and names the practice's setting that
    made the app count as the RTM device (services.checkins): only a qualified app's days are counted."""
    if not isinstance(devices, list | tuple) or not any(str(d).startswith(CHECKIN_SERIAL_PREFIX) for d in devices):
        return {}
    return {"checkin_app": {"rtm_device_qualifies": True, "setting": "practice.checkin_settings.rtm_device_qualifies"}}


def _changes(line: ClaimLine, values: dict[str, Any]) -> list[str]:
    """What the facts would change. Who performed and supervised the work is not a change of the facts
    (a name corrected, a line written before lines named them), so it never flags an approved line."""
    changed = []
    for name, value in values.items():
        old = getattr(line, name)
        if name == "evidence":
            old, value = _without_names(old), _without_names(value)
        if old != value:
            changed.append(name)
    return changed


def _named(evidence: dict[str, Any]) -> dict[str, Any]:
    return {key: evidence.get(key) for key in ATTRIBUTION}


def _without_names(evidence: dict[str, Any]) -> dict[str, Any]:
    return {key: value for key, value in evidence.items() if key not in ATTRIBUTION}


def _flag(report: RunReport, line: ClaimLine, note: str) -> None:
    if not line.needs_review or line.review_note != note:
        line.needs_review, line.review_note = True, note
    report.flagged.append(line.id)


def _json_value(value: Any) -> Any:
    """What JSON has no word for, as evidence stores it: sets sorted, dates in ISO form, the rest as text."""
    if isinstance(value, set | frozenset):
        return sorted(value)
    if isinstance(value, dt.date):
        return value.isoformat()
    return str(value)
